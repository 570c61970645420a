// `ifsim explore --jobs N`: the worker threads that search subtrees. A worker parses the scenario
// text itself (a parsed document holds nothing a thread could not rebuild), then answers each
// task (a prefix of lanes) with the subtree's SearchResult, posting progress while it searches.
// The every-N check's worker (`environmentOffload`) takes the parsed document (plain data) and
// runs one environment check.
//
// The subtree search itself is src/explore/subtree.ts, the same function the orchestration runs
// in-process for --jobs 1 (and when the workers are not built), so a result never depends on
// where it was computed. This file is only the Node side: threads and messages.

import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { EnvironmentOffload } from "../explore/cutoff.ts";
import { type EnvironmentObservation, observeEnvironment } from "../explore/environment.ts";
import type { ExploreConfig } from "../explore/explore.ts";
import type { ExploreHost } from "../explore/matrix.ts";
import type { EnvironmentOptions } from "../explore/scenario-system.ts";
import type { SearchResult, SearchStats } from "../explore/search.ts";
import { addStats, emptyStats } from "../explore/search.ts";
import { runSubtree, type SubtreeOptions } from "../explore/subtree.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";

export type { SubtreeOptions };

/** What a worker is started with: a search's subtrees, or an every-N environment check. */
type WorkerStart = WorkerInit | EnvironmentInit;

/** What a subtree worker is started with. */
export interface WorkerInit {
  readonly kind: "ifsim-explore";
  readonly text: string;
  readonly file: string;
  readonly config: ExploreConfig;
  readonly options: SubtreeOptions;
}

/** What an environment worker is started with (`environmentOffload`): one check, then it ends. */
interface EnvironmentInit {
  readonly kind: "ifsim-every-n-environment";
  readonly sc: ScenarioDoc;
  readonly i: number;
  readonly config: ExploreConfig;
  readonly environment: EnvironmentOptions;
  /** On the cross-thread clock (`wallNow`). */
  readonly deadline?: number;
}

/** What an environment worker posts back. */
type EnvironmentMessage =
  | { readonly type: "progress"; readonly states: number; readonly transitions: number }
  | { readonly type: "done"; readonly result: EnvironmentObservation }
  | { readonly type: "error"; readonly message: string };

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

/** Wall-clock ms comparable across threads (deadlines are compared on it). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The worker script next to this module when it is built (dist), else null (from source). */
function workerUrl(): URL | null {
  if (!import.meta.url.endsWith(".js")) return null;
  const u = new URL("./explore-worker.js", import.meta.url);
  return existsSync(fileURLToPath(u)) ? u : null;
}

/** Runs the subtrees on `n` worker threads; results by index up to the first violation. */
function runInWorkers(
  url: URL,
  init: WorkerInit,
  prefixes: readonly string[][],
  n: number,
  onProgress: (running: SearchStats[], done: SearchStats) => void,
): Promise<SearchResult[]> {
  return new Promise((resolve, reject) => {
    const results: (SearchResult | undefined)[] = new Array(prefixes.length);
    const running = new Map<Worker, number>();
    const live = new Map<number, SearchStats>();
    const done = emptyStats();
    let next = 0;
    let stopAt = prefixes.length;
    let failed = false;
    let settled = false;
    const workers: Worker[] = [];
    const finish = (): void => {
      settled = true;
      for (const w of workers) void w.terminate();
      resolve(results.slice(0, Math.min(stopAt + 1, prefixes.length)) as SearchResult[]);
    };
    const complete = (): boolean => {
      for (let i = 0; i <= Math.min(stopAt, prefixes.length - 1); i++)
        if (results[i] === undefined) return false;
      return true;
    };
    const feed = (w: Worker): void => {
      if (next < prefixes.length && next <= stopAt) {
        const id = next++;
        running.set(w, id);
        w.postMessage({ id, prefix: prefixes[id] });
      } else running.delete(w);
    };
    const fail = (e: Error): void => {
      if (failed || settled) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(e);
    };
    for (let i = 0; i < Math.min(n, prefixes.length); i++) {
      const w = new Worker(url, { workerData: init });
      workers.push(w);
      w.on("message", (m: WorkerMessage) => {
        if (failed) return;
        if (m.type === "error") {
          fail(new Error(`explore worker: ${m.message}`));
          return;
        }
        if (m.type === "progress") {
          live.set(m.id, m.stats);
          onProgress([...live.values()], done);
          return;
        }
        results[m.id] = m.result;
        live.delete(m.id);
        addStats(done, m.result.stats);
        if (m.result.verdict === "violated" && m.id < stopAt) {
          stopAt = m.id;
          // Subtrees after the first violation do not count: stop their workers.
          for (const [ow, id] of running)
            if (id > stopAt) {
              running.delete(ow);
              void ow.terminate();
            }
        }
        if (complete()) {
          finish();
          return;
        }
        feed(w);
      });
      w.on("error", (e) => fail(e));
      // A worker that dies with a task (out of memory, killed) fails the search.
      w.on("exit", (code) => {
        if (running.has(w))
          fail(new Error(`explore worker exited (code ${code}) during a subtree`));
      });
      feed(w);
    }
  });
}

