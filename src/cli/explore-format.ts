// `ifsim explore` and `ifsim replay`: the text and JSON they print (the statistics block, the
// verdict, the swim-lane timeline of a counterexample, the matrix).

import type { CexStep, ReplayResult } from "../explore/explore.ts";
import type { CellRun } from "../explore/matrix.ts";
import type { SearchStats } from "../explore/search.ts";
import type { Violation } from "../explore/system.ts";
import type { LinkRecord } from "../scenario/run.ts";
import { stepText } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { ExploreArgs } from "./explore-args.ts";
import { exploreTerminal } from "./explore-progress.ts";
import { swimlane } from "./swimlane.ts";
import { outputWidth, verdictColour } from "./terminal.ts";

/** A cell as shown: its replay token and where it was exported, when it was. */
export type ShownCell = CellRun & {
  readonly token?: string;
  readonly exported?: string;
  /** The file its token was written to (--trace-out), when it was. */
  readonly traceOut?: string;
  /** The ITF trace file written (--itf), when it was. */
  readonly itf?: string;
};

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

/** One link as the state trace shows it: idx, name, operstate, master, flags. */
function linkCells(l: LinkRecord): string[] {
  return [String(l.ifindex), l.ifname, l.operstate, l.master ?? "-", `<${l.flags.join(",")}>`];
}

/** `text` cut to `width` columns (an ellipsis marks the cut). */
function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * The state after each step of a replay recorded with states, as TLC prints a trace but only
 * what changed: the links at the start, then for each step the links it added (+), changed (~)
 * or removed (-). Lines are cut to `width`. Empty for a replay without states.
 */
export function stateTrace(rep: ReplayResult, width: number): string {
  if (rep.initial === undefined) return "";
  const rows: { at: string; mark: string; cells: string[] }[] = [];
  const key = (l: LinkRecord): string => JSON.stringify(linkCells(l));
  const byIdx = (ls: readonly LinkRecord[]) => new Map(ls.map((l) => [l.ifindex, l]));
  let prev = byIdx(rep.initial.links);
  for (const l of [...prev.values()].sort((a, b) => a.ifindex - b.ifindex))
    rows.push({ at: "start", mark: " ", cells: linkCells(l) });
  for (const st of rep.steps) {
    if (st.links === undefined) continue;
    const cur = byIdx(st.links);
    const at = `${st.n} ${st.lane}`;
    const idx = [...new Set([...prev.keys(), ...cur.keys()])].sort((a, b) => a - b);
    for (const i of idx) {
      const a = prev.get(i);
      const b = cur.get(i);
      if (a && !b) rows.push({ at, mark: "-", cells: linkCells(a) });
      else if (!a && b) rows.push({ at, mark: "+", cells: linkCells(b) });
      else if (a && b && key(a) !== key(b)) rows.push({ at, mark: "~", cells: linkCells(b) });
    }
    prev = cur;
  }
  const head = ["step", "", "idx", "name", "state", "master", "flags"];
  const table = rows.map((r) => [r.at, r.mark, ...r.cells]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...table.map((r) => (r[i] as string).length)),
  );
  let lastAt = "";
  const line = (r: readonly string[], repeatAt: boolean): string => {
    const cells = r.map((c, i) => (i === 0 && !repeatAt && c === lastAt ? "" : c));
    lastAt = r[0] as string;
    const text = cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join(" ");
    return `${cut(`  ${text}`.trimEnd(), width)}\n`;
  };
  let out = line(head, true);
  for (const r of table) out += line(r, false);
  return out;
}

/** The state trace under its title (a blank line first), or nothing for a replay without states. */
export function stateSection(rep: ReplayResult): string {
  const t = stateTrace(rep, outWidth());
  return t === ""
    ? ""
    : `\nstate after each step (links at the start, then those a step added +, changed ~ or removed -):\n${t}`;
}

/** The width human output is fitted to: the terminal's, else 120. */
export function outWidth(): number {
  return exploreTerminal.current?.stdoutColumns || outputWidth(120);
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
    ...(s.links !== undefined ? { links: s.links } : {}),
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
    // The replay recorded with states: each step with the links after it.
    ...(c.replay?.initial !== undefined ? { initial: c.replay.initial } : {}),
    steps: (c.replay?.steps ?? x.steps).map(stepJson),
    token: c.token,
    ...(c.traceOut !== undefined ? { traceOut: c.traceOut } : {}),
    ...(c.itf !== undefined ? { itf: c.itf } : {}),
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
    ...(a.view !== undefined ? { view: a.view } : {}),
    atomic: a.atomic !== false,
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
  const vl = verdictLine(c);
  s += `\n${verdictWord(c.result.verdict, c.result.verdict)}${vl.slice(c.result.verdict.length)}\n`;
  if (c.result.verdict !== "violated" || !c.replay) return s;
  const x = c.result.counterexample;
  s +=
    c.walks !== undefined
      ? `counterexample: ${x.path.length} steps (the random walk that found it)`
      : `counterexample: ${x.path.length} steps on the shortest path found (the first path found${c.probe?.found ? `, by probe walk ${c.probe.walks},` : ""} had ${x.firstLength})`;
  s += `; ${x.choices.length} forced choice${x.choices.length === 1 ? "" : "s"}${a.shrink ? " after shrinking" : " (--no-shrink)"} (${((c.totalMs - c.searchMs) / 1000).toFixed(2)} s)\n`;
  s += `\ntimeline (${c.replay.steps.length} steps: the forced choices, then earliest virtual time first; t: virtual time):\n`;
  s += timeline(sc, c.replay, outWidth());
  s += stateSection(c.replay);
  s +=
    c.traceOut !== undefined
      ? `\nreplay: ifsim replay ${c.traceOut} (the token is in that file)\n`
      : `\nreplay: ifsim replay ${c.token}\n`;
  if (c.itf !== undefined)
    s += `itf: ${c.itf} (the trace in the ITF format of Apalache and Quint)\n`;
  s +=
    c.exported !== undefined
      ? `exported: ${c.exported} (a linear scenario; confirm on a real kernel with ifsim run ${c.exported} --backend qemu)\n`
      : "export: add --export FILE to write it as a linear scenario (for ifsim run FILE --backend qemu)\n";
  return s;
}

