// Report documents from records: a model run (with its link states), an exploration's cells,
// a replay, and conform's model-vs-kernel comparisons. Pure: the same records give the same
// document. Wall-clock figures (elapsed times, states per second) are left out on purpose, so
// that the same scenario and options give the same report, byte for byte.

import type { BackendRunRecord } from "../backends/types.ts";
import type { LinkRecord, RunRecord } from "../scenario/run.ts";
import type { TimelineEntry } from "../userspace/world.ts";
import type {
  ReportDifference,
  ReportDoc,
  ReportGroup,
  ReportPanel,
  ReportRow,
  ReportStep,
  ReportVerdict,
} from "./types.ts";

/** Link states as the model layer returns them (src/scenario/link-states.ts). */
export interface RunStates {
  readonly states: readonly (readonly LinkRecord[])[];
  readonly initial: number;
  readonly atTimeline: readonly number[];
  readonly atStep: readonly number[];
}

/** A model run and the link state after each of its timeline lines and steps. */
export interface RunInput {
  readonly record: RunRecord;
  readonly states: RunStates;
}

const FIXED_LANES = ["kernel", "udev", "udevd", "networkd", "cloud-init", "qemu", "script"];

/** Lanes in column order: kernel, udev (workers by number), networkd, cloud-init, qemu, script, others by name. */
export function laneOrder(lanes: Iterable<string>): string[] {
  const rank = (l: string): [number, number, string] => {
    const m = /^udev\/w(\d+)$/.exec(l);
    if (m) return [1, Number(m[1]), l];
    const i = FIXED_LANES.indexOf(l);
    return [i >= 0 ? i : FIXED_LANES.length, 0, l];
  };
  return [...new Set(lanes)].sort((a, b) => {
    const [ra, na, sa] = rank(a);
    const [rb, nb, sb] = rank(b);
    return ra - rb || na - nb || (sa < sb ? -1 : sa > sb ? 1 : 0);
  });
}

/** The verdict of a run's expectations (as `ifsim run`'s verdict line says it). */
function runVerdict(r: RunRecord): ReportVerdict {
  const n = r.expectations.length;
  const failed = r.expectations.filter((e) => !e.ok).length;
  const label = `Linux ${r.kernel}`;
  if (n === 0) return { label, status: "info", text: "no expectations" };
  if (failed === 0)
    return {
      label,
      status: "pass",
      text: n === 1 ? "PASS: the expectation holds" : `PASS: all ${n} expectations hold`,
    };
  return { label, status: "fail", text: `FAIL: ${failed} of ${n} failed` };
}

function stepResult(s: { ok: boolean; errno: string | null; message: string | null }): string {
  return s.ok ? "ok" : `${s.errno ?? "failed"}${s.message ? ` (${s.message})` : ""}`;
}

/** One kernel's run as a panel: its timeline in lanes, steps, expectations, final links. */
export function runPanel(input: RunInput): ReportPanel {
  const { record: r, states } = input;
  const rows: ReportRow[] = r.timeline.map((e: TimelineEntry, i) => ({
    n: i + 1,
    t: e.t,
    lane: e.actor,
    what: e.what,
    result: e.result,
    ok: e.ok,
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
    ...(states.atTimeline[i] !== undefined ? { state: states.atTimeline[i] } : {}),
  }));
  const steps: ReportStep[] = r.steps.map((s, j) => ({
    index: s.index,
    step: s.step,
    ok: s.ok,
    result: stepResult(s),
    ...(s.cause !== undefined ? { cause: s.cause } : {}),
    events: s.events,
    ...(states.atStep[j] !== undefined ? { state: states.atStep[j] } : {}),
  }));
  return {
    title: `Linux ${r.kernel}`,
    verdict: runVerdict(r),
    facts: [
      ["seed", String(r.seed)],
      ["backend", r.backend],
    ],
    laneTitles: {},
    lanes: laneOrder(r.timeline.map((e) => e.actor)),
    rows,
    states: states.states,
    initial: states.initial,
    stateNote: "the links after the scheduler step that wrote this line",
    steps,
    expectations: r.expectations.map((e) => ({ expect: e.expect, ok: e.ok, detail: e.detail })),
    finalLinks: r.links,
    notes: [],
  };
}

/** `ifsim run --html`: one panel per kernel, side by side, and a verdict per kernel. */
export function runReport(runs: readonly RunInput[], o: { readonly file: string }): ReportDoc {
  const first = runs[0]?.record;
  if (first === undefined) throw new RangeError("runReport needs at least one run");
  return {
    kind: "run",
    title: first.scenario,
    lines: [`ifsim run ${o.file}`, `kernels: ${runs.map((x) => x.record.kernel).join(", ")}`],
    verdicts: runs.map((x) => runVerdict(x.record)),
    groups: [{ title: "timeline per kernel", panels: runs.map(runPanel) }],
  };
}

/** A counterexample step, as the explore CLI shows it. */
export interface CexRowInput {
  readonly n: number;
  readonly lane: string;
  /** Virtual time after the step, µs. */
  readonly t: number;
  readonly did: readonly TimelineEntry[];
  /** What to show for a step without timeline lines (its action, e.g. a udev rename). */
  readonly shown: readonly string[];
}

