// Which fields of a record may have changed since its last digest (ScenarioSystem's device
// digests, `#resources`). A loop over a record's keys reads each field by a computed key; a
// function written for the key list reads each by its name, which the engine makes several times
// faster on the kernel's device records (about 44 fields, read at every step of a search).

/** Writes into `out` the indices of `keys` whose field may differ from `raws`; returns how many. */
type Scan = (rec: Record<string, unknown>, raws: readonly unknown[], out: number[]) => number;

/** Scanners by key list (the same array object while a device keeps its fields). */
const SCANS = new WeakMap<readonly string[], Scan>();

/**
 * The indices of `keys` (the record's own keys, in order) whose value is not the same primitive
 * or the same frozen object as in `raws` (a frozen object cannot have changed inside; any other
 * object may have). They are written to `out`, and their number is returned.
 *
 * @example
 * const out: number[] = [];
 * changedFields(["a", "b"], { a: 1, b: 3 }, [1, 2], out); // 1, out[0] === 1
 */
export function changedFields(
  keys: readonly string[],
  rec: Record<string, unknown>,
  raws: readonly unknown[],
  out: number[],
): number {
  let scan = SCANS.get(keys);
  if (scan === undefined) {
    // Each key is written as a JSON string literal: the code reads exactly those fields.
    const lines = ["let n = 0;", "let v;"];
    keys.forEach((k, i) => {
      lines.push(
        `v = rec[${JSON.stringify(k)}];`,
        `if (v !== raws[${i}] || (v !== null && typeof v === "object" && !Object.isFrozen(v))) out[n++] = ${i};`,
      );
    });
    lines.push("return n;");
    scan = new Function("rec", "raws", "out", lines.join("\n")) as Scan;
    SCANS.set(keys, scan);
  }
  return scan(rec, raws, out);
}
