// The task picker: which ready actor runs next on the virtual clock. The decision is one
// injectable strategy, so the explorer can drive it; the default is "earliest virtual time,
// ties broken by a seeded choice".

import type { VirtualClock } from "./clock.ts";
import type { Rng, RngState } from "./rng.ts";

/** Something that takes atomic steps on the virtual clock. */
export interface Actor {
  /** Unique name, used in timelines and by strategies ("udevd", "kernel", "script"). */
  readonly name: string;
  /** The virtual time (µs) at which the next step can run, or null while idle or blocked. */
  readyAt(): number | null;
  /** Runs one atomic step. The clock has already been moved to at least `readyAt()`. */
  step(): void;
}

/** A pending step offered to the strategy. */
export interface Candidate {
  readonly actor: string;
  readonly time: number;
}

/** Picks the index of the candidate to run next. Candidates are in actor-registration order. */
export type Strategy = (candidates: readonly Candidate[], rng: Rng) => number;

/** Earliest virtual time first; several at the same time: a seeded choice among them. */
export const earliestFirst: Strategy = (candidates, rng) => {
  let min = Number.POSITIVE_INFINITY;
  for (const c of candidates) if (c.time < min) min = c.time;
  const ties: number[] = [];
  candidates.forEach((c, i) => {
    if (c.time === min) ties.push(i);
  });
  return ties.length === 1
    ? (ties[0] as number)
    : (ties[rng.nextInt(0, ties.length - 1)] as number);
};

/** What `Scheduler.save` returns: the step count and the tie-break generator's position. */
export interface SchedulerSnapshot {
  readonly steps: number;
  readonly rng: RngState;
}

/** Runs actors one atomic step at a time. */
export class Scheduler {
  readonly #actors: Actor[] = [];
  readonly #clock: VirtualClock;
  readonly #rng: Rng;
  readonly #strategy: Strategy;
  #steps = 0;

  constructor(clock: VirtualClock, rng: Rng, strategy: Strategy = earliestFirst) {
    this.#clock = clock;
    this.#rng = rng;
    this.#strategy = strategy;
  }

  /** Adds an actor; names must be unique. */
  add(actor: Actor): void {
    if (this.#actors.some((a) => a.name === actor.name))
      throw new Error(`Scheduler: two actors named "${actor.name}"`);
    this.#actors.push(actor);
  }

  /** The actors, in registration order. */
  get actors(): readonly Actor[] {
    return this.#actors;
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * Saves the scheduler's own mutable data (its step count and its generator). The actors, the
   * strategy and the clock are not included: each owner saves its own.
   */
  save(): SchedulerSnapshot {
    return { steps: this.#steps, rng: this.#rng.saveState() };
  }

  /** Restores what `save` returned, in place (same actors, same generator object). */
  load(s: SchedulerSnapshot): void {
    this.#steps = s.steps;
    this.#rng.loadState(s.rng);
  }

  /** The pending steps right now. */
  candidates(): Candidate[] {
    const out: Candidate[] = [];
    for (const a of this.#actors) {
      const t = a.readyAt();
      if (t !== null) out.push({ actor: a.name, time: t });
    }
    return out;
  }

  /**
   * One scheduling decision: asks the strategy, moves the clock to the chosen step's time (never
   * backwards) and runs it. Returns the actor that ran, or null when every actor is idle.
   */
  runOne(): string | null {
    const cands = this.candidates();
    if (cands.length === 0) return null;
    const i = this.#strategy(cands, this.#rng);
    const c = cands[i];
    if (!c) throw new Error(`Scheduler: strategy picked ${i} of ${cands.length} candidates`);
    const actor = this.#actors.find((a) => a.name === c.actor) as Actor;
    if (c.time > this.#clock.now()) this.#clock.advanceTo(c.time);
    actor.step();
    this.#steps++;
    return actor.name;
  }

  /**
   * Runs until every actor is idle, or `until` (µs) is reached, or `maxSteps` were taken
   * (a model that never settles is a bug: this throws).
   */
  run(o: { until?: number; maxSteps?: number } = {}): number {
    const max = o.maxSteps ?? 1_000_000;
    let n = 0;
    for (;;) {
      const cands = this.candidates();
      if (cands.length === 0) return n;
      if (o.until !== undefined && cands.every((c) => c.time > (o.until as number))) return n;
      if (++n > max) throw new Error(`Scheduler: no quiescence after ${max} steps`);
      this.runOne();
    }
  }
}
