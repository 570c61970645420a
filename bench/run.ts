// npm run bench (part 1): the same `ip -batch` workload on the model and on the host kernel in a
// netns. Per N and per operation kind (add with a `%d` template, add by name, rename, set up,
// delete) it prints the host kernel's time (root only; delete only up to N = 4000, where each
// deletion waits for an RCU grace period), the model's time in-process and as a whole `ifsim ip`
// process, the kernel/model ratio, µs per operation, each side's fitted growth exponent, and
// memory: the model's heap per device alive and the whole process's peak RSS. A last line churns
// one device (add, delete) many times to show that memory follows the devices alive, not the
// commands run.
//
// The model in-process runs after a JIT warm-up (IFSIM_BENCH_WARMUP passes of every phase at
// N = 4000, default 3) and IFSIM_BENCH_MODEL_REPEAT times per N on fresh kernels (default 9);
// each row shows the best of those runs (CPU and wall separately), the median wall time, the
// median minor page faults per operation, and the best of as many runs with an `ip monitor link`
// listener formatting every RTM_NEWLINK/DELLINK record (what `ifsim ip --monitor` does). One
// more run, untimed, measures the heap per device (its forced collections would otherwise land
// in a timed run). The whole-process runs take the best of IFSIM_BENCH_REPEAT (default 3), the
// host kernel the best of IFSIM_BENCH_KERNEL_REPEAT runs (default 3; deletes in one run only).
//
// Why nine runs and the median: on the development VM a run's time varies by ×2 with the state
// of V8's heap. A first touch of a memory page costs about 10 µs there (a C probe: 9.7–10 µs per
// 4 KiB page), and whether a run gets pages V8 still holds or fresh ones decides most of that:
// add `%d` took 2.1–2.6 µs per operation in runs with no page fault and 3.4–4.5 µs in runs with
// 0.09–0.15 faults per operation (docs/performance.md, session 29).
// The summary (table, growth exponents, memory) is printed when the run ends, is interrupted
// (Ctrl-C, SIGTERM: the step under way finishes first) or fails, over the rows measured so far.
//
// IFSIM_BENCH_SIZES=1000,4000 limits the sizes; IFSIM_BENCH_KERNEL=0 skips the host kernel;
// IFSIM_BENCH_KERNEL_DELETE_MAX=N times the host kernel's deletes up to N (default 4000);
// IFSIM_BENCH_KERNEL_MAX=N times the host kernel only up to N (default: every size).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Netns, netnsUnavailableReason } from "../src/backends/netns.ts";
import { MAX_INPUT_BYTES } from "../src/cli/io.ts";
import { settleKernel } from "../src/cli/ip.ts";
import { IpMonitor, IpProcess } from "../src/ip/index.ts";
import { createKernel } from "../src/kernel/index.ts";
import { Rng, VirtualClock } from "../src/sim/index.ts";
import { batches, PHASES, type Phase } from "./workload.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const SIZES = (process.env.IFSIM_BENCH_SIZES ?? "1000,4000,16000,32768").split(",").map(Number);
/** Deletion in the host kernel waits for RCU per device: only these sizes. */
const KERNEL_DELETE_MAX = Number(process.env.IFSIM_BENCH_KERNEL_DELETE_MAX ?? 4000);
/** The host kernel is timed up to this N (default: every size). */
const KERNEL_MAX = Number(process.env.IFSIM_BENCH_KERNEL_MAX ?? Infinity);
const WARMUP = Number(process.env.IFSIM_BENCH_WARMUP ?? 3);
const REPEAT = Math.max(1, Number(process.env.IFSIM_BENCH_REPEAT ?? 3));
const MODEL_REPEAT = Math.max(1, Number(process.env.IFSIM_BENCH_MODEL_REPEAT ?? 9));
/**
 * The host kernel's runs per N (default 3, each in a fresh netns; deletes in the first only): a
 * row shows the best, as the model's does, so that the ratio does not profit from one slow
 * kernel run.
 */
