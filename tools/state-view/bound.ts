// How many states would the search meet if time were abstracted away perfectly? Runs the
// explorer's search (DPOR, state hashing, symmetry, coarse atomic steps: the defaults) under a
// chosen state view, with a time limit, and prints the verdict and the statistics. Under the
// measurement-only view "untimed" (src/explore/state-view.ts) the key keeps no time at all, only
// the order of the pending kernel work: the count is a lower bound for any view that keeps the
// model's semantics, not a proof (that view merges states whose timers differ, and its
// "verified" is printed as "verified (untimed view: not a proof)").
//
//   npx tsx tools/state-view/bound.ts FILE.yaml|--boot-race N KERNEL [VIEW] [SECONDS]
//
// VIEW is coarse, exact, untimed or free (free timing, `--timing free`; default untimed);
// SECONDS default 60.

import { performance } from "node:perf_hooks";
import { systemFor } from "../../src/explore/explore.ts";
import { search } from "../../src/explore/search.ts";
import { scenarioArgs, viewArg } from "./args.ts";

const { sc, rest } = scenarioArgs(
  process.argv.slice(2),
  "bound.ts FILE.yaml|--boot-race N KERNEL [coarse|exact|untimed|free] [SECONDS]",
);
const kernel = rest[0] ?? sc.kernel ?? "6.1";
const view = viewArg(rest[1] ?? "untimed");
const seconds = Number(rest[2] ?? 60);
if (!(seconds > 0)) throw new Error(`SECONDS must be a positive number, got "${rest[2]}"`);
const t0 = performance.now();
const c0 = process.cpuUsage();
// "free" is free timing (`--timing free`), whose view it is.
const r = search(systemFor(sc, view === "free" ? { kernel, timing: "free" } : { kernel, view }), {
  timeLimitMs: seconds * 1000,
  now: () => performance.now(),
});
const cpu = process.cpuUsage(c0);
const verdict =
  r.verdict === "verified" && view === "untimed"
    ? "verified (untimed view: not a proof)"
    : r.verdict;
process.stdout.write(
  `${sc.name}, kernel ${kernel}, view ${view}: ${verdict}; ${r.stats.transitions} transitions, ${r.stats.distinct} distinct states, depth ${r.stats.maxDepth}; ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU\n`,
);
