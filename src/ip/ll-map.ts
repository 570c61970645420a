// iproute2 6.1 lib/ll_map.c: the per-process ifindex ↔ name/flags cache.

import {
  isNegErrno,
  type Kernel,
  type LinkBrief,
  type LinkSnapshot,
  rtnlGetlinkBrief,
} from "../kernel/index.ts";
import { clonePlain } from "../sim/clone.ts";
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

/**
 * The ll_map cache of one `ip` process. Entries are created from dumps, RTM_GETLINK answers
 * and monitor messages (`remember`). A later message for a known ifindex updates the flags and
 * moves the entry into the new name's hash bucket but keeps the old stored name, so a lookup by
 * the new name misses and one by the old name hits only if both hash to the same bucket.
 * RTM_DELLINK (and `drop`) removes the entry.
 */
export class LlMap {
  readonly #k: Kernel;
  readonly #byIndex = new Map<number, LlEntry>();
  /** Buckets, most recently added first (list_add). */
  readonly #buckets = new Map<number, LlEntry[]>();

  constructor(k: Kernel) {
    this.#k = k;
  }

  /** Saves the cache (a deep copy). */
  save(): LlMapSnapshot {
    return clonePlain({ byIndex: this.#byIndex, buckets: this.#buckets });
  }

  /** Restores what `save` returned, in place (a fresh copy, so it can be loaded again). */
  load(s: LlMapSnapshot): void {
    const c = clonePlain(s) as {
      byIndex: Map<number, LlEntry>;
      buckets: Map<number, LlEntry[]>;
    };
    this.#byIndex.clear();
    for (const [i, e] of c.byIndex) this.#byIndex.set(i, e);
    this.#buckets.clear();
    for (const [b, list] of c.buckets) this.#buckets.set(b, list);
  }

  #bucketOf(name: string): number {
    return namehash(name) & (IDXMAP_SIZE - 1);
  }

  #unhash(e: LlEntry): void {
    const list = this.#buckets.get(e.bucket);
    if (!list) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
  }

  #hash(e: LlEntry, bucket: number): void {
    e.bucket = bucket;
    const list = this.#buckets.get(bucket) ?? [];
    list.unshift(e);
    this.#buckets.set(bucket, list);
  }

  /** @iproute2 ll_remember_index() */
  remember(msg: "RTM_NEWLINK" | "RTM_DELLINK", link: LinkSnapshot | LinkBrief): void {
    const im = this.#byIndex.get(link.ifindex);
    if (msg === "RTM_DELLINK") {
      if (im) this.drop(link.ifindex);
      return;
    }
    if (im) {
      if (im.name !== link.ifname) {
        this.#unhash(im);
        this.#hash(im, this.#bucketOf(link.ifname));
      }
      im.flags = link.flags;
      return;
    }
    const e: LlEntry = { index: link.ifindex, name: link.ifname, flags: link.flags, bucket: 0 };
    this.#byIndex.set(e.index, e);
    this.#hash(e, this.#bucketOf(link.ifname));
  }

  /** @iproute2 ll_drop_by_index() */
  drop(index: number): void {
    const im = this.#byIndex.get(index);
    if (!im) return;
    this.#unhash(im);
    this.#byIndex.delete(index);
  }

  #getByName(name: string): LlEntry | undefined {
    const list = this.#buckets.get(this.#bucketOf(name)) ?? [];
    return list.find((e) => e.name === name);
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
