// The one-pair boot race's search (Linux 5.1, default options: DPOR, hashing, symmetry), timed
// in one process on two builds, alternating runs (so both see the same heap and machine load):
// an A/B check of an explorer change.
//
//   npx tsx bench/explore-ab.ts A_DIST B_DIST [RUNS]      (RUNS per build, default 20)
//
// A_DIST and B_DIST are the `dist/` of two checkouts after `npm run build`, e.g. a worktree of
// the commit before (`git worktree add /tmp/ab-old HEAD~1`, then `npm run build` in it).

import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const [aDir, bDir, runsArg] = process.argv.slice(2);
if (!aDir || !bDir) {
  console.error("usage: npx tsx bench/explore-ab.ts A_DIST B_DIST [RUNS]");
  process.exit(2);
}
const runs = Number(runsArg ?? 20);

interface Build {
  readonly dir: string;
  readonly run: () => { ms: number; transitions: number };
}

async function load(dir: string): Promise<Build> {
  const at = (p: string) => pathToFileURL(resolve(dir, p)).href;
  const { systemFor } = await import(at("explore/explore.js"));
  const { bootRaceScenario } = await import(at("explore/families.js"));
  const { search } = await import(at("explore/search.js"));
  return {
    dir,
    run: () => {
      const sc = bootRaceScenario(1, { kernel: "5.1" });
      const t0 = performance.now();
      const r = search(systemFor(sc, { kernel: "5.1", atomic: true }), {});
      return { ms: performance.now() - t0, transitions: r.stats.transitions as number };
    },
  };
}

const a = await load(aDir);
const b = await load(bDir);
for (let i = 0; i < 4; i++) {
  a.run();
  b.run();
}
const ta: number[] = [];
const tb: number[] = [];
let transitions = [0, 0];
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? [a, b] : [b, a];
  for (const x of order) {
    const r = x.run();
    (x === a ? ta : tb).push(r.ms);
    transitions =
      x === a ? [r.transitions, transitions[1] ?? 0] : [transitions[0] ?? 0, r.transitions];
  }
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1] as number;
const line = (name: string, xs: number[], tr: number) =>
  `${name}: median ${median(xs).toFixed(0)} ms, best ${Math.min(...xs).toFixed(0)} ms, ${tr} transitions (${Math.round((tr / median(xs)) * 1000)} per second at the median)`;
console.log(line(`A ${aDir}`, ta, transitions[0] ?? 0));
console.log(line(`B ${bDir}`, tb, transitions[1] ?? 0));
console.log(`B/A: median ${(median(tb) / median(ta)).toFixed(3)}`);
