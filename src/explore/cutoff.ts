// Issue 14, item 4: a verdict for every number of failover pairs.
//
// `everyN`: each pair of a family alone, enumerated without reduction (pair.ts: its projected
// graph G_P and its verdict); no cross-talk between the pairs other than through what the
// machine shares; each pair against an environment that stands for every other pair
// (environment.ts); and, on request, the family at N = 2 enumerated without reduction with
// every pair checked against G_P on every state and transition (`familyCheck`: every N-pair
// execution is then, for each pair, a stuttering execution of the pair alone). Why this gives a
// verdict for every N: docs/performance.md, "A verdict for every N".

import type { ScenarioDoc } from "../scenario/schema.ts";
import { DEFAULT_UDEV_WORKERS } from "../userspace/udev/udevd.ts";
import type { EnumerateOptions } from "./enumerate.ts";
import { enumerate } from "./enumerate.ts";
import {
  crossTalk,
  type EnvironmentObservation,
  type EnvironmentResult,
  environmentCheck,
  judgeEnvironment,
} from "./environment.ts";
import type { ExploreConfig } from "./explore.ts";
import { systemFor } from "./explore.ts";
import {
  familyOf,
  familyProblem,
  macOf,
  type PairGraph,
  pairGraph,
  pairsOf,
  projection,
  sameGraphs,
} from "./pair.ts";
import type { EnvironmentOptions } from "./scenario-system.ts";

export type { EnumerateOptions } from "./enumerate.ts";
export {
  familyOf,
  familyPairs,
  familyProblem,
  macOf,
  type PairGraph,
  pairAlone,
  pairGraph,
  projection,
  sameGraphs,
} from "./pair.ts";

/** What the family check found at N = n. */
export interface CutoffResult {
  n: number;
  /** Every reachable state and transition checked. */
  complete: boolean;
  /** States were identified up to a permutation of the pairs and of udev's workers. */
  symmetric: boolean;
  states: number;
  transitions: number;
  /** Per pair: projections of the pair alone, and how many of them the N-pair states reached. */
  pairs: { alone: number; reached: number; aloneEdges: number; edgesUsed: number }[];
  /** Transitions that changed more than one pair's projection. */
  shared: number;
  /** The first failure (a projection or a step the pair alone does not have), with its path. */
  failures: string[];
  /** A violation of the N-pair system itself (global invariants included), or null. */
  violation: { invariant: string; detail: string; path: string[] } | null;
}

/**
 * Checks, on every reachable state and transition of the family with `n` pairs (free timing,
 * no reduction), that each pair behaves as the pair alone (`graphs[i]`, from `pairGraph` on the
 * same `n`-pair scenario).
 */
