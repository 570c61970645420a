// npm run bench (part 3): scenario runs. Each example in examples/scenarios parsed and run
// in-process (ms per run, on its own kernel), and `ifsim --help`, `ifsim ip link show` and
// `ifsim run` of the first example as whole processes (wall and CPU time, Node start-up included).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

// The installed binary (package.json "bin"), as a whole process: Node start-up included. Wall
// time, and CPU time (user + system) as the process itself reports it at exit (what a loaded
// machine does not inflate); Node alone (`node -e 0`) for reference.
const work = mkdtempSync(join(tmpdir(), "ifsim-bench-"));
const child = join(work, "child.mjs");
writeFileSync(
  child,
  `import { writeSync } from "node:fs";
process.argv.splice(1, 1);
process.on("exit", () => { const u = process.resourceUsage(); writeSync(3, String((u.userCPUTime + u.systemCPUTime) / 1000)); });
if (process.argv[1] !== "-") await import(process.argv[1]);
`,
);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
try {
  for (const args of [
    ["-"],
    ["--help"],
    ["ip", "link", "show"],
    ["run", `${DIR}/01-seed-race.yaml`],
  ]) {
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const bin = args[0] === "-" ? ["-"] : [resolve("dist/bin/bin.js"), ...args];
      const r = spawnSync(process.execPath, [child, ...bin], {
        stdio: ["ignore", "ignore", "ignore", "pipe"],
        encoding: "utf8",
      });
      walls.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`ifsim ${args.join(" ")} exited ${r.status}`);
      cpus.push(Number(r.output[3]));
    }
    const what = args[0] === "-" ? "node alone (no ifsim)" : `ifsim ${args.join(" ")}`;
    console.log(
      `${what} (whole process, needs npm run build): wall median ${median(walls).toFixed(0)} ms, min ${Math.min(...walls).toFixed(0)} ms; CPU median ${median(cpus).toFixed(0)} ms, min ${Math.min(...cpus).toFixed(0)} ms`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
