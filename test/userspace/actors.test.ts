// The userspace actors that need no udev: the kernel work actor, bring-up, cloud-init.

import { describe, expect, it } from "vitest";
import { createKernel, devGetByName, IFF } from "../../src/kernel/index.ts";
import { FAILOVER_VM, Machine, type MachineSpec } from "../../src/machine/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";
import { BringupActor } from "../../src/userspace/bringup.ts";
import {
  CloudInitProbe,
  isNetfailMaster,
  isNetfailPrimary,
  isNetfailStandby,
  netFacts,
} from "../../src/userspace/cloud-init.ts";
import { KernelWorkActor } from "../../src/userspace/kernel-actor.ts";
import { World } from "../../src/userspace/world.ts";

function world(version = "6.1", spec: MachineSpec = FAILOVER_VM): World {
  const clock = new VirtualClock();
  const rng = new Rng(1);
  const k = createKernel({ kernel: version, clock, rng, cpus: 1, defaultQdisc: "fq_codel" });
  const m = new Machine(k, spec, (t) => clock.advanceTo(t));
  const w = new World({ kernel: k, machine: m, clock, rng });
  w.sched.add(new KernelWorkActor(w));
  return w;
}

function runAll(w: World): void {
  for (let i = 0; i < 10_000; i++) {
    const r = w.sched.runOne();
    w.dispatch();
    if (r === null) return;
  }
  throw new Error("no quiescence");
}

describe("World", () => {
  it("should deliver uevents and netlink messages to subscribers in kernel order", () => {
    const w = world();
    const seen: string[] = [];
    w.onUevent((e) => seen.push(`uevent ${e.action} ${e.interface}`));
    w.onNetlink((e) => seen.push(`${e.msg} ${e.link.ifname}`));
    w.machine.boot({ settle: false });
    w.dispatch();
    expect(seen.filter((s) => s.startsWith("uevent"))).toEqual([
      "uevent add eth0",
      "uevent add eth1",
      "uevent add eth2",
      "uevent add eth3",
    ]);
    expect(seen.indexOf("uevent add eth0")).toBeLessThan(seen.indexOf("RTM_NEWLINK eth0"));
    // a second dispatch delivers nothing new
    const n = seen.length;
    w.dispatch();
    expect(seen.length).toBe(n);
  });

  it("should run deferred kernel work through the kernel actor, on the virtual clock", () => {
    const w = world();
    w.machine.boot({ settle: false });
    w.dispatch();
    runAll(w);
    expect(w.k.state.work).toEqual([]);
    expect(w.timeline.some((t) => t.actor === "kernel" && t.what === "work linkwatch_event")).toBe(
      true,
    );
    // virtio's config work turned the carriers on
    expect(devGetByName(w.k, "eth1")?.carrier).toBe(true);
  });
});

describe("BringupActor", () => {
  it("should bring matching links up once, after its latency", () => {
    const w = world();
    const b = new BringupActor(w, { links: ["eth0"], latencyUs: 5000 }, null);
    w.sched.add(b);
    w.machine.boot({ settle: false });
    w.dispatch();
    runAll(w);
    const eth0 = devGetByName(w.k, "eth0");
    expect((eth0?.flags ?? 0) & IFF.UP).toBe(IFF.UP);
    const rec = w.timeline.filter((t) => t.actor === "networkd");
    expect(rec).toEqual([
      expect.objectContaining({ what: "eth0: bringing link up", result: "ok", ok: true, t: 5000 }),
    ]);
    // the master's open opened both slaves (NF-OPEN)
    expect((devGetByName(w.k, "eth1")?.flags ?? 0) & IFF.UP).toBe(IFF.UP);
    expect((devGetByName(w.k, "eth2")?.flags ?? 0) & IFF.UP).toBe(0);
  });

  it("should match glob patterns against the current name and wait for udev when told", () => {
    const w = world();
    let ready = false;
    const b = new BringupActor(w, { links: ["ens*"], waitForUdev: true }, () => ready);
    w.sched.add(b);
    w.machine.boot({ settle: false });
    w.dispatch();
    runAll(w);
    expect(w.timeline.filter((t) => t.actor === "networkd")).toEqual([]);
    // a rename to a matching name makes it eligible, but udev has not initialized it
    expect(w.ip(["link", "set", "dev", "eth2", "name", "ens4"]).status).toBe(0);
    w.dispatch();
    expect(b.readyAt()).toBeNull();
    ready = true;
    runAll(w);
    expect(w.timeline.filter((t) => t.actor === "networkd").map((t) => t.what)).toEqual([
      "ens4: bringing link up",
    ]);
  });
});

describe("cloud-init netfail predicates (§2.1)", () => {
  it("should classify master, standby, primary and the plain NIC from sysfs facts", () => {
    const w = world();
    w.machine.boot();
    const facts = netFacts(w);
    const by = (n: string) => facts.find((f) => f.name === n) as (typeof facts)[number];
    expect(by("eth0")).toEqual({
      name: "eth0",
      mac: "52:54:00:00:12:53",
      driver: "virtio_net",
      master: null,
      standbyFeature: true,
    });
    expect(isNetfailMaster(by("eth0"))).toBe(true);
    expect(isNetfailStandby(by("eth1"))).toBe(true);
    expect(isNetfailPrimary(by("eth3"), facts)).toBe(true);
    expect(by("eth3").driver).toBe("e1000e");
    for (const n of ["eth2"]) {
      expect(
        isNetfailMaster(by(n)) || isNetfailStandby(by(n)) || isNetfailPrimary(by(n), facts),
      ).toBe(false);
    }
  });

  it("should fail with cloud-init's duplicate-MAC error when slaves are not filtered", () => {
    const w = world();
    const p = new CloudInitProbe(w, { atUs: 1000, filterFailover: false });
    w.sched.add(p);
    w.machine.boot();
    runAll(w);
    expect(p.result).toEqual({
      ok: false,
      byMac: { "52:54:00:00:12:53": "eth0" },
      error: "duplicate mac found! both 'eth1' and 'eth0' have mac '52:54:00:00:12:53'",
    });
  });

  it("should map each MAC once when failover slaves are skipped", () => {
    const w = world();
    const p = new CloudInitProbe(w, { atUs: 1000, filterFailover: true });
    w.sched.add(p);
    w.machine.boot();
    runAll(w);
    expect(p.result).toEqual({
      ok: true,
      byMac: { "52:54:00:00:12:53": "eth0", "52:54:00:00:12:99": "eth2" },
      error: null,
    });
    expect(w.timeline.filter((t) => t.result === "skipped").map((t) => t.what)).toEqual([
      "Ignoring failover interface eth1",
      "Ignoring failover interface eth3",
    ]);
  });
});