export function familyCheck(
  scN: ScenarioDoc,
  graphs: readonly PairGraph[],
  c: ExploreConfig,
  o: EnumerateOptions = {},
): CutoffResult {
  const project = o.project ?? projection;
  const n = graphs.length;
  const symmetric = o.symmetry !== false && sameGraphs(graphs);
  const macs = Array.from({ length: n }, (_, i) => macOf(scN, i));
  const sys = systemFor(scN, { ...c, timing: "free", atomic: false });
  const failures: string[] = [];
  const reached = graphs.map(() => new Set<number>());
  const used = graphs.map(() => new Set<string>());
  let shared = 0;
  let violation: CutoffResult["violation"] = null;
  const nodesOf = (): (number | undefined)[] =>
    macs.map((m, i) => (graphs[i] as PairGraph).nodes.get(project(sys, m)));
  const start = nodesOf();
  const at: (number | undefined)[][] = [start];
  start.forEach((x, i) => {
    if (x === undefined) failures.push(`pair ${i} at the start: a projection the pair alone lacks`);
  });
  const r =
    failures.length > 0
      ? { states: 0, transitions: 0, complete: false }
      : enumerate(
          sys,
          o,
          (en, depth) => {
            const here = at[depth] as (number | undefined)[];
            here.forEach((x, i) => {
              if (x !== undefined) reached[i]?.add(x);
            });
            if (en.length === 0) {
              const v = sys.check(true);
              if (v !== null && violation === null) violation = { ...v, path: [] };
              here.forEach((x, i) => {
                if (x !== undefined && !(graphs[i] as PairGraph).ends.has(x))
                  failures.push(
                    `pair ${i}: the ${n}-pair system stops where the pair alone does not`,
                  );
              });
            }
            return failures.length === 0;
          },
          (lane, path) => {
            const before = at[path.length - 1] as (number | undefined)[];
            const after = nodesOf();
            let changed = 0;
            after.forEach((x, i) => {
              const b = before[i];
              if (x === b) return;
              changed++;
              if (x === undefined)
                failures.push(
                  `pair ${i}: after ${path.join(" ")}, a projection the pair alone never reaches`,
                );
              else if (b !== undefined) {
                const e = `${b} ${x}`;
                if (!(graphs[i] as PairGraph).edges.has(e))
                  failures.push(
                    `pair ${i}: ${lane} after ${path.join(" ")} is no step of the pair alone`,
                  );
                else used[i]?.add(e);
              }
            });
            if (changed > 1) shared++;
            const v = sys.check(false);
            if (v !== null && violation === null)
              violation = { invariant: v.invariant, detail: v.detail, path: [...path] };
            at[path.length] = after;
            return failures.length === 0;
          },
          symmetric,
          (depth, fk) => {
            // Each pair's node, in the key's pair order under symmetry: equal keys are one state
            // with the same projections.
            const here = at[depth] as (number | undefined)[];
            const slot = fk.pairSlot;
            if (slot === undefined) return here.join();
            const canon: (number | undefined)[] = [];
            macs.forEach((m, i) => {
              const j = slot(m);
              if (j === undefined)
                throw new Error(`familyCheck: the key has no pair with MAC ${m}`);
              canon[j] = here[i];
            });
            return canon.join();
          },
        );
  return {
    n,
    complete: r.complete && failures.length === 0,
    symmetric,
    states: r.states,
    transitions: r.transitions,
    // Under symmetry a representative's pair i stands for every pair: the union is per pair.
    pairs: graphs.map((g, i) => ({
      alone: g.nodes.size,
      reached: symmetric ? new Set(reached.flatMap((x) => [...x])).size : (reached[i]?.size ?? 0),
      aloneEdges: g.edges.size,
      edgesUsed: symmetric ? new Set(used.flatMap((x) => [...x])).size : (used[i]?.size ?? 0),
    })),
    shared,
    failures,
    violation,
  };
}

/** The invariants a family check decides: per pair, or kept by the kernel model itself. */
export const FAMILY_INVARIANTS: ReadonlySet<string> = new Set([
  "unique-names",
  "unique-ifindexes",
  "no-ebusy-to-udev",
  "failover-named",
  "no-kernel-warning",
  "no-duplicate-mac-crash",
]);

/** `everyN`'s options: an enumeration's, and what to check beyond the pair alone. */
export interface EveryNOptions extends EnumerateOptions {
  /**
   * Other devices' udev events the environment may have queued or held at once (default: the
   * scenario's udev workers, so it can hold every worker).
   */
  environmentEvents?: number;
  /**
   * When the environment may queue the linkwatch work: while a device of the pair is on
   * linkwatch's list ("listed", the default) or at every step ("always", the broad environment).
   */
  environmentLinkwatch?: "listed" | "always";
  /** Also enumerate two pairs and check each against the pair alone (`familyCheck`). */
  crossCheck?: boolean;
}

/** `everyN`'s outcome for one configuration. */
export interface EveryNResult {
  /** Pairs in the scenario. */
  pairs: number;
  /**
   * verified: each pair alone verified, no cross-talk, and each pair against the environment
   * (and, with `crossCheck`, two pairs) stayed within the pair alone's graph. alone-violated: the
   * pair alone breaks an invariant. no-cutoff: cross-talk, or the environment or two pairs
   * reached a projection, a step or an end the pair alone does not have, or broke an invariant.
   * bounded: the deadline came first.
   */
  verdict: "verified" | "alone-violated" | "no-cutoff" | "bounded";
  /** Every pair of the file alone, enumerated (each on its own slots). */
  alone: {
    states: number;
    transitions: number;
    projections: number;
    edges: number;
    ends: number;
    scriptMoves: number;
    violation: PairGraph["violation"];
  }[];
  /** Ways the pairs reach each other outside the environment (`crossTalk`): [] for none. */
  crossTalk: string[];
  /**
   * Each pair checked against the environment (`environmentCheck`), or null when it did not run.
   * Under symmetry, with the pairs' graphs one graph (`sameGraphs`), only pair 0 is checked:
   * pair i's system is pair 0's with the slots and MAC exchanged, which the symmetric state key
   * already rests on. Otherwise every pair is.
   */
  environment: EnvironmentResult[] | null;
  /** The check at N = 2 (`crossCheck`), or null when it did not run. */
  check: CutoffResult | null;
  /** Milliseconds of the caller's clock. */
  ms: number;
}

