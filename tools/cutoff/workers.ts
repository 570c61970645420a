// Issue 14, item 4: does a pair's projected graph depend on how many udev workers it can use?
// Other pairs occupy workers, so a pair among N sees fewer free workers than the pair alone.
// This enumerates pair 0 of the two-pair boot race alone with 1, 2 and 3 udev workers and
// compares the projected graphs (projections as text; steps as pairs of projection texts).
//
//   npx tsx tools/cutoff/workers.ts [KERNEL…]      (default: 5.1 6.1)
//
// Prints, per kernel, each graph's size and how many projections and steps one graph has that
// the other lacks. 0 in "fewer-worker graph minus more-worker graph" means the graph with fewer
// workers is a subgraph.

import { type PairGraph, pairGraph } from "../../src/explore/cutoff.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";

const kernels = process.argv.slice(2);
const WORKERS = [1, 2, 3];

function texts(g: PairGraph): { nodes: Set<string>; edges: Set<string> } {
  const byId = new Map([...g.nodes].map(([p, i]) => [i, p]));
  const edges = new Set(
    [...g.edges].map((e) =>
      e
        .split(" ")
        .map((x) => byId.get(Number(x)))
        .join("\u0001"),
    ),
  );
  return { nodes: new Set(g.nodes.keys()), edges };
}

const minus = (a: Set<string>, b: Set<string>): number => [...a].filter((x) => !b.has(x)).length;

for (const kernel of kernels.length > 0 ? kernels : ["5.1", "6.1"]) {
  const gs = WORKERS.map((workers) =>
    pairGraph(bootRaceScenario(2, { kernel, workers }), 0, { kernel }),
  );
  const t = gs.map(texts);
  process.stdout.write(`kernel ${kernel}, pair 0 of the boot race alone:\n`);
  gs.forEach((g, i) => {
    process.stdout.write(
      `  ${WORKERS[i]} worker(s): ${g.states} states, ${g.nodes.size} projections, ${g.edges.size} steps, ${g.ends.size} ends${g.violation ? `, violates ${g.violation.invariant}` : ""}\n`,
    );
  });
  for (let i = 0; i + 1 < WORKERS.length; i++) {
    const a = t[i] as ReturnType<typeof texts>;
    const b = t[i + 1] as ReturnType<typeof texts>;
    process.stdout.write(
      `  ${WORKERS[i]} minus ${WORKERS[i + 1]} workers: ${minus(a.nodes, b.nodes)} projections, ${minus(a.edges, b.edges)} steps; ${WORKERS[i + 1]} minus ${WORKERS[i]}: ${minus(b.nodes, a.nodes)} projections, ${minus(b.edges, a.edges)} steps\n`,
    );
  }
}
