// `ifsim explore --shard K/N` and `--merge`: one deterministic share of a search, and the
// combination of every share into exactly the result of one run with the same options.
//
// Every shard first runs every cell's probe (the same seeded random walks everywhere): a cell whose
// probe finds a violation is not searched, in a single run or here. The other cells' subtrees at
// the split depth (one per cell without a split) are the units, listed in order (cells as a single
// run visits them, then subtrees in prefix order), put in a fixed pseudo-random order and dealt
// round robin (`dealUnits`): the shuffle keeps the shares from lining up with the matrix's rows or
// columns, and dealing gives each shard the same number of units, ±1. Every shard computes the
// same list (the frontier is deterministic and cheap at small depths) and searches only its own
// units, in order; within a cell it stops at its first violation (a single run stops there too:
// the later subtrees do not count).
//
// The merge puts the units back in order and does what a single run does after its search:
// stats summed up to the first violating subtree, then that violation shortened, shrunk and
// replayed (`finishExploration`), with the same options. Without a time limit the result is the
// single run's, field by field (elapsed times aside); with one, each shard's bound is its own.

import type { ScenarioDoc } from "../scenario/schema.ts";
import {
  chooser,
  combine,
  type ExploreConfig,
  frontier,
  replay,
  walkForViolation,
} from "./explore.ts";
import { finishExploration } from "./finish.ts";
import type { CellRun, ExploreHost, MatrixPlan, SearchPlan } from "./matrix.ts";
import type { InvariantName, Timing } from "./scenario-system.ts";
import type { SearchResult, SearchStats } from "./search.ts";
import type { StateView } from "./state-view.ts";
import { runSubtree, type SubtreeOptions } from "./subtree.ts";

/** The file format's name and version (a file of another version is refused). */
export const SHARD_FORMAT = "ifsim-explore-shard";
export const SHARD_VERSION = 1;

/** Which share: `index` in 1..count (as `--shard K/N` says it). */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** The options that decide a search's result (all but --jobs and the output options). */
export interface ShardOptions {
  readonly kernels: readonly string[];
  readonly udevs: readonly (string | null)[];
  readonly invariants: readonly InvariantName[];
  readonly timing: Timing;
  /** Present (false) only when coarse atomic steps were turned off. */
  readonly atomic?: false;
  readonly seed?: number;
  readonly reduction: "dpor" | "none";
  readonly symmetry: boolean;
  readonly hashing: boolean;
  readonly maxDepth: number;
  readonly maxStates?: number;
  readonly timeLimitMs?: number;
  readonly probe: number;
  readonly walkSeed: number;
  readonly splitDepth: number;
  readonly shrink: boolean;
  readonly view?: StateView;
}

/** The probe of a cell as a shard ran it. */
export interface ShardProbe {
  readonly walks: number;
  readonly stats: SearchStats;
  readonly found: SearchResult | null;
}

/** One cell as a shard saw it. */
export interface ShardCell {
  readonly kernel: string;
  readonly udev: string | null;
  /** Subtrees of the cell (all shards; 1 without a split). */
  readonly subtrees: number;
  /** The probe (every shard runs every cell's), unless --probe was 0. */
  readonly probe?: ShardProbe;
  /** This shard's units of the cell that it ran: subtree index → result. */
  readonly results: readonly { readonly subtree: number; readonly result: SearchResult }[];
  /** Wall time this shard spent on the cell (its search; the probe counted in shard 1), ms. */
  readonly ms: number;
}

/** What a shard writes (JSON). */
export interface ShardFile {
  readonly format: typeof SHARD_FORMAT;
  readonly version: typeof SHARD_VERSION;
  readonly scenario: {
    readonly name: string;
    readonly file: string;
    /** SHA-256 of the scenario text (hex). */
    readonly sha256: string;
    /** The scenario text itself (the merge replays the counterexample from it). */
    readonly text: string;
  };
  readonly options: ShardOptions;
  readonly shard: ShardSpec;
  /** Units in all shards. */
  readonly units: number;
  /** Units of this shard. */
  readonly mine: number;
  readonly cells: readonly ShardCell[];
}

