// The udevd actor on the in-process kernel: uevent queueing and latencies, per-device order,
// the udev database (initialized / ID_RENAMING), coldplug, and each behaviour generation on the
// failover VM's hot-plug race (the VF is plugged while the failover master is up, so the kernel
// opens it before udev can rename it).

import { describe, expect, it } from "vitest";
import { createKernel, type Kernel } from "../../../src/kernel/index.ts";
import { FAILOVER_VM, Machine, type MachineSpec } from "../../../src/machine/index.ts";
import { Rng, VirtualClock } from "../../../src/sim/index.ts";
import { KernelWorkActor } from "../../../src/userspace/kernel-actor.ts";
import {
  LEGACY_RETRY_INTERVAL_US,
  LEGACY_RETRY_TRIES,
  loadUdevFiles,
  Udevd,
  type UdevdConfig,
  type UdevGeneration,
  type UdevProcessed,
} from "../../../src/userspace/udev/index.ts";
import { World } from "../../../src/userspace/world.ts";

interface Sim {
  readonly w: World;
  readonly k: Kernel;
  readonly m: Machine;
  readonly u: Udevd;
}

/** A world with the kernel work actor and udevd; udevd exists before boot unless `afterBoot`. */
function sim(
  kernel: string,
  cfg: UdevdConfig = {},
  o: { spec?: MachineSpec; afterBoot?: boolean; seed?: number; settleBoot?: boolean } = {},
): Sim {
  const clock = new VirtualClock();
  const rng = new Rng(o.seed ?? 1);
  const k = createKernel({ kernel, clock, rng, cpus: 1, defaultQdisc: "fq_codel" });
  const m = new Machine(k, o.spec ?? FAILOVER_VM, (t) => clock.advanceTo(t));
  if (o.afterBoot) m.boot();
  const w = new World({ kernel: k, machine: m, clock, rng });
  w.sched.add(new KernelWorkActor(w));
  const u = new Udevd(w, cfg);
  w.sched.add(u);
  if (!o.afterBoot) m.boot({ settle: o.settleBoot ?? true });
  w.dispatch();
  return { w, k, m, u };
}

function settle(w: World, maxSteps = 100_000): void {
  for (let i = 0; i < maxSteps; i++) {
    const r = w.sched.runOne();
    w.dispatch();
    if (r === null) return;
  }
  throw new Error("no quiescence");
}

function names(k: Kernel): string[] {
  return [...k.state.devices.values()].sort((a, b) => a.ifindex - b.ifindex).map((d) => d.name);
}

/** Boot, settle, bring the master up, unplug and re-plug the VF; udev's log lines of the re-plug. */
function hotplugRace(kernel: string, cfg: UdevdConfig, seed = 1) {
  const s = sim(kernel, cfg, { seed });
  settle(s.w);
  const bootNames = names(s.k);
  s.w.ip(["link", "set", "enp0s3", "up"]);
  s.w.dispatch();
  settle(s.w);
  s.m.unplug("primary0");
  s.w.dispatch();
  settle(s.w);
  const before = s.u.logs.length;
  const timelineBefore = s.w.timeline.length;
  s.m.plug("primary0");
  s.w.dispatch();
  settle(s.w);
  const vf = [...s.k.state.devices.values()].find((d) => d.parent?.id === "0000:02:00.0");
  if (!vf) throw new Error("no VF");
  return {
    ...s,
    bootNames,
    vf,
    logs: s.u.logs.slice(before).map((l) => l.text),
    udevTimeline: s.w.timeline.slice(timelineBefore).filter((e) => e.actor === "udevd"),
  };
}

const BOOT_NAMES = ["lo", "enp0s3", "enp0s3nsby", "enp0s4", "enp2s0"];