/**
 * Runs the environment check's enumeration of pair `i` elsewhere (a worker thread) while the
 * pairs alone are enumerated here: null when it cannot (then it runs here, after them). The
 * options are plain data; `cancel` stops it (its result is then never read).
 */
export type EnvironmentOffload = (job: {
  readonly sc: ScenarioDoc;
  readonly i: number;
  readonly config: ExploreConfig;
  readonly environment: EnvironmentOptions;
  /** `EnumerateOptions.deadline`, on the caller's clock (`EveryNOptions.now`). */
  readonly deadline?: number;
  /** The observation's progress (states, transitions), as it comes. */
  readonly progress?: (states: number, transitions: number) => void;
}) => { readonly result: Promise<EnvironmentObservation>; cancel(): void } | null;

/**
 * A verdict for every number of pairs of the family `sc` (at least two pairs; `familyProblem`
 * must be null): each pair alone enumerated and verified, no cross-talk between the pairs, then
 * each pair against an environment that stands for every other pair (environment.ts), and with
 * `crossCheck` the cutoff-1 check at N = 2 (`familyCheck`). Decided under free timing, so it
 * holds for every latency.
 */
export function everyN(sc: ScenarioDoc, c: ExploreConfig, o: EveryNOptions = {}): EveryNResult {
  const s = everyNStart(sc, c, o);
  if ("result" in s) return s.result;
  const environment: EnvironmentResult[] = [];
  for (const i of s.checked) {
    const r = environmentCheck(sc, i, s.every[i] as PairGraph, c, s.env, o);
    const stop = s.take(environment, r);
    if (stop !== null) return stop;
  }
  return s.finish(environment);
}

/**
 * `everyN` with pair 0's environment check run by `offload` (another thread) while the pairs
 * alone are enumerated here, then judged against pair 0's graph (`judgeEnvironment`): the same
 * verdict, failures and counts as `everyN` where the check passes (where it fails, the counts are
 * those of the whole enumeration, which `everyN` stops at the failure). Without symmetry, or with
 * a projection of the caller's (it cannot cross threads), it is `everyN`.
 */
export async function everyNParallel(
  sc: ScenarioDoc,
  c: ExploreConfig,
  o: EveryNOptions,
  offload: EnvironmentOffload,
): Promise<EveryNResult> {
  checkFamily(sc);
  const env = environmentOf(sc, o);
  const job =
    o.symmetry !== false && o.project === undefined
      ? offload({
          sc,
          i: 0,
          config: c,
          environment: env,
          ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
          ...(o.progress !== undefined ? { progress: o.progress } : {}),
        })
      : null;
  // Read only when the pairs alone leave the check to do: a failure before that is no one's.
  job?.result.catch(() => undefined);
  try {
    // A pair alone that breaks an invariant (as soon as it is found) or is cut short ends the
    // check before the environment: the other thread's work would be lost, and it slows this one.
    const s = everyNStart(sc, c, o, {
      violation: () => job?.cancel(),
      pair: (g) => {
        if (!g.complete) job?.cancel();
      },
    });
    if ("result" in s) return s.result;
    const environment: EnvironmentResult[] = [];
    for (const i of s.checked) {
      const graph = s.every[i] as PairGraph;
      const r =
        i === 0 && job !== null
          ? judgeEnvironment(await job.result, graph)
          : environmentCheck(sc, i, graph, c, s.env, o);
      const stop = s.take(environment, r);
      if (stop !== null) return stop;
    }
    return s.finish(environment);
  } finally {
    job?.cancel();
  }
}

