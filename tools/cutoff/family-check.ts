// Issue 14, item 4: the family check of `ifsim explore --every-n` (src/explore/cutoff.ts) at any
// N, not only N = 2: every pair alone enumerated, then every reachable state and transition of
// the N-pair boot race (free timing, no partial-order reduction, symmetry unless --no-symmetry)
// checked against them. What `--every-n` argues for N ≥ 3, this measures for one N at a time.
//
//   npx tsx tools/cutoff/family-check.ts [N] [KERNEL] [SECONDS] [--no-symmetry]
//
// N default 3, KERNEL default 5.1, SECONDS default 3600. Exit 0 when every state and transition
// passed and the enumeration finished, 1 on a failure or a violation, 3 when the time ran out.

import { performance } from "node:perf_hooks";
import { familyCheck, pairGraph, sameGraphs } from "../../src/explore/cutoff.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";

const args = process.argv.slice(2).filter((a) => a !== "--no-symmetry");
const symmetry = !process.argv.includes("--no-symmetry");
const n = Number(args[0] ?? 3);
const kernel = args[1] ?? "5.1";
const seconds = Number(args[2] ?? 3600);
if (!(Number.isInteger(n) && n >= 2 && n <= 14) || !(seconds > 0)) {
  process.stderr.write("usage: family-check.ts [N: 2…14] [KERNEL] [SECONDS > 0] [--no-symmetry]\n");
  process.exit(2);
}
const now = (): number => performance.now();
const t0 = now();
const sc = bootRaceScenario(n, { kernel });
const graphs = Array.from({ length: n }, (_, i) => pairGraph(sc, i, { kernel }));
const g0 = graphs[0];
process.stderr.write(
  `pairs alone: ${g0?.states} states, ${g0?.nodes.size} projections, ${g0?.edges.size} steps each; one graph: ${sameGraphs(graphs)}; ${((now() - t0) / 1000).toFixed(1)} s\n`,
);
if (graphs.some((g) => g.violation !== null)) {
  process.stdout.write(
    `the pair alone breaks ${graphs.find((g) => g.violation)?.violation?.invariant}\n`,
  );
  process.exit(1);
}
let last = t0;
const r = familyCheck(
  sc,
  graphs,
  { kernel },
  {
    now,
    deadline: t0 + seconds * 1000,
    symmetry,
    progress: (states, transitions) => {
      if (now() - last < 30_000) return;
      last = now();
      process.stderr.write(
        `  ${states} states, ${transitions} transitions, ${((now() - t0) / 1000).toFixed(0)} s\n`,
      );
    },
  },
);
const secs = ((now() - t0) / 1000).toFixed(1);
const bad = r.failures.length > 0 || r.violation !== null;
process.stdout.write(
  `boot race, ${n} pairs, Linux ${kernel}, free timing, no reduction${r.symmetric ? ", symmetry" : ""}: ${
    bad ? "FAILED" : r.complete ? "every state and transition passed" : "bounded (time ran out)"
  }\n  ${r.states} states, ${r.transitions} transitions, ${r.shared} changed more than one pair; reached per pair: ${r.pairs
    .map((p) => `${p.reached}/${p.alone} projections, ${p.edgesUsed}/${p.aloneEdges} steps`)
    .join("; ")}; ${secs} s\n`,
);
for (const f of r.failures) process.stdout.write(`  ${f}\n`);
if (r.violation)
  process.stdout.write(`  violation: ${r.violation.invariant}: ${r.violation.detail}\n`);
process.exit(bad ? 1 : r.complete ? 0 : 3);
