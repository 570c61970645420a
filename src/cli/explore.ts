// `ifsim explore FILE` and `ifsim replay TOKEN`: search every interleaving of a scenario's actors
// for a broken invariant (one configuration, or a kernel × udev matrix), print SPIN/TLC-style
// statistics and the verdict, and for a violation a swim-lane timeline, a self-contained replay
// token and, on request, the counterexample as a linear scenario.
//
// The search is split at --split-depth into subtrees (deduplicated by state key, in a fixed
// order); --jobs N runs them on worker threads, --jobs 1 here, one after the other. Results are
// combined in prefix order, so they do not depend on --jobs.

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import {
  type CexStep,
  combine,
  type ExploreConfig,
  type ExploreResult,
  frontier,
  type ReplayResult,
  randomWalks,
  replay,
  systemFor,
  walkForViolation,
} from "../explore/explore.ts";
import { linearScenario } from "../explore/export.ts";
import { finishExploration } from "../explore/finish.ts";
import { DEFAULT_INVARIANTS, INVARIANTS, type InvariantName } from "../explore/scenario-system.ts";
import {
  addStats,
  emptyStats,
  type SearchResult,
  type SearchStats,
  search,
} from "../explore/search.ts";
import type { Violation } from "../explore/system.ts";
import {
  MAX_TOKEN_SCENARIO,
  payloadFromJson,
  payloadToJson,
  type ReplayPayload,
  TOKEN_PREFIX,
} from "../explore/token.ts";
import { profileFor, UnknownKernelError } from "../kernel/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import { RunError, stepText } from "../scenario/run.ts";
import { type ScenarioDoc, UdevGeneration } from "../scenario/schema.ts";
import { exploreHtml, replayHtml } from "./explore-html.ts";
import {
  runSubtree,
  type SubtreeOptions,
  type WorkerInit,
  type WorkerMessage,
  wallNow,
} from "./explore-worker.ts";
import {
  checkWritable,
  EXIT_IOERR,
  outputClash,
  parseDuration,
  readInput,
  writeOutput,
} from "./io.ts";
import type { CliResult } from "./main.ts";
import { swimlane } from "./swimlane.ts";

const EXPLORE_HELP = `Usage: ifsim explore FILE.yaml [options]
       ifsim explore --list-invariants
       ifsim replay TOKEN [--json] [--export FILE] [--html FILE]

Explores every interleaving of the scenario's actors (the kernel's deferred work, each udev
worker, bring-up, cloud-init, QEMU, the script) for a broken invariant, up to partial-order
reduction (DPOR), symmetry and state hashing. A violation comes with a swim-lane timeline, a
replay token (ifsim replay TOKEN) and, with --export, a linear scenario to run on a real kernel.

Configuration (a list of kernels or udev generations explores each combination, as a matrix):
  --kernel LIST      kernel profiles, comma-separated or repeated (default: the file's kernel:)
  --udev LIST        udev generations: legacy, v249, v250, v253, v256 (default: the file's)
  --seed N           seed of the model's RNG (default: the file's seed:, else 1)
  --invariants LIST  what to check (default: the file's explore.invariants, else the built-in
                     ones; add "expect" for the file's own expect: list)
  --list-invariants  print the invariants and what each checks
  --timing any|strict  any (default): every ready actor may go next whatever its virtual time;
                     strict: virtual-time order, only ties explored
Search:
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
  --jobs N           worker threads for the subtrees (default: the available parallelism)
  --split-depth N    split the search at this depth into subtrees (default 1; 0: no split);
                     the result does not depend on --jobs
  --no-shrink        keep the counterexample's choices as found
Output:
  --json             one JSON object (no progress on stderr unless it is a terminal)
  --export FILE      write the counterexample as a linear scenario (one configuration)
  --html FILE        write an HTML report: every cell side by side, each counterexample as
                     swim lanes on the virtual clock with each step's result and cause and the
                     ip link state after any step on click or hover (docs/html-report.md)
Exit status: 0 verified, 1 violated, 3 bounded (inconclusive), 2 bad input. A matrix: 1 if any
cell is violated, else 3 if any is bounded, else 0.
`;

const REPLAY_HELP = `Usage: ifsim replay TOKEN [--json] [--export FILE] [--html FILE]

Replays a counterexample from the token ifsim explore printed (it holds the scenario, the
configuration and the forced choices): prints the swim-lane timeline and the violation.
  --json         the replay as one JSON object
  --export FILE  write it as a linear scenario (ifsim run FILE --backend qemu to confirm it)
  --html FILE    write an HTML report: the interleaving as swim lanes on the virtual clock,
                 each step's result and cause, the ip link state after any step on click or
                 hover (docs/html-report.md)
Exit status: 1 the violation reproduces, 0 the run ends without one, 2 a bad token.
`;

// ---------------------------------------------------------------------------------------------
// The terminal (injected: progress goes to stderr while the search runs, before the result).

