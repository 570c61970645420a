// The search over a system's choice points (which enabled lane steps next).
//
// - `none`: plain depth-first enumeration of every interleaving (optionally with state hashing).
// - `dpor`: source-set dynamic partial-order reduction with sleep sets (Abdulla, Aronis,
//   Jonsson, Sagonas, "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1 "Source-
//   DPOR"). Each step's footprint gives the dependency relation; happens-before is tracked with
//   vector clocks; for every race e ⋖ e' the initials of notdep(e).e' are added to the backtrack
//   set of the state before e. Sleep sets carry the footprint of each sleeping lane's next step.
// - State hashing on top of DPOR (stateful DPOR) is made sound the conservative way: every
//   fully explored state keeps a summary (lane class → coarse resources) of the steps taken in
//   its subtree and the sleep set it was explored with; a revisit with a superset sleep set is
//   pruned after the summary is replayed as races against the whole current stack (a backtrack
//   point for the summarised lane class at every dependent earlier step).
// - Symmetry: the key is the system's canonical key; summaries and sleep sets are kept in
//   canonical/coarse form.

import { conflicts, copyResSet, mergeInto, ResourceTable, type ResSet } from "./footprint.ts";
import type { ExplorableSystem, StateKey, Violation } from "./system.ts";

/** How to search. */
export interface SearchOptions {
  /** Partial-order reduction: none (every interleaving) or dpor. Default dpor. */
  readonly reduction?: "none" | "dpor";
  /** Prune states already explored. Default true. */
  readonly hashing?: boolean;
  /** Canonicalise states under the system's symmetries before hashing. Default true. */
  readonly symmetry?: boolean;
  /**
   * What the state table stores: "fingerprint" (default; 64-bit hash compaction, when the
   * system has `fingerprint`) or "exact" (the system's whole canonical key text).
   */
  readonly keys?: "fingerprint" | "exact";
  /** Deepest path explored (steps). A path cut here makes the verdict "bounded". Default 2000. */
  readonly maxDepth?: number;
  /** Stop after this many states (nodes visited). */
  readonly maxStates?: number;
  /** Stop after this many ms of `now()`. */
  readonly timeLimitMs?: number;
  /** The wall clock for `timeLimitMs` and `elapsedMs` (injected: the model reads no clock). */
  readonly now?: () => number;
  /** Called every `progressEvery` states with the running statistics. */
  readonly onProgress?: (s: SearchStats) => void;
  readonly progressEvery?: number;
}

/** SPIN/TLC-style statistics. */
export interface SearchStats {
  /** Steps executed (fired transitions). */
  transitions: number;
  /** Nodes visited (states entered, revisits included). */
  states: number;
  /** Distinct states stored (hashing), else equal to `states`. */
  distinct: number;
  /** Revisits cut by state hashing. */
  revisits: number;
  /** Choices skipped because the lane was in the sleep set. */
  sleepPruned: number;
  /** Paths where every enabled lane was asleep (redundant, cut). */
  sleepBlocked: number;
  /** Complete interleavings (paths that reached quiescence). */
  executions: number;
  /** Deepest path seen. */
  maxDepth: number;
  /** Wall time, ms (0 without `now`). */
  elapsedMs: number;
}

/** A violation with the path that reaches it. */
export interface Found {
  readonly violation: Violation;
  /** Lanes fired from the start state, in order. */
  readonly path: string[];
}

/** The outcome of a search. */
export type SearchResult =
  | { readonly verdict: "verified"; readonly stats: SearchStats }
  | { readonly verdict: "violated"; readonly stats: SearchStats; readonly found: Found }
  | {
      readonly verdict: "bounded";
      readonly stats: SearchStats;
      readonly bound: "max-depth" | "max-states" | "time-limit";
    };

/** Fresh zeroed statistics. */
export function emptyStats(): SearchStats {
  return {
    transitions: 0,
    states: 0,
    distinct: 0,
    revisits: 0,
    sleepPruned: 0,
    sleepBlocked: 0,
    executions: 0,
    maxDepth: 0,
    elapsedMs: 0,
  };
}