const KERNEL_REPEAT = Math.max(1, Number(process.env.IFSIM_BENCH_KERNEL_REPEAT ?? 3));
function names(json: string): string {
  return (JSON.parse(json) as { ifname: string }[]).map((l) => l.ifname).join(",");
}

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const work = mkdtempSync(join(tmpdir(), "ifsim-bench-"));
const CLI = resolve("dist/bin/bin.js");
const CHILD = join(work, "child.mjs");
// Runs the ifsim binary in this process and reports its wall time and peak RSS on fd 3.
writeFileSync(
  CHILD,
  `import { writeSync } from "node:fs";
const t0 = performance.now();
process.argv.splice(1, 1);
process.on("exit", () => { const u = process.resourceUsage(); writeSync(3, JSON.stringify({ ms: performance.now() - t0, cpu: (u.userCPUTime + u.systemCPUTime) / 1000, rss: u.maxRSS * 1024 })); });
await import(${JSON.stringify(CLI)});
`,
);

/** `ifsim ip -batch FILE` as a whole process: wall and CPU time (start-up included), peak RSS. */
function processRun(batch: string): { ms: number; cpu: number; rss: number } {
  const file = join(work, "batch");
  writeFileSync(file, batch);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CHILD, CLI, "ip", "-batch", file], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`ifsim ip -batch failed: ${String(r.output[2]).slice(0, 300)}`);
  const inner = JSON.parse(String(r.output[3])) as { ms: number; cpu: number; rss: number };
  return { ms, cpu: inner.cpu, rss: inner.rss };
}

/**
 * processRun's best of REPEAT runs (least CPU and wall, largest RSS): a phase's share is the
 * difference of two such bests, and a single run's noise made it negative for short phases.
 */
function processBest(batch: string): { ms: number; cpu: number; rss: number } {
  let best = processRun(batch);
  for (let i = 1; i < REPEAT; i++) {
    const r = processRun(batch);
    best = {
      ms: Math.min(best.ms, r.ms),
      cpu: Math.min(best.cpu, r.cpu),
      rss: Math.max(best.rss, r.rss),
    };
  }
  return best;
}

interface Row {
  n: number;
  phase: Phase;
  /** The model's wall time in-process (ms), best of MODEL_REPEAT runs. */
  model: number;
  /** The model's median wall time in-process (ms) over the same runs. */
  median: number;
  /** The median minor page faults per operation over the same runs. */
  faults: number;
  /** The model's CPU time (user + system, ms), best of MODEL_REPEAT runs (GC threads included). */
  cpu: number;
  /** CPU time (ms), best of MODEL_REPEAT runs with an `ip monitor link` listener formatting every record. */
  monitorCpu: number;
  /**
   * Whole process, this phase's share of its CPU time: best cpu(phases so far) − best cpu(phases
   * before); null past the input limit. Below the runs' noise it prints as "< noise".
   */
  proc: number | null;
  kernel: number | null;
}

const kernelWanted = process.env.IFSIM_BENCH_KERNEL !== "0";
const reason = kernelWanted ? netnsUnavailableReason() : "IFSIM_BENCH_KERNEL=0";
if (reason) console.log(`host kernel side skipped: ${reason}`);
const rows: Row[] = [];
const mem: { n: number; perDevice: number; alive: number; rss: number | null }[] = [];
/** One in-process run of every phase on a fresh kernel: wall and CPU ms per phase. */
function modelRun(
  b: Record<Phase, string>,
  n: number,
  opts: { monitor?: boolean; onPhase?: (phase: Phase, k: ReturnType<typeof createKernel>) => void },
): { wall: number; cpu: number; faults: number }[] {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
  k.trace.keep(false); // as `ifsim ip` runs it without --monitor / --dmesg
  let records = 0;
  if (opts.monitor) {
    // What `ifsim ip --monitor OUT` does: every rtnetlink record formatted as it comes.
    const mon = new IpMonitor(k);
    k.trace.subscribe(["kernel.rtnl"], (e) => {
      records += mon.feed([e]).length;
    });
  }
  const out: { wall: number; cpu: number; faults: number }[] = [];
  for (const phase of PHASES) {
    const p = new IpProcess(k, { settle: () => settleKernel(k, clock) });
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const mr = p.batch(b[phase], "bench");
    const wall = performance.now() - t0;
    const cu = process.cpuUsage(c0);
    const faults = (process.resourceUsage().minorPageFault - f0) / n;
    if (mr.status !== 0)
      throw new Error(`model ${phase} N=${n} failed: ${mr.stderr.slice(0, 300)}`);
    out.push({ wall, cpu: (cu.user + cu.system) / 1000, faults });
    opts.onPhase?.(phase, k);
  }
  if (opts.monitor && records === 0) throw new Error("the monitor listener heard nothing");
  return out;
}

