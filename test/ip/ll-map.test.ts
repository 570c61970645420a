import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { LlMap, namehash } from "../../src/ip/ll-map.ts";
import { createKernel } from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";

/**
 * iproute2's ll_map as lists, the way lib/ll_map.c keeps it: buckets newest first (list_add),
 * a lookup by name walks the name's bucket for the first entry with that stored name.
 */
class ListLlMap {
  readonly byIndex = new Map<number, { index: number; name: string; flags: number }>();
  readonly buckets = new Map<number, { index: number; name: string; flags: number }[]>();
  #bucket(name: string): number {
    return namehash(name) & 1023;
  }
  #unhash(e: { index: number; name: string }, bucket: number): void {
    const l = this.buckets.get(bucket) ?? [];
    const i = l.indexOf(e as never);
    if (i >= 0) l.splice(i, 1);
  }
  #where = new Map<number, number>();
  remember(msg: "RTM_NEWLINK" | "RTM_DELLINK", ifindex: number, ifname: string, flags: number) {
    const im = this.byIndex.get(ifindex);
    if (msg === "RTM_DELLINK") {
      if (im) this.drop(ifindex);
      return;
    }
    if (im) {
      if (im.name !== ifname) {
        this.#unhash(im, this.#where.get(ifindex) as number);
        this.#add(im, this.#bucket(ifname));
      }
      im.flags = flags;
      return;
    }
    const e = { index: ifindex, name: ifname, flags };
    this.byIndex.set(ifindex, e);
    this.#add(e, this.#bucket(ifname));
  }
  #add(e: { index: number; name: string; flags: number }, b: number): void {
    const l = this.buckets.get(b) ?? [];
    l.unshift(e);
    this.buckets.set(b, l);
    this.#where.set(e.index, b);
  }
  drop(index: number): void {
    const im = this.byIndex.get(index);
    if (!im) return;
    this.#unhash(im, this.#where.get(index) as number);
    this.byIndex.delete(index);
  }
  /** A deep copy (entries shared by the index and the buckets stay shared). */
  copy(): ListLlMap {
    const c = new ListLlMap();
    const of = new Map<object, { index: number; name: string; flags: number }>();
    for (const [i, e] of this.byIndex) {
      const x = { ...e };
      of.set(e, x);
      c.byIndex.set(i, x);
    }
    for (const [b, l] of this.buckets)
      c.buckets.set(
        b,
        l.map((e) => of.get(e) ?? { ...e }),
      );
    for (const [i, b] of this.#where) c.#where.set(i, b);
    return c;
  }
  lookup(name: string): number {
    return (this.buckets.get(this.#bucket(name)) ?? []).find((e) => e.name === name)?.index ?? 0;
  }
}

/** Names that share ll_map buckets (found by hashing), plus a few that do not. */
function collidingNames(): string[] {
  const byBucket = new Map<number, string[]>();
  for (let i = 0; i < 5000; i++) {
    const n = `e${i}`;
    const b = namehash(n) & 1023;
    byBucket.set(b, [...(byBucket.get(b) ?? []), n]);
  }
  const groups = [...byBucket.values()].filter((g) => g.length >= 3).slice(0, 3);
  return [...groups.flatMap((g) => g.slice(0, 3)), "x1", "x2"];
}

const NAMES = collidingNames();
const op = fc.oneof(
  fc.record({
    kind: fc.constantFrom("RTM_NEWLINK" as const, "RTM_DELLINK" as const),
    ifindex: fc.integer({ min: 1, max: 6 }),
    // Often one of two names, so that an entry is seen again under its own name (a flags
    // change) or under the other (a rename).
    name: fc.oneof(
      fc.constantFrom(NAMES[0] as string, NAMES[1] as string),
      fc.constantFrom(...NAMES),
    ),
    flags: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant("drop" as const), ifindex: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant("reload" as const) }),
  fc.record({ kind: fc.constant("mark" as const) }),
  fc.record({ kind: fc.constant("back" as const) }),
);

describe("LlMap", () => {
  it("has bucket-sharing names to test with", () => {
    expect(NAMES.length).toBe(11);
    expect(namehash(NAMES[0] as string) & 1023).toBe(namehash(NAMES[1] as string) & 1023);
  });

  test.prop([fc.array(op, { maxLength: 60, size: "medium" })], { numRuns: 300 })(
    "answers every lookup as iproute2's bucket lists do, across save and load",
    (ops) => {
      const k = createKernel({ kernel: "6.18", clock: new VirtualClock(), rng: new Rng(1) });
      const m = new LlMap(k);
      let ref = new ListLlMap();
      // "mark" saves; "back" loads that save again later (a search's restore of a branch point).
      let marked: { snap: ReturnType<LlMap["save"]>; ref: ListLlMap } | null = null;
      for (const o of ops) {
        if (o.kind === "drop") {
          m.drop(o.ifindex);
          ref.drop(o.ifindex);
        } else if (o.kind === "reload") {
          const s = m.save();
          // The snapshot lists each bucket newest first, as the reference does.
          for (const [b, l] of s.buckets)
            expect(l.map((e) => e.index)).toEqual((ref.buckets.get(b) ?? []).map((e) => e.index));
          m.load(s);
          // Saved again unchanged: the same snapshot.
          expect(m.save()).toBe(s);
        } else if (o.kind === "mark") {
          marked = { snap: m.save(), ref: ref.copy() };
        } else if (o.kind === "back") {
          if (marked !== null) {
            m.load(marked.snap);
            ref = marked.ref.copy();
          }
        } else {
          const link = { ifindex: o.ifindex, ifname: o.name, flags: o.flags };
          m.remember(o.kind, link);
          ref.remember(o.kind, o.ifindex, o.name, o.flags);
        }
        // No device exists in the kernel, so a miss falls through to 0.
        for (const n of NAMES) expect(m.nameToIndex(n)).toBe(ref.lookup(n));
        for (let i = 1; i <= 6; i++) {
          expect(m.indexToFlags(i)).toBe(ref.byIndex.get(i)?.flags ?? 0xffffffff);
        }
      }
    },
  );
});
