// Model-based property tests of failover (spec §B8/§B9, §C) on the failover VM plus a second
// same-MAC VF ("vf2", plugged on request): random mixes of hot-plug/unplug, master and slave
// up/down, renames to valid and invalid names, QMP set_link, time passing and traffic through
// the master, in E0 "5.0", E1 "6.1" and E2 "6.18", with the invariants checked after every step.
// The seed is in the describe title; replay a failure with IFSIM_SEED=<seed> (plus the path
// fast-check prints).

import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  devChangeName,
  devClose,
  devOpen,
  devValidName,
  err,
  failoverInstances,
  IFF,
  IFF_PRIV,
  isNegErrno,
  type Kernel,
  NET_FAILOVER_RX_HANDLER,
  type NetDevice,
  nfoInfo,
  receiveFrames,
  registerNetdeviceNotifier,
  rtnlSetlink,
  runDueWork,
  sendFrames,
  slaveIsStandby,
} from "../../src/kernel/index.ts";
import { FAILOVER_MAC, MachineError, type MachineSpec } from "../../src/machine/index.ts";
import { type Booted, bootMachine, failoverVmWith } from "../_helpers/machine.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const ERAS = ["5.0", "6.1", "6.18"] as const;
const RUNS_PER_ERA = 600;
const MIN_LEN = 60;
const MAX_LEN = 140;

/** The failover VM with a second e1000e VF carrying the failover MAC on bus 1 (T10). */
const VF2_VM: MachineSpec = failoverVmWith([
  { addr: "0000:01:00.0", model: "e1000e", id: "vf2", mac: FAILOVER_MAC, atBoot: false },
]);

// ─── roles: devices are found by what they are, never by their (changing) names ──────────

type Role = "master" | "standby" | "primary0" | "vf2" | "plain";
const SLAVE_ROLES = ["standby", "primary0", "vf2", "plain"] as const;
const PLUGGABLE = ["primary0", "vf2"] as const;
const LINKS = ["standby0", "primary0", "vf2", "net1"] as const;

function masterOf(k: Kernel): NetDevice {
  const inst = failoverInstances(k);
  if (inst.length !== 1) throw new Error(`expected one failover instance, found ${inst.length}`);
  const m = k.state.devices.get((inst[0] as { master: number }).master);
  if (!m) throw new Error("failover master is not registered");
  return m;
}

function roleDev(k: Kernel, role: Role): NetDevice | null {
  const master = masterOf(k);
  if (role === "master") return master;
  for (const d of k.state.devices.values()) {
    if (d === master) continue;
    if (role === "standby" && d.parent?.id === master.parent?.id) return d;
    if (role === "primary0" && d.parent?.id === "0000:02:00.0") return d;
    if (role === "vf2" && d.parent?.id === "0000:01:00.0") return d;
    if (role === "plain" && d.permAddr === "52:54:00:00:12:99") return d;
  }
  return null;
}

/** How often the interesting situations came up (printed, and checked to be reached at all). */
const COV = {
  /** Steps that ended with the master running and no deferred work: the carrier check ran. */
  settledRunning: 0,
  /** …of which the master's carrier was a leftover of NF-OPEN (see World.staleCarrier). */
  staleCarrier: 0,
  /** Successful renames of an UP device. */
  upRenames: 0,
  /** Renames that NF-NC answered by opening the (down) slave. */
  reopenedByRename: 0,
  /** Steps that ended with vf2 as the primary. */
  vf2Primary: 0,
};

// ─── operations ───────────────────────────────────────────────────────────────────────

const VALID = ["ens4", "ens5", "eth0", "eth1", "eth2", "eth3", "eth4", "sbyx", "prix", "a.b-c_d"];
const TEMPLATES = ["eth%d", "ens%d", "sby%d"];
const INVALID = ["", ".", "..", "a b", "a/b", "a:b", "0123456789abcdef", "x%d%d", "x%s", "\t"];