function checkFamily(sc: ScenarioDoc): number {
  const why = familyProblem(sc);
  if (why !== null) throw new RangeError(`everyN: not a family of failover pairs: ${why}`);
  const pairs = pairsOf(sc).length;
  if (pairs < 2) throw new RangeError("everyN: the family check runs at N = 2: give two pairs");
  return pairs;
}

/** The environment standing for the other pairs: as many udev events as udevd has workers. */
function environmentOf(sc: ScenarioDoc, o: EveryNOptions): EnvironmentOptions {
  const u = sc.udev;
  const workers = u !== undefined && u !== "none" ? (u.workers ?? DEFAULT_UDEV_WORKERS) : 0;
  return {
    udev: o.environmentEvents ?? workers,
    linkwatch: true,
    linkwatchAlways: o.environmentLinkwatch === "always",
    lanes: o.lanes ?? "reduced",
  };
}

/**
 * The part of `everyN` before the environment checks (every pair alone, the cross-talk), and
 * what follows them: either the result already, or the pairs to check and how to go on.
 */
function everyNStart(
  sc: ScenarioDoc,
  c: ExploreConfig,
  o: EveryNOptions,
  on: { readonly violation?: () => void; readonly pair?: (g: PairGraph) => void } = {},
):
  | { result: EveryNResult }
  | {
      every: PairGraph[];
      env: EnvironmentOptions;
      /** The pairs whose environment check runs, in order. */
      checked: number[];
      /** Adds pair i's check; the result when it ends the verdict, else null. */
      take: (list: EnvironmentResult[], r: EnvironmentResult) => EveryNResult | null;
      finish: (list: EnvironmentResult[]) => EveryNResult;
    } {
  const pairs = checkFamily(sc);
  const now = o.now ?? (() => 0);
  const t0 = now();
  const sc2 = familyOf(sc, 2);
  // Every pair of the file alone (each on its own slots): its graph, its verdict, its names.
  const every = Array.from({ length: pairs }, (_, i) => {
    const g = pairGraph(sc, i, c, o, on.violation);
    on.pair?.(g);
    return g;
  });
  const graphs = every.slice(0, 2);
  const alone = every.map((g) => ({
    states: g.states,
    transitions: g.transitions,
    projections: g.nodes.size,
    edges: g.edges.size,
    ends: g.ends.size,
    scriptMoves: g.scriptMoves,
    violation: g.violation,
  }));
  const done = (
    verdict: EveryNResult["verdict"],
    rest: Partial<Pick<EveryNResult, "crossTalk" | "environment" | "check">> = {},
  ): EveryNResult => ({
    pairs,
    verdict,
    alone,
    crossTalk: rest.crossTalk ?? [],
    environment: rest.environment ?? null,
    check: rest.check ?? null,
    ms: now() - t0,
  });
  if (every.some((g) => g.violation !== null)) return { result: done("alone-violated") };
  if (every.some((g) => !g.complete)) return { result: done("bounded") };
  // The end check takes a state where only the script is left as an end of the pair alone:
  // sound only while the script's steps change no projection.
  if (every.some((g) => g.scriptMoves > 0)) return { result: done("no-cutoff") };
  const b = sc.bringup;
  const talk = crossTalk(b !== undefined && b !== "none" ? b.links : [], every);
  if (talk.length > 0) return { result: done("no-cutoff", { crossTalk: talk }) };
  const one = o.symmetry !== false && sameGraphs(every);
  return {
    every,
    env: environmentOf(sc, o),
    checked: one ? [0] : [...every.keys()],
    take: (environment, r) => {
      environment.push(r);
      if (r.failures.length > 0 || r.violation !== null) return done("no-cutoff", { environment });
      if (!r.complete) return done("bounded", { environment });
      return null;
    },
    finish: (environment) => {
      if (!o.crossCheck) return done("verified", { environment });
      const check = familyCheck(sc2, graphs, c, o);
      const verdict =
        check.failures.length > 0 || check.violation !== null
          ? "no-cutoff"
          : !check.complete
            ? "bounded"
            : "verified";
      return done(verdict, { environment, check });
    },
  };
}
