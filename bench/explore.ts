// npm run bench (part 4): the explorer. In-process `search` over scenario systems:
//   0. the engine before/after in one run: exact keys + depth-1 split vs fingerprints + no split,
//      on the seed race, the one-pair boot race and the seed-race matrix (with ratios); then
//      `--timing any` (the default) against `--timing free` on the same cases;
//   1. throughput of a full verification (DPOR + state hashing + symmetry) on the seed race
//      (Linux 6.1) and on the boot race with one failover pair (Linux 5.1), in a process of its
//      own (IFSIM_BENCH_EXPLORE_ONLY=throughput: this part only);
//   2. what each reduction buys on the seed race (Linux 6.1: verified, Linux 5.0: violated), coarse
//      atomic steps included ("fine": --atomic off; the naive rows take every step on its own);
//   3. how the boot race scales with the number of failover pairs N = 1…14, for naive
//      enumeration, every reachable state once (naive + hashing + symmetry), DPOR (with
//      hashing) and DPOR with symmetry;
//   4. finding the bug at scale (Linux 5.0, N = 1…14): the probe's random walks vs the search;
//   5. a verdict for every N (--every-n) on the boot race family: 5.1, 6.1 and 5.0
//      (IFSIM_BENCH_EXPLORE_ONLY=every-n: this part only).
// Every search is capped (IFSIM_BENCH_EXPLORE_CAP_MS, default 8000 ms, and 2,000,000 states); a
// capped search reports "bounded", which is inconclusive. Figures only, no assertions; a
// disagreement between the verdicts of finished searches is printed as such (it would be a bug).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type EnvironmentOffload, everyN, everyNParallel } from "../src/explore/cutoff.ts";
import { exploreScenario, systemFor, walkForViolation } from "../src/explore/explore.ts";
import { bootRaceScenario } from "../src/explore/families.ts";
import { type SearchResult, search } from "../src/explore/search.ts";
import { parseScenario } from "../src/scenario/parse.ts";
import type { ScenarioDoc } from "../src/scenario/schema.ts";

const CAP_MS = Number(process.env.IFSIM_BENCH_EXPLORE_CAP_MS ?? 8000);
const MAX_STATES = 2_000_000;
/** Repeat each throughput measurement until this much time has been measured. */
const THROUGHPUT_MS = 2000;
const SEED = "examples/explore/seed-race.yaml";
const now = (): number => performance.now();
const tStart = now();

interface Config {
  readonly name: string;
  readonly reduction: "none" | "dpor";
  readonly hashing: boolean;
  readonly symmetry: boolean;
  /** Coarse atomic steps (--atomic); the naive rows take every step on its own. */
  readonly atomic: boolean;
  /** --timing free (absent: any, the default). */
  readonly timing?: "free";
}
const cfg = (
  name: string,
  reduction: "none" | "dpor",
  hashing: boolean,
  symmetry: boolean,
  atomic = reduction === "dpor",
): Config => ({ name, reduction, hashing, symmetry, atomic });
const FULL = cfg("DPOR+hashing+symmetry", "dpor", true, true);

function run(sc: ScenarioDoc, kernel: string, c: Config): SearchResult {
  return search(
    systemFor(sc, { kernel, atomic: c.atomic, ...(c.timing ? { timing: c.timing } : {}) }),
    {
      reduction: c.reduction,
      hashing: c.hashing,
      symmetry: c.symmetry,
      maxStates: MAX_STATES,
      timeLimitMs: CAP_MS,
      now,
    },
  );
}

const int = (n: number): string => Math.round(n).toLocaleString("en-US");
const verdictOf = (r: SearchResult): string =>
  r.verdict === "bounded"
    ? `bounded:${r.bound === "time-limit" ? "time" : r.bound === "max-states" ? "states" : "depth"}`
    : r.verdict;
