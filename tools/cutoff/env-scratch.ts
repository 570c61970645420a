import { performance } from "node:perf_hooks";
import { familyOf, pairGraph } from "../../src/explore/cutoff.ts";
import { environmentCheck } from "../../src/explore/environment.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
const kernel = process.argv[2] ?? "5.1";
const bounds = (process.argv[3] ?? "0,1,2,3").split(",").map(Number);
const sym = process.argv[4] !== "nosym";
const sc = bootRaceScenario(2, { kernel, workers: 2 });
const sc2 = familyOf(sc, 2);
const c = { kernel };
let t = performance.now();
const g = pairGraph(sc2, 0, c);
console.log(`alone: ${g.states} states ${g.transitions} tr ${g.nodes.size} proj ${g.edges.size} edges ${g.ends.size} ends viol=${g.violation?.invariant} ${((performance.now() - t) / 1000).toFixed(1)} s`);
for (const u of bounds) for (const lw of [false, true]) {
  t = performance.now();
  const r = environmentCheck(sc2, 0, g, c, { udev: u, linkwatch: lw }, { symmetry: sym });
  console.log(`env udev=${u} lw=${lw}: ${r.states} st ${r.transitions} tr envSteps ${r.environmentSteps} envMoves ${r.environmentMoves} reached ${r.reached}/${g.nodes.size} edges ${r.edgesUsed}/${g.edges.size} complete=${r.complete} fail=${r.failures.slice(0,2).join(" | ").slice(0,300)} viol=${r.violation?.invariant ?? "-"} ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
