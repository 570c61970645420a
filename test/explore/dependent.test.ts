import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conflicts, copyResSet, mergeInto, ResourceTable } from "../../src/explore/footprint.ts";
import { dependent } from "../../src/explore/system.ts";

/** The relation as documented, written the plain way: a pair of entries that conflict. */
function reference(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.has("*") || b.has("*")) return true;
  const base = (r: string) => (r.startsWith("?") ? r.slice(1) : r);
  for (const x of a)
    for (const y of b) {
      if (base(x) !== base(y)) continue;
      // Two commutative updates (`?R`, `?R`) commute; anything else on R conflicts.
      if (!(x.startsWith("?") && y.startsWith("?"))) return true;
    }
  return false;
}

/** Resources of both kinds (`R`, `?R`) and `*`, for random footprints. */
const RESOURCES = ["a", "b", "clock", "?a", "?clock", "dev:1.name", "?dev:1.name", "*"];

describe("dependent", () => {
  it("treats ?R as commuting with ?R and conflicting with R, whichever footprint is larger", () => {
    const clockMove = new Set(["?clock"]);
    const clockRead = new Set(["clock", "dev:2.name", "name:eth0"]);
    expect(dependent(clockMove, clockRead)).toBe(true);
    expect(dependent(clockRead, clockMove)).toBe(true);
    expect(dependent(new Set(["?clock", "a", "b"]), new Set(["?clock"]))).toBe(false);
    expect(dependent(new Set(["?clock"]), new Set(["?clock", "a", "b"]))).toBe(false);
    expect(dependent(new Set(["x"]), new Set(["?x", "y", "z"]))).toBe(true);
    expect(dependent(new Set(["?x", "y", "z"]), new Set(["x"]))).toBe(true);
  });

  it("agrees with the plain pairwise definition on random footprints", () => {
    const res = fc.constantFrom(...RESOURCES);
    const fp = fc.uniqueArray(res, { maxLength: 6 }).map((xs) => new Set(xs));
    fc.assert(
      fc.property(fp, fp, (a, b) => {
        expect(dependent(a, b)).toBe(reference(a, b));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("conflicts (footprints as bits)", () => {
  it("is dependent's relation on random footprints, over one table's growing ids", () => {
    const res = fc.constantFrom(
      ...RESOURCES,
      ...Array.from({ length: 70 }, (_, i) => `r${i}`),
      ...Array.from({ length: 70 }, (_, i) => `?r${i}`),
    );
    const fp = fc.uniqueArray(res, { maxLength: 8 });
    fc.assert(
      fc.property(fp, fp, (a, b) => {
        const t = new ResourceTable();
        const sa = t.of(a);
        const sb = t.of(b);
        expect(conflicts(sa, sb)).toBe(reference(new Set(a), new Set(b)));
        expect(conflicts(sb, sa)).toBe(reference(new Set(a), new Set(b)));
      }),
      { numRuns: 3000 },
    );
  });

  it("merges as the union, whichever set is longer", () => {
    const res = fc.constantFrom(
      "x",
      "?x",
      "*",
      ...Array.from({ length: 100 }, (_, i) => `r${i}`),
      ...Array.from({ length: 10 }, (_, i) => `?r${i * 9}`),
    );
    const fp = fc.uniqueArray(res, { maxLength: 8 });
    fc.assert(
      fc.property(fp, fp, fp, (a, b, c) => {
        const t = new ResourceTable();
        const u = t.of([]);
        mergeInto(u, t.of(a));
        const before = copyResSet(u);
        mergeInto(u, t.of(b));
        const sc = t.of(c);
        expect(conflicts(u, sc)).toBe(reference(new Set([...a, ...b]), new Set(c)));
        // The copy taken before the second merge is not changed by it.
        expect(conflicts(before, sc)).toBe(reference(new Set(a), new Set(c)));
      }),
      { numRuns: 3000 },
    );
  });
});
