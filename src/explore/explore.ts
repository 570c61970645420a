// `ifsim explore` without the terminal: search a scenario's interleavings, then turn a violation
// into the shortest path found, shrink its forced choices, and describe it step by step (for the
// swim-lane timeline, the replay token and the linear scenario).

import { type LinkRecord, linkRecords } from "../scenario/run.ts";
import type { ScenarioDoc, StepDoc } from "../scenario/schema.ts";
import type { TimelineEntry } from "../userspace/world.ts";
import {
  DEFAULT_INVARIANTS,
  ScenarioSystem,
  type ScenarioSystemOptions,
} from "./scenario-system.ts";
import {
  addStats,
  emptyStats,
  type Found,
  type SearchOptions,
  type SearchResult,
  type SearchStats,
  search,
} from "./search.ts";
import type { Violation } from "./system.ts";

/** Everything that defines one exploration (and its replay): the scenario system's options. */
export type ExploreConfig = ScenarioSystemOptions;

/** One step of a counterexample, for timelines and exports. */
export interface CexStep {
  /** 1-based position in the interleaving. */
  readonly n: number;
  readonly lane: string;
  /** Virtual time after the step, µs. */
  readonly t: number;
  /** Timeline lines the step wrote (actor, what, result). */
  readonly did: readonly TimelineEntry[];
  /** Userspace actions as a linear scenario step (none for kernel work). */
  readonly actions: readonly StepDoc[];
  /** The links after the step (names, flags, masters …), when the replay recorded states. */
  readonly links?: readonly LinkRecord[];
}

/** A violation made small and replayable. */
export interface Counterexample {
  readonly violation: Violation;
  /** Every lane fired, in order (the shortest path found). */
  readonly path: readonly string[];
  /** The forced choices after shrinking: replaying them (then earliest-first) still fails. */
  readonly choices: readonly string[];
  /** The replay of `choices`, step by step. */
  readonly steps: readonly CexStep[];
  /** Length of the first violating path the search found, before looking for shorter ones. */
  readonly firstLength: number;
}

/** The outcome of exploring one scenario under one configuration. */
export type ExploreResult =
  | { readonly verdict: "verified"; readonly stats: SearchStats }
  | {
      readonly verdict: "violated";
      readonly stats: SearchStats;
      readonly counterexample: Counterexample;
    }
  | {
      readonly verdict: "bounded";
      readonly stats: SearchStats;
      readonly bound: "max-depth" | "max-states" | "time-limit";
    };

/** Search options plus how hard to work on a counterexample. */
export interface ExploreOptions extends SearchOptions {
  /** Look for shorter violations by depth-bounded searches (default true). */
  readonly shortest?: boolean;
  /** Shrink the forced choices (default true). */
  readonly shrink?: boolean;
  /**
   * Split the search at this depth into independent subtrees (deduplicated by state key); the
   * result does not depend on how the subtrees are run (see `runSubtrees`). 0: no split.
   */
  readonly splitDepth?: number;
  /** Runs the subtrees (default: one after the other, here). A parallel runner must return the same. */
  readonly runSubtrees?: (prefixes: readonly string[][]) => SearchResult[];
}

/** Builds the system for a configuration. */
export function systemFor(sc: ScenarioDoc, c: ExploreConfig): ScenarioSystem {
  const o: ScenarioSystemOptions = {
    ...(c.kernel !== undefined ? { kernel: c.kernel } : {}),
    ...(c.udev !== undefined ? { udev: c.udev } : {}),
    ...(c.seed !== undefined ? { seed: c.seed } : {}),
    invariants: c.invariants ?? DEFAULT_INVARIANTS,
    ...(c.timing !== undefined ? { timing: c.timing } : {}),
    ...(c.view !== undefined ? { view: c.view } : {}),
    ...(c.atomic !== undefined ? { atomic: c.atomic } : {}),
    ...(c.clockFootprint !== undefined ? { clockFootprint: c.clockFootprint } : {}),
    ...(c.environment !== undefined ? { environment: c.environment } : {}),
    ...(c.lanes !== undefined ? { lanes: c.lanes } : {}),
  };
  return new ScenarioSystem(sc, o);
}

/** Fires `prefix` from the start state (every lane must be enabled in turn). */
export function applyPrefix(sys: ScenarioSystem, prefix: readonly string[]): void {
  for (const l of prefix) sys.fire(l);
}

