// iproute2 6.1 lib/ll_map.c: the per-process ifindex ↔ name/flags cache.

import {
  isNegErrno,
  type Kernel,
  type LinkBrief,
  type LinkSnapshot,
  rtnlGetlinkBrief,
} from "../kernel/index.ts";
import { isAscii } from "../sim/utf8.ts";

/** IDXMAP_SIZE: number of hash buckets. */
const IDXMAP_SIZE = 1024;

interface LlEntry {
  readonly index: number;
  /** The name at first sight: never updated afterwards (the 6.1 bug). */
  readonly name: string;
  flags: number;
  /** Name-hash bucket the entry currently sits in. */
  bucket: number;
}

/** namehash(): djb2 over the name's bytes, `char` being signed (x86). */
export function namehash(name: string): number {
  let h = 5381;
  if (isAscii(name)) {
    for (let i = 0; i < name.length; i++) h = (Math.imul(h, 33) + name.charCodeAt(i)) >>> 0;
    return h;
  }
  for (const b of new TextEncoder().encode(name)) {
    h = (Math.imul(h, 33) + (b >= 128 ? b - 256 : b)) >>> 0;
  }
  return h;
}

/**
 * What `LlMap.save` returns: a deep copy of the cache (entries shared between the index map and
 * the buckets stay shared in the copy).
 */
export interface LlMapSnapshot {
  readonly byIndex: ReadonlyMap<number, LlEntry>;
  readonly buckets: ReadonlyMap<number, readonly LlEntry[]>;
}

/** An entry as the cache holds it: `seq` orders the entries of one bucket (list_add: newest first). */
interface Held {
  readonly index: number;
  readonly name: string;
  flags: number;
  bucket: number;
  /** When the entry was last hashed: the larger, the nearer the head of its bucket's list. */
  seq: number;
}

/**
 * The ll_map cache of one `ip` process. Entries are created from dumps, RTM_GETLINK answers
 * and monitor messages (`remember`). A later message for a known ifindex updates the flags and
 * moves the entry into the new name's hash bucket but keeps the old stored name, so a lookup by
 * the new name misses and one by the old name hits only if both hash to the same bucket.
 * RTM_DELLINK (and `drop`) removes the entry.
 *
 * iproute2's buckets are lists, newest first (list_add), and a lookup by name walks the name's
 * bucket for the first entry with that stored name. The model answers the same in constant time:
 * each entry records its bucket and when it was hashed, entries are indexed by stored name, and
 * the answer is, among the entries with that stored name sitting in the name's bucket, the one
 * hashed last (the nearest the head).
 */
export class LlMap {
  readonly #k: Kernel;
  readonly #byIndex = new Map<number, Held>();
  /** Stored name → the entry holding it, or (rare: an old name seen again) all of them. */
  readonly #byName = new Map<string, Held | Held[]>();
  #seq = 0;
  /**
   * The snapshot the cache holds exactly (the last one `save` made or `load` loaded), or null
   * once it changed since: `save` returns it again and `load` of it has nothing to do (a search
   * saves and restores at every branch, and most steps leave the cache as it was).
   */
  #base: LlMapSnapshot | null = null;

  constructor(k: Kernel) {
    this.#k = k;
  }

  /**
   * Saves the cache (a deep copy, never changed afterwards): the entries by index and each
   * bucket's list, newest first. While the cache is unchanged, the same snapshot again.
   */
  save(): LlMapSnapshot {
    if (this.#base !== null) return this.#base;
    const byIndex = new Map<number, LlEntry>();
    const lists = new Map<number, Held[]>();
    for (const e of this.#byIndex.values()) {
      let l = lists.get(e.bucket);
      if (!l) {
        l = [];
        lists.set(e.bucket, l);
      }
      l.push(e);
    }
    const buckets = new Map<number, LlEntry[]>();
    for (const [b, l] of lists) {
      l.sort((x, y) => y.seq - x.seq);
      buckets.set(
        b,
        l.map((e) => {
          const c: LlEntry = { index: e.index, name: e.name, flags: e.flags, bucket: e.bucket };
          byIndex.set(e.index, c);
          return c;
        }),
      );
    }
    // The index map in the cache's own order (the copies are shared with the buckets).
    const ordered = new Map<number, LlEntry>();
    for (const i of this.#byIndex.keys()) ordered.set(i, byIndex.get(i) as LlEntry);
    this.#base = { byIndex: ordered, buckets };
    return this.#base;
  }

  /** Restores what `save` returned, in place (a fresh copy, so it can be loaded again). */
  load(s: LlMapSnapshot): void {
    if (s === this.#base) return;
    this.#base = s;
    this.#byIndex.clear();
    this.#byName.clear();
    this.#seq = 0;
    const seqOf = new Map<number, number>();
    for (const list of s.buckets.values()) {
      // Head first: the head was hashed last.
      list.forEach((e, j) => {
        seqOf.set(e.index, -j);
      });
    }
    for (const [i, e] of s.byIndex) {
      const h: Held = {
        index: e.index,
        name: e.name,
        flags: e.flags,
        bucket: e.bucket,
        seq: seqOf.get(i) ?? 0,
      };
      this.#byIndex.set(i, h);
      this.#nameAdd(h);
    }
  }

  #bucketOf(name: string): number {
    return namehash(name) & (IDXMAP_SIZE - 1);
  }

  #nameAdd(e: Held): void {
    const cur = this.#byName.get(e.name);
    if (cur === undefined) this.#byName.set(e.name, e);
    else if (Array.isArray(cur)) cur.push(e);
    else this.#byName.set(e.name, [cur, e]);
  }

  #nameRemove(e: Held): void {
    const cur = this.#byName.get(e.name);
    if (cur === e) this.#byName.delete(e.name);
    else if (Array.isArray(cur)) {
      const i = cur.indexOf(e);
      if (i >= 0) cur.splice(i, 1);
      if (cur.length === 1) this.#byName.set(e.name, cur[0] as Held);
    }
  }

