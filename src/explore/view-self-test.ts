// The state view's self-test (issue 14): random walks collect states whose keys are equal but
// whose concrete states differ (absolute clock, timers, anything the view leaves out); for each
// such pair, the same random continuations are run from both, and at every step the two must
// agree on the enabled lanes, the invariant verdict, the key and the footprint of the step.
// Equal keys with unequal futures would make state hashing prune a state whose future differs
// from the one explored, so this is what makes a view sound on the states it meets.

import { chooser } from "./explore.ts";
import type { ScenarioSystem } from "./scenario-system.ts";

/** How hard the self-test works (fixed counts: no time limit). */
export interface ViewSelfTestOptions {
  /** Random walks from the start state. */
  readonly walks: number;
  /** Seed of the walks and continuations (xorshift32). */
  readonly seed: number;
  /** Pairs of equal-key states to check at most. */
  readonly pairs: number;
  /** Random continuations per pair. */
  readonly continuations: number;
  /** Steps per continuation at most. */
  readonly depth: number;
  /** Steps per walk at most (default 400). */
  readonly walkDepth?: number;
}

/** A pair of equal-key states whose futures differ. */
export interface ViewMismatch {
  /** The two paths from the start state. */
  readonly a: readonly string[];
  readonly b: readonly string[];
  /** The continuation (lanes) up to and including the step where they differed. */
  readonly continuation: readonly string[];
  /** What differed: enabled lanes, invariant, key or footprint. */
  readonly what: "enabled" | "invariant" | "key" | "footprint";
  readonly left: string;
  readonly right: string;
}

/** The self-test's outcome. */
export interface ViewSelfTestResult {
  /** States visited by the walks (revisits included). */
  readonly visited: number;
  /** Distinct keys seen. */
  readonly keys: number;
  /** Pairs of states with equal keys and different concrete states found / checked. */
  readonly pairsFound: number;
  readonly pairsChecked: number;
  /** Continuation steps compared. */
  readonly steps: number;
  readonly mismatches: readonly ViewMismatch[];
}

/** One observation along a continuation. */
interface Obs {
  readonly enabled: string;
  readonly invariant: string;
  readonly key: string;
  readonly footprint: string;
}

/**
 * The concrete state behind a key: the key plus the absolute clock and every timer as it is
 * (what a view may abstract), so two states with equal keys and equal concrete texts are the
 * same as far as time goes.
 */
function concrete(sys: ScenarioSystem): string {
  const p = sys.p;
  const u = p.udev;
  return JSON.stringify([
    sys.key(false).key,
    p.w.now(),
    p.k.state.work.map((x) => [x.name, x.arg ?? null, x.due]),
    p.k.state.linkwatch,
    u ? Array.from({ length: u.workerCount }, (_, i) => u.workerReadyAt(i)) : null,
    u?.explorerTimes?.() ?? null,
    p.bringup?.explorerTimes() ?? null,
    p.script.readyAt(),
    p.qemu.readyAt(),
  ]);
}

/** Runs the view self-test on `sys` (which must be in its start state; it is left there). */
export function selfTestView(sys: ScenarioSystem, o: ViewSelfTestOptions): ViewSelfTestResult {
  const pick = chooser(o.seed);
  const start = sys.save();
  const seen = new Map<string, { path: string[]; concrete: string }>();
  const tried = new Set<string>();
  const mismatches: ViewMismatch[] = [];
  let visited = 0;
  let found = 0;
  let checked = 0;
  let steps = 0;
  const goTo = (path: readonly string[]): void => {
    sys.restore(start);
    for (const l of path) sys.fire(l);
  };
  const observe = (footprint: readonly string[] | null): Obs => {
    const en = sys.enabled();
    return {
      enabled: [...en].sort().join(","),
      invariant: sys.check(en.length === 0)?.invariant ?? "",
      key: sys.key(false).key,
      footprint: footprint ? [...footprint].sort().join(",") : "",
    };
  };
  /** Runs the continuation from the current state: chosen anew (lanes null) or replayed. */
  const run = (lanes: string[] | null): { lanes: string[]; obs: Obs[] } => {
    const out: Obs[] = [observe(null)];
    const taken: string[] = [];
    for (let d = 0; d < o.depth; d++) {
      const en = sys.enabled();
      if (en.length === 0 || sys.check(false)) break;
      let lane: string;
      if (lanes) {
        const l = lanes[d];
        if (l === undefined || !en.includes(l)) break;
        lane = l;
      } else lane = [...en].sort()[pick(en.length)] as string;
      taken.push(lane);
      out.push(observe(sys.fire(lane)));
    }
    return { lanes: taken, obs: out };
  };
  const checkPair = (a: readonly string[], b: readonly string[]): void => {
    checked++;
    for (let c = 0; c < o.continuations; c++) {
      goTo(a);
      const left = run(null);
      goTo(b);
      const right = run(left.lanes);
      const n = Math.max(left.obs.length, right.obs.length);
      for (let i = 0; i < n; i++) {
        steps++;
        const l = left.obs[i];
        const r = right.obs[i];
        const what = (["enabled", "invariant", "key", "footprint"] as const).find(
          (f) => l?.[f] !== r?.[f],
        );
        if (what === undefined) continue;
        mismatches.push({
          a,
          b,
          continuation: left.lanes.slice(0, i),
          what,
          left: l?.[what] ?? "(no step)",
          right: r?.[what] ?? "(no step)",
        });
        return;
      }
    }
  };
  for (let w = 0; w < o.walks && checked < o.pairs; w++) {
    sys.restore(start);
    const path: string[] = [];
    for (let d = 0; d <= (o.walkDepth ?? 400); d++) {
      visited++;
      const k = sys.key(false).key;
      const c = concrete(sys);
      const prev = seen.get(k);
      if (prev === undefined) seen.set(k, { path: [...path], concrete: c });
      else if (prev.concrete !== c && !tried.has(c)) {
        tried.add(c);
        found++;
        if (checked < o.pairs) {
          checkPair(prev.path, path);
          goTo(path);
        }
      }
      const en = sys.enabled();
      if (en.length === 0 || sys.check(false)) break;
      const lane = [...en].sort()[pick(en.length)] as string;
      path.push(lane);
      sys.fire(lane);
    }
  }
  sys.restore(start);
  return {
    visited,
    keys: seen.size,
    pairsFound: found,
    pairsChecked: checked,
    steps,
    mismatches,
  };
}
