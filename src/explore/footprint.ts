// Footprints as bit sets over interned resource names, for the search's bookkeeping (races,
// sleep sets, subtree summaries). The relation is `dependent`'s (src/explore/system.ts): two
// sets conflict when either holds `*`, when both hold a plain `R`, or when one holds `R` and the
// other the commutative update `?R`; two `?R` commute. A search compares every step with the
// steps on its stack and merges every subtree's resources into its parent's: as bits, a
// comparison is an AND over a few words and a merge an OR, where string Sets hashed every entry.

/**
 * A set of resources: `plain` holds R's bit, `comm` holds the bit of R for an entry `?R` (null
 * when there is none), `star` the global `*`. Bit i of word w is the resource with id 30·w + i
 * in the table that made it; sets of one table only are compared. Words past an array's end are
 * zero.
 */
export interface ResSet {
  plain: number[];
  comm: number[] | null;
  star: boolean;
}

/**
 * Bits per word: 30, so that every word is a small integer (V8 keeps arrays of those unboxed;
 * typed arrays cost more to allocate than a step's few words are worth).
 */
const W = 30;

/** Interns resource names (`?R` and `R` share R's id) and makes `ResSet`s over them. */
export class ResourceTable {
  readonly #ids = new Map<string, number>();

  /** R's id (`R` without a leading `?`). */
  #id(base: string): number {
    let id = this.#ids.get(base);
    if (id === undefined) {
      id = this.#ids.size;
      this.#ids.set(base, id);
    }
    return id;
  }

  /** The set of `resources` (names as a system's footprint gives them; duplicates allowed). */
  of(resources: Iterable<string>): ResSet {
    let star = false;
    const plainIds: number[] = [];
    const commIds: number[] = [];
    let plainMax = -1;
    let commMax = -1;
    for (const r of resources) {
      if (r === "*") star = true;
      else if (r.charCodeAt(0) === 0x3f) {
        const id = this.#id(r.slice(1));
        commIds.push(id);
        if (id > commMax) commMax = id;
      } else {
        const id = this.#id(r);
        plainIds.push(id);
        if (id > plainMax) plainMax = id;
      }
    }
    const plain = words(plainIds, plainMax);
    const comm = commIds.length > 0 ? words(commIds, commMax) : null;
    return { plain, comm, star };
  }
}

/** The words of the ids `ids` (the largest `max`). */
function words(ids: readonly number[], max: number): number[] {
  const n = max < 0 ? 0 : ((max / W) | 0) + 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(0);
  for (const id of ids) {
    const w = (id / W) | 0;
    out[w] = (out[w] as number) | (1 << (id - w * W));
  }
  return out;
}

/** True when some word of `a` and the same word of `b` share a bit. */
function overlap(a: readonly number[], b: readonly number[]): boolean {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) if (((a[i] as number) & (b[i] as number)) !== 0) return true;
  return false;
}

/** `dependent` on two sets of one table (see the file's head). */
export function conflicts(a: ResSet, b: ResSet): boolean {
  if (a.star || b.star) return true;
  if (overlap(a.plain, b.plain)) return true;
  if (a.comm !== null && overlap(a.comm, b.plain)) return true;
  return b.comm !== null && overlap(b.comm, a.plain);
}

/** `into` ∪= `from` (sets of one table). */
export function mergeInto(into: ResSet, from: ResSet): void {
  if (from.star) into.star = true;
  into.plain = orInto(into.plain, from.plain);
  if (from.comm !== null) into.comm = orInto(into.comm ?? [], from.comm);
}

/** A copy of `s` (for a set that will be merged into). */
export function copyResSet(s: ResSet): ResSet {
  return { plain: s.plain.slice(), comm: s.comm?.slice() ?? null, star: s.star };
}

/** `a` | `b`, in `a` (grown to `b`'s length). */
function orInto(a: number[], b: readonly number[]): number[] {
  for (let i = a.length; i < b.length; i++) a.push(0);
  for (let i = 0; i < b.length; i++) a[i] = (a[i] as number) | (b[i] as number);
  return a;
}