describe("udevd on the failover VM boot", () => {
  it("should see the boot uevents and name master, standby, plain virtio and VF", () => {
    const { w, k, u } = sim("6.1");
    settle(w);
    expect(names(k)).toEqual(BOOT_NAMES);
    for (const i of [2, 3, 4, 5]) {
      expect(u.isInitialized(i)).toBe(true);
      expect(u.isRenaming(i)).toBe(false);
      expect(u.isReady(i)).toBe(true);
    }
    // lo was registered before the World existed: udevd never saw it
    expect(u.isInitialized(1)).toBe(false);
    expect(u.entry(3)?.properties).toMatchObject({
      INTERFACE: "enp0s3nsby",
      INTERFACE_OLD: "eth1",
      ID_NET_DRIVER: "virtio_net",
      ID_NET_NAME_PATH: "enp0s3nsby",
      ID_NET_NAME: "enp0s3nsby",
      ID_NET_LINK_FILE: "99-default.link",
      ID_PATH: "pci-0000:00:03.0",
    });
    // q35: no hot-plug slot on the root bus, so no slot name
    expect(u.entry(3)?.properties.ID_NET_NAME_SLOT).toBeUndefined();
    expect(u.entry(2)?.properties.ID_NET_DRIVER).toBe("net_failover");
    // renames succeed silently at udevd's default log level; the kernel logs them
    expect(u.logs).toEqual([]);
    const klog = k.trace
      .since(0)
      .flatMap((e) => (e.type === "kernel.log" ? [e.text] : []))
      .filter((t) => t.includes("renamed from"));
    expect(klog).toContain("virtio_net virtio0 enp0s3nsby: renamed from eth1");
    expect(u.isSettled()).toBe(true);
  });

  it("should race the boot's deferred kernel work when boot does not settle it", () => {
    const { w, k, u } = sim("6.1", { logLevel: "debug" }, { settleBoot: false });
    expect(w.now()).toBe(0);
    settle(w);
    expect(names(k)).toEqual(BOOT_NAMES);
    const first = u.logs.find((l) => l.message.startsWith("Processing device"));
    expect(first).toMatchObject({ t: 11_000, ifname: "eth0" });
    // the kernel actor ran work (linkwatch, watchdogs) on the same clock
    expect(w.timeline.some((e) => e.actor === "kernel")).toBe(true);
  });

  it("should log the policy walk and the rename at debug level", () => {
    const { w, u } = sim("6.1", { logLevel: "debug" });
    settle(w);
    const text = u.logText();
    expect(text).toContain('eth0: Policy *path* yields "enp0s3".');
    expect(text).toContain("enp0s3: Network interface 2 is renamed from 'eth0' to 'enp0s3'");
    expect(text).toContain('eth3: Policy *path* yields "enp2s0".');
    expect(text.indexOf("eth0: Processing device (SEQNUM=5, ACTION=add)")).toBeLessThan(
      text.indexOf("enp0s3: Processing device (SEQNUM=48, ACTION=move)"),
    );
  });

  it("should hold ID_RENAMING from the rename until the move uevent is processed", () => {
    const { w, u } = sim("6.1");
    let saw = false;
    for (let i = 0; i < 1000 && w.sched.runOne() !== null; i++) {
      w.dispatch();
      if (u.isRenaming(2)) {
        saw = true;
        expect(u.isInitialized(2)).toBe(true);
        expect(u.isReady(2)).toBe(false);
        expect(u.entry(2)?.properties.ID_RENAMING).toBe("1");
        expect(u.entry(2)?.name).toBe("enp0s3");
        break;
      }
    }
    expect(saw).toBe(true);
    settle(w);
    expect(u.isRenaming(2)).toBe(false);
    expect(u.entry(2)?.properties.ID_RENAMING).toBeUndefined();
  });

  it("should deliver, then process after the configured latencies", () => {
    const { w, m, u } = sim("6.1", {
      deliveryLatencyUs: 5_000,
      processingLatencyUs: 20_000,
      logLevel: "debug",
    });
    settle(w);
    m.unplug("primary0");
    w.dispatch();
    settle(w);
    const t0 = w.now();
    m.plug("primary0");
    w.dispatch();
    const queued = u.logs.at(-1);
    expect(queued?.message).toMatch(/^Device \(SEQNUM=\d+, ACTION=add\) is queued$/);
    expect(u.isInitialized(6)).toBe(false);
    expect(u.readyAt()).toBe(t0 + 25_000);
    settle(w);
    const processing = u.logs.find(
      (l) => l.t > t0 && l.message.startsWith("Processing device") && l.message.endsWith("add)"),
    );
    expect(processing?.t).toBe(t0 + 25_000);
    expect(u.isInitialized(6)).toBe(true);
  });

  it("should process events of different devices in parallel workers, or one by one", () => {
    const firstTimes = (workers: number) => {
      const { w, u } = sim("6.1", { workers, logLevel: "debug" });
      settle(w);
      return u.logs
        .filter((l) => l.message.startsWith("Processing device") && l.message.endsWith("add)"))
        .map((l) => l.t);
    };
    const parallel = firstTimes(8);
    const serial = firstTimes(1);
    expect(new Set(parallel).size).toBe(1);
    expect(serial).toEqual(serial.map((_, i) => (serial[0] as number) + i * 10_000));
  });

  it("should broadcast processed events to listeners", () => {
    const clock = new VirtualClock();
    const rng = new Rng(1);
    const k = createKernel({ kernel: "6.1", clock, rng, cpus: 1, defaultQdisc: "fq_codel" });
    const m = new Machine(k, FAILOVER_VM, (t) => clock.advanceTo(t));
    const w = new World({ kernel: k, machine: m, clock, rng });
    const u = new Udevd(w);
    w.sched.add(u);
    const seen: UdevProcessed[] = [];
    u.onProcessed((p) => seen.push(p));
    m.boot();
    w.dispatch();
    settle(w);
    expect(seen.slice(0, 2)).toEqual([
      { action: "add", ifindex: 2, ifname: "enp0s3", ok: true },
      { action: "add", ifindex: 3, ifname: "enp0s3nsby", ok: true },
    ]);
    expect(seen.filter((p) => p.action === "move").map((p) => p.ifname)).toEqual([
      "enp0s3",
      "enp0s3nsby",
      "enp0s4",
      "enp2s0",
    ]);
  });

  it("should replace a database entry at each write, never change one, and share them with its snapshots", () => {
    const { w, m, u } = sim("6.1");
    settle(w);
    const before = u.save();
    const e2 = u.peek().db.get(2);
    expect(Object.isFrozen(e2) && Object.isFrozen(e2?.properties)).toBe(true);
    expect(before.db.find((e) => e.ifindex === 2)).toBe(e2);
    m.unplug("primary0");
    w.dispatch();
    settle(w);
    // The snapshot still holds the entries as they were, and loads them back.
    expect(before.db.map((e) => e.ifindex)).toEqual([2, 3, 4, 5]);
    u.load(before);
    expect(u.peek().db.get(2)).toBe(e2);
    expect(u.entries().map((e) => e.ifindex)).toEqual([2, 3, 4, 5]);
  });

  it("should drop the database entry on remove", () => {
    const { w, m, u } = sim("6.1");
    settle(w);
    expect(u.isInitialized(5)).toBe(true);
    m.unplug("primary0");
    w.dispatch();
    settle(w);
    expect(u.entry(5)).toBeUndefined();
    expect(u.entries().map((e) => e.ifindex)).toEqual([2, 3, 4]);
  });
});

