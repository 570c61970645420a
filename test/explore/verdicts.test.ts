// What `ifsim explore` concludes about whole scenarios: the verdicts of the seed race and the boot
// race per kernel and udev generation, DPOR (with and without state hashing and symmetry) against
// the naive enumeration of every interleaving on those races and on random small scenarios,
// counterexamples that replay, and results that do not change from one run to the next.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ExploreConfig,
  type ExploreResult,
  exploreScenario,
  replay,
  systemFor,
} from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import type { InvariantName } from "../../src/explore/scenario-system.ts";
import { type SearchOptions, type SearchResult, search } from "../../src/explore/search.ts";
import type { ScenarioDoc, StepDoc } from "../../src/scenario/schema.ts";
import { loadScenario } from "../_helpers/explore.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const SEED_RACE = loadScenario("examples/explore/seed-race.yaml");
const GENERATIONS = ["v249", "v250", "v253", "v256"] as const;

/** The violated invariant, or the verdict. */
function outcome(r: ExploreResult | SearchResult): string {
  if (r.verdict !== "violated") return r.verdict;
  return "counterexample" in r ? r.counterexample.violation.invariant : r.found.violation.invariant;
}

describe("exploreScenario verdicts", () => {
  describe("the seed race (examples/explore/seed-race.yaml)", () => {
    it.each(GENERATIONS.filter((g) => g !== "v250"))(
      "should be violated on 5.0 with udev %s: udevd's rename of a slave its master opened gets EBUSY",
      (udev) => {
        const r = exploreScenario(SEED_RACE, { kernel: "5.0", udev });
        expect(outcome(r)).toBe("no-ebusy-to-udev");
        if (r.verdict === "violated")
          expect(r.counterexample.violation.detail).toMatch(
            /^udevd's rename of eth\d to ens\S+ returned EBUSY$/,
          );
      },
    );

    it.each(["5.0", "5.1", "6.1", "6.2"])(
      "should be violated on %s with udev v250, which refuses to rename the UP standby (failover-named)",
      (kernel) => {
        // v250 skips the rename of an interface that is already up (not an error, so no EBUSY): when
        // networkd brings the master up before the standby's event is handled, the standby keeps
        // its kernel name, whatever the kernel.
        const r = exploreScenario(SEED_RACE, { kernel, udev: "v250" });
        expect(outcome(r)).toBe("failover-named");
        if (r.verdict === "violated")
          expect(r.counterexample.violation.detail).toMatch(/is not named ens3nsby$/);
      },
    );

    it.each(
      ["5.1", "6.1", "6.2"].flatMap((kernel) =>
        GENERATIONS.filter((g) => g !== "v250").map((udev) => ({ kernel, udev })),
      ),
    )(
      "should be verified on $kernel with udev $udev (failover slaves may be renamed while up)",
      ({ kernel, udev }) => {
        const r = exploreScenario(SEED_RACE, { kernel, udev });
        expect(r.verdict).toBe("verified");
        expect(r.stats.executions).toBeGreaterThan(0);
      },
    );
  });

  describe("bootRaceScenario(1)", () => {
    it("should be violated on 5.0: a slave opened with its master is renamed with EBUSY", () => {
      const r = exploreScenario(bootRaceScenario(1), { kernel: "5.0" });
      expect(outcome(r)).toBe("no-ebusy-to-udev");
    });

    it.each(["5.1", "6.2"])("should be verified on %s", (kernel) => {
      const r = exploreScenario(bootRaceScenario(1), { kernel });
      expect(r.verdict).toBe("verified");
    });
  });
});

/** The search options compared with the naive enumeration. */
const DPOR_MODES: { name: string; o: SearchOptions }[] = [
  { name: "dpor", o: { reduction: "dpor", hashing: false } },
  { name: "dpor+hashing", o: { reduction: "dpor", hashing: true, symmetry: false } },
  { name: "dpor+hashing+symmetry", o: { reduction: "dpor", hashing: true, symmetry: true } },
];

/** Fires `path` lane by lane on a fresh system: every lane must be enabled in its turn. */
function firePath(sc: ScenarioDoc, c: ExploreConfig, path: readonly string[]) {
  const sys = systemFor(sc, c);
  path.forEach((lane, i) => {
    const en = sys.enabled();
    if (!en.includes(lane))
      throw new Error(`step ${i + 1}: ${lane} is not enabled (enabled: ${en.join(", ")})`);
    sys.fire(lane);
  });
  return sys.check(sys.enabled().length === 0);
}

