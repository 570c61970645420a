// Golden traces of the failover scenarios T2, T8–T12 (spec "Golden test scenarios" and §C) on
// the measured failover VM (FAILOVER_VM: eth0 master, eth1 standby, eth2 plain virtio, eth3
// e1000e primary), in the eras where they differ: E0 "5.0", E1 "6.1", E2 "6.18".
//
// Files: test/golden/<case>.vm-scenario + <case>.trace.jsonl. The extension differs from
// golden.test.ts's ".scenario" on purpose: these scenarios boot a machine, which that runner
// does not know. UPDATE_GOLDEN=1 rewrites the .trace.jsonl files (review the diff against the
// spec before committing). Each golden is backed by explicit ordering assertions below, so a
// blind re-record cannot silently accept a wrong order.
//
// Scenario format (as golden.test.ts: one operation per line, `#` comments, JSON-string tokens):
//   kernel <version> [machine <name>]  boot a machine (failover-vm | failover-vm+vf2); lines
//                                      after it are setup until `---`
//   ---                                start tracing
//   ip <words…>                        one `ip` command (iproute2 6.1 model); ret = exit status
//   plug <id> | unplug <id>            QMP device_add / device_del of a machine device
//   set_link <id> up|down              QMP set_link
//   settle                             run deferred work until none is left (time moves)
//   sleep <ms>                         move the clock by ms, running work as it falls due
//   up <dev> | down <dev>              dev_open / dev_close
//   rename <dev> <newname>             dev_change_name (ret = errno)
//   nic <name> <mac> [pci|platform]    a generic NIC whose perm_addr is <mac>, parent as given
//   veth <name> <peer> [<mac>]         a veth pair through RTM_NEWLINK (IFLA_ADDRESS <mac>)
//   setmac <dev> <mac>                 dev_set_mac_address
//   xmit <dev> <frames>                frames sent through <dev> (a kernel.traffic event)
//   state                              one line per device except lo (name, up, carrier, master,
//                                      private flags; primary/standby for the master)

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IpProcess } from "../../src/ip/index.ts";
import {
  devChangeName,
  devClose,
  devGetByName,
  devGetFlags,
  devOpen,
  devSetMacAddress,
  err,
  failoverInstances,
  genericEthCreate,
  IFF,
  IFF_PRIV,
  type Kernel,
  type KernelEvent,
  type NetDevice,
  NLM_F,
  nextWorkDue,
  nfoInfo,
  rtnlNewlink,
  runDueWork,
  sendFrames,
} from "../../src/kernel/index.ts";
import { FAILOVER_MAC, FAILOVER_VM, type MachineSpec } from "../../src/machine/index.ts";
import { goldenEventLine, retText, stripComment, tokenize } from "../_helpers/golden.ts";
import { type Booted, bootMachine, failoverVmWith } from "../_helpers/machine.ts";

const GOLDEN_DIR = join(import.meta.dirname, "..", "golden");
const EXT = ".vm-scenario";

/** A second e1000e VF with the failover MAC on bus 1, plugged only on request (T10). */
const VF2_VM: MachineSpec = failoverVmWith([
  { addr: "0000:01:00.0", model: "e1000e", id: "vf2", mac: FAILOVER_MAC, atBoot: false },
]);

const MACHINES: Readonly<Record<string, MachineSpec>> = {
  "failover-vm": FAILOVER_VM,
  "failover-vm+vf2": VF2_VM,
};

// ─── the scenario runner ────────────────────────────────────────────────────────────────

function nameOf(k: Kernel, ifindex: number | null): string | null {
  if (ifindex === null) return null;
  return k.state.devices.get(ifindex)?.name ?? `if${ifindex}`;
}

/** The private flags a golden shows (symbolic). */
function roles(d: NetDevice): string[] {
  const out: string[] = [];
  if (d.privFlags & IFF_PRIV.IFF_FAILOVER) out.push("FAILOVER");
  if (d.privFlags & IFF_PRIV.IFF_FAILOVER_SLAVE) out.push("FAILOVER_SLAVE");
  if (d.privFlags & IFF_PRIV.IFF_LIVE_RENAME_OK) out.push("LIVE_RENAME_OK");
  if (d.privFlags & IFF_PRIV.IFF_NO_ADDRCONF) out.push("NO_ADDRCONF");
  return out;
}

