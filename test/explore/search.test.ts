import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { search } from "../../src/explore/search.ts";
import { Toy, type ToyOp, traceClass } from "./toy.ts";

const w = (v: string): ToyOp => ({ op: "w", v });
const r = (v: string): ToyOp => ({ op: "r", v });

/** Every complete execution by naive enumeration → its distinct Mazurkiewicz classes. */
function classes(programs: ToyOp[][]): { runs: number; classes: Set<string> } {
  const toy = new Toy(programs);
  const res = search(toy, { reduction: "none", hashing: false });
  expect(res.verdict).toBe("verified");
  return {
    runs: toy.finals.length,
    classes: new Set(toy.finals.map((h) => traceClass(programs, h))),
  };
}

function dpor(programs: ToyOp[][], hashing = false): { executions: number; classes: string[] } {
  const toy = new Toy(programs);
  const res = search(toy, { reduction: "dpor", hashing });
  expect(res.verdict).toBe("verified");
  expect(res.stats.executions).toBe(toy.finals.length);
  return {
    executions: res.stats.executions,
    classes: toy.finals.map((h) => traceClass(programs, h)),
  };
}

// Hand-built cases with their number of Mazurkiewicz classes (counted by hand, checked by brute force).
const CASES: { name: string; programs: ToyOp[][]; classes: number; naive: number }[] = [
  { name: "two independent writers", programs: [[w("x")], [w("y")]], classes: 1, naive: 2 },
  { name: "two writers of one variable", programs: [[w("x")], [w("x")]], classes: 2, naive: 2 },
  {
    name: "three independent threads of two steps",
    programs: [
      [w("a"), w("a")],
      [w("b"), w("b")],
      [w("c"), w("c")],
    ],
    classes: 1,
    naive: 90,
  },
  {
    name: "writer and two readers",
    programs: [[w("x")], [r("x")], [r("x")]],
    classes: 6,
    naive: 6,
  },
  {
    name: "one shared variable among independent work",
    programs: [[w("a"), w("x")], [w("b"), w("x")], [w("c")]],
    classes: 2,
    naive: 30,
  },
  {
    name: "n threads each writing its own variable then a shared one (n=4)",
    programs: [0, 1, 2, 3].map((i) => [w(`p${i}`), w("s")]),
    classes: 24,
    naive: 2520,
  },
];

describe("DPOR explores one interleaving per Mazurkiewicz class", () => {
  for (const c of CASES)
    it(`${c.name}: ${c.classes} classes, ${c.naive} naive interleavings`, () => {
      const naive = classes(c.programs);
      expect(naive.runs).toBe(c.naive);
      expect(naive.classes.size).toBe(c.classes);
      const d = dpor(c.programs);
      expect(d.executions).toBe(c.classes);
      expect(new Set(d.classes)).toEqual(naive.classes);
    });
});

describe("DPOR finds every violation the naive enumeration finds", () => {
  const op = fc.record({
    op: fc.constantFrom("r", "w") as fc.Arbitrary<"r" | "w">,
    v: fc.constantFrom("x", "y", "z"),
  });
  const programs = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), {
    minLength: 2,
    maxLength: 3,
  });
  it("same verdict and same set of classes on random programs (with and without hashing)", () => {
    fc.assert(
      fc.property(programs, fc.integer({ min: 0, max: 5 }), (ps, target) => {
        // A violation: some thread read the value `target`-th possible write … any predicate on
        // the final state will do; this one depends on the order of dependent steps.
        const bad = (s: { seen: number[][]; vars: Record<string, number> }): string | null =>
          (s.vars.x ?? 0) % 7 === target || s.seen.flat().filter((x) => x > 0).length === target
            ? `x=${s.vars.x}`
            : null;
        const verdicts = [
          search(new Toy(ps, bad), { reduction: "none", hashing: false }).verdict,
          search(new Toy(ps, bad), { reduction: "dpor", hashing: false }).verdict,
          search(new Toy(ps, bad), { reduction: "dpor", hashing: true }).verdict,
          search(new Toy(ps, bad), { reduction: "none", hashing: true }).verdict,
        ];
        expect(new Set(verdicts).size).toBe(1);
        const all = classes(ps).classes;
        expect(new Set(dpor(ps).classes)).toEqual(all);
      }),
      { numRuns: 300, seed: 20261124 },
    );
  });
});

describe("bounds", () => {
  it("max-depth cuts make the verdict bounded, never verified", () => {
    const res = search(new Toy([[w("x"), w("x")], [w("x")]]), { maxDepth: 2 });
    expect(res.verdict).toBe("bounded");
    if (res.verdict === "bounded") expect(res.bound).toBe("max-depth");
  });
  it("max-states", () => {
    const res = search(
      new Toy([
        [w("x"), w("x")],
        [w("x"), w("x")],
      ]),
      { reduction: "none", hashing: false, maxStates: 5 },
    );
    expect(res.verdict).toBe("bounded");
    if (res.verdict === "bounded") expect(res.bound).toBe("max-states");
  });
  it("time limit reads the injected clock", () => {
    let t = 0;
    const res = search(new Toy([0, 1, 2, 3].map((i) => [w(`p${i}`), w("s"), w("s")])), {
      reduction: "none",
      hashing: false,
      timeLimitMs: 10,
      now: () => t++,
    });
    expect(res.verdict).toBe("bounded");
    if (res.verdict === "bounded") expect(res.bound).toBe("time-limit");
  });
  it("a violation reports its path", () => {
    const res = search(
      new Toy([[w("x")], [r("x")]], (s) => ((s.seen[1]?.[0] ?? 0) > 0 ? "read the write" : null)),
    );
    expect(res.verdict).toBe("violated");
    if (res.verdict === "violated") expect(res.found.path).toEqual(["t0", "t1"]);
  });
});