/** Searches the subtree below `prefix`. */
export function searchSubtree(
  sc: ScenarioDoc,
  c: ExploreConfig,
  prefix: readonly string[],
  o: SearchOptions,
): SearchResult {
  const sys = systemFor(sc, c);
  applyPrefix(sys, prefix);
  const r = search(sys, { ...o, maxDepth: (o.maxDepth ?? 2000) - prefix.length });
  if (r.verdict === "violated")
    return { ...r, found: { ...r.found, path: [...prefix, ...r.found.path] } };
  return r;
}

/**
 * The subtrees at `depth`: every path of that length (or shorter, ending in quiescence or a
 * violation), full expansion, one per distinct state key. In a fixed order.
 */
export function frontier(
  sc: ScenarioDoc,
  c: ExploreConfig,
  depth: number,
  symmetric: boolean,
): string[][] {
  // Snapshots restore only along one branch (histories are cut back), so each node is rebuilt
  // by re-running its prefix: the frontier is small.
  let level: string[][] = [[]];
  const out: string[][] = [];
  for (let d = 0; d < depth; d++) {
    const next: string[][] = [];
    const seen = new Set<string>();
    for (const path of level) {
      const at = systemFor(sc, c);
      applyPrefix(at, path);
      const en = at.enabled();
      if (en.length === 0 || at.check(false)) {
        out.push(path);
        continue;
      }
      for (const l of en) {
        const sys = systemFor(sc, c);
        applyPrefix(sys, [...path, l]);
        const k = sys.fingerprint(symmetric).key;
        if (seen.has(k)) continue;
        seen.add(k);
        next.push([...path, l]);
      }
    }
    level = next;
  }
  out.push(...level);
  return out;
}

/** Combines subtree results in order: the first violation wins; stats up to it. */
export function combine(results: readonly SearchResult[]): SearchResult {
  const stats = emptyStats();
  let bounded: SearchResult | null = null;
  for (const r of results) {
    addStats(stats, r.stats);
    if (r.verdict === "violated") return { ...r, stats };
    if (r.verdict === "bounded" && !bounded) bounded = r;
  }
  if (bounded && bounded.verdict === "bounded") return { ...bounded, stats };
  return { verdict: "verified", stats };
}

/** Explores a scenario: search, then shortest + shrunk counterexample. */
export function exploreScenario(
  sc: ScenarioDoc,
  c: ExploreConfig,
  o: ExploreOptions = {},
): ExploreResult {
  const split = o.splitDepth ?? 0;
  let r: SearchResult;
  if (split > 0) {
    const prefixes = frontier(sc, c, split, o.symmetry ?? true);
    const run =
      o.runSubtrees ?? ((ps: readonly string[][]) => ps.map((p) => searchSubtree(sc, c, p, o)));
    r = combine(run(prefixes));
  } else r = search(systemFor(sc, c), o);
  const { onProgress: _p, ...quiet } = o;
  return finishExploration(sc, c, r, quiet);
}

/** The result of replaying choices. */
export interface ReplayResult {
  readonly violation: Violation | null;
  /** Lanes actually fired (choices that were not enabled are skipped). */
  readonly path: readonly string[];
  readonly steps: readonly CexStep[];
  readonly system: ScenarioSystem;
  /** The virtual time (µs) and links before the first step, when the replay recorded states. */
  readonly initial?: { readonly t: number; readonly links: readonly LinkRecord[] };
}

/**
 * Replays forced choices: each choice fires its lane if it is enabled (else it is skipped), then
 * the run continues in virtual-time order (ties: lane order) until quiescence or a violation.
 * With `o.states`, the links after every step (and before the first) are recorded, for the
 * counterexample's state trace (TLC prints the state after each step).
 */
