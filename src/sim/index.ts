// Public entry of the sim layer: virtual time and seeded randomness.

/**
 * Integer virtual time in microseconds, advanced only by the scheduler.
 *
 * @example
 * ```ts
 * import { MICROS_PER_MILLI, VirtualClock } from "./sim/index.ts";
 * const clock = new VirtualClock();
 * clock.advanceBy(250 * MICROS_PER_MILLI); // 250000
 * ```
 */
export { MICROS_PER_MILLI, MICROS_PER_SECOND, VirtualClock } from "./clock.ts";
/** A fast deep copy of plain data (the model's snapshots). */
export { clonePlain, sharedConstant } from "./clone.ts";
/**
 * Seeded PCG32 generator with labelled, draw-independent forks.
 *
 * @example
 * ```ts
 * import { Rng } from "./sim/index.ts";
 * const rng = new Rng(20261124);
 * const order = rng.fork("scheduler").shuffle(["udev", "probe", "ip"]);
 * ```
 */
export { Rng, type RngState } from "./rng.ts";
/** The actor scheduler: one injectable strategy picks which ready actor runs next. */
export {
  type Actor,
  type Candidate,
  earliestFirst,
  Scheduler,
  type SchedulerSnapshot,
  type Strategy,
} from "./scheduler.ts";
/** UTF-8 byte lengths without encoding. */
export { isAscii, utf8Length } from "./utf8.ts";
