// `ifsim explore FILE --shard K/N [--shard-out FILE]` and `ifsim explore --merge FILES…`: run one
// share of a search and write it as a versioned JSON file; combine the files of every share into
// the output of a single run (src/explore/shard.ts does the work; docs/sharding.md says how to run
// the shares as a Kubernetes Indexed Job or a CI matrix).

import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import { isMatrix, type MatrixPlan } from "../explore/matrix.ts";
import {
  checkShards,
  mergeShards,
  runShard,
  SHARD_FORMAT,
  SHARD_VERSION,
  type ShardFile,
  ShardMergeError,
  shardOptions,
} from "../explore/shard.ts";
import { UnknownKernelError } from "../kernel/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import { RunError } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { ExploreArgs, MergeArgs } from "./explore-args.ts";
import { Progress } from "./explore-progress.ts";
import { exploreDefaults, reportExplore } from "./explore-report.ts";
import { checkWritable, EXIT_IOERR, outputClash, readInput, writeOutput } from "./io.ts";
import type { CliResult } from "./main.ts";

const usage = (msg: string): CliResult => ({
  stdout: "",
  stderr: `ifsim explore: ${msg}\n`,
  status: 2,
});

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
const now = (): number => performance.now();

/** The default shard file: NAME.shard-K-of-N.json beside the trace files (the working directory). */
export function defaultShardOut(file: string, k: number, n: number): string {
  return join(
    exploreDefaults.traceDir ?? ".",
    `${basename(file).replace(/\.ya?ml$/i, "")}.shard-${k}-of-${n}.json`,
  );
}

/** `ifsim explore FILE --shard K/N`: runs share K and writes it. */
export function shardCommand(r: {
  readonly sc: ScenarioDoc;
  readonly text: string;
  readonly a: ExploreArgs;
  readonly plan: MatrixPlan;
}): CliResult {
  const { sc, text, a, plan } = r;
  const s = a.shard as { index: number; count: number };
  const out = a.shardOut ?? defaultShardOut(a.file, s.index, s.count);
  const why = outputClash(out, [a.file]) ?? checkWritable(out);
  if (why) return usage(`--shard-out: ${why}`);
  const options = shardOptions(plan, a);
  const progress = new Progress({
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
  });
  const t0 = now();
  let ran: ReturnType<typeof runShard>;
  try {
    ran = runShard(sc, options, s, {
      now,
      onProgress: (x) => progress.update(x),
      onCell: (e) =>
        progress.start({
          index: e.index,
          count: e.count,
          name: `kernel ${e.kernel}, udev ${e.udev ?? "none"} (shard ${s.index}/${s.count})`,
        }),
    });
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return usage(`${a.file}: ${e.message}`);
    throw e;
  } finally {
    progress.done();
  }
  const file: ShardFile = {
    format: SHARD_FORMAT,
    version: SHARD_VERSION,
    scenario: { name: sc.name, file: a.file, sha256: sha256(text), text },
    options,
    shard: s,
    units: ran.units,
    mine: ran.mine,
    cells: ran.cells,
  };
  const err = writeOutput(out, `${JSON.stringify(file)}\n`);
  if (err !== null) return { stdout: "", stderr: `ifsim explore: ${err}\n`, status: EXIT_IOERR };
  const counts = { verified: 0, violated: 0, bounded: 0 };
  let byProbe = 0;
  for (const c of ran.cells) {
    if (c.probe?.found) byProbe++;
    for (const x of c.results) counts[x.result.verdict]++;
  }
  let stdout = `ifsim explore: ${sc.name} (${a.file}), shard ${s.index}/${s.count}\n`;
  stdout += `  ${ran.mine} of ${ran.units} units (${plan.kernels.length * plan.udevs.length} cell${isMatrix(plan) ? "s" : ""}${a.splitDepth > 0 ? ` × subtrees at depth ${a.splitDepth}` : ""}, cells the probe found violated left out; dealt in a fixed shuffled order)\n`;
  stdout += `  units searched: ${counts.verified} verified, ${counts.violated} violated, ${counts.bounded} bounded; ${byProbe} cell${byProbe === 1 ? "" : "s"} violated by the probe (${((now() - t0) / 1000).toFixed(2)} s)\n`;
  stdout += `wrote ${out}; the verdict is the merge's: ifsim explore --merge FILES (all ${s.count} shard files)\n`;
  const stderr =
    ran.mine === 0
      ? `ifsim explore: note: shard ${s.index}/${s.count} has no unit (${ran.units} in all; raise --split-depth for more)\n`
      : "";
  return { stdout, stderr, status: 0 };
}