/** A new name: valid, a `%d` template, invalid, random, or another device's current name. */
type NameSpec = string | { ref: Role };
const nameArb: fc.Arbitrary<NameSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VALID) },
  { weight: 1, arbitrary: fc.constantFrom(...TEMPLATES) },
  { weight: 2, arbitrary: fc.constantFrom(...INVALID) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom("master", "standby", "primary0", "plain").map((r) => ({
      ref: r as Role,
    })),
  },
);

type Op =
  | { t: "plug"; id: (typeof PLUGGABLE)[number] }
  | { t: "unplug"; id: (typeof PLUGGABLE)[number] }
  | { t: "master"; up: boolean; viaNetlink: boolean }
  | { t: "slave"; role: (typeof SLAVE_ROLES)[number]; up: boolean }
  | { t: "rename"; role: Role; name: NameSpec }
  | { t: "setLink"; id: (typeof LINKS)[number]; up: boolean }
  | { t: "time"; ms: number }
  | { t: "settle" }
  | { t: "xmit"; frames: number }
  | { t: "rx"; role: "standby" | "primary0" | "vf2" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("plug" as const), id: fc.constantFrom(...PLUGGABLE) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("unplug" as const), id: fc.constantFrom(...PLUGGABLE) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("master" as const),
      up: fc.boolean(),
      viaNetlink: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("slave" as const),
      role: fc.constantFrom(...SLAVE_ROLES),
      up: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("rename" as const),
      role: fc.constantFrom<Role>("master", ...SLAVE_ROLES),
      name: nameArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("setLink" as const),
      id: fc.constantFrom(...LINKS),
      up: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("time" as const),
      ms: fc.constantFrom(0, 1, 100, 1000, 2500, 5000),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "settle" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("xmit" as const),
      frames: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("rx" as const),
      role: fc.constantFrom("standby" as const, "primary0" as const, "vf2" as const),
    }),
  },
);

// ─── the system under test ──────────────────────────────────────────────────────────────

interface World {
  readonly b: Booted;
  readonly era: "E0" | "E1" | "E2";
  /** Trace position already checked. */
  cursor: number;
  /**
   * The master's carrier may be left on without an xmit-ready slave: NF-OPEN only ever turns it
   * on and NF-STOP leaves it (measured: 5.134 shows no NO-CARRIER record for the master when it
   * comes back up). True from a master open that found no ready slave while its carrier was on,
   * until the next NF-LC (a recorded slave's UP/DOWN/CHANGE while the master runs).
   */
  staleCarrier: boolean;
}

function anyXmitReady(k: Kernel, master: NetDevice): boolean {
  const info = nfoInfo(master);
  return [info.primary, info.standby].some((i) => {
    const d = i === null ? undefined : k.state.devices.get(i);
    return d?.running === true && d.carrier;
  });
}

function recorded(k: Kernel, d: NetDevice): boolean {
  const info = nfoInfo(masterOf(k));
  return d.ifindex === info.primary || d.ifindex === info.standby;
}

function newWorld(version: string): World {
  const b = bootMachine(version, VF2_VM);
  const w: World = { b, era: b.k.profile.era, cursor: 0, staleCarrier: false };
  // A listener after failover in the chain: sees each event once NF-LC / NF-OPEN have run.
  registerNetdeviceNotifier(b.k, { name: "property-carrier-watch", priority: 0 }, (k, ev, d) => {
    if (!["NETDEV_UP", "NETDEV_DOWN", "NETDEV_CHANGE"].includes(ev)) return 0;
    const master = masterOf(k);
    if (d === master && ev === "NETDEV_UP") {
      w.staleCarrier = master.carrier && !anyXmitReady(k, master);
    } else if (d !== master && master.running && recorded(k, d)) {
      w.staleCarrier = false;
    }
    return 0;
  });
  w.cursor = b.k.trace.length;
  return w;
}

function resolve(k: Kernel, n: NameSpec): string {
  return typeof n === "string" ? n : (roleDev(k, n.ref)?.name ?? "eth0");
}

