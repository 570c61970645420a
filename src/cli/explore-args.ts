// `ifsim explore` and `ifsim replay`: their help texts and the parsing of their options.

import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import {
  DEFAULT_INVARIANTS,
  INVARIANTS,
  type InvariantName,
  TIMINGS,
  type Timing,
} from "../explore/scenario-system.ts";
import { STATE_VIEWS, type StateView } from "../explore/state-view.ts";
import { profileFor, UnknownKernelError } from "../kernel/index.ts";
import { UdevGeneration } from "../scenario/schema.ts";
import { parseDuration } from "./io.ts";

/** `ifsim explore --help`. */
export const EXPLORE_HELP = `Usage: ifsim explore FILE.yaml [options]
       ifsim explore FILE.yaml --shard K/N [--shard-out FILE] [options]
       ifsim explore --merge SHARD-FILE... [output options]
       ifsim explore --list-invariants
       ifsim replay TOKEN|TRACE-FILE [--cell K/U] [--json] [--itf FILE] [--export FILE]
                    [--html FILE]

Explores every interleaving of the scenario's actors (the kernel's deferred work, each udev
worker, bring-up, cloud-init, QEMU, the script) for a broken invariant, up to partial-order
reduction (DPOR), symmetry and state hashing. A violation comes with a swim-lane timeline, a
replay token (written to a file: ifsim replay FILE), the links after each step and, with
--export, a linear scenario to run on a real kernel.

Configuration (a list of kernels or udev generations explores each combination, as a matrix):
  --kernel LIST      kernel profiles, comma-separated or repeated (default: the file's kernel:)
  --udev LIST        udev generations: legacy, v249, v250, v253, v256 (default: the file's)
  --seed N           seed of the model's RNG (default: the file's seed:, else 1)
  --invariants LIST  what to check (default: the file's explore.invariants, else the built-in
                     ones; add "expect" for the file's own expect: list)
  --list-invariants  print the invariants and what each checks
  --timing any|strict|free  any (default): every ready actor may go next whatever its
                     virtual time (the kernel still runs its deferred work in due order, and
                     linkwatch and bring-up still decide by the clock); strict: virtual-time
                     order, only ties explored; free: no decision depends on a time, so a
                     verdict holds for every latency: each kind of kernel work may run before
                     the others, linkwatch's run may be urgent-only or full, bring-up may take
                     any pending link first. Every "any" execution is a "free" one. --view
                     does not apply
  --view exact|coarse  which state a key keeps (docs/performance.md, "State view"). exact
                     (default): every timer and actor due time relative to now, times
                     already passed as 0 (or, where an actor picks by them, their order), and
                     a step that sets a timer from the clock depends on every step that moves
                     it (so independent steps commute); no divergence found by the self-test.
                     coarse: no actor due times and past linkwatch times kept as they are:
                     0.6x the states on the boot race, but it merges some states whose timers
                     then diverge (the view self-test finds them), so its "verified" is not a
                     proof
Search:
  --atomic on|off    coarse atomic steps (default on): a step no other actor can observe (it
                     touches only its own actor's private state, e.g. the script starting a
                     settle or a sleep) runs together with that actor's next step, as one
                     step (Lipton's reduction; README, "Coarse steps"). Replay tokens record
                     --atomic off
  --reduction dpor|none  partial-order reduction (default dpor)
  --no-symmetry      do not identify states that differ by a permutation of identical
                     failover pairs or of udev workers
  --no-hashing       do not prune states already explored
  --max-depth N      longest path explored (default 2000; a path cut here: bounded)
  --max-states N     stop each subtree after N states (bounded)
  --time-limit DUR   stop after DUR, e.g. 30s, 500ms, 2m (bounded)
  --probe N          before the exhaustive search, N seeded random walks (default 16; 0:
                     none): a violation they find is reported at once (then shortened and
                     shrunk like the search's), which is what finds bugs in spaces too large
                     to search; a verdict "verified" still needs the whole search
  --random N         N seeded random walks instead of the exhaustive search
  --walk-seed N      seed of the random walks and of the probe (default 1)
  --jobs N           worker threads for the subtrees (default: the available parallelism);
                     with --every-n (default 1 there), 2 or more run pair 0's environment
                     check on a thread beside the pairs alone (the same result as --jobs 1;
                     on the boot race a thread's start costs more than it gives)
  --split-depth N    split the search at this depth into subtrees (default 0: no split;
                     subtrees do not share states, so a split costs steps); the result does
                     not depend on --jobs
  --no-shrink        keep the counterexample's choices as found
  --estimate         print the expected size of the search (distinct states, transitions,
                     time) of each configuration and exit without searching: --estimate-walks
                     seeded random walks (default 200, walk seed --walk-seed); distinct states
                     by Chao's incidence estimator over the states the walks met, transitions as
                     distinct × mean enabled lanes, time at the walks' speed; "≥" when more
                     than half the states were met by one walk only (then they are lower
                     bounds). Measured with 200 walks against the search without reduction:
                     seed race 6.1 321 vs 321 states, 626 vs 681 transitions; 6.2/v256 307 vs
                     311 states, 599 vs 662 transitions, 2.1 vs 2.3 s; one-pair boot race 5.1
                     ≥2 163 vs 5 178 states (1 000 walks: ≥3 575), time 2-3x low. Walks cost
                     about what the search of a small space costs; they pay on large ones
  --estimate-walks N random walks of --estimate (default 200)
Every number of pairs (docs/performance.md, "A verdict for every N"). A family of identical
failover pairs gets --every-n by default; --search, or an option that shapes the search
(--timing any/strict, --random, --estimate, --shard, --reduction, --no-hashing, --max-states,
--max-depth, --view, --atomic, --split-depth, --jobs, --probe, --walk-seed, --no-shrink),
searches the file at its own N instead:
  --every-n          for a family of identical failover pairs (a STANDBY virtio-net and its
                     VF each, one bring-up link per pair, steps: [settle]; at least two
                     pairs), under free timing and without partial-order reduction (the
                     lanes that show the check nothing new left out: --every-n-lanes):
                     enumerate each pair alone, giving its projected graph (its devices, udev's entries, events
                     and renames for them, bring-up of its link, its linkwatch and kernel
                     work; ifindexes, eth<n> and virtio<n> as roles); check that no pair
                     takes another's names or matches another's bring-up link; then run
                     each pair against an environment standing for every other pair (other
                     devices' events in udev's queue, holding workers for as long as they
                     like; linkwatch work queued, urgent or not, whenever a device of the
                     pair is on linkwatch's list) and check that it stays within the pair
                     alone's graph. Passed: "verified (every N; cutoff 1)"; else the file
                     is searched at its own N under free timing and that report follows.
                     The boot race (Linux 5.1, two pairs) takes 3–4.5 s on 2 CPUs
  --search           search a family of pairs at its own N, state by state, not --every-n
  --cross-check      implies --every-n: also enumerate every reachable state and transition
                     of two pairs and check each pair against the pair alone (the boot race
                     on 5.1: 126 569 states, about 3 min; up to a permutation of the pairs
                     and of udev's workers unless --no-symmetry: 211 927, 4 min)
  --environment-events K
                     implies --every-n: other devices' udev events queued or held at once
                     (default: udev's workers, so the environment can hold every one)
  --environment-linkwatch listed|always
                     implies --every-n: when the environment may queue the linkwatch work:
                     while a device of the pair is on linkwatch's list (listed, the default:
                     before that a run changes nothing of the pair) or at every step (always:
                     the broad environment, about 1.2 times the states)
  --every-n-lanes reduced|all
                     implies --every-n: reduced (the default): the enumerations leave out
                     lanes that show the check nothing new: the script (one settle: it
                     writes only its own position) and, where the environment may queue
                     the linkwatch work urgently and the work is queued already, every lane
                     but that move (the state after it can do all the state before it can;
                     docs/performance.md); all: every lane of every state (about three times
                     the environment check's states on the boot race)
Past one machine (docs/sharding.md: a Kubernetes Indexed Job, a CI matrix):
  --shard K/N        run share K of N (1 ≤ K ≤ N) and write it to a file, nothing else: every
                     cell's probe, then the units (the subtrees at --split-depth of each cell
                     the probe did not find violated; one per cell without a split) in a fixed
                     shuffled order, dealt round robin. Exit 0 once the file is written (the
                     verdict is the merge's). Use --split-depth 2 or more for more units than
                     shards (a split costs transitions: docs/sharding.md)
  --shard-out FILE   where the share goes (default: NAME.shard-K-of-N.json in the current
                     directory); JSON, versioned, with the scenario, its SHA-256 and the options
  --merge FILE...    combine all N shard files into exactly the verdict, statistics and
                     counterexample of one run with the same options (elapsed times summed);
                     files of another scenario, other options or another N, a missing or a
                     repeated shard: exit 2. Takes only the output options below
Output:
  --json             one JSON object (no progress on stderr unless it is a terminal); the
                     replay tokens are in it (no token file unless --trace-out is given)
  --trace-out FILE   write the counterexamples' replay tokens to FILE (default: NAME.cex.txt
                     in the current directory, NAME the scenario file's; ifsim replay FILE)
  --itf FILE         write the counterexample as an ITF trace (the JSON format of Apalache
                     and Quint: the links after each step; one configuration)
  --export FILE      write the counterexample as a linear scenario (one configuration)
  --html FILE        write an HTML report: every cell side by side, each counterexample as
                     swim lanes on the virtual clock with each step's result and cause and the
                     ip link state after any step on click or hover (docs/html-report.md)
Exit status: 0 verified, 1 violated, 3 bounded (inconclusive), 2 bad input. A matrix: 1 if any
cell is violated, else 3 if any is bounded, else 0. --every-n: 0 when every cell is verified
for every N or its re-check verified the file, else the re-check's status (3 when time ran out).
`;

