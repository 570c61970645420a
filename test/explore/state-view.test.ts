// The declared state view (src/explore/state-view.ts): the self-test finds no equal-key pair
// with diverging futures under the exact view and does find them under the coarse view (so it
// can fail); both views give the naive search's verdicts; the boot-race-N example files are the
// generator's output.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli/main.ts";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { search } from "../../src/explore/search.ts";
import { selfTestView } from "../../src/explore/view-self-test.ts";
import { bootRaceHeader } from "../../tools/boot-race/gen.ts";
import { loadScenario } from "../_helpers/explore.ts";

const SEED_RACE = loadScenario("examples/explore/seed-race.yaml");
const OPTS = { walks: 120, seed: 7, pairs: 40, continuations: 3, depth: 40 } as const;

describe("the view self-test (fixed counts)", () => {
  it.each([
    ["bootRaceScenario(1)", "5.0"],
    ["bootRaceScenario(1)", "5.1"],
    ["seed race", "6.1"],
  ] as const)(
    "exact view, %s on %s: every equal-key pair checked has equal futures",
    (name, kernel) => {
      const sc = name === "seed race" ? SEED_RACE : bootRaceScenario(1);
      const r = selfTestView(systemFor(sc, { kernel, view: "exact" }), OPTS);
      expect(r.pairsChecked).toBeGreaterThanOrEqual(name === "seed race" ? 5 : 30);
      expect(r.steps).toBeGreaterThan(r.pairsChecked);
      expect(r.mismatches).toEqual([]);
    },
  );

  it.each([
    ["bootRaceScenario(1)", "5.0"],
    ["bootRaceScenario(1)", "5.1"],
    ["bootRaceScenario(2)", "5.1"],
    ["seed race", "6.1"],
  ] as const)(
    "free timing's view, %s on %s: every equal-key pair checked has equal futures",
    (name, kernel) => {
      const sc =
        name === "seed race" ? SEED_RACE : bootRaceScenario(name === "bootRaceScenario(2)" ? 2 : 1);
      const r = selfTestView(systemFor(sc, { kernel, timing: "free" }), OPTS);
      expect(r.pairsChecked).toBeGreaterThanOrEqual(30);
      expect(r.steps).toBeGreaterThan(r.pairsChecked);
      expect(r.mismatches).toEqual([]);
    },
  );

  it("coarse view, bootRaceScenario(1) on 5.1: finds pairs whose keys diverge (a udev worker due later in one state moves the clock in that one only)", () => {
    const r = selfTestView(systemFor(bootRaceScenario(1), { kernel: "5.1", view: "coarse" }), OPTS);
    expect(r.pairsChecked).toBeGreaterThanOrEqual(30);
    expect(r.mismatches.length).toBeGreaterThan(0);
    const m = r.mismatches[0];
    expect(m?.what).toBe("key");
    expect(m?.continuation.at(-1)).toMatch(/^udev\/w\d$/);
  });
});

describe("the view self-test on a migration (QEMU's job)", () => {
  // QEMU's migration job goes through stages; the coarse key keeps only whether it is ready, so
  // two states in different stages share a key and then enable different lanes.
  const MIGRATION = loadScenario("examples/scenarios/03-migration.yaml");
  const O = { walks: 60, seed: 3, pairs: 60, continuations: 3, depth: 60 } as const;
  it("exact view: no pair with different futures", () => {
    const r = selfTestView(systemFor(MIGRATION, { view: "exact", invariants: ["expect"] }), O);
    expect(r.pairsChecked).toBeGreaterThanOrEqual(40);
    expect(r.mismatches).toEqual([]);
  });
  it("coarse view: pairs that then enable different lanes", () => {
    const r = selfTestView(systemFor(MIGRATION, { view: "coarse", invariants: ["expect"] }), O);
    expect(r.mismatches.some((m) => m.what === "enabled")).toBe(true);
  });
  it("free timing's view (which keys the job's stage, not its time): no pair with different futures", () => {
    // Without the job's stage in the key this finds 27 of 135 (enabled lanes 19, key 8).
    const r = selfTestView(systemFor(MIGRATION, { timing: "free", invariants: ["expect"] }), O);
    expect(r.pairsChecked).toBeGreaterThanOrEqual(40);
    expect(r.mismatches).toEqual([]);
  });
});