/** Link states of a replayed path (src/explore/link-states.ts). */
export interface PathStates {
  readonly states: readonly (readonly LinkRecord[])[];
  readonly initial: number;
  readonly after: readonly number[];
}

/** A replayed interleaving: its steps, link states and how it ended. */
export interface TraceInput {
  readonly steps: readonly CexRowInput[];
  readonly states: PathStates;
  /** The broken invariant and its detail, or null (the replay ended without a violation). */
  readonly violation: { readonly invariant: string; readonly detail: string } | null;
}

/** One cell of an exploration (a kernel × udev configuration). */
export interface ExploreCellInput {
  readonly kernel: string;
  readonly udev: string | null;
  readonly verdict: "verified" | "violated" | "bounded";
  /** The verdict in words (as the text output's verdict line). */
  readonly verdictText: string;
  /** Counts of the search (wall-clock figures are left out). */
  readonly facts: readonly (readonly [string, string])[];
  readonly trace?: TraceInput;
  /** What the trace is, when it is not a counterexample (e.g. one sample interleaving). */
  readonly traceNote?: string;
  /** The command that replays the counterexample. */
  readonly replay?: string;
  readonly laneTitles?: Readonly<Record<string, string>>;
}

function traceRows(t: TraceInput): ReportRow[] {
  const rows: ReportRow[] = [];
  const last = t.steps.length;
  for (const [i, s] of t.steps.entries()) {
    const state = t.states.after[i];
    const failing = t.violation !== null && s.n === last;
    const base = {
      n: s.n,
      t: s.t,
      lane: s.lane,
      ...(state !== undefined ? { state } : {}),
      ...(failing ? { failing: true } : {}),
    };
    if (s.did.length === 0)
      rows.push({ ...base, what: s.shown.join("; ") || "·", result: "", ok: true });
    else
      for (const d of s.did)
        rows.push({
          ...base,
          what: d.what,
          result: d.result,
          ok: d.ok,
          ...(d.cause !== undefined ? { cause: d.cause } : {}),
        });
  }
  return rows;
}

function tracePanel(
  title: string,
  verdict: ReportVerdict,
  facts: readonly (readonly [string, string])[],
  trace: TraceInput | undefined,
  laneTitles: Readonly<Record<string, string>>,
  note?: string,
): ReportPanel {
  const notes: string[] = note !== undefined ? [note] : [];
  if (trace?.violation)
    notes.push(
      `${trace.steps.length > 0 ? `✗ step ${trace.steps.length}` : "✗ at the start"}: ${trace.violation.invariant}: ${trace.violation.detail}`,
    );
  return {
    title,
    verdict,
    facts,
    laneTitles,
    lanes: laneOrder((trace?.steps ?? []).map((s) => s.lane)),
    rows: trace ? traceRows(trace) : [],
    states: trace?.states.states ?? [],
    initial: trace ? trace.states.initial : null,
    stateNote: "the links after this step of the interleaving",
    steps: [],
    expectations: [],
    finalLinks: null,
    notes,
  };
}

const STATUS = { verified: "pass", violated: "fail", bounded: "warn" } as const;

/** `ifsim explore --html`: one panel per cell (kernel × udev), each counterexample in lanes. */
export function exploreReport(input: {
  readonly scenario: string;
  readonly file: string;
  readonly lines: readonly string[];
  readonly cells: readonly ExploreCellInput[];
}): ReportDoc {
  const label = (c: ExploreCellInput): string =>
    `Linux ${c.kernel}${c.udev !== null ? `, udev ${c.udev}` : ""}`;
  return {
    kind: "explore",
    title: input.scenario,
    lines: [`ifsim explore ${input.file}`, ...input.lines],
    verdicts: input.cells.map((c) => ({
      label: label(c),
      status: STATUS[c.verdict],
      text: c.verdictText,
    })),
    groups: [
      {
        title: input.cells.length > 1 ? "cells (kernel × udev)" : "exploration",
        panels: input.cells.map((c) =>
          tracePanel(
            label(c),
            { label: "", status: STATUS[c.verdict], text: c.verdictText },
            [...c.facts, ...(c.replay !== undefined ? [["replay", c.replay] as const] : [])],
            c.trace,
            c.laneTitles ?? {},
            c.traceNote,
          ),
        ),
      },
    ],
  };
}

/** `ifsim replay --html`: the replayed interleaving in lanes. */
export function replayReport(input: {
  readonly scenario: string;
  readonly file: string;
  readonly kernel: string;
  readonly udev: string | null;
  readonly lines: readonly string[];
  readonly trace: TraceInput;
  readonly laneTitles?: Readonly<Record<string, string>>;
}): ReportDoc {
  const v = input.trace.violation;
  const verdict: ReportVerdict = v
    ? { label: "violated", status: "fail", text: `violated: ${v.invariant}: ${v.detail}` }
    : {
        label: "no violation",
        status: "pass",
        text: `no violation: the run ended after ${input.trace.steps.length} steps without breaking an invariant`,
      };
  const title = `Linux ${input.kernel}${input.udev !== null ? `, udev ${input.udev}` : ""}`;
  return {
    kind: "replay",
    title: input.scenario,
    lines: [`ifsim replay (${input.file})`, ...input.lines],
    verdicts: [{ ...verdict, label: title }],
    groups: [
      {
        title: "replay",
        panels: [
          tracePanel(title, { ...verdict, label: "" }, [], input.trace, input.laneTitles ?? {}),
        ],
      },
    ],
  };
}