  /** hlist_add_head into `bucket`. */
  #hash(e: Held, bucket: number): void {
    this.#base = null;
    e.bucket = bucket;
    e.seq = ++this.#seq;
  }

  /** @iproute2 ll_remember_index() */
  remember(msg: "RTM_NEWLINK" | "RTM_DELLINK", link: LinkSnapshot | LinkBrief): void {
    const im = this.#byIndex.get(link.ifindex);
    if (msg === "RTM_DELLINK") {
      if (im) this.drop(link.ifindex);
      return;
    }
    if (im) {
      if (im.name !== link.ifname) this.#hash(im, this.#bucketOf(link.ifname));
      if (im.flags !== link.flags) {
        im.flags = link.flags;
        this.#base = null;
      }
      return;
    }
    const e: Held = {
      index: link.ifindex,
      name: link.ifname,
      flags: link.flags,
      bucket: 0,
      seq: 0,
    };
    this.#base = null;
    this.#byIndex.set(e.index, e);
    this.#nameAdd(e);
    this.#hash(e, this.#bucketOf(link.ifname));
  }

  /** @iproute2 ll_drop_by_index() */
  drop(index: number): void {
    const im = this.#byIndex.get(index);
    if (!im) return;
    this.#base = null;
    this.#nameRemove(im);
    this.#byIndex.delete(index);
  }

  /** The first entry in `name`'s bucket whose stored name is `name`. @iproute2 ll_get_by_name() */
  #getByName(name: string): Held | undefined {
    const cur = this.#byName.get(name);
    if (cur === undefined) return undefined;
    const bucket = this.#bucketOf(name);
    if (!Array.isArray(cur)) return cur.bucket === bucket ? cur : undefined;
    let best: Held | undefined;
    for (const e of cur)
      if (e.bucket === bucket && (best === undefined || e.seq > best.seq)) best = e;
    return best;
  }

  /**
   * RTM_GETLINK by name or index, remembering the answer; 0 on any error (silently).
   * @iproute2 ll_link_get()
   */
  linkGet(name: string | null, index: number): number {
    const r =
      name !== null
        ? rtnlGetlinkBrief(this.#k, { ifindex: 0, ifname: name })
        : rtnlGetlinkBrief(this.#k, { ifindex: index });
    if (typeof r === "number" && isNegErrno(r)) return 0;
    const snap = r as LinkBrief;
    this.remember("RTM_NEWLINK", snap);
    return snap.ifindex;
  }

  /** @iproute2 ll_name_to_index(): cache, then RTM_GETLINK, then "if<N>" */
  nameToIndex(name: string): number {
    const im = this.#getByName(name);
    if (im) return im.index;
    let idx = this.linkGet(name, 0);
    // if_nametoindex() asks the same kernel name table, so it cannot find more.
    if (idx === 0) idx = idxA2n(name);
    return idx;
  }

  /** @iproute2 ll_index_to_name(): cache, then RTM_GETLINK, then "if<N>" */
  indexToName(idx: number): string {
    if (idx === 0) return "*";
    const im = this.#byIndex.get(idx);
    if (im) return im.name;
    if (this.linkGet(null, idx) === idx) {
      const e = this.#byIndex.get(idx);
      if (e) return e.name;
    }
    return `if${idx}`;
  }

  /** @iproute2 ll_index_to_flags(): the cached flags, or ~0 when unknown */
  indexToFlags(idx: number): number {
    if (idx === 0) return 0;
    return this.#byIndex.get(idx)?.flags ?? 0xffffffff;
  }
}

/** ll_idx_a2n(): `sscanf(name, "if%u")`. */
function idxA2n(name: string): number {
  const m = /^if\s*\+?(\d+)/.exec(name);
  if (!m) return 0;
  const n = Number(m[1]);
  return n > 0xffffffff ? 0 : n;
}