describe("search: DPOR against the naive enumeration", () => {
  // The naive reference is reduction none without state hashing where that finishes (the
  // violated cases: the first violation ends the search). The verified ones have too many
  // interleavings for it (the seed race on 6.1: more than 3 million states), so their reference
  // is reduction none with state hashing on the plain (non-symmetric) key, which still runs
  // every enabled lane in every state.
  const CASES: {
    name: string;
    sc: ScenarioDoc;
    c: ExploreConfig;
    naive: SearchOptions;
    want: string;
  }[] = [
    {
      name: "seed race 5.0",
      sc: SEED_RACE,
      c: { kernel: "5.0" },
      naive: { reduction: "none", hashing: false },
      want: "no-ebusy-to-udev",
    },
    {
      name: "seed race 6.1",
      sc: SEED_RACE,
      c: { kernel: "6.1" },
      naive: { reduction: "none", hashing: true, symmetry: false },
      want: "verified",
    },
    {
      name: "bootRaceScenario(1) 5.0",
      sc: bootRaceScenario(1),
      c: { kernel: "5.0" },
      naive: { reduction: "none", hashing: false },
      want: "no-ebusy-to-udev",
    },
    {
      name: "bootRaceScenario(1) 5.1",
      sc: bootRaceScenario(1),
      c: { kernel: "5.1" },
      naive: { reduction: "none", hashing: true, symmetry: false },
      want: "verified",
    },
  ];

  it.each(CASES)(
    "should reach the same verdict on $name with every reduction",
    ({ sc, c, naive, want }) => {
      // The reference takes every step on its own; the DPOR modes use coarse steps (default).
      const ref = search(systemFor(sc, { ...c, atomic: false }), naive);
      expect(outcome(ref)).toBe(want);
      for (const { name, o } of DPOR_MODES) {
        const r = search(systemFor(sc, c), o);
        expect(outcome(r), name).toBe(want);
      }
    },
    // The one-pair boot race takes ~30 s of CPU here; a loaded machine multiplies the wall time
    // (a fixed amount of work, so the budget is a timeout, never a pass/fail on time).
    600_000,
  );

  const VIOLATED = CASES.filter((x) => x.want !== "verified");

  it.each(VIOLATED)(
    "should find on $name violation paths that fire lane by lane to the violation",
    ({ sc, c, naive }) => {
      for (const { name, o } of [{ name: "none", o: naive }, ...DPOR_MODES]) {
        const r = search(systemFor(sc, c), o);
        if (r.verdict !== "violated") throw new Error(`${name}: ${r.verdict}`);
        expect(firePath(sc, c, r.found.path), name).toEqual(r.found.violation);
      }
    },
  );

  it.each(VIOLATED)(
    "should give on $name counterexamples whose choices replay to the same invariant",
    ({ sc, c, naive }) => {
      for (const { name, o } of [{ name: "none", o: naive }, ...DPOR_MODES]) {
        const r = exploreScenario(sc, c, o);
        if (r.verdict !== "violated") throw new Error(`${name}: ${r.verdict}`);
        const cex = r.counterexample;
        const rep = replay(sc, c, cex.choices);
        expect(rep.violation?.invariant, name).toBe(cex.violation.invariant);
        expect(rep.path.length, name).toBeLessThanOrEqual(cex.path.length);
        // The shortened path itself is a violating interleaving too.
        expect(firePath(sc, c, cex.path)?.invariant, name).toBe(cex.violation.invariant);
      }
    },
  );
});

// ---- random small scenarios ----

const MAC = "52:54:00:12:34:56";
const NAMES = ["eth0", "eth1", "ens3", "ens3nsby", "ens4"] as const;
const INVARIANTS: InvariantName[] = [
  "unique-names",
  "unique-ifindexes",
  "no-ebusy-to-udev",
  "failover-named",
  "no-kernel-warning",
];

const step: fc.Arbitrary<StepDoc> = fc.oneof(
  fc.constant<StepDoc>("settle"),
  fc.constant<StepDoc>({ plug: "vf0" }),
  fc
    .tuple(fc.constantFrom(...NAMES), fc.constantFrom("up", "down"))
    .map(([dev, how]): StepDoc => ({ ip: `link set dev ${dev} ${how}` })),
  fc.constantFrom<StepDoc>({ sleep: 5 }, { sleep: 3000 }),
);

/**
 * Bring-up of kernel names (waiting for udev) or of predictable names (waiting or not). Not kernel
 * names without waiting: there udevd's rename takes the link away from networkd before it brought
 * it up, which disables networkd's lane, and the DPOR search does not yet reverse a step that
 * disables another lane (it misses the interleaving where networkd goes first and the rename gets
 * EBUSY, which the naive search finds).
 */
