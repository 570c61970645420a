// Model-based property tests of the kernel core: random operation sequences across the 5.0,
// 6.1 and 6.18 profiles with the invariants checked after every step, and an fc.commands test
// against a tiny reference model (names, ifindexes, up state). The seed is in the describe
// title; replay a failure with IFSIM_SEED=<seed> (and fast-check's printed path).

import { test as fcTest } from "@fast-check/vitest";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  devChangeName,
  devClose,
  devGetFlags,
  devOpen,
  devSetMtu,
  devValidName,
  err,
  errnoName,
  genericEthCreate,
  IFF,
  IFF_PRIV,
  isNegErrno,
  type Kernel,
  type KernelEvent,
  NET_NAME,
  type NetDevice,
  NLM_F,
  netdevMasterUpperDevGet,
  netdevMasterUpperDevLink,
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netdevUpperDevUnlink,
  netifCarrierOff,
  netifCarrierOn,
  notifierFromErrno,
  rtnlDellink,
  rtnlLinkprop,
  rtnlNewlink,
  rtnlSetlink,
  runDueWork,
  unregisterNetdevice,
} from "../../src/kernel/index.ts";
import type { VirtualClock } from "../../src/sim/index.ts";
import { addRecorder, boot, type Recorder } from "../_helpers/kernel.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const PROFILES = ["5.0", "6.1", "6.18"] as const;
/** Runs per profile × mean sequence length ≈ 3 × 200 × 200 = 1.2·10^5 operations per run. */
const RUNS_PER_PROFILE = 200;
const MIN_LEN = 150;
const MAX_LEN = 250;

// ─── operations ──────────────────────────────────────────────────────────────────────────

// x01, x+1, a01b: digits a %d template scans but does not print back (leading zero, sign).
const FIXED = [
  "a",
  "b",
  "c",
  "eth0",
  "eth1",
  "veth0",
  "veth1",
  "ifb0",
  "lo",
  "x1",
  "alt0",
  "ä",
  "x01",
  "x+1",
  "a01b",
  "a2b",
];
const TEMPLATES = ["veth%d", "eth%d", "x%d", "a%db", "abcdefghijklm%d"];
const INVALID = ["a:b", ".", "..", "a/b", "a b", "", "0123456789abcdef", "x%d%d", "x%s", "à"];

/** A name: fixed, %d template, invalid, or the current name of device #ref (a collision). */
type NameSpec = string | { ref: number };

const nameArb: fc.Arbitrary<NameSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIXED) },
  { weight: 3, arbitrary: fc.constantFrom(...TEMPLATES) },
  { weight: 2, arbitrary: fc.constantFrom(...INVALID) },
  { weight: 2, arbitrary: fc.nat(40).map((ref) => ({ ref })) },
);
/** Creation names stay ≤ 15 bytes (rtnetlink truncates longer ones; see the report). */
const createNameArb: fc.Arbitrary<NameSpec | null> = fc.oneof(
  fc.constant(null),
  fc.constantFrom(...FIXED, ...TEMPLATES, "a:b", ".", "x%d%d"),
);

type Op =
  | { t: "veth"; a: NameSpec | null; b: NameSpec | null }
  | { t: "ifb"; a: NameSpec | null }
  | { t: "nic"; a: NameSpec | null; openError: boolean }
  | { t: "del"; i: number }
  | { t: "rename"; i: number; name: NameSpec; veto: boolean }
  | { t: "setname"; i: number; name: NameSpec; up: boolean }
  | { t: "up"; i: number }
  | { t: "down"; i: number }
  | { t: "mtu"; i: number; mtu: number }
  | { t: "link"; i: number; j: number }
  | { t: "unlink"; i: number }
  | { t: "rx"; i: number }
  | { t: "unrx"; i: number }
  | { t: "carrier"; i: number; on: boolean }
  | { t: "linkwatch"; dt: number }
  | { t: "altname"; i: number; name: NameSpec }
  | { t: "delalt"; i: number; k: number }
  | { t: "liveok"; i: number };