function stateLines(k: Kernel): Record<string, unknown>[] {
  return [...k.state.devices.values()]
    .filter((d) => d.name !== "lo" || d.ifindex !== 1) // lo plays no part in failover
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((d) => {
      const master = d.uppers.find((u) => u.master);
      const line: Record<string, unknown> = {
        kind: "state",
        ifindex: d.ifindex,
        ifname: d.name,
        name_assign_type: d.nameAssignType,
        up: (devGetFlags(d) & IFF.UP) !== 0,
        carrier: d.carrier,
        master: master ? nameOf(k, master.ifindex) : null,
        priv: roles(d),
      };
      if (d.privFlags & IFF_PRIV.IFF_FAILOVER) {
        const info = nfoInfo(d);
        line.primary = nameOf(k, info.primary);
        line.standby = nameOf(k, info.standby);
      }
      return line;
    });
}

/** Moves the clock by `ms`, running each work item at its due time. */
function sleepMs(b: Booted, ms: number): void {
  const target = b.clock.now() + ms * 1000;
  for (;;) {
    while (runDueWork(b.k)) {}
    const due = nextWorkDue(b.k);
    if (due === null || due > target) break;
    b.clock.advanceTo(Math.max(due, b.clock.now()));
  }
  b.clock.advanceTo(target);
}

function need<T>(v: T | undefined | null, what: string): T {
  if (v === undefined || v === null) throw new SyntaxError(`scenario: ${what}`);
  return v;
}

function devNamed(k: Kernel, name: string): NetDevice {
  return need(devGetByName(k, name), `no device "${name}"`);
}

const PARENTS: Readonly<Record<string, NetDevice["parent"]>> = {
  pci: {
    id: "0000:01:00.0",
    bus: "pci",
    driver: "generic-eth",
    devpath: "/devices/pci0000:00/0000:00:05.0/0000:01:00.0",
  },
  platform: {
    id: "fake-eth.0",
    bus: "platform",
    driver: "generic-eth",
    devpath: "/devices/platform/fake-eth.0",
  },
};

/** One booted machine of a scenario, with its `ip` process (ll_map lives across commands). */
interface Block {
  readonly b: Booted;
  readonly ip: IpProcess;
}

