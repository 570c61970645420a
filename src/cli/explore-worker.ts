// `ifsim explore --jobs N`: a worker thread that searches subtrees. It parses the scenario text
// itself (a parsed document holds nothing a thread could not rebuild), then answers each task
// (a prefix of lanes) with the subtree's SearchResult, posting progress while it searches.
//
// The same `runSubtree` runs the subtrees in-process for --jobs 1 (and when the workers are
// not built), so a result never depends on where it was computed.

import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { type ExploreConfig, searchSubtree } from "../explore/explore.ts";
import type { SearchResult, SearchStats } from "../explore/search.ts";
import { emptyStats } from "../explore/search.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";

/** The search options a subtree gets (plain data: they cross the thread boundary). */
export interface SubtreeOptions {
  readonly reduction: "none" | "dpor";
  readonly hashing: boolean;
  readonly symmetry: boolean;
  readonly maxDepth: number;
  readonly maxStates?: number;
  /** The time limit as an absolute deadline (performance.timeOrigin + performance.now(), ms). */
  readonly deadline?: number;
}

/** What a worker is started with. */
export interface WorkerInit {
  readonly kind: "ifsim-explore";
  readonly text: string;
  readonly file: string;
  readonly config: ExploreConfig;
  readonly options: SubtreeOptions;
}

/** A task: search the subtree below `prefix`. */
export interface WorkerTask {
  readonly id: number;
  readonly prefix: readonly string[];
}

/** What a worker posts back. */
export type WorkerMessage =
  | { readonly type: "progress"; readonly id: number; readonly stats: SearchStats }
  | { readonly type: "done"; readonly id: number; readonly result: SearchResult }
  | { readonly type: "error"; readonly id: number; readonly message: string };

/** Wall-clock ms comparable across threads. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Searches the subtree below `prefix` with `o` (a deadline already passed: a bounded result
 * without searching). `onProgress` gets the subtree's running statistics now and then.
 */
export function runSubtree(
  sc: ScenarioDoc,
  config: ExploreConfig,
  prefix: readonly string[],
  o: SubtreeOptions,
  onProgress?: (s: SearchStats) => void,
): SearchResult {
  let timeLimitMs: number | undefined;
  if (o.deadline !== undefined) {
    timeLimitMs = o.deadline - wallNow();
    if (timeLimitMs <= 0) return { verdict: "bounded", stats: emptyStats(), bound: "time-limit" };
  }
  return searchSubtree(sc, config, prefix, {
    reduction: o.reduction,
    hashing: o.hashing,
    symmetry: o.symmetry,
    maxDepth: o.maxDepth,
    ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
    ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
    now: () => performance.now(),
    ...(onProgress ? { onProgress, progressEvery: 100 } : {}),
  });
}

function serve(init: WorkerInit): void {
  const port = parentPort;
  if (!port) return;
  const parsed = parseScenario(init.text, init.file);
  if (!parsed.ok) {
    port.postMessage({
      type: "error",
      id: -1,
      message: parsed.issues.map(formatIssue).join("\n"),
    } satisfies WorkerMessage);
    return;
  }
  const sc = parsed.scenario;
  port.on("message", (task: WorkerTask) => {
    let last = 0;
    try {
      const result = runSubtree(sc, init.config, task.prefix, init.options, (stats) => {
        const t = performance.now();
        if (t - last < 100) return;
        last = t;
        port.postMessage({ type: "progress", id: task.id, stats } satisfies WorkerMessage);
      });
      port.postMessage({ type: "done", id: task.id, result } satisfies WorkerMessage);
    } catch (e) {
      port.postMessage({
        type: "error",
        id: task.id,
        message: e instanceof Error ? (e.stack ?? e.message) : String(e),
      } satisfies WorkerMessage);
    }
  });
}

const init = workerData as WorkerInit | null | undefined;
if (!isMainThread && init?.kind === "ifsim-explore") serve(init);
