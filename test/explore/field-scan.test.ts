// changedFields (src/explore/field-scan.ts): the fields of a record that may have changed since
// its last digest, as the device digests' loop decided them before it (same primitive, or same
// frozen object: unchanged).

import { fc, it } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { changedFields } from "../../src/explore/field-scan.ts";

/** The loop it replaces. */
function byLoop(keys: readonly string[], rec: Record<string, unknown>, raws: readonly unknown[]) {
  const out: number[] = [];
  keys.forEach((k, i) => {
    const v = rec[k];
    const r = raws[i];
    if (v === r && (v === null || typeof v !== "object" || Object.isFrozen(v))) return;
    out.push(i);
  });
  return out;
}

describe("changedFields", () => {
  it("reports other values, and objects that are not frozen even when the same", () => {
    const frozen = Object.freeze({ a: 1 });
    const open = { a: 1 };
    const keys = ["n", "s", "f", "o", "nan", "u", "odd key \"'\\\n"];
    const rec = {
      n: 1,
      s: "x",
      f: frozen,
      o: open,
      nan: Number.NaN,
      u: undefined,
      [keys[6] as string]: 2,
    };
    const out: number[] = [];
    expect(changedFields(keys, rec, [1, "x", frozen, open, Number.NaN, undefined, 2], out)).toBe(2);
    expect(out.slice(0, 2)).toEqual([3, 4]);
    expect(changedFields(keys, rec, [2, "y", { a: 1 }, open, 0, null, 3], out)).toBe(7);
  });

  it.prop([
    fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 30 }),
    fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.boolean()), {
      minLength: 30,
      maxLength: 30,
    }),
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }),
  ])("agrees with the loop it replaces on random records", (keys, vals, how) => {
    const frozen = Object.freeze({});
    const rec: Record<string, unknown> = Object.create(null);
    const raws: unknown[] = [];
    keys.forEach((k, i) => {
      const h = how[i] ?? 0;
      const v = h === 2 ? frozen : h === 3 ? {} : vals[i];
      rec[k] = v;
      raws.push(h === 0 ? v : h === 1 ? vals[(i + 1) % vals.length] : h === 2 ? frozen : v);
    });
    const out: number[] = [];
    const n = changedFields(keys, rec, raws, out);
    expect(out.slice(0, n)).toEqual(byLoop(keys, rec, raws));
  });
});