function checkRet(ret: number, what: string): void {
  if (ret < 0 && !isNegErrno(ret)) throw new Error(`${what}: unknown errno ${ret}`);
}

/** A cheap assertion (vitest's expect is too slow for this many steps). */
function check(cond: boolean, msg: () => string): void {
  if (!cond) throw new Error(`Invariant violated: ${msg()}`);
}

function isUp(d: NetDevice): boolean {
  return (d.flags & IFF.UP) !== 0;
}

/** Applies one operation and checks its own post-conditions. */
function apply(w: World, op: Op): void {
  const { k, m, clock } = w.b;
  switch (op.t) {
    case "plug": {
      if (m.isPresent(op.id)) {
        let threw = false;
        try {
          m.plug(op.id);
        } catch (e) {
          threw = e instanceof MachineError;
        }
        check(threw, () => `plug of present ${op.id} did not throw MachineError`);
        return;
      }
      check(m.plug(op.id) === "plugged", () => `${op.id} stayed hidden`);
      return;
    }
    case "unplug":
      if (!m.isPresent(op.id)) return;
      m.unplug(op.id);
      check(roleDev(k, op.id) === null, () => `${op.id} still has a netdev after unplug`);
      return;
    case "master": {
      const master = masterOf(k);
      if (op.viaNetlink) {
        const r = rtnlSetlink(k, {
          ifindex: master.ifindex,
          attrs: {},
          ifiFlags: op.up ? IFF.UP : 0,
          ifiChange: IFF.UP,
        });
        checkRet(r.ret, "master setlink");
      } else if (op.up) checkRet(devOpen(k, master), "master open");
      else devClose(k, master);
      if (!op.up) check(!isUp(master), () => "master still up after close");
      return;
    }
    case "slave": {
      const d = roleDev(k, op.role);
      if (!d) return;
      if (op.up) checkRet(devOpen(k, d), "slave open");
      else devClose(k, d);
      return;
    }
    case "rename": {
      const d = roleDev(k, op.role);
      if (!d) return;
      const name = resolve(k, op.name);
      const before = {
        name: d.name,
        up: isUp(d),
        liveOk: (d.privFlags & IFF_PRIV.IFF_LIVE_RENAME_OK) !== 0,
      };
      const wasRecorded = d.driver !== "net_failover" && recorded(k, d);
      const ret = devChangeName(k, d, name);
      checkRet(ret, "rename");
      // R1 per era.
      const busy = before.up && (w.era === "E0" || (w.era === "E1" && !before.liveOk));
      if (busy)
        check(ret === err("EBUSY"), () => `rename of UP ${before.name}: ${ret}, want -EBUSY`);
      else
        check(
          ret !== err("EBUSY"),
          () => `rename of ${before.name} (up=${before.up}): -EBUSY in ${w.era}`,
        );
      if (w.era === "E1" && before.up && wasRecorded)
        check(ret !== err("EBUSY"), () => `E1: UP failover slave ${before.name} not renameable`);
      if (ret < 0) check(d.name === before.name, () => `failed rename changed ${before.name}`);
      // NF-NC: a renamed slave of a running master is open afterwards (C.6).
      const master = masterOf(k);
      if (ret >= 0 && before.up && d.name !== before.name) COV.upRenames++;
      if (ret >= 0 && !before.up && isUp(d)) COV.reopenedByRename++;
      if (ret >= 0 && d.name !== before.name && wasRecorded && master.running)
        check(isUp(d), () => `renamed slave ${d.name} left down under a running master`);
      return;
    }
    case "setLink":
      if (!m.isPresent(op.id)) return;
      m.setLink(op.id, op.up);
      return;
    case "time": {
      const target = clock.now() + op.ms * 1000;
      for (;;) {
        while (runDueWork(k)) {}
        const due = k.state.work.reduce<number | null>(
          (a, x) => (a === null || x.due < a ? x.due : a),
          null,
        );
        if (due === null || due > target) break;
        clock.advanceTo(Math.max(due, clock.now()));
      }
      clock.advanceTo(target);
      return;
    }
    case "settle":
      m.settle();
      check(k.state.work.length === 0, () => "work left after settle");
      return;
    case "xmit": {
      const master = masterOf(k);
      const info = nfoInfo(master);
      const primary = info.primary === null ? null : (k.state.devices.get(info.primary) ?? null);
      const standby = info.standby === null ? null : (k.state.devices.get(info.standby) ?? null);
      const ready = (d: NetDevice | null): boolean => d?.running === true && d.carrier;
      const via = ready(primary) ? primary : ready(standby) ? standby : null;
      const out = sendFrames(k, master, { frames: op.frames, size: 100 });
      if (!master.running || !master.txActive || via === null) {
        check(out.sentOn === null, () => `frames left through ${out.sentOn} with no xmit path`);
      } else {
        check(
          out.sentOn === null || out.sentOn === via.ifindex,
          () => `NF-XMIT used ${out.sentOn}, want ${via.name}`,
        );
        if (via.txActive)
          check(out.sentOn === via.ifindex, () => `NF-XMIT dropped on ready ${via.name}`);
      }
      return;
    }
    case "rx": {
      const d = roleDev(k, op.role);
      if (!d) return;
      const master = masterOf(k);
      const info = nfoInfo(master);
      const out = receiveFrames(k, d, { frames: 1, size: 100 });
      if (!d.running) check(out.deliveredTo === null, () => `down ${d.name} received`);
      else if (!recorded(k, d)) check(out.deliveredTo === d.ifindex, () => `unenslaved ${d.name}`);
      else if (d.ifindex === info.standby && info.primary !== null)
        check(
          out.deliveredTo === null,
          () => `standby frame with a primary reached ${out.deliveredTo}`,
        );
      else check(out.deliveredTo === master.ifindex, () => `slave frame not re-targeted to master`);
      return;
    }
  }
}