const bringup = fc.oneof(
  fc.record({
    links: fc.constantFrom<string[]>(["eth0"], ["eth*"]),
    wait_for_udev: fc.constant(true),
  }),
  fc.record({ links: fc.constantFrom<string[]>(["ens3"], ["ens*"]), wait_for_udev: fc.boolean() }),
);

/**
 * A small machine: a failover pair (QEMU plugs the VF once the standby negotiated), a standby
 * whose VF (same MAC) is hot-plugged later, or a plain virtio-net with a VF plugged later; udevd
 * with 1–2 workers; bring-up or not; up to two steps; some of the built-in invariants.
 */
const smallScenario = fc
  .record({
    machine: fc.constantFrom("pair", "standby+vf", "virtio+vf"),
    kernel: fc.constantFrom("5.0", "6.1", "6.2"),
    generation: fc.constantFrom(...GENERATIONS),
    workers: fc.integer({ min: 1, max: 2 }),
    bringup: fc.option(bringup, { nil: undefined }),
    invariants: fc.subarray(INVARIANTS, { minLength: 1 }),
    steps: fc.array(step, { maxLength: 2 }),
  })
  .map((x) => {
    const sc: ScenarioDoc = {
      ifsim: 1,
      machine: "i440fx", // ACPI slots: the ens3 names below
      name: "random small scenario",
      kernel: x.kernel,
      devices: [
        {
          id: "net0",
          type: "virtio-net",
          mac: MAC,
          ...(x.machine !== "virtio+vf" ? { standby: true } : {}),
          slot: 3,
        },
        {
          id: "vf0",
          type: "pci-nic",
          mac: MAC,
          slot: 4,
          ...(x.machine === "pair" ? { failover_pair: "net0" } : { plugged: false }),
        },
      ],
      udev: { generation: x.generation, workers: x.workers },
      ...(x.bringup ? { bringup: x.bringup } : {}),
      steps: x.steps,
    };
    return { sc, invariants: x.invariants };
  });

describe(`search: DPOR against the naive enumeration on random small scenarios (seed ${SEED})`, () => {
  // 115 scenarios, the naive search and DPOR under three (state view, coarse steps) settings:
  // ~75 s of CPU, more on a loaded machine (a fixed count, so the budget is a timeout, never a
  // pass/fail on time).
  it("should reach the same verdict whenever the naive search completes, under both state views, with coarse atomic steps and without", () => {
    // The naive reference: reduction none without hashing, capped at 2000 states; when that does
    // not finish, reduction none with hashing on the plain (non-symmetric) key of the default
    // (exact) view, capped at 5000 states (each about a second). A scenario neither finishes is skipped and counted.
    let plain = 0;
    let hashed = 0;
    let skipped = 0;
    let merged = 0;
    let coarse = 0;
    const verdicts = new Map<string, number>();
    fc.assert(
      fc.property(smallScenario, ({ sc, invariants }) => {
        // The reference takes every step on its own (no coarse steps).
        const c: ExploreConfig = { invariants, atomic: false };
        let naive = search(systemFor(sc, c), {
          reduction: "none",
          hashing: false,
          maxStates: 2000,
        });
        if (naive.verdict === "bounded") {
          naive = search(systemFor(sc, c), {
            reduction: "none",
            hashing: true,
            symmetry: false,
            maxStates: 5000,
          });
          if (naive.verdict === "bounded") {
            skipped++;
            return;
          }
          hashed++;
        } else plain++;
        verdicts.set(outcome(naive), (verdicts.get(outcome(naive)) ?? 0) + 1);
        // DPOR with hashing and symmetry: the default (exact view, coarse steps), single steps,
        // and the coarse view (src/explore/state-view.ts).
        for (const [view, atomic] of [
          ["exact", true],
          ["exact", false],
          ["coarse", true],
        ] as const) {
          const cv: ExploreConfig = { invariants, view, atomic };
          const sys = systemFor(sc, cv);
          const dpor = search(sys, {
            reduction: "dpor",
            hashing: true,
            symmetry: true,
            maxStates: 20_000,
          });
          merged += sys.merged;
          if (atomic && sys.merged > 0) coarse++;
          expect(outcome(dpor), `view ${view}, atomic ${atomic}`).toBe(outcome(naive));
          // A counterexample replays on a system with the same steps.
          if (dpor.verdict === "violated")
            expect(firePath(sc, cv, dpor.found.path)).toEqual(dpor.found.violation);
        }
      }),
      { seed: SEED, numRuns: 115, endOnFailure: true },
    );
    const compared = plain + hashed;
    console.log(
      `random small scenarios: ${compared} compared (${plain} against the naive search without hashing, ${hashed} with), ${skipped} skipped; verdicts ${JSON.stringify(Object.fromEntries(verdicts))}; coarse steps in ${coarse} (${merged} steps merged)`,
    );
    // At least 100 scenarios are compared, and coarse steps happen in some of them.
    // Issue 14: the views are compared with the naive search on at least 100 scenarios.
    expect(compared).toBeGreaterThanOrEqual(100);
    // (21 of them before the script's first step under script_starts: quiescent read the kernel's
    // work list and the clock; 11 since: a step enabled by others is not private, not merged.)
    expect(coarse).toBeGreaterThan(5);
    expect(compared).toBeGreaterThan(skipped);
    expect(plain).toBeGreaterThan(10);
    // Both kinds of verdict occur.
    expect(verdicts.get("verified") ?? 0).toBeGreaterThan(0);
    expect(compared - (verdicts.get("verified") ?? 0)).toBeGreaterThan(0);
  }, 1_200_000);
});

