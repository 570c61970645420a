// One subtree of a split search, as the orchestration (src/explore/matrix.ts) and the command
// line's worker threads run it: the same function wherever it runs, so a result never depends on
// where it was computed.

import type { ScenarioDoc } from "../scenario/schema.ts";
import { type ExploreConfig, searchSubtree } from "./explore.ts";
import { emptyStats, type SearchResult, type SearchStats } from "./search.ts";

/** The search options a subtree gets (plain data: they cross a thread boundary). */
export interface SubtreeOptions {
  readonly reduction: "none" | "dpor";
  readonly hashing: boolean;
  readonly symmetry: boolean;
  readonly maxDepth: number;
  readonly maxStates?: number;
  /**
   * The time limit as an absolute deadline on the caller's clock (`now()`, ms): the command line
   * uses a clock comparable across threads.
   */
  readonly deadline?: number;
}

/**
 * Searches the subtree below `prefix` with `o` (a deadline already passed: a bounded result
 * without searching). `onProgress` gets the subtree's running statistics now and then.
 */
export function runSubtree(
  sc: ScenarioDoc,
  config: ExploreConfig,
  prefix: readonly string[],
  o: SubtreeOptions & {
    /** The clock of `deadline` (ms). */
    readonly now: () => number;
    readonly onProgress?: (s: SearchStats) => void;
  },
): SearchResult {
  let timeLimitMs: number | undefined;
  if (o.deadline !== undefined) {
    timeLimitMs = o.deadline - o.now();
    if (timeLimitMs <= 0) return { verdict: "bounded", stats: emptyStats(), bound: "time-limit" };
  }
  return searchSubtree(sc, config, prefix, {
    reduction: o.reduction,
    hashing: o.hashing,
    symmetry: o.symmetry,
    maxDepth: o.maxDepth,
    ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
    ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
    now: o.now,
    ...(o.onProgress ? { onProgress: o.onProgress, progressEvery: 100 } : {}),
  });
}