export function replay(
  sc: ScenarioDoc,
  c: ExploreConfig,
  choices: readonly string[],
  maxSteps = 100_000,
  o: { readonly states?: boolean } = {},
): ReplayResult {
  const sys = systemFor(sc, c);
  const initial = o.states ? { t: sys.p.w.now(), links: linkRecords(sys.kernel) } : undefined;
  const steps: CexStep[] = [];
  const path: string[] = [];
  let violation = sys.check(false);
  const fire = (lane: string): void => {
    const tl = sys.p.w.timeline.length;
    const renames = sys.p.udev?.renames.length ?? 0;
    const ips = sys.p.w.ipLog.length;
    const scriptIdx = sys.p.script.stepIndex;
    sys.fire(lane);
    path.push(lane);
    steps.push({
      n: steps.length + 1,
      lane,
      t: sys.p.w.now(),
      did: sys.p.w.timeline.slice(tl),
      actions: actionsOf(sys, lane, { renames, ips, scriptIdx }),
      ...(o.states ? { links: linkRecords(sys.kernel) } : {}),
    });
    violation = sys.check(sys.enabled().length === 0);
  };
  let i = 0;
  while (!violation && steps.length < maxSteps) {
    const en = sys.enabled();
    if (en.length === 0) break;
    if (i < choices.length) {
      const ch = choices[i++] as string;
      if (en.includes(ch)) fire(ch);
      continue;
    }
    fire(sys.nextByTime() ?? (en[0] as string));
  }
  return { violation, path, steps, system: sys, ...(initial ? { initial } : {}) };
}

/** What a step did as linear-scenario steps (userspace actions only). */
function actionsOf(
  sys: ScenarioSystem,
  lane: string,
  before: { renames: number; ips: number; scriptIdx: number },
): StepDoc[] {
  const out: StepDoc[] = [];
  if (lane.startsWith("udev/") && sys.p.udev)
    for (const r of sys.p.udev.renames.slice(before.renames))
      out.push({ ip: `link set dev ${r.from} name ${r.to}` });
  if (lane === "networkd" || lane.startsWith("networkd/"))
    for (const x of sys.p.w.ipLog.slice(before.ips)) out.push({ ip: x.argv.join(" ") });
  // A coarse step (`atomic`) may run more than one step of the script.
  if (lane === "script")
    for (let i = before.scriptIdx; i < sys.p.script.stepIndex; i++) {
      const s = sys.sc.steps[i];
      if (s !== undefined) out.push(s);
    }
  return out;
}

/**
 * Shrinks forced choices: drops chunks, then single choices, while the replay still breaks
 * the same invariant within `maxSteps` steps (delta debugging, at most `budget` replays).
 */
export function shrinkChoices(
  sc: ScenarioDoc,
  c: ExploreConfig,
  path: readonly string[],
  v: Violation,
  budget = 400,
  maxSteps = Number.POSITIVE_INFINITY,
): string[] {
  let cur = [...path];
  let left = budget;
  const fails = (cs: readonly string[]): boolean => {
    left--;
    const r = replay(sc, c, cs);
    return r.violation?.invariant === v.invariant && r.steps.length <= maxSteps;
  };
  if (!fails(cur)) return cur;
  let chunk = Math.max(1, Math.floor(cur.length / 2));
  while (chunk >= 1 && left > 0) {
    let changed = false;
    for (let i = cur.length - chunk; i >= 0 && left > 0; i -= chunk) {
      const cand = [...cur.slice(0, i), ...cur.slice(i + chunk)];
      if (fails(cand)) {
        cur = cand;
        changed = true;
      }
    }
    if (!changed) chunk = Math.floor(chunk / 2);
  }
  return cur;
}

