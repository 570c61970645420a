// The trace sink: an ordered record of what a simulated system did.

/** Fields the sink adds to every event: a sequence number and the virtual time (µs). */
export interface Stamped {
  readonly seq: number;
  readonly t: number;
}

/**
 * An append-only, ordered list of events (only snapshot restore cuts it back, with `truncate`). Events are plain data with a namespaced `type`
 * (`"kernel.log"`, `"kernel.uevent"`, …); the sink stamps each with `seq` and `t`.
 */
export class Trace<E extends { readonly type: string }> {
  readonly events: (E & Stamped)[] = [];
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Appends one event and returns it stamped. */
  emit(e: E): E & Stamped {
    const stamped = { ...e, seq: this.events.length, t: this.#now() } as E & Stamped;
    this.events.push(stamped);
    return stamped;
  }

  /** Number of events so far (a cursor for `since`). */
  get length(): number {
    return this.events.length;
  }

  /**
   * Drops every event after the first `length` (restores the trace to a cursor saved earlier), so
   * the next event gets `seq = length` again.
   *
   * @throws RangeError if `length` is not a non-negative integer or exceeds the current length.
   */
  truncate(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.events.length) {
      throw new RangeError(
        `Cannot truncate the trace to "${length}" events: it holds "${this.events.length}"`,
      );
    }
    this.events.length = length;
  }

  /** Events appended at or after `cursor`. */
  since(cursor: number): (E & Stamped)[] {
    return this.events.slice(cursor);
  }
}
