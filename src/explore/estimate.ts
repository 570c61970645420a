// `ifsim explore --estimate`: the expected size of a search before running it, from seeded random
// walks (each from the start state, a uniformly random enabled lane at every step, to quiescence,
// a violation or the depth bound).
//
// - Distinct states: each walk is a sampling unit and each state key (the search's key, under
//   symmetry when it is on) a species; Chao's incidence estimator (Chao2, bias-corrected: Chao
//   1987, Colwell & Coddington 1994) S = S_obs + ((m−1)/m)·Q1(Q1−1)/(2(Q2+1)), with m walks, Q1
//   the states seen in exactly one walk and Q2 in exactly two. It extrapolates from how often
//   walks meet states others met; walks favour states near the start, so it is a lower estimate
//   when the space is much larger than the walks (the --help says how it did on the examples).
// - Transitions: distinct states × the mean number of enabled lanes over the states the walks
//   met (what a search with hashing and no reduction fires; DPOR fires fewer, and a violation
//   stops the search early).
// - Knuth's estimator (Knuth 1975, "Estimating the efficiency of backtrack programs"): along a walk
//   with branching b1, b2, …, the tree of all interleavings has on average 1 + b1 + b1·b2 + …
//   nodes and b1·b2·…·bk complete interleavings: the size of `--reduction none --no-hashing`.
// - Time: the transitions at the walks' own speed (a step, its key and the invariants).

import type { ScenarioDoc } from "../scenario/schema.ts";
import { chooser, type ExploreConfig, systemFor } from "./explore.ts";

/** What to sample. */
export interface EstimateOptions {
  readonly walks: number;
  /** Seed of the walk choices (xorshift32, as the probe's). */
  readonly seed: number;
  readonly maxDepth: number;
  readonly symmetry: boolean;
  /** Wall clock (ms) for the speed. */
  readonly now: () => number;
}

/** The expected size of the search of one configuration. */
export interface SizeEstimate {
  readonly walks: number;
  /** Distinct state keys the walks met. */
  readonly seen: number;
  /** Seen in exactly one walk, in exactly two. */
  readonly q1: number;
  readonly q2: number;
  /** Chao2 estimate of the reachable distinct states. */
  readonly distinct: number;
  /** Mean enabled lanes over the states the walks met. */
  readonly meanEnabled: number;
  /** distinct × meanEnabled. */
  readonly transitions: number;
  /** Knuth: mean tree size (nodes) and complete interleavings of the naive search. */
  readonly treeStates: number;
  readonly interleavings: number;
  /** Steps the walks took and their wall time (ms). */
  readonly steps: number;
  readonly ms: number;
  /** transitions at the walks' speed, ms. */
  readonly timeMs: number;
  /**
   * More than half the states met were met by one walk only: the walks have seen a small part of
   * the space and `distinct` (and what follows from it) is a lower bound, not an estimate.
   */
  readonly lowerBound: boolean;
  /** Walks that ended in a violation (the search would stop at the first). */
  readonly violating: number;
  /** Walks cut by maxDepth. */
  readonly cut: number;
}

/** Estimates the size of the search of `sc` under `c` from `o.walks` seeded random walks. */
export function estimateSize(sc: ScenarioDoc, c: ExploreConfig, o: EstimateOptions): SizeEstimate {
  if (!Number.isInteger(o.walks) || o.walks < 1) throw new RangeError("walks must be ≥ 1");
  const next = chooser(o.seed);
  const inWalks = new Map<string, number>();
  let enabledSum = 0;
  let sampled = 0;
  let treeSum = 0;
  let leafSum = 0;
  let steps = 0;
  let violating = 0;
  let cut = 0;
  const t0 = o.now();
  for (let w = 0; w < o.walks; w++) {
    const sys = systemFor(sc, c);
    const mine = new Set<string>();
    let weight = 1;
    let tree = 1;
    let depth = 0;
    let v = sys.check(false);
    for (;;) {
      mine.add(sys.fingerprint(o.symmetry).key);
      const en = sys.enabled();
      sampled++;
      enabledSum += en.length;
      if (v) {
        violating++;
        break;
      }
      if (en.length === 0) {
        if (sys.check(true)) violating++;
        break;
      }
      if (depth >= o.maxDepth) {
        cut++;
        break;
      }
      weight *= en.length;
      tree += weight;
      sys.fire(en[next(en.length)] as string);
      steps++;
      depth++;
      v = sys.check(false);
    }
    treeSum += tree;
    leafSum += weight;
    for (const k of mine) inWalks.set(k, (inWalks.get(k) ?? 0) + 1);
  }
  const ms = o.now() - t0;
  let q1 = 0;
  let q2 = 0;
  for (const n of inWalks.values()) {
    if (n === 1) q1++;
    else if (n === 2) q2++;
  }
  const m = o.walks;
  const seen = inWalks.size;
  const distinct = Math.round(seen + (((m - 1) / m) * q1 * (q1 - 1)) / (2 * (q2 + 1)));
  const meanEnabled = sampled > 0 ? enabledSum / sampled : 0;
  const transitions = Math.round(distinct * meanEnabled);
  return {
    walks: m,
    seen,
    q1,
    q2,
    distinct,
    meanEnabled,
    transitions,
    treeStates: treeSum / m,
    interleavings: leafSum / m,
    steps,
    ms,
    timeMs: steps > 0 ? (transitions * ms) / steps : 0,
    lowerBound: q1 > seen / 2,
    violating,
    cut,
  };
}
