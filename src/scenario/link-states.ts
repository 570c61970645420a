// The `ip link` state after every step of a run, for reports that show it on demand (the HTML
// report): each distinct list of links once, and for every timeline line and every step record
// the index of the state the scheduler step that wrote it left behind.

import type { Kernel } from "../kernel/index.ts";
import {
  finishRun,
  type LinkRecord,
  linkRecords,
  prepareRun,
  RunError,
  type RunOptions,
  type RunRecord,
  RunStopped,
  stepRun,
} from "./run.ts";
import type { ScenarioDoc } from "./schema.ts";

/**
 * Link states of a run, deduplicated: `states[atTimeline[i]]` are the links right after the
 * scheduler step that wrote timeline line `i`, `states[atStep[j]]` after the one that ended step
 * record `j`; `states[initial]` before the first scheduler step (the machine as it was built).
 */
export interface LinkStates {
  readonly states: LinkRecord[][];
  readonly initial: number;
  readonly atTimeline: number[];
  readonly atStep: number[];
}

/** Collects distinct link states and hands out their indexes. */
export class LinkStateBook {
  readonly states: LinkRecord[][] = [];
  readonly #byKey = new Map<string, number>();

  /** The index of the current links of `k` (added when not seen before). */
  take(k: Kernel): number {
    return this.add(linkRecords(k));
  }

  /** The index of `links` (added when not seen before). */
  add(links: readonly LinkRecord[]): number {
    const key = JSON.stringify(links);
    const have = this.#byKey.get(key);
    if (have !== undefined) return have;
    this.states.push([...links]);
    this.#byKey.set(key, this.states.length - 1);
    return this.states.length - 1;
  }
}

/**
 * Runs a scenario as `runScenario` does (same record, byte for byte) and also returns the link
 * state after every scheduler step that wrote a timeline line or ended a step.
 *
 * @throws RunError when the run does not reach quiescence; RunStopped when `o.shouldStop` says so
 */
export function runScenarioWithStates(
  sc: ScenarioDoc,
  o: RunOptions = {},
): { record: RunRecord; states: LinkStates } {
  const p = prepareRun(sc, o);
  const book = new LinkStateBook();
  const initial = book.take(p.k);
  const atTimeline: number[] = [];
  const atStep: number[] = [];
  // The same loop and bound as runToQuiescence.
  const MAX = 1_000_000;
  for (let n = 0; ; n++) {
    if (n > MAX) throw new RunError(`no quiescence after ${MAX} steps`);
    if (o.shouldStop?.()) throw new RunStopped(n, p.w.now());
    const more = stepRun(p);
    const grewTimeline = p.w.timeline.length > atTimeline.length;
    const grewSteps = p.script.records.length > atStep.length;
    if (grewTimeline || grewSteps) {
      const s = book.take(p.k);
      while (atTimeline.length < p.w.timeline.length) atTimeline.push(s);
      while (atStep.length < p.script.records.length) atStep.push(s);
    }
    if (!more) break;
  }
  return { record: finishRun(p), states: { states: book.states, initial, atTimeline, atStep } };
}
