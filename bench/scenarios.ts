// npm run bench (part 3): scenario runs. Each example in examples/scenarios parsed and run
// in-process (ms per run, on its own kernel), and `ifsim --help`, `ifsim ip link show` and
// `ifsim run` of the first example as whole processes (wall time, Node start-up included).

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseScenario } from "../src/scenario/parse.ts";
import { runScenario } from "../src/scenario/run.ts";

const DIR = "examples/scenarios";
const REPS = Number(process.env.IFSIM_BENCH_SCENARIO_REPS ?? 50);
const rows: { name: string; ms: number; steps: number }[] = [];
for (const f of readdirSync(DIR)
  .filter((x) => x.endsWith(".yaml"))
  .sort()) {
  const p = parseScenario(readFileSync(join(DIR, f), "utf8"), f);
  if (!p.ok) continue; // the qtest error cases are refusals by design
  const t0 = performance.now();
  let steps = 0;
  for (let i = 0; i < REPS; i++) steps = runScenario(p.scenario).timeline.length;
  rows.push({ name: f.replace(/\.yaml$/, ""), ms: (performance.now() - t0) / REPS, steps });
}
console.log(`scenarios (in-process, mean of ${REPS} runs each)`);
for (const r of rows)
  console.log(
    `  ${r.name.padEnd(34)} ${r.ms.toFixed(2).padStart(7)} ms/run  (${r.steps} timeline entries)`,
  );
const total = rows.reduce((a, r) => a + r.ms, 0);
console.log(`  all ${rows.length} examples: ${total.toFixed(1)} ms`);

// The installed binary (package.json "bin"), as a whole process: Node start-up included.
for (const args of [["--help"], ["ip", "link", "show"], ["run", `${DIR}/01-seed-race.yaml`]]) {
  const walls: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ["dist/bin/bin.js", ...args], { stdio: "ignore" });
    walls.push(performance.now() - t0);
  }
  walls.sort((a, b) => a - b);
  console.log(
    `ifsim ${args.join(" ")} (whole process, needs npm run build): median ${walls[2]?.toFixed(0)} ms, min ${walls[0]?.toFixed(0)} ms`,
  );
}