/** `ifsim replay --help`. */
export const REPLAY_HELP = `Usage: ifsim replay TOKEN|TRACE-FILE [--cell K/U] [--json] [--itf FILE] [--export FILE]
                    [--html FILE]

Replays a counterexample from a token ifsim explore wrote (it holds the scenario, the
configuration and the forced choices), given itself or as the file it is in (--trace-out):
prints the swim-lane timeline, the links after each step and the violation.
  --cell K/U     the counterexample of kernel K and udev generation U, when the file holds
                 several (a matrix); K alone for a scenario without udev
  --json         the replay as one JSON object
  --itf FILE     write it as an ITF trace (the JSON format of Apalache and Quint)
  --export FILE  write it as a linear scenario (ifsim run FILE --backend qemu to confirm it)
  --html FILE    write an HTML report: the interleaving as swim lanes on the virtual clock,
                 each step's result and cause, the ip link state after any step on click or
                 hover (docs/html-report.md)
Exit status: 1 the violation reproduces, 0 the run ends without one, 2 a bad token.
`;

/** A usage error (exit 2). */
export type Usage = { readonly usage: string };
/** Whether a parse result is a usage error. */
export const isUsage = (x: unknown): x is Usage =>
  typeof x === "object" && x !== null && "usage" in x && typeof x.usage === "string";

