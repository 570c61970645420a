// The projection reuses a device's text while the device's field digests are the same Map
// (`ScenarioSystem.deviceFields`, src/explore/pair.ts). That must give, on every state a system
// reaches by its steps and restores, the text built afresh: random walks that fire, save and
// restore (also as a last restore, which hands the snapshot's state over), on two pairs and on a
// pair with the environment, compare the two on every state. After every restore the kernel's
// state must be exactly the saved one (a restore keeps unchanged device records).

import { describe, expect, it } from "vitest";
import { chooser, systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { familyOf, macOf, pairSystem, projection } from "../../src/explore/pair.ts";
import type { ScenarioSystem, SystemSnapshot } from "../../src/explore/scenario-system.ts";
import { clonePlain } from "../../src/sim/clone.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();

/** Walks `sys`, comparing the cached projection with a fresh one for every MAC on every state. */
function walk(sys: ScenarioSystem, macs: string[], seed: number, steps: number): number {
  const next = chooser(seed);
  // Each snapshot with a copy of its kernel state: a restore keeps the device records whose
  // digests did not change (`loadKernel`'s keep) and must still give exactly the saved state.
  const copy = () => clonePlain(sys.kernel.state);
  const snaps: SystemSnapshot[] = [sys.save()];
  const states = [copy()];
  const restored = (at: number): void => {
    expect(sys.kernel.state).toStrictEqual(states[at]);
    states.length = snaps.length;
  };
  let compared = 0;
  const compare = (): void => {
    for (const m of macs) {
      expect(projection(sys, m)).toBe(projection(sys, m, false));
      compared++;
    }
  };
  compare();
  for (let i = 0; i < steps; i++) {
    const r = next(10);
    if (r === 0 && snaps.length > 1) {
      // A last restore: the snapshot's state is handed over, and the snapshot dropped (only a
      // snapshot of this branch or an ancestor of it can be restored: a stack).
      const at = 1 + next(snaps.length - 1);
      const s = snaps[at] as SystemSnapshot;
      snaps.length = at;
      sys.restore(s, true);
      restored(at);
    } else if (r < 3) {
      const at = next(snaps.length);
      sys.restore(snaps[at] as SystemSnapshot);
      snaps.length = at + 1;
      restored(at);
    } else {
      const en = sys.enabled();
      if (en.length === 0) {
        sys.restore(snaps[0] as SystemSnapshot);
        snaps.length = 1;
        restored(0);
        continue;
      }
      sys.fire(en[next(en.length)] as string);
      if (next(4) === 0) {
        snaps.push(sys.save());
        states.push(copy());
      }
    }
    compare();
  }
  return compared;
}

describe(`the projection's per-device cache (seed ${SEED})`, () => {
  for (const kernel of ["5.0", "5.1", "6.1"]) {
    it(`should equal the projection built afresh on two pairs, Linux ${kernel}`, () => {
      const sc = familyOf(bootRaceScenario(2, { kernel }), 2);
      let n = 0;
      for (let w = 0; w < 6; w++) {
        const sys = systemFor(sc, { kernel, timing: "free", atomic: false });
        n += walk(sys, [macOf(sc, 0), macOf(sc, 1)], SEED + w, 300);
      }
      expect(n).toBeGreaterThan(3000);
    });
  }

  for (const generation of ["v249", "v250", "v256"] as const)
    it(`should equal the projection built afresh on two pairs, udev ${generation}, Linux 5.1`, () => {
      const kernel = "5.1";
      const sc = familyOf(bootRaceScenario(2, { kernel, generation }), 2);
      let n = 0;
      for (let w = 0; w < 3; w++) {
        const sys = systemFor(sc, { kernel, timing: "free", atomic: false });
        n += walk(sys, [macOf(sc, 0), macOf(sc, 1)], SEED + 20 + w, 300);
      }
      expect(n).toBeGreaterThan(1500);
    });

  it("should equal the projection built afresh on a pair with the environment, Linux 5.1", () => {
    const kernel = "5.1";
    const sc = familyOf(bootRaceScenario(2, { kernel, workers: 2 }), 2);
    let n = 0;
    for (let w = 0; w < 6; w++) {
      const sys = pairSystem(sc, 0, { kernel }, { udev: 2, linkwatch: true });
      n += walk(sys, [macOf(sc, 0)], SEED + 50 + w, 300);
    }
    expect(n).toBeGreaterThan(1500);
  });
});
