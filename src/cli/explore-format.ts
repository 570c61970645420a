// `ifsim explore` and `ifsim replay`: the text and JSON they print (the statistics block, the
// verdict, the swim-lane timeline of a counterexample, the matrix).

import type { CexStep, ReplayResult } from "../explore/explore.ts";
import type { CellRun } from "../explore/matrix.ts";
import type { SearchStats } from "../explore/search.ts";
import type { Violation } from "../explore/system.ts";
import { stepText } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { ExploreArgs } from "./explore-args.ts";
import { exploreTerminal } from "./explore-progress.ts";
import { swimlane } from "./swimlane.ts";

/** A cell as shown: its replay token and where it was exported, when it was. */
export type ShownCell = CellRun & { readonly token?: string; readonly exported?: string };

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
export function verdictLine(c: ShownCell): string {
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
export function laneLabels(sc: ScenarioDoc): Record<string, string> {
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
export function timeline(sc: ScenarioDoc, rep: ReplayResult, width: number): string {
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

export function outWidth(): number {
  return exploreTerminal.current?.stdoutColumns || 120;
}

const onOff = (b: boolean): string => (b ? "on" : "off");

export function searchLine(a: ExploreArgs, c: ShownCell | undefined): string {
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
export function stepJson(s: CexStep): Record<string, unknown> {
  return {
    n: s.n,
    lane: s.lane,
    t: s.t,
    did: s.did,
    actions: s.actions,
    ...(s.did.length === 0 ? { shown: quietText(s) } : {}),
  };
}

export function cexJson(c: ShownCell): Record<string, unknown> | undefined {
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

export function statsJson(c: ShownCell): Record<string, unknown> {
  const s = c.result.stats;
  const secs = s.elapsedMs / 1000;
  return {
    ...s,
    totalMs: c.totalMs,
    statesPerSecond: secs > 0 ? Math.round(s.states / secs) : null,
    interleavingsPerSecond: secs > 0 ? Math.round(s.executions / secs) : null,
  };
}

export function optionsJson(
  a: ExploreArgs,
  c: ShownCell | undefined,
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

export function formatSingle(
  sc: ScenarioDoc,
  a: ExploreArgs,
  c: ShownCell,
  timing: string,
): string {
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

export function cellText(c: ShownCell): string {
  const r = c.result;
  const counts = `${r.stats.executions}/${r.stats.distinct}`;
  if (r.verdict === "violated") return `violated (${r.counterexample.path.length}) ${counts}`;
  return `${r.verdict} ${counts}`;
}

export function formatMatrix(
  sc: ScenarioDoc,
  a: ExploreArgs,
  cells: readonly ShownCell[],
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

export function violationLine(v: Violation): string {
  return `violated: ${v.invariant}: ${v.detail}`;
}
