// 64-bit state fingerprints: pinned hash values (a change silently changes every state table),
// the order-free accumulator, and on random walks through the example scenarios the fingerprint
// is the key's view exactly (equal keys ⇔ equal fingerprints, with and without symmetry, after
// restores too); the search stores fingerprints or exact keys with the same results.

import { describe, expect, it } from "vitest";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { addInto, fingerprintKey, HashCache, hashString } from "../../src/explore/fingerprint.ts";
import { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { search } from "../../src/explore/search.ts";
import type { StateView } from "../../src/explore/state-view.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { chooser, loadScenario } from "../_helpers/explore.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const SEED_RACE = loadScenario("examples/explore/seed-race.yaml");

describe("hashString", () => {
  it("should give pinned values (stored state tables and figures depend on them)", () => {
    expect(hashString("")).toEqual([2872998923, 3954623016]);
    expect(hashString("dev:3.name")).toEqual(hashString("dev:3.name"));
    expect(hashString("dev:3.name")).not.toEqual(hashString("dev:3.nam"));
  });

  it("should differ on strings that differ in one character, on 10 000 strings", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(fingerprintKey(hashString(`name:eth${i}=${i % 7}`)));
    expect(seen.size).toBe(10_000);
  });
});

describe("addInto", () => {
  it("should not depend on the order of the items", () => {
    const a: [number, number] = [0, 0];
    const b: [number, number] = [0, 0];
    for (const s of ["x", "y", "z"]) addInto(a, hashString(s));
    for (const s of ["z", "x", "y"]) addInto(b, hashString(s));
    expect(a).toEqual(b);
  });
});

describe("HashCache", () => {
  it("should return the hash of the string, cached or not", () => {
    const c = new HashCache(2);
    for (const s of ["a", "b", "c", "a"]) expect(c.get(s)).toEqual(hashString(s));
  });
});

describe(`ScenarioSystem.fingerprint: the key's view (seed ${SEED})`, () => {
  const CASES: [string, ScenarioDoc, string, StateView?][] = [
    ["seed race 6.1", SEED_RACE, "6.1"],
    ["seed race 5.0", SEED_RACE, "5.0"],
    ["boot race N=1 5.1", bootRaceScenario(1), "5.1"],
    ["boot race N=2 5.1", bootRaceScenario(2), "5.1"],
    ["boot race N=3 5.0", bootRaceScenario(3), "5.0"],
    ["seed race 6.1, exact view", SEED_RACE, "6.1", "exact"],
    ["boot race N=2 5.1, exact view", bootRaceScenario(2), "5.1", "exact"],
  ];

  it.each(CASES)(
    "should give equal fingerprints exactly to equal keys on random walks: %s",
    (_, sc, kernel, view) => {
      const next = chooser(SEED + kernel.length);
      const byKey = new Map<string, string>();
      const byFp = new Map<string, string>();
      let states = 0;
      for (let walk = 0; walk < 6; walk++) {
        const sys = new ScenarioSystem(sc, { kernel, ...(view ? { view } : {}) });
        for (let en = sys.enabled(); en.length > 0 && states < 400; en = sys.enabled()) {
          for (const sym of [false, true]) {
            const k = `${sym}:${sys.key(sym).key}`;
            const f = `${sym}:${sys.fingerprint(sym).key}`;
            expect(byKey.get(k) ?? f).toBe(f);
            expect(byFp.get(f) ?? k).toBe(k);
            byKey.set(k, f);
            byFp.set(f, k);
            // Lanes map one to one onto canonical lanes (workers ordered by content hash here,
            // by content text in the key: either order is canonical), the others to themselves.
            const fl = sys.fingerprint(sym);
            const lanes = en.map((l) => fl.lane(l));
            expect(new Set(lanes).size).toBe(en.length);
            for (const l of en) if (!l.startsWith("udev/w")) expect(fl.lane(l)).toBe(l);
          }
          states++;
          if (sys.check(false) !== null) break;
          // Sometimes wander off and come back: restored states fingerprint as before.
          if (next(4) === 0) {
            const snap = sys.save();
            const before = sys.fingerprint(true).key;
            sys.fire(en[next(en.length)] as string);
            sys.restore(snap);
            expect(sys.fingerprint(true).key).toBe(before);
          }
          sys.fire(en[next(en.length)] as string);
        }
      }
      expect(states).toBeGreaterThan(40);
      // Symmetry identifies states: fewer symmetric keys than plain ones on the pair families.
      expect(byKey.size).toBeGreaterThan(states / 4);
    },
  );
});

describe("search: fingerprints against exact keys", () => {
  const CASES: [string, ScenarioDoc, { kernel: string; udev?: string }][] = [
    ["seed race 6.1 v253", SEED_RACE, { kernel: "6.1", udev: "v253" }],
    ["seed race 5.1 v249", SEED_RACE, { kernel: "5.1", udev: "v249" }],
    ["seed race 5.0 v253", SEED_RACE, { kernel: "5.0", udev: "v253" }],
    ["seed race 6.2 v250", SEED_RACE, { kernel: "6.2", udev: "v250" }],
    ["boot race N=1 5.0", bootRaceScenario(1), { kernel: "5.0" }],
  ];

  it.each(CASES)("should give the same verdict and statistics: %s", (_, sc, c) => {
    for (const symmetry of [true, false]) {
      const exact = search(systemFor(sc, c), { keys: "exact", symmetry });
      const fp = search(systemFor(sc, c), { keys: "fingerprint", symmetry });
      expect(fp.verdict).toBe(exact.verdict);
      expect(fp.stats).toEqual(exact.stats);
      if (fp.verdict === "violated" && exact.verdict === "violated")
        expect(fp.found).toEqual(exact.found);
    }
  });
});
