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
// VIEW is coarse, exact or untimed (default untimed); SECONDS default 60.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { search } from "../../src/explore/search.ts";
import { MEASUREMENT_VIEWS, type StateView } from "../../src/explore/state-view.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const args = process.argv.slice(2);
let sc: ScenarioDoc;
let rest: string[];
if (args[0] === "--boot-race") {
  sc = bootRaceScenario(Number(args[1]));
  rest = args.slice(2);
} else if (args[0] !== undefined) {
  const p = parseScenario(readFileSync(args[0], "utf8"), args[0]);
  if (!p.ok) throw new Error(`${args[0]} does not parse`);
  sc = p.scenario;
  rest = args.slice(1);
} else {
  process.stderr.write(
    "usage: bound.ts FILE.yaml|--boot-race N KERNEL [coarse|exact|untimed] [SECONDS]\n",
  );
  process.exit(2);
}
const kernel = rest[0] ?? sc.kernel ?? "6.1";
const view = (rest[1] ?? "untimed") as StateView;
if (!MEASUREMENT_VIEWS.includes(view))
  throw new Error(`VIEW is one of ${MEASUREMENT_VIEWS.join(", ")}, got "${view}"`);
const seconds = Number(rest[2] ?? 60);
if (!(seconds > 0)) throw new Error(`SECONDS must be a positive number, got "${rest[2]}"`);
const t0 = performance.now();
const c0 = process.cpuUsage();
const r = search(systemFor(sc, { kernel, view }), {
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