/** One scenario of `ifsim conform`, with both records when it ran. */
export interface ConformInput {
  readonly file: string;
  readonly scenario: string | null;
  readonly verdict: "AGREE" | "DIFFER" | "REFUSED" | "ERROR";
  readonly reason?: string;
  readonly differences: readonly ReportDifference[];
  readonly model?: RunInput;
  readonly kernel?: BackendRunRecord;
}

/** The real kernel's run as a panel: its steps in the script lane, final links. */
function kernelPanel(k: BackendRunRecord): ReportPanel {
  const rows: ReportRow[] = k.steps.map((s, i) => ({
    n: i + 1,
    t: null,
    lane: "script",
    what: s.step,
    result: stepResult(s),
    ok: s.ok,
  }));
  return {
    title: `${k.backend}: Linux ${k.kernel}`,
    facts: [["backend", k.backend]],
    laneTitles: {},
    lanes: rows.length > 0 ? ["script"] : [],
    rows,
    states: [],
    initial: null,
    stateNote: "",
    steps: k.steps.map((s) => ({
      index: s.index,
      step: s.step,
      ok: s.ok,
      result: stepResult(s),
      events: s.events,
    })),
    expectations: [],
    finalLinks: k.links,
    notes: [
      "A real kernel's run records each step's result, its ip monitor records and the final links, not the links after each step (the model records them: ifsim conform --html shows its run next to this one).",
    ],
  };
}

/** `ifsim run --backend B --html`: a real kernel's run, its expectations (unobservable ones skipped). */
export function backendRunReport(
  k: BackendRunRecord,
  o: {
    readonly file: string;
    readonly expectations: readonly {
      readonly expect: string;
      readonly ok: boolean;
      readonly checked: boolean;
      readonly detail: string;
    }[];
  },
): ReportDoc {
  const expectations = o.expectations.map((e) => ({
    expect: e.expect,
    ok: e.checked ? e.ok : null,
    detail: e.detail,
  }));
  const failed = expectations.filter((e) => e.ok === false).length;
  const checked = expectations.filter((e) => e.ok !== null).length;
  const label = `${k.backend}: Linux ${k.kernel}`;
  const verdict: ReportVerdict =
    checked === 0
      ? { label, status: "info", text: "no expectations checked" }
      : failed === 0
        ? { label, status: "pass", text: `PASS: ${checked} checked expectations hold` }
        : { label, status: "fail", text: `FAIL: ${failed} of ${checked} failed` };
  return {
    kind: "run",
    title: k.scenario,
    lines: [`ifsim run ${o.file} --backend ${k.backend}`],
    verdicts: [verdict],
    groups: [
      { title: "the real kernel's run", panels: [{ ...kernelPanel(k), verdict, expectations }] },
    ],
  };
}

const CONFORM_STATUS = { AGREE: "pass", DIFFER: "fail", REFUSED: "warn", ERROR: "fail" } as const;

/** `ifsim conform --html`: per scenario, the model and the real kernel side by side, and the diff. */
export function conformReport(input: {
  readonly backend: string;
  readonly results: readonly ConformInput[];
}): ReportDoc {
  const groups: ReportGroup[] = input.results.map((r) => {
    const verdict: ReportVerdict = {
      label: r.file,
      status: CONFORM_STATUS[r.verdict],
      text:
        r.verdict === "AGREE"
          ? "AGREE: the model and the kernel agree"
          : r.verdict === "DIFFER"
            ? `DIFFER: ${r.differences.length} difference${r.differences.length === 1 ? "" : "s"}`
            : `${r.verdict}: ${r.reason ?? ""}`,
    };
    const panels: ReportPanel[] = [];
    if (r.model)
      panels.push({ ...runPanel(r.model), title: `model: Linux ${r.model.record.kernel}` });
    if (r.kernel) panels.push(kernelPanel(r.kernel));
    return {
      title: `${r.file}${r.scenario !== null ? ` — ${r.scenario}` : ""}`,
      verdict,
      ...(r.reason !== undefined && panels.length === 0 ? { note: r.reason } : {}),
      panels,
      differences: r.differences,
    };
  });
  const count = (v: ConformInput["verdict"]): number =>
    input.results.filter((r) => r.verdict === v).length;
  return {
    kind: "conform",
    title: `ifsim conform on ${input.backend}`,
    lines: [
      `${input.results.length} scenario${input.results.length === 1 ? "" : "s"}: ${count("AGREE")} agree, ${count("DIFFER")} differ, ${count("REFUSED")} refused, ${count("ERROR")} failed`,
    ],
    verdicts: groups.map((g) => g.verdict as ReportVerdict),
    groups,
  };
}