/** Finished verdicts of one system under several configurations must agree. */
function agree(what: string, rs: readonly { name: string; r: SearchResult }[]): void {
  const done = rs.filter((x) => x.r.verdict !== "bounded");
  if (new Set(done.map((x) => x.r.verdict)).size > 1)
    console.log(
      `  !! VERDICTS DISAGREE on ${what}: ${done.map((x) => `${x.name} ${x.r.verdict}`).join(", ")} (a bug)`,
    );
}

const parsed = parseScenario(readFileSync(SEED, "utf8"), SEED);
if (!parsed.ok) throw new Error(`${SEED} does not parse`);
const seed = parsed.scenario;

console.log(
  `explore (in-process search; cap per search: ${int(CAP_MS)} ms or ${int(MAX_STATES)} states)`,
);
console.log(
  '  "bounded" = the cap stopped the search before it finished: inconclusive (time = time cap,',
);
console.log(
  '  states = state cap); its figures are what it reached. "interleavings" = complete paths',
);
console.log("  (to quiescence) explored; hashing and sleep sets cut the others short.");

/**
 * Part 1: throughput of a full verification (one warm-up run, then repeated for at least
 * THROUGHPUT_MS), in a fresh process (IFSIM_BENCH_EXPLORE_ONLY=throughput: this part only).
 */
function throughputPart(): void {
  console.log(
    `\nthroughput, ${FULL.name} (a fresh process; one warm-up run, then repeated for ≥ ${THROUGHPUT_MS} ms)`,
  );
  for (const [label, sc, kernel] of [
    ["seed race, Linux 6.1", seed, "6.1"],
    ["boot race N=1, Linux 5.1", bootRaceScenario(1, { kernel: "5.1" }), "5.1"],
  ] as const) {
    run(sc, kernel, FULL);
    let states = 0;
    let transitions = 0;
    let executions = 0;
    let ms = 0;
    let runs = 0;
    let verdict = "";
    while (runs < 1 || ms < THROUGHPUT_MS) {
      const r = run(sc, kernel, FULL);
      states += r.stats.states;
      transitions += r.stats.transitions;
      executions += r.stats.executions;
      ms += r.stats.elapsedMs;
      runs++;
      verdict = verdictOf(r);
    }
    const per = (n: number): string => int((n / ms) * 1000).padStart(7);
    console.log(
      `  ${label.padEnd(26)} ${per(states)} states/s ${per(transitions)} transitions/s ${per(executions)} interleavings/s  (${verdict}, ${int(states / runs)} states in ${(ms / runs).toFixed(0)} ms per run, ${runs} run${runs === 1 ? "" : "s"})`,
    );
  }
}

// IFSIM_BENCH_EXPLORE_ONLY=throughput: part 1 only.
if (process.env.IFSIM_BENCH_EXPLORE_ONLY === "throughput") {
  throughputPart();
  process.exit(0);
}

// IFSIM_BENCH_EXPLORE_ONLY=every-n: part 5 only.
if (process.env.IFSIM_BENCH_EXPLORE_ONLY === "every-n") {
  await everyNPart();
  process.exit(0);
}

// ---- 0. engine: the 0.1 defaults against today's, in one run ----

