// What the explorer needs from a system it explores: lanes (the threads of the search: the
// kernel's work, each udev worker, bring-up, the script …) that can take one atomic step,
// the resources each step touched (its footprint, for the dependency relation), snapshots, a
// canonical state key (for state hashing and symmetry reduction), and invariants.

/** A broken property, and where. */
export interface Violation {
  /** The invariant's name (`unique-names`, `no-ebusy-to-udev`, `expect`, …). */
  readonly invariant: string;
  /** What was wrong, in one line. */
  readonly detail: string;
}

/** A state's canonical key and how its lanes map to canonical lanes. */
export interface StateKey {
  /** Equal keys ⇔ states the search may treat as one (after symmetry, if asked). */
  readonly key: string;
  /** The canonical name of a lane of this state (identity without symmetry). */
  lane(lane: string): string;
  /**
   * Under symmetry: the canonical slot the key gave the failover pair with this MAC (pairs are
   * numbered in the order of their devices; identity without symmetry), or undefined for a MAC
   * that is no pair's.
   */
  pairSlot?(mac: string): number | undefined;
}

/**
 * A system the search can drive. Lanes are deterministic: firing the same lane in the same
 * state always yields the same state and footprint.
 */
export interface ExplorableSystem<S> {
  /** Lanes that may take a step now, in a fixed order. Empty: the system is quiescent. */
  enabled(): string[];
  /**
   * Runs one step of `lane` (which must be enabled: anything else is a programming error and
   * throws) and returns its footprint: the resources it read or wrote. Two steps are
   * dependent when their footprints share a resource or either contains `"*"`.
   */
  fire(lane: string): readonly string[];
  /** A snapshot of the whole state. */
  save(): S;
  /**
   * Restores a snapshot taken by `save` on this system. With `last` the caller will not restore
   * `s` again: a system may then hand the snapshot's own state to the run instead of a copy.
   */
  restore(s: S, last?: boolean): void;
  /** The state's key; `symmetric` canonicalises under the system's symmetries. */
  key(symmetric: boolean): StateKey;
  /**
   * The same state view as `key`, as a 64-bit fingerprint (hash compaction): equal keys give
   * equal fingerprints, different keys collide with probability about 2⁻⁶⁴ a pair. Optional:
   * without it the search stores `key`.
   */
  fingerprint?(symmetric: boolean): StateKey;
  /**
   * A permutation-invariant coarsening of a resource (`dev:7` → `dev:e1000e`): summaries of
   * explored subtrees are kept in this form, so they hold for every symmetric image.
   */
  coarse(resource: string): string;
  /**
   * Lanes that a symmetry may exchange share a class (`udev/w*`); other lanes are their own
   * class.
   */
  laneClass(lane: string): string;
  /** The first invariant broken in this state (`quiescent`: no lane is enabled), or null. */
  check(quiescent: boolean): Violation | null;
}

/**
 * True when two footprints share a resource (or either is global, `*`). An entry `?R` marks a
 * commutative update of R (moving the clock forward: two such moves commute, `max` is order-free):
 * it conflicts with a plain `R` (a step that reads the clock) but not with another `?R`.
 */
export function dependent(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.has("*") || b.has("*")) return true;
  const swap = a.size > b.size;
  const small = swap ? b : a;
  const big = swap ? a : b;
  // `?R` entries are rare (the clock's moves): look for `?R` in `big` only when it has one, and
  // so build no `?R` string for every resource of every pair of footprints compared.
  const q = hasCommutative(big);
  for (const r of small) {
    if (r.charCodeAt(0) === 0x3f) {
      if (big.has(r.slice(1))) return true;
    } else if (big.has(r) || (q && big.has(`?${r}`))) return true;
  }
  return false;
}

/**
 * Whether a footprint has a `?R` entry. Not cached: a search's subtree summaries are Sets that
 * grow while it runs.
 */
function hasCommutative(fp: ReadonlySet<string>): boolean {
  for (const r of fp) if (r.charCodeAt(0) === 0x3f) return true;
  return false;
}