// ─── invariants ─────────────────────────────────────────────────────────────────────────

function checkState(w: World): void {
  const k = w.b.k;
  // No WARN_ON in the trace.
  for (const e of k.trace.since(w.cursor))
    check(e.type !== "kernel.warn", () => `WARN: ${e.type === "kernel.warn" ? e.text : ""}`);
  w.cursor = k.trace.length;

  const master = masterOf(k);
  const info = nfoInfo(master);
  // At most one primary and one standby, each a registered, distinct device.
  const slots = [info.primary, info.standby].filter((i): i is number => i !== null);
  check(new Set(slots).size === slots.length, () => "primary and standby are the same device");
  for (const [slot, i] of [
    ["primary", info.primary],
    ["standby", info.standby],
  ] as const) {
    if (i === null) continue;
    const s = k.state.devices.get(i);
    check(s !== undefined, () => `${slot} ${i} is not registered`);
    const d = s as NetDevice;
    const up = d.uppers.filter((u) => u.master);
    check(
      up.length === 1 && up[0]?.ifindex === master.ifindex,
      () => `${slot} ${d.name}: master link ${JSON.stringify(d.uppers)}`,
    );
    check(d.permAddr === master.permAddr, () => `${slot} ${d.name}: perm_addr ${d.permAddr}`);
    check(
      d.rxHandler === NET_FAILOVER_RX_HANDLER && d.rxHandlerData === master.ifindex,
      () => `${slot} ${d.name}: rx handler ${d.rxHandler}/${d.rxHandlerData}`,
    );
    check(
      slaveIsStandby(d, master) === (slot === "standby"),
      () => `${d.name} sits in the ${slot} slot with the other role`,
    );
    if (slot === "primary") check(d.parent?.bus === "pci", () => `primary ${d.name} is not PCI`);
  }
  check(
    master.lowers.length === slots.length &&
      master.lowers.every((l) => l.master && slots.includes(l.ifindex)),
    () => `master lowers ${JSON.stringify(master.lowers)} vs slots ${JSON.stringify(slots)}`,
  );
  check((master.privFlags & IFF_PRIV.IFF_FAILOVER) !== 0, () => "master lost IFF_FAILOVER");
  check(master.uppers.length === 0, () => "master has an upper device");

  if (info.primary !== null && info.primary === roleDev(k, "vf2")?.ifindex) COV.vf2Primary++;
  const names = new Set<string>();
  for (const d of k.state.devices.values()) {
    check(devValidName(d.name), () => `invalid name ${JSON.stringify(d.name)}`);
    check(!names.has(d.name), () => `duplicate name ${d.name}`);
    names.add(d.name);
    check(k.state.names.get(d.name) === d.ifindex, () => `name hash for ${d.name}`);
    if (d === master) continue;
    check((d.privFlags & IFF_PRIV.IFF_FAILOVER) === 0, () => `${d.name} has IFF_FAILOVER`);
    const isSlave = slots.includes(d.ifindex);
    const linked = d.uppers.some((u) => u.master && u.ifindex === master.ifindex);
    check(linked === isSlave, () => `${d.name}: linked=${linked} recorded=${isSlave}`);
    const has = (f: number) => (d.privFlags & f) !== 0;
    check(has(IFF_PRIV.IFF_FAILOVER_SLAVE) === isSlave, () => `${d.name}: IFF_FAILOVER_SLAVE`);
    check(
      has(IFF_PRIV.IFF_LIVE_RENAME_OK) === (w.era === "E1" && isSlave),
      () => `${d.name}: IFF_LIVE_RENAME_OK in ${w.era} (slave=${isSlave})`,
    );
    check(
      has(IFF_PRIV.IFF_NO_ADDRCONF) === (w.era === "E2" && isSlave),
      () => `${d.name}: IFF_NO_ADDRCONF in ${w.era} (slave=${isSlave})`,
    );
  }

  // Master carrier vs. its slaves, once everything has settled.
  if (master.running && k.state.work.length === 0) {
    const ready = anyXmitReady(k, master);
    COV.settledRunning++;
    if (master.carrier && !ready) COV.staleCarrier++;
    check(!ready || master.carrier, () => "a slave is xmit-ready but the master has no carrier");
    check(
      !master.carrier || ready || w.staleCarrier,
      () => "master carrier on without an xmit-ready slave (and not left over from NF-OPEN)",
    );
  }
}

