// Virtual time for the simulator. Only the scheduler advances it; nothing in the model reads a wall clock.

/** Microseconds in one millisecond; the clock counts integer microseconds. */
export const MICROS_PER_MILLI = 1_000;

/** Microseconds in one second; the clock counts integer microseconds. */
export const MICROS_PER_SECOND = 1_000_000;

function assertTime(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot use ${what} "${value}": it must be a non-negative safe integer of microseconds`,
    );
  }
}

/**
 * An integer clock of virtual time, counted in **microseconds** as a plain `number`.
 *
 * Values are non-negative safe integers (up to `Number.MAX_SAFE_INTEGER` µs, about 285 years), so
 * arithmetic on them stays exact. The clock never moves backwards: asking it to throws `RangeError`,
 * as xstate's `SimulatedClock` does. Only the scheduler should call `advanceTo` and `advanceBy`;
 * only snapshot restore calls `restore`.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * clock.advanceBy(5 * MICROS_PER_MILLI);
 * clock.now(); // 5000
 * ```
 */
export class VirtualClock {
  #now: number;

  /**
   * Creates a clock that reads `start` microseconds.
   *
   * @param start Initial time in µs (default 0); a non-negative safe integer, else `RangeError`.
   */
  constructor(start = 0) {
    assertTime("start time", start);
    this.#now = start;
  }

  /** Returns the current virtual time in microseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * Moves the clock to the absolute time `t` (µs). Moving to the current time is a no-op.
   *
   * @returns The new current time, `t`.
   * @throws RangeError if `t` is negative, not a safe integer, or earlier than `now()`.
   */
  advanceTo(t: number): number {
    assertTime("time", t);
    if (t < this.#now) {
      throw new RangeError(
        `Cannot move the clock back to "${t}": it already reads "${this.#now}" microseconds`,
      );
    }
    this.#now = t;
    return t;
  }

  /**
   * Sets the clock to `t` (µs), even earlier than `now()`. Only for restoring a snapshot (a run
   * saved at a choice point and resumed there); the model itself must never move time backwards.
   *
   * @throws RangeError if `t` is negative or not a safe integer.
   */
  restore(t: number): void {
    assertTime("time", t);
    this.#now = t;
  }

  /**
   * Moves the clock forward by `dt` microseconds; `dt = 0` is a no-op.
   *
   * @returns The new current time.
   * @throws RangeError if `dt` is negative or not a safe integer, or the sum leaves the safe range.
   */
  advanceBy(dt: number): number {
    assertTime("time step", dt);
    return this.advanceTo(this.#now + dt);
  }
}
