// `kernels:` on an expectation: which kernel versions it is meant for, so that one scenario can
// say "EBUSY on 5.0, renamed on 6.1" and pass on both.

/** One selector: "5.0" (that version), "E0"/"E1"/"E2" (an era), ">=5.1", ">5.0", "<6.2", "<=6.1". */
const SELECTOR_RE = /^(?:(E[012])|(>=|<=|>|<)?\s*(\d+)\.(\d+))$/;

/** What a selector means, or why it is not one (for the parser's positioned error). */
export function selectorProblem(sel: string): string | null {
  return SELECTOR_RE.test(sel.trim())
    ? null
    : `expected a kernel version ("5.0"), an era (E0, E1, E2) or a comparison (">=5.1", "<6.2"); got "${sel}"`;
}

/** The exact version a selector names ("5.0" → "5.0"; comparisons and eras → null). */
export function exactVersion(sel: string): string | null {
  const m = SELECTOR_RE.exec(sel.trim());
  return m && !m[1] && !m[2] ? `${Number(m[3])}.${Number(m[4])}` : null;
}

/**
 * True when a kernel (its major.minor version and era, as a KernelProfile has them) is among
 * `kernels` (any selector matches); an absent `kernels` selects every kernel.
 * @example kernelSelected(["E0", ">=6.2"], { version: "6.6", era: "E2" }) // true
 */
export function kernelSelected(
  kernels: string | readonly string[] | undefined,
  k: { readonly version: string; readonly era: string },
): boolean {
  if (kernels === undefined) return true;
  const [maj, min] = k.version.split(".").map(Number) as [number, number];
  return (typeof kernels === "string" ? [kernels] : kernels).some((sel) => {
    const m = SELECTOR_RE.exec(sel.trim());
    if (!m) return false;
    if (m[1]) return m[1] === k.era;
    const d = maj - Number(m[3]) || min - Number(m[4]);
    switch (m[2]) {
      case ">=":
        return d >= 0;
      case ">":
        return d > 0;
      case "<=":
        return d <= 0;
      case "<":
        return d < 0;
      default:
        return d === 0;
    }
  });
}

/** The selectors as a short label: "[5.0]", "[E1, >=6.2]". */
export function selectorLabel(kernels: string | readonly string[]): string {
  return `[${(typeof kernels === "string" ? [kernels] : kernels).join(", ")}]`;
}
