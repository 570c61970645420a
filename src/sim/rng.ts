// Seeded randomness for the simulator: PCG32 (XSH-RR output, 64-bit LCG state), as in O'Neill's
// pcg32_random_r and Deno std random/_pcg32.ts. The 64-bit arithmetic runs on pairs of uint32 words,
// so a draw allocates no BigInt. Changing any output silently breaks every saved repro, so
// test/sim/rng.test.ts pins them.

/** A 64-bit unsigned value as two uint32 words. */
interface U64 {
  readonly hi: number;
  readonly lo: number;
}

const TWO_32 = 0x1_0000_0000;

/** The PCG32 LCG multiplier, 6364136223846793005. */
const PCG_MULT: U64 = { hi: 0x5851f42d, lo: 0x4c957f2d };

/**
 * The stream selector (`initseq`) of a root generator. 54 is the value in the PCG reference demo, so
 * `new Rng(42)` yields the same numbers as the reference `pcg32_srandom_r(&rng, 42, 54)`.
 */
const ROOT_STREAM: U64 = { hi: 0, lo: 54 };

/** FNV-1a 64-bit offset basis and prime, used to hash fork labels. */
const FNV_OFFSET: U64 = { hi: 0xcbf29ce4, lo: 0x84222325 };
const FNV_PRIME: U64 = { hi: 0x00000100, lo: 0x000001b3 };

/** MurmurHash3 fmix64 constants; the finalizer spreads FNV's weak mixing over all 64 bits. */
const FMIX_1: U64 = { hi: 0xff51afd7, lo: 0xed558ccd };
const FMIX_2: U64 = { hi: 0xc4ceb9fe, lo: 0x1a85ec53 };

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** (a * b) mod 2^64. */
function mul64(a: U64, b: U64): U64 {
  return {
    hi: (mulHi32(a.lo, b.lo) + Math.imul(a.hi, b.lo) + Math.imul(a.lo, b.hi)) >>> 0,
    lo: Math.imul(a.lo, b.lo) >>> 0,
  };
}

/** (a + b) mod 2^64. */
function add64(a: U64, b: U64): U64 {
  const lo = a.lo + b.lo;
  return { hi: (a.hi + b.hi + (lo >= TWO_32 ? 1 : 0)) >>> 0, lo: lo >>> 0 };
}

/** a ^ (a >>> 33), the step fmix64 repeats. */
function xorShr33(a: U64): U64 {
  return { hi: a.hi, lo: (a.lo ^ (a.hi >>> 1)) >>> 0 };
}

/** MurmurHash3's 64-bit finalizer. */
function fmix64(k: U64): U64 {
  return xorShr33(mul64(xorShr33(mul64(xorShr33(k), FMIX_1)), FMIX_2));
}

/** One LCG step: state * PCG_MULT + inc (mod 2^64). */
function lcgStep(state: U64, inc: U64): U64 {
  return add64(mul64(state, PCG_MULT), inc);
}

/** The PCG32 XSH-RR output function of a 64-bit state. */
function pcgOutput(s: U64): number {
  // xorshifted = uint32(((s >> 18) ^ s) >> 27)
  const xHi = (s.hi ^ (s.hi >>> 18)) >>> 0;
  const xLo = (s.lo ^ ((s.lo >>> 18) | (s.hi << 14))) >>> 0;
  const xorshifted = ((xLo >>> 27) | (xHi << 5)) >>> 0;
  const rot = s.hi >>> 27;
  return ((xorshifted >>> rot) | (xorshifted << (-rot & 31))) >>> 0;
}

/**
 * FNV-1a over the parent's identity (16 bytes), a domain tag byte and the label's UTF-16 code units,
 * then fmix64. Hashing the identity rather than the current state keeps forks independent of draws.
 */
function hashFork(initState: U64, initSeq: U64, tag: number, label: string): U64 {
  let h = FNV_OFFSET;
  const absorb = (byte: number): void => {
    h = mul64({ hi: h.hi, lo: (h.lo ^ byte) >>> 0 }, FNV_PRIME);
  };
  for (const word of [initState.hi, initState.lo, initSeq.hi, initSeq.lo]) {
    absorb(word >>> 24);
    absorb((word >>> 16) & 0xff);
    absorb((word >>> 8) & 0xff);
    absorb(word & 0xff);
  }
  absorb(tag);
  for (let i = 0; i < label.length; i++) {
    const unit = label.charCodeAt(i);
    absorb(unit >>> 8);
    absorb(unit & 0xff);
  }
  return fmix64(h);
}

/**
 * A generator's saved position ({@link Rng.saveState}): its identity (PCG's `initstate` and
 * `initseq`, which forks hash) and its current 64-bit LCG state, each as 16 lower-case hex digits.
 * Plain strings, so it survives `structuredClone` and JSON.
 */
