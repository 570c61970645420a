// What memory costs the model on this machine (docs/performance.md, session 29). Two parts,
// each alone with its name, both without one (the page faults run by run:
// `npx tsx bench/phases.ts --each 4000 16 0`):
//
//   npx tsx bench/memory.ts [maps|layers] [N]      (N devices per phase, default 4000)
//
// - maps: the cost of a lookup in a JavaScript Map of strings by its size, with keys made just
//   before (as `ip` cuts them from a line), and of inserting new keys (the table grows or is
//   rehashed into a new one).
// - layers: a rename line (`link set dev dN name rN`) through `ip -batch` against the kernel's
//   `devChangeName` called directly on the same devices, best of 9 runs each.

import { settleKernel } from "../src/cli/ip.ts";
import { IpProcess } from "../src/ip/index.ts";
import { createKernel, devChangeName, devGetByName, type NetDevice } from "../src/kernel/index.ts";
import { Rng, VirtualClock } from "../src/sim/index.ts";
import { batches } from "./workload.ts";

const args = process.argv.slice(2);
const part = args.find((a) => /^[a-z]+$/.test(a)) ?? "all";
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 4000);
if (!["all", "maps", "layers"].includes(part))
  throw new RangeError(`part must be maps or layers, not "${part}"`);

const fresh = () => {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
  k.trace.keep(false);
  const ip = () => new IpProcess(k, { settle: () => settleKernel(k, clock) });
  return { k, ip };
};

if (part === "all" || part === "maps") {
  console.log("maps: ns per operation, keys made just before the lookups (3 rounds)");
  const cut = (s: string): string => `  ${s}`.slice(2);
  for (let round = 0; round < 3; round++) {
    const row: string[] = [];
    for (const size of [100, 8000, 64000]) {
      const m = new Map<string, number>();
      for (let i = 0; i < size; i++) m.set(cut(`d${i}`), i);
      const hits: string[] = [];
      const misses: string[] = [];
      for (let i = 0; i < 8000; i++) {
        hits.push(cut(`d${i % size}`));
        misses.push(cut(`r${i}`));
      }
      let s = 0;
      const t0 = process.hrtime.bigint();
      for (const h of hits) s += m.get(h) ?? 0;
      const t1 = process.hrtime.bigint();
      for (const x of misses) if (m.has(x)) s++;
      const t2 = process.hrtime.bigint();
      for (let i = 0; i < 4000; i++) m.set(misses[i] as string, i);
      const t3 = process.hrtime.bigint();
      if (s < 0) console.log(s);
      const ns = (a: bigint, b: bigint, k: number) => (Number(b - a) / k).toFixed(0);
      row.push(
        `size ${size}: get ${ns(t0, t1, 8000)}, has (miss) ${ns(t1, t2, 8000)}, insert ${ns(t2, t3, 4000)}`,
      );
    }
    console.log(`  ${row.join(" | ")}`);
  }
}

if (part === "all" || part === "layers") {
  const b = batches(n);
  const setup = () => {
    const f = fresh();
    for (const p of ["add %d", "add name"] as const) f.ip().batch(b[p], "memory");
    return f;
  };
  const best = { line: Infinity, direct: Infinity };
  for (let r = 0; r < 12; r++) {
    {
      const { ip } = setup();
      const p = ip();
      const t0 = performance.now();
      if (p.batch(b.rename, "memory").status !== 0) throw new Error("rename failed");
      if (r >= 3) best.line = Math.min(best.line, performance.now() - t0);
    }
    {
      const { k } = setup();
      const devs: NetDevice[] = [];
      const names: string[] = [];
      for (let i = 0; i < n; i++) {
        devs.push(devGetByName(k, `d${i}`) as NetDevice);
        names.push(`r${i}`);
      }
      const t0 = performance.now();
      for (let i = 0; i < n; i++)
        if (devChangeName(k, devs[i] as NetDevice, names[i] as string) !== 0)
          throw new Error("devChangeName failed");
      if (r >= 3) best.direct = Math.min(best.direct, performance.now() - t0);
    }
  }
  const us = (ms: number) => ((ms * 1000) / n).toFixed(2);
  console.log(
    `\nlayers: N = ${n} renames (2N devices), best of 9 runs: the whole \`ip -batch\` line ${us(best.line)} µs, devChangeName alone ${us(best.direct)} µs`,
  );
}