/** `ifsim explore --merge FILES…`: the output of a single run, from the shard files. */
export function mergeCommand(m: MergeArgs): CliResult {
  const files: { name: string; data: unknown }[] = [];
  for (const f of m.files) {
    const input = readInput(f, { limit: 64 * 1024 * 1024 });
    if ("error" in input) return usage(input.error);
    try {
      files.push({ name: f, data: JSON.parse(input.text) });
    } catch (e) {
      return usage(`${f}: not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  let shards: ShardFile[];
  try {
    shards = checkShards(files);
  } catch (e) {
    if (e instanceof ShardMergeError) return usage(e.message);
    throw e;
  }
  const first = shards[0] as ShardFile;
  for (const [i, s] of shards.entries())
    if (sha256(s.scenario.text) !== s.scenario.sha256)
      return usage(
        `${files.find((f) => f.data === s)?.name ?? `shard ${i + 1}`}: the scenario text does not match its sha256 (the file was edited)`,
      );
  for (const [flag, out] of [
    ["--export", m.exportFile],
    ["--trace-out", m.traceOut],
    ["--itf", m.itf],
    ["--html", m.htmlFile],
  ] as const) {
    if (out === undefined) continue;
    const why = outputClash(out, m.files) ?? checkWritable(out);
    if (why) return usage(`${flag}: ${why}`);
  }
  const parsed = parseScenario(first.scenario.text, first.scenario.file);
  if (!parsed.ok)
    return {
      stdout: "",
      stderr: `${parsed.issues.map(formatIssue).join("\n")}\n`,
      status: 2,
    };
  const sc = parsed.scenario;
  const o = first.options;
  const plan: MatrixPlan = {
    kernels: o.kernels,
    udevs: o.udevs,
    invariants: o.invariants,
    timing: o.timing,
  };
  if (isMatrix(plan) && (m.exportFile !== undefined || m.itf !== undefined))
    return usage(
      `${m.exportFile !== undefined ? "--export" : "--itf"} writes one counterexample: the shards explored a matrix`,
    );
  const a: ExploreArgs = {
    file: first.scenario.file,
    kernels: [...o.kernels],
    udevs: o.udevs.filter((u): u is string => u !== null),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    invariants: [...o.invariants],
    timing: o.timing,
    ...(o.view !== undefined ? { view: o.view } : {}),
    ...(o.atomic === false ? { atomic: false } : {}),
    reduction: o.reduction,
    symmetry: o.symmetry,
    hashing: o.hashing,
    maxDepth: o.maxDepth,
    ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
    ...(o.timeLimitMs !== undefined ? { timeLimitMs: o.timeLimitMs } : {}),
    probe: o.probe,
    walkSeed: o.walkSeed,
    jobs: first.shard.count,
    everyNJobs: 1,
    splitDepth: o.splitDepth,
    json: m.json,
    ...(m.exportFile !== undefined ? { exportFile: m.exportFile } : {}),
    ...(m.htmlFile !== undefined ? { htmlFile: m.htmlFile } : {}),
    ...(m.traceOut !== undefined ? { traceOut: m.traceOut } : {}),
    ...(m.itf !== undefined ? { itf: m.itf } : {}),
    shrink: o.shrink,
    estimateWalks: 0,
  };
  let runs: ReturnType<typeof mergeShards>;
  try {
    runs = mergeShards(sc, shards, now);
  } catch (e) {
    if (e instanceof ShardMergeError) return usage(e.message);
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return usage(`${first.scenario.file}: ${e.message}`);
    throw e;
  }
  return reportExplore({ sc, text: first.scenario.text, a, plan, runs });
}
