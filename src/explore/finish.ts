// The part of `exploreScenario` after the search, for callers that run the search themselves
// (the command line runs subtrees on worker threads): it lives in explore.ts.

export { type FinishOptions, finishExploration, shortest } from "./explore.ts";
