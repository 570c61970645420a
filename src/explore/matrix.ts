// `ifsim explore` without the terminal: the configurations to explore (one, or a kernel × udev
// matrix), and for each cell the probe's random walks, the search (split at a depth into
// subtrees, run here one after the other or by an injected parallel runner), then the
// counterexample's shortening, shrinking and replay. The command line parses, calls this and
// prints; the clock, progress and worker threads are injected (this layer uses no Node built-in).

import { profileFor, UnknownKernelError } from "../kernel/index.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import {
  combine,
  type ExploreConfig,
  type ExploreResult,
  frontier,
  type ReplayResult,
  randomWalks,
  replay,
  systemFor,
  walkForViolation,
} from "./explore.ts";
import { finishExploration } from "./finish.ts";
import { DEFAULT_INVARIANTS, type InvariantName, type Timing } from "./scenario-system.ts";
import { addStats, emptyStats, type SearchResult, type SearchStats, search } from "./search.ts";
import type { StateView } from "./state-view.ts";
import { runSubtree, type SubtreeOptions } from "./subtree.ts";

/** How to search each cell (the command line's options after parsing). */
export interface SearchPlan {
  readonly seed?: number;
  readonly reduction: "dpor" | "none";
  readonly symmetry: boolean;
  readonly hashing: boolean;
  /** Coarse atomic steps (`ScenarioSystemOptions.atomic`; absent: on). */
  readonly atomic?: boolean;
  readonly maxDepth: number;
  readonly maxStates?: number;
  readonly timeLimitMs?: number;
  /** Seeded random walks instead of the exhaustive search. */
  readonly random?: number;
  /** Random walks before the exhaustive search (0: none). */
  readonly probe: number;
  readonly walkSeed: number;
  /** Worker threads asked for (the parallel runner decides how many it uses). */
  readonly jobs: number;
  readonly splitDepth: number;
  readonly shrink: boolean;
  /** The state view of the keys (state-view.ts; default "coarse"). */
  readonly view?: StateView;
}

/** What the host lends the search: a clock, progress, and optionally worker threads. */
export interface ExploreHost {
  /** Monotonic ms (deadlines are compared on it, across threads when a runner uses them). */
  readonly now: () => number;
  /** Running statistics of the current cell's search, now and then. */
  readonly onProgress?: (s: SearchStats) => void;
  /**
   * Runs the subtrees in parallel and returns their results by index up to the first violation,
   * with the jobs used; or null when it cannot (then they run here, one after the other).
   */
  readonly runParallel?: (
    job: {
      readonly config: ExploreConfig;
      readonly prefixes: readonly string[][];
      readonly options: SubtreeOptions;
      readonly jobs: number;
    },
    onProgress: (s: SearchStats) => void,
  ) => Promise<{ results: SearchResult[]; jobs: number }> | null;
  /** Why parallel runs are not possible here (e.g. "workers need the built dist"), if so. */
  readonly noParallel?: string;
}

/** How one cell was searched. */
export interface CellRun {
  readonly kernel: string;
  readonly udev: string | null;
  readonly config: ExploreConfig;
  readonly result: ExploreResult;
  /** Wall time of the search (not the counterexample's refinement), ms. */
  readonly searchMs: number;
  /** Wall time of the whole cell (search, shortening, shrinking), ms. */
  readonly totalMs: number;
  readonly subtrees: number;
  /** Jobs actually used, with why fewer when they were (e.g. "1 (workers need the built dist)"). */
  readonly jobs: number | string;
  readonly walks?: number;
  /** The probe's random walks before the search, when there were any. */
  readonly probe?: {
    readonly walks: number;
    readonly transitions: number;
    readonly found: boolean;
  };
  /** The counterexample replayed step by step (a violation only). */
  readonly replay?: ReplayResult;
}

/** The cells to explore: kernels × udev generations, the invariants and the timing. */
export interface MatrixPlan {
  readonly kernels: readonly string[];
  /** null: the scenario has no udev. */
  readonly udevs: readonly (string | null)[];
  readonly invariants: readonly InvariantName[];
  readonly timing: Timing;
}

/**
 * The matrix for a scenario and the lists asked for (empty: the scenario's own), or why there is
 * none (no kernel anywhere, an unknown kernel, --udev on a scenario without udev).
 */