const idx = fc.nat(40);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("veth" as const), a: createNameArb, b: createNameArb }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("ifb" as const), a: createNameArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("nic" as const),
      a: createNameArb,
      openError: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("del" as const), i: idx }) },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("rename" as const),
      i: idx,
      name: nameArb,
      veto: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("setname" as const),
      i: idx,
      name: nameArb,
      up: fc.boolean(),
    }),
  },
  { weight: 6, arbitrary: fc.record({ t: fc.constant("up" as const), i: idx }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("down" as const), i: idx }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("mtu" as const),
      i: idx,
      mtu: fc.constantFrom(0, 67, 68, 1280, 1500, 9000, 65536),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("link" as const), i: idx, j: idx }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("unlink" as const), i: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("rx" as const), i: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("unrx" as const), i: idx }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("carrier" as const), i: idx, on: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("linkwatch" as const),
      dt: fc.constantFrom(0, 1, 500_000, 1_000_000, 2_000_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("altname" as const), i: idx, name: nameArb }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("delalt" as const), i: idx, k: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("liveok" as const), i: idx }) },
);

// ─── the system under test ───────────────────────────────────────────────────────────────

interface World {
  k: Kernel & { clock: VirtualClock };
  /** A bond/bridge-like listener: drops links and rx handlers of a device at UNREGISTER. */
  listener: Recorder;
  /** ifindex first seen for each device object (ifindexes never change). */
  ifindexOf: WeakMap<NetDevice, number>;
  /** Trace position already checked. */
  cursor: number;
  /** Per-ifindex trace state for the well-formedness checks. */
  registered: Set<number>;
  preUp: Set<number>;
  macSeq: number;
}

function newWorld(version: string): World {
  const k = boot(version);
  // Like a master driver, the listener holds its own references to devices: in a batch
  // unregister (a veth pair) the other end is already unlisted when UNREGISTER runs.
  const seen = new Map<number, NetDevice>();
  const listener = addRecorder(k, {
    name: "property-listener",
    extra: (kk, ev, d) => {
      if (ev === "NETDEV_REGISTER") seen.set(d.ifindex, d);
      if (ev !== "NETDEV_UNREGISTER") return 0;
      for (const u of [...d.uppers]) {
        const up = seen.get(u.ifindex);
        if (up) netdevUpperDevUnlink(kk, d, up);
      }
      for (const l of [...d.lowers]) {
        const low = seen.get(l.ifindex);
        if (low) netdevUpperDevUnlink(kk, low, d);
      }
      netdevRxHandlerUnregister(kk, d);
      seen.delete(d.ifindex);
      return 0;
    },
  });
  listener.calls.length = 0;
  return {
    k,
    listener,
    ifindexOf: new WeakMap(),
    cursor: k.trace.length,
    registered: new Set(k.state.devices.keys()),
    preUp: new Set(),
    macSeq: 1,
  };
}

function devices(w: World): NetDevice[] {
  return [...w.k.state.devices.values()].sort((a, b) => a.ifindex - b.ifindex);
}

function pick(w: World, i: number): NetDevice {
  const ds = devices(w);
  return ds[i % ds.length] as NetDevice;
}

function resolve(w: World, n: NameSpec): string {
  return typeof n === "string" ? n : pick(w, n.ref).name;
}

function expectRet(ret: number, what: string): void {
  if (ret < 0 && !isNegErrno(ret)) throw new Error(`${what}: unknown errno ${ret}`);
}

