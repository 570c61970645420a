// A pair's projection keeps udevd's renames of its devices as a set (src/explore/pair.ts): the
// order in which they were made and repeats are history that nothing reads, and keeping them
// told apart states with one future. Which renames were made (from, to, result) must still show:
// the no-ebusy-to-udev invariant and the cross-talk check read them.

import { describe, expect, it } from "vitest";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { familyOf, macOf, pairGraph, pairSystem, projection } from "../../src/explore/pair.ts";
import type { Udevd, UdevdSnapshot } from "../../src/userspace/udev/udevd.ts";

const kernel = "5.1";
const sc = familyOf(bootRaceScenario(2, { kernel }), 2);

describe("a pair's projection and udevd's renames", () => {
  it("should not tell apart rename lists that differ in order or repeats, and tell apart their contents", () => {
    const sys = pairSystem(sc, 0, { kernel });
    const mac = macOf(sc, 0);
    const udev = sys.p.udev as unknown as Udevd;
    // The first enabled lane each time, until udevd has renamed two of the pair's devices.
    for (let i = 0; i < 200 && udev.renames.length < 2; i++) {
      const en = sys.enabled();
      if (en.length === 0) break;
      sys.fire(en[0] as string);
    }
    expect(udev.renames.length).toBeGreaterThanOrEqual(2);
    const base = projection(sys, mac);
    const s: UdevdSnapshot = udev.save();
    const with_ = (renames: UdevdSnapshot["renames"]): string => {
      udev.load({ ...s, renames });
      const p = projection(sys, mac, false);
      udev.load(s);
      return p;
    };
    expect(with_([...s.renames].reverse())).toBe(base);
    expect(with_([...s.renames, ...s.renames])).toBe(base);
    const first = s.renames[0];
    if (first === undefined) throw new Error("no rename");
    const busy = with_([{ ...first, errno: "EBUSY" }, ...s.renames.slice(1)]);
    expect(busy).not.toBe(base);
    expect(busy).toContain('"EBUSY"');
    expect(with_(s.renames.slice(1))).not.toBe(base);
    expect(projection(sys, mac)).toBe(base);
  });

  it("should give the pair alone one end on the boot race (its ends differed only in the renames' order)", () => {
    const g = pairGraph(sc, 0, { kernel });
    expect(g.complete).toBe(true);
    expect(g.ends.size).toBe(1);
    expect([g.states, g.nodes.size, g.edges.size]).toEqual([1_397, 473, 1_409]);
    const end = [...g.nodes].find(([, n]) => g.ends.has(n))?.[0] ?? "";
    const renames = (JSON.parse(end) as { renames: unknown[][] }).renames;
    expect(renames.map((r) => JSON.stringify(r))).toEqual(
      [...new Set(renames.map((r) => JSON.stringify(r)))].sort(),
    );
    expect(renames.length).toBeGreaterThanOrEqual(2);
  });
});
