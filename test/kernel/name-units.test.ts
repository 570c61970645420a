import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { UnitSet } from "../../src/kernel/name-units.ts";

/** __dev_alloc_name's answer by brute force: the first clear bit below `limit`. */
function firstClear(used: ReadonlySet<number>, limit: number): number {
  let i = 0;
  while (i < limit && used.has(i)) i++;
  return i;
}

describe("UnitSet", () => {
  it("should answer the smallest free unit after adds and deletes", () => {
    const s = new UnitSet();
    for (let i = 0; i < 5; i++) s.add(i);
    expect(s.lowestFree(100)).toBe(5);
    s.delete(3);
    s.delete(1);
    expect(s.lowestFree(100)).toBe(1);
    s.add(1);
    expect(s.lowestFree(100)).toBe(3);
    expect(s.delete(42)).toBe(false);
  });

  it("should answer the limit when every unit below it is used", () => {
    const s = new UnitSet();
    for (let i = 0; i < 4; i++) s.add(i);
    expect(s.lowestFree(4)).toBe(4);
  });

  test.prop([
    fc.array(fc.tuple(fc.constantFrom("add", "del", "ask"), fc.integer({ min: 0, max: 40 })), {
      maxLength: 300,
    }),
  ])("should agree with a bitmap scan on any sequence", (ops) => {
    const s = new UnitSet();
    const used = new Set<number>();
    for (const [op, u] of ops) {
      if (op === "add") {
        s.add(u);
        used.add(u);
      } else if (op === "del") {
        expect(s.delete(u)).toBe(used.delete(u));
      } else {
        expect(s.lowestFree(32)).toBe(firstClear(used, 32));
      }
    }
  });
});