// ─── properties ───────────────────────────────────────────────────────────────────────

let totalOps = 0;

describe(`failover invariants (seed ${SEED})`, () => {
  for (const version of ERAS) {
    it(`should keep the failover invariants under random operations on ${version}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: MIN_LEN, maxLength: MAX_LEN }), (ops) => {
          const w = newWorld(version);
          checkState(w);
          for (const op of ops) {
            apply(w, op);
            checkState(w);
          }
          totalOps += ops.length;
        }),
        { seed: SEED, numRuns: RUNS_PER_ERA },
      );
    });
  }

  afterAll(() => {
    console.log(`failover properties: ${totalOps} operations`, JSON.stringify(COV));
  });

  it("should have run at least 10^5 operations and reached the interesting states", () => {
    expect(totalOps).toBeGreaterThanOrEqual(100_000);
    expect(COV.settledRunning).toBeGreaterThan(1000);
    expect(COV.upRenames).toBeGreaterThan(100);
    expect(COV.reopenedByRename).toBeGreaterThan(10);
    expect(COV.vf2Primary).toBeGreaterThan(100);
  });
});

// ─── the checker itself ─────────────────────────────────────────────────────────────────

/** A world with the master up and everything settled. */
function settledUp(version: string): World {
  const w = newWorld(version);
  apply(w, { t: "master", up: true, viaNetlink: true });
  apply(w, { t: "settle" });
  checkState(w);
  return w;
}

describe("the failover invariant checker", () => {
  it("should accept the master's carrier left over by NF-OPEN (kernel behaviour, not a bug)", () => {
    // Master down; the standby is opened by hand and loses its link; no primary; master up:
    // NF-OPEN finds the standby already up (dev_open is a no-op, so no NF-LC) and nothing
    // xmit-ready, and it never turns the carrier off. The real 6.1 kernel keeps the master's
    // carrier across down/up the same way (capture 5.134: no NO-CARRIER record for eth0).
    const w = settledUp("6.1");
    const k = w.b.k;
    for (const op of [
      { t: "master", up: false, viaNetlink: false },
      { t: "slave", role: "standby", up: true },
      { t: "setLink", id: "standby0", up: false },
      { t: "unplug", id: "primary0" },
      { t: "settle" },
      { t: "master", up: true, viaNetlink: false },
      { t: "settle" },
    ] as Op[]) {
      apply(w, op);
      checkState(w);
    }
    const master = masterOf(k);
    expect([master.running, master.carrier, anyXmitReady(k, master), w.staleCarrier]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    // The next NF-LC (the standby's link comes back) makes the carrier right again.
    apply(w, { t: "setLink", id: "standby0", up: true });
    apply(w, { t: "settle" });
    checkState(w);
    expect([master.carrier, w.staleCarrier]).toEqual([true, false]);
  });

  it.each([
    [
      "IFF_LIVE_RENAME_OK on a non-slave in E1",
      "6.1",
      (w: World) => {
        (roleDev(w.b.k, "plain") as NetDevice).privFlags |= IFF_PRIV.IFF_LIVE_RENAME_OK;
      },
      /IFF_LIVE_RENAME_OK/,
    ],
    [
      "IFF_LIVE_RENAME_OK on a slave in E2",
      "6.18",
      (w: World) => {
        (roleDev(w.b.k, "standby") as NetDevice).privFlags |= IFF_PRIV.IFF_LIVE_RENAME_OK;
      },
      /IFF_LIVE_RENAME_OK/,
    ],
    [
      "IFF_NO_ADDRCONF on a slave in E1",
      "6.1",
      (w: World) => {
        (roleDev(w.b.k, "primary0") as NetDevice).privFlags |= IFF_PRIV.IFF_NO_ADDRCONF;
      },
      /IFF_NO_ADDRCONF/,
    ],
    [
      "a recorded slave that lost its master link",
      "5.0",
      (w: World) => {
        const s = roleDev(w.b.k, "standby") as NetDevice;
        s.uppers = [];
      },
      /master link/,
    ],
    [
      "a slave with another perm_addr",
      "6.1",
      (w: World) => {
        (roleDev(w.b.k, "primary0") as NetDevice).permAddr = "52:54:00:00:00:01";
      },
      /perm_addr/,
    ],
    [
      "a master without carrier while a slave is xmit-ready",
      "6.18",
      (w: World) => {
        masterOf(w.b.k).carrier = false;
      },
      /xmit-ready but the master has no carrier/,
    ],
    [
      "a master with carrier and no ready slave",
      "6.1",
      (w: World) => {
        for (const r of ["standby", "primary0"] as const)
          (roleDev(w.b.k, r) as NetDevice).carrier = false;
      },
      /master carrier on without/,
    ],
    [
      "a WARN in the trace",
      "6.1",
      (w: World) => {
        w.b.k.trace.emit({ type: "kernel.warn", text: "test" });
      },
      /WARN: test/,
    ],
    [
      "two devices with one name",
      "6.1",
      (w: World) => {
        (roleDev(w.b.k, "plain") as NetDevice).name = (roleDev(w.b.k, "standby") as NetDevice).name;
      },
      /duplicate name|name hash/,
    ],
  ] as const)("should reject %s", (_what, version, corrupt, msg) => {
    const w = settledUp(version);
    corrupt(w);
    expect(() => checkState(w)).toThrow(msg);
  });
});
