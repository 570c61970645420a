// Saving and restoring a kernel in place, so an explorer can return to a choice point: the state
// (plain data, deep-copied), the trace's length, the generator's position and the code registry
// (modules loaded later add drivers, work handlers and notifiers to it). The derived cache is
// dropped and refills on demand. Nothing else in the kernel changes during a run: the model keeps
// no module-level or closure state.

import { clonePlain, sameKeys } from "../sim/clone.ts";
import type { RngState } from "../sim/rng.ts";
import {
  type CodeRegistry,
  createCache,
  type Kernel,
  type KernelState,
  type NetDriver,
  type NotifierFn,
  type RtnlLinkOps,
  type RxHandlerFn,
  type WorkFn,
} from "./kernel.ts";
import type { NetDevice } from "./netdevice.ts";
import type { KernelEvent } from "./trace-events.ts";

/** The code registry as it was: copies of its maps (the code itself is shared, never copied). */
interface RegistrySnapshot {
  readonly notifiers: readonly (readonly [string, NotifierFn])[];
  readonly drivers: readonly (readonly [string, NetDriver])[];
  readonly linkOps: readonly (readonly [string, RtnlLinkOps])[];
  readonly work: readonly (readonly [string, WorkFn])[];
  readonly rxHandlers: readonly (readonly [string, RxHandlerFn])[];
  /** Each module's value; a module's own `Map` (an ops table by name) also has its entries. */
  readonly modules: readonly {
    readonly key: string;
    readonly value: unknown;
    readonly entries: readonly (readonly [unknown, unknown])[] | null;
  }[];
  readonly deviceRenameFault: CodeRegistry["deviceRenameFault"];
}

/**
 * A kernel's saved state (`saveKernel`). It holds references to code (registry entries), so it
 * lives in memory only; `state` is a private deep copy that `loadKernel` copies again.
 */
export interface KernelSnapshot {
  readonly state: KernelState;
  /** Events in the trace when saved. */
  readonly traceLength: number;
  /** The last of those events, to tell whether the trace still holds them. */
  readonly traceLast: object | null;
  /** The generator's position, or null when `k.rng` has no `saveState` (then not restored). */
  readonly rng: RngState | null;
  readonly registry: RegistrySnapshot;
}

/**
 * Which parts of the kernel's state a caller knows to be equal to another state's (a caller that
 * tracks changes: the explorer's digests). `saveKernel` shares a base snapshot's copies of them;
 * `loadKernel` keeps the kernel's own records of them instead of copies of the saved ones.
 */
export interface KernelPartsSame {
  /** Device `ifindex` (an unlisted one with `unlisted`) is equal in both states. */
  readonly device: (ifindex: number, unlisted: boolean) => boolean;
  /**
   * Subsystem `name`'s state (`k.state.subsys[name]`) is equal in both states. The subsystems'
   * states are one part (they share objects: the failover module's instances are the PCI
   * functions'): shared or kept only when both states have the same subsystems and each is equal.
   */
  readonly subsys?: (name: string) => boolean;
}

/**
 * Copies that more than one snapshot holds (`saveKernel` with a base). A load with `last` hands a
 * snapshot's state to the kernel, which changes it in place: such a copy is copied again then.
 */
const SHARED_COPIES = new WeakSet<object>();

/**
 * The objects of `from` (a snapshot's state) that stand for equal objects of `to` (the kernel's
 * state, or another snapshot's), as `same` says: `out` maps each of `to`'s to `from`'s.
 */
function sameParts(
  to: KernelState,
  from: KernelState,
  same: KernelPartsSame,
  out: Map<object, unknown>,
): void {
  const devs = (a: Map<number, NetDevice>, b: Map<number, NetDevice>, unlisted: boolean) => {
    for (const [i, d] of a) {
      const o = b.get(i);
      if (o !== undefined && same.device(i, unlisted)) out.set(d, o);
    }
  };
  devs(to.devices, from.devices, false);
  devs(to.unlisted, from.unlisted, true);
  if (sameSubsys(to, from, same)) out.set(to.subsys, from.subsys);
}

/** Whether `same` says every subsystem's state is equal in `a` and `b` (the same subsystems). */
function sameSubsys(a: KernelState, b: KernelState, same: KernelPartsSame | undefined): boolean {
  const sub = same?.subsys;
  if (sub === undefined) return false;
  const names = Object.keys(a.subsys);
  return sameKeys(names, Object.keys(b.subsys)) && names.every((n) => sub(n));
}

