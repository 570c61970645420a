// `ifsim explore FILE` and `ifsim replay TOKEN`: search every interleaving of a scenario's actors
// for a broken invariant (one configuration, or a kernel × udev matrix), print SPIN/TLC-style
// statistics and the verdict, and for a violation a swim-lane timeline, a self-contained replay
// token and, on request, the counterexample as a linear scenario.
//
// This file parses (explore-args.ts), calls the orchestration (src/explore/matrix.ts: cells,
// probe, split search, counterexample) with this process's clock, progress and worker threads
// (explore-worker.ts), and prints (explore-format.ts).

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { FAMILY_INVARIANTS, familyPairs } from "../explore/cutoff.ts";
import { type ReplayResult, replay } from "../explore/explore.ts";
import { linearScenario } from "../explore/export.ts";
import {
  type CellRun,
  exploreMatrix,
  isMatrix,
  type MatrixPlan,
  planMatrix,
} from "../explore/matrix.ts";
import { DEFAULT_INVARIANTS } from "../explore/scenario-system.ts";
import { TOKEN_PREFIX } from "../explore/token.ts";
import { profileFor, UnknownKernelError } from "../kernel/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import { RunError } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import {
  argError,
  EXPLORE_HELP,
  type ExploreArgs,
  isUsage,
  listInvariants,
  parseExploreArgs,
  REPLAY_HELP,
} from "./explore-args.ts";
import { estimateCommand } from "./explore-estimate.ts";
import { everyNCommand } from "./explore-every-n.ts";
import {
  laneLabels,
  outWidth,
  quietText,
  stateSection,
  stepJson,
  timeline,
  violationLine,
} from "./explore-format.ts";
import { replayHtml } from "./explore-html.ts";
import { Progress } from "./explore-progress.ts";
import { reportExplore, writeItf } from "./explore-report.ts";
import { mergeCommand, shardCommand } from "./explore-shard.ts";
import { workerHost } from "./explore-worker.ts";
import { checkWritable, EXIT_IOERR, outputClash, readInput, writeOutput } from "./io.ts";
import type { CliResult } from "./main.ts";
import { decodeToken, parseTraceFile } from "./replay-token.ts";
import { fitLines, verdictColour } from "./terminal.ts";

export { listInvariants } from "./explore-args.ts";
export { formatStats, quietText } from "./explore-format.ts";
export { type ExploreTerminal, exploreTerminal } from "./explore-progress.ts";
export { exploreDefaults } from "./explore-report.ts";
export { parseDuration } from "./io.ts";
export { decodeToken, encodeToken } from "./replay-token.ts";

/**
 * The token to replay: the argument itself, or read from the trace file it names (one
 * counterexample, or the one of `cell`, "KERNEL/UDEV" or "KERNEL").
 */
function pickToken(
  arg: string,
  cell: string | undefined,
): { token: string; from: string | null } | { error: string } {
  if (arg.trim().startsWith(TOKEN_PREFIX) || !existsSync(arg)) {
    if (cell !== undefined) return { error: "--cell picks a counterexample from a trace file" };
    return { token: arg, from: null };
  }
  const input = readInput(arg);
  if ("error" in input) return { error: input.error };
  const entries = parseTraceFile(input.text);
  if (entries.length === 0) return { error: `"${arg}" holds no replay token` };
  const name = (e: (typeof entries)[number]): string =>
    e.udev === "none" ? e.kernel : `${e.kernel}/${e.udev}`;
  if (cell === undefined) {
    if (entries.length === 1)
      return { token: (entries[0] as (typeof entries)[number]).token, from: arg };
    return {
      error: `"${arg}" holds ${entries.length} counterexamples: pick one with --cell (${entries.map(name).join(", ")})`,
    };
  }
  const hit = entries.filter((e) => name(e) === cell || e.kernel === cell);
  if (hit.length === 1) return { token: (hit[0] as (typeof entries)[number]).token, from: arg };
  return {
    error: `"${arg}" has ${hit.length === 0 ? "no" : "more than one"} counterexample for --cell "${cell}": it has ${entries.map(name).join(", ")}`,
  };
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
  if ("merge" in a) return mergeCommand(a.merge);
  const input = readInput(a.file);
  if ("error" in input) return usageResult("explore", input.error);
  const text = input.text;
  // Outputs are checked before the search: never over the scenario itself, never after an
  // hour's work.
  for (const [flag, out] of [
    ["--export", a.exportFile],
    ["--trace-out", a.traceOut],
    ["--itf", a.itf],
    ["--html", a.htmlFile],
  ] as const) {
    if (out === undefined) continue;
    const why = outputClash(out, [a.file]) ?? checkWritable(out);
    if (why) return usageResult("explore", `${flag}: ${why}`);
  }
  const parsed = parseScenario(text, a.file);
  if (!parsed.ok)
    return { stdout: "", stderr: `${parsed.issues.map(formatIssue).join("\n")}\n`, status: 2 };
  const sc = parsed.scenario;
  const plan = planMatrix(sc, a);
  if ("error" in plan) return usageResult("explore", `${a.file}: ${plan.error}`);
  if (a.shard !== undefined) return shardCommand({ sc, text, a, plan });
  if (a.estimate) return estimateCommand({ sc, a, plan });
  // A family of identical failover pairs is decided for every N by default (README, "A verdict
  // for every number of pairs"); --search, or an option that shapes the search, searches it.
  const family =
    a.everyNIfFamily === true &&
    familyPairs(sc) >= 2 &&
    plan.invariants.every((i) => FAMILY_INVARIANTS.has(i));
  if (a.everyN || family)
    return everyNCommand({
      sc,
      a,
      plan,
      byDefault: !a.everyN,
      recheck: (p) =>
        searchAndReport(
          sc,
          text,
          { ...a, everyN: false, everyNIfFamily: false, everyNRecheck: true },
          p,
        ),
    });
  return searchAndReport(sc, text, a, plan);
}