describe("a late udevd (udev.start: late)", () => {
  it("should lose the boot's uevents, then name every device from the trigger at start()", () => {
    const { w, k, m, u } = sim("6.1", { startLate: true });
    const seen: UdevProcessed[] = [];
    u.onProcessed((p) => seen.push(p));
    expect(u.running).toBe(false);
    settle(w);
    // udevd existed before boot but did not listen: nothing queued, nothing processed
    expect(u.pending()).toBe(0);
    expect(seen).toEqual([]);
    expect(names(k)).toEqual(["lo", "eth0", "eth1", "eth2", "eth3"]);
    expect(u.entries()).toEqual([]);
    expect(u.start()).toBe(5);
    expect(u.running).toBe(true);
    expect(u.pending()).toBe(5);
    settle(w);
    expect(names(k)).toEqual(BOOT_NAMES);
    expect(seen.filter((p) => p.action === "add").map((p) => p.ifindex)).toEqual([1, 2, 3, 4, 5]);
    expect(u.isInitialized(5)).toBe(true);
    expect(() => u.start()).toThrow(/already running/);
    // from now on it listens: a re-plugged VF is renamed from its own add event
    m.unplug("primary0");
    w.dispatch();
    settle(w);
    m.plug("primary0");
    w.dispatch();
    settle(w);
    expect(names(k).at(-1)).toBe("enp2s0");
  });

  it("should keep whether it runs in a snapshot", () => {
    const { w, u } = sim("6.1", { startLate: true });
    settle(w);
    const before = u.save();
    u.start();
    settle(w);
    expect(u.save().running).toBe(true);
    u.load(before);
    expect(u.running).toBe(false);
    expect(u.entries()).toEqual([]);
  });
});

