import { isDeepStrictEqual } from "node:util";
import { fc, it } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { clonePlain, sameData, sharedConstant } from "../../src/sim/clone.ts";
import { testSeed } from "../_helpers/seed.ts";

describe("clonePlain", () => {
  it("should copy nested objects, arrays, Maps and Sets into fresh objects", () => {
    const v = { a: [1, { b: "x" }], m: new Map([[1, { c: null }]]), s: new Set(["y"]) };

    const c = clonePlain(v);

    expect(c).toEqual(v);
    expect(c).not.toBe(v);
    expect(c.a[1]).not.toBe(v.a[1]);
    expect(c.m.get(1)).not.toBe(v.m.get(1));
    expect(c.s).not.toBe(v.s);
  });

  it("should keep a shared reference shared in the copy, as structuredClone does", () => {
    const shared = { n: 1 };
    const v = { x: shared, y: [shared], z: new Map([["k", shared]]) };

    const c = clonePlain(v);

    expect(c.x).toBe(c.y[0]);
    expect(c.x).toBe(c.z.get("k"));
    expect(c.x).not.toBe(shared);
  });

  it("should keep an own __proto__ key a key, and a null prototype null", () => {
    const v = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { y: 2 });

    const c = clonePlain(v);
    const cb = clonePlain(bare);

    expect(Object.keys(c)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(cb)).toBe(null);
    expect(cb.y).toBe(2);
  });

  it("should copy a cycle", () => {
    const v: { self?: unknown } = {};
    v.self = v;

    const c = clonePlain(v);

    expect(c.self).toBe(c);
  });

  it("should throw on a function, a symbol or a class instance", () => {
    class Thing {}

    expect(() => clonePlain({ f: () => 1 })).toThrow(/cannot copy a function/);
    expect(() => clonePlain({ s: Symbol("x") })).toThrow(/cannot copy a symbol/);
    expect(() => clonePlain({ t: new Thing() })).toThrow(/instance of Thing/);
  });

  it("should copy large records (a copier per key list) as it copies small ones", () => {
    /** A record of `n` keys: numbers, strings, a nested object, a list, a shared object. */
    const record = (n: number, shared: object, tag: string): Record<string, unknown> => {
      const r: Record<string, unknown> = {};
      for (let i = 0; i < n; i++)
        r[i % 5 === 0 ? `${tag}${i}` : `k${i}`] =
          i % 4 === 0
            ? { i, list: [i, { j: i }] }
            : i % 4 === 1
              ? shared
              : i % 4 === 2
                ? `s${i}`
                : i;
      return r;
    };
    for (const n of [15, 16, 40]) {
      const shared = { n };
      const v = { a: record(n, shared, "x"), b: record(n, shared, "x"), c: record(n, shared, "y") };
      const c = clonePlain(v);
      expect(isDeepStrictEqual(c, v)).toBe(true);
      expect(c.a).not.toBe(v.a);
      expect(c.a.k4).not.toBe(v.a.k4);
      // The shared object is copied once, wherever it is met.
      expect(c.a.k1).toBe(c.c.k1);
      expect(c.a.k1).not.toBe(shared);
      // A function or a symbol in a large record throws as in a small one.
      expect(() => clonePlain({ ...v.a, f: () => 1 })).toThrow(/cannot copy a function/);
      expect(() => clonePlain({ ...v.b, s: Symbol("x") })).toThrow(/cannot copy a symbol/);
      // An own __proto__ key among many stays a key.
      const p = JSON.parse(
        JSON.stringify({ ...v.a, __proto__x: 1 }).replace("__proto__x", "__proto__"),
      );
      const cp = clonePlain(p);
      expect(Object.keys(cp)).toEqual(Object.keys(p));
      expect(Object.getPrototypeOf(cp)).toBe(Object.prototype);
    }
  });

  it("should copy a running kernel's state exactly like structuredClone", () => {
    const sys = new ScenarioSystem(bootRaceScenario(2, { kernel: "5.1" }), { kernel: "5.1" });
    for (let i = 0; i < 8 && sys.enabled().length > 0; i++) sys.fire(sys.nextByTime() as string);
    const st = sys.kernel.state;

    const c = clonePlain(st);

    expect(isDeepStrictEqual(c, structuredClone(st))).toBe(true);
    expect(c.devices).not.toBe(st.devices);
  });

  it("should keep a shared constant by reference, deep-frozen, and copy what holds it", () => {
    const zero = sharedConstant({ n: 0, list: [1, 2] });
    const v = { a: zero, b: [zero], own: { n: 0 } };

    const c = clonePlain(v);

    expect(c.a).toBe(zero);
    expect(c.b[0]).toBe(zero);
    expect(c.b).not.toBe(v.b);
    expect(c.own).not.toBe(v.own);
    expect(() => {
      (zero as { n: number }).n = 1;
    }).toThrow(TypeError);
    expect(() => (zero.list as number[]).push(3)).toThrow(TypeError);
  });
});

describe(`clonePlain properties (seed ${testSeed()})`, () => {
  const plain = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.double()),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie("value"), {
        maxKeys: 4,
        noNullPrototype: true,
      }),
      fc.array(fc.tuple(fc.integer(), tie("value")), { maxLength: 4 }).map((es) => new Map(es)),
      fc.array(fc.string({ maxLength: 3 }), { maxLength: 4 }).map((xs) => new Set(xs)),
    ),
  })).value;

  it.prop([plain])("should equal structuredClone's copy of any plain value", (v) => {
    expect(isDeepStrictEqual(clonePlain(v), structuredClone(v))).toBe(true);
  });
});

describe("sameData", () => {
  // Plain data as the model holds it: objects with short keys (a few of them, so that two
  // values often share keys in another order), arrays, numbers, strings, booleans, null,
  // undefined fields.
  const data = fc.letrec((t) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom("a", "b", "", null, true, false, undefined, Number.NaN, -0),
      fc.array(t("value"), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom("a", "b", "c"), t("value"), {
        maxKeys: 3,
        noNullPrototype: true,
      }),
    ),
  })).value;

  it.prop([data, data], { seed: testSeed(), numRuns: 2000 })(
    "says yes only when JSON.stringify writes the same text",
    (a, b) => {
      if (sameData(a, b)) expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    },
  );

  it.prop([data], { seed: testSeed(), numRuns: 500 })(
    "a copy is the same data (unless it holds an undefined field or NaN)",
    (a) => {
      if (!hasUndefinedOrNaN(a)) expect(sameData(a, clonePlain(a))).toBe(true);
    },
  );

  it("tells apart another order of keys, another length, another value, and non-plain objects", () => {
    expect(sameData({ a: 1, b: [1, { c: 2 }] }, { a: 1, b: [1, { c: 2 }] })).toBe(true);
    expect(sameData({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameData([1, 2], [1, 2, 3])).toBe(false);
    expect(sameData({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
    expect(sameData({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameData([], {})).toBe(false);
    expect(sameData(new Map([[1, 2]]), new Map([[1, 3]]))).toBe(false);
    const frozen = sharedConstant({ x: [1] });
    expect(sameData({ f: frozen }, { f: frozen })).toBe(true);
  });
});

/** Whether `v` holds an undefined field or element, or NaN, anywhere. */
function hasUndefinedOrNaN(v: unknown): boolean {
  if (v === undefined || Number.isNaN(v)) return true;
  if (v === null || typeof v !== "object") return false;
  return Object.values(v).some(hasUndefinedOrNaN);
}