/** Applies one operation; checks the operation's own post-conditions. */
function apply(w: World, op: Op): void {
  const k = w.k;
  switch (op.t) {
    case "veth": {
      const r = rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "veth",
        attrs: op.a === null ? {} : { ifname: resolve(w, op.a) },
        peer: op.b === null ? {} : { ifname: resolve(w, op.b) },
      });
      expectRet(r.ret, "veth");
      return;
    }
    case "ifb": {
      const r = rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        attrs: op.a === null ? {} : { ifname: resolve(w, op.a) },
      });
      expectRet(r.ret, "ifb");
      return;
    }
    case "nic": {
      const n = w.macSeq++;
      const name = op.a === null ? undefined : resolve(w, op.a);
      const r = genericEthCreate(k, {
        mac: `02:00:00:01:${((n >> 8) & 0xff).toString(16).padStart(2, "0")}:${(n & 0xff).toString(16).padStart(2, "0")}`,
        ...(name !== undefined && devValidNameLen(name) ? { name } : {}),
        ...(op.openError ? { openError: err("EIO") } : {}),
      });
      if (typeof r === "number") expectRet(r, "nic");
      return;
    }
    case "del": {
      const d = pick(w, op.i);
      if (d.ifindex === 1) {
        expect(rtnlDellink(k, { ifindex: 1 }).ret).toBe(err("EOPNOTSUPP"));
        return;
      }
      if (d.kind !== null) expect(rtnlDellink(k, { ifindex: d.ifindex }).ret).toBe(0);
      else unregisterNetdevice(k, d);
      expect(k.state.devices.has(d.ifindex)).toBe(false);
      return;
    }
    case "rename": {
      const d = pick(w, op.i);
      const name = resolve(w, op.name);
      const before = { name: d.name, type: d.nameAssignType };
      const blocked =
        (d.flags & IFF.UP) !== 0 &&
        (k.profile.renameWhileUp === "never" ||
          (k.profile.renameWhileUp === "flag" && !(d.privFlags & IFF_PRIV.IFF_LIVE_RENAME_OK)));
      const oracle = name.includes("%") && devValidName(name) && !blocked ? v2Alloc(k, name) : null;
      if (op.veto)
        w.listener.veto = (ev) =>
          ev === "NETDEV_CHANGENAME" ? notifierFromErrno(err("EPERM")) : undefined;
      const ret = devChangeName(k, d, name);
      w.listener.veto = null;
      expectRet(ret, "rename");
      if (ret < 0) {
        // Every failure (UP, invalid, taken, vetoed) leaves the name and its assign type.
        expect(d.name).toBe(before.name);
        expect(d.nameAssignType).toBe(before.type);
      } else if (name === before.name) {
        expect([ret, d.nameAssignType]).toEqual([0, before.type]);
      } else {
        expect(op.veto).toBe(false);
        expect(d.nameAssignType).toBe(NET_NAME.RENAMED);
        if (name.includes("%")) {
          expect(oracle).not.toBeNull();
          expect([ret, d.name]).toEqual([
            k.profile.allocNameReturnsZero ? 0 : (oracle as { unit: number }).unit,
            (oracle as { name: string }).name,
          ]);
        } else {
          expect([ret, d.name]).toEqual([0, name]);
        }
      }
      if (oracle && "err" in oracle && !op.veto) expect(ret).toBe(oracle.err);
      if (ret === err("EBUSY")) {
        expect(d.flags & IFF.UP).toBe(IFF.UP);
        expect(k.profile.renameWhileUp).not.toBe("always");
      }
      return;
    }
    case "setname": {
      const d = pick(w, op.i);
      const name = resolve(w, op.name);
      if (new TextEncoder().encode(name).length > 15) return;
      const r = rtnlSetlink(k, {
        ifindex: d.ifindex,
        attrs: { ifname: name },
        ifiFlags: op.up ? IFF.UP : 0,
        ifiChange: IFF.UP,
      });
      expectRet(r.ret, "setname");
      return;
    }
    case "up": {
      const d = pick(w, op.i);
      expectRet(devOpen(k, d), "up");
      return;
    }
    case "down":
      devClose(k, pick(w, op.i));
      return;
    case "mtu":
      expectRet(devSetMtu(k, pick(w, op.i), op.mtu), "mtu");
      return;
    case "link": {
      const a = pick(w, op.i);
      const b = pick(w, op.j);
      const had = netdevMasterUpperDevGet(k, a);
      const ret = netdevMasterUpperDevLink(k, a, b);
      expectRet(ret, "link");
      if (ret === 0) expect(netdevMasterUpperDevGet(k, a)).toBe(b);
      else expect(netdevMasterUpperDevGet(k, a)).toBe(had);
      return;
    }
    case "unlink": {
      const a = pick(w, op.i);
      const m = netdevMasterUpperDevGet(k, a);
      if (m) netdevUpperDevUnlink(k, a, m);
      return;
    }
    case "rx": {
      const d = pick(w, op.i);
      const had = d.rxHandler;
      const ret = netdevRxHandlerRegister(k, d, "test", null);
      expect(ret).toBe(had === null ? 0 : err("EBUSY"));
      return;
    }
    case "unrx":
      netdevRxHandlerUnregister(k, pick(w, op.i));
      return;
    case "carrier": {
      const d = pick(w, op.i);
      if (op.on) netifCarrierOn(k, d);
      else netifCarrierOff(k, d);
      expect(d.carrier).toBe(op.on);
      return;
    }
    case "linkwatch":
      k.clock.advanceBy(op.dt);
      while (runDueWork(k)) {
        /* run everything due */
      }
      return;
    case "altname": {
      const d = pick(w, op.i);
      const r = rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: resolve(w, op.name) });
      if (!k.profile.altnames) expect(r.ret).toBe(err("EOPNOTSUPP"));
      expectRet(r.ret, "altname");
      return;
    }
    case "delalt": {
      const d = pick(w, op.i);
      const name = d.altnames[op.k % Math.max(1, d.altnames.length)] ?? d.name;
      const r = rtnlLinkprop(k, { op: "del", ifindex: d.ifindex, altname: name });
      if (!k.profile.altnames) expect(r.ret).toBe(err("EOPNOTSUPP"));
      else if (name === d.name) expect(r.ret).toBe(err("EINVAL"));
      else expect(r.ret).toBe(0);
      return;
    }
    case "liveok":
      pick(w, op.i).privFlags ^= IFF_PRIV.IFF_LIVE_RENAME_OK;
      return;
  }
}