/** Adds `b` into `a` (maxDepth: maximum). */
export function addStats(a: SearchStats, b: SearchStats): void {
  a.transitions += b.transitions;
  a.states += b.states;
  a.distinct += b.distinct;
  a.revisits += b.revisits;
  a.sleepPruned += b.sleepPruned;
  a.sleepBlocked += b.sleepBlocked;
  a.executions += b.executions;
  a.maxDepth = Math.max(a.maxDepth, b.maxDepth);
  a.elapsedMs += b.elapsedMs;
}

interface Ev {
  readonly lane: string;
  readonly laneId: number;
  /** The step's footprint as `fire` gave it. */
  readonly names: readonly string[];
  /** `names` as bits (the search's resource table). */
  readonly fp: ResSet;
  vc: number[];
  /** `fp` coarsened (computed when a summary is first replayed against it). */
  coarse: ResSet | null;
  /** The lane's class. */
  readonly cls: string;
}

interface Frame {
  readonly enabled: readonly string[];
  readonly backtrack: string[];
  readonly summary: Map<string, ResSet>;
}

interface Visit {
  done: boolean;
  sleep: Set<string>;
  summary: Map<string, ResSet>;
}

const STOP = 1;
const GO = 0;

class Stopped {
  readonly bound: "max-states" | "time-limit";
  constructor(bound: "max-states" | "time-limit") {
    this.bound = bound;
  }
}

/**
 * Explores every interleaving of `sys` from its current state (up to the reduction) and
 * checks its invariants at every state and at quiescence. The system is left in an
 * unspecified state.
 */
