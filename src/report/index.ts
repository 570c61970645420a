// The HTML report: documents built from run records, explorations, replays and conform results,
// rendered as one self-contained page.

export {
  backendRunReport,
  type ConformInput,
  conformReport,
  type ExploreCellInput,
  exploreReport,
  laneOrder,
  type RunInput,
  replayReport,
  runPanel,
  runReport,
  type TraceInput,
} from "./build.ts";
export { escapeHtml, renderHtml, scriptJson } from "./html.ts";
export type {
  ReportDifference,
  ReportDoc,
  ReportGroup,
  ReportPanel,
  ReportRow,
  ReportStep,
  ReportVerdict,
} from "./types.ts";