/** A cell's counts: complete interleavings and distinct states. */
function countsText(c: ShownCell): string[] {
  return [String(c.result.stats.executions), String(c.result.stats.distinct)];
}

/**
 * A matrix: one line per cell (kernel, udev, verdict, counterexample steps, interleavings,
 * distinct states and, for a violation, the invariant broken), fitted to `width`; then where the
 * counterexamples' replay tokens are (a file by default, else inline).
 */
export function formatMatrix(
  sc: ScenarioDoc,
  a: ExploreArgs,
  cells: readonly ShownCell[],
  plan: {
    readonly kernels: readonly string[];
    readonly udevs: readonly (string | null)[];
    readonly invariants: readonly string[];
    readonly timing: string;
  },
  width: number,
): string {
  const seed = a.seed ?? sc.seed ?? 1;
  let s = `ifsim explore: ${sc.name} (${a.file})\n`;
  s += `  kernels ${plan.kernels.join(", ")} × udev ${plan.udevs.map((u) => u ?? "none").join(", ")}, seed ${seed}, timing ${plan.timing}\n`;
  s += `  invariants: ${plan.invariants.join(", ")}\n`;
  s += `  ${searchLine(
    a,
    cells.find((c) => !c.probe?.found),
  )}\n\n`;
  const head = ["kernel", "udev", "verdict", "steps", "interleavings", "distinct", "violation"];
  const rows = cells.map((c) => {
    const r = c.result;
    return [
      c.kernel,
      c.udev ?? "none",
      r.verdict,
      r.verdict === "violated" ? String(r.counterexample.path.length) : "-",
      ...countsText(c),
      r.verdict === "violated"
        ? `${r.counterexample.violation.invariant}: ${r.counterexample.violation.detail}`
        : r.verdict === "bounded"
          ? (BOUND_TEXT[r.bound] ?? r.bound)
          : "",
    ];
  });
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const right = new Set([3, 4, 5]);
  const line = (r: readonly string[], colour: boolean): string => {
    const text = r
      .map((x, i) =>
        i === r.length - 1
          ? x
          : right.has(i)
            ? x.padStart(widths[i] as number)
            : x.padEnd(widths[i] as number),
      )
      .join("  ")
      .trimEnd();
    const fitted = cut(text, width);
    if (!colour) return `${fitted}\n`;
    // The verdict word coloured (it sits after kernel and udev, padded).
    const at = (widths[0] as number) + 2 + (widths[1] as number) + 2;
    const word = r[2] as string;
    return `${fitted.slice(0, at)}${verdictWord(fitted.slice(at, at + word.length), word)}${fitted.slice(at + word.length)}\n`;
  };
  s += line(head, false);
  for (const r of rows) s += line(r, true);
  s +=
    "\nsteps: of the counterexample; interleavings: complete ones explored; bounded = inconclusive\n";
  const bad = cells.filter((c) => c.result.verdict === "violated");
  if (bad.length > 0) {
    const file = bad.find((c) => c.traceOut !== undefined)?.traceOut;
    if (file !== undefined) {
      const c0 = bad[0] as ShownCell;
      s += `\ncounterexamples: ${file} (replay one: ifsim replay ${file} --cell ${c0.kernel}${c0.udev !== null ? `/${c0.udev}` : ""})\n`;
    } else {
      s += "\nreplay:\n";
      for (const c of bad)
        s += `  kernel ${c.kernel}, udev ${c.udev ?? "none"}: ifsim replay ${c.token}\n`;
    }
  }
  const search = cells.reduce((t, c) => t + c.searchMs, 0);
  const total = cells.reduce((t, c) => t + c.totalMs, 0);
  s += `\n${cells.length} cells: ${(search / 1000).toFixed(2)} s searching, ${(total / 1000).toFixed(2)} s in all\n`;
  return s;
}

/** A verdict word coloured by what it says (a no-op without colour). */
export function verdictWord(text: string, verdict: string): string {
  if (verdict === "bounded") return text;
  return verdictColour(text, verdict === "verified" || verdict === "no-violation");
}

export function violationLine(v: Violation): string {
  return `violated: ${v.invariant}: ${v.detail}`;
}
