// The one-pair boot race's search (Linux 5.1, default options: DPOR, hashing, symmetry), timed
// on two builds: an A/B check of an explorer change.
//
//   npx tsx bench/explore-ab.ts A_DIST B_DIST [RUNS] [--processes ROUNDS]
//
// A_DIST and B_DIST are the `dist/` of two checkouts after `npm run build`, e.g. a worktree of
// the commit before (`git worktree add /tmp/ab-old HEAD~1`, then `npm run build` in it).
//
// By default both builds run in one process, alternating runs (so both see the same machine
// load), RUNS per build (default 20). They also share one heap there: a build that allocates
// more makes the other's collections dearer too, which narrows the ratio. With `--processes
// ROUNDS` each build runs in processes of its own instead, A, B, A, B … ROUNDS times, each
// process doing 3 warm-up searches and RUNS timed ones; the figures are over every timed run
// of a build (this VM's speed drifts by a third within minutes: alternate, never compare two
// runs made apart).

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

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

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1] as number;
const line = (name: string, xs: number[], tr: number) =>
  `${name}: median ${median(xs).toFixed(0)} ms, best ${Math.min(...xs).toFixed(0)} ms, ${tr} transitions (${Math.round((tr / median(xs)) * 1000)} per second at the median, ${xs.length} runs)`;

const args = process.argv.slice(2);
if (args[0] === "--child") {
  // One build in this process: 3 warm-up searches, then RUNS timed ones, as JSON.
  const b = await load(args[1] as string);
  const runs = Number(args[2]);
  for (let i = 0; i < 3; i++) b.run();
  const out: { ms: number; transitions: number }[] = [];
  for (let i = 0; i < runs; i++) out.push(b.run());
  console.log(JSON.stringify(out));
  process.exit(0);
}

const pi = args.indexOf("--processes");
const rounds = pi >= 0 ? Number(args[pi + 1]) : 0;
const pos = pi >= 0 ? [...args.slice(0, pi), ...args.slice(pi + 2)] : args;
const [aDir, bDir, runsArg] = pos;
if (!aDir || !bDir || (pi >= 0 && !(Number.isInteger(rounds) && rounds > 0))) {
  console.error("usage: npx tsx bench/explore-ab.ts A_DIST B_DIST [RUNS] [--processes ROUNDS]");
  process.exit(2);
}
const runs = Number(runsArg ?? (rounds > 0 ? 10 : 20));
const ta: number[] = [];
const tb: number[] = [];
let transitions = [0, 0];

if (rounds > 0) {
  const self = fileURLToPath(import.meta.url);
  for (let i = 0; i < rounds; i++)
    for (const [dir, into, k] of [
      [aDir, ta, 0],
      [bDir, tb, 1],
    ] as const) {
      const r = spawnSync(
        process.execPath,
        [...process.execArgv, self, "--child", dir, String(runs)],
        { encoding: "utf8" },
      );
      if (r.status !== 0) {
        console.error(`explore-ab: the run of ${dir} failed:\n${r.stderr}`);
        process.exit(1);
      }
      const xs = JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as {
        ms: number;
        transitions: number;
      }[];
      for (const x of xs) into.push(x.ms);
      transitions[k] = xs[0]?.transitions ?? 0;
      process.stderr.write(`round ${i + 1}/${rounds}: ${k === 0 ? "A" : "B"} done\n`);
    }
} else {
  const a = await load(aDir);
  const b = await load(bDir);
  for (let i = 0; i < 4; i++) {
    a.run();
    b.run();
  }
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    for (const x of order) {
      const r = x.run();
      (x === a ? ta : tb).push(r.ms);
      transitions =
        x === a ? [r.transitions, transitions[1] ?? 0] : [transitions[0] ?? 0, r.transitions];
    }
  }
}
console.log(line(`A ${aDir}`, ta, transitions[0] ?? 0));
console.log(line(`B ${bDir}`, tb, transitions[1] ?? 0));
console.log(
  `B/A: median ${(median(tb) / median(ta)).toFixed(3)}, best ${(Math.min(...tb) / Math.min(...ta)).toFixed(3)}`,
);