/** Runs a scenario; returns the projected trace lines (objects) and the booted blocks. */
export function runVmScenario(text: string): { lines: Record<string, unknown>[]; blocks: Block[] } {
  const out: Record<string, unknown>[] = [];
  const blocks: Block[] = [];
  let cur: Block | null = null;
  let tracing = false;
  for (const [n, raw] of text.split("\n").entries()) {
    const toks = tokenize(stripComment(raw));
    if (toks.length === 0) continue;
    const [op, ...args] = toks as [string, ...string[]];
    if (op === "kernel") {
      const version = need(args[0], `line ${n + 1}: kernel needs a version`);
      const mname = args[1] === "machine" ? need(args[2], "machine needs a name") : "failover-vm";
      const spec = need(MACHINES[mname], `unknown machine "${mname}"`);
      const b = bootMachine(version, spec);
      cur = { b, ip: new IpProcess(b.k) };
      blocks.push(cur);
      tracing = false;
      out.push({ kind: "kernel", version, machine: mname });
      continue;
    }
    const blk = need(cur, `line ${n + 1}: an operation before the first \`kernel\` line`);
    const { k, m } = blk.b;
    if (op === "---") {
      tracing = true;
      continue;
    }
    if (op === "state") {
      if (tracing) out.push(...stateLines(k));
      continue;
    }
    const cursor = k.trace.length;
    let ret: string | null = null;
    let stdout = "";
    let stderr = "";
    switch (op) {
      case "ip": {
        const r = blk.ip.run(args);
        ret = `exit ${r.status}`;
        stdout = r.stdout;
        stderr = r.stderr;
        break;
      }
      case "plug":
        m.plug(need(args[0], "plug <id>"));
        break;
      case "unplug":
        m.unplug(need(args[0], "unplug <id>"));
        break;
      case "set_link":
        m.setLink(need(args[0], "set_link <id> up|down"), args[1] === "up");
        break;
      case "settle":
        m.settle();
        break;
      case "sleep":
        sleepMs(blk.b, Number(need(args[0], "sleep <ms>")));
        break;
      case "up":
        ret = retText(devOpen(k, devNamed(k, need(args[0], "up <dev>"))));
        break;
      case "down":
        devClose(k, devNamed(k, need(args[0], "down <dev>")));
        break;
      case "rename":
        ret = retText(
          devChangeName(k, devNamed(k, need(args[0], "rename")), need(args[1], "rename <new>")),
        );
        break;
      case "nic": {
        const parent = args[2] === undefined ? null : need(PARENTS[args[2]], "nic parent");
        const d = genericEthCreate(k, {
          name: need(args[0], "nic <name>"),
          mac: need(args[1], "nic <name> <mac>"),
          parent,
        });
        ret = typeof d === "number" ? retText(d) : "0";
        break;
      }
      case "veth": {
        const r = rtnlNewlink(k, {
          ifindex: 0,
          nlFlags: NLM_F.CREATE | NLM_F.EXCL,
          kind: "veth",
          attrs: {
            ifname: need(args[0], "veth <name>"),
            ...(args[2] !== undefined ? { address: args[2] } : {}),
          },
          peer: { ifname: need(args[1], "veth <name> <peer>") },
        });
        ret = retText(r.ret);
        break;
      }
      case "setmac":
        ret = retText(
          devSetMacAddress(k, devNamed(k, need(args[0], "setmac")), need(args[1], "setmac <mac>")),
        );
        break;
      case "xmit":
        sendFrames(k, devNamed(k, need(args[0], "xmit <dev>")), {
          frames: Number(need(args[1], "xmit <dev> <frames>")),
          size: 1000,
        });
        break;
      default:
        throw new SyntaxError(`scenario line ${n + 1}: unknown operation "${op}"`);
    }
    if (!tracing) continue;
    const line: Record<string, unknown> = {
      kind: "op",
      op: toks.map((t) => (/^\S+$/.test(t) ? t : JSON.stringify(t))).join(" "),
      ret,
    };
    if (stdout) line.stdout = stdout;
    if (stderr) line.stderr = stderr;
    out.push(line);
    for (const e of k.trace.since(cursor))
      out.push(goldenEventLine(e, { master: (i) => nameOf(k, i), event: true }));
  }
  return { lines: out, blocks };
}

function jsonl(lines: Record<string, unknown>[]): string {
  return `${lines.map((o) => JSON.stringify(o)).join("\n")}\n`;
}

function scenarioText(name: string): string {
  return readFileSync(join(GOLDEN_DIR, `${name}${EXT}`), "utf8");
}

// ─── the golden comparison ──────────────────────────────────────────────────────────────

const cases = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith(EXT))
  .map((f) => f.slice(0, -EXT.length))
  .sort();

describe("failover golden traces", () => {
  it("should have the scenarios T2, T8, T9, T10, T11 and T12", () => {
    expect(cases).toEqual(["T10", "T11", "T12", "T2", "T8", "T9"]);
  });

  it.each(cases)("%s should match its .trace.jsonl", (name) => {
    const actual = jsonl(runVmScenario(scenarioText(name)).lines);
    const file = join(GOLDEN_DIR, `${name}.trace.jsonl`);
    if (process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(file, actual);
      return;
    }
    let expected: string;
    try {
      expected = readFileSync(file, "utf8");
    } catch {
      throw new Error(`Missing golden "${file}": run with UPDATE_GOLDEN=1 and review it`);
    }
    expect(actual).toBe(expected);
  });

  it.each(cases)("%s should never WARN", (name) => {
    const { lines } = runVmScenario(scenarioText(name));
    expect(lines.filter((l) => l.kind === "warn")).toEqual([]);
  });
});

// ─── explicit orderings (the spec's claims, independent of the recorded files) ───────────

/** A compact, order-revealing view of one event. */
function compactLine(k: Kernel, e: KernelEvent): string {
  switch (e.type) {
    case "kernel.notify":
      return `${e.event} ${e.dev}`;
    case "kernel.rtnl": {
      const up = e.link.flags & IFF.UP ? " UP" : "";
      const master = e.link.master === null ? "" : ` master=${nameOf(k, e.link.master)}`;
      const ev = e.event === null ? "" : ` event=${e.event}`;
      const change = e.msg === "RTM_NEWLINK" && e.change === 0xffffffff ? " change=~0" : "";
      return `${e.msg} ${e.link.ifname}${master}${up}${ev}${change}`;
    }
    case "kernel.uevent":
      return `uevent ${e.action} ${e.interface}`;
    case "kernel.log":
      return `log ${e.text}`;
    case "kernel.warn":
      return `warn ${e.text}`;
    case "kernel.traffic":
      return `traffic ${e.dir} ${e.dev} to=${e.to ?? "-"} dropped=${e.dropped}`;
  }
}