export function planMatrix(
  sc: ScenarioDoc,
  ask: {
    readonly kernels: readonly string[];
    readonly udevs: readonly string[];
    readonly invariants: readonly string[];
    readonly timing?: Timing;
  },
): MatrixPlan | { readonly error: string } {
  const kernels =
    ask.kernels.length > 0 ? [...ask.kernels] : sc.kernel !== undefined ? [sc.kernel] : [];
  if (kernels.length === 0)
    return { error: "no kernel: set kernel: in the scenario or pass --kernel" };
  for (const k of kernels) {
    try {
      profileFor(k);
    } catch (e) {
      if (e instanceof UnknownKernelError) return { error: e.message };
      throw e;
    }
  }
  const hasUdev = sc.udev !== undefined && sc.udev !== "none";
  if (!hasUdev && ask.udevs.length > 0)
    return { error: "--udev needs a scenario with a udev: section" };
  const udevs: (string | null)[] = !hasUdev
    ? [null]
    : ask.udevs.length > 0
      ? [...ask.udevs]
      : [(sc.udev as Exclude<ScenarioDoc["udev"], "none" | undefined>).generation ?? "v256"];
  const invariants = (
    ask.invariants.length > 0 ? ask.invariants : (sc.explore?.invariants ?? DEFAULT_INVARIANTS)
  ) as InvariantName[];
  return { kernels, udevs, invariants, timing: ask.timing ?? sc.explore?.timing ?? "any" };
}

/** Whether a plan has more than one cell. */
export function isMatrix(p: MatrixPlan): boolean {
  return p.kernels.length > 1 || p.udevs.length > 1;
}

/** The exit status of cells: 1 if any is violated, else 3 if any is bounded, else 0. */
export function matrixExit(cells: readonly CellRun[]): 0 | 1 | 3 {
  if (cells.some((c) => c.result.verdict === "violated")) return 1;
  if (cells.some((c) => c.result.verdict === "bounded")) return 3;
  return 0;
}

/** Searches one configuration (not random walks): split, subtrees, combine. */
async function searchCell(
  sc: ScenarioDoc,
  a: SearchPlan,
  config: ExploreConfig,
  host: ExploreHost,
): Promise<{ result: SearchResult; subtrees: number; jobs: number | string }> {
  const progress = host.onProgress ?? (() => {});
  const opts: SubtreeOptions = {
    reduction: a.reduction,
    hashing: a.hashing,
    symmetry: a.symmetry,
    maxDepth: a.maxDepth,
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { deadline: host.now() + a.timeLimitMs } : {}),
  };
  if (a.splitDepth === 0) {
    const r = search(systemFor(sc, config), {
      reduction: opts.reduction,
      hashing: opts.hashing,
      symmetry: opts.symmetry,
      maxDepth: opts.maxDepth,
      ...(opts.maxStates !== undefined ? { maxStates: opts.maxStates } : {}),
      ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
      now: host.now,
      onProgress: progress,
      progressEvery: 100,
    });
    return { result: r, subtrees: 1, jobs: 1 };
  }
  const prefixes = frontier(sc, config, a.splitDepth, a.symmetry);
  const par =
    a.jobs > 1 && prefixes.length > 1 && host.runParallel
      ? host.runParallel(
          { config, prefixes, options: opts, jobs: Math.min(a.jobs, prefixes.length) },
          progress,
        )
      : null;
  if (par) {
    const { results, jobs } = await par;
    return { result: combine(results), subtrees: prefixes.length, jobs };
  }
  const results: SearchResult[] = [];
  const done = emptyStats();
  for (const p of prefixes) {
    const r = runSubtree(sc, config, p, {
      ...opts,
      now: host.now,
      onProgress: (s) => {
        const all = { ...done };
        addStats(all, s);
        progress(all);
      },
    });
    results.push(r);
    addStats(done, r.stats);
    if (r.verdict === "violated") break;
  }
  return {
    result: combine(results),
    subtrees: prefixes.length,
    jobs: a.jobs > 1 && prefixes.length > 1 ? `1 (${host.noParallel ?? "no worker threads"})` : 1,
  };
}