// "before" = the state table on exact key texts and the CLI's old default split at depth 1 (its
// subtrees share no state table); "after" = 64-bit fingerprints, no split (today's defaults).
// Both run today's code otherwise (component digests, the branch-and-bound shortest), so the
// ratio understates the gain over 0.1 itself; the README gives the figures of 0.1's own code.
const BEFORE = { keys: "exact", splitDepth: 1 } as const;
const AFTER = { keys: "fingerprint", splitDepth: 0 } as const;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function timed<T>(f: () => T): { r: T; ms: number; cpu: number } {
  const t0 = now();
  const c0 = cpuMs();
  const r = f();
  return { r, ms: now() - t0, cpu: cpuMs() - c0 };
}
console.log(
  "\nengine: before (exact keys, split at depth 1) vs after (fingerprints, no split), one run each",
);
console.log(
  `  ${"case".padEnd(26)} ${"".padEnd(6)} ${"verdict".padEnd(9)} ${"transitions".padStart(11)} ${"distinct".padStart(9)} ${"wall ms".padStart(8)} ${"cpu ms".padStart(8)} ${"transitions/s".padStart(13)}`,
);
for (const [label, sc, kernel] of [
  ["seed race, Linux 6.1", seed, "6.1"],
  ["boot race N=1, Linux 5.1", bootRaceScenario(1, { kernel: "5.1" }), "5.1"],
] as const) {
  const rows: { ms: number; tps: number }[] = [];
  for (const [name, o] of [
    ["before", BEFORE],
    ["after", AFTER],
  ] as const) {
    const t = timed(() => exploreScenario(sc, { kernel }, { ...o, timeLimitMs: CAP_MS * 4, now }));
    const s = t.r.stats;
    const tps = (s.transitions / t.ms) * 1000;
    rows.push({ ms: t.ms, tps });
    console.log(
      `  ${label.padEnd(26)} ${name.padEnd(6)} ${t.r.verdict.padEnd(9)} ${int(s.transitions).padStart(11)} ${int(s.distinct).padStart(9)} ${int(t.ms).padStart(8)} ${int(t.cpu).padStart(8)} ${int(tps).padStart(13)}`,
    );
  }
  const [b, a] = rows as [{ ms: number; tps: number }, { ms: number; tps: number }];
  console.log(
    `  ${"".padEnd(26)} ratio  ${(b.ms / a.ms).toFixed(2)}× faster, ${(a.tps / b.tps).toFixed(2)}× transitions/s`,
  );
}
{
  // The seed-race matrix: 4 kernels × 4 udev generations, search + shortest + shrink per cell
  // (what `ifsim explore examples/explore/seed-race.yaml --kernel 5.0,5.1,6.1,6.2 --udev
  // v249,v250,v253,v256` does after its probe).
  const cells: [string, string][] = [];
  for (const kernel of ["5.0", "5.1", "6.1", "6.2"])
    for (const udev of ["v249", "v250", "v253", "v256"]) cells.push([kernel, udev]);
  const out: number[] = [];
  for (const [name, o] of [
    ["before", BEFORE],
    ["after", AFTER],
  ] as const) {
    const verdicts: string[] = [];
    const t = timed(() => {
      for (const [kernel, udev] of cells) {
        const r = exploreScenario(seed, { kernel, udev }, { ...o, now });
        verdicts.push(
          r.verdict === "violated" ? `violated(${r.counterexample.steps.length})` : r.verdict,
        );
      }
    });
    out.push(t.ms);
    console.log(
      `  seed-race matrix (16 cells) ${name.padEnd(6)} ${int(t.ms).padStart(7)} ms wall ${int(t.cpu).padStart(7)} ms cpu  ${verdicts.join(" ")}`,
    );
  }
  console.log(`  ${"".padEnd(26)} ratio  ${((out[0] ?? 0) / (out[1] ?? 1)).toFixed(2)}× faster`);
}