/** The options a shard file records, from a plan and the search options. */
export function shardOptions(plan: MatrixPlan, a: SearchPlan): ShardOptions {
  return {
    kernels: plan.kernels,
    udevs: plan.udevs,
    invariants: plan.invariants,
    timing: plan.timing,
    ...(a.atomic === false ? { atomic: false as const } : {}),
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    reduction: a.reduction,
    symmetry: a.symmetry,
    hashing: a.hashing,
    maxDepth: a.maxDepth,
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
    probe: a.probe,
    walkSeed: a.walkSeed,
    splitDepth: a.splitDepth,
    shrink: a.shrink,
    ...(a.view !== undefined ? { view: a.view } : {}),
  };
}

function configOf(o: ShardOptions, kernel: string, udev: string | null): ExploreConfig {
  return {
    kernel,
    ...(udev !== null ? { udev } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    invariants: o.invariants,
    timing: o.timing,
    ...(o.view !== undefined ? { view: o.view } : {}),
    ...(o.atomic === false ? { atomic: false } : {}),
  };
}

/**
 * Deals the units out: `sizes[c]` subtrees in cell c, listed in order (cells, then subtrees),
 * then put in a fixed pseudo-random order (Fisher–Yates with a fixed seed) and dealt round robin,
 * position j to shard j mod N + 1. The fixed shuffle keeps the shares from lining up with the
 * matrix's rows or columns (round robin over 4 udev generations and 4 shards would give one shard
 * every v250 cell). Returns the subtree indexes of each cell that shard `s` owns, in order.
 */
export function dealUnits(sizes: readonly number[], s: ShardSpec): number[][] {
  const list: [number, number][] = [];
  for (const [c, n] of sizes.entries()) for (let i = 0; i < n; i++) list.push([c, i]);
  const next = chooser(0x9e3779b9);
  for (let i = list.length - 1; i > 0; i--) {
    const j = next(i + 1);
    [list[i], list[j]] = [list[j] as [number, number], list[i] as [number, number]];
  }
  const own: number[][] = sizes.map(() => []);
  for (const [j, [c, i]] of list.entries())
    if (j % s.count === s.index - 1) (own[c] as number[]).push(i);
  for (const o of own) o.sort((x, y) => x - y);
  return own;
}

/**
 * Runs shard `s` of the search of `sc` with options `o`: every cell's probe, then its units in
 * order (see the file's head). The result is plain data for the shard file.
 */
export function runShard(
  sc: ScenarioDoc,
  o: ShardOptions,
  s: ShardSpec,
  host: Pick<ExploreHost, "now" | "onProgress"> & {
    readonly onCell?: (e: {
      index: number;
      count: number;
      kernel: string;
      udev: string | null;
    }) => void;
  },
): { cells: ShardCell[]; units: number; mine: number } {
  if (
    !Number.isInteger(s.count) ||
    s.count < 1 ||
    !Number.isInteger(s.index) ||
    s.index < 1 ||
    s.index > s.count
  )
    throw new RangeError(`shard ${s.index}/${s.count}: K must be in 1..N`);
  const now = host.now;
  // Every cell's probe first (the same seeded walks in every shard): a cell whose probe finds a
  // violation is not searched, in a single run or here, so its subtrees are no units.
  const cellsIn: {
    kernel: string;
    udev: string | null;
    config: ExploreConfig;
    probe?: ShardProbe;
    probeMs: number;
    prefixes: string[][];
  }[] = [];
  for (const kernel of o.kernels)
    for (const udev of o.udevs) {
      const config = configOf(o, kernel, udev);
      const t0 = now();
      let probe: ShardProbe | undefined;
      if (o.probe > 0) {
        const w = walkForViolation(sc, config, {
          walks: o.probe,
          seed: o.walkSeed,
          maxDepth: o.maxDepth,
          now,
          ...(o.timeLimitMs !== undefined ? { timeLimitMs: o.timeLimitMs } : {}),
        });
        probe = {
          walks: w.walks,
          stats: w.stats,
          found: w.found ? { verdict: "violated", stats: w.stats, found: w.found } : null,
        };
      }
      const prefixes = probe?.found
        ? []
        : o.splitDepth > 0
          ? frontier(sc, config, o.splitDepth, o.symmetry)
          : [[]];
      cellsIn.push({
        kernel,
        udev,
        config,
        ...(probe ? { probe } : {}),
        probeMs: now() - t0,
        prefixes,
      });
    }
  const owned = dealUnits(
    cellsIn.map((c) => c.prefixes.length),
    s,
  );
  const units = cellsIn.reduce((t, c) => t + c.prefixes.length, 0);
  const cells: ShardCell[] = [];
  let mine = 0;
  for (const [ci, cell] of cellsIn.entries()) {
    const own = owned[ci] as number[];
    mine += own.length;
    const base = {
      kernel: cell.kernel,
      udev: cell.udev,
      subtrees: cell.prefixes.length,
      ...(cell.probe ? { probe: cell.probe } : {}),
    };
    if (own.length === 0) {
      cells.push({ ...base, results: [], ms: s.index === 1 ? cell.probeMs : 0 });
      continue;
    }
    host.onCell?.({ index: ci, count: cellsIn.length, kernel: cell.kernel, udev: cell.udev });
    const t0 = now();
    const deadline = o.timeLimitMs !== undefined ? t0 + o.timeLimitMs : undefined;
    const opts: SubtreeOptions = {
      reduction: o.reduction,
      hashing: o.hashing,
      symmetry: o.symmetry,
      maxDepth: o.maxDepth,
      ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    };
    const results: { subtree: number; result: SearchResult }[] = [];
    for (const i of own) {
      const r = runSubtree(sc, cell.config, cell.prefixes[i] as string[], {
        ...opts,
        now,
        ...(host.onProgress ? { onProgress: host.onProgress } : {}),
      });
      results.push({ subtree: i, result: r });
      if (r.verdict === "violated") break;
    }
    cells.push({ ...base, results, ms: (s.index === 1 ? cell.probeMs : 0) + now() - t0 });
  }
  return { cells, units, mine };
}

/** Why a set of shard files cannot be merged (exit 2), naming the file. */
export class ShardMergeError extends Error {}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Checks that `files` (name → parsed shard) are the N shards of one search: the same format,
 * scenario (hash and text), options and N, each K from 1 to N exactly once. Throws
 * `ShardMergeError` saying which file is wrong and why.
 */
export function checkShards(files: readonly { name: string; data: unknown }[]): ShardFile[] {
  if (files.length === 0) throw new ShardMergeError("give the shard files to merge");
  const out: ShardFile[] = [];
  for (const f of files) {
    const d = f.data as Partial<ShardFile> | null;
    if (typeof d !== "object" || d === null || d.format !== SHARD_FORMAT)
      throw new ShardMergeError(
        `${f.name}: not an ifsim explore shard file (no "format": "${SHARD_FORMAT}")`,
      );
    if (d.version !== SHARD_VERSION)
      throw new ShardMergeError(
        `${f.name}: shard file version ${String(d.version)}, this ifsim reads version ${SHARD_VERSION}`,
      );
    if (
      typeof d.scenario?.text !== "string" ||
      typeof d.scenario.sha256 !== "string" ||
      typeof d.shard?.index !== "number" ||
      typeof d.shard.count !== "number" ||
      !Array.isArray(d.cells) ||
      typeof d.options !== "object"
    )
      throw new ShardMergeError(`${f.name}: a shard file with missing fields`);
    out.push(d as ShardFile);
  }
  const first = out[0] as ShardFile;
  const name0 = (files[0] as { name: string }).name;
  for (const [i, d] of out.entries()) {
    const name = (files[i] as { name: string }).name;
    if (d.scenario.sha256 !== first.scenario.sha256 || d.scenario.text !== first.scenario.text)
      throw new ShardMergeError(
        `${name}: another scenario (sha256 ${d.scenario.sha256.slice(0, 12)}… "${d.scenario.file}") than ${name0} (sha256 ${first.scenario.sha256.slice(0, 12)}… "${first.scenario.file}")`,
      );
    if (!sameJson(d.options, first.options)) {
      const keys = new Set([...Object.keys(d.options), ...Object.keys(first.options)]);
      const diff = [...keys].filter(
        (k) =>
          !sameJson(
            (d.options as unknown as Record<string, unknown>)[k],
            (first.options as unknown as Record<string, unknown>)[k],
          ),
      );
      throw new ShardMergeError(
        `${name}: other options than ${name0} (${diff.join(", ")}): the shards of one search need the same options`,
      );
    }
    if (d.shard.count !== first.shard.count)
      throw new ShardMergeError(
        `${name}: shard ${d.shard.index}/${d.shard.count}, but ${name0} is shard ${first.shard.index}/${first.shard.count}`,
      );
    if (d.units !== first.units || d.cells.length !== first.cells.length)
      throw new ShardMergeError(`${name}: ${d.units} units, but ${name0} has ${first.units}`);
  }
  const n = first.shard.count;
  const seen = new Map<number, string>();
  for (const [i, d] of out.entries()) {
    const name = (files[i] as { name: string }).name;
    const k = d.shard.index;
    if (!Number.isInteger(k) || k < 1 || k > n)
      throw new ShardMergeError(`${name}: shard ${k}/${n} is out of range`);
    const dup = seen.get(k);
    if (dup !== undefined)
      throw new ShardMergeError(`${name}: shard ${k}/${n} again (also ${dup})`);
    seen.set(k, name);
  }
  const missing: number[] = [];
  for (let k = 1; k <= n; k++) if (!seen.has(k)) missing.push(k);
  if (missing.length > 0)
    throw new ShardMergeError(
      `shard${missing.length > 1 ? "s" : ""} ${missing.map((k) => `${k}/${n}`).join(", ")} missing: merge needs all ${n}`,
    );
  return [...out].sort((a, b) => a.shard.index - b.shard.index);
}

/**
 * Merges checked shards (`checkShards`) of `sc` into the cells of a single run: per cell the
 * probe's violation, else the subtrees' results in order up to the first violation (combined as
 * a single run combines them), then the counterexample finished and replayed with the same
 * options. Throws `ShardMergeError` when a unit a single run needs is in no shard.
 */
export function mergeShards(
  sc: ScenarioDoc,
  shards: readonly ShardFile[],
  now: () => number,
): CellRun[] {
  const first = shards[0] as ShardFile;
  const o = first.options;
  const out: CellRun[] = [];
  for (const [ci, c0] of first.cells.entries()) {
    const config = configOf(o, c0.kernel, c0.udev);
    const parts = shards.map((s) => s.cells[ci] as ShardCell);
    const t0 = now();
    const searchMs = parts.reduce((t, p) => t + p.ms, 0);
    const probeCell = parts.find((p) => p.probe !== undefined);
    const probe = probeCell?.probe;
    let found: SearchResult;
    let subtrees = c0.subtrees;
    if (probe?.found) {
      found = probe.found;
      subtrees = 0;
    } else {
      const by = new Map<number, SearchResult>();
      for (const p of parts) for (const r of p.results) by.set(r.subtree, r.result);
      const results: SearchResult[] = [];
      for (let i = 0; i < c0.subtrees; i++) {
        const r = by.get(i);
        if (r === undefined)
          throw new ShardMergeError(
            `kernel ${c0.kernel}, udev ${c0.udev ?? "none"}: subtree ${i + 1} of ${c0.subtrees} is in no shard file`,
          );
        results.push(r);
        if (r.verdict === "violated") break;
      }
      found = combine(results);
    }
    const left = o.timeLimitMs !== undefined ? Math.max(1, o.timeLimitMs - searchMs) : undefined;
    let result = finishExploration(sc, config, found, {
      reduction: o.reduction,
      hashing: o.hashing,
      symmetry: o.symmetry,
      ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
      ...(left !== undefined ? { timeLimitMs: left } : {}),
      now,
      shrink: o.shrink,
    });
    result = { ...result, stats: { ...result.stats, elapsedMs: searchMs } };
    const run: CellRun = {
      kernel: c0.kernel,
      udev: c0.udev,
      config,
      result,
      searchMs,
      totalMs: searchMs + (now() - t0),
      subtrees,
      jobs: `${shards.length} shard${shards.length === 1 ? "" : "s"}`,
      ...(probe
        ? {
            probe: {
              walks: probe.walks,
              transitions: probe.stats.transitions,
              found: probe.found !== null,
            },
          }
        : {}),
    };
    out.push(
      result.verdict === "violated"
        ? {
            ...run,
            replay: replay(sc, config, result.counterexample.choices, undefined, { states: true }),
          }
        : run,
    );
  }
  return out;
}