function lastEvent(k: Kernel): KernelEvent | null {
  return k.trace.events[k.trace.length - 1] ?? null;
}

/**
 * Saves everything about `k` that changes during a run: a deep copy of `k.state`, the trace's
 * length, the position of `k.rng` (if it has `saveState`) and the code registry's entries.
 * The clock is not included (the scheduler's owner saves it).
 *
 * With `base` (a snapshot of this kernel, not loaded with `last`), the parts `base.same` names
 * as equal to the base's are not copied: the new snapshot holds the base's copies of them
 * (snapshots never change their copies; a load with `last` copies a shared one first).
 *
 * @example
 * const snap = saveKernel(k);
 * devChangeName(k, eth0, "eth1");
 * loadKernel(k, snap); // eth0 again, the rename's trace events gone
 */
export function saveKernel(
  k: Kernel,
  base?: { readonly snap: KernelSnapshot; readonly same: KernelPartsSame },
): KernelSnapshot {
  const r = k.registry;
  let state: KernelState;
  if (base === undefined || SPENT.has(base.snap)) state = clonePlain(k.state);
  else {
    const reuse = new Map<object, unknown>();
    sameParts(k.state, base.snap.state, base.same, reuse);
    for (const c of reuse.values()) SHARED_COPIES.add(c as object);
    state = clonePlain(k.state, reuse);
  }
  return {
    state,
    traceLength: k.trace.length,
    traceLast: lastEvent(k),
    rng: k.rng.saveState?.() ?? null,
    registry: registrySnapshot(r, base === undefined ? undefined : base.snap.registry),
  };
}

/** `m`'s entries: `last` itself when it holds exactly those, in order (no new array). */
function entriesOf<K, V>(
  m: ReadonlyMap<K, V>,
  last: readonly (readonly [K, V])[] | undefined,
): readonly (readonly [K, V])[] {
  return last !== undefined && holdsExactly(m, last) ? last : [...m];
}

/** Whether `m` holds exactly `entries`: the same keys and values, in the same order. */
function holdsExactly<K, V>(m: ReadonlyMap<K, V>, entries: readonly (readonly [K, V])[]): boolean {
  if (m.size !== entries.length) return false;
  let i = 0;
  for (const [key, v] of m) {
    const e = entries[i++] as readonly [K, V];
    if (e[0] !== key || e[1] !== v) return false;
  }
  return true;
}

/**
 * The code registry's entries; `last` (a snapshot's, whose arrays are never changed) where the
 * registry still holds the same ones: a search saves at every choice point, and modules rarely
 * load in between.
 */
function registrySnapshot(r: CodeRegistry, last: RegistrySnapshot | undefined): RegistrySnapshot {
  const modules = [...r.modules].map(([key, value], i) => {
    const o = last?.modules[i];
    const entries =
      value instanceof Map
        ? entriesOf(
            value as Map<unknown, unknown>,
            o?.key === key && o.value === value ? (o.entries ?? undefined) : undefined,
          )
        : null;
    return o !== undefined && o.key === key && o.value === value && o.entries === entries
      ? o
      : { key, value, entries };
  });
  const out: RegistrySnapshot = {
    notifiers: entriesOf(r.notifiers, last?.notifiers),
    drivers: entriesOf(r.drivers, last?.drivers),
    linkOps: entriesOf(r.linkOps, last?.linkOps),
    work: entriesOf(r.work, last?.work),
    rxHandlers: entriesOf(r.rxHandlers, last?.rxHandlers),
    modules:
      last !== undefined &&
      last.modules.length === modules.length &&
      modules.every((m, i) => m === last.modules[i])
        ? last.modules
        : modules,
    deviceRenameFault: r.deviceRenameFault,
  };
  return last !== undefined &&
    (Object.keys(out) as (keyof RegistrySnapshot)[]).every((f) => out[f] === last[f])
    ? last
    : out;
}

/** Snapshots loaded with `last`: their state now belongs to a kernel. */
const SPENT = new WeakSet<KernelSnapshot>();

/**
 * Makes `m` hold exactly `entries`, in order. A search restores the registry at every branch and
 * it rarely changed there: a Map that already holds them (the same keys and values, in order) is
 * left alone, which is several times cheaper than clearing and filling it.
 */