{
  // Free timing: no decision depends on a time (src/explore/scenario-system.ts, `Timing`).
  console.log("\ntiming: any (the default) vs free, default options, one run each");
  for (const [label, sc, kernel] of [
    ["seed race, Linux 6.1", seed, "6.1"],
    ["seed race, Linux 5.0", seed, "5.0"],
    ["boot race N=1, Linux 5.1", bootRaceScenario(1, { kernel: "5.1" }), "5.1"],
    ["boot race N=1, Linux 5.0", bootRaceScenario(1, { kernel: "5.0" }), "5.0"],
    ["boot race N=2, Linux 5.1", bootRaceScenario(2, { kernel: "5.1" }), "5.1"],
  ] as const) {
    const rows: { ms: number; distinct: number; verdict: string }[] = [];
    for (const timing of ["any", "free"] as const) {
      const t = timed(() =>
        exploreScenario(sc, { kernel, timing }, { timeLimitMs: CAP_MS * 4, now }),
      );
      const st = t.r.stats;
      rows.push({ ms: t.ms, distinct: st.distinct, verdict: t.r.verdict });
      console.log(
        `  ${label.padEnd(26)} ${timing.padEnd(6)} ${t.r.verdict.padEnd(9)} ${int(st.transitions).padStart(11)} ${int(st.distinct).padStart(9)} ${int(t.ms).padStart(8)} ms ${int(t.cpu).padStart(8)} ms cpu`,
      );
    }
    const [a, f] = rows as [(typeof rows)[0], (typeof rows)[0]];
    console.log(
      a.verdict === "bounded" || f.verdict === "bounded"
        ? `  ${"".padEnd(26)} (bounded: inconclusive, no ratio)`
        : `  ${"".padEnd(26)} ratio  ${(a.distinct / f.distinct).toFixed(2)}× fewer distinct states, ${(a.ms / f.ms).toFixed(2)}× faster${a.verdict !== f.verdict ? "  VERDICTS DIFFER" : ""}`,
    );
  }
}

// ---- 5. a verdict for every N (--every-n): the environment against two pairs ----

/**
 * Part 5: `everyN` on the boot race family (IFSIM_BENCH_EXPLORE_ONLY=every-n: this part only), in
 * line and, when the workers are built (`npm run bench` builds them), with pair 0's environment
 * check on a worker thread (`everyNParallel`, what `ifsim explore` does with --jobs 2 or more).
 */
async function everyNPart(): Promise<void> {
  console.log(
    "\nboot race family (2 udev workers), a verdict for every N (--every-n, free timing)",
  );
  console.log(
    "  default = each pair alone + one pair against the environment; the two-pair enumeration (--cross-check) is not run here (about 3 min)",
  );
  const built = "../dist/cli/explore-worker.js";
  const offload = existsSync(new URL(built, import.meta.url))
    ? (
        (await import(built)) as { environmentOffload: () => EnvironmentOffload | null }
      ).environmentOffload()
    : null;
  if (offload === null)
    console.log(
      "  (no built worker: npm run build for the column with the environment on a thread)",
    );
  // An untimed run first (Linux 5.0, about 2 s), so that neither column pays for the JIT.
  everyN(bootRaceScenario(2, { kernel: "5.0" }), { kernel: "5.0" });
  for (const kernel of ["5.1", "6.1", "5.0"]) {
    const sc = bootRaceScenario(2, { kernel });
    const t0 = now();
    const r = everyN(sc, { kernel }, { now });
    const inLine = now() - t0;
    const e = r.environment?.[0];
    const env = e
      ? `environment: ${int(e.states)} states, ${int(e.transitions)} transitions`
      : "environment: not run";
    let threaded = "";
    if (offload !== null) {
      const t1 = now();
      const p = await everyNParallel(sc, { kernel }, { now }, offload);
      const ms = now() - t1;
      const same = p.verdict === r.verdict && p.environment?.[0]?.states === e?.states;
      threaded = `   with a thread ${(ms / 1000).toFixed(1)} s (×${(inLine / ms).toFixed(2)})${same ? "" : " DIFFERENT RESULT"}`;
    }
    console.log(
      `  ${kernel.padEnd(4)} ${r.verdict.padEnd(15)} alone: ${int(r.alone[0]?.states ?? 0)} states   ${env}   in line ${(inLine / 1000).toFixed(1)} s${threaded}`,
    );
  }
  console.log(
    "  (session 22, two pairs enumerated instead of the environment: 5.1 verified in 663 s, 6.1 in 765 s)",
  );
}

// IFSIM_BENCH_EXPLORE_ONLY=engine: part 0 only (a quick before/after).
if (process.env.IFSIM_BENCH_EXPLORE_ONLY === "engine") {
  console.log(`\nexplore bench: ${((now() - tStart) / 1000).toFixed(1)} s wall`);
  process.exit(0);
}

// ---- 1. throughput ----

