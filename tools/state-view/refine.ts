// The coarsest partition of a graph's states that respects their labels and their successors
// (partition refinement), shared by the state-view tools (measure.ts, projection-classes.ts).

/**
 * Refines `labels` (one per state) until stable: two states stay in one class while they had one
 * class and `signature(i, classes)` (what state i's successors are, in the current classes) is
 * the same. Returns each state's class name.
 */
export function refine(
  labels: readonly string[],
  signature: (i: number, classes: readonly string[]) => unknown,
): string[] {
  let cls = [...labels];
  let count = new Set(cls).size;
  for (;;) {
    const m = new Map<string, string>();
    const prev = cls;
    cls = prev.map((c, i) => {
      const sig = JSON.stringify([c, signature(i, prev)]);
      let v = m.get(sig);
      if (v === undefined) {
        v = String(m.size);
        m.set(sig, v);
      }
      return v;
    });
    if (m.size === count) return cls;
    count = m.size;
  }
}
