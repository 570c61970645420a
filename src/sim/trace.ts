// The trace sink: an ordered record of what a simulated system did.

/** Fields the sink adds to every event: a sequence number and the virtual time (µs). */
export interface Stamped {
  readonly seq: number;
  readonly t: number;
}

/**
 * An ordered list of events (only snapshot restore cuts it back, with `truncate`). Events are
 * plain data with a namespaced `type` (`"kernel.log"`, `"kernel.uevent"`, …); the sink stamps
 * each with `seq` and `t`.
 *
 * By default the trace keeps every event (`events`, `since`). A caller that only wants some
 * events as they happen turns keeping off (`keep(false)`) and subscribes: memory then follows
 * what the listeners hold, not the number of events. Emitters ask `wants(type)` before they
 * build an expensive event and call `skip()` instead when nobody does, so that `seq` numbers
 * stay the same whoever listens.
 */
export class Trace<E extends { readonly type: string }> {
  /** The kept events: `events[i]` has `seq = base + i` (base is 0 unless keeping was turned off). */
  readonly events: (E & Stamped)[] = [];
  #base = 0;
  #keep = true;
  readonly #listeners: {
    readonly types: ReadonlySet<string>;
    readonly fn: (e: E & Stamped) => void;
  }[] = [];
  /** Listener count per event type. */
  readonly #listened = new Map<string, number>();
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * Keeps (true, the default) or stops keeping events. Turning it off drops the events kept so
   * far; `since` then answers only for cursors at or after that point.
   */
  keep(on: boolean): void {
    if (!on && this.#keep) {
      this.#base += this.events.length;
      this.events.length = 0;
    }
    this.#keep = on;
  }

  /**
   * Calls `fn` with every later event whose type is among `types`, as it is emitted.
   * @returns a function that removes the listener
   */
  subscribe(types: readonly E["type"][], fn: (e: E & Stamped) => void): () => void {
    const l = { types: new Set<string>(types), fn };
    this.#listeners.push(l);
    for (const t of l.types) this.#listened.set(t, (this.#listened.get(t) ?? 0) + 1);
    return () => {
      const i = this.#listeners.indexOf(l);
      if (i < 0) return;
      this.#listeners.splice(i, 1);
      for (const t of l.types) this.#listened.set(t, (this.#listened.get(t) ?? 1) - 1);
    };
  }

  /** True when an event of `type` would be kept or heard: worth building. */
  wants(type: E["type"]): boolean {
    return this.#keep || (this.#listened.get(type) ?? 0) > 0;
  }

  /**
   * Appends one event, stamped (when nobody keeps or hears it, only its `seq` is taken). The
   * event object itself is stamped (`seq` and `t` added to it, no copy): pass a fresh object.
   */
  emit(e: E): void {
    const heard = this.#listeners.length > 0 && (this.#listened.get(e.type) ?? 0) > 0;
    if (!this.#keep && !heard) {
      this.#base++;
      return;
    }
    const stamped = e as E & { seq: number; t: number };
    stamped.seq = this.length;
    stamped.t = this.#now();
    if (this.#keep) this.events.push(stamped);
    else this.#base++;
    if (heard) for (const l of this.#listeners) if (l.types.has(e.type)) l.fn(stamped);
  }

  /** Counts an event nobody wants (see `wants`) without building it: it takes its `seq`. */
  skip(): void {
    if (this.#keep) throw new Error("Trace.skip: the trace keeps its events; emit them");
    this.#base++;
  }

  /** Number of events so far, kept or not (a cursor for `since`). */
  get length(): number {
    return this.#base + this.events.length;
  }

  /**
   * Drops every event after the first `length` (restores the trace to a cursor saved earlier), so
   * the next event gets `seq = length` again.
   *
   * @throws RangeError if `length` is not a non-negative integer, exceeds the current length or
   *   falls before the events kept
   */
  truncate(length: number): void {
    if (!Number.isSafeInteger(length) || length < this.#base || length > this.length) {
      throw new RangeError(
        `Cannot truncate the trace to "${length}" events: it holds "${this.length}"${this.#base > 0 ? ` (kept from "${this.#base}")` : ""}`,
      );
    }
    this.events.length = length - this.#base;
  }

  /**
   * Events appended at or after `cursor`.
   * @throws RangeError if events from `cursor` on were not kept
   */
  since(cursor: number): (E & Stamped)[] {
    if (cursor < this.#base)
      throw new RangeError(
        `Trace.since(${cursor}): events before "${this.#base}" were not kept (keep(false))`,
      );
    return this.events.slice(cursor - this.#base);
  }
}