/** Lowers each phase's best wall and CPU time to one run's, where that run was faster. */
function keepBest(
  best: { wall: number; cpu: number }[],
  run: { wall: number; cpu: number }[],
): void {
  run.forEach((t, i) => {
    const x = best[i] as { wall: number; cpu: number };
    x.wall = Math.min(x.wall, t.wall);
    x.cpu = Math.min(x.cpu, t.cpu);
  });
}

const HEADER =
  "kernel        model wall    model CPU     CPU µs/op  kernel/model  /CPU     median µs/op  faults/op  monitor µs/op  process";

let stopped = false;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    stopped = true;
    console.log(`\n${signal}: summary of the rows measured so far`);
  });

// Warm-up (JIT): untimed passes of every phase at N = 4000 (or the largest size below it), the
// first with a monitor listener, the last ones without (as the timed runs).
{
  const wn = Math.min(4000, Math.max(...SIZES));
  const b = batches(wn);
  for (let i = 0; i < WARMUP; i++) modelRun(b, wn, { monitor: i === 0 && WARMUP > 1 });
}
const empty = processBest("");
console.log(
  `ifsim ip -batch (empty file) as a whole process: ${empty.ms.toFixed(0)} ms wall, ${empty.cpu.toFixed(0)} ms CPU, peak RSS ${(empty.rss / 2 ** 20).toFixed(0)} MiB`,
);
try {
  for (const n of SIZES) {
    if (stopped) break;
    const b = batches(n);
    // The heap per device alive, in a run of its own (untimed: it forces collections).
    {
      const base = heap();
      modelRun(b, n, {
        onPhase: (phase) => {
          if (phase === "add name")
            mem.push({ n, perDevice: (heap() - base) / (2 * n), alive: 2 * n, rss: null });
        },
      });
    }
    // The model in-process: MODEL_REPEAT runs on fresh kernels, the best and the median of each
    // phase kept; then as many with a monitor listener.
    const best = PHASES.map(() => ({ wall: Infinity, cpu: Infinity }));
    const walls: number[][] = PHASES.map(() => []);
    const faults: number[][] = PHASES.map(() => []);
    for (let rep = 0; rep < MODEL_REPEAT; rep++) {
      const times = modelRun(b, n, {});
      keepBest(best, times);
      times.forEach((t, i) => {
        walls[i]?.push(t.wall);
        faults[i]?.push(t.faults);
      });
    }
    // As many runs with a monitor listener, the best of each phase kept (one run alone varied by
    // ×2 from one bench to the next).
    const withMonitor = PHASES.map(() => ({ wall: Infinity, cpu: Infinity }));
    for (let rep = 0; rep < MODEL_REPEAT; rep++)
      keepBest(withMonitor, modelRun(b, n, { monitor: true }));
    // The host kernel's extra runs (KERNEL_REPEAT − 1, without the deletes): best per phase.
    const kernelBest = new Map<Phase, number>();
    if (!reason && n <= KERNEL_MAX)
      for (let rep = 1; rep < KERNEL_REPEAT && !stopped; rep++) {
        const xs = new Netns("ifsim-bench");
        try {
          for (const phase of PHASES) {
            if (phase === "delete" || stopped) break;
            const t1 = performance.now();
            const kr = xs.ip(["-batch", "-"], b[phase]);
            const t = performance.now() - t1;
            if (kr.status !== 0)
              throw new Error(`kernel ${phase} N=${n} failed: ${kr.stderr.slice(0, 300)}`);
            kernelBest.set(phase, Math.min(kernelBest.get(phase) ?? Infinity, t));
          }
        } finally {
          xs.close();
        }
      }
    // The kernel whose names are compared with the host kernel's (its phases run untimed).
    const clock = new VirtualClock();
    const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
    k.trace.keep(false);
    const ns = reason || n > KERNEL_MAX ? null : new Netns("ifsim-bench");
    let cumulative = "";
    let prevProc = empty.cpu;
    let rss: number | null = null;
    try {
      for (const [i, phase] of PHASES.entries()) {
        if (stopped) break;
        // The model replays the phase (untimed) so that its names can be compared with the kernel's.
        const mr = new IpProcess(k, { settle: () => settleKernel(k, clock) }).batch(
          b[phase],
          "bench",
        );
        if (mr.status !== 0)
          throw new Error(`model ${phase} N=${n} failed: ${mr.stderr.slice(0, 300)}`);
        cumulative += b[phase];
        // The whole process runs every phase so far (the CLI reads at most 1 MiB of batch).
        let proc: number | null = null;
        if (Buffer.byteLength(cumulative) <= MAX_INPUT_BYTES) {
          const pr = processBest(cumulative);
          rss = Math.max(rss ?? 0, pr.rss);
          proc = pr.cpu - prevProc;
          prevProc = pr.cpu;
        }
        let kernel: number | null = null;
        if (ns && (phase !== "delete" || n <= KERNEL_DELETE_MAX)) {
          const t1 = performance.now();
          const kr = ns.ip(["-batch", "-"], b[phase]);
          kernel = Math.min(performance.now() - t1, kernelBest.get(phase) ?? Infinity);
          if (stopped) break;
          if (kr.status !== 0)
            throw new Error(`kernel ${phase} N=${n} failed: ${kr.stderr.slice(0, 300)}`);
          if (phase === "add %d" || phase === "rename") {
            const mn = names(new IpProcess(k, { json: true }).run(["link", "show"]).stdout);
            const kn = names(ns.ip(["-j", "link", "show"]).stdout);
            if (mn !== kn)
              throw new Error(`N=${n} ${phase}: the model's names differ from the kernel's`);
          }
        }
        const bi = best[i] as { wall: number; cpu: number };
        const monitorCpu = (withMonitor[i] as { cpu: number }).cpu;
        rows.push({
          n,
          phase,
          model: bi.wall,
          median: median(walls[i] ?? []),
          faults: median(faults[i] ?? []),
          cpu: bi.cpu,
          monitorCpu,
          proc,
          kernel,
        });
        console.log(`  done: N=${n} ${phase} ${row(rows[rows.length - 1] as Row)}`);
      }
    } finally {
      ns?.close();
    }
    const m = mem.find((x) => x.n === n);
    if (m) m.rss = rss;
  }
} finally {
  summary();
  rmSync(work, { recursive: true, force: true });
}