/** Where live progress goes and how wide the output may be (main() sets it for the binary). */
export interface ExploreTerminal {
  /** Writes to stderr at once. */
  write(text: string): void;
  /** stderr is a terminal (progress bar rewritten with \r; else a plain line every 2 s). */
  readonly stderrIsTTY: boolean;
  /** Width of stderr when it is a terminal. */
  readonly stderrColumns?: number;
  /** Width of stdout when it is a terminal (the swim-lane timeline fits it; default 120). */
  readonly stdoutColumns?: number;
}

/** The terminal of this process, or null (no live progress: tests, library use). */
export const exploreTerminal: { current: ExploreTerminal | null } = { current: null };

/** Live progress of a search on stderr. */
class Progress {
  readonly #term: ExploreTerminal | null;
  readonly #t0: number;
  readonly #total: { maxStates?: number; timeLimitMs?: number };
  #last: number;
  #drawn = false;

  constructor(json: boolean, total: { maxStates?: number; timeLimitMs?: number }) {
    const term = exploreTerminal.current;
    this.#term = term && (!json || term.stderrIsTTY) ? term : null;
    this.#t0 = performance.now();
    this.#last = this.#t0;
    this.#total = total;
  }

  update(s: { states: number; maxDepth: number }): void {
    const term = this.#term;
    if (!term) return;
    const now = performance.now();
    if (now - this.#last < (term.stderrIsTTY ? 100 : 2000)) return;
    this.#last = now;
    const el = (now - this.#t0) / 1000;
    const rate = el > 0 ? Math.round(s.states / el) : 0;
    const text = `${s.states} states, ${rate}/s, depth ${s.maxDepth}, ${el.toFixed(1)} s`;
    if (!term.stderrIsTTY) {
      term.write(`explore: ${text}\n`);
      return;
    }
    let frac = -1;
    if (this.#total.timeLimitMs !== undefined)
      frac = Math.max(frac, (now - this.#t0) / this.#total.timeLimitMs);
    if (this.#total.maxStates !== undefined)
      frac = Math.max(frac, s.states / this.#total.maxStates);
    let line = "explore: ";
    if (frac >= 0) {
      const f = Math.min(1, frac);
      const n = Math.round(f * 20);
      line += `[${"#".repeat(n)}${".".repeat(20 - n)}] ${String(Math.floor(f * 100)).padStart(3)}%  `;
    }
    line += text;
    const cols = term.stderrColumns || 80;
    term.write(`\r${line.slice(0, Math.max(10, cols - 1))}\x1b[K`);
    this.#drawn = true;
  }

  done(): void {
    if (this.#term && this.#drawn) this.#term.write("\r\x1b[K");
    this.#drawn = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Replay tokens (the payload is src/explore/token.ts; compression happens here).

/** `ifsim1.` + base64url(deflate-raw(payload JSON)). */
export function encodeToken(p: ReplayPayload): string {
  return TOKEN_PREFIX + deflateRawSync(Buffer.from(payloadToJson(p), "utf8")).toString("base64url");
}

/** Reads a token; never throws on bad input. */
export function decodeToken(
  token: string,
): { ok: true; payload: ReplayPayload } | { ok: false; error: string } {
  const t = token.trim();
  if (!t.startsWith(TOKEN_PREFIX))
    return {
      ok: false,
      error: `"${t.length > 24 ? `${t.slice(0, 24)}…` : t}" is not a replay token (a token starts with "${TOKEN_PREFIX}")`,
    };
  const body = t.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body))
    return {
      ok: false,
      error: "the replay token is damaged: it is not base64url after the prefix",
    };
  let json: string;
  try {
    json = inflateRawSync(Buffer.from(body, "base64url"), {
      // The payload: a scenario of at most MAX_TOKEN_SCENARIO characters (JSON-escaped: up to
      // 6 bytes each) and its choices.
      maxOutputLength: 8 * MAX_TOKEN_SCENARIO,
    }).toString("utf8");
  } catch {
    return { ok: false, error: "the replay token is damaged: it does not decompress" };
  }
  const r = payloadFromJson(json);
  return r.ok ? r : { ok: false, error: `the replay token is damaged: ${r.error}` };
}

// ---------------------------------------------------------------------------------------------
// Options.

type Usage = { readonly usage: string };
const isUsage = (x: unknown): x is Usage =>
  typeof x === "object" && x !== null && "usage" in x && typeof x.usage === "string";

export { parseDuration };

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
interface ExploreArgs {
  readonly file: string;
  readonly kernels: string[];
  readonly udevs: string[];
  readonly seed?: number;
  readonly invariants: string[];
  readonly timing?: "any" | "strict";
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
  /** --jobs as given, when it was above the CPU count (and so capped). */
  readonly jobsAsked?: number;
  readonly splitDepth: number;
  readonly json: boolean;
  readonly exportFile?: string;
  readonly htmlFile?: string;
  readonly shrink: boolean;
}

const OPTIONS = {
  kernel: { type: "string", multiple: true },
  udev: { type: "string", multiple: true },
  seed: { type: "string" },
  invariants: { type: "string", multiple: true },
  "list-invariants": { type: "boolean" },
  timing: { type: "string" },
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
  "no-shrink": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** parseArgs' complaint without its advice about "--". */
function argError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split(". To specify a positional")[0]?.replace(/\.$/, "") ?? msg;
}

type Parsed = ExploreArgs | Usage | { readonly help: true } | { readonly list: true };

function parseExploreArgs(argv: readonly string[]): Parsed {
  let v: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    v = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return { usage: argError(e) };
  }
  const o = v.values;
  if (o.help) return { help: true };
  if (o["list-invariants"]) return { list: true };
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
  if (o.timing !== undefined && o.timing !== "any" && o.timing !== "strict")
    return { usage: `--timing is any or strict, got "${o.timing}"` };
  if (o.reduction !== undefined && o.reduction !== "dpor" && o.reduction !== "none")
    return { usage: `--reduction is dpor or none, got "${o.reduction}"` };
  const invariants = listOf(o.invariants);
  const unknown = invariants.filter((x) => !Object.hasOwn(INVARIANTS, x));
  if (unknown.length > 0)
    return {
      usage: `unknown invariant${unknown.length > 1 ? "s" : ""} ${unknown.map((x) => `"${x}"`).join(", ")}: valid names are ${Object.keys(INVARIANTS).join(", ")}`,
    };
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
    ...(o.timing !== undefined ? { timing: o.timing as "any" | "strict" } : {}),
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
    ...(nums.jobs !== undefined && nums.jobs > availableParallelism()
      ? { jobsAsked: nums.jobs }
      : {}),
    splitDepth: nums["split-depth"] ?? 1,
    json: o.json ?? false,
    ...(o.export !== undefined ? { exportFile: o.export } : {}),
    ...(o.html !== undefined ? { htmlFile: o.html } : {}),
    shrink: !o["no-shrink"],
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

// ---------------------------------------------------------------------------------------------
// Running the search.

/** How one cell was searched. */
interface CellRun {
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
  readonly token?: string;
  readonly replay?: ReplayResult;
  readonly exported?: string;
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

/** Searches one configuration (not random walks): split, subtrees, combine. */
async function searchCell(
  sc: ScenarioDoc,
  text: string,
  a: ExploreArgs,
  config: ExploreConfig,
  progress: Progress,
): Promise<{ result: SearchResult; subtrees: number; jobs: number | string }> {
  const opts: SubtreeOptions = {
    reduction: a.reduction,
    hashing: a.hashing,
    symmetry: a.symmetry,
    maxDepth: a.maxDepth,
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { deadline: wallNow() + a.timeLimitMs } : {}),
  };
  if (a.splitDepth === 0) {
    const r = search(systemFor(sc, config), {
      reduction: opts.reduction,
      hashing: opts.hashing,
      symmetry: opts.symmetry,
      maxDepth: opts.maxDepth,
      ...(opts.maxStates !== undefined ? { maxStates: opts.maxStates } : {}),
      ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
      now: () => performance.now(),
      onProgress: (s) => progress.update(s),
      progressEvery: 100,
    });
    return { result: r, subtrees: 1, jobs: 1 };
  }
  const prefixes = frontier(sc, config, a.splitDepth, a.symmetry);
  const url = a.jobs > 1 && prefixes.length > 1 ? workerUrl() : null;
  if (url) {
    const n = Math.min(a.jobs, prefixes.length);
    const init: WorkerInit = { kind: "ifsim-explore", text, file: a.file, config, options: opts };
    const results = await runInWorkers(url, init, prefixes, n, (live, done) => {
      const s = { ...done };
      for (const x of live) addStats(s, x);
      progress.update(s);
    });
    return { result: combine(results), subtrees: prefixes.length, jobs: n };
  }
  const results: SearchResult[] = [];
  const done = emptyStats();
  for (const p of prefixes) {
    const r = runSubtree(sc, config, p, opts, (s) => {
      const all = { ...done };
      addStats(all, s);
      progress.update(all);
    });
    results.push(r);
    addStats(done, r.stats);
    if (r.verdict === "violated") break;
  }
  return {
    result: combine(results),
    subtrees: prefixes.length,
    jobs: a.jobs > 1 && prefixes.length > 1 ? "1 (workers need the built dist)" : 1,
  };
}

/** Explores one cell of the matrix: search (or random walks), then the counterexample. */
async function exploreCell(
  sc: ScenarioDoc,
  text: string,
  a: ExploreArgs,
  kernel: string,
  udev: string | null,
  invariants: readonly InvariantName[],
  timing: "any" | "strict",
): Promise<CellRun> {
  const config: ExploreConfig = {
    kernel,
    ...(udev !== null ? { udev } : {}),
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    invariants,
    timing,
  };
  const progress = new Progress(a.json, {
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
  });
  const t0 = performance.now();
  let result: ExploreResult;
  let searchMs: number;
  let subtrees = 1;
  let jobs: number | string = 1;
  let walks: number | undefined;
  let probe: CellRun["probe"];
  try {
    if (a.random !== undefined) {
      const r = randomWalks(sc, config, {
        walks: a.random,
        seed: a.walkSeed,
        maxDepth: a.maxDepth,
        now: () => performance.now(),
        ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
      });
      walks = r.walks;
      const { walks: _w, ...rest } = r;
      result = rest as ExploreResult;
      searchMs = performance.now() - t0;
    } else {
      // The probe: a few random walks first. A violation they find is as real as the search's.
      const w =
        a.probe > 0
          ? walkForViolation(sc, config, {
              walks: a.probe,
              seed: a.walkSeed,
              maxDepth: a.maxDepth,
              now: () => performance.now(),
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
        const spent = performance.now() - t0;
        const rest =
          a.timeLimitMs !== undefined
            ? { ...a, timeLimitMs: Math.max(1, a.timeLimitMs - spent) }
            : a;
        const s = await searchCell(sc, text, rest, config, progress);
        found = s.result;
        subtrees = s.subtrees;
        jobs = s.jobs;
      }
      searchMs = performance.now() - t0;
      const left = a.timeLimitMs !== undefined ? Math.max(1, a.timeLimitMs - searchMs) : undefined;
      result = finishExploration(sc, config, found, {
        reduction: a.reduction,
        hashing: a.hashing,
        symmetry: a.symmetry,
        ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
        ...(left !== undefined ? { timeLimitMs: left } : {}),
        now: () => performance.now(),
        shrink: a.shrink,
      });
    }
  } finally {
    progress.done();
  }
  result = { ...result, stats: { ...result.stats, elapsedMs: searchMs } };
  const base = {
    kernel,
    udev,
    config,
    result,
    searchMs,
    totalMs: performance.now() - t0,
    subtrees,
    jobs,
    ...(walks !== undefined ? { walks } : {}),
    ...(probe !== undefined ? { probe } : {}),
  };
  if (result.verdict !== "violated") return base;
  const cex = result.counterexample;
  const token = encodeToken({ v: 1, file: a.file, scenario: text, config, choices: cex.choices });
  const rep = replay(sc, config, cex.choices);
  return { ...base, token, replay: rep };
}

// ---------------------------------------------------------------------------------------------
// Output.

const fmtInt = (n: number): string => String(n).padStart(12);

/** The SPIN/TLC-style statistics block. */
export function formatStats(s: SearchStats, walks?: number): string {
  const secs = s.elapsedMs / 1000;
  const per = (n: number): string => (secs > 0 ? String(Math.round(n / secs)) : "-");
  let out = "statistics:\n";
  if (walks !== undefined) out += `${fmtInt(walks)}  random walks\n`;
  out += `${fmtInt(s.transitions)}  transitions\n`;
  out += `${fmtInt(s.states)}  states visited\n`;
  out += `${fmtInt(s.distinct)}  distinct states\n`;
  out += `${fmtInt(s.revisits)}  revisits pruned (hashing)\n`;
  out += `${fmtInt(s.sleepPruned)}  sleep-set pruned\n`;
  out += `${fmtInt(s.sleepBlocked)}  sleep-set blocked\n`;
  out += `${fmtInt(s.executions)}  complete interleavings\n`;
  out += `${fmtInt(s.maxDepth)}  max depth\n`;
  out += `${`${secs.toFixed(2)} s`.padStart(12)}  elapsed (${per(s.states)} states/s, ${per(s.executions)} interleavings/s)\n`;
  return out;
}

const BOUND_TEXT: Readonly<Record<string, string>> = {
  "max-states": "stopped by --max-states",
  "max-depth": "paths cut at --max-depth",
  "time-limit": "stopped by --time-limit",
};

/** The verdict line. */
function verdictLine(c: CellRun): string {
  const r = c.result;
  if (r.verdict === "verified") return "verified: no violation in any interleaving";
  if (r.verdict === "violated") {
    const v = r.counterexample.violation;
    return `violated: ${v.invariant}: ${v.detail}`;
  }
  if (c.walks !== undefined && r.bound !== "time-limit")
    return `bounded: no violation in ${c.walks} random walks (inconclusive)`;
  return `bounded: ${BOUND_TEXT[r.bound] ?? r.bound} (inconclusive)`;
}

/** Column titles of the timeline (the script's says when it hot-plugs). */
function laneLabels(sc: ScenarioDoc): Record<string, string> {
  const plugs = sc.steps.some((s) => typeof s === "object" && ("plug" in s || "unplug" in s));
  return plugs ? { script: "script (hot-plug)" } : {};
}

/** What a step without timeline lines did, from its actions (a rename, a command, a step begun). */
export function quietText(step: CexStep): string[] {
  return step.actions.map((a) => {
    if (typeof a === "object" && "ip" in a) {
      const m = /^link set dev (\S+) name (\S+)$/.exec(a.ip);
      if (m && step.lane.startsWith("udev/")) return `rename ${m[1]} → ${m[2]}`;
      return `ip ${a.ip}`;
    }
    return `${stepText(a)} …`;
  });
}

/** The timeline of a replay, with the failing step marked. */
function timeline(sc: ScenarioDoc, rep: ReplayResult, width: number): string {
  const failing = rep.violation !== null && rep.steps.length > 0 ? rep.steps.length : null;
  // A failure's cause (from the model's state) follows its result.
  const steps = rep.steps.map((s) => ({
    ...s,
    did: s.did.map((d) =>
      d.cause === undefined ? d : { ...d, result: `${d.result} because ${d.cause}` },
    ),
    quiet: quietText(s),
  }));
  const hasCause = steps.some((s) => s.did.some((d) => d.result.includes(" because ")));
  let s = swimlane(steps, {
    width,
    failing,
    labels: laneLabels(sc),
    ...(hasCause ? { maxLines: 8 } : {}),
  });
  if (rep.violation)
    s += `${failing !== null ? `✗ step ${failing}` : "✗ at the start"}: ${rep.violation.invariant}: ${rep.violation.detail}\n`;
  return s;
}

function outWidth(): number {
  return exploreTerminal.current?.stdoutColumns || 120;
}

const onOff = (b: boolean): string => (b ? "on" : "off");

function searchLine(a: ExploreArgs, c: CellRun | undefined): string {
  if (a.random !== undefined)
    return `search: ${a.random} random walks (walk seed ${a.walkSeed}), max depth ${a.maxDepth}`;
  let s = a.probe > 0 ? `probe: ${a.probe} random walks (walk seed ${a.walkSeed}); ` : "";
  s += `search: ${a.reduction}, symmetry ${onOff(a.symmetry)}, hashing ${onOff(a.hashing)}, max depth ${a.maxDepth}`;
  if (a.maxStates !== undefined) s += `, max states ${a.maxStates} per subtree`;
  if (a.timeLimitMs !== undefined) s += `, time limit ${a.timeLimitMs / 1000} s`;
  if (c?.probe?.found) return `${s} — not run: the probe found a violation`;
  if (a.splitDepth > 0)
    s += `, split at depth ${a.splitDepth}${c ? ` into ${c.subtrees} subtree${c.subtrees === 1 ? "" : "s"}` : ""}, jobs ${c ? c.jobs : a.jobs}`;
  if (a.random === undefined && a.splitDepth === 0) s += ", no split (one thread)";
  return s;
}

/**
 * A counterexample step as JSON: its timeline entries (`did`), the userspace actions it took as
 * scenario steps (`actions`, e.g. udev's rename as an `ip` step) and what the text timeline shows
 * for a step without entries (`shown`).
 */
function stepJson(s: CexStep): Record<string, unknown> {
  return {
    n: s.n,
    lane: s.lane,
    t: s.t,
    did: s.did,
    actions: s.actions,
    ...(s.did.length === 0 ? { shown: quietText(s) } : {}),
  };
}

function cexJson(c: CellRun): Record<string, unknown> | undefined {
  if (c.result.verdict !== "violated") return undefined;
  const x = c.result.counterexample;
  return {
    invariant: x.violation.invariant,
    detail: x.violation.detail,
    length: x.path.length,
    firstLength: x.firstLength,
    choices: x.choices,
    steps: x.steps.map(stepJson),
    token: c.token,
    ...(c.exported !== undefined ? { exported: c.exported } : {}),
  };
}

function statsJson(c: CellRun): Record<string, unknown> {
  const s = c.result.stats;
  const secs = s.elapsedMs / 1000;
  return {
    ...s,
    totalMs: c.totalMs,
    statesPerSecond: secs > 0 ? Math.round(s.states / secs) : null,
    interleavingsPerSecond: secs > 0 ? Math.round(s.executions / secs) : null,
  };
}

function optionsJson(
  a: ExploreArgs,
  c: CellRun | undefined,
  timing: string,
): Record<string, unknown> {
  return {
    timing,
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    reduction: a.reduction,
    symmetry: a.symmetry,
    hashing: a.hashing,
    maxDepth: a.maxDepth,
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
    ...(a.random !== undefined ? { random: a.random, walkSeed: a.walkSeed } : {}),
    ...(a.random === undefined ? { probe: a.probe, walkSeed: a.walkSeed } : {}),
    splitDepth: a.random !== undefined ? 0 : a.splitDepth,
    ...(c && a.random === undefined ? { subtrees: c.subtrees } : {}),
    jobs: c ? c.jobs : a.jobs,
    shrink: a.shrink,
  };
}

function exitOf(cells: readonly CellRun[]): number {
  if (cells.some((c) => c.result.verdict === "violated")) return 1;
  if (cells.some((c) => c.result.verdict === "bounded")) return 3;
  return 0;
}

/** Writes a cell's counterexample as a linear scenario; returns an error message or null. */
function exportCell(sc: ScenarioDoc, a: ExploreArgs, c: CellRun, out: string): string | null {
  if (!c.replay || c.result.verdict !== "violated") return null;
  const lin = linearScenario(sc, c.config, c.replay, {
    file: a.file,
    violation: c.replay.violation ?? c.result.counterexample.violation,
    choices: c.result.counterexample.choices.length,
    out,
  });
  return writeOutput(out, lin.yaml);
}

function formatSingle(sc: ScenarioDoc, a: ExploreArgs, c: CellRun, timing: string): string {
  const seed = a.seed ?? sc.seed ?? 1;
  let s = `ifsim explore: ${sc.name} (${a.file})\n`;
  s += `  kernel ${c.kernel}, udev ${c.udev ?? "none"}, seed ${seed}, timing ${timing}\n`;
  s += `  invariants: ${(c.config.invariants ?? []).join(", ")}\n`;
  s += `  ${searchLine(a, c)}\n\n`;
  s += formatStats(c.result.stats, c.walks);
  s += `\n${verdictLine(c)}\n`;
  if (c.result.verdict !== "violated" || !c.replay) return s;
  const x = c.result.counterexample;
  s +=
    c.walks !== undefined
      ? `counterexample: ${x.path.length} steps (the random walk that found it)`
      : `counterexample: ${x.path.length} steps on the shortest path found (the first path found${c.probe?.found ? `, by probe walk ${c.probe.walks},` : ""} had ${x.firstLength})`;
  s += `; ${x.choices.length} forced choice${x.choices.length === 1 ? "" : "s"}${a.shrink ? " after shrinking" : " (--no-shrink)"} (${((c.totalMs - c.searchMs) / 1000).toFixed(2)} s)\n`;
  s += `\ntimeline (${c.replay.steps.length} steps: the forced choices, then earliest virtual time first; t: virtual time):\n`;
  s += timeline(sc, c.replay, outWidth());
  s += `\nreplay: ifsim replay ${c.token}\n`;
  s +=
    c.exported !== undefined
      ? `exported: ${c.exported} (a linear scenario; confirm on a real kernel with ifsim run ${c.exported} --backend qemu)\n`
      : "export: add --export FILE to write it as a linear scenario (for ifsim run FILE --backend qemu)\n";
  return s;
}

function cellText(c: CellRun): string {
  const r = c.result;
  const counts = `${r.stats.executions}/${r.stats.distinct}`;
  if (r.verdict === "violated") return `violated (${r.counterexample.path.length}) ${counts}`;
  return `${r.verdict} ${counts}`;
}

function formatMatrix(
  sc: ScenarioDoc,
  a: ExploreArgs,
  cells: readonly CellRun[],
  kernels: readonly string[],
  udevs: readonly (string | null)[],
  invariants: readonly string[],
  timing: string,
): string {
  const seed = a.seed ?? sc.seed ?? 1;
  let s = `ifsim explore: ${sc.name} (${a.file})\n`;
  s += `  kernels ${kernels.join(", ")} × udev ${udevs.map((u) => u ?? "none").join(", ")}, seed ${seed}, timing ${timing}\n`;
  s += `  invariants: ${invariants.join(", ")}\n`;
  s += `  ${searchLine(
    a,
    cells.find((c) => !c.probe?.found),
  )}\n\n`;
  const head = ["kernel", ...udevs.map((u) => `udev ${u ?? "none"}`)];
  const rows = kernels.map((k) => [
    k,
    ...udevs.map((u) => {
      const c = cells.find((x) => x.kernel === k && x.udev === u);
      return c ? cellText(c) : "-";
    }),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (r: readonly string[]): string =>
    `${r
      .map((x, i) => x.padEnd(widths[i] as number))
      .join("   ")
      .trimEnd()}\n`;
  s += line(head);
  s += line(widths.map((w) => "─".repeat(w)));
  for (const r of rows) s += line(r);
  s +=
    "\ncells: verdict (counterexample steps) complete interleavings/distinct states; bounded = inconclusive\n";
  const bad = cells.filter((c) => c.result.verdict === "violated");
  if (bad.length > 0) {
    s += "\nviolations:\n";
    for (const c of bad) {
      if (c.result.verdict !== "violated") continue;
      const v = c.result.counterexample.violation;
      s += `  kernel ${c.kernel}, udev ${c.udev ?? "none"}: ${v.invariant}: ${v.detail}\n`;
      s += `    ifsim replay ${c.token}\n`;
    }
  }
  const search = cells.reduce((t, c) => t + c.searchMs, 0);
  const total = cells.reduce((t, c) => t + c.totalMs, 0);
  s += `\n${cells.length} cells: ${(search / 1000).toFixed(2)} s searching, ${(total / 1000).toFixed(2)} s in all\n`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Commands.

const usageResult = (cmd: string, msg: string): CliResult => ({
  stdout: "",
  stderr: `ifsim ${cmd}: ${msg}\n`,
  status: 2,
});

/** `ifsim explore FILE [options]`. */
export async function exploreCommand(argv: readonly string[]): Promise<CliResult> {
  const a = parseExploreArgs(argv);
  if ("help" in a) return { stdout: EXPLORE_HELP, stderr: "", status: 0 };
  if ("list" in a) return { stdout: listInvariants(), stderr: "", status: 0 };
  if (isUsage(a)) return usageResult("explore", `${a.usage}`);
  const input = readInput(a.file);
  if ("error" in input) return usageResult("explore", input.error);
  const text = input.text;
  if (a.exportFile !== undefined) {
    // Checked before the search: never over the scenario itself, never after an hour's work.
    const why = outputClash(a.exportFile, [a.file]) ?? checkWritable(a.exportFile);
    if (why) return usageResult("explore", `--export: ${why}`);
  }
  if (a.htmlFile !== undefined) {
    const why = outputClash(a.htmlFile, [a.file]) ?? checkWritable(a.htmlFile);
    if (why) return usageResult("explore", `--html: ${why}`);
  }
  const parsed = parseScenario(text, a.file);
  if (!parsed.ok)
    return { stdout: "", stderr: `${parsed.issues.map(formatIssue).join("\n")}\n`, status: 2 };
  const sc = parsed.scenario;
  const kernels = a.kernels.length > 0 ? a.kernels : sc.kernel !== undefined ? [sc.kernel] : [];
  if (kernels.length === 0)
    return usageResult(
      "explore",
      `${a.file}: no kernel: set kernel: in the scenario or pass --kernel`,
    );
  for (const k of kernels) {
    try {
      profileFor(k);
    } catch (e) {
      if (e instanceof UnknownKernelError) return usageResult("explore", `${a.file}: ${e.message}`);
      throw e;
    }
  }
  const hasUdev = sc.udev !== undefined && sc.udev !== "none";
  if (!hasUdev && a.udevs.length > 0)
    return usageResult("explore", `${a.file}: --udev needs a scenario with a udev: section`);
  const udevs: (string | null)[] = !hasUdev
    ? [null]
    : a.udevs.length > 0
      ? a.udevs
      : [(sc.udev as Exclude<ScenarioDoc["udev"], "none" | undefined>).generation ?? "v256"];
  const invariants = (
    a.invariants.length > 0 ? a.invariants : (sc.explore?.invariants ?? DEFAULT_INVARIANTS)
  ) as InvariantName[];
  const timing = a.timing ?? sc.explore?.timing ?? "any";
  const matrix = kernels.length > 1 || udevs.length > 1;
  if (matrix && a.exportFile !== undefined)
    return usageResult(
      "explore",
      "--export writes one counterexample: give one kernel and one udev generation",
    );
  const cells: CellRun[] = [];
  try {
    for (const k of kernels)
      for (const u of udevs) cells.push(await exploreCell(sc, text, a, k, u, invariants, timing));
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return usageResult("explore", `${a.file}: ${e.message}`);
    throw e;
  }
  let stderr =
    a.jobsAsked !== undefined
      ? `ifsim explore: note: --jobs ${a.jobsAsked} capped at ${a.jobs}, the number of CPUs\n`
      : "";
  let exportFailed = false;
  if (!matrix && a.exportFile !== undefined) {
    const c = cells[0] as CellRun;
    if (c.result.verdict === "violated") {
      const err = exportCell(sc, a, c, a.exportFile);
      if (err !== null) {
        stderr += `ifsim explore: ${err}\n`;
        exportFailed = true;
      } else cells[0] = { ...c, exported: a.exportFile };
    } else
      stderr += `ifsim explore: nothing to export to "${a.exportFile}": no violation was found\n`;
  }
  if (a.htmlFile !== undefined) {
    const seed = a.seed ?? sc.seed ?? 1;
    const page = exploreHtml({
      sc,
      file: a.file,
      lines: [
        `kernels ${kernels.join(", ")} × udev ${udevs.map((u) => u ?? "none").join(", ")}, seed ${seed}, timing ${timing}`,
        `invariants: ${invariants.join(", ")}`,
      ],
      cells,
      verdictText: verdictLine,
      quiet: quietText,
      laneTitles: laneLabels(sc),
    });
    const err = writeOutput(a.htmlFile, page);
    if (err !== null) {
      stderr += `ifsim explore: ${err}\n`;
      exportFailed = true;
    } else stderr += `ifsim explore: wrote the HTML report to ${a.htmlFile}\n`;
  }
  const status = exportFailed ? EXIT_IOERR : exitOf(cells);
  if (a.json) {
    const cellJson = (c: CellRun): Record<string, unknown> => ({
      kernel: c.kernel,
      udev: c.udev,
      verdict: c.result.verdict,
      stats: statsJson(c),
      ...(c.walks !== undefined ? { walks: c.walks } : {}),
      ...(c.probe !== undefined ? { probe: c.probe } : {}),
      ...(c.result.verdict === "bounded" ? { bound: c.result.bound } : {}),
      ...(c.result.verdict === "violated" ? { counterexample: cexJson(c) } : {}),
    });
    const out = matrix
      ? {
          scenario: sc.name,
          file: a.file,
          invariants,
          options: optionsJson(
            a,
            cells.find((c) => !c.probe?.found),
            timing,
          ),
          cells: cells.map(cellJson),
        }
      : (() => {
          const c = cells[0] as CellRun;
          const { kernel, udev, ...rest } = cellJson(c);
          return {
            scenario: sc.name,
            file: a.file,
            kernel,
            udev,
            invariants,
            options: optionsJson(a, c, timing),
            ...rest,
          };
        })();
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr, status };
  }
  const stdout = matrix
    ? formatMatrix(sc, a, cells, kernels, udevs, invariants, timing)
    : formatSingle(sc, a, cells[0] as CellRun, timing);
  return { stdout, stderr, status };
}

/** `ifsim replay TOKEN [--json] [--export FILE]`. */
export async function replayCommand(argv: readonly string[]): Promise<CliResult> {
  let v: ReturnType<
    typeof parseArgs<{
      options: {
        json: { type: "boolean" };
        export: { type: "string" };
        html: { type: "string" };
        help: { type: "boolean"; short: "h" };
      };
      allowPositionals: true;
    }>
  >;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean" },
        export: { type: "string" },
        html: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    return usageResult("replay", argError(e));
  }
  if (v.values.help) return { stdout: REPLAY_HELP, stderr: "", status: 0 };
  if (v.values.html !== undefined) {
    const why = checkWritable(v.values.html);
    if (why) return usageResult("replay", `--html: ${why}`);
  }
  if (v.positionals.length !== 1)
    return usageResult(
      "replay",
      v.positionals.length === 0
        ? "give the replay token ifsim explore printed (see ifsim replay --help)"
        : "give one replay token",
    );
  const d = decodeToken(v.positionals[0] as string);
  if (!d.ok) return usageResult("replay", d.error);
  const p = d.payload;
  const parsed = parseScenario(p.scenario, p.file);
  if (!parsed.ok)
    return usageResult(
      "replay",
      `the token's scenario does not parse:\n${parsed.issues.map(formatIssue).join("\n")}`,
    );
  const sc = parsed.scenario;
  let rep: ReplayResult;
  try {
    if (p.config.kernel !== undefined) profileFor(p.config.kernel);
    rep = replay(sc, p.config, p.choices);
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return usageResult("replay", `${p.file}: ${e.message}`);
    throw e;
  }
  const kernel = p.config.kernel ?? sc.kernel ?? "?";
  const udev =
    sc.udev === undefined || sc.udev === "none"
      ? null
      : (p.config.udev ?? sc.udev.generation ?? "v256");
  const invariants = p.config.invariants ?? DEFAULT_INVARIANTS;
  let exported: string | undefined;
  let stderr = "";
  if (v.values.export !== undefined) {
    const out = v.values.export;
    if (rep.violation === null)
      stderr += `ifsim replay: nothing to export to "${out}": the replay ended without a violation\n`;
    else {
      const lin = linearScenario(sc, p.config, rep, {
        file: p.file,
        violation: rep.violation,
        choices: p.choices.length,
        out,
      });
      const err = writeOutput(out, lin.yaml);
      if (err !== null) return { stdout: "", stderr: `ifsim replay: ${err}\n`, status: EXIT_IOERR };
      exported = out;
    }
  }
  if (v.values.html !== undefined) {
    const out = v.values.html;
    const err = writeOutput(
      out,
      replayHtml({
        sc,
        file: p.file,
        kernel,
        udev,
        config: p.config,
        lines: [
          `kernel ${kernel}, udev ${udev ?? "none"}, seed ${p.config.seed ?? sc.seed ?? 1}, timing ${p.config.timing ?? "any"}`,
          `invariants: ${invariants.join(", ")}`,
          `${p.choices.length} forced choice${p.choices.length === 1 ? "" : "s"}, then earliest virtual time first`,
        ],
        replay: rep,
        quiet: quietText,
        laneTitles: laneLabels(sc),
      }),
    );
    if (err !== null) return { stdout: "", stderr: `ifsim replay: ${err}\n`, status: EXIT_IOERR };
    stderr += `ifsim replay: wrote the HTML report to ${out}\n`;
  }
  const status = rep.violation ? 1 : 0;
  if (v.values.json) {
    const out = {
      scenario: sc.name,
      file: p.file,
      kernel,
      udev,
      invariants,
      choices: p.choices,
      verdict: rep.violation ? "violated" : "no-violation",
      ...(rep.violation ? { violation: rep.violation } : {}),
      steps: rep.steps.map(stepJson),
      ...(exported !== undefined ? { exported } : {}),
    };
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr, status };
  }
  let s = `ifsim replay: ${sc.name} (${p.file})\n`;
  s += `  kernel ${kernel}, udev ${udev ?? "none"}, seed ${p.config.seed ?? sc.seed ?? 1}, timing ${p.config.timing ?? "any"}\n`;
  s += `  invariants: ${invariants.join(", ")}\n`;
  s += `  ${p.choices.length} forced choice${p.choices.length === 1 ? "" : "s"}, then earliest virtual time first\n\n`;
  s += `timeline (${rep.steps.length} steps; t: virtual time):\n`;
  s += timeline(sc, rep, outWidth());
  s += rep.violation
    ? `\n${violationLine(rep.violation)}\n`
    : `\nno violation: the run ended after ${rep.steps.length} steps without breaking an invariant\n`;
  if (exported !== undefined)
    s += `exported: ${exported} (a linear scenario; confirm on a real kernel with ifsim run ${exported} --backend qemu)\n`;
  return { stdout: s, stderr, status };
}

function violationLine(v: Violation): string {
  return `violated: ${v.invariant}: ${v.detail}`;
}
