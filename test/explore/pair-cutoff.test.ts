// Issue 14, item 4 (a verdict for every N), measured: does each failover pair of an N-pair boot
// race behave as the pair alone does? Under free timing (`timing: "free"`), a random walk of the
// N-pair system is followed, for every pair P, by a system holding P alone (its devices on the
// same slots, its link for bring-up): after each step of the N-pair walk, P's projection either
// did not change, or some single step of P's own system gives the same projection. P's
// projection is what P's invariants read and what decides P's future: P's devices (ifindexes as
// roles, kernel names eth<n> as eth#), their names, udev's database entries and pending events
// for them (queued or held by a worker, in arrival order: under free timing a worker may hold an
// event as long as it likes, so "held" and "queued" are the same to P), udev's renames of them,
// bring-up's handling of P's link, P's devices on linkwatch's list and P's pending kernel work.
//
// If every pair of every N-pair execution is simulated so, N = 1 verified (every latency) means
// every pair at every N keeps its per-pair invariants: the cutoff argument for item 4. Random
// walks are evidence for that simulation, not a proof of it; `ifsim explore --every-n`
// (src/explore/cutoff.ts, test/explore/every-n.test.ts) checks it on every reachable state and
// transition of two pairs, and these walks go on to N = 3 and 4.

import { describe, expect, it } from "vitest";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { chooser } from "../_helpers/explore.ts";
import { firstDiff, macOf, matchStep, pairAlone, projection } from "../_helpers/pairs.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();

/** IFSIM_PAIR_WALKS=K multiplies the walks (a longer measurement than the suite's). */
const MULT = Math.max(1, Number(process.env.IFSIM_PAIR_WALKS ?? 1));

const CASES: { n: number; kernel: string; walks: number }[] = [
  { n: 2, kernel: "5.1", walks: 30 },
  { n: 2, kernel: "5.0", walks: 30 },
  { n: 2, kernel: "6.1", walks: 20 },
  { n: 3, kernel: "5.1", walks: 15 },
  { n: 4, kernel: "6.1", walks: 5 },
];

describe(`every pair of the N-pair boot race behaves as the pair alone (free timing, seed ${SEED})`, () => {
  for (const [ci, c] of CASES.entries())
    it(`N = ${c.n}, Linux ${c.kernel}: ${c.walks} random walks, each pair followed by the pair alone`, () => {
      const sc = bootRaceScenario(c.n, { kernel: c.kernel });
      const next = chooser(SEED + 100 + ci);
      let steps = 0;
      let matched = 0;
      let shared = 0;
      for (let walk = 0; walk < c.walks * MULT; walk++) {
        const all = systemFor(sc, { kernel: c.kernel, timing: "free", atomic: false });
        const pairs = Array.from({ length: c.n }, (_, i) => ({
          mac: macOf(sc, i),
          alone: systemFor(pairAlone(sc, i), { kernel: c.kernel, timing: "free", atomic: false }),
        }));
        let before = pairs.map((q) => projection(all, q.mac));
        pairs.forEach((q, i) => {
          const a = projection(q.alone, q.mac);
          expect(
            a === before[i],
            `pair ${i} at the start: ${firstDiff(a, before[i] as string)}`,
          ).toBe(true);
        });
        const path: string[] = [];
        for (;;) {
          const en = all.enabled();
          if (en.length === 0 || all.check(false) !== null) break;
          expect(path.length).toBeLessThan(3000);
          const lane = en[next(en.length)] as string;
          all.fire(lane);
          path.push(lane);
          steps++;
          const after = pairs.map((q) => projection(all, q.mac));
          let changed = 0;
          pairs.forEach((q, i) => {
            if (after[i] === before[i]) return;
            changed++;
            const m = matchStep(q.alone, q.mac, after[i] as string);
            if (m === null) {
              const here = q.alone.save();
              const tries = q.alone.enabled().map((l) => {
                q.alone.restore(here);
                q.alone.fire(l);
                return `${l}: ${firstDiff(projection(q.alone, q.mac), after[i] as string)}`;
              });
              q.alone.restore(here);
              expect.fail(
                `N = ${c.n}, walk ${walk}, pair ${i}: no step of the pair alone matches ${lane} after ${path.join(" ")}\nthe step changed: ${firstDiff(before[i] as string, after[i] as string)}\nthe pair alone could:\n${tries.join("\n")}`,
              );
            }
            matched++;
          });
          if (changed > 1) shared++;
          before = after;
        }
        // Where the N-pair system stops, each pair alone has nothing of its own left to do.
        const v = all.check(all.enabled().length === 0);
        if (v === null)
          pairs.forEach((q, i) => {
            // The script (one settle) is no pair's: it ends once every other lane is idle.
            for (let n = 0; n < 10 && q.alone.enabled().join() === "script"; n++)
              q.alone.fire("script");
            expect(q.alone.enabled(), `walk ${walk}: pair ${i} alone is not quiescent`).toEqual([]);
            expect(q.alone.check(true), `walk ${walk}: pair ${i}`).toBeNull();
          });
      }
      console.log(
        `N = ${c.n}, ${c.kernel}: ${steps} steps, ${matched} pair steps matched by the pair alone, ${shared} steps that changed more than one pair`,
      );
      expect(matched).toBeGreaterThan(c.walks * 10);
    });
});
