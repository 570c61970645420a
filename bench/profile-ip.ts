// Where one operation kind of bench/run.ts spends its time and its allocations: runs the
// bench's workload (add N with `d%d`, add N by name, rename, up, delete) in-process REPS times
// on fresh kernels and profiles only the chosen phase of the last runs, with V8's sampling CPU
// profiler (self time per function) or its sampling heap profiler (bytes allocated per
// operation, per allocating function; garbage included).
//
//   npx tsx bench/profile-ip.ts [--heap] [--monitor] [PHASE] [N] [REPS]
//
// PHASE is one of "add %d", "add name", "rename", "up", "delete" (default "add name"), N the
// devices per phase (default 4000), REPS the runs (default 6; the first two are untimed, to warm
// the JIT). --monitor adds an `ip monitor link` listener formatting every record. The first line
// also gives the minor page faults per operation (memory the heap touched for the first time:
// about 12 µs of CPU each on the development VM, so bytes kept alive per device cost time).

import { Session } from "node:inspector/promises";
import { settleKernel } from "../src/cli/ip.ts";
import { IpMonitor, IpProcess } from "../src/ip/index.ts";
import { createKernel } from "../src/kernel/index.ts";
import { Rng, VirtualClock } from "../src/sim/index.ts";
import { batches, PHASES, type Phase } from "./workload.ts";

const args = process.argv.slice(2);
const heap = args.includes("--heap");
const monitor = args.includes("--monitor");
const pos = args.filter((a) => !a.startsWith("--"));
const phase = (pos[0] ?? "add name") as Phase;
if (!PHASES.includes(phase)) throw new Error(`phase must be one of ${PHASES.join(", ")}`);
const n = Number(pos[1] ?? 4000);
const reps = Math.max(3, Number(pos[2] ?? 6));

const text = batches(n);

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
// Function and file (tsx's transpiled line numbers would mislead).
const where = (f: Frame) =>
  `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}`;
/** The inspector's own dispatch (Profiler.start/stop run on this thread): not the workload. */
const OVERHEAD = new Set(["dispatch ", "(program) ", "(idle) "]);

const s = new Session();
s.connect();
await s.post(heap ? "HeapProfiler.enable" : "Profiler.enable");
if (!heap) await s.post("Profiler.setSamplingInterval", { interval: 100 });
let cpu = 0;
/** Minor page faults in the profiled phases (first touches of memory the heap grew into). */
let faults = 0;
const self = new Map<string, number>();
for (let r = 0; r < reps; r++) {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
  k.trace.keep(false);
  if (monitor) {
    const mon = new IpMonitor(k);
    k.trace.subscribe(["kernel.rtnl"], (e) => {
      mon.feed([e]);
    });
  }
  for (const p of PHASES) {
    const ip = new IpProcess(k, { settle: () => settleKernel(k, clock) });
    const on = p === phase && r >= 2;
    if (on && heap)
      await s.post("HeapProfiler.startSampling", {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    else if (on) await s.post("Profiler.start");
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const res = ip.batch(text[p], "profile");
    const cu = process.cpuUsage(c0);
    const df = process.resourceUsage().minorPageFault - f0;
    if (res.status !== 0) throw new Error(`${p} failed: ${res.stderr.slice(0, 300)}`);
    if (!on) continue;
    cpu += cu.user + cu.system;
    faults += df;
    if (heap) {
      const { profile } = await s.post("HeapProfiler.stopSampling");
      const walk = (node: typeof profile.head): void => {
        const key = where(node.callFrame);
        self.set(key, (self.get(key) ?? 0) + node.selfSize);
        for (const c of node.children) walk(c);
      };
      walk(profile.head);
    } else {
      const { profile } = await s.post("Profiler.stop");
      const byId = new Map(profile.nodes.map((x) => [x.id, x]));
      const deltas = profile.timeDeltas ?? [];
      (profile.samples ?? []).forEach((id, i) => {
        const node = byId.get(id);
        if (!node) return;
        const key = where(node.callFrame);
        if (!OVERHEAD.has(key)) self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0));
      });
    }
  }
}
s.disconnect();
const runs = reps - 2;
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(
  `${phase}, N = ${n}${monitor ? ", with a monitor listener" : ""}: ${(cpu / runs / n).toFixed(2)} CPU µs/op, ${(faults / runs / n).toFixed(3)} page faults/op over ${runs} profiled runs`,
);
console.log(
  heap
    ? "bytes/op  function (allocation site)"
    : "self %   function (share of the samples in the phase)",
);
for (const [key, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  const fig = heap
    ? (v / runs / n).toFixed(0).padStart(8)
    : ((100 * v) / total).toFixed(1).padStart(6);
  console.log(`${fig}  ${key}`);
}
if (heap) console.log(`${(total / runs / n).toFixed(0).padStart(8)}  in all`);