/** A seeded xorshift32 choice function: `next(n)` is in [0, n) (seed 0 counts as 1). */
export function chooser(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

/** How many seeded random walks to run, and their bounds. */
export interface WalkOptions {
  readonly walks: number;
  /** Seed of the walk choices (xorshift32; 0 counts as 1). */
  readonly seed: number;
  /** Longest walk (steps; default 2000). */
  readonly maxDepth?: number;
  readonly now?: () => number;
  /** No new walk starts after this many ms of `now()`. */
  readonly timeLimitMs?: number;
}

/** What seeded random walks found: the first violating walk (unshrunk), or none. */
export interface WalkResult {
  readonly found: Found | null;
  readonly stats: SearchStats;
  /** Walks run (the violating one included). */
  readonly walks: number;
  /** True when the time limit stopped the walks before `walks` were run. */
  readonly timedOut: boolean;
}

/**
 * Runs up to `o.walks` seeded random walks (each from the start state, a uniformly random enabled
 * lane at every step, to quiescence, a violation or `maxDepth`) and stops at the first violation.
 * The model's own RNG is untouched: the same seed gives the same walks.
 */
export function walkForViolation(sc: ScenarioDoc, c: ExploreConfig, o: WalkOptions): WalkResult {
  const stats = emptyStats();
  const now = o.now ?? (() => 0);
  const t0 = now();
  // The walk choices (the model's own RNG is left untouched).
  const next = chooser(o.seed);
  let walks = 0;
  let timedOut = false;
  let found: Found | null = null;
  for (; walks < o.walks && !found; walks++) {
    if (o.timeLimitMs !== undefined && now() - t0 > o.timeLimitMs) {
      timedOut = true;
      break;
    }
    const sys = systemFor(sc, c);
    const path: string[] = [];
    let v = sys.check(false);
    while (!v && path.length < (o.maxDepth ?? 2000)) {
      if (o.timeLimitMs !== undefined && now() - t0 > o.timeLimitMs) {
        timedOut = true;
        break;
      }
      const en = sys.enabled();
      stats.states++;
      if (en.length === 0) {
        stats.executions++;
        v = sys.check(true);
        break;
      }
      const l = en[next(en.length)] as string;
      sys.fire(l);
      stats.transitions++;
      path.push(l);
      v = sys.check(false);
    }
    stats.maxDepth = Math.max(stats.maxDepth, path.length);
    if (v) found = { violation: v, path };
    if (timedOut) break;
  }
  stats.elapsedMs = now() - t0;
  stats.distinct = stats.states;
  return { found, stats, walks, timedOut };
}

/** Random walks: a seeded sample of interleavings for spaces too large to finish. */
export function randomWalks(
  sc: ScenarioDoc,
  c: ExploreConfig,
  o: WalkOptions,
): ExploreResult & { walks: number } {
  const w = walkForViolation(sc, c, o);
  if (w.found) {
    const { violation: v, path } = w.found;
    const choices = shrinkChoices(sc, c, path, v);
    const rep = replay(sc, c, choices);
    return {
      verdict: "violated",
      stats: w.stats,
      walks: w.walks,
      counterexample: {
        violation: rep.violation ?? v,
        path,
        choices,
        steps: rep.steps,
        firstLength: path.length,
      },
    };
  }
  return {
    verdict: "bounded",
    stats: w.stats,
    walks: w.walks,
    bound: w.timedOut ? "time-limit" : "max-states",
  };
}

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
  // Shrunk choices whose replay is no longer than the path: the timeline shown is the short one.
  const choices =
    (o.shrink ?? true)
      ? shrinkChoices(sc, c, best.path, best.violation, 400, best.path.length)
      : [...best.path];
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
 * The shortest path to a violation of `found`'s invariant, by one depth-first branch-and-bound
 * search: the bound starts one below the path found and drops to one below each shorter
 * violation found, without restarting. No partial-order reduction (DPOR with a depth bound
 * misses paths: a race it would have to reverse may lie below the bound) and a table of the
 * least depth each state was explored at (a state is searched again when reached by a shorter
 * path; one explored at a depth ≤ this one, under a bound ≥ this one since bounds only drop,
 * already covered everything below it), so within its budget the result is a shortest path of
 * the (symmetry-reduced) state graph. When the budget runs out, the shortest found so far.
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
  let limit = best.path.length - 1;
  const sys = systemFor(sc, c);
  const seen = new Map<string, number>();
  const path: string[] = [];
  const dfs = (depth: number): void => {
    states++;
    if (states > budget) throw new OutOfBudget();
    if (o.timeLimitMs !== undefined && now() - t0 > o.timeLimitMs) throw new OutOfBudget();
    const en = sys.enabled();
    const bad = sys.check(en.length === 0);
    if (bad) {
      if (bad.invariant === inv && depth < best.path.length) {
        best = { violation: bad, path: [...path] };
        limit = depth - 1;
      }
      return;
    }
    if (en.length === 0 || depth >= limit) return;
    const key = sys.fingerprint(symmetric).key;
    const d0 = seen.get(key);
    if (d0 !== undefined && d0 <= depth) return;
    seen.set(key, depth);
    const snap = en.length > 1 ? sys.save() : null;
    for (const [i, lane] of en.entries()) {
      if (depth >= limit) return;
      if (i > 0 && snap) sys.restore(snap);
      sys.fire(lane);
      path.push(lane);
      dfs(depth + 1);
      path.pop();
    }
  };
  try {
    if (limit >= 1) dfs(0);
  } catch (e) {
    if (!(e instanceof OutOfBudget)) throw e;
  }
  return best;
}