/**
 * V2 written out from the spec, as an oracle for the model's cached allocator: scan every
 * device's name (and, ~6.7+, altnames) with the template as a scanf format, keep units that
 * print back exactly (truncated to 15 bytes), take the lowest free unit, and refuse a
 * candidate that is in use (primary or altname) with -ENFILE.
 */
function v2Alloc(k: Kernel, tmpl: string): { unit: number; name: string } | { err: number } {
  const p = tmpl.indexOf("%");
  if (tmpl[p + 1] !== "d" || tmpl.includes("%", p + 2)) return { err: err("EINVAL") };
  const prefix = tmpl.slice(0, p);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const print = (i: number): string => {
    const b = enc.encode(tmpl.replace("%d", String(i)));
    return b.length <= 15 ? dec.decode(b) : dec.decode(b.subarray(0, 15));
  };
  const used = new Set<number>();
  const inUse = new Set<string>();
  for (const d of k.state.devices.values()) {
    const scanned = k.profile.allocNameReturnsZero ? [d.name, ...d.altnames] : [d.name];
    for (const n of [d.name, ...d.altnames]) inUse.add(n);
    for (const n of scanned) {
      if (!n.startsWith(prefix)) continue;
      const m = /^[+-]?\d+/.exec(n.slice(prefix.length));
      if (!m) continue;
      const i = Number(m[0]);
      if (i >= 0 && i < 32768 && print(i) === n) used.add(i);
    }
  }
  let unit = 0;
  while (used.has(unit)) unit++;
  const name = print(unit);
  return inUse.has(name) ? { err: err("ENFILE") } : { unit, name };
}

function devValidNameLen(name: string): boolean {
  return new TextEncoder().encode(name).length < 16;
}

// ─── invariants ──────────────────────────────────────────────────────────────────────────

/** A cheap assertion for the per-step invariants (vitest's expect is too slow for 10^5 steps). */
function check(cond: boolean, msg: () => string): void {
  if (!cond) throw new Error(`Invariant violated: ${msg()}`);
}