if (process.env.IFSIM_BENCH_EXPLORE_ONLY === undefined) {
  // In a process of its own: the searches above leave a large heap behind (part 0's two-pair
  // runs), whose collections made this part up to 2× slower than the same searches in a fresh
  // process (session 30: 1 436 ms per boot-race search against 650–900 ms).
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    encoding: "utf8",
    env: { ...process.env, IFSIM_BENCH_EXPLORE_ONLY: "throughput" },
  });
  const out = r.stdout.split("\n");
  const from = out.findIndex((l) => l.startsWith("throughput"));
  process.stdout.write(`\n${out.slice(from).join("\n").trimEnd()}\n`);
  if (r.status !== 0 || from < 0) {
    console.log(`  !! the throughput part failed (status ${r.status}):\n${r.stderr}`);
  }
}

// ---- 2. reduction table on the seed race ----

const REDUCTIONS: readonly Config[] = [
  cfg("naive", "none", false, false),
  cfg("naive+hashing", "none", true, false),
  cfg("DPOR", "dpor", false, false),
  cfg("DPOR+hashing", "dpor", true, false),
  cfg("DPOR+hash+sym, fine", "dpor", true, true, false),
  FULL,
];
const head = (first: string): string =>
  `  ${first.padEnd(22)} ${"verdict".padEnd(14)} ${"transitions".padStart(11)} ${"states".padStart(9)} ${"distinct".padStart(9)} ${"interleav.".padStart(10)} ${"time ms".padStart(8)}`;
for (const kernel of ["6.1", "5.0"]) {
  console.log(`\nreductions on the seed race (${SEED}), Linux ${kernel}`);
  console.log(`${head("configuration")} ${"vs naive".padStart(10)}`);
  const rs: { name: string; r: SearchResult }[] = [];
  for (const c of REDUCTIONS) {
    const r = run(seed, kernel, c);
    rs.push({ name: c.name, r });
    const naive = (rs[0] as { r: SearchResult }).r;
    // Transitions of naive ÷ transitions of this row: how many times fewer steps it fires.
    const ratio =
      r.verdict === "bounded" && c !== REDUCTIONS[0]
        ? "n/a"
        : `${naive.verdict === "bounded" && c !== REDUCTIONS[0] ? "≥" : ""}${(naive.stats.transitions / Math.max(1, r.stats.transitions)).toFixed(1)}×`;
    const s = r.stats;
    console.log(
      `  ${c.name.padEnd(22)} ${verdictOf(r).padEnd(14)} ${int(s.transitions).padStart(11)} ${int(s.states).padStart(9)} ${int(s.distinct).padStart(9)} ${int(s.executions).padStart(10)} ${int(s.elapsedMs).padStart(8)} ${ratio.padStart(10)}`,
    );
  }
  if (rs.some((x) => x.r.verdict === "violated"))
    console.log(
      "  (violated: the search stops at the first violation; figures are the cost to it)",
    );
  agree(`the seed race, Linux ${kernel}`, rs);
}

// ---- 3. boot race scaling ----

