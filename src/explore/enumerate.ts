// An exhaustive enumeration of a scenario system without reduction: the engine of the family
// check and of the environment check (cutoff.ts, environment.ts).

import type { ScenarioSystem, SystemSnapshot } from "./scenario-system.ts";
import type { StateKey } from "./system.ts";

/** Options of an exhaustive enumeration. */
export interface EnumerateOptions {
  /** Stop (incomplete) after this many milliseconds of the caller's `now`. */
  deadline?: number;
  /** The caller's clock (ms), for the deadline and progress; the model never reads it. */
  now?: () => number;
  /** Called every 2 000 states (the deadline is checked then too). */
  progress?: (states: number, transitions: number) => void;
  /**
   * Identify states that differ by a permutation of the pairs or of udev's workers (default
   * true; `familyCheck`).
   */
  symmetry?: boolean;
  /**
   * Which lanes the every-N check's enumerations take (the pair alone, the environment check;
   * `ScenarioSystemOptions.lanes`): "reduced" (the default) or "all".
   */
  lanes?: "reduced" | "all";
  /** The projection (tests replace it to show the check can fail). */
  project?: (sys: ScenarioSystem, mac: string) => string;
}

/**
 * Enumerates `sys` from its current state without reduction (every enabled lane of every
 * reachable state, but those `sys.lanesToTake` leaves out: a move of the environment that covers
 * the others, `sys.coveringMove`, is then taken at once, as part of the step that led there),
 * calling `onState` on each new state and `onStep` after each transition. The system is back in
 * its starting state afterwards.
 * A state is one already seen when its model key (`fingerprint`, up to the system's symmetries
 * when `symmetric`) and `extra` (what the caller tracks beyond the model's state, given that key)
 * are: the model's key is always part of it, so no caller can merge states the model tells
 * apart. Returns the counts, and `complete: false` when the deadline or a callback stopped it.
 */
export function enumerate(
  sys: ScenarioSystem,
  o: EnumerateOptions,
  onState: (en: string[], depth: number) => boolean,
  onStep: (lane: string, path: string[]) => boolean,
  symmetric: boolean,
  extra: (depth: number, key: StateKey) => string,
): { states: number; transitions: number; complete: boolean } {
  const seen = new Set<string>();
  const now = o.now ?? (() => 0);
  let states = 0;
  let transitions = 0;
  let stop = false;
  let complete = true;
  const path: string[] = [];
  const visit = (): void => {
    const fk = sys.fingerprint(symmetric);
    const k = `${fk.key}|${extra(path.length, fk)}`;
    if (seen.has(k)) return;
    seen.add(k);
    states++;
    if (states % 2_000 === 0) {
      o.progress?.(states, transitions);
      if (o.deadline !== undefined && now() > o.deadline) {
        stop = true;
        complete = false;
        return;
      }
    }
    const en = sys.enabled();
    if (!onState(en, path.length)) {
      stop = true;
      return;
    }
    // The lanes to take: all, but those the every-N check's reductions leave out (`lanesToTake`).
    const ex = sys.lanesToTake(en);
    if (ex.length === 0) return;
    // The first lane fires from the state as it is, the others from a snapshot of it: copied
    // for each but the last, which takes the snapshot itself (nothing restores it again). Below
    // the start nothing needs the state back afterwards (the caller restores its own snapshot
    // for its next lane), so a state with one lane takes no snapshot at all.
    const top = path.length === 0;
    const snap: SystemSnapshot | null = top || ex.length > 1 ? sys.save() : null;
    for (const [i, lane] of ex.entries()) {
      if (i > 0 && snap !== null) sys.restore(snap, !top && i === ex.length - 1);
      sys.fire(lane);
      transitions++;
      // A state where a move of the environment covers every other lane (`coveringMove`) is
      // passed through: the move is taken as part of this step, as its one successor would be.
      const also = sys.coveringMove(sys.enabled());
      if (also !== null) sys.fire(also);
      path.push(also === null ? lane : `${lane} ${also}`);
      const go = onStep(lane, path);
      if (!go) {
        stop = true;
        path.pop();
        break;
      }
      if (sys.check(false) === null) visit();
      path.pop();
      if (stop) break;
    }
    if (top && snap !== null) sys.restore(snap);
  };
  visit();
  return { states, transitions, complete: complete && !stop };
}
