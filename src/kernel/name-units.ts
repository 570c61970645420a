// The free-unit index behind `%d` name allocation: the kernel's __dev_alloc_name() fills a
// bitmap of the units in use for a template and takes the first clear bit. The model keeps,
// per template, the units in use and answers "the smallest free unit" in amortised O(log n)
// instead of scanning: a min-heap of units freed below a high-water mark, and the mark.

/** The units in use for one `%d` template, and the smallest free one on demand. */
export class UnitSet {
  readonly #used = new Set<number>();
  /** Every unit below `#mark` is in use or in `#heap` (an entry may be stale: used again). */
  #mark = 0;
  readonly #heap: number[] = [];
  readonly #inHeap = new Set<number>();

  /** Marks `unit` used. */
  add(unit: number): void {
    this.#used.add(unit);
  }

  /** Marks `unit` free; returns whether it was used. */
  delete(unit: number): boolean {
    if (!this.#used.delete(unit)) return false;
    if (unit < this.#mark && !this.#inHeap.has(unit)) {
      this.#inHeap.add(unit);
      this.#push(unit);
    }
    return true;
  }

  /** The smallest unit below `limit` that is not in use, or `limit` when every one is. */
  lowestFree(limit: number): number {
    const h = this.#heap;
    while (h.length > 0 && this.#used.has(h[0] as number)) this.#inHeap.delete(this.#pop());
    if (h.length > 0) return Math.min(h[0] as number, limit);
    while (this.#mark < limit && this.#used.has(this.#mark)) this.#mark++;
    return Math.min(this.#mark, limit);
  }

  #push(x: number): void {
    const h = this.#heap;
    let i = h.length;
    h.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as number) <= x) break;
      h[i] = h[p] as number;
      i = p;
    }
    h[i] = x;
  }

  #pop(): number {
    const h = this.#heap;
    const top = h[0] as number;
    const last = h.pop() as number;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
        if ((h[c] as number) >= last) break;
        h[i] = h[c] as number;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