/**
 * The host the orchestration (src/explore/matrix.ts) runs on in this process: the cross-thread
 * clock, and worker threads for the subtrees when the workers are built (dist).
 */
export function workerHost(
  text: string,
  file: string,
): Pick<ExploreHost, "now" | "runParallel" | "noParallel"> {
  const url = workerUrl();
  return {
    now: wallNow,
    noParallel: "workers need the built dist",
    runParallel: (job, onProgress) => {
      if (!url) return null;
      const init: WorkerInit = {
        kind: "ifsim-explore",
        text,
        file,
        config: job.config,
        options: job.options,
      };
      return runInWorkers(url, init, job.prefixes, job.jobs, (live, done) => {
        const s = { ...done };
        for (const x of live) addStats(s, x);
        onProgress(s);
      }).then((results) => ({ results, jobs: job.jobs }));
    },
  };
}

/**
 * `ifsim explore --every-n` with --jobs 2 or more: pair 0's environment check on a worker thread
 * (`everyNParallel`), when the workers are built (dist), else null. `deadline` is on this
 * thread's `performance.now()` (the every-N command's clock).
 */
export function environmentOffload(): EnvironmentOffload | null {
  const url = workerUrl();
  if (!url) return null;
  return (job) => {
    const init: EnvironmentInit = {
      kind: "ifsim-every-n-environment",
      sc: job.sc,
      i: job.i,
      config: job.config,
      environment: job.environment,
      ...(job.deadline !== undefined ? { deadline: performance.timeOrigin + job.deadline } : {}),
    };
    const w = new Worker(url, { workerData: init });
    let settled = false;
    const result = new Promise<EnvironmentObservation>((resolve, reject) => {
      w.on("message", (m: EnvironmentMessage) => {
        if (m.type === "progress") job.progress?.(m.states, m.transitions);
        else if (m.type === "done") {
          settled = true;
          resolve(m.result);
        } else {
          settled = true;
          reject(new Error(`every-N environment worker: ${m.message}`));
        }
      });
      w.on("error", (e) => {
        settled = true;
        reject(e);
      });
      // A worker that dies without an answer (out of memory, killed) fails the check.
      w.on("exit", (code) => {
        if (!settled)
          reject(new Error(`every-N environment worker exited (code ${code}) without a result`));
        settled = true;
      });
    });
    return {
      result,
      cancel: () => {
        settled = true;
        void w.terminate();
      },
    };
  };
}

function serveEnvironment(init: EnvironmentInit): void {
  const port = parentPort;
  if (!port) return;
  let last = 0;
  try {
    const result = observeEnvironment(init.sc, init.i, init.config, init.environment, {
      now: wallNow,
      ...(init.deadline !== undefined ? { deadline: init.deadline } : {}),
      progress: (states, transitions) => {
        const t = performance.now();
        if (t - last < 100) return;
        last = t;
        port.postMessage({ type: "progress", states, transitions } satisfies EnvironmentMessage);
      },
    });
    port.postMessage({ type: "done", result } satisfies EnvironmentMessage);
  } catch (e) {
    port.postMessage({
      type: "error",
      message: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies EnvironmentMessage);
  }
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
      const result = runSubtree(sc, init.config, task.prefix, {
        ...init.options,
        now: wallNow,
        onProgress: (stats) => {
          const t = performance.now();
          if (t - last < 100) return;
          last = t;
          port.postMessage({ type: "progress", id: task.id, stats } satisfies WorkerMessage);
        },
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

const init = workerData as WorkerStart | null | undefined;
if (!isMainThread && init?.kind === "ifsim-explore") serve(init);
if (!isMainThread && init?.kind === "ifsim-every-n-environment") serveEnvironment(init);
