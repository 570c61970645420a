// npm run bench: the same `ip -batch` workload on the model and on the host kernel in a netns.
// Phases: add N ifb devices with a `%d` name, rename each, delete each. Prints wall times, the
// kernel/model ratio per phase, and each side's growth from N to 4N.

import { performance } from "node:perf_hooks";
import { Netns, netnsUnavailableReason } from "../src/backends/netns.ts";
import { settleKernel } from "../src/cli/ip.ts";
import { IpProcess } from "../src/ip/index.ts";
import { createKernel } from "../src/kernel/index.ts";
import { Rng, VirtualClock } from "../src/sim/index.ts";

const SIZES = (process.env.IFSIM_BENCH_SIZES ?? "1000,4000,16000").split(",").map(Number);
const PHASES = ["add", "rename", "delete"] as const;
type Phase = (typeof PHASES)[number];

function batches(n: number): Record<Phase, string> {
  const add: string[] = [];
  const ren: string[] = [];
  const del: string[] = [];
  for (let i = 0; i < n; i++) {
    add.push("link add name d%d type ifb");
    ren.push(`link set dev d${i} name r${i}`);
    del.push(`link del dev r${i}`);
  }
  return {
    add: `${add.join("\n")}\n`,
    rename: `${ren.join("\n")}\n`,
    delete: `${del.join("\n")}\n`,
  };
}

function names(json: string): string {
  return (JSON.parse(json) as { ifname: string }[]).map((l) => l.ifname).join(",");
}

const reason = netnsUnavailableReason();
if (reason) console.log(`host kernel side skipped: ${reason}`);
const rows: { n: number; phase: Phase; model: number; kernel: number | null }[] = [];
for (const n of SIZES) {
  const b = batches(n);
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
  const ns = reason ? null : new Netns("ifsim-bench");
  try {
    for (const phase of PHASES) {
      const p = new IpProcess(k, { settle: () => settleKernel(k, clock) });
      const t0 = performance.now();
      const mr = p.batch(b[phase], "bench");
      const model = performance.now() - t0;
      if (mr.status !== 0)
        throw new Error(`model ${phase} N=${n} failed: ${mr.stderr.slice(0, 300)}`);
      let kernel: number | null = null;
      if (ns) {
        const t1 = performance.now();
        const kr = ns.ip(["-batch", "-"], b[phase]);
        kernel = performance.now() - t1;
        if (kr.status !== 0)
          throw new Error(`kernel ${phase} N=${n} failed: ${kr.stderr.slice(0, 300)}`);
        if (phase === "add") {
          const mn = names(new IpProcess(k, { json: true }).run(["link", "show"]).stdout);
          const kn = names(ns.ip(["-j", "link", "show"]).stdout);
          if (mn !== kn) throw new Error(`N=${n}: the model's names differ from the kernel's`);
          console.log(`N=${n}: model and kernel produced the same ${n + 1} names`);
        }
      }
      rows.push({ n, phase, model, kernel });
    }
  } finally {
    ns?.close();
  }
}

const ms = (x: number | null) => (x === null ? "-" : `${x.toFixed(1)} ms`);
console.log("\n    N  phase    model        kernel       kernel/model");
for (const r of rows) {
  const ratio = r.kernel === null ? "-" : `${(r.kernel / r.model).toFixed(2)}x`;
  console.log(
    `${String(r.n).padStart(5)}  ${r.phase.padEnd(7)}  ${ms(r.model).padEnd(11)}  ${ms(r.kernel).padEnd(11)}  ${ratio}`,
  );
}
console.log("\ngrowth from N to 4N (linear = 4x, quadratic = 16x)");
for (const phase of PHASES) {
  for (const n of SIZES) {
    const a = rows.find((r) => r.n === n && r.phase === phase);
    const b = rows.find((r) => r.n === 4 * n && r.phase === phase);
    if (!a || !b) continue;
    const kg = a.kernel && b.kernel ? `${(b.kernel / a.kernel).toFixed(1)}x` : "-";
    console.log(
      `  ${phase.padEnd(7)} ${n}→${4 * n}: model ${(b.model / a.model).toFixed(1)}x, kernel ${kg}`,
    );
  }
}