function checkState(w: World): void {
  const k = w.k;
  let nameCount = 0;
  for (const [i, d] of k.state.devices) {
    // ifindexes unique (map key = record) and stable for each device record.
    check(d.ifindex === i, () => `${d.name}: ifindex ${d.ifindex} under key ${i}`);
    const first = w.ifindexOf.get(d);
    if (first === undefined) w.ifindexOf.set(d, d.ifindex);
    else check(d.ifindex === first, () => `${d.name}: ifindex changed ${first} → ${d.ifindex}`);
    check(d.regState === "REGISTERED", () => `${d.name}: listed in state ${d.regState}`);
    // V1: every name valid; every primary name and altname maps to its device (R9).
    check(devValidName(d.name), () => `invalid name ${JSON.stringify(d.name)}`);
    check(
      k.state.names.get(d.name) === i,
      () => `name hash: ${d.name} → ${k.state.names.get(d.name)}`,
    );
    nameCount++;
    if (!k.profile.altnames)
      check(d.altnames.length === 0, () => `${d.name}: altnames before v5.5`);
    for (const a of d.altnames) {
      check(k.state.names.get(a) === i, () => `name hash: altname ${a} → ${k.state.names.get(a)}`);
      nameCount++;
    }
    // Links: at most one master; upper/lower lists symmetric.
    let masters = 0;
    for (const u of d.uppers) {
      if (u.master) masters++;
      const up = k.state.devices.get(u.ifindex);
      check(
        up?.lowers.some((l) => l.ifindex === i && l.master === u.master) === true,
        () => `${d.name}: upper ${u.ifindex} has no matching lower link`,
      );
    }
    check(masters <= 1, () => `${d.name}: ${masters} masters`);
    for (const l of d.lowers) {
      const low = k.state.devices.get(l.ifindex);
      check(
        low?.uppers.some((u) => u.ifindex === i && u.master === l.master) === true,
        () => `${d.name}: lower ${l.ifindex} has no matching upper link`,
      );
    }
    // IFF_UP ⇔ running; F1: RUNNING / LOWER_UP / DORMANT only while running, LOWER_UP = carrier.
    check(((d.flags & IFF.UP) !== 0) === d.running, () => `${d.name}: IFF_UP ≠ running`);
    const f = devGetFlags(d);
    if (!d.running) {
      check((f & (IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT)) === 0, () => `${d.name}: F1 down`);
    } else {
      check(((f & IFF.LOWER_UP) !== 0) === d.carrier, () => `${d.name}: F1 LOWER_UP ≠ carrier`);
    }
  }
  // Names unique: the hash holds exactly these names and nothing else.
  check(
    k.state.names.size === nameCount,
    () => `name hash has ${k.state.names.size} entries, devices ${nameCount}`,
  );
}

function checkTrace(w: World, evs: readonly KernelEvent[]): void {
  let prev: KernelEvent | undefined = w.k.trace.events[w.cursor - 1];
  for (const e of evs) {
    switch (e.type) {
      case "kernel.warn":
        throw new Error(`WARN: ${e.text}`);
      case "kernel.uevent":
        if (e.action === "add") {
          check(!w.registered.has(e.ifindex), () => `add uevent for registered ${e.ifindex}`);
          w.registered.add(e.ifindex);
        }
        if (e.action === "move") check(w.registered.has(e.ifindex), () => `move of ${e.ifindex}`);
        break;
      case "kernel.notify":
        if (e.event === "NETDEV_PRE_UP") w.preUp.add(e.ifindex);
        if (e.event === "NETDEV_UP") {
          check(w.preUp.has(e.ifindex), () => `NETDEV_UP ${e.dev} without PRE_UP`);
          w.preUp.delete(e.ifindex);
        }
        if (e.event === "NETDEV_DOWN") w.preUp.delete(e.ifindex);
        if (e.event === "NETDEV_CHANGENAME") {
          check(
            prev?.type === "kernel.uevent" &&
              prev.action === "move" &&
              prev.ifindex === e.ifindex &&
              prev.interface === e.dev,
            () => `NETDEV_CHANGENAME ${e.dev} not right after its move uevent`,
          );
        }
        if (e.event === "NETDEV_UNREGISTER") {
          check(w.registered.has(e.ifindex), () => `UNREGISTER of unregistered ${e.dev}`);
          w.registered.delete(e.ifindex);
          w.preUp.delete(e.ifindex);
        }
        break;
      case "kernel.rtnl":
        if (e.msg === "RTM_NEWLINK") {
          check(
            w.registered.has(e.link.ifindex),
            () => `RTM_NEWLINK for unregistered ${e.link.ifname}`,
          );
        } else {
          check(
            !w.registered.has(e.link.ifindex),
            () => `RTM_DELLINK before UNREGISTER ${e.link.ifname}`,
          );
          check(e.link.master === null, () => `RTM_DELLINK of ${e.link.ifname} names a master`);
        }
        break;
      case "kernel.log":
        break;
    }
    prev = e;
  }
}

