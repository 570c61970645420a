// `--estimate`: deterministic for a seed, consistent counts, and near the real size of a small
// space (the seed race on 6.1, counted by the exhaustive search without reduction).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { estimateSize } from "../../src/explore/estimate.ts";
import { systemFor } from "../../src/explore/explore.ts";
import { search } from "../../src/explore/search.ts";
import { parseScenario } from "../../src/scenario/parse.ts";

const SEED_RACE = "examples/explore/seed-race.yaml";

function seedRace() {
  const p = parseScenario(readFileSync(SEED_RACE, "utf8"), SEED_RACE);
  if (!p.ok) throw new Error("seed race does not parse");
  return p.scenario;
}

describe("explore --estimate", () => {
  const config = { kernel: "6.1", udev: "v253" };
  const o = { walks: 60, seed: 3, maxDepth: 2000, symmetry: true };

  it("should give the same estimate for the same seed, and consistent counts", () => {
    const sc = seedRace();
    const a = estimateSize(sc, config, { ...o, now: () => 0 });
    const b = estimateSize(sc, config, { ...o, now: () => 0 });
    expect(b).toEqual(a);
    expect(a.walks).toBe(60);
    expect(a.seen).toBeGreaterThan(0);
    expect(a.q1 + a.q2).toBeLessThanOrEqual(a.seen);
    expect(a.distinct).toBeGreaterThanOrEqual(a.seen);
    // Each walk meets at most its steps + 1 states.
    expect(a.seen).toBeLessThanOrEqual(a.steps + a.walks);
    expect(a.interleavings).toBeGreaterThanOrEqual(1);
    expect(a.treeStates).toBeGreaterThan(a.interleavings);
    const c = estimateSize(sc, config, { ...o, seed: 4, now: () => 0 });
    expect(c).not.toEqual(a);
  });

  it("should come within a factor 1.5 of the real distinct states of the seed race", () => {
    const sc = seedRace();
    const real = search(systemFor(sc, config), {
      reduction: "none",
      hashing: true,
      symmetry: true,
    });
    expect(real.verdict).toBe("verified");
    const e = estimateSize(sc, config, { ...o, now: () => 0 });
    expect(e.distinct).toBeGreaterThan(real.stats.distinct / 1.5);
    expect(e.distinct).toBeLessThan(real.stats.distinct * 1.5);
  });

  it("should print a table and exit 0 without searching; refuse it with --random or --shard", async () => {
    const r = await main([
      "explore",
      SEED_RACE,
      "--kernel",
      "6.1",
      "--estimate",
      "--estimate-walks",
      "20",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "estimate from 20 random walks (walk seed 1) per configuration; nothing searched",
    );
    expect(r.stdout).toMatch(/^6\.1 +v253 +[~≥]\d/m);
    const j = await main([
      "explore",
      SEED_RACE,
      "--kernel",
      "6.1",
      "--estimate",
      "--estimate-walks",
      "5",
      "--json",
    ]);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout).cells[0].walks).toBe(5);
    for (const extra of [
      ["--random", "3"],
      ["--shard", "1/2"],
    ]) {
      const x = await main(["explore", SEED_RACE, "--estimate", ...extra]);
      expect(x.status).toBe(2);
    }
    const w = await main(["explore", SEED_RACE, "--estimate", "--estimate-walks", "0"]);
    expect(w.status).toBe(2);
  });
});