/** Comma-separated and/or repeated values, trimmed, each once, in order. */
function listOf(vs: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of vs ?? [])
    for (const x of v.split(",")) {
      const y = x.trim();
      if (y !== "" && !out.includes(y)) out.push(y);
    }
  return out;
}

function intOpt(name: string, v: string | undefined, min: number): number | undefined | Usage {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min)
    return {
      usage: `--${name} needs ${min > 0 ? "a positive" : "a non-negative"} integer, got "${v}"`,
    };
  return Number(v);
}

/** The explore options after parsing. */
export interface ExploreArgs {
  readonly file: string;
  readonly kernels: string[];
  readonly udevs: string[];
  readonly seed?: number;
  readonly invariants: string[];
  readonly timing?: Timing;
  /** --view: the state view of the keys. */
  readonly view?: StateView;
  /** --atomic on|off (absent: on). */
  readonly atomic?: boolean;
  readonly reduction: "dpor" | "none";
  readonly symmetry: boolean;
  readonly hashing: boolean;
  readonly maxDepth: number;
  readonly maxStates?: number;
  readonly timeLimitMs?: number;
  readonly random?: number;
  readonly probe: number;
  readonly walkSeed: number;
  readonly jobs: number;
  /**
   * The every-N check's threads: --jobs (capped), default 1. Its environment check is short
   * now, and a thread's start and cold JIT cost more than running it after the pairs alone.
   */
  readonly everyNJobs: number;
  /** --jobs as given, when it was above the CPU count (and so capped). */
  readonly jobsAsked?: number;
  readonly splitDepth: number;
  readonly json: boolean;
  readonly exportFile?: string;
  readonly htmlFile?: string;
  /** Where the counterexamples' replay tokens go (--trace-out). */
  readonly traceOut?: string;
  /** Where the counterexample goes as an ITF trace (--itf). */
  readonly itf?: string;
  readonly shrink: boolean;
  /** --shard K/N: run share K (1..N) and write it to a file, for --merge. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Where the shard's result goes (--shard-out). */
  readonly shardOut?: string;
  /** --estimate: print the expected size of the search and exit without searching. */
  readonly estimate?: boolean;
  /** Random probes of the estimate (--estimate-walks). */
  readonly estimateWalks: number;
  /** --every-n: a verdict for every number of pairs of a family of failover pairs. */
  readonly everyN?: boolean;
  /**
   * No --every-n, no --search and no option that shapes the search: a family of identical
   * failover pairs gets the --every-n check (other files the search).
   */
  readonly everyNIfFamily?: boolean;
  /** --cross-check: --every-n also enumerates two pairs (the check at N = 2). */
  readonly crossCheck?: boolean;
  /** --environment-events K: the environment's udev events at once (--every-n). */
  readonly environmentEvents?: number;
  /** --environment-linkwatch: when the environment's linkwatch moves are offered (--every-n). */
  readonly environmentLinkwatch?: "listed" | "always";
  /** --every-n-lanes: "all" turns the every-N check's lane reductions off. */
  readonly everyNLanes?: "reduced" | "all";
  /** The search is --every-n's re-check of the file at its own N (no hint about --every-n). */
  readonly everyNRecheck?: boolean;
}