// Churn: memory follows the devices alive, not the commands run.
if (!stopped) {
  const CHURN = Number(process.env.IFSIM_BENCH_CHURN ?? 50_000);
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
  k.trace.keep(false);
  const p = new IpProcess(k, { settle: () => settleKernel(k, clock) });
  const churn = "link add name c0 type ifb\nlink del dev c0\n".repeat(CHURN / 20);
  p.batch(churn, "churn");
  const h0 = heap();
  const c0 = process.cpuUsage();
  for (let i = 0; i < 10; i++) p.batch(churn, "churn");
  const cu = process.cpuUsage(c0);
  const h1 = heap();
  console.log(
    `\nchurn: ${CHURN} more commands (add and delete one device), ${((cu.user + cu.system) / CHURN).toFixed(2)} CPU µs/op: heap ${(h0 / 2 ** 20).toFixed(1)} → ${(h1 / 2 ** 20).toFixed(1)} MiB`,
  );
}
process.exit(stopped ? 130 : 0);

/** The table, the growth exponents and the memory lines over the rows measured so far. */
function summary(): void {
  if (rows.length === 0) return;
  console.log(
    `\n    N  operation  ${HEADER}\n       (kernel: best of ${KERNEL_REPEAT} runs, each in a fresh netns (deletes: one run); model: best of ${MODEL_REPEAT} in-process runs; CPU = user + system, V8's collector threads included; kernel/model = kernel wall / model wall, and / model CPU; median = median model wall µs/op over the same runs; faults = median minor page faults per operation (about 10 µs each on the development VM); monitor = CPU µs/op with an 'ip monitor link' listener, best of ${MODEL_REPEAT} runs too; process = this phase's share of the CPU time of a whole 'ifsim ip -batch' process running every phase so far, - past the 1 MiB batch limit)`,
  );
  for (const r of rows) console.log(`${String(r.n).padStart(5)}  ${r.phase.padEnd(9)}  ${row(r)}`);

  const sizes = [...new Set(rows.map((r) => r.n))];
  console.log(
    `\ngrowth exponent, N = ${sizes.join(", ")} (least squares of log time on log N; linear = 1)`,
  );
  for (const phase of PHASES) {
    const pick = (f: (r: Row) => number | null) =>
      rows
        .filter((r) => r.phase === phase)
        .map((r) => [r.n, f(r)] as const)
        .filter((x): x is readonly [number, number] => x[1] !== null && x[1] > 0);
    const e = (pts: readonly (readonly [number, number])[]) =>
      pts.length < 2 ? "-" : exponent(pts).toFixed(2);
    console.log(
      `  ${phase.padEnd(9)} model CPU ${e(pick((r) => r.cpu))}, wall ${e(pick((r) => r.model))}, with monitor ${e(pick((r) => r.monitorCpu))}, process ${e(pick((r) => r.proc))};  kernel ${e(pick((r) => r.kernel))}`,
    );
  }

  console.log("\nmemory after both adds (2N devices alive; heap after GC, beyond an empty heap)");
  for (const m of mem)
    console.log(
      `  N=${String(m.n).padStart(5)}: ${m.alive} devices, ${(m.perDevice / 1024).toFixed(2)} KiB per device in-process; whole process peak RSS ${m.rss === null ? "- (batch past the 1 MiB input limit)" : `${(m.rss / 2 ** 20).toFixed(0)} MiB`}`,
    );
}

