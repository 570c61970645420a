// The `ip link` state after every step of a counterexample (or any replayed path), for reports
// that show it on demand: the path is fired again on a fresh system of the same configuration.

import { LinkStateBook } from "../scenario/link-states.ts";
import type { LinkRecord } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { type ExploreConfig, systemFor } from "./explore.ts";

/** Distinct link states of a path: `states[after[i]]` after step i + 1, `states[initial]` before. */
export interface PathLinkStates {
  readonly states: LinkRecord[][];
  readonly initial: number;
  readonly after: number[];
}

/**
 * Fires `lanes` in order (a `ReplayResult.path`: every lane was enabled in turn) on a fresh
 * system of `sc` under `c` and takes the links after each. Deterministic: the same path gives
 * the same states as the replay that produced it.
 *
 * @throws Error when a lane is not enabled (a path from another scenario or configuration)
 */
export function pathLinkStates(
  sc: ScenarioDoc,
  c: ExploreConfig,
  lanes: readonly string[],
): PathLinkStates {
  const sys = systemFor(sc, c);
  const book = new LinkStateBook();
  const initial = book.take(sys.kernel);
  const after: number[] = [];
  for (const l of lanes) {
    sys.fire(l);
    after.push(book.take(sys.kernel));
  }
  return { states: book.states, initial, after };
}