export function search<S>(sys: ExplorableSystem<S>, o: SearchOptions = {}): SearchResult {
  const dpor = (o.reduction ?? "dpor") === "dpor";
  const hashing = o.hashing ?? true;
  const symmetric = o.symmetry ?? true;
  const keyOf =
    (o.keys ?? "fingerprint") === "fingerprint" && sys.fingerprint
      ? (sym: boolean) => (sys.fingerprint as (s: boolean) => StateKey).call(sys, sym)
      : (sym: boolean) => sys.key(sym);
  const maxDepth = o.maxDepth ?? 2000;
  const now = o.now ?? (() => 0);
  const t0 = now();
  const stats = emptyStats();
  const every = o.progressEvery ?? 1000;
  const laneIds = new Map<string, number>();
  const events: Ev[] = [];
  const frames: Frame[] = [];
  const visited = new Map<string, Visit>();
  // Footprints and summaries are bit sets over this table's ids (src/explore/footprint.ts).
  const table = new ResourceTable();
  const coarseSet = (names: readonly string[]): ResSet =>
    table.of(names.map((r) => (r === "*" ? r : sys.coarse(r))));
  let depthCut = false;
  let found: Found | null = null;

  const laneId = (l: string): number => {
    let id = laneIds.get(l);
    if (id === undefined) {
      id = laneIds.size;
      laneIds.set(l, id);
    }
    return id;
  };
  const addBacktrack = (j: number, lanes: readonly string[]): void => {
    const f = frames[j] as Frame;
    for (const l of lanes)
      if (f.enabled.includes(l) && !f.backtrack.includes(l)) f.backtrack.push(l);
  };

  /** Race detection for the event just pushed (index n); also computes its vector clock. */
  const races = (n: number): void => {
    const e = events[n] as Ev;
    let acc: number[] = [];
    for (let j = n - 1; j >= 0; j--)
      if ((events[j] as Ev).laneId === e.laneId) {
        acc = [...(events[j] as Ev).vc];
        break;
      }
    for (let j = n - 1; j >= 0; j--) {
      const ej = events[j] as Ev;
      if (ej.laneId === e.laneId || !conflicts(ej.fp, e.fp)) continue;
      if (j <= (acc[ej.laneId] ?? -1)) continue;
      if (dpor) {
        // v = notdep(ej).e: the events after ej that do not happen after it, then e.
        const v: number[] = [];
        for (let k = j + 1; k < n; k++) if (j > ((events[k] as Ev).vc[ej.laneId] ?? -1)) v.push(k);
        const initials: string[] = [];
        const hbIn = (y: number, xVc: readonly number[]): boolean =>
          y <= (xVc[(events[y] as Ev).laneId] ?? -1);
        for (const [i, x] of v.entries()) {
          const xVc = (events[x] as Ev).vc;
          if (!v.slice(0, i).some((y) => hbIn(y, xVc))) initials.push((events[x] as Ev).lane);
        }
        if (!v.some((y) => hbIn(y, acc))) initials.push(e.lane);
        const f = frames[j] as Frame;
        if (!initials.some((q) => f.backtrack.includes(q))) {
          const q = initials.find((x) => f.enabled.includes(x));
          addBacktrack(j, q !== undefined ? [q] : f.enabled);
        }
      }
      acc = join(acc, ej.vc);
    }
    acc[e.laneId] = n;
    e.vc = acc;
  };

  /** A pruned revisit: its subtree's steps race with every dependent step on the stack. */
  const replaySummary = (summary: Map<string, ResSet>): void => {
    for (const [cls, res] of summary) {
      for (let j = events.length - 1; j >= 0; j--) {
        const ej = events[j] as Ev;
        const own = ej.cls;
        if (own === cls && own === ej.lane) continue; // the same lane: program order
        if (ej.coarse === null) ej.coarse = coarseSet(ej.names);
        if (!conflicts(ej.coarse, res)) continue;
        // A backtrack point for the summarised class's lanes there, else for every lane.
        const f = frames[j] as Frame;
        let any = false;
        for (const l of f.enabled)
          if (sys.laneClass(l) === cls) {
            any = true;
            if (!f.backtrack.includes(l)) f.backtrack.push(l);
          }
        if (!any) addBacktrack(j, f.enabled);
      }
    }
  };

  const mergeSummary = (into: Map<string, ResSet>, from: Map<string, ResSet>): void => {
    for (const [c, rs] of from) {
      const s = into.get(c);
      if (s === undefined) into.set(c, copyResSet(rs));
      else mergeInto(s, rs);
    }
  };

  /** Explores the current state; `known` is its `enabled()` when the caller has it already. */
  const explore = (sleep: Map<string, ResSet>, known?: string[]): number => {
    stats.states++;
    const depth = events.length;
    if (depth > stats.maxDepth) stats.maxDepth = depth;
    if (o.onProgress && stats.states % every === 0) {
      stats.elapsedMs = now() - t0;
      o.onProgress({ ...stats, distinct: hashing ? visited.size : stats.states });
    }
    if (o.maxStates !== undefined && stats.states > o.maxStates) throw new Stopped("max-states");
    // Every state: one state of a large scenario can take a second (a clock read is ~50 ns).
    if (o.timeLimitMs !== undefined && now() - t0 > o.timeLimitMs) throw new Stopped("time-limit");
    const en = known ?? sys.enabled();
    const bad = sys.check(en.length === 0);
    if (bad) {
      found = { violation: bad, path: events.map((e) => e.lane) };
      return STOP;
    }
    const summary = new Map<string, ResSet>();
    if (en.length === 0) {
      stats.executions++;
      frames.push({ enabled: en, backtrack: [], summary });
      frames.pop();
      return GO;
    }
    if (depth >= maxDepth) {
      depthCut = true;
      return GO;
    }
    let visit: Visit | null = null;
    if (hashing) {
      const k = keyOf(symmetric);
      const canonSleep = new Set([...sleep.keys()].map((l) => k.lane(l)));
      const v = visited.get(k.key);
      if (v?.done && [...v.sleep].every((l) => canonSleep.has(l))) {
        stats.revisits++;
        if (dpor) replaySummary(v.summary);
        mergeIntoParent(v.summary);
        return GO;
      }
      if (v && !v.done) {
        // On the current path (a cycle): explore without pruning.
      } else if (v) {
        v.done = false;
        v.sleep = new Set([...v.sleep].filter((l) => canonSleep.has(l)));
        visit = v;
      } else {
        visit = { done: false, sleep: canonSleep, summary: new Map() };
        visited.set(k.key, visit);
      }
    }
    const awake = en.filter((l) => !(dpor && sleep.has(l)));
    if (awake.length === 0) {
      stats.sleepBlocked++;
      if (visit) visit.done = true;
      return GO;
    }
    // A state with one awake lane is never returned to (a sleeping lane that a race adds to the
    // backtrack set is skipped, sleep sets only grow here): no snapshot.
    const snap = awake.length > 1 ? sys.save() : null;
    const frame: Frame = { enabled: en, backtrack: dpor ? [awake[0] as string] : [...en], summary };
    frames.push(frame);
    const mySleep = new Map(sleep);
    let first = true;
    let r = GO;
    for (let i = 0; i < frame.backtrack.length; i++) {
      const p = frame.backtrack[i] as string;
      if (dpor && mySleep.has(p)) {
        stats.sleepPruned++;
        continue;
      }
      if (!first) {
        if (snap === null) throw new Error("search: a second branch in a single-lane state");
        // The last branch that can ever be taken from this state (every enabled lane is in the
        // backtrack set already or asleep, so a race found below adds no branch that needs this
        // state again) takes the snapshot's own state instead of a copy of it.
        const last =
          i === frame.backtrack.length - 1 &&
          en.every((l) => frame.backtrack.includes(l) || mySleep.has(l));
        sys.restore(snap, last);
      }
      first = false;
      const names = sys.fire(p);
      const fp = table.of(names);
      stats.transitions++;
      let after: string[] | undefined;
      if (dpor) {
        // A step that disables another lane races with it: try that lane first here too.
        after = sys.enabled();
        for (const q of en)
          if (q !== p && !after.includes(q) && !frame.backtrack.includes(q))
            frame.backtrack.push(q);
      }
      events.push({
        lane: p,
        laneId: laneId(p),
        names,
        fp,
        vc: [],
        coarse: null,
        cls: sys.laneClass(p),
      });
      races(events.length - 1);
      const childSleep = new Map<string, ResSet>();
      if (dpor) for (const [q, qfp] of mySleep) if (!conflicts(qfp, fp)) childSleep.set(q, qfp);
      r = explore(childSleep, after);
      events.pop();
      addSummary(summary, sys.laneClass(p), names);
      if (r === STOP) break;
      if (dpor) mySleep.set(p, fp);
    }
    frames.pop();
    mergeIntoParent(summary);
    if (visit && r === GO) {
      visit.done = true;
      visit.summary = summary;
    }
    return r;
  };

  const addSummary = (s: Map<string, ResSet>, cls: string, names: readonly string[]): void => {
    const c = coarseSet(names);
    const set = s.get(cls);
    if (set === undefined) s.set(cls, c);
    else mergeInto(set, c);
  };
  const mergeIntoParent = (s: Map<string, ResSet>): void => {
    const parent = frames[frames.length - 1];
    if (parent) mergeSummary(parent.summary, s);
  };

  let stopped: Stopped | null = null;
  try {
    explore(new Map());
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    stopped = e;
  }
  stats.distinct = hashing ? visited.size : stats.states;
  stats.elapsedMs = now() - t0;
  if (found) return { verdict: "violated", stats, found };
  if (stopped) return { verdict: "bounded", stats, bound: stopped.bound };
  if (depthCut) return { verdict: "bounded", stats, bound: "max-depth" };
  return { verdict: "verified", stats };
}

function join(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = Math.max(a[i] ?? -1, b[i] ?? -1);
  return out;
}