/** The search of every cell of `plan`, then its report (text or JSON, exit status). */
async function searchAndReport(
  sc: ScenarioDoc,
  text: string,
  a: ExploreArgs,
  plan: MatrixPlan,
): Promise<CliResult> {
  const matrix = isMatrix(plan);
  for (const [flag, out] of [
    ["--export", a.exportFile],
    ["--itf", a.itf],
  ] as const)
    if (matrix && out !== undefined)
      return usageResult(
        "explore",
        `${flag} writes one counterexample: give one kernel and one udev generation`,
      );
  const progress = new Progress({
    ...(a.maxStates !== undefined ? { maxStates: a.maxStates } : {}),
    ...(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {}),
  });
  let runs: CellRun[];
  try {
    runs = await exploreMatrix(sc, plan, a, {
      ...workerHost(text, a.file),
      onProgress: (s) => progress.update(s),
      onCell: (e) =>
        e.done
          ? progress.cellDone(e.done.result.verdict)
          : progress.start({
              index: e.index,
              count: e.count,
              name: `kernel ${e.kernel}, udev ${e.udev ?? "none"}`,
            }),
    });
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return usageResult("explore", `${a.file}: ${e.message}`);
    throw e;
  } finally {
    progress.done();
  }
  return reportExplore({ sc, text, a, plan, runs });
}

/** `ifsim replay TOKEN [--json] [--export FILE]`. */
export async function replayCommand(argv: readonly string[]): Promise<CliResult> {
  const options = {
    json: { type: "boolean" },
    export: { type: "string" },
    itf: { type: "string" },
    html: { type: "string" },
    cell: { type: "string" },
    help: { type: "boolean", short: "h" },
  } as const;
  let v: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    v = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    return usageResult("replay", argError(e));
  }
  if (v.values.help) return { stdout: REPLAY_HELP, stderr: "", status: 0 };
  if (v.positionals.length !== 1)
    return usageResult(
      "replay",
      v.positionals.length === 0
        ? "give the replay token ifsim explore printed, or its trace file (see ifsim replay --help)"
        : "give one replay token",
    );
  const picked = pickToken(v.positionals[0] as string, v.values.cell);
  if ("error" in picked) return usageResult("replay", picked.error);
  for (const [flag, out] of [
    ["--export", v.values.export],
    ["--itf", v.values.itf],
    ["--html", v.values.html],
  ] as const) {
    if (out === undefined) continue;
    const why = outputClash(out, picked.from !== null ? [picked.from] : []) ?? checkWritable(out);
    if (why) return usageResult("replay", `${flag}: ${why}`);
  }
  const d = decodeToken(picked.token);
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
    rep = replay(sc, p.config, p.choices, undefined, { states: true });
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
  let itf: string | undefined;
  if (v.values.itf !== undefined) {
    const out = v.values.itf;
    const what = rep.violation
      ? `${rep.violation.invariant} on kernel ${kernel}, udev ${udev ?? "none"}`
      : `no violation on kernel ${kernel}, udev ${udev ?? "none"}`;
    const err = writeItf(out, rep, p.file, what);
    if (err !== null) return { stdout: "", stderr: `ifsim replay: ${err}\n`, status: EXIT_IOERR };
    itf = out;
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
      ...(rep.initial !== undefined ? { initial: rep.initial } : {}),
      steps: rep.steps.map(stepJson),
      ...(itf !== undefined ? { itf } : {}),
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
  s += stateSection(rep);
  s += rep.violation
    ? `\n${verdictColour("violated", false)}${violationLine(rep.violation).slice("violated".length)}\n`
    : `\n${verdictColour("no violation", true)}: the run ended after ${rep.steps.length} steps without breaking an invariant\n`;
  if (itf !== undefined) s += `itf: ${itf} (the trace in the ITF format of Apalache and Quint)\n`;
  s = fitLines(s, outWidth());
  if (exported !== undefined)
    s += `exported: ${exported} (a linear scenario; confirm on a real kernel with ifsim run ${exported} --backend qemu)\n`;
  return { stdout: s, stderr, status };
}
