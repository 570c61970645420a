// `ifsim explore FILE --every-n`: a verdict for every number of pairs of a family of identical
// failover pairs (src/explore/cutoff.ts: each pair alone, then against an environment standing
// for the other pairs, and with --cross-check the check at N = 2),
// printed per configuration. Where there is no verdict for every N (the pair alone breaks an
// invariant, or two pairs do something the pair alone does not), the file itself is searched at
// its own N under free timing (the concrete re-check), and that report follows.

import { performance } from "node:perf_hooks";
import {
  type EveryNResult,
  everyN,
  everyNParallel,
  FAMILY_INVARIANTS,
  familyProblem,
} from "../explore/cutoff.ts";
import type { EnvironmentResult } from "../explore/environment.ts";
import type { MatrixPlan } from "../explore/matrix.ts";
import { UnknownKernelError } from "../kernel/index.ts";
import { RunError } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { ExploreArgs } from "./explore-args.ts";
import { count } from "./explore-estimate.ts";
import { Progress } from "./explore-progress.ts";
import { environmentOffload } from "./explore-worker.ts";
import type { CliResult } from "./main.ts";
import { fitLines, verdictColour } from "./terminal.ts";

const VERDICT_WORD: Record<EveryNResult["verdict"], string> = {
  verified: "verified (every N; cutoff 1)",
  "alone-violated": "violated by the pair alone",
  "no-cutoff": "no cutoff",
  bounded: "bounded",
};

interface Cell {
  kernel: string;
  udev: string | null;
  r: EveryNResult;
}

function cellText(c: Cell, invariants: readonly string[]): string {
  const { r } = c;
  let s = `kernel ${c.kernel}, udev ${c.udev ?? "none"}:\n`;
  const a = r.alone;
  const a0 = a[0];
  if (a0)
    s += `  the pair alone: ${count(a0.states)} states, ${count(a0.transitions)} transitions, ${count(a0.projections)} projections, ${count(a0.ends)} end${a0.ends === 1 ? "" : "s"}; ${a.every((x) => x.violation === null) ? (r.verdict === "bounded" && r.environment === null ? "unfinished" : `no violation (each of the ${a.length} pairs on its own slots)`) : `violates ${a.find((x) => x.violation)?.violation?.invariant}: ${a.find((x) => x.violation)?.violation?.detail}`}\n`;
  if (r.verdict === "no-cutoff" && a.some((x) => x.scriptMoves > 0))
    s += `    the script's steps change a pair's projection (${a.map((x) => x.scriptMoves).join(", ")} steps): a state where only the script is left is no end of the pair alone\n`;
  for (const t of r.crossTalk) s += `  cross-talk: ${t}\n`;
  const env = r.environment;
  if (env && env.length > 0) {
    const e0 = env[0] as EnvironmentResult;
    const which =
      env.length === 1
        ? `pair 0 (${a.length === 2 ? "pair 1 alone has" : "every pair alone has"} the same graph: its check is pair 0's under the pairs' symmetry)`
        : "each pair";
    s += `  against the environment (up to ${e0.environment.udev} other udev event${e0.environment.udev === 1 ? "" : "s"} at once, holding workers as long as they like; linkwatch work queued ${e0.environment.linkwatchAlways === true ? "at any time" : "at any time while a device of the pair is on its list"}${e0.environment.lanes === "all" ? "; every lane of every state" : "; the lanes that show the check nothing new left out"}), ${which}:\n`;
    env.forEach((e, i) => {
      const who = env.length === 1 ? "" : `pair ${i}: `;
      s += `    ${who}${count(e.states)} states, ${count(e.transitions)} transitions (${count(e.environmentSteps)} of the environment, ${count(e.environmentMoves)} of them changed the pair)\n`;
      if (e.failures.length === 0 && e.violation === null)
        s += `    ${who}${e.complete ? "every" : "so far every"} projection is one of the pair alone's, every step one of its steps or none, every end one of its ends; reached ${count(e.reached)} of ${count(r.alone[i]?.projections ?? 0)} projections and ${count(e.edgesUsed)} of ${count(r.alone[i]?.edges ?? 0)} steps\n`;
      for (const f of e.failures) s += `    ${who}${f}\n`;
      if (e.violation) s += `    ${who}breaks ${e.violation.invariant}: ${e.violation.detail}\n`;
    });
  }
  const k = r.check;
  if (k) {
    s += `  cross-check, two pairs: ${count(k.states)} states, ${count(k.transitions)} transitions (no reduction${k.symmetric ? "; up to a permutation of the pairs and of udev's workers" : ""}), ${count(k.shared)} of them changed both pairs\n`;
    const reach = (k.symmetric ? k.pairs.slice(0, 1) : k.pairs)
      .map(
        (p) =>
          `${count(p.reached)} of ${count(p.alone)} projections and ${count(p.edgesUsed)} of ${count(p.aloneEdges)} steps`,
      )
      .join(k.symmetric ? "" : "; ");
    if (k.failures.length === 0 && k.violation === null)
      s += `    ${k.complete ? "every" : "so far every"} pair's projection is one of the pair alone's, every step one of its steps or none, every end one of its ends; reached${k.symmetric ? " (any pair)" : " per pair"}: ${reach}\n`;
    for (const f of k.failures) s += `    ${f}\n`;
    if (k.violation) s += `    two pairs break ${k.violation.invariant}: ${k.violation.detail}\n`;
  }
  const secs = (r.ms / 1000).toFixed(1);
  const word = VERDICT_WORD[r.verdict];
  if (r.verdict === "verified")
    s += `  ${verdictColour(word, true)}: ${invariants.join(", ")} hold for every number of pairs and every latency (${secs} s)\n`;
  else if (r.verdict === "bounded")
    s += `  ${verdictColour(word, false)}: --time-limit came first (${secs} s); inconclusive\n`;
  else
    s += `  ${verdictColour(word, false)}: no verdict for every N; the file is searched at N = ${r.pairs} below (${secs} s)\n`;
  return s;
}