/** `ifsim explore --merge FILES…`: the shard files and the output options. */
export interface MergeArgs {
  readonly files: string[];
  readonly json: boolean;
  readonly exportFile?: string;
  readonly htmlFile?: string;
  readonly traceOut?: string;
  readonly itf?: string;
}

const OPTIONS = {
  kernel: { type: "string", multiple: true },
  udev: { type: "string", multiple: true },
  seed: { type: "string" },
  invariants: { type: "string", multiple: true },
  "list-invariants": { type: "boolean" },
  timing: { type: "string" },
  view: { type: "string" },
  atomic: { type: "string" },
  reduction: { type: "string" },
  "no-symmetry": { type: "boolean" },
  "no-hashing": { type: "boolean" },
  "max-depth": { type: "string" },
  "max-states": { type: "string" },
  "time-limit": { type: "string" },
  random: { type: "string" },
  probe: { type: "string" },
  "walk-seed": { type: "string" },
  jobs: { type: "string" },
  "split-depth": { type: "string" },
  json: { type: "boolean" },
  export: { type: "string" },
  html: { type: "string" },
  "trace-out": { type: "string" },
  itf: { type: "string" },
  "no-shrink": { type: "boolean" },
  shard: { type: "string" },
  "shard-out": { type: "string" },
  merge: { type: "boolean" },
  estimate: { type: "boolean" },
  "estimate-walks": { type: "string" },
  "every-n": { type: "boolean" },
  "cross-check": { type: "boolean" },
  search: { type: "boolean" },
  "environment-events": { type: "string" },
  "environment-linkwatch": { type: "string" },
  "every-n-lanes": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** parseArgs' complaint without its advice about "--". */
export function argError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split(". To specify a positional")[0]?.replace(/\.$/, "") ?? msg;
}

