// The per-pair projection of an N-pair boot race state and the pair alone (src/explore/cutoff.ts),
// with what the random-walk check of test/explore/pair-cutoff.test.ts adds: matching one step.

import { projection } from "../../src/explore/cutoff.ts";
import type { ScenarioSystem } from "../../src/explore/scenario-system.ts";

export { macOf, pairAlone, projection } from "../../src/explore/cutoff.ts";

/** Where two texts first differ, with some context (for failure messages). */
export function firstDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `…${a.slice(Math.max(0, i - 150), i + 80)}… vs …${b.slice(Math.max(0, i - 150), i + 80)}…`;
}

/**
 * Fires the first step of `alone` whose projection is `want` (tried lane by lane) and returns its
 * lane, or returns null with `alone` unchanged.
 */
export function matchStep(alone: ScenarioSystem, mac: string, want: string): string | null {
  const here = alone.save();
  for (const lane of alone.enabled()) {
    alone.restore(here);
    alone.fire(lane);
    if (projection(alone, mac) === want) return lane;
  }
  alone.restore(here);
  return null;
}