/** A compact, order-revealing view of a trace slice. */
function compact(k: Kernel, evs: readonly KernelEvent[]): string[] {
  return evs.map((e) => compactLine(k, e));
}

/** Runs `fn` on a booted machine and returns the compact events it caused. */
function during(b: Booted, fn: () => void): string[] {
  const c = b.k.trace.length;
  fn();
  return compact(b.k, b.k.trace.since(c));
}

/** `want` appears in `seq` in this order (as a subsequence); fails with both lists otherwise. */
function expectInOrder(seq: readonly string[], want: readonly string[]): void {
  let i = 0;
  for (const s of seq) if (i < want.length && s === want[i]) i++;
  expect({ found: want.slice(0, i), missing: want.slice(i), seq }).toEqual({
    found: want,
    missing: [],
    seq,
  });
}

/** The failover VM with the master up and settled (carrier on via both slaves). */
function masterUp(version: string, spec: MachineSpec = FAILOVER_VM): Booted {
  const b = bootMachine(version, spec);
  b.clock.advanceBy(5_000_000);
  expect(new IpProcess(b.k).run(["link", "set", "eth0", "up"]).status).toBe(0);
  b.m.settle();
  return b;
}

function dev(b: Booted, name: string): NetDevice {
  return devNamed(b.k, name);
}

const ERAS = [
  ["E0", "5.0"],
  ["E1", "6.1"],
  ["E2", "6.18"],
] as const;

describe("T2 (E1): rename while UP needs IFF_LIVE_RENAME_OK", () => {
  it("should refuse the UP plain virtio and the UP master with -EBUSY and no events", () => {
    const b = masterUp("6.1");
    expect(devOpen(b.k, dev(b, "eth2"))).toBe(0);
    for (const name of ["eth2", "eth0"]) {
      const c = b.k.trace.length;
      expect(devChangeName(b.k, dev(b, name), "foo")).toBe(err("EBUSY"));
      expect(b.k.trace.since(c)).toEqual([]);
    }
  });

  it("should rename the UP standby: log, move uevent, CHANGENAME, RTM_NEWLINK(new name) and nothing else", () => {
    const b = masterUp("6.1");
    const ev = during(b, () => expect(devChangeName(b.k, dev(b, "eth1"), "foo")).toBe(0));
    expect(ev).toEqual([
      "log virtio_net virtio0 foo: renamed from eth1",
      "uevent move foo",
      "NETDEV_CHANGENAME foo",
      "RTM_NEWLINK foo master=eth0 UP",
    ]);
  });

  it("should answer 0 with no events when a slave is renamed to its own name (R3)", () => {
    const b = masterUp("6.1");
    expect(during(b, () => expect(devChangeName(b.k, dev(b, "eth3"), "eth3")).toBe(0))).toEqual([]);
  });

  it("should answer -EBUSY even for the same name in E0 (R1 precedes R3; C.6)", () => {
    const b = masterUp("5.0");
    expect(devChangeName(b.k, dev(b, "eth3"), "eth3")).toBe(err("EBUSY"));
  });
});

