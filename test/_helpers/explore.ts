// Helpers for the explorer's scenario-level tests: loading example scenarios, seeded walk
// choices, and the diamond check of the dependency relation (two steps enabled in one state
// with independent footprints, fired in both orders).

import { readFileSync } from "node:fs";
import type { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { dependent } from "../../src/explore/system.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

/**
 * Parses a scenario file.
 *
 * @throws Error if it does not parse.
 */
export function loadScenario(file: string): ScenarioDoc {
  const p = parseScenario(readFileSync(file, "utf8"), file);
  if (!p.ok) throw new Error(`${file}: ${p.issues.map((i) => i.message).join("; ")}`);
  return p.scenario;
}

/** A seeded xorshift32 choice function (the random walks' own). */
import { chooser } from "../../src/explore/explore.ts";

export { chooser };

/** One pair of steps enabled in the same state whose footprints (there) are independent. */
export interface Diamond {
  /** The walk's lanes from the start state to the state where both were enabled. */
  readonly path: readonly string[];
  readonly a: string;
  readonly b: string;
  readonly fa: ReadonlySet<string>;
  readonly fb: ReadonlySet<string>;
  /** `b` is still enabled after `a`, and `a` after `b`. */
  readonly bAfterA: boolean;
  readonly aAfterB: boolean;
  /** key(false) and key(true) after a·b and after b·a (null: the second step was not enabled). */
  readonly ab: { readonly plain: string; readonly sym: string } | null;
  readonly ba: { readonly plain: string; readonly sym: string } | null;
}

/** Statistics of a diamond check. */
export interface DiamondRun {
  /** States visited by the walks. */
  readonly states: number;
  /** Pairs of enabled lanes tried (dependent or not). */
  readonly pairs: number;
  /** The independent ones, in visiting order. */
  readonly diamonds: readonly Diamond[];
}

/**
 * Random walks from the start state of `make()`; in every state on a walk, every pair of enabled
 * lanes whose footprints (fired from that state) are independent is fired in both orders. A walk
 * stops at quiescence or at the first violation. Every branch is restored from the snapshot of
 * the state where both lanes were enabled (an ancestor of both branches, as `restore` requires).
 */
export function diamonds(
  make: () => ScenarioSystem,
  o: { readonly walks: number; readonly seed: number; readonly maxDepth?: number },
): DiamondRun {
  const next = chooser(o.seed);
  const out: Diamond[] = [];
  let states = 0;
  let pairs = 0;
  for (let walk = 0; walk < o.walks; walk++) {
    const sys = make();
    const path: string[] = [];
    while (path.length < (o.maxDepth ?? 200)) {
      const en = sys.enabled();
      if (en.length === 0 || sys.check(false) !== null) break;
      states++;
      const here = sys.save();
      const fire = (lanes: readonly string[]): { fp: Set<string>; enabled: string[] } | null => {
        sys.restore(here);
        let fp = new Set<string>();
        for (const l of lanes) {
          if (!sys.enabled().includes(l)) return null;
          fp = new Set(sys.fire(l));
        }
        return { fp, enabled: sys.enabled() };
      };
      const keys = (): { plain: string; sym: string } => ({
        plain: sys.key(false).key,
        sym: sys.key(true).key,
      });
      for (const [i, a] of en.entries())
        for (const b of en.slice(i + 1)) {
          pairs++;
          const A = fire([a]) as { fp: Set<string>; enabled: string[] };
          const B = fire([b]) as { fp: Set<string>; enabled: string[] };
          if (dependent(A.fp, B.fp)) continue;
          const ab = fire([a, b]) ? keys() : null;
          const ba = fire([b, a]) ? keys() : null;
          out.push({
            path: [...path],
            a,
            b,
            fa: A.fp,
            fb: B.fp,
            bAfterA: A.enabled.includes(b),
            aAfterB: B.enabled.includes(a),
            ab,
            ba,
          });
        }
      sys.restore(here);
      const lane = en[next(en.length)] as string;
      sys.fire(lane);
      path.push(lane);
    }
  }
  return { states, pairs, diamonds: out };
}

/** A diamond in one line, for failure messages. */
export function describeDiamond(d: Diamond): string {
  return `after [${d.path.join(", ")}]: ${d.a} ${JSON.stringify([...d.fa])} ∥ ${d.b} ${JSON.stringify([...d.fb])}`;
}