/** Explores one cell of the matrix: probe and search (or random walks), then the counterexample. */
export async function exploreCell(
  sc: ScenarioDoc,
  cell: {
    readonly kernel: string;
    readonly udev: string | null;
    readonly invariants: readonly InvariantName[];
    readonly timing: Timing;
  },
  a: SearchPlan,
  host: ExploreHost,
): Promise<CellRun> {
  const { kernel, udev } = cell;
  const config: ExploreConfig = {
    kernel,
    ...(udev !== null ? { udev } : {}),
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    invariants: cell.invariants,
    timing: cell.timing,
    ...(a.view !== undefined ? { view: a.view } : {}),
    ...(a.atomic === false ? { atomic: false } : {}),
  };
  const now = host.now;
  const t0 = now();
  let result: ExploreResult;
  let searchMs: number;
  let subtrees = 1;
  let jobs: number | string = 1;
  let walks: number | undefined;
  let probe: CellRun["probe"];
  if (a.random !== undefined) {
    const r = randomWalks(sc, config, {
      walks: a.random,
      seed: a.walkSeed,
      maxDepth: a.maxDepth,
      now,
      ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
    });
    walks = r.walks;
    const { walks: _w, ...rest } = r;
    result = rest as ExploreResult;
    searchMs = now() - t0;
  } else {
    // The probe: a few random walks first. A violation they find is as real as the search's.
    const w =
      a.probe > 0
        ? walkForViolation(sc, config, {
            walks: a.probe,
            seed: a.walkSeed,
            maxDepth: a.maxDepth,
            now,
            ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
          })
        : null;
    if (w) probe = { walks: w.walks, transitions: w.stats.transitions, found: w.found !== null };
    let found: SearchResult;
    if (w?.found) {
      found = { verdict: "violated", stats: w.stats, found: w.found };
      subtrees = 0;
    } else {
      // The time limit covers the probe and the search together.
      const spent = now() - t0;
      const rest =
        a.timeLimitMs !== undefined ? { ...a, timeLimitMs: Math.max(1, a.timeLimitMs - spent) } : a;
      const s = await searchCell(sc, rest, config, host);
      found = s.result;
      subtrees = s.subtrees;
      jobs = s.jobs;
    }
    searchMs = now() - t0;
    const left = a.timeLimitMs !== undefined ? Math.max(1, a.timeLimitMs - searchMs) : undefined;
    result = finishExploration(sc, config, found, {
      reduction: a.reduction,
      hashing: a.hashing,
      symmetry: a.symmetry,
      ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
      ...(left !== undefined ? { timeLimitMs: left } : {}),
      now,
      shrink: a.shrink,
    });
  }
  result = { ...result, stats: { ...result.stats, elapsedMs: searchMs } };
  const base: CellRun = {
    kernel,
    udev,
    config,
    result,
    searchMs,
    totalMs: now() - t0,
    subtrees,
    jobs,
    ...(walks !== undefined ? { walks } : {}),
    ...(probe !== undefined ? { probe } : {}),
  };
  if (result.verdict !== "violated") return base;
  return {
    ...base,
    replay: replay(sc, config, result.counterexample.choices, undefined, { states: true }),
  };
}

/**
 * Explores every cell of `plan` in order (kernels, then udev generations). `onCell` is told when
 * a cell starts (index, count) and ends, for progress.
 */
export async function exploreMatrix(
  sc: ScenarioDoc,
  plan: MatrixPlan,
  a: SearchPlan,
  host: ExploreHost & {
    readonly onCell?: (e: {
      readonly index: number;
      readonly count: number;
      readonly kernel: string;
      readonly udev: string | null;
      readonly done?: CellRun;
    }) => void;
  },
): Promise<CellRun[]> {
  const cells: CellRun[] = [];
  const count = plan.kernels.length * plan.udevs.length;
  for (const kernel of plan.kernels)
    for (const udev of plan.udevs) {
      const index = cells.length;
      host.onCell?.({ index, count, kernel, udev });
      const c = await exploreCell(
        sc,
        { kernel, udev, invariants: plan.invariants, timing: plan.timing },
        a,
        host,
      );
      cells.push(c);
      host.onCell?.({ index, count, kernel, udev, done: c });
    }
  return cells;
}