function step(w: World, op: Op): void {
  apply(w, op);
  const evs = w.k.trace.since(w.cursor);
  checkTrace(w, evs);
  w.cursor = w.k.trace.length;
  checkState(w);
}

// ─── properties ──────────────────────────────────────────────────────────────────────────

let totalOps = 0;

describe(`kernel core invariants (seed ${SEED})`, () => {
  for (const version of PROFILES) {
    it(`should keep V1, the name hash, ifindexes, links, F1 and a well-formed trace on ${version}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: MIN_LEN, maxLength: MAX_LEN }), (ops) => {
          const w = newWorld(version);
          checkState(w);
          for (const op of ops) step(w, op);
          totalOps += ops.length;
        }),
        { seed: SEED, numRuns: RUNS_PER_PROFILE },
      );
    });
  }

  afterAll(() => {
    // Reported in the test output; asserted below so that a shrunken config cannot go unnoticed.
    console.log(`kernel properties: ${totalOps} operations`);
  });

  it("should have run at least 10^5 operations", () => {
    expect(totalOps).toBeGreaterThanOrEqual(100_000);
  });
});

// ─── fc.commands against a tiny reference model ──────────────────────────────────────────

interface RefDev {
  ifindex: number;
  up: boolean;
}
/** lo has no rtnl_link_ops: it can be renamed but not deleted. */
const LO = 1;
interface RefModel {
  version: string;
  devs: Map<string, RefDev>;
  lastIfindex: number;
}
interface Real {
  k: Kernel;
}

function refValid(name: string): boolean {
  return devValidName(name);
}

function refAlloc(m: RefModel, tmpl: string): string {
  const p = tmpl.indexOf("%");
  const pre = tmpl.slice(0, p);
  const suf = tmpl.slice(p + 2);
  for (let i = 0; ; i++) {
    const n = `${pre}${i}${suf}`;
    if (!m.devs.has(n)) return n;
  }
}

function byName(r: Real, name: string): NetDevice {
  const d = [...r.k.state.devices.values()].find((x) => x.name === name);
  if (!d) throw new Error(`no device ${name}`);
  return d;
}

function sameState(m: RefModel, r: Real): void {
  const real = [...r.k.state.devices.values()].map((d) => [
    d.name,
    d.ifindex,
    (d.flags & IFF.UP) !== 0,
  ]);
  const ref = [...m.devs].map(([n, d]) => [n, d.ifindex, d.up]);
  const key = (x: unknown[]) => String(x[1]);
  expect(real.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
    ref.sort((a, b) => key(a).localeCompare(key(b))),
  );
}

class AddIfb implements fc.Command<RefModel, Real> {
  readonly name: string | null;
  constructor(name: string | null) {
    this.name = name;
  }
  check(): boolean {
    return true;
  }
  run(m: RefModel, r: Real): void {
    const want = this.name ?? "ifb%d";
    const ret = rtnlNewlink(r.k, {
      ifindex: 0,
      nlFlags: NLM_F.CREATE | NLM_F.EXCL,
      kind: "ifb",
      attrs: this.name === null ? {} : { ifname: this.name },
    }).ret;
    let expected: number = 0;
    if (!refValid(want)) expected = err("EINVAL");
    else if (!want.includes("%") && m.devs.has(want)) expected = err("EEXIST");
    expect(errnoName(ret) ?? ret).toBe(errnoName(expected) ?? expected);
    if (expected === 0) {
      const name = want.includes("%") ? refAlloc(m, want) : want;
      m.lastIfindex++;
      m.devs.set(name, { ifindex: m.lastIfindex, up: false });
    }
    sameState(m, r);
  }
  toString(): string {
    return `ifb(${this.name ?? ""})`;
  }
}

class Rename implements fc.Command<RefModel, Real> {
  readonly from: number;
  readonly to: string;
  constructor(from: number, to: string) {
    this.from = from;
    this.to = to;
  }
  check(m: RefModel): boolean {
    return m.devs.size > 0;
  }
  run(m: RefModel, r: Real): void {
    const names = [...m.devs.keys()].sort();
    const from = names[this.from % names.length] as string;
    const d = m.devs.get(from) as RefDev;
    const ret = devChangeName(r.k, byName(r, from), this.to);
    let expected: number;
    let newName = from;
    const e0e1 = r.k.profile.renameWhileUp !== "always";
    if (d.up && e0e1) expected = err("EBUSY");
    else if (this.to === from) expected = 0;
    else if (!refValid(this.to)) expected = err("EINVAL");
    else if (this.to.includes("%")) {
      newName = refAlloc(m, this.to);
      expected = r.k.profile.allocNameReturnsZero ? 0 : Number(newName.match(/\d+/)?.[0]);
    } else if (m.devs.has(this.to)) expected = err("EEXIST");
    else {
      expected = 0;
      newName = this.to;
    }
    expect(ret).toBe(expected);
    if (ret >= 0 && newName !== from) {
      m.devs.delete(from);
      m.devs.set(newName, d);
    }
    sameState(m, r);
  }
  toString(): string {
    return `rename(#${this.from} → ${JSON.stringify(this.to)})`;
  }
}

class SetUp implements fc.Command<RefModel, Real> {
  readonly which: number;
  readonly up: boolean;
  constructor(which: number, up: boolean) {
    this.which = which;
    this.up = up;
  }
  check(m: RefModel): boolean {
    return m.devs.size > 0;
  }
  run(m: RefModel, r: Real): void {
    const names = [...m.devs.keys()].sort();
    const name = names[this.which % names.length] as string;
    const d = byName(r, name);
    if (this.up) expect(devOpen(r.k, d)).toBe(0);
    else devClose(r.k, d);
    (m.devs.get(name) as RefDev).up = this.up;
    sameState(m, r);
  }
  toString(): string {
    return `${this.up ? "up" : "down"}(#${this.which})`;
  }
}

class Del implements fc.Command<RefModel, Real> {
  readonly which: number;
  constructor(which: number) {
    this.which = which;
  }
  check(m: RefModel): boolean {
    return m.devs.size > 1;
  }
  run(m: RefModel, r: Real): void {
    const names = [...m.devs]
      .filter(([, d]) => d.ifindex !== LO)
      .map(([n]) => n)
      .sort();
    const name = names[this.which % names.length] as string;
    expect(rtnlDellink(r.k, { ifindex: 0, ifname: name }).ret).toBe(0);
    m.devs.delete(name);
    sameState(m, r);
  }
  toString(): string {
    return `del(#${this.which})`;
  }
}

const refName = fc.constantFrom(
  "a",
  "b",
  "ifb0",
  "ifb1",
  "lo",
  "x%d",
  "ifb%d",
  "a:b",
  "",
  "0123456789abcdef",
);
const commands = fc.commands(
  [
    fc
      .option(fc.constantFrom("a", "b", "ifb0", "ifb1", "lo", "x%d", "a:b"), { nil: null })
      .map((n) => new AddIfb(n)),
    fc.tuple(fc.nat(10), refName).map(([i, n]) => new Rename(i, n)),
    fc.tuple(fc.nat(10), fc.boolean()).map(([i, u]) => new SetUp(i, u)),
    fc.nat(10).map((i) => new Del(i)),
  ],
  { maxCommands: 60 },
);

describe(`kernel vs reference model (seed ${SEED})`, () => {
  fcTest.prop([fc.constantFrom(...PROFILES), commands], { seed: SEED, numRuns: 300 })(
    "should agree on names, ifindexes, up state and errnos",
    (version, cmds) => {
      const k = boot(version);
      const m: RefModel = {
        version,
        devs: new Map([["lo", { ifindex: 1, up: false }]]),
        lastIfindex: 1,
      };
      fc.modelRun(() => ({ model: m, real: { k } }), cmds);
    },
  );
});