/** What parsing the explore options gives. */
export type Parsed =
  | ExploreArgs
  | Usage
  | { readonly help: true }
  | { readonly list: true }
  | { readonly merge: MergeArgs };

/** The options a merge takes (the search options come from the shard files). */
const MERGE_OPTIONS = new Set(["merge", "json", "export", "html", "trace-out", "itf"]);

/** Parses `ifsim explore` options (argv without the command word). */
export function parseExploreArgs(argv: readonly string[]): Parsed {
  let v: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    v = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return { usage: argError(e) };
  }
  const o = v.values;
  if (o.help) return { help: true };
  if (o["list-invariants"]) return { list: true };
  if (o.merge) {
    const other = Object.keys(o).filter((k) => !MERGE_OPTIONS.has(k));
    if (other.length > 0)
      return {
        usage: `--merge takes the search options from the shard files: drop ${other.map((k) => `--${k}`).join(", ")}`,
      };
    if (v.positionals.length === 0)
      return { usage: "--merge needs the shard files (ifsim explore FILE --shard K/N wrote them)" };
    return {
      merge: {
        files: v.positionals,
        json: o.json ?? false,
        ...(o.export !== undefined ? { exportFile: o.export } : {}),
        ...(o.html !== undefined ? { htmlFile: o.html } : {}),
        ...(o["trace-out"] !== undefined ? { traceOut: o["trace-out"] } : {}),
        ...(o.itf !== undefined ? { itf: o.itf } : {}),
      },
    };
  }
  if (v.positionals.length !== 1)
    return {
      usage:
        v.positionals.length === 0
          ? "give a scenario file (see ifsim explore --help)"
          : `give one scenario file, got ${v.positionals.length}`,
    };
  const nums: Record<string, number | undefined> = {};
  for (const [name, min] of [
    ["seed", 0],
    ["max-depth", 1],
    ["max-states", 1],
    ["random", 1],
    ["probe", 0],
    ["walk-seed", 0],
    ["jobs", 1],
    ["split-depth", 0],
    ["estimate-walks", 1],
  ] as const) {
    const r = intOpt(name, o[name], min);
    if (isUsage(r)) return r;
    nums[name] = r;
  }
  let timeLimitMs: number | undefined;
  if (o["time-limit"] !== undefined) {
    const d = parseDuration(o["time-limit"]);
    if (d === null)
      return {
        usage: `--time-limit needs a duration like 30s, 500ms or 2m, got "${o["time-limit"]}"`,
      };
    timeLimitMs = d;
  }
  if (o.timing !== undefined && !TIMINGS.includes(o.timing as Timing))
    return { usage: `--timing is any, strict or free, got "${o.timing}"` };
  if (o.timing === "free" && o.view !== undefined)
    return { usage: "--view does not apply to --timing free (its keys hold no time)" };
  if (o.view !== undefined && !STATE_VIEWS.includes(o.view as StateView))
    return { usage: `--view is ${STATE_VIEWS.join(" or ")}, got "${o.view}"` };
  if (o.atomic !== undefined && o.atomic !== "on" && o.atomic !== "off")
    return { usage: `--atomic is on or off, got "${o.atomic}"` };
  if (o.reduction !== undefined && o.reduction !== "dpor" && o.reduction !== "none")
    return { usage: `--reduction is dpor or none, got "${o.reduction}"` };
  const invariants = listOf(o.invariants);
  const unknown = invariants.filter((x) => !Object.hasOwn(INVARIANTS, x));
  if (unknown.length > 0)
    return {
      usage: `unknown invariant${unknown.length > 1 ? "s" : ""} ${unknown.map((x) => `"${x}"`).join(", ")}: valid names are ${Object.keys(INVARIANTS).join(", ")}`,
    };
  let shard: { index: number; count: number } | undefined;
  if (o.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(o.shard);
    const k = Number(m?.[1]);
    const n = Number(m?.[2]);
    if (!m || !Number.isSafeInteger(n) || n < 1 || k < 1 || k > n)
      return { usage: `--shard needs K/N with 1 ≤ K ≤ N (e.g. 2/4), got "${o.shard}"` };
    shard = { index: k, count: n };
    for (const [flag, set] of [
      ["--random", o.random],
      ["--estimate", o.estimate],
      ["--json", o.json],
      ["--export", o.export],
      ["--itf", o.itf],
      ["--html", o.html],
      ["--trace-out", o["trace-out"]],
    ] as const)
      if (set !== undefined)
        return {
          usage:
            flag === "--random" || flag === "--estimate"
              ? `--shard splits the exhaustive search: ${flag} cannot be sharded`
              : `${flag} is an output of the merge: give it to ifsim explore --merge FILES…`,
        };
  } else if (o["shard-out"] !== undefined) return { usage: "--shard-out needs --shard K/N" };
  if (o.estimate && o.random !== undefined)
    return { usage: "--estimate sizes the exhaustive search: not with --random" };
  // --cross-check, --every-n-lanes and the --environment-… options belong to the every-N check:
  // they ask for it (a family file gets it by default anyway).
  const implied = (
    ["cross-check", "environment-events", "environment-linkwatch", "every-n-lanes"] as const
  ).find((f) => o[f] !== undefined);
  if (implied !== undefined && o.search && !o["every-n"])
    return { usage: `--${implied} goes with --every-n, not with --search` };
  const everyN = o["every-n"] === true || implied !== undefined;
  const everyNFlag = o["every-n"] ? "--every-n" : `--every-n (which --${implied} asks for)`;
  if (everyN) {
    if (o.timing !== undefined && o.timing !== "free")
      return {
        usage: `${everyNFlag} decides under --timing free (every latency), not "${o.timing}"`,
      };
    for (const [flag, set] of [
      ["--random", o.random],
      ["--estimate", o.estimate],
      ["--shard", o.shard],
      ["--reduction", o.reduction],
      ["--no-hashing", o["no-hashing"]],
      ["--max-states", o["max-states"]],
      ["--view", o.view],
    ] as const)
      if (set !== undefined)
        return {
          usage: `${everyNFlag} enumerates without reduction: not with ${flag}`,
        };
    if (o.search) return { usage: "--search and --every-n: give one" };
  }
  // A family of identical pairs is decided for every N unless a search is asked for, by --search
  // or by an option that shapes the search.
  const searchAsked =
    o.search === true ||
    (o.timing !== undefined && o.timing !== "free") ||
    [
      o.random,
      o.estimate,
      o.shard,
      o.reduction,
      o["no-hashing"],
      o["max-states"],
      o.view,
      o.atomic,
      o["split-depth"],
      o["max-depth"],
      o.jobs,
      o.probe,
      o["walk-seed"],
      o["no-shrink"],
    ].some((x) => x !== undefined);
  let environmentEvents: number | undefined;
  if (o["environment-events"] !== undefined) {
    const t = o["environment-events"];
    const n = Number(t);
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(n) || n > 64)
      return { usage: `--environment-events takes a count from 0 to 64, not "${t}"` };
    environmentEvents = n;
  }
  const lw = o["environment-linkwatch"];
  if (lw !== undefined && lw !== "listed" && lw !== "always")
    return { usage: `--environment-linkwatch takes listed or always, not "${lw}"` };
  const environmentLinkwatch: "listed" | "always" | undefined = lw;
  const el = o["every-n-lanes"];
  if (el !== undefined && el !== "reduced" && el !== "all")
    return { usage: `--every-n-lanes takes reduced or all, not "${el}"` };
  const everyNLanes: "reduced" | "all" | undefined = el;
  const udevs = listOf(o.udev);
  const gens: readonly string[] = UdevGeneration.options;
  const badGen = udevs.find((g) => !gens.includes(g));
  if (badGen !== undefined)
    return { usage: `unknown udev generation "${badGen}": one of ${gens.join(", ")}` };
  const kernels = listOf(o.kernel);
  for (const k of kernels) {
    try {
      profileFor(k);
    } catch (e) {
      if (e instanceof UnknownKernelError) return { usage: e.message };
      throw e;
    }
  }
  return {
    file: v.positionals[0] as string,
    kernels,
    udevs,
    ...(nums.seed !== undefined ? { seed: nums.seed } : {}),
    invariants,
    ...(o.timing !== undefined ? { timing: o.timing as Timing } : {}),
    ...(o.view !== undefined ? { view: o.view as StateView } : {}),
    ...(o.atomic === "off" ? { atomic: false } : {}),
    reduction: (o.reduction ?? "dpor") as "dpor" | "none",
    symmetry: !o["no-symmetry"],
    hashing: !o["no-hashing"],
    maxDepth: nums["max-depth"] ?? 2000,
    ...(nums["max-states"] !== undefined ? { maxStates: nums["max-states"] } : {}),
    ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
    ...(nums.random !== undefined ? { random: nums.random } : {}),
    probe: nums.probe ?? 16,
    walkSeed: nums["walk-seed"] ?? 1,
    // More threads than CPUs only adds memory and contention (and each thread must notice the
    // time limit): capped, with a note (jobsAsked).
    jobs: Math.min(nums.jobs ?? availableParallelism(), availableParallelism()),
    everyNJobs: Math.min(nums.jobs ?? 1, availableParallelism()),
    ...(nums.jobs !== undefined && nums.jobs > availableParallelism()
      ? { jobsAsked: nums.jobs }
      : {}),
    splitDepth: nums["split-depth"] ?? 0,
    json: o.json ?? false,
    ...(o.export !== undefined ? { exportFile: o.export } : {}),
    ...(o.html !== undefined ? { htmlFile: o.html } : {}),
    ...(o["trace-out"] !== undefined ? { traceOut: o["trace-out"] } : {}),
    ...(o.itf !== undefined ? { itf: o.itf } : {}),
    shrink: !o["no-shrink"],
    ...(shard !== undefined ? { shard } : {}),
    ...(o["shard-out"] !== undefined ? { shardOut: o["shard-out"] } : {}),
    ...(o.estimate ? { estimate: true } : {}),
    estimateWalks: nums["estimate-walks"] ?? 200,
    ...(everyN ? { everyN: true, timing: "free" as Timing } : {}),
    ...(o["cross-check"] ? { crossCheck: true } : {}),
    ...(!everyN && !searchAsked ? { everyNIfFamily: true } : {}),
    ...(environmentEvents !== undefined ? { environmentEvents } : {}),
    ...(environmentLinkwatch !== undefined ? { environmentLinkwatch } : {}),
    ...(everyNLanes !== undefined ? { everyNLanes } : {}),
  };
}

/** `ifsim explore --list-invariants`. */
export function listInvariants(): string {
  const names = Object.keys(INVARIANTS) as InvariantName[];
  const w = Math.max(...names.map((n) => n.length));
  const lines = names.map(
    (n) =>
      `  ${n.padEnd(w)}  ${INVARIANTS[n]}${DEFAULT_INVARIANTS.includes(n) ? "" : " [not default]"}`,
  );
  return `Invariants (--invariants a,b; default: all but those marked [not default]):\n${lines.join("\n")}\n`;
}
