// 64-bit state fingerprints (hash compaction, as TLC's and SPIN's state tables store): a state's
// key becomes two independent 32-bit hashes, kept as a 4-character string (16 bits a character),
// instead of the canonical text of the whole state. Equal states always get equal fingerprints;
// two different states collide with probability about n²/2⁶⁵ for n stored states (≈ 3·10⁻⁸ at a
// million states). Items are combined order-free (lane-wise sums), so a set of resources needs no
// sorting, and a hash is cached per item text (the model reuses its digest strings).

/** A 64-bit hash as two 32-bit halves. */
export type Hash64 = readonly [number, number];

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A 64-bit hash of a string's UTF-16 code units (two independent multiplicative hashes, each
 * finished by murmur3's finaliser).
 *
 * @example
 * hashString("dev:3.name=\"eth0\""); // [h1, h2], the same on every run
 */
export function hashString(s: string): Hash64 {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b + c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [fmix32(a ^ s.length), fmix32(b)];
}

/** Combines an ordered sequence: `mixInto(acc, h)` depends on the order of the calls. */
export function mixInto(acc: [number, number], h: Hash64): void {
  acc[0] = fmix32((Math.imul(acc[0], 0x9e3779b1) + h[0]) >>> 0);
  acc[1] = fmix32((Math.imul(acc[1], 0x85ebca77) ^ h[1]) + 0x27d4eb2f);
}

/** Adds an item to an order-free accumulator (a multiset hash: lane-wise sums mod 2³²). */
export function addInto(acc: [number, number], h: Hash64): void {
  acc[0] = (acc[0] + h[0]) >>> 0;
  acc[1] = (acc[1] + h[1]) >>> 0;
}

/** The fingerprint as a 4-character string (a compact `Map` key). */
export function fingerprintKey(h: Hash64): string {
  return String.fromCharCode(h[0] >>> 16, h[0] & 0xffff, h[1] >>> 16, h[1] & 0xffff);
}

/** Compares two hashes (for a canonical order of equal-looking components). */
export function compareHash(x: Hash64, y: Hash64): number {
  return x[0] - y[0] || x[1] - y[1];
}

/**
 * A cache of string hashes. The model hands the same string objects back while a resource is
 * unchanged, and V8 keeps a string's own hash, so a hit costs one `Map` lookup. Cleared when it
 * grows past `limit` entries (the hashes do not depend on it).
 */
export class HashCache {
  readonly #m = new Map<string, Hash64>();
  readonly #limit: number;
  constructor(limit = 1_000_000) {
    this.#limit = limit;
  }
  /** The hash of `s`, from the cache when it is there. */
  get(s: string): Hash64 {
    let h = this.#m.get(s);
    if (h === undefined) {
      h = hashString(s);
      if (this.#m.size >= this.#limit) this.#m.clear();
      this.#m.set(s, h);
    }
    return h;
  }
}