describe("coldplug (udevadm trigger --action=add)", () => {
  it("should see nothing of a boot that happened before udevd existed, until coldplug", () => {
    const { w, k, u } = sim("6.1", {}, { afterBoot: true });
    expect(u.pending()).toBe(0);
    settle(w);
    expect(names(k)).toEqual(["lo", "eth0", "eth1", "eth2", "eth3"]);
    expect(u.coldplug()).toBe(5);
    expect(u.pending()).toBe(5);
    settle(w);
    expect(names(k)).toEqual(BOOT_NAMES);
    // lo gets a database entry but no name
    expect(u.isInitialized(1)).toBe(true);
    expect(u.entry(1)?.properties.ID_NET_NAME).toBeUndefined();
  });

  it("should leave devices alone on a second pass: `keep` (name_assign_type 4)", () => {
    const { w, k, u } = sim("6.1", { logLevel: "debug" });
    settle(w);
    u.coldplug();
    settle(w);
    expect(names(k)).toEqual(BOOT_NAMES);
    expect(u.logText()).toContain("enp0s3: Policy *keep*: keeping existing userspace name");
  });

  it("should rename again without `keep` in the policy", () => {
    const { w, k, u } = sim("6.1", {
      links: [{ file: "99-default.link", match: { originalName: "*" }, namePolicy: ["path"] }],
    });
    settle(w);
    expect(names(k)).toEqual(["lo", "enp0s3", "enp0s3nsby", "enp0s4", "enp2s0"]);
    u.coldplug();
    settle(w);
    expect(names(k)).toEqual(["lo", "enp0s3", "enp0s3nsby", "enp0s4", "enp2s0"]);
  });
});

describe("configuration", () => {
  it("should name by acpi_index, MAC or database when configured", () => {
    const onboard = sim("6.1", { acpiIndex: { "0000:00:03.0": 1 } });
    settle(onboard.w);
    expect(names(onboard.k).slice(1, 3)).toEqual(["eno1", "eno1nsby"]);
    const mac = sim("6.1", {
      links: [{ file: "99-default.link", namePolicy: ["mac"] }],
      logLevel: "info",
    });
    settle(mac.w);
    // three netdevs share the failover MAC: the first wins, the others fail with EEXIST
    expect(names(mac.k)).toEqual(["lo", "enx525400001253", "eth1", "enx525400001299", "eth3"]);
    expect(mac.u.logText()).toContain(
      "enx525400001253: Failed to rename network interface 3 from 'eth1' to 'enx525400001253': File exists",
    );
    const db = sim("6.1", { database: { byPath: { "0000:00:04.0": "lan0" } } });
    settle(db.w);
    expect(names(db.k)[3]).toBe("lan0");
  });

  it("should reject bad configuration", () => {
    expect(() => sim("6.1", { generation: "v200" as UdevGeneration })).toThrow(TypeError);
    expect(() => sim("6.1", { workers: 0 })).toThrow(RangeError);
    expect(() => sim("6.1", { processingLatencyUs: -1 })).toThrow(RangeError);
    expect(() => sim("6.1", { namingScheme: "v1" as never })).toThrow(TypeError);
  });

  it("should be deterministic with jitter, for a given seed", () => {
    const run = (seed: number) =>
      JSON.stringify(hotplugRace("6.1", { jitterUs: 5_000, logLevel: "debug" }, seed).w.timeline);
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
    const plain = JSON.stringify(hotplugRace("6.1", { logLevel: "debug" }).w.timeline);
    expect(run(1)).not.toBe(plain);
  });
});

/** The expected outcome of the hot-plug race per generation and kernel. */
interface RaceOutcome {
  /** The VF's final name (the kernel named it eth0: the boot renames freed that name). */
  readonly vf: string;
  /** udevd's log lines (info and above) for the re-plugged VF. */
  readonly logs: readonly string[];
  /** udev database state of the VF afterwards. */
  readonly initialized: boolean;
  readonly renaming: boolean;
}

const RENAMED: RaceOutcome = { vf: "enp2s0", logs: [], initialized: true, renaming: false };
const LEGACY_OK: RaceOutcome = {
  ...RENAMED,
  logs: [
    "eth0: changing net interface name from 'eth0' to 'enp2s0'",
    "enp2s0: renamed network interface eth0 to enp2s0",
  ],
};
const V250_SKIP: RaceOutcome = {
  vf: "eth0",
  logs: ["eth0: Network interface 'eth0' is already up, refusing to rename to 'enp2s0'."],
  initialized: true,
  renaming: false,
};
const V253_EBUSY: RaceOutcome = {
  vf: "eth0",
  logs: ["enp2s0: Network interface 'eth0' is already up, cannot rename to 'enp2s0'."],
  initialized: true,
  renaming: false,
};

