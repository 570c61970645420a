// A pair's projection keeps udevd's renames of its devices as a set (src/explore/pair.ts): the
// order in which they were made and repeats are history that nothing reads, and keeping them
// told apart states with one future. Which renames were made (from, to, result) must still show:
// the no-ebusy-to-udev invariant and the cross-talk check read them.

import { describe, expect, it } from "vitest";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { familyOf, macOf, pairGraph, pairSystem, projection } from "../../src/explore/pair.ts";
import type { Udevd, UdevdSnapshot } from "../../src/userspace/udev/udevd.ts";
import { quiescentProjections } from "../_helpers/quiescent.ts";

const kernel = "5.1";
const sc = familyOf(bootRaceScenario(2, { kernel }), 2);

/** The graph by the projections' texts: nodes, steps and ends. */
const byText = (g: ReturnType<typeof pairGraph>) => {
  const text = [...g.nodes.keys()];
  return {
    nodes: [...text].sort(),
    edges: [...g.edges]
      .map((e) => {
        const [a, b] = e.split(" ").map(Number);
        return `${text[a as number]}\n→${text[b as number]}`;
      })
      .sort(),
    ends: [...g.ends].map((n) => text[n]).sort(),
  };
};

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
    // With the script hidden (the reduced lanes); 947 states with every lane.
    expect([g.states, g.nodes.size, g.edges.size]).toEqual([473, 473, 1_409]);
    const end = [...g.nodes].find(([, n]) => g.ends.has(n))?.[0] ?? "";
    const renames = (JSON.parse(end) as { renames: unknown[][] }).renames;
    expect(renames.map((r) => JSON.stringify(r))).toEqual(
      [...new Set(renames.map((r) => JSON.stringify(r)))].sort(),
    );
    expect(renames.length).toBeGreaterThanOrEqual(2);
  });
});

describe("the pair alone up to a permutation of udev's workers", () => {
  for (const k of ["5.0", "5.1", "6.1"])
    it(`should give the graph of the enumeration without it, from fewer states, on Linux ${k}`, () => {
      const s = familyOf(bootRaceScenario(2, { kernel: k }), 2);
      const sym = pairGraph(s, 0, { kernel: k }, { lanes: "all" });
      const all = pairGraph(s, 0, { kernel: k }, { symmetry: false, lanes: "all" });
      expect(sym.complete && all.complete).toBe(true);
      expect(sym.states).toBeLessThan(all.states);
      expect(byText(sym)).toEqual(byText(all));
      expect(sym.violation?.invariant ?? null).toBe(all.violation?.invariant ?? null);
      expect(sym.scriptMoves).toBe(all.scriptMoves);
    });
});

describe("the pair alone with the script hidden (the reduced lanes)", () => {
  for (const k of ["5.0", "5.1", "6.1"])
    it(`should give the graph of every lane, its violation and its quiescent checks, from fewer states, on Linux ${k}`, () => {
      const s = familyOf(bootRaceScenario(2, { kernel: k }), 2);
      const mac = macOf(s, 0);
      // Where the quiescent invariants are checked (the projections), with each choice of lanes.
      const graph = (lanes: "reduced" | "all") => {
        const { result: g, at: quiet } = quiescentProjections(mac, () =>
          pairGraph(s, 0, { kernel: k }, { lanes }),
        );
        return { g, quiet };
      };
      const hidden = graph("reduced");
      const all = graph("all");
      expect(hidden.g.complete && all.g.complete).toBe(true);
      expect(hidden.g.states).toBeLessThan(all.g.states);
      expect(byText(hidden.g)).toEqual(byText(all.g));
      expect(hidden.g.violation?.invariant ?? null).toBe(all.g.violation?.invariant ?? null);
      expect(all.quiet.size).toBeGreaterThan(0);
      expect(hidden.quiet).toEqual(all.quiet);
      expect([hidden.g.scriptMoves, all.g.scriptMoves]).toEqual([0, 0]);
    });
});
