// `ifsim explore --html` and `ifsim replay --html`: the cells and their counterexamples as an
// HTML report (src/report/), with the link state after every step (src/explore/link-states.ts).

import type { CexStep, ExploreConfig, ExploreResult, ReplayResult } from "../explore/explore.ts";
import { replay } from "../explore/explore.ts";
import { pathLinkStates } from "../explore/link-states.ts";
import {
  type ExploreCellInput,
  exploreReport,
  renderHtml,
  replayReport,
  type TraceInput,
} from "../report/index.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";

/** What the HTML report needs of an explored cell. */
export interface HtmlCell {
  readonly kernel: string;
  readonly udev: string | null;
  readonly config: ExploreConfig;
  readonly result: ExploreResult;
  readonly walks?: number;
  readonly token?: string;
  readonly replay?: ReplayResult;
}

/** A replay's steps and link states as the report takes them. */
function traceOf(rep: ReplayResult, quiet: (s: CexStep) => string[]): TraceInput {
  return {
    steps: rep.steps.map((s) => ({ n: s.n, lane: s.lane, t: s.t, did: s.did, shown: quiet(s) })),
    states: pathLinkStates(rep),
    violation: rep.violation
      ? { invariant: rep.violation.invariant, detail: rep.violation.detail }
      : null,
  };
}

/** The search's counts (no wall-clock figures: the report is the same for the same inputs). */
function countFacts(c: HtmlCell): [string, string][] {
  const s = c.result.stats;
  return [
    ...(c.walks !== undefined ? [["random walks", String(c.walks)] as [string, string]] : []),
    ["transitions", String(s.transitions)],
    ["states visited", String(s.states)],
    ["distinct states", String(s.distinct)],
    ["complete interleavings", String(s.executions)],
    ["max depth", String(s.maxDepth)],
    ...(c.result.verdict === "violated"
      ? [
          [
            "counterexample",
            `${c.result.counterexample.path.length} steps, ${c.result.counterexample.choices.length} forced choices`,
          ] as [string, string],
        ]
      : []),
  ];
}

const SAMPLE_NOTE =
  "The lanes show one interleaving, each actor in virtual-time order (earliest first): no counterexample to show.";

/** The explore report page. */
export function exploreHtml<C extends HtmlCell>(o: {
  readonly sc: ScenarioDoc;
  readonly file: string;
  readonly lines: readonly string[];
  readonly cells: readonly C[];
  readonly verdictText: (c: C) => string;
  readonly quiet: (s: CexStep) => string[];
  readonly laneTitles: Readonly<Record<string, string>>;
}): string {
  const cells: ExploreCellInput[] = o.cells.map((c) => {
    // A cell without a counterexample shows one interleaving: earliest virtual time first.
    const rep = c.replay ?? replay(o.sc, c.config, [], undefined, { states: true });
    return {
      kernel: c.kernel,
      udev: c.udev,
      verdict: c.result.verdict,
      verdictText: o.verdictText(c),
      facts: countFacts(c),
      trace: traceOf(rep, o.quiet),
      ...(c.replay ? {} : { traceNote: SAMPLE_NOTE }),
      ...(c.token !== undefined ? { replay: `ifsim replay ${c.token}` } : {}),
      laneTitles: o.laneTitles,
    };
  });
  return renderHtml(exploreReport({ scenario: o.sc.name, file: o.file, lines: o.lines, cells }));
}

/** The replay report page. */
export function replayHtml(o: {
  readonly sc: ScenarioDoc;
  readonly file: string;
  readonly kernel: string;
  readonly udev: string | null;
  readonly config: ExploreConfig;
  readonly lines: readonly string[];
  readonly replay: ReplayResult;
  readonly quiet: (s: CexStep) => string[];
  readonly laneTitles: Readonly<Record<string, string>>;
}): string {
  return renderHtml(
    replayReport({
      scenario: o.sc.name,
      file: o.file,
      kernel: o.kernel,
      udev: o.udev,
      lines: o.lines,
      trace: traceOf(o.replay, o.quiet),
      laneTitles: o.laneTitles,
    }),
  );
}