function refill<K, V>(m: Map<K, V>, entries: readonly (readonly [K, V])[]): void {
  if (holdsExactly(m, entries)) return;
  m.clear();
  for (const [key, v] of entries) m.set(key, v);
}

/**
 * Restores `k` to `snap` in place: the same `Kernel` object (and the same state, trace and
 * registry objects) afterwards holds a fresh deep copy of the saved state, the trace cut back to
 * the saved length, the generator at its saved position and the registry as it was. The derived
 * cache is reset. A snapshot can be loaded any number of times, until a load with `last`:
 * that one hands the saved state itself to the kernel instead of a copy (a search's last
 * branch from a state needs no copy), and the snapshot cannot be loaded again.
 * `keep` says which of the kernel's current device records (and subsystem states) are equal to
 * the saved ones (a caller that tracks changes: the explorer's field digests): those stay, the
 * others are copied from the snapshot (with `last`: the others are the snapshot's own records,
 * but for those another snapshot shares, which are copied). A device record shares no object
 * with the rest of the state (test/kernel/device-sharing.test.ts checks that on random `ip`
 * batches and walks), nor do the subsystems' states (`k.state.subsys`, one part).
 *
 * @throws RangeError if the trace no longer holds the snapshot's events (the snapshot was taken
 *   on a branch that a later load abandoned): only a snapshot of this branch or an ancestor of it
 *   can be loaded.
 * @throws TypeError if the snapshot has a generator position but `k.rng` has no `loadState`.
 * @throws TypeError if the snapshot was loaded with `last` before.
 */
export function loadKernel(
  k: Kernel,
  snap: KernelSnapshot,
  last = false,
  keep?: KernelPartsSame,
): void {
  if (SPENT.has(snap))
    throw new TypeError("Cannot load the kernel snapshot: it was loaded as the last time before");
  if (
    snap.traceLength > k.trace.length ||
    (snap.traceLength > 0 && k.trace.events[snap.traceLength - 1] !== snap.traceLast)
  ) {
    throw new RangeError(
      `Cannot load the kernel snapshot: the trace no longer holds its first "${snap.traceLength}" events`,
    );
  }
  if (snap.rng !== null) {
    if (!k.rng.loadState)
      throw new TypeError("Cannot load the kernel snapshot: k.rng has no loadState");
    k.rng.loadState(snap.rng);
  }
  k.trace.truncate(snap.traceLength);
  if (last) {
    SPENT.add(snap);
    const st = snap.state;
    // A copy another snapshot holds too is not handed over (the kernel changes what it is
    // handed): the kernel keeps its own record where `keep` says it is equal, else it gets a
    // copy. The kernel's records are its own (a save copies them or shares a snapshot's copy,
    // never refers to them), as when a load that is not the last keeps them.
    const own = (m: Map<number, NetDevice>, cur: Map<number, NetDevice>, unlisted: boolean) => {
      for (const [i, d] of m)
        if (SHARED_COPIES.has(d)) {
          const c = cur.get(i);
          m.set(i, c !== undefined && keep?.device(i, unlisted) === true ? c : clonePlain(d));
        }
    };
    own(st.devices, k.state.devices, false);
    own(st.unlisted, k.state.unlisted, true);
    let subsys = st.subsys;
    if (SHARED_COPIES.has(subsys))
      subsys = sameSubsys(st, k.state, keep) ? k.state.subsys : clonePlain(subsys);
    Object.assign(k.state, st);
    k.state.subsys = subsys;
  } else if (keep === undefined) Object.assign(k.state, clonePlain(snap.state));
  else {
    const same = new Map<object, unknown>();
    sameParts(snap.state, k.state, keep, same);
    Object.assign(k.state, clonePlain(snap.state, same));
  }
  const r = k.registry;
  const s = snap.registry;
  refill(r.notifiers, s.notifiers);
  refill(r.drivers, s.drivers);
  refill(r.linkOps, s.linkOps);
  refill(r.work, s.work);
  refill(r.rxHandlers, s.rxHandlers);
  for (const m of s.modules)
    if (m.entries !== null) refill(m.value as Map<unknown, unknown>, m.entries);
  refill(
    r.modules,
    s.modules.map((m) => [m.key, m.value] as const),
  );
  r.deviceRenameFault = s.deviceRenameFault;
  k.cache = createCache();
}