function row(r: Row): string {
  const ms = (x: number | null) => (x === null ? "-" : `${x.toFixed(1)} ms`);
  const ratio = (d: number) => (r.kernel === null ? "-" : `${(r.kernel / d).toFixed(0)}x`);
  const us = (x: number) => ((1000 * x) / r.n).toFixed(2);
  const proc = r.proc !== null && r.proc <= 0 ? "< noise" : ms(r.proc);
  return `${ms(r.kernel).padEnd(12)}  ${ms(r.model).padEnd(12)}  ${ms(r.cpu).padEnd(12)}  ${us(r.cpu).padStart(9)}  ${ratio(r.model).padStart(12)}  ${ratio(r.cpu).padStart(6)}  ${us(r.median).padStart(12)}  ${r.faults.toFixed(3).padStart(9)}  ${us(r.monitorCpu).padStart(13)}  ${proc}`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Slope of the least-squares line through (log N, log t). */
function exponent(pts: readonly (readonly [number, number])[]): number {
  const xs = pts.map(([n]) => Math.log(n));
  const ys = pts.map(([, t]) => Math.log(t));
  const mx = xs.reduce((a, x) => a + x, 0) / xs.length;
  const my = ys.reduce((a, y) => a + y, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx;
    num += dx * ((ys[i] as number) - my);
    den += dx * dx;
  }
  return num / den;
}