/** E0 (5.0): EBUSY for the UP VF; E1 (6.1): IFF_LIVE_RENAME_OK on failover slaves; E2 (6.2): any UP device. */
const MATRIX: Readonly<Record<UdevGeneration, Readonly<Record<string, RaceOutcome>>>> = {
  legacy: {
    "5.0": {
      vf: "eth0",
      logs: [
        "eth0: changing net interface name from 'eth0' to 'enp2s0'",
        "eth0: error changing netif name eth0 to enp2s0: Device or resource busy",
      ],
      initialized: true,
      renaming: false,
    },
    "6.1": LEGACY_OK,
    "6.2": LEGACY_OK,
  },
  v249: {
    "5.0": {
      vf: "eth0",
      logs: [
        "enp2s0: Failed to rename network interface 6 from 'eth0' to 'enp2s0': Device or resource busy",
        "eth0: Failed to process device, ignoring: Device or resource busy",
      ],
      initialized: false,
      renaming: false,
    },
    "6.1": RENAMED,
    "6.2": RENAMED,
  },
  v250: { "5.0": V250_SKIP, "6.1": V250_SKIP, "6.2": V250_SKIP },
  v253: { "5.0": V253_EBUSY, "6.1": RENAMED, "6.2": RENAMED },
  v256: { "5.0": V253_EBUSY, "6.1": RENAMED, "6.2": RENAMED },
};

describe("generation × kernel: the VF hot-plugged while the failover master is up", () => {
  const cases = Object.entries(MATRIX).flatMap(([gen, byKernel]) =>
    Object.entries(byKernel).map(([kernel, out]) => [gen as UdevGeneration, kernel, out] as const),
  );

  it.each(cases)("%s on %s", (generation, kernel, out) => {
    const r = hotplugRace(kernel, { generation });
    // at boot every device is down: all generations rename everything
    expect(r.bootNames).toEqual(BOOT_NAMES);
    expect(r.vf.name).toBe(out.vf);
    expect(r.logs).toEqual(out.logs);
    expect(r.u.isInitialized(r.vf.ifindex)).toBe(out.initialized);
    expect(r.u.isRenaming(r.vf.ifindex)).toBe(out.renaming);
    // error and warning lines are timeline failures; info lines (the v253 EBUSY one included) are not
    const renames = r.udevTimeline.filter((e) => e.what.startsWith("rename "));
    expect(r.udevTimeline.filter((e) => !renames.includes(e)).map((e) => [e.what, e.ok])).toEqual(
      out.logs.map((l) => [l, !/Failed|error changing/.test(l)]),
    );
    // a successful rename is in the timeline whatever the log level (issue 18)
    const vfRenames = renames.filter((e) => e.what.endsWith(` → ${out.vf}`));
    expect(vfRenames.length).toBe(/^eth\d+$/.test(out.vf) ? 0 : 1);
    // the VF is enslaved and up whatever its name
    expect(r.vf.uppers.some((u) => u.master)).toBe(true);
    expect(r.u.isSettled()).toBe(true);
  });

  it("should record the errno as the timeline result", () => {
    const r = hotplugRace("5.0", { generation: "v249" });
    expect(r.udevTimeline.map((e) => e.result)).toEqual(["EBUSY", "EBUSY"]);
    const v253 = hotplugRace("5.0", { generation: "v253" });
    expect(v253.udevTimeline.map((e) => [e.result, e.ok])).toEqual([["EBUSY", true]]);
  });
});

describe("alternative names, v249 (systemd 247, measured on Debian bullseye in the qemu guest)", () => {
  it("should leave out the name the rename will give: a VF renamed on plug gets no altname", () => {
    const r = hotplugRace("5.10", { generation: "v249" });
    expect(r.vf.name).toBe("enp2s0");
    expect(r.vf.altnames).toEqual([]);
  });

  it("should add the predictable name as an altname after a user rename (the move event)", () => {
    const { w, k } = sim("5.10", { generation: "v249" });
    settle(w);
    w.ip(["link", "set", "enp0s4", "name", "eth9"]);
    w.dispatch();
    settle(w);
    expect([...k.state.devices.values()].find((x) => x.name === "eth9")?.altnames).toEqual([
      "enp0s4",
    ]);
  });

  it("should drop the altname before a rename that fails (EBUSY) and not give it back", () => {
    const links = [{ file: "10-path.link", match: { originalName: "*" }, namePolicy: ["path"] }];
    const { w, k, u } = sim("5.10", { generation: "v249", links } as UdevdConfig);
    settle(w);
    w.ip(["link", "set", "enp0s4", "name", "eth9"]);
    w.ip(["link", "set", "eth9", "up"]);
    w.dispatch();
    settle(w);
    expect([...k.state.devices.values()].find((x) => x.ifindex === 4)?.altnames).toEqual([
      "enp0s4",
    ]);
    u.coldplug();
    w.dispatch();
    settle(w);
    const d = [...k.state.devices.values()].find((x) => x.ifindex === 4);
    expect(d?.name).toBe("eth9");
    expect(d?.altnames).toEqual([]);
    expect(u.logText().join("\n")).toContain(
      "Failed to rename network interface 4 from 'eth9' to 'enp0s4': Device or resource busy",
    );
  });
});