describe("T8: VF hot-plug with the master up (K5–K8, then the udev rename)", () => {
  const K5_K8 = [
    "uevent add eth3",
    "NETDEV_REGISTER eth3",
    "NETDEV_PRECHANGEUPPER eth3",
    "NETDEV_CHANGEUPPER eth3",
    "RTM_NEWLINK eth3 master=eth0",
    "NETDEV_PRE_UP eth3",
    "RTM_NEWLINK eth3 master=eth0 UP",
    "NETDEV_UP eth3",
    "NETDEV_CHANGELOWERSTATE eth3",
    "RTM_NEWLINK eth3 master=eth0 UP",
    "NETDEV_FEAT_CHANGE eth0",
    "RTM_NEWLINK eth0 UP event=FEATURES",
    "NETDEV_JOIN eth3",
    "log virtio_net virtio0 eth0: failover primary slave:eth3 registered",
    "RTM_NEWLINK eth3 master=eth0 UP change=~0",
  ];

  function replugged(version: string): { b: Booted; ev: string[] } {
    const b = masterUp(version);
    b.m.unplug("primary0");
    b.m.settle();
    const ev = during(b, () => expect(b.m.plug("primary0")).toBe("plugged"));
    return { b, ev };
  }

  it.each(ERAS)("should emit K3, K5, K7 and K8 in the spec's order in %s (%s)", (_era, v) => {
    const { ev } = replugged(v);
    // The K3..K8 window exactly (the driver's own probe log lines follow K8).
    const start = ev.indexOf("uevent add eth3");
    expect(ev.slice(start, start + K5_K8.length)).toEqual(K5_K8);
    // The registration announcement is the last RTM of the registration.
    const rtms = ev.filter((e) => e.startsWith("RTM_"));
    expect(rtms.at(-1)).toBe("RTM_NEWLINK eth3 master=eth0 UP change=~0");
  });

  it.each(ERAS)("should set the era's slave flags at K6 in %s (%s)", (era, v) => {
    const { b } = replugged(v);
    expect(roles(dev(b, "eth3"))).toEqual(
      {
        E0: ["FAILOVER_SLAVE"],
        E1: ["FAILOVER_SLAVE", "LIVE_RENAME_OK"],
        E2: ["FAILOVER_SLAVE", "NO_ADDRCONF"],
      }[era],
    );
  });

  it("should refuse udev's rename in E0 with -EBUSY and no events (C.3)", () => {
    const { b } = replugged("5.0");
    expect(
      during(b, () => expect(devChangeName(b.k, dev(b, "eth3"), "ens4")).toBe(err("EBUSY"))),
    ).toEqual([]);
    // Manual workaround: down, then rename; NF-NC re-opens the slave after CHANGENAME.
    during(b, () => devClose(b.k, dev(b, "eth3")));
    const ev = during(b, () => expect(devChangeName(b.k, dev(b, "eth3"), "ens4")).toBe(0));
    expectInOrder(ev, [
      "log e1000e 0000:02:00.0 ens4: renamed from eth3",
      "uevent move ens4",
      "NETDEV_CHANGENAME ens4",
      "RTM_NEWLINK ens4 master=eth0",
      "NETDEV_PRE_UP ens4",
      "RTM_NEWLINK ens4 master=eth0 UP",
      "NETDEV_UP ens4",
      "NETDEV_CHANGELOWERSTATE ens4",
    ]);
  });

  it.each([
    ["E1", "6.1", ""],
    ["E2", "6.18", " (while UP)"],
  ])("should accept udev's rename in %s (%s) and open nothing new (C.4/C.5)", (_e, v, suffix) => {
    const { b } = replugged(v);
    const ev = during(b, () => expect(devChangeName(b.k, dev(b, "eth3"), "ens4")).toBe(0));
    expect(ev).toEqual([
      `log e1000e 0000:02:00.0 ens4: renamed from eth3${suffix}`,
      "uevent move ens4",
      "NETDEV_CHANGENAME ens4",
      "RTM_NEWLINK ens4 master=eth0 UP",
    ]);
    expect(dev(b, "ens4").nameAssignType).toBe(4);
  });

  it.each(ERAS)(
    "should let the VF carry the master's traffic once its carrier is up (K9, %s)",
    (_e, v) => {
      const { b } = replugged(v);
      const ev = during(b, () => b.m.settle());
      expectInOrder(ev, [
        "NETDEV_CHANGE eth3",
        "NETDEV_CHANGELOWERSTATE eth3",
        "RTM_NEWLINK eth3 master=eth0 UP",
        "RTM_NEWLINK eth3 master=eth0 UP",
      ]);
      expect(sendFrames(b.k, dev(b, "eth0"), { frames: 3, size: 100 }).sentOn).toBe(
        dev(b, "eth3").ifindex,
      );
    },
  );
});

