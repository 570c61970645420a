// The HTML report's document: what the page shows, as plain data. It is embedded in the page as
// JSON and drawn by the page's own script (textContent only), so no text from a scenario, a
// device name or a kernel message is ever parsed as HTML.

import type { LinkRecord } from "../scenario/run.ts";

/** A verdict badge: pass (green), fail (red), bounded or skipped (amber), info (grey). */
export interface ReportVerdict {
  readonly label: string;
  readonly status: "pass" | "fail" | "warn" | "info";
  readonly text: string;
}

/** One line in a swim lane: who did what at which virtual time, its result and cause. */
export interface ReportRow {
  /** Step number (explore/replay: the interleaving's step; run: the timeline line). */
  readonly n: number;
  /** Virtual time, µs; null when the record has none (a real kernel's step). */
  readonly t: number | null;
  readonly lane: string;
  readonly what: string;
  readonly result: string;
  readonly ok: boolean;
  readonly cause?: string;
  /** Index into the panel's states: the links after this row; absent when not recorded. */
  readonly state?: number;
  /** The row a counterexample fails at. */
  readonly failing?: boolean;
}

/** A step of the scenario's script with its result (the run record's `steps`). */
export interface ReportStep {
  readonly index: number;
  readonly step: string;
  readonly ok: boolean;
  readonly result: string;
  readonly cause?: string;
  /** The `ip monitor link` records the step caused. */
  readonly events: readonly string[];
  readonly state?: number;
}

/** An expectation's verdict. */
export interface ReportExpectation {
  readonly expect: string;
  /** null: not checked (not observable on that backend). */
  readonly ok: boolean | null;
  readonly detail: string;
}

/** One column of the report: a kernel's run, an explore cell, the model or the real kernel. */
export interface ReportPanel {
  readonly title: string;
  readonly verdict?: ReportVerdict;
  /** Facts shown under the title (seed, statistics, the replay command). */
  readonly facts: readonly (readonly [string, string])[];
  /** Lane titles by lane (default: the lane's name). */
  readonly laneTitles: Readonly<Record<string, string>>;
  /** The lanes in column order. */
  readonly lanes: readonly string[];
  readonly rows: readonly ReportRow[];
  /** Distinct link states; rows and steps point into it. */
  readonly states: readonly (readonly LinkRecord[])[];
  /** The state before the first row, when known. */
  readonly initial: number | null;
  /** What a row's state is (shown above the state table). */
  readonly stateNote: string;
  readonly steps: readonly ReportStep[];
  readonly expectations: readonly ReportExpectation[];
  readonly finalLinks: readonly LinkRecord[] | null;
  readonly notes: readonly string[];
}

/** One model-vs-kernel difference (ifsim conform). */
export interface ReportDifference {
  readonly where: string;
  readonly field: string;
  readonly model: string;
  readonly kernel: string;
  /** A unified diff ("- " model only, "+ " kernel only, "  " both), for lists. */
  readonly diff?: readonly string[];
}

/** Panels side by side (the kernels of a run, the cells of a matrix, model and kernel). */
export interface ReportGroup {
  readonly title: string;
  readonly verdict?: ReportVerdict;
  readonly note?: string;
  readonly panels: readonly ReportPanel[];
  /** conform: where the model and the kernel differ (empty: they agree). */
  readonly differences?: readonly ReportDifference[];
}

/** The whole report. */
export interface ReportDoc {
  readonly kind: "run" | "explore" | "replay" | "conform";
  readonly title: string;
  /** Lines under the title (file, options). */
  readonly lines: readonly string[];
  readonly verdicts: readonly ReportVerdict[];
  readonly groups: readonly ReportGroup[];
}
