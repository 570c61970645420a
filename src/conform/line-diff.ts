// A line diff for people: the longest common subsequence of two lists of lines, shown as a
// unified diff (" " both, "-" only in the first, "+" only in the second) with a few lines of
// context, so that one missing line shows as one "-" and the lines after it still pair up.

/** One line of a diff. */
export interface DiffLine {
  readonly op: " " | "-" | "+";
  readonly line: string;
}

/** Every line of `a` and `b` in order, marked kept, removed (only in a) or added (only in b). */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // lcs[i * (m + 1) + j]: length of the LCS of a[i..] and b[j..].
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * w + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * w + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * w + j] as number, lcs[i * w + j + 1] as number);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: " ", line: a[i] as string });
      i++;
      j++;
    } else if (
      i < n &&
      (j >= m || (lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number))
    ) {
      out.push({ op: "-", line: a[i] as string });
      i++;
    } else {
      out.push({ op: "+", line: b[j] as string });
      j++;
    }
  }
  return out;
}

/**
 * The unified diff of `a` → `b` as text lines ("- x", "+ y", "  z"), keeping `context` equal
 * lines around each change and "  …" for the equal lines left out; [] when they are equal.
 * @example unifiedDiff(["a", "b", "c"], ["a", "c"]) // ["  a", "- b", "  c"]
 */
export function unifiedDiff(a: readonly string[], b: readonly string[], context = 2): string[] {
  const ops = diffLines(a, b);
  if (ops.every((o) => o.op === " ")) return [];
  const near = ops.map((_, k) =>
    ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.op !== " "),
  );
  const out: string[] = [];
  let skipped = false;
  ops.forEach((o, k) => {
    if (!near[k]) {
      if (!skipped) out.push("  …");
      skipped = true;
      return;
    }
    skipped = false;
    out.push(`${o.op} ${o.line}`);
  });
  return out;
}