export interface RngState {
  readonly initState: string;
  readonly initSeq: string;
  readonly state: string;
}

const HEX64 = /^[0-9a-f]{16}$/;

/**
 * Positions `saveState` made (frozen, so they cannot change), with their parts: loading one
 * again needs no parsing. The parts are never written in place (`loadState` and `#fromParts`
 * replace `#initState` and `#initSeq`; the state is copied).
 */
const PARSED = new WeakMap<RngState, { initState: U64; initSeq: U64; state: U64 }>();

function u64ToHex(a: U64): string {
  return a.hi.toString(16).padStart(8, "0") + a.lo.toString(16).padStart(8, "0");
}

function u64FromHex(what: string, s: unknown): U64 {
  if (typeof s !== "string" || !HEX64.test(s)) {
    throw new TypeError(`Cannot load Rng state: ${what} must be 16 lower-case hex digits`);
  }
  return { hi: Number.parseInt(s.slice(0, 8), 16), lo: Number.parseInt(s.slice(8), 16) };
}

/** inc = initseq * 2 + 1 (mod 2^64), as pcg32_srandom_r. */
function incOf(initSeq: U64): U64 {
  return {
    hi: ((initSeq.hi << 1) | (initSeq.lo >>> 31)) >>> 0,
    lo: ((initSeq.lo << 1) | 1) >>> 0,
  };
}

/** Internal constructor input: a generator's identity and its current state. */
interface RngParts {
  readonly initState: U64;
  readonly initSeq: U64;
  readonly state: U64;
  readonly inc: U64;
}

/** Mirrors pcg32_srandom_r(initstate, initseq): state 0, inc = initseq*2+1, step, add, step. */
function seedParts(initState: U64, initSeq: U64): RngParts {
  const inc = incOf(initSeq);
  let state = lcgStep({ hi: 0, lo: 0 }, inc);
  state = add64(state, initState);
  state = lcgStep(state, inc);
  return { initState, initSeq, state, inc };
}

/**
 * A seeded pseudo-random generator (PCG32). The model never uses ambient randomness; it takes an `Rng`.
 *
 * A seed is an integer from 0 to `Number.MAX_SAFE_INTEGER` (2^53 − 1), so both 32-bit seeds and
 * 53-bit seeds work; it becomes PCG's 64-bit `initstate`, with stream `initseq = 54`. An `Rng` is
 * mutable: each draw advances it. Use {@link Rng.fork} to give each component its own stream and
 * {@link Rng.clone} to branch a copy (the explorer clones before it tries a choice).
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.nextU32(); // 2707161783, as the PCG reference demo prints for seed 42
 * const udev = rng.fork("udev"); // unaffected by later draws on `rng`
 * udev.nextInt(1, 6);
 * ```
 */
export class Rng {
  #initState: U64;
  #initSeq: U64;
  #inc: U64;
  /** The LCG state: this generator's own object (copied in, never shared), updated in place by a draw. */
  readonly #state: { hi: number; lo: number };
  /** The last position `saveState` returned or `loadState` took, and the state it holds. */
  #saved: { readonly s: RngState; readonly hi: number; readonly lo: number } | null = null;