describe("alternative names (AlternativeNamesPolicy=database onboard slot path, v253)", () => {
  it("should drop the altname it gave just before a rename that works, leaving none", () => {
    const r = hotplugRace("6.1", { generation: "v253" });
    expect(r.vf.name).toBe("enp2s0");
    expect(r.vf.altnames).toEqual([]);
  });

  it("should give the altname back when the rename fails (EBUSY): eth9 keeps altname enp0s4", () => {
    const links = [{ file: "10-path.link", match: { originalName: "*" }, namePolicy: ["path"] }];
    const { w, k, u } = sim("6.1", { generation: "v253", links } as UdevdConfig);
    settle(w);
    w.ip(["link", "set", "enp0s4", "name", "eth9"]);
    w.ip(["link", "set", "eth9", "up"]);
    w.dispatch();
    settle(w);
    u.coldplug();
    w.dispatch();
    settle(w);
    const d = [...k.state.devices.values()].find((x) => x.ifindex === 4);
    expect(d?.name).toBe("eth9");
    expect(d?.altnames).toEqual(["enp0s4"]);
    expect(u.logText()).toContain(
      "enp0s4: Network interface 'eth9' is already up, cannot rename to 'enp0s4'.",
    );
  });

  it("should set none before Linux 5.5 (no altnames: EOPNOTSUPP)", () => {
    expect(hotplugRace("5.0", { generation: "v253" }).vf.altnames).toEqual([]);
  });

  it("should add the predictable name as an altname after a user rename (the move event)", () => {
    const { w, k } = sim("6.1", { generation: "v253" });
    settle(w);
    w.ip(["link", "set", "enp0s4", "name", "eth9"]);
    w.dispatch();
    settle(w);
    const d = [...k.state.devices.values()].find((x) => x.name === "eth9");
    expect(d?.altnames).toEqual(["enp0s4"]);
  });

  it("should set no altnames in the generations not measured", () => {
    const { w, k } = sim("6.1", { generation: "v250" });
    settle(w);
    w.ip(["link", "set", "enp0s4", "name", "eth9"]);
    w.dispatch();
    settle(w);
    expect([...k.state.devices.values()].find((x) => x.name === "eth9")?.altnames).toEqual([]);
  });
});

describe("alternative names, v256 (systemd 257, measured on Debian trixie in the qemu guest)", () => {
  it("should assign them after the rename, the new name left out, and the shared MAC's enx once", () => {
    const { w, k, u } = sim("6.12", { generation: "v256", logLevel: "debug" });
    settle(w);
    const byName = (n: string) => [...k.state.devices.values()].find((x) => x.name === n);
    // the master's event runs first: it gets enx…; the standby's rename then asks for it too
    expect(byName("enp0s3")?.altnames).toEqual(["enx525400001253"]);
    expect(byName("enp0s3nsby")?.altnames).toEqual([]);
    expect(u.logText()).toContain(
      "enp0s3nsby: Failed to assign 'enx525400001253' as an alternative name on network interface 3, ignoring: File exists",
    );
  });

  it("should keep the name it failed to give (EBUSY) among the altnames assigned after it", () => {
    const links = [{ file: "10-path.link", match: { originalName: "*" }, namePolicy: ["path"] }];
    const { w, k, u } = sim("6.1", { generation: "v256", links } as UdevdConfig);
    settle(w);
    w.ip(["link", "set", "enp0s4", "name", "eth9"]);
    w.ip(["link", "set", "eth9", "up"]);
    w.dispatch();
    settle(w);
    u.coldplug();
    w.dispatch();
    settle(w);
    const d = [...k.state.devices.values()].find((x) => x.ifindex === 4);
    expect(d?.name).toBe("eth9");
    expect(d?.altnames).toContain("enp0s4");
  });
});