describe("T8 variant (C.6): VF hot-plug with the master down", () => {
  it.each(ERAS)(
    "should enslave without opening, rename in every era, open on master up (%s)",
    (_e, v) => {
      const b = bootMachine(v);
      b.m.unplug("primary0");
      b.m.settle();
      const plug = during(b, () => b.m.plug("primary0"));
      expect(plug.filter((e) => /PRE_UP|NETDEV_UP/.test(e))).toEqual([]);
      expect(plug).toContain("log virtio_net virtio0 eth0: failover primary slave:eth3 registered");
      // R1 is not triggered; FO-NC stops at "master not running" (no open follows).
      const ren = during(b, () => expect(devChangeName(b.k, dev(b, "eth3"), "ens4")).toBe(0));
      expect(ren.filter((e) => /PRE_UP|NETDEV_UP/.test(e))).toEqual([]);
      // NF-OPEN: primary first, then standby, then the master's own RTM_NEWLINK.
      const up = during(b, () => expect(devOpen(b.k, dev(b, "eth0"))).toBe(0));
      expectInOrder(up, [
        "NETDEV_PRE_UP eth0",
        "NETDEV_PRE_UP ens4",
        "NETDEV_UP ens4",
        "NETDEV_PRE_UP eth1",
        "NETDEV_UP eth1",
        "RTM_NEWLINK eth0 UP",
        "NETDEV_UP eth0",
      ]);
    },
  );
});

describe("T9: VF hot-unplug with the master up", () => {
  it.each(ERAS)(
    "should close, unlink, announce FEATURES and delete in order in %s (%s)",
    (_e, v) => {
      const b = masterUp(v);
      const ev = during(b, () => b.m.unplug("primary0"));
      expectInOrder(ev, [
        "NETDEV_GOING_DOWN eth3",
        "RTM_NEWLINK eth3 master=eth0",
        "NETDEV_DOWN eth3",
        "NETDEV_CHANGELOWERSTATE eth3",
        "RTM_NEWLINK eth3 master=eth0",
        "NETDEV_UNREGISTER eth3",
        "NETDEV_PRECHANGEUPPER eth3",
        "NETDEV_CHANGEUPPER eth3",
        "NETDEV_FEAT_CHANGE eth0",
        "RTM_NEWLINK eth0 UP event=FEATURES",
        "log virtio_net virtio0 eth0: failover primary slave:eth3 unregistered",
        "RTM_DELLINK eth3",
        "uevent remove eth3",
      ]);
      // The unlink's CHANGEUPPER RTM is suppressed (UNREGISTERING): no RTM for eth3 between
      // UNREGISTER and the DELLINK, and the DELLINK names no master.
      const from = ev.indexOf("NETDEV_UNREGISTER eth3");
      const to = ev.indexOf("RTM_DELLINK eth3");
      expect(ev.slice(from, to).filter((e) => e.startsWith("RTM_NEWLINK eth3"))).toEqual([]);
      // The standby is xmit-ready: the master keeps its carrier and traffic moves to the standby.
      expect(dev(b, "eth0").carrier).toBe(true);
      expect(nfoInfo(dev(b, "eth0")).primary).toBeNull();
      expect(sendFrames(b.k, dev(b, "eth0"), { frames: 1, size: 100 }).sentOn).toBe(
        dev(b, "eth1").ifindex,
      );
      // NF-UNREG: the master's MTU range comes back from the standby (virtio: 68..65535).
      expect([dev(b, "eth0").minMtu, dev(b, "eth0").maxMtu]).toEqual([68, 65535]);
    },
  );

  it("should turn the master's carrier off when the standby is not xmit-ready either", () => {
    const b = masterUp("6.1");
    b.m.setLink("standby0", false);
    b.m.settle();
    expect(dev(b, "eth0").carrier).toBe(true); // still via the primary
    b.m.unplug("primary0");
    expect(dev(b, "eth0").carrier).toBe(false);
    const ev = during(b, () => b.m.settle());
    expect(ev).toContain("RTM_NEWLINK eth0 UP");
    expect(sendFrames(b.k, dev(b, "eth0"), { frames: 1, size: 100 }).sentOn).toBeNull();
  });
});

