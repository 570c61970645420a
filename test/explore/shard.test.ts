// `--shard K/N` + `--merge`: the merge of every shard equals a single run with the same options,
// field by field (verdict, statistics, counterexample; elapsed times aside), and shard files
// that do not belong together are refused with exit 2 and a reason.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import {
  type CellRun,
  exploreMatrix,
  planMatrix,
  type SearchPlan,
} from "../../src/explore/matrix.ts";
import {
  checkShards,
  dealUnits,
  mergeShards,
  runShard,
  SHARD_FORMAT,
  SHARD_VERSION,
  type ShardFile,
  ShardMergeError,
  shardOptions,
} from "../../src/explore/shard.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const SEED_RACE = "examples/explore/seed-race.yaml";

function load(file: string): { sc: ScenarioDoc; text: string } {
  const text = readFileSync(file, "utf8");
  const p = parseScenario(text, file);
  if (!p.ok) throw new Error(`${file} does not parse`);
  return { sc: p.scenario, text };
}

/** What a cell's result is, without wall times and the jobs line. */
function comparable(c: CellRun): unknown {
  const { elapsedMs: _e, ...stats } = c.result.stats;
  return {
    kernel: c.kernel,
    udev: c.udev,
    config: c.config,
    verdict: c.result.verdict,
    stats,
    ...(c.result.verdict === "bounded" ? { bound: c.result.bound } : {}),
    ...(c.result.verdict === "violated" ? { counterexample: c.result.counterexample } : {}),
    subtrees: c.subtrees,
    probe: c.probe,
    replay: c.replay
      ? { path: c.replay.path, steps: c.replay.steps, violation: c.replay.violation }
      : undefined,
  };
}

const plan0: SearchPlan = {
  reduction: "dpor",
  symmetry: true,
  hashing: true,
  maxDepth: 2000,
  probe: 16,
  walkSeed: 1,
  jobs: 1,
  splitDepth: 0,
  shrink: true,
};