describe("v256 ID_NET_NAME_ALLOW on a failover VM", () => {
  const DENY_VIRTIO_PPN = { "net:naming:drvirtio_net:*": { PHYS_PORT_NAME: false } };

  it("should strip the standby's nsby but not the master's name: both want enp0s3, the standby loses", () => {
    const { w, k, u } = sim("6.1", { generation: "v256", nameAllow: DENY_VIRTIO_PPN });
    settle(w);
    expect(names(k)).toEqual(["lo", "enp0s3", "eth1", "enp0s4", "enp2s0"]);
    expect(u.logText()).toEqual([
      "enp0s3: Failed to rename network interface 3 from 'eth1' to 'enp0s3': File exists",
      "eth1: Failed to process device, ignoring: File exists",
    ]);
    expect(u.entry(3)?.properties.ID_NET_NAME_ALLOW_PHYS_PORT_NAME).toBeUndefined();
    // v253+ reverts the database instead of leaving ID_RENAMING behind
    expect(u.isInitialized(3)).toBe(true);
    expect(u.isRenaming(3)).toBe(false);
    expect(u.entry(2)?.properties.ID_NET_DRIVER).toBe("net_failover");
  });

  it("should be ignored before v256", () => {
    const { w, k } = sim("6.1", { generation: "v253", nameAllow: DENY_VIRTIO_PPN });
    settle(w);
    expect(names(k)).toEqual(BOOT_NAMES);
  });
});

describe("EEXIST: swapping two kernel names through the name database", () => {
  const MAC_A = "52:54:00:00:00:0a";
  const MAC_B = "52:54:00:00:00:0b";
  const TWO_NICS: MachineSpec = {
    name: "two-nics",
    description: "two plain virtio-net NICs",
    defaultQdisc: "fq_codel",
    cpus: 1,
    modules: ["virtio_pci", "virtio_net"],
    devices: [
      { addr: "0000:00:03.0", model: "virtio-net", id: "a", mac: MAC_A },
      { addr: "0000:00:04.0", model: "virtio-net", id: "b", mac: MAC_B },
    ],
  };
  const swap = (generation: UdevGeneration, workers?: number) =>
    sim(
      "6.1",
      {
        generation,
        database: { byMac: { [MAC_A]: "eth1", [MAC_B]: "eth0" } },
        ...(workers !== undefined ? { workers } : {}),
      },
      { spec: TWO_NICS },
    );

  it("legacy: moves the first to eth0_rename, the second takes eth0, the retry then takes eth1", () => {
    const { w, k, u } = swap("legacy");
    const t0 = w.now();
    settle(w);
    expect(names(k)).toEqual(["lo", "eth1", "eth0"]);
    expect(u.logText()).toEqual([
      "eth0: changing net interface name from 'eth0' to 'eth1'",
      "eth1: changing net interface name from 'eth1' to 'eth0'",
      "eth0: renamed network interface eth1 to eth0",
      "eth1: renamed network interface eth0_rename to eth1",
    ]);
    // boot settled the clock past the uevents' delivery time: processing starts at dispatch
    const last = u.logs.at(-1);
    expect(last?.t).toBe(t0 + 10_000 + LEGACY_RETRY_INTERVAL_US);
  });

  it("legacy with one worker: the retry loop blocks the swap for 90 s and gives up", () => {
    const { w, k, u } = swap("legacy", 1);
    const t0 = w.now();
    settle(w);
    expect(names(k)).toEqual(["lo", "eth0_rename", "eth0"]);
    const processed = t0 + 10_000;
    // 1800 tries 50 ms apart, then the loop's last sleep
    const gaveUp = processed + LEGACY_RETRY_TRIES * LEGACY_RETRY_INTERVAL_US;
    expect(u.logs.at(-1)).toMatchObject({
      t: gaveUp + 10_000,
      text: "eth0: renamed network interface eth1 to eth0",
    });
  });

  it("legacy logs every wait at debug level", () => {
    const dbg = sim(
      "6.1",
      {
        generation: "legacy",
        workers: 1,
        logLevel: "debug",
        database: { byMac: { [MAC_A]: "eth1", [MAC_B]: "eth0" } },
      },
      { spec: TWO_NICS },
    );
    settle(dbg.w);
    const waits = dbg.u.logText().filter((l) => l.includes("wait for netif"));
    expect(waits).toHaveLength(LEGACY_RETRY_TRIES);
    expect(waits[0]).toBe("eth0_rename: wait for netif 'eth1' to become free, loop=1");
  });

  it("v249 and later: one try each, both fail with EEXIST (systemd #29957)", () => {
    for (const generation of ["v249", "v250", "v253", "v256"] as const) {
      const { w, k, u } = swap(generation);
      settle(w);
      expect(names(k)).toEqual(["lo", "eth0", "eth1"]);
      expect(u.logText()).toEqual([
        "eth1: Failed to rename network interface 2 from 'eth0' to 'eth1': File exists",
        "eth0: Failed to process device, ignoring: File exists",
        "eth0: Failed to rename network interface 3 from 'eth1' to 'eth0': File exists",
        "eth1: Failed to process device, ignoring: File exists",
      ]);
      // v249/v250 write no database entry for a failed event; v253+ revert to the old one
      const initialized = generation === "v253" || generation === "v256";
      expect([u.isInitialized(2), u.isInitialized(3)]).toEqual([initialized, initialized]);
    }
  });
});

