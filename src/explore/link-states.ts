// The `ip link` state after every step of a counterexample (or any replayed path), for reports
// that show it on demand: taken from a replay that recorded them (`replay(…, { states: true })`),
// with equal states stored once.

import { LinkStateBook } from "../scenario/link-states.ts";
import type { LinkRecord } from "../scenario/run.ts";
import type { ReplayResult } from "./explore.ts";

/** Distinct link states of a path: `states[after[i]]` after step i + 1, `states[initial]` before. */
export interface PathLinkStates {
  readonly states: LinkRecord[][];
  readonly initial: number;
  readonly after: number[];
}

/**
 * The link states a replay recorded, each distinct state once.
 *
 * @throws Error when the replay was made without `{ states: true }` (misuse)
 */
export function pathLinkStates(rep: ReplayResult): PathLinkStates {
  if (rep.initial === undefined)
    throw new Error("pathLinkStates: the replay recorded no states (replay with { states: true })");
  const book = new LinkStateBook();
  const initial = book.add(rep.initial.links);
  const after = rep.steps.map((s, i) => {
    if (s.links === undefined) throw new Error(`pathLinkStates: step ${i + 1} has no links`);
    return book.add(s.links);
  });
  return { states: book.states, initial, after };
}