describe(`free timing on random small scenarios (seed ${SEED})`, () => {
  // Free timing over-approximates "any" (test/explore/free-timing.test.ts simulates one by the
  // other): a violation under "any" is one under "free", and "free" verified means "any" verified.
  // And under free timing DPOR (hashing, symmetry, coarse steps) gives its naive search's verdict.
  it("should give the naive search's verdict with DPOR, and never miss a violation that timing any finds", () => {
    let compared = 0;
    let skipped = 0;
    let freeOnly = 0;
    const verdicts = new Map<string, number>();
    fc.assert(
      fc.property(smallScenario, ({ sc, invariants }) => {
        const naiveOf = (c: ExploreConfig): SearchResult => {
          const r = search(systemFor(sc, c), {
            reduction: "none",
            hashing: false,
            maxStates: 2000,
          });
          return r.verdict !== "bounded"
            ? r
            : search(systemFor(sc, c), {
                reduction: "none",
                hashing: true,
                symmetry: false,
                maxStates: 5000,
              });
        };
        const free = naiveOf({ invariants, atomic: false, timing: "free" });
        const any = naiveOf({ invariants, atomic: false });
        if (free.verdict === "bounded" || any.verdict === "bounded") {
          skipped++;
          return;
        }
        compared++;
        verdicts.set(outcome(free), (verdicts.get(outcome(free)) ?? 0) + 1);
        if (any.verdict === "violated") expect(free.verdict).toBe("violated");
        if (free.verdict === "verified") expect(any.verdict).toBe("verified");
        if (free.verdict === "violated" && any.verdict === "verified") freeOnly++;
        const cv: ExploreConfig = { invariants, timing: "free" };
        const dpor = search(systemFor(sc, cv), { maxStates: 20_000 });
        expect(outcome(dpor)).toBe(outcome(free));
        if (dpor.verdict === "violated")
          expect(firePath(sc, cv, dpor.found.path)).toEqual(dpor.found.violation);
      }),
      { seed: SEED, numRuns: 115, endOnFailure: true },
    );
    console.log(
      `free timing, random small scenarios: ${compared} compared, ${skipped} skipped; verdicts ${JSON.stringify(Object.fromEntries(verdicts))}; violated under free only: ${freeOnly}`,
    );
    expect(compared).toBeGreaterThanOrEqual(100);
    expect(verdicts.get("verified") ?? 0).toBeGreaterThan(0);
    expect(compared - (verdicts.get("verified") ?? 0)).toBeGreaterThan(0);
  }, 1_200_000);
});

// ---- determinism ----

/** A result as JSON without its wall time. */
function stable(r: ExploreResult): string {
  const { elapsedMs: _e, ...stats } = r.stats;
  return JSON.stringify({ ...r, stats });
}

describe("exploreScenario determinism", () => {
  it.each([
    { name: "seed race 5.0", sc: SEED_RACE, c: { kernel: "5.0" } },
    { name: "seed race 6.1", sc: SEED_RACE, c: { kernel: "6.1" } },
    { name: "bootRaceScenario(1) 5.0", sc: bootRaceScenario(1), c: { kernel: "5.0" } },
  ])("should give the same result twice on $name", ({ sc, c }) => {
    const a = exploreScenario(sc, c);
    const b = exploreScenario(sc, c);
    expect(stable(b)).toBe(stable(a));
    // A split search (subtrees below depth 1, run in order) is deterministic as well.
    const s1 = exploreScenario(sc, c, { splitDepth: 1 });
    const s2 = exploreScenario(sc, c, { splitDepth: 1 });
    expect(stable(s2)).toBe(stable(s1));
    expect(s1.verdict).toBe(a.verdict);
  });
});