describe("predictableName", () => {
  /** udevd with the given files on disk (udev-files.ts), on the failover VM, after boot. */
  function withFiles(files: Record<string, string>): Sim {
    const { links, rules } = loadUdevFiles(files, { generation: "v253" });
    const s = sim("6.1", { generation: "v253", links, rules });
    settle(s.w);
    return s;
  }
  const byName = (k: Kernel, n: string): number => {
    const d = [...k.state.devices.values()].find((x) => x.name === n);
    if (!d) throw new Error(`no ${n} in ${names(k).join(" ")}`);
    return d.ifindex;
  };

  it("should give a rule's NAME= after 80-net-setup-link.rules, not the .link name", () => {
    const { k, u } = withFiles({
      "/etc/udev/rules.d/90-vf.rules": 'DRIVERS=="e1000e", NAME="vf0"\n',
    });
    expect(names(k)).toContain("vf0");
    expect(u.predictableName(byName(k, "vf0"))).toBe("vf0");
    // the others keep 99-default.link's NamePolicy name
    expect(u.predictableName(byName(k, "enp0s4"))).toBe("enp0s4");
  });

  it("should keep NAME= of a rule before 80-net-setup-link.rules, matched on the event's kernel name", () => {
    const { k, u } = withFiles({
      "/etc/udev/rules.d/70-net1.rules": 'KERNEL=="eth1", NAME="mgmt0"\n',
    });
    expect(names(k)).toContain("mgmt0");
    const i = byName(k, "mgmt0");
    expect(u.predictableName(i, "eth1")).toBe("mgmt0");
    // by its current name KERNEL=="eth1" no longer matches: 99-default.link's name (eth1 is
    // the standby here, so its path name carries net_failover's nsby)
    expect(u.predictableName(i)).toBe("enp0s3nsby");
  });

  it("should agree with the name udevd gave every device, with and without rules", () => {
    for (const files of [
      {},
      { "/etc/udev/rules.d/90-x.rules": 'ATTR{address}=="52:54:00:00:12:99", NAME="lan9"\n' },
      {
        "/etc/systemd/network/10-m.link":
          "[Match]\nMACAddress=52:54:00:00:12:99\n[Link]\nName=l0\n",
      },
    ]) {
      const { k, u } = withFiles(files);
      for (const d of k.state.devices.values())
        if (d.name !== "lo" && d.driver !== "net_failover" && !/^eth/.test(d.name))
          expect(u.predictableName(d.ifindex), JSON.stringify(files)).toBe(d.name);
    }
  });

  it("should have no side effect: no log, no altname, no rename", () => {
    const { k, u } = withFiles({
      "/etc/udev/rules.d/90-vf.rules": 'DRIVERS=="e1000e", NAME="vf0"\n',
    });
    const before = JSON.stringify([...k.state.devices.values()].map((d) => [d.name, d.altnames]));
    const logs = u.logText().length;
    const renames = u.renames.length;
    for (const d of k.state.devices.values()) u.predictableName(d.ifindex);
    expect(JSON.stringify([...k.state.devices.values()].map((d) => [d.name, d.altnames]))).toBe(
      before,
    );
    expect(u.logText()).toHaveLength(logs);
    expect(u.renames).toHaveLength(renames);
  });
});
