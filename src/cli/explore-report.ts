// What `ifsim explore` prints and writes once the cells are explored (by one run, or merged
// from shards): replay tokens and their trace file, the ITF trace, the linear scenario, the HTML
// report, then the text or JSON result and the exit status.

import { basename, join } from "node:path";
import { familyPairs } from "../explore/cutoff.ts";
import type { ReplayResult } from "../explore/explore.ts";
import { linearScenario } from "../explore/export.ts";
import { itfTrace } from "../explore/itf.ts";
import { type CellRun, isMatrix, type MatrixPlan, matrixExit } from "../explore/matrix.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { ExploreArgs } from "./explore-args.ts";
import {
  cexJson,
  formatMatrix,
  formatSingle,
  laneLabels,
  optionsJson,
  outWidth,
  quietText,
  type ShownCell,
  statsJson,
  verdictLine,
} from "./explore-format.ts";
import { exploreHtml } from "./explore-html.ts";
import { EXIT_IOERR, writeOutput } from "./io.ts";
import type { CliResult } from "./main.ts";
import { encodeToken, formatTraceFile } from "./replay-token.ts";
import { fitLines } from "./terminal.ts";

/** Where the binary writes trace files by default (null: nowhere, tokens inline; main() sets "."). */
export const exploreDefaults: { traceDir: string | null } = { traceDir: null };

/** Writes a replay recorded with states as an ITF trace; returns an error message or null. */
export function writeItf(
  out: string,
  rep: ReplayResult,
  file: string,
  description: string,
): string | null {
  const t = itfTrace(rep, { source: file, description });
  return writeOutput(out, `${JSON.stringify(t, null, 2)}\n`);
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

/**
 * Prints and writes the result of explored cells: `text` is the scenario file's text (the
 * replay tokens carry it), `a` the options (output ones included), `plan` the matrix.
 */
export function reportExplore(r: {
  readonly sc: ScenarioDoc;
  readonly text: string;
  readonly a: ExploreArgs;
  readonly plan: MatrixPlan;
  readonly runs: readonly CellRun[];
}): CliResult {
  const { sc, text, a, plan, runs } = r;
  const { invariants, timing } = plan;
  const matrix = isMatrix(plan);
  const cells: ShownCell[] = runs.map((c) =>
    c.result.verdict === "violated"
      ? {
          ...c,
          token: encodeToken({
            v: 1,
            file: a.file,
            scenario: text,
            config: c.config,
            choices: c.result.counterexample.choices,
          }),
        }
      : c,
  );
  let stderr =
    a.jobsAsked !== undefined
      ? `ifsim explore: note: --jobs ${a.jobsAsked} capped at ${a.jobs}, the number of CPUs\n`
      : "";
  let exportFailed = false;
  const bad = cells.filter((c) => c.result.verdict === "violated");
  // The tokens go to a file (TLC writes its trace to a file too): --trace-out, else NAME.cex.txt
  // in the default directory (the binary's working directory); JSON carries them itself.
  const traceOut =
    a.traceOut ??
    (!a.json && exploreDefaults.traceDir !== null && bad.length > 0
      ? join(exploreDefaults.traceDir, `${basename(a.file).replace(/\.ya?ml$/i, "")}.cex.txt`)
      : undefined);
  if (traceOut !== undefined) {
    if (bad.length === 0)
      stderr += `ifsim explore: nothing to write to "${traceOut}": no violation was found\n`;
    else {
      const entries = bad.map((c) => ({
        kernel: c.kernel,
        udev: c.udev ?? "none",
        what:
          c.result.verdict === "violated"
            ? `${c.result.counterexample.violation.invariant}: ${c.result.counterexample.violation.detail} (${c.result.counterexample.path.length} steps)`
            : "",
        token: c.token as string,
      }));
      const err = writeOutput(
        traceOut,
        formatTraceFile({ scenario: sc.name, file: a.file, path: traceOut }, entries),
      );
      if (err !== null) {
        stderr += `ifsim explore: ${err}\n`;
        exportFailed = true;
      } else
        for (const [i, c] of cells.entries())
          if (c.result.verdict === "violated") cells[i] = { ...c, traceOut };
    }
  }
  if (!matrix && a.itf !== undefined) {
    const c = cells[0] as ShownCell;
    if (c.result.verdict === "violated" && c.replay) {
      const err = writeItf(
        a.itf,
        c.replay,
        a.file,
        `${c.result.counterexample.violation.invariant} on kernel ${c.kernel}, udev ${c.udev ?? "none"}`,
      );
      if (err !== null) {
        stderr += `ifsim explore: ${err}\n`;
        exportFailed = true;
      } else cells[0] = { ...c, itf: a.itf };
    } else stderr += `ifsim explore: nothing to write to "${a.itf}": no violation was found\n`;
  }
  if (!matrix && a.exportFile !== undefined) {
    const c = cells[0] as ShownCell;
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
        `kernels ${plan.kernels.join(", ")} × udev ${plan.udevs.map((u) => u ?? "none").join(", ")}, seed ${seed}, timing ${timing}`,
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
  const status = exportFailed ? EXIT_IOERR : matrixExit(cells);
  if (a.json) {
    const cellJson = (c: ShownCell): Record<string, unknown> => ({
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
          const c = cells[0] as ShownCell;
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
  let stdout = fitLines(
    matrix
      ? formatMatrix(sc, a, cells, plan, outWidth())
      : formatSingle(sc, a, cells[0] as ShownCell, timing),
    outWidth(),
  );
  // A search of a family of identical pairs: say that without it every N is decided.
  if (!a.everyNRecheck && status !== 1 && familyPairs(sc) >= 2)
    stdout += fitLines(
      `note: ${a.file} is a family of identical failover pairs: without --search and the search's options, ifsim explore decides it for every number of pairs (--every-n; README, "A verdict for every number of pairs")\n`,
      outWidth(),
    );
  return { stdout, stderr, status };
}
