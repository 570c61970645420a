import fc from "fast-check";
import { describe, expect, it } from "vitest";
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
    const res = fc.constantFrom(
      "a",
      "b",
      "clock",
      "?a",
      "?clock",
      "dev:1.name",
      "?dev:1.name",
      "*",
    );
    const fp = fc.uniqueArray(res, { maxLength: 6 }).map((xs) => new Set(xs));
    fc.assert(
      fc.property(fp, fp, (a, b) => {
        expect(dependent(a, b)).toBe(reference(a, b));
      }),
      { numRuns: 2000 },
    );
  });
});