function cellJson(c: Cell): Record<string, unknown> {
  const { r } = c;
  return {
    kernel: c.kernel,
    udev: c.udev,
    verdict: r.verdict === "verified" ? "verified-every-n" : r.verdict,
    ...(r.verdict === "verified" ? { cutoff: 1 } : {}),
    alone: r.alone,
    crossTalk: r.crossTalk,
    environment: r.environment,
    check: r.check,
    ms: Math.round(r.ms),
  };
}

/**
 * `ifsim explore FILE --every-n`. `recheck` searches the file at its own N (free timing) on the
 * cells given, as `ifsim explore` does, and returns that report.
 */
export async function everyNCommand(r: {
  readonly sc: ScenarioDoc;
  readonly a: ExploreArgs;
  readonly plan: MatrixPlan;
  /** Run because the file is a family and no search was asked for (no --every-n given). */
  readonly byDefault?: boolean;
  readonly recheck: (plan: MatrixPlan) => Promise<CliResult>;
}): Promise<CliResult> {
  const { sc, a, plan } = r;
  const usage = (m: string): CliResult => ({
    stdout: "",
    stderr: `ifsim explore: ${a.file}: --every-n: ${m}\n`,
    status: 2,
  });
  const why = familyProblem(sc);
  if (why !== null) return usage(`not a family of identical failover pairs: ${why}`);
  const pairs = (sc.devices ?? []).filter((d) => "standby" in d && d.standby).length;
  if (pairs < 2) return usage("the check runs at N = 2: the file must hold at least two pairs");
  const other = plan.invariants.filter((i) => !FAMILY_INVARIANTS.has(i));
  if (other.length > 0)
    return usage(
      `${other.join(", ")} is about the whole machine, not about each pair: leave it out (--invariants)`,
    );
  const t0 = performance.now();
  const deadline = a.timeLimitMs !== undefined ? t0 + a.timeLimitMs : undefined;
  const progress = new Progress(a.timeLimitMs !== undefined ? { timeLimitMs: a.timeLimitMs } : {});
  const cells: Cell[] = [];
  const offload = a.everyNJobs > 1 ? environmentOffload() : null;
  const count0 = plan.kernels.length * plan.udevs.length;
  try {
    for (const kernel of plan.kernels)
      for (const udev of plan.udevs) {
        progress.start({
          index: cells.length,
          count: count0,
          name: `kernel ${kernel}, udev ${udev ?? "none"}`,
        });
        const config = {
          kernel,
          ...(udev !== null ? { udev } : {}),
          ...(a.seed !== undefined ? { seed: a.seed } : {}),
          invariants: plan.invariants,
        };
        const options = {
          now: () => performance.now(),
          symmetry: a.symmetry,
          ...(a.crossCheck ? { crossCheck: true } : {}),
          ...(a.environmentEvents !== undefined ? { environmentEvents: a.environmentEvents } : {}),
          ...(a.environmentLinkwatch !== undefined
            ? { environmentLinkwatch: a.environmentLinkwatch }
            : {}),
          ...(a.everyNLanes !== undefined ? { lanes: a.everyNLanes } : {}),
          ...(deadline !== undefined ? { deadline } : {}),
          progress: (states: number) => progress.update({ states, maxDepth: 0 }),
        };
        // With two threads, pair 0's environment check runs beside the pairs alone.
        const res =
          offload !== null
            ? await everyNParallel(sc, config, options, offload)
            : everyN(sc, config, options);
        progress.cellDone(VERDICT_WORD[res.verdict]);
        cells.push({ kernel, udev, r: res });
      }
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return { stdout: "", stderr: `ifsim explore: ${a.file}: ${e.message}\n`, status: 2 };
    throw e;
  } finally {
    progress.done();
  }
  // The concrete re-check: the file at its own N, on every cell without a verdict for every N
  // (bounded cells are not re-checked: the time is up).
  const redo = cells.filter((c) => c.r.verdict === "alone-violated" || c.r.verdict === "no-cutoff");
  const rechecks: { cell: Cell; out: CliResult }[] = [];
  for (const c of redo)
    rechecks.push({
      cell: c,
      out: await r.recheck({ ...plan, kernels: [c.kernel], udevs: [c.udev], timing: "free" }),
    });
  let status = cells.some((c) => c.r.verdict === "bounded") ? 3 : 0;
  for (const x of rechecks)
    if (x.out.status === 1 || x.out.status === 2 || x.out.status > 3) status = x.out.status;
    else if (x.out.status === 3 && status === 0) status = 3;
  let stderr = rechecks.map((x) => x.out.stderr).join("");
  // The outputs of a search come from the re-check: without one there is nothing to write.
  if (rechecks.length === 0)
    for (const [flag, out, what] of [
      ["--html", a.htmlFile, "no search to draw"],
      ["--export", a.exportFile, "no violation was found"],
      ["--itf", a.itf, "no violation was found"],
      ["--trace-out", a.traceOut, "no violation was found"],
    ] as const)
      if (out !== undefined)
        stderr += `ifsim explore: ${flag} ${out}: nothing written: ${what} (the every-N check searches no state of the file; --search does)\n`;
  if (a.json) {
    const out = {
      scenario: sc.name,
      file: a.file,
      everyN: {
        pairs,
        timing: "free",
        environment: true,
        crossCheck: a.crossCheck === true,
        byDefault: r.byDefault === true,
      },
      invariants: plan.invariants,
      cells: cells.map(cellJson),
      recheck: rechecks.map((x) => {
        let parsed: unknown = x.out.stdout;
        try {
          parsed = JSON.parse(x.out.stdout);
        } catch {
          // not JSON (an error): kept as text
        }
        return { kernel: x.cell.kernel, udev: x.cell.udev, status: x.out.status, result: parsed };
      }),
    };
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr, status };
  }
  let s = `ifsim explore: ${sc.name} (${a.file}), every N\n`;
  s += `  a family of ${pairs} identical failover pairs, decided under free timing (every latency): each pair alone, then each pair against an environment standing for every other pair${a.crossCheck ? ", then two pairs on every reachable state" : ""} (cutoff 1)\n`;
  if (r.byDefault)
    s += `  (a family is decided for every N by default; --search searches this file's ${pairs} pairs state by state)\n`;
  s += `  invariants: ${plan.invariants.join(", ")}\n\n`;
  s += cells.map((c) => cellText(c, plan.invariants)).join("\n");
  s = fitLines(s, 120);
  for (const x of rechecks)
    s += `\n--- kernel ${x.cell.kernel}, udev ${x.cell.udev ?? "none"}: the file at N = ${pairs}, free timing ---\n${x.out.stdout}`;
  return { stdout: s, stderr, status };
}
