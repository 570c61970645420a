// The model's CPU time and minor page faults per operation for each phase of bench/run.ts's
// workload (add N with `d%d`, add N by name, rename, up, delete), in-process, on fresh kernels,
// without a profiler: the best CPU µs/op and the median faults/op over RUNS runs after WARMUP
// untimed ones. A quick A/B check (run it on two checkouts one after the other, on the same
// load); the page faults count memory the heap touched for the first time, which does not
// depend on the machine's load (a first touch costs about 12 µs of CPU on the development VM).
//
//   npx tsx bench/phases.ts [--monitor] [--each] [N] [RUNS] [WARMUP]      (defaults 4000, 10, 3)
//
// --each also prints every timed run's row: each phase's wall µs per operation and page faults
// per operation, run by run (how much of the scatter between runs the page faults explain;
// docs/performance.md, session 29).
//
// --monitor adds an `ip monitor link` listener formatting every RTM_NEWLINK/DELLINK record, as
// `ifsim ip --monitor` does (and bench/run.ts's monitor column).

import { settleKernel } from "../src/cli/ip.ts";
import { IpMonitor, IpProcess } from "../src/ip/index.ts";
import { createKernel } from "../src/kernel/index.ts";
import { Rng, VirtualClock } from "../src/sim/index.ts";
import { batches, PHASES } from "./workload.ts";

const args = process.argv.slice(2);
const monitor = args.includes("--monitor");
const each = args.includes("--each");
const [n = 4000, runs = 10, warmup = 3] = args.filter((a) => !a.startsWith("--")).map(Number);

const text = batches(n);

const cpu = new Map<string, number[]>(PHASES.map((p) => [p, []]));
const faults = new Map<string, number[]>(PHASES.map((p) => [p, []]));
for (let r = 0; r < warmup + runs; r++) {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
  k.trace.keep(false);
  let bytes = 0;
  if (monitor) {
    const mon = new IpMonitor(k);
    k.trace.subscribe(["kernel.rtnl"], (e) => {
      bytes += mon.feed([e]).length;
    });
  }
  const row: string[] = [];
  for (const p of PHASES) {
    const ip = new IpProcess(k, { settle: () => settleKernel(k, clock) });
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = ip.batch(text[p] as string, "phases");
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const f = process.resourceUsage().minorPageFault - f0;
    if (res.status !== 0) throw new Error(`${p} failed: ${res.stderr.slice(0, 300)}`);
    if (r < warmup) continue;
    cpu.get(p)?.push((c.user + c.system) / n);
    faults.get(p)?.push(f / n);
    row.push(`${((wall * 1000) / n).toFixed(2)} (${(f / n).toFixed(2)})`.padEnd(15));
  }
  if (each && r >= warmup) {
    if (r === warmup)
      console.log(`run  ${PHASES.map((p) => p.padEnd(15)).join("")}  wall µs/op (faults/op)`);
    console.log(`${String(r - warmup).padStart(3)}  ${row.join("")}`);
  }
  if (monitor && bytes === 0) throw new Error("the monitor listener heard nothing");
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(
  `N = ${n}, ${runs} runs${monitor ? ", with a monitor listener" : ""}: best CPU µs/op, median page faults/op`,
);
for (const p of PHASES)
  console.log(
    `${p.padEnd(9)} ${Math.min(...(cpu.get(p) ?? []))
      .toFixed(2)
      .padStart(6)} µs  ${median(faults.get(p) ?? []).toFixed(3)} faults`,
  );
