// The part of `exploreScenario` after the search, for callers that run the search themselves
// (the command line runs subtrees on worker threads, asynchronously): a violation becomes the
// shortest path the depth-bounded re-searches find, its shrunk forced choices and their replay.

import type { ScenarioDoc } from "../scenario/schema.ts";
import {
  type ExploreConfig,
  type ExploreResult,
  replay,
  shrinkChoices,
  systemFor,
} from "./explore.ts";
import type { Found, SearchResult } from "./search.ts";

/** Search options for the re-searches, plus how hard to work on a counterexample. */
export interface FinishOptions {
  readonly reduction?: "none" | "dpor";
  readonly hashing?: boolean;
  readonly symmetry?: boolean;
  /** States the shortening may visit in all (default 200 000). */
  readonly maxStates?: number;
  /** Time the shortening may take, ms of `now()`. */
  readonly timeLimitMs?: number;
  readonly now?: () => number;
  /** Look for shorter violations by depth-bounded searches (default true). */
  readonly shortest?: boolean;
  /** Shrink the forced choices (default true). */
  readonly shrink?: boolean;
}

/**
 * Turns the result of a search of `sc` under `c` into an exploration result, as
 * `exploreScenario` does after its search: a verdict other than "violated" is returned as it is;
 * for a violation, `shortest` looks for a shorter path to the same invariant, its forced
 * choices are shrunk and replayed step by step.
 */
export function finishExploration(
  sc: ScenarioDoc,
  c: ExploreConfig,
  r: SearchResult,
  o: FinishOptions = {},
): ExploreResult {
  if (r.verdict !== "violated") return r;
  let best = r.found;
  const firstLength = best.path.length;
  if (o.shortest ?? true) best = shortest(sc, c, best, o);
  const choices =
    (o.shrink ?? true) ? shrinkChoices(sc, c, best.path, best.violation) : [...best.path];
  const rep = replay(sc, c, choices);
  return {
    verdict: "violated",
    stats: r.stats,
    counterexample: {
      violation: rep.violation ?? best.violation,
      path: best.path,
      choices,
      steps: rep.steps,
      firstLength,
    },
  };
}

class OutOfBudget {}

/**
 * The shortest path to a violation of `found`'s invariant, by depth-bounded depth-first searches
 * with a shrinking bound. No partial-order reduction (DPOR with a depth bound misses paths: a
 * race it would have to reverse may lie below the bound) and a table of the least depth each
 * state was seen at (a state is searched again when reached by a shorter path), so within its
 * budget the result is a shortest path of the (symmetry-reduced) state graph. When the budget
 * runs out, the shortest found so far.
 */
export function shortest(
  sc: ScenarioDoc,
  c: ExploreConfig,
  found: Found,
  o: Pick<FinishOptions, "symmetry" | "maxStates" | "timeLimitMs" | "now"> = {},
): Found {
  const symmetric = o.symmetry ?? true;
  const budget = o.maxStates ?? 200_000;
  const now = o.now ?? (() => 0);
  const t0 = now();
  const inv = found.violation.invariant;
  let states = 0;
  let best = found;
  const sys = systemFor(sc, c);
  const start = sys.save();
  try {
    for (let limit = best.path.length - 1; limit >= 1; ) {
      sys.restore(start);
      const seen = new Map<string, number>();
      const path: string[] = [];
      let hit: Found | null = null;
      const dfs = (depth: number): boolean => {
        states++;
        if (states > budget) throw new OutOfBudget();
        if (o.timeLimitMs !== undefined && states % 64 === 0 && now() - t0 > o.timeLimitMs)
          throw new OutOfBudget();
        const en = sys.enabled();
        const bad = sys.check(en.length === 0);
        if (bad) {
          if (bad.invariant !== inv) return false;
          hit = { violation: bad, path: [...path] };
          return true;
        }
        if (en.length === 0 || depth >= limit) return false;
        const key = sys.key(symmetric).key;
        const d0 = seen.get(key);
        if (d0 !== undefined && d0 <= depth) return false;
        seen.set(key, depth);
        const snap = sys.save();
        for (const [i, lane] of en.entries()) {
          if (i > 0) sys.restore(snap);
          sys.fire(lane);
          path.push(lane);
          if (dfs(depth + 1)) return true;
          path.pop();
        }
        return false;
      };
      if (!dfs(0) || hit === null) break;
      best = hit;
      limit = (hit as Found).path.length - 1;
    }
  } catch (e) {
    if (!(e instanceof OutOfBudget)) throw e;
  }
  return best;
}