describe("T10: a second VF with the same MAC while a primary exists", () => {
  it.each(ERAS)("should log NF-PRE's refusal and leave it unenslaved in %s (%s)", (_e, v) => {
    const b = masterUp(v, VF2_VM);
    const ev = during(b, () => expect(b.m.plug("vf2")).toBe("plugged"));
    expectInOrder(ev, [
      "uevent add eth4",
      "NETDEV_REGISTER eth4",
      "log virtio_net virtio0 eth0: eth4 attempting to register as slave dev when primary already present",
      "RTM_NEWLINK eth4 change=~0",
    ]);
    expect(ev.filter((e) => /UPPER|PRE_UP|NETDEV_UP|FEAT_CHANGE|JOIN/.test(e))).toEqual([]);
    const vf2 = dev(b, "eth4");
    expect([vf2.uppers, vf2.rxHandler, roles(vf2), vf2.flags & IFF.UP]).toEqual([[], null, [], 0]);
    expect(nfoInfo(dev(b, "eth0")).primary).toBe(dev(b, "eth3").ifindex);
  });

  it("should accept the second VF as primary once the first is gone (only the slot is checked)", () => {
    const b = masterUp("6.1", VF2_VM);
    b.m.unplug("primary0");
    const ev = during(b, () => b.m.plug("vf2"));
    expect(ev).toContain("log virtio_net virtio0 eth0: failover primary slave:eth3 registered");
    expect(nfoInfo(dev(b, "eth0")).primary).toBe(dev(b, "eth3").ifindex);
  });
});

describe("T11: only PCI devices whose perm_addr matches can be primaries", () => {
  it.each(ERAS)(
    "should not enslave a non-PCI device with the MAC as perm_addr in %s (%s)",
    (_e, v) => {
      const b = masterUp(v);
      b.m.unplug("primary0");
      b.m.settle();
      for (const parent of [null, PARENTS.platform ?? null]) {
        const ev = during(b, () => {
          const d = genericEthCreate(b.k, { mac: FAILOVER_MAC, parent });
          expect(typeof d).not.toBe("number");
        });
        // NF-PRE step 2 refuses silently: no link, no log, no open.
        expect(ev.filter((e) => /UPPER|PRE_UP|log|FEAT_CHANGE|JOIN/.test(e))).toEqual([]);
        expect(nfoInfo(dev(b, "eth0")).primary).toBeNull();
      }
    },
  );

  it("should never consider a device whose dev_addr (not perm_addr) is the MAC", () => {
    const b = masterUp("6.1");
    b.m.unplug("primary0");
    const c = b.k.trace.length;
    const r = rtnlNewlink(b.k, {
      ifindex: 0,
      nlFlags: NLM_F.CREATE | NLM_F.EXCL,
      kind: "veth",
      attrs: { ifname: "v0", address: FAILOVER_MAC },
      peer: { ifname: "v1" },
    });
    expect(r.ret).toBe(0);
    const v0 = dev(b, "v0");
    expect([v0.devAddr, v0.permAddr === FAILOVER_MAC]).toEqual([FAILOVER_MAC, false]);
    const pci = genericEthCreate(b.k, { mac: "52:54:00:00:12:77", parent: PARENTS.pci ?? null });
    if (typeof pci === "number") throw new Error(`nic: ${pci}`);
    expect(devSetMacAddress(b.k, pci, FAILOVER_MAC)).toBe(0);
    expect(devOpen(b.k, pci)).toBe(0);
    devClose(b.k, pci);
    const ev = compact(b.k, b.k.trace.since(c));
    expect(ev.filter((e) => /UPPER|log|FEAT_CHANGE|JOIN|LOWERSTATE/.test(e))).toEqual([]);
    expect(failoverInstances(b.k)).toHaveLength(1);
    expect(nfoInfo(dev(b, "eth0")).primary).toBeNull();
  });
});

describe("T12: master down", () => {
  it.each(ERAS)(
    "should close the master's GOING_DOWN, primary, standby, then the master in %s (%s)",
    (_e, v) => {
      const b = masterUp(v);
      const ev = during(b, () => {
        expect(new IpProcess(b.k).run(["link", "set", "eth0", "down"]).status).toBe(0);
      });
      // Driver log lines (e1000e "NIC Link is Down") may sit anywhere in between.
      expect(ev.filter((e) => !e.startsWith("log "))).toEqual([
        "NETDEV_GOING_DOWN eth0",
        "NETDEV_GOING_DOWN eth3",
        "RTM_NEWLINK eth3 master=eth0",
        "NETDEV_DOWN eth3",
        "NETDEV_GOING_DOWN eth1",
        "RTM_NEWLINK eth1 master=eth0",
        "NETDEV_DOWN eth1",
        "RTM_NEWLINK eth0",
        "NETDEV_DOWN eth0",
      ]);
    },
  );
});