describe("explore --shard / --merge", () => {
  const cases: {
    name: string;
    kernels: string[];
    udevs: string[];
    plan: Partial<SearchPlan>;
    n: number;
  }[] = [
    // The probe finds 5.0's violation; 6.1 verifies over subtrees dealt to 3 shards.
    {
      name: "matrix, probe, depth-1 split",
      kernels: ["5.0", "6.1"],
      udevs: ["v253"],
      plan: { splitDepth: 1 },
      n: 3,
    },
    // No probe: the search finds 5.0's violation in one subtree; the others' stats count up to it.
    {
      name: "violation found by the search",
      kernels: ["5.0"],
      udevs: ["v250"],
      plan: { probe: 0, splitDepth: 2 },
      n: 4,
    },
    // A bound per subtree: bounded, the same statistics.
    {
      name: "bounded",
      kernels: ["6.1"],
      udevs: ["v253"],
      plan: { probe: 0, splitDepth: 1, maxStates: 40 },
      n: 2,
    },
    // Cells as units (no split), more shards than some cells need.
    {
      name: "cells as units",
      kernels: ["5.0", "6.1"],
      udevs: ["v249", "v250"],
      plan: { probe: 0, reduction: "none", maxStates: 300 },
      n: 3,
    },
  ];
  for (const t of cases)
    it(`should merge ${t.n} shards into the single run: ${t.name}`, async () => {
      const { sc } = load(SEED_RACE);
      const plan = planMatrix(sc, { kernels: t.kernels, udevs: t.udevs, invariants: [] });
      if ("error" in plan) throw new Error(plan.error);
      const a: SearchPlan = { ...plan0, ...t.plan };
      const single = await exploreMatrix(sc, plan, a, { now: () => 0 });
      const o = shardOptions(plan, a);
      const shards: ShardFile[] = [];
      for (let k = 1; k <= t.n; k++) {
        const r = runShard(sc, o, { index: k, count: t.n }, { now: () => 0 });
        shards.push({
          format: SHARD_FORMAT,
          version: SHARD_VERSION,
          scenario: { name: sc.name, file: SEED_RACE, sha256: "x", text: "y" },
          options: o,
          shard: { index: k, count: t.n },
          units: r.units,
          mine: r.mine,
          // Through JSON, as the files go.
          cells: JSON.parse(JSON.stringify(r.cells)),
        });
      }
      // Every unit in exactly one shard.
      expect(shards.reduce((s, x) => s + x.mine, 0)).toBe(shards[0]?.units);
      const shuffled = [...shards].reverse().map((d, i) => ({ name: `s${i}`, data: d }));
      const merged = mergeShards(sc, checkShards(shuffled), () => 0);
      expect(merged.map(comparable)).toEqual(single.map(comparable));
    });

  it("should refuse shards missing, duplicated, of other options or another scenario (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-shard-"));
    const args = [
      SEED_RACE,
      "--kernel",
      "6.1",
      "--probe",
      "0",
      "--max-states",
      "30",
      "--split-depth",
      "1",
    ];
    const f = (k: number, n = 3): string => join(dir, `s${k}-${n}.json`);
    for (const k of [1, 2, 3]) {
      const r = await main(["explore", ...args, "--shard", `${k}/3`, "--shard-out", f(k)]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`shard ${k}/3`);
    }
    const ok = await main(["explore", "--merge", f(1), f(2), f(3), "--json"]);
    expect(ok.status, ok.stderr).toBe(3);
    const single = await main(["explore", ...args, "--json"]);
    const strip = (s: string): unknown => {
      const j = JSON.parse(s);
      delete j.options.jobs;
      delete j.stats.elapsedMs;
      delete j.stats.totalMs;
      delete j.stats.statesPerSecond;
      delete j.stats.interleavingsPerSecond;
      return j;
    };
    expect(strip(ok.stdout)).toEqual(strip(single.stdout));

    const bad = async (files: string[], why: RegExp): Promise<void> => {
      const r = await main(["explore", "--merge", ...files]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(why);
    };
    await bad([f(1), f(3)], /shard 2\/3 missing: merge needs all 3/);
    await bad([f(1), f(2), f(3), f(2)], /shard 2\/3 again/);
    // Another scenario: the same file with a changed seed.
    const other = join(dir, "other.yaml");
    writeFileSync(other, readFileSync(SEED_RACE, "utf8").replace(/^name: /m, "seed: 7\nname: "));
    const o2 = await main([
      "explore",
      other,
      ...args.slice(1),
      "--shard",
      "2/3",
      "--shard-out",
      join(dir, "o2.json"),
    ]);
    expect(o2.status, o2.stderr).toBe(0);
    await bad([f(1), join(dir, "o2.json"), f(3)], /another scenario/);
    // Other options.
    const m2 = await main([
      "explore",
      ...args,
      "--max-states",
      "31",
      "--shard",
      "2/3",
      "--shard-out",
      join(dir, "m2.json"),
    ]);
    expect(m2.status, m2.stderr).toBe(0);
    await bad([f(1), join(dir, "m2.json"), f(3)], /other options .*maxStates/);
    // Another N.
    const n2 = await main(["explore", ...args, "--shard", "2/2", "--shard-out", f(2, 2)]);
    expect(n2.status, n2.stderr).toBe(0);
    await bad([f(1), f(2, 2), f(3)], /shard 2\/2, but .* is shard 1\/3/);
    // Not a shard file, an edited one, usage.
    await bad([SEED_RACE], /not JSON/);
    writeFileSync(join(dir, "x.json"), "{}");
    await bad([join(dir, "x.json")], /not an ifsim explore shard file/);
    const edited = JSON.parse(readFileSync(f(2), "utf8"));
    edited.scenario.text += "\n# edited\n";
    writeFileSync(join(dir, "e2.json"), JSON.stringify(edited));
    await bad([f(1), join(dir, "e2.json"), f(3)], /another scenario|does not match its sha256/);
    await bad([], /needs the shard files/);
    const u = await main(["explore", "--merge", f(1), "--kernel", "5.0"]);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain(
      "--merge takes the search options from the shard files: drop --kernel",
    );
    for (const s of ["0/3", "4/3", "x", "1/0"]) {
      const r = await main(["explore", ...args, "--shard", s]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("--shard needs K/N");
    }
    const j = await main(["explore", ...args, "--shard", "1/2", "--json"]);
    expect(j.status).toBe(2);
    expect(j.stderr).toContain("--json is an output of the merge");
  });

  it("should deal every unit to exactly one shard, shares equal ±1, not in matrix order", () => {
    const sizes = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 0, 4];
    const total = sizes.reduce((t, x) => t + x, 0);
    for (const n of [1, 2, 3, 4, 7, 40]) {
      const seen = sizes.map((k) => new Array<number>(k).fill(0));
      const shares: number[] = [];
      for (let k = 1; k <= n; k++) {
        const own = dealUnits(sizes, { index: k, count: n });
        let mine = 0;
        for (const [c, is] of own.entries()) {
          expect(is).toEqual([...is].sort((a, b) => a - b));
          for (const i of is) (seen[c] as number[])[i] = ((seen[c] as number[])[i] ?? 0) + 1;
          mine += is.length;
        }
        shares.push(mine);
      }
      expect(seen.flat()).toEqual(new Array(total).fill(1));
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
    // 16 one-unit cells (4 kernels × 4 udevs) over 4 shards: no shard gets a whole udev column.
    const grid = new Array<number>(16).fill(1);
    for (let k = 1; k <= 4; k++) {
      const cols = new Set(
        dealUnits(grid, { index: k, count: 4 })
          .map((is, c) => (is.length > 0 ? c % 4 : -1))
          .filter((c) => c >= 0),
      );
      expect(cols.size).toBeGreaterThan(1);
    }
  });

  it("should say which shard is wrong in the library too", () => {
    expect(() => checkShards([])).toThrow(ShardMergeError);
    expect(() => checkShards([{ name: "a", data: { format: SHARD_FORMAT, version: 99 } }])).toThrow(
      /version 99/,
    );
  });
});