describe("the view self-test on the example scenarios with a script (exact view, expect)", () => {
  // A sleep in progress and one that ended, a held outcome and the step results (what
  // `expect: step` checks) are the script's own state: the exact view keeps them.
  it.each(["02-boot-race", "06-udev-seed-race", "qtest-migrate-on-out"])("%s", (name) => {
    const sc = loadScenario(`examples/scenarios/${name}.yaml`);
    const r = selfTestView(systemFor(sc, { view: "exact", invariants: ["expect"] }), {
      walks: 30,
      seed: 5,
      pairs: 30,
      continuations: 2,
      depth: 40,
    });
    expect(r.pairsChecked).toBeGreaterThanOrEqual(20);
    expect(r.mismatches).toEqual([]);
  });
});

describe("both views give the naive search's verdict", () => {
  it.each([
    ["seed race", "5.0"],
    ["bootRaceScenario(1)", "5.0"],
  ] as const)("%s on %s", (name, kernel) => {
    const sc = name === "seed race" ? SEED_RACE : bootRaceScenario(1);
    // The reference: DPOR without state hashing (no key, so no view), capped.
    const naive = search(systemFor(sc, { kernel }), {
      reduction: "dpor",
      hashing: false,
      maxStates: 50_000,
    });
    expect(naive.verdict).not.toBe("bounded");
    for (const view of ["coarse", "exact"] as const) {
      const r = search(systemFor(sc, { kernel, view }), { reduction: "dpor" });
      expect(r.verdict, view).toBe(naive.verdict);
    }
  });
});

describe("the measurement-only untimed view", () => {
  it("keeps no time: far fewer states than exact on the one-pair boot race, the same verdicts on 5.0 and 5.1", () => {
    const run = (kernel: string, view: "exact" | "untimed") =>
      search(systemFor(bootRaceScenario(1), { kernel, view }), { maxStates: 100_000 });
    const exact = run("5.1", "exact");
    const untimed = run("5.1", "untimed");
    expect(exact.verdict).toBe("verified");
    expect(untimed.verdict).toBe("verified");
    // docs/performance.md, "Without time": 534 against 8 732
    expect(untimed.stats.distinct * 10).toBeLessThan(exact.stats.distinct);
    expect(run("5.0", "untimed").verdict).toBe("violated");
  });

  it("is not sound: the self-test finds equal untimed keys whose futures differ (so it can fail)", () => {
    const r = selfTestView(
      systemFor(bootRaceScenario(1), { kernel: "5.1", view: "untimed" }),
      OPTS,
    );
    expect(r.mismatches.length).toBeGreaterThan(0);
  });
});

describe("examples/explore/boot-race-N.yaml", () => {
  it.each([2, 3])("boot-race-%i.yaml is tools/boot-race/gen.ts's output", (n) => {
    const text = readFileSync(`examples/explore/boot-race-${n}.yaml`, "utf8");
    expect(text.startsWith(bootRaceHeader(n))).toBe(true);
    expect(parse(text)).toEqual(bootRaceScenario(n));
    expect(loadScenario(`examples/explore/boot-race-${n}.yaml`).devices?.length).toBe(2 * n);
  });
});

describe("ifsim explore --view", () => {
  it("should search with the view asked for and record it in the JSON options", async () => {
    const args = ["explore", "examples/explore/seed-race.yaml", "--kernel", "5.0", "--json"];
    const exact = JSON.parse((await main([...args, "--view", "exact"])).stdout);
    const coarse = JSON.parse((await main(args)).stdout);
    expect(exact.options.view).toBe("exact");
    expect(coarse.options.view).toBeUndefined();
    expect(exact.verdict).toBe("violated");
    expect(coarse.verdict).toBe("violated");
  });
});