  /**
   * Creates a root generator.
   *
   * @param seed An integer in [0, 2^53 − 1]; anything else throws `RangeError`.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(
        `Cannot seed Rng with "${seed}": the seed must be an integer from 0 to 2^53 - 1`,
      );
    }
    const p = seedParts(u64FromSafeInteger(seed), ROOT_STREAM);
    this.#initState = p.initState;
    this.#initSeq = p.initSeq;
    this.#inc = p.inc;
    this.#state = { hi: p.state.hi, lo: p.state.lo };
  }

  /** Builds a generator from explicit parts (for `fork` and `clone`). */
  static #fromParts(p: RngParts): Rng {
    const rng = new Rng(0);
    rng.#initState = p.initState;
    rng.#initSeq = p.initSeq;
    rng.#inc = p.inc;
    rng.#state.hi = p.state.hi;
    rng.#state.lo = p.state.lo;
    return rng;
  }

  /** Returns the next uniformly distributed integer in [0, 2^32 − 1] and advances the state. */
  nextU32(): number {
    // lcgStep in place, without an object per step: state * PCG_MULT + inc (mod 2^64).
    const s = this.#state;
    const out = pcgOutput(s);
    const inc = this.#inc;
    const hi =
      mulHi32(s.lo, PCG_MULT.lo) + Math.imul(s.hi, PCG_MULT.lo) + Math.imul(s.lo, PCG_MULT.hi);
    const lo = (Math.imul(s.lo, PCG_MULT.lo) >>> 0) + inc.lo;
    s.hi = (hi + inc.hi + (lo >= TWO_32 ? 1 : 0)) >>> 0;
    s.lo = lo >>> 0;
    return out;
  }

  /**
   * Returns a uniformly distributed integer in [`lo`, `hiInclusive`], without modulo bias (draws
   * that fall in the uneven top slice of the uint32 range are rejected and redrawn).
   *
   * @throws RangeError unless both bounds are safe integers, `lo <= hiInclusive`, and the range holds
   *   at most 2^32 values.
   */
  nextInt(lo: number, hiInclusive: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hiInclusive) || lo > hiInclusive) {
      throw new RangeError(
        `Cannot draw an integer in ["${lo}", "${hiInclusive}"]: the bounds must be safe integers with lo <= hi`,
      );
    }
    const range = hiInclusive - lo + 1;
    if (range > TWO_32) {
      throw new RangeError(
        `Cannot draw an integer in ["${lo}", "${hiInclusive}"]: the range holds more than 2^32 values`,
      );
    }
    const limit = TWO_32 - (TWO_32 % range);
    let u = this.nextU32();
    while (u >= limit) {
      u = this.nextU32();
    }
    return lo + (u % range);
  }

  /**
   * Returns one element of `items`, chosen uniformly (one `nextInt` draw).
   *
   * @throws RangeError if `items` is empty.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) {
      throw new RangeError("Cannot pick from an empty array");
    }
    return items[this.nextInt(0, items.length - 1)] as T;
  }

  /**
   * Returns a new array with the elements of `items` in a uniformly random order (Fisher–Yates,
   * `items.length - 1` draws). `items` itself is not modified.
   */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.nextInt(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /**
   * Derives an independent generator for the component named `label`.
   *
   * The child depends only on this generator's seed, its chain of fork labels and `label`, never on
   * how many values were drawn, so adding a draw in one component does not shift another's sequence.
   * Forking the same label twice returns two generators with the same sequence; use distinct labels
   * (for example `"udev/worker-3"`) for distinct streams.
   */
  fork(label: string): Rng {
    const initState = hashFork(this.#initState, this.#initSeq, 1, label);
    const initSeq = hashFork(this.#initState, this.#initSeq, 2, label);
    return Rng.#fromParts(seedParts(initState, initSeq));
  }

  /**
   * Returns a copy with the same identity and current state: it yields the same values as this
   * generator from here on, and draws on one do not affect the other. Forks of a clone equal forks
   * of the original.
   */
  clone(): Rng {
    return Rng.#fromParts({
      initState: this.#initState,
      initSeq: this.#initSeq,
      state: this.#state,
      inc: this.#inc,
    });
  }

  /**
   * Returns this generator's position as plain data: after `loadState` of it, a generator (this
   * one or another) yields the same values and the same forks as this one does from here on.
   */
  saveState(): RngState {
    // An explorer saves at every branch and draws rarely: the same position is the same object.
    const st = this.#state;
    const last = this.#saved;
    if (last !== null && last.hi === st.hi && last.lo === st.lo) return last.s;
    const out: RngState = Object.freeze({
      initState: u64ToHex(this.#initState),
      initSeq: u64ToHex(this.#initSeq),
      state: u64ToHex(st),
    });
    PARSED.set(out, { initState: this.#initState, initSeq: this.#initSeq, state: { ...st } });
    this.#saved = { s: out, hi: st.hi, lo: st.lo };
    return out;
  }

  /**
   * Moves this generator to a position saved by `saveState` (identity included), in place, so
   * everything holding this `Rng` continues from there.
   *
   * @throws TypeError if `s` is not a state `saveState` returned.
   */
  loadState(s: RngState): void {
    if (typeof s !== "object" || s === null) {
      throw new TypeError("Cannot load Rng state: expected an object from saveState()");
    }
    const known = PARSED.get(s);
    const initState = known?.initState ?? u64FromHex("initState", s.initState);
    const initSeq = known?.initSeq ?? u64FromHex("initSeq", s.initSeq);
    const state = known?.state ?? u64FromHex("state", s.state);
    if (this.#initState !== initState || this.#initSeq !== initSeq) {
      this.#initState = initState;
      this.#initSeq = initSeq;
      this.#inc = incOf(initSeq);
    }
    this.#state.hi = state.hi;
    this.#state.lo = state.lo;
    this.#saved = known !== undefined ? { s, hi: state.hi, lo: state.lo } : null;
  }
}

function u64FromSafeInteger(n: number): U64 {
  return { hi: Math.floor(n / TWO_32) >>> 0, lo: n >>> 0 };
}
