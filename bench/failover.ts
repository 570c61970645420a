// npm run bench (part 2): the failover model's speed. Boots of the failover VM, hot-plug
// cycles of the VF with the master up (unplug, plug, udev-style rename), and master up/down,
// in operations per second of wall time; compared with the real Debian 6.1 guest under QEMU/TCG
// measured by tools/qemu-capture (boot to first command ≈ 3.1–4.3 s, device_del → DEVICE_DELETED
// 100–190 ms, re-plug → netdev ≈ 100–150 ms).

import { performance } from "node:perf_hooks";
import { IpProcess } from "../src/ip/index.ts";
import { createKernel, devGetByName, pciGetFunction } from "../src/kernel/index.ts";
import { FAILOVER_VM, Machine } from "../src/machine/index.ts";
import { Rng, VirtualClock } from "../src/sim/index.ts";

function boot(seed: number): { k: ReturnType<typeof createKernel>; m: Machine } {
  const clock = new VirtualClock();
  const k = createKernel({
    kernel: "6.1",
    clock,
    rng: new Rng(seed),
    cpus: 1,
    defaultQdisc: "fq_codel",
  });
  const m = new Machine(k, FAILOVER_VM, (t) => clock.advanceTo(t));
  m.boot();
  return { k, m };
}

const BOOTS = Number(process.env.IFSIM_BENCH_BOOTS ?? 2000);
let t0 = performance.now();
for (let i = 0; i < BOOTS; i++) boot(i);
const bootMs = (performance.now() - t0) / BOOTS;

const CYCLES = Number(process.env.IFSIM_BENCH_CYCLES ?? 5000);
const { k, m } = boot(1);
new IpProcess(k, { settle: () => m.settle() }).run(["link", "set", "eth0", "up"]);
t0 = performance.now();
for (let i = 0; i < CYCLES; i++) {
  m.unplug("primary0");
  m.plug("primary0");
  const vf = k.state.devices.get(pciGetFunction(k, "0000:02:00.0")?.drvdata.ifindex as number);
  if (!vf) throw new Error("VF did not come back");
  const ip = new IpProcess(k, { settle: () => m.settle() });
  const r = ip.run(["link", "set", vf.name, "name", i % 2 ? "ens4" : "ens5"]);
  if (r.status !== 0) throw new Error(`rename failed: ${r.stderr}`);
  m.settle();
}
const cycleMs = (performance.now() - t0) / CYCLES;
const master = devGetByName(k, "eth0");
if (!master?.carrier) throw new Error("master lost its carrier");

const FLAPS = Number(process.env.IFSIM_BENCH_FLAPS ?? 5000);
t0 = performance.now();
for (let i = 0; i < FLAPS; i++) {
  const ip = new IpProcess(k, { settle: () => m.settle() });
  ip.run(["link", "set", "eth0", i % 2 ? "up" : "down"]);
}
const flapMs = (performance.now() - t0) / FLAPS;

const REAL = { bootMs: 3700, cycleMs: 145 + 125 + 3000 };
console.log("failover model (kernel 6.1, failover-vm)");
console.log(
  `  boot:              ${bootMs.toFixed(3)} ms/boot    (real guest ≈ ${REAL.bootMs} ms; ${Math.round(REAL.bootMs / bootMs)}x)`,
);
console.log(
  `  VF hot-plug cycle: ${cycleMs.toFixed(3)} ms/cycle   (unplug+plug+rename+settle; real ≈ ${REAL.cycleMs} ms incl. 3 s settle; ${Math.round(REAL.cycleMs / cycleMs)}x)`,
);
console.log(`  master up/down:    ${flapMs.toFixed(3)} ms/command`);
console.log(`  trace events after ${CYCLES} cycles and ${FLAPS} flaps: ${k.trace.length}`);