const SCALING: readonly Config[] = [
  cfg("naive", "none", false, false),
  // Every reachable state once, up to symmetry: the size of the full model's state space.
  cfg("naive+hashing+symmetry", "none", true, true),
  cfg("DPOR", "dpor", true, false),
  cfg("DPOR+symmetry", "dpor", true, true),
  { ...cfg("DPOR+symmetry, free", "dpor", true, true), timing: "free" },
];
console.log(
  "\nboot race scaling, Linux 5.1 (N failover pairs, 2 udev workers, bring-up actor; bootRaceScenario)",
);
console.log(
  "  naive = no reduction, no hashing; naive+hashing+symmetry = every reachable state once (up to\n  symmetry); DPOR = DPOR + hashing; DPOR+symmetry = + symmetry",
);
console.log(`  N ${head("configuration").slice(2)} ${"growth".padStart(7)}`);
const streak = new Map<string, number>(SCALING.map((c) => [c.name, 0]));
const prev = new Map<string, number | null>(SCALING.map((c) => [c.name, null]));
const growths = new Map<string, string[]>(SCALING.map((c) => [c.name, []]));
for (let n = 1; n <= 14; n++) {
  const sc = bootRaceScenario(n, { kernel: "5.1" });
  const rs: { name: string; r: SearchResult }[] = [];
  for (const c of SCALING) {
    const label = `${String(n).padStart(3)} ${c.name.padEnd(22)}`;
    if ((streak.get(c.name) ?? 0) >= 2) {
      console.log(`${label} (skipped: bounded at smaller N)`);
      continue;
    }
    const r = run(sc, "5.1", c);
    rs.push({ name: c.name, r });
    const s = r.stats;
    const before = prev.get(c.name) ?? null;
    let growth = "-";
    if (r.verdict === "bounded") {
      streak.set(c.name, (streak.get(c.name) ?? 0) + 1);
      prev.set(c.name, null);
    } else {
      streak.set(c.name, 0);
      prev.set(c.name, s.transitions);
      if (before !== null) {
        growth = `×${(s.transitions / Math.max(1, before)).toFixed(2)}`;
        growths.get(c.name)?.push(`${n - 1}→${n} ${growth}`);
      }
    }
    console.log(
      `${label} ${verdictOf(r).padEnd(14)} ${int(s.transitions).padStart(11)} ${int(s.states).padStart(9)} ${int(s.distinct).padStart(9)} ${int(s.executions).padStart(10)} ${int(s.elapsedMs).padStart(8)} ${growth.padStart(7)}`,
    );
  }
  agree(`the boot race N=${n}`, rs);
}
console.log("  growth of transitions from N to N+1 (both finished under the cap):");
for (const c of SCALING) {
  const g = growths.get(c.name) ?? [];
  console.log(
    `    ${c.name.padEnd(22)} ${g.length > 0 ? g.join(", ") : "none (no two consecutive N finished)"}`,
  );
}

// ---- 4. finding the bug at scale: Linux 5.0 ----

console.log(
  "\nboot race on Linux 5.0 (violated at every N): time to the first violation, N = 1…14",
);
console.log(
  "  probe = seeded random walks (walkForViolation, seed 1, up to 1000 walks); DPOR+symmetry = the search",
);
console.log(
  `  ${"N".padStart(3)} ${"probe: walks".padStart(12)} ${"steps".padStart(6)} ${"ms".padStart(7)}   ${"DPOR+symmetry".padEnd(14)} ${"transitions".padStart(11)} ${"ms".padStart(7)}`,
);
let dporBounded = 0;
for (let n = 1; n <= 14; n++) {
  const sc = bootRaceScenario(n, { kernel: "5.0" });
  const w = walkForViolation(
    sc,
    { kernel: "5.0" },
    {
      walks: 1000,
      seed: 1,
      now,
      timeLimitMs: CAP_MS,
    },
  );
  const probe = w.found
    ? `${String(w.walks).padStart(12)} ${String(w.found.path.length).padStart(6)} ${int(w.stats.elapsedMs).padStart(7)}`
    : `${`none in ${w.walks}`.padStart(12)} ${"-".padStart(6)} ${int(w.stats.elapsedMs).padStart(7)}`;
  let dpor = "(skipped: bounded at smaller N)";
  if (dporBounded < 2) {
    const r = run(sc, "5.0", FULL);
    dporBounded = r.verdict === "bounded" ? dporBounded + 1 : 0;
    dpor = `${verdictOf(r).padEnd(14)} ${int(r.stats.transitions).padStart(11)} ${int(r.stats.elapsedMs).padStart(7)}`;
  }
  console.log(`  ${String(n).padStart(3)} ${probe}   ${dpor}`);
}

await everyNPart();

console.log(`\nexplore bench: ${((now() - tStart) / 1000).toFixed(1)} s wall`);
