// The digests of a scenario system's state, resource by resource: what each component of the
// model state (each device's fields, the name hash, the kernel's other state, udevd, networkd,
// the script) looks like after a step. Diffing two digests gives a step's footprint (what it
// changed); the state key is made from them (state-key.ts). Split from scenario-system.ts.

import type { KernelPartsSame, NetDevice } from "../kernel/index.ts";
import type { PreparedRun } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { clonePlain, sameData, sameKeys } from "../sim/clone.ts";
import { globMatch } from "../userspace/bringup.ts";
import { changedFields } from "./field-scan.ts";

/** component → resource → digest (`DigestMaker.resources`). */
export type Digests = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** A text made by `DigestMaker.#textOf`, with a copy of the value it was made from. */
export interface TextOf {
  readonly copy: unknown;
  readonly text: string;
}

/** A device's field digests, with the values they were made from (`fieldValue`). */
export interface DevDigest {
  readonly keys: readonly string[];
  /** Each field's resource (`dev:<ifindex>.<field>`), made once per device and key list. */
  readonly res: readonly string[];
  /** The field values themselves: a frozen object that is still the same one is unchanged. */
  readonly raws: readonly unknown[];
  readonly vals: readonly unknown[];
  /**
   * For a field holding an object that is not frozen, a copy of the value its text was made
   * from (`sameData`: still the same, so still the same text); undefined for the others.
   */
  readonly copies: readonly unknown[];
  /**
   * Each field's digest (its JSON text, "U" before it for an unlisted device). A new array
   * exactly when a digest changed: its identity tells whether the device's fields did.
   */
  readonly texts: readonly string[];
  /** The device's components: `dev:<cache key>/<j>`, one per `DEV_CHUNK` fields. */
  readonly comps: readonly string[];
  /** Their Maps (`res` → `texts`, chunk by chunk); a chunk whose digests stay keeps its Map. */
  readonly chunks: readonly ReadonlyMap<string, string>[];
}

/**
 * Fields per device component. A step changes a few fields of a device; its component's Map is
 * made again, diffed and hashed again, so a device is cut into several small components.
 */
const DEV_CHUNK = 8;

/** A chunk to make again (`DigestMaker.#devDigest`). */
const CHUNK_STALE: ReadonlyMap<string, string> = new Map();

/** Chunk `j`'s Map (resource → digest) of a device's field digests. */
function chunkMap(
  res: readonly string[],
  texts: readonly string[],
  j: number,
): Map<string, string> {
  const m = new Map<string, string>();
  const end = Math.min(res.length, (j + 1) * DEV_CHUNK);
  for (let i = j * DEV_CHUNK; i < end; i++) m.set(res[i] as string, texts[i] as string);
  return m;
}

/**
 * Texts made once and handed out again: a resource name or digest that is the same string
 * object as last time is looked up by the hash the engine keeps with it (a fresh string is
 * hashed again at every lookup), and costs no allocation.
 */
const INT_TEXT: string[] = [];
const CK: string[] = [];
const UCK: string[] = [];
const WORKER_RES: string[] = [];
const UDEVDB_RES: string[] = [];
const NETWORKD_RES: string[] = [];
const ELIGIBLE_RES: string[] = [];
const SUBSYS_RES = new Map<string, string>();

/** `${prefix}${i}` from `table` (for small non-negative integers; made fresh past 65 535). */
function indexed(table: string[], prefix: string, i: number): string {
  if (i < 0 || i > 0xffff || !Number.isInteger(i)) return `${prefix}${i}`;
  let t = table[i];
  if (t === undefined) {
    t = `${prefix}${i}`;
    table[i] = t;
  }
  return t;
}

/** `String(i)`, one string per small integer. */
function intText(i: number): string {
  return indexed(INT_TEXT, "", i);
}

/** The resource of a kernel subsystem's state (the failover module's is the MAC pairing). */
function subsysRes(s: string): string {
  let r = SUBSYS_RES.get(s);
  if (r === undefined) {
    r = s === "failover" ? "mac-pairing" : `subsys:${s}`;
    SUBSYS_RES.set(s, r);
  }
  return r;
}

/**
 * One component's resources, added in order; `finish` gives the component's Map: the last
 * state's (the same object) when it has exactly these entries, else a new one. Its arrays are
 * reused from one component to the next, so an unchanged component allocates nothing.
 */
/**
 * Pushes onto `changed` the resources of `next` whose digest is not `last`'s (in `next`'s
 * order), then those of `last` that `next` lacks (in `last`'s order).
 */
function diffInto(
  last: ReadonlyMap<string, string> | undefined,
  next: ReadonlyMap<string, string>,
  changed: string[],
): void {
  if (last === undefined) {
    for (const r of next.keys()) changed.push(r);
    return;
  }
  for (const [r, d] of next) if (last.get(r) !== d) changed.push(r);
  for (const r of last.keys()) if (!next.has(r)) changed.push(r);
}

class ComponentBuilder {
  readonly #res: string[] = [];
  readonly #digests: string[] = [];
  #n = 0;

  begin(): void {
    this.#n = 0;
  }

  /** Adds one resource (each resource once per component). */
  add(r: string, d: string): void {
    this.#res[this.#n] = r;
    this.#digests[this.#n] = d;
    this.#n++;
  }

  /**
   * The component's Map, pushing onto `changed` the resources whose digest is not `last`'s (in
   * the order added), then those of `last` that are gone (in its order).
   */
  finish(
    last: ReadonlyMap<string, string> | undefined,
    changed: string[],
  ): ReadonlyMap<string, string> {
    const n = this.#n;
    if (last !== undefined && last.size === n) {
      let same = true;
      for (let i = 0; i < n; i++)
        if (last.get(this.#res[i] as string) !== this.#digests[i]) {
          same = false;
          break;
        }
      if (same) return last;
    }
    const m = new Map<string, string>();
    for (let i = 0; i < n; i++) m.set(this.#res[i] as string, this.#digests[i] as string);
    diffInto(last, m, changed);
    return m;
  }
}

/** A copy of `v` to compare it with later (`DevDigest.copies`), or undefined when it needs none. */
function copyOf(v: unknown): unknown {
  return v !== null && typeof v === "object" && !Object.isFrozen(v) ? clonePlain(v) : undefined;
}

/** A field's value as compared between steps: a primitive itself, an object its JSON text. */
function fieldValue(v: unknown): unknown {
  return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
}

/** `changedFields`'s output, reused (one scan at a time). */
const CHANGED: number[] = [];

/**
 * Makes a scenario system's digests (`resources`), keeping what makes the next ones cheap: each
 * device's field digests with the values they were made from (`devCache`, saved and restored
 * with the system's snapshots) and the last text of each large piece of kernel state.
 */
export class DigestMaker {
  readonly #p: PreparedRun;
  readonly #sc: ScenarioDoc;
  /** Free timing: kernel work is keyed per kind, without due times. */
  readonly #free: boolean;
  /** Per device (`U` prefix: unlisted): its field digests and the values they were made from. */
  #devCache: ReadonlyMap<string, DevDigest> = new Map<string, DevDigest>();

  constructor(p: PreparedRun, sc: ScenarioDoc, free: boolean) {
    this.#p = p;
    this.#sc = sc;
    this.#free = free;
  }

  /** The devices' field digests the last digests were made from (a snapshot keeps them). */
  get devCache(): ReadonlyMap<string, DevDigest> {
    return this.#devCache;
  }

  set devCache(c: ReadonlyMap<string, DevDigest>) {
    this.#devCache = c;
  }

  /**
   * The JSON text of `v`, the state under `key` (a kernel subsystem's, QEMU's pairing): the last
   * text made for `key` while `v` is still equal to the copy kept with it (`sameData`), which
   * costs a fraction of writing the text again (the PCI bus's state is about 1 KB of text).
   */
  #textOf(key: string, v: unknown): string {
    const hit = this.#texts.get(key);
    if (hit !== undefined && sameData(v, hit.copy)) return hit.text;
    const text = JSON.stringify(v);
    // A new Map: a snapshot keeps the last one (`texts`).
    this.#texts = new Map(this.#texts).set(key, { copy: clonePlain(v), text });
    return text;
  }

  /**
   * `#textOf`'s last text per key, with a copy of the value it was made from. An entry is the
   * same object for as long as its value compares equal to that copy: two states whose entries
   * are the same object have equal values there (`sameAs`). Replaced, never changed, so a
   * snapshot keeps it.
   */
  #texts: ReadonlyMap<string, TextOf> = new Map<string, TextOf>();

  /** The texts the last digests were made from (a snapshot keeps them, `sameAs`). */
  get texts(): ReadonlyMap<string, TextOf> {
    return this.#texts;
  }

  set texts(t: ReadonlyMap<string, TextOf>) {
    this.#texts = t;
  }

  /**
   * The kernel's parts that are equal in the current state and in `s` (a state whose digests
   * this maker made: its device cache and texts), for `saveKernel` and `loadKernel`: a device
   * whose field digests are the same (`deviceFields`'s token: no field changed in between), a
   * subsystem whose text entry is the same object (its state compared equal to the same copy).
   */
  sameAs(s: {
    readonly devCache: ReadonlyMap<string, DevDigest>;
    readonly texts: ReadonlyMap<string, TextOf>;
  }): KernelPartsSame {
    const devNow = this.#devCache;
    const textsNow = this.#texts;
    return {
      device: (ifindex, unlisted) => {
        const c = this.#ck(ifindex, unlisted);
        const a = s.devCache.get(c);
        return a !== undefined && devNow.get(c)?.texts === a.texts;
      },
      subsys: (name) => {
        const r = subsysRes(name);
        const a = s.texts.get(r);
        return a !== undefined && textsNow.get(r) === a;
      },
    };
  }

  /**
   * component → resource → digest of its state. Components (each device, the name hash, the
   * kernel's other state, udevd, networkd, the rest) whose digests did not change keep the Map
   * of `prev` (the same object), so diffs and fingerprints skip them.
   */
  resources(prev: Digests): Digests {
    const p = this.#p;
    const k = p.k;
    const out = new Map<string, ReadonlyMap<string, string>>();
    const changed: string[] = [];
    this.#changed = changed;
    const b = this.#builder;
    // One resource per device field: a rename and a carrier change of one device commute.
    // A device whose fields all compare equal to the last ones seen keeps its field digests (the
    // same Maps): primitives compare as they are, objects by their JSON text.
    const oldCache = this.#devCache;
    const cks = this.#cks;
    const digs = this.#digs;
    let nDev = 0;
    let found = 0;
    let same = true;
    this.#reshaped = false;
    const addDev = (d: NetDevice, unlisted: boolean): void => {
      const ck = this.#ck(d.ifindex, unlisted);
      const o = oldCache.get(ck);
      if (o !== undefined) found++;
      const c = this.#devDigest(d, ck, unlisted, o, changed);
      if (c !== o) same = false;
      cks[nDev] = ck;
      digs[nDev] = c;
      nDev++;
      for (let j = 0; j < c.comps.length; j++)
        out.set(c.comps[j] as string, c.chunks[j] as ReadonlyMap<string, string>);
    };
    for (const d of k.state.devices.values()) addDev(d, false);
    for (const d of k.state.unlisted.values()) addDev(d, true);
    // The cache is only looked up by key: the last one stays while every device keeps its digest.
    if (!same || nDev !== oldCache.size) {
      const m = new Map<string, DevDigest>();
      for (let i = 0; i < nDev; i++) m.set(cks[i] as string, digs[i] as DevDigest);
      this.#devCache = m;
    }
    b.begin();
    for (const [n, i] of k.state.names) b.add(this.#nameRes(n), intText(i));
    out.set("names", b.finish(prev.get("names"), changed));
    b.begin();
    if (this.#free) {
      // One resource per kind of work: its items' contexts in the order they will run.
      const kinds = new Map<string, { due: number; seq: number; arg: string | null }[]>();
      for (const x of k.state.work) {
        const l = kinds.get(x.name) ?? [];
        l.push({ due: x.due, seq: x.seq, arg: x.arg ?? null });
        kinds.set(x.name, l);
      }
      for (const [name, l] of kinds)
        b.add(
          `kwork:${name}`,
          JSON.stringify(l.sort((a, c) => a.due - c.due || a.seq - c.seq).map((x) => x.arg)),
        );
      const lw = k.state.linkwatch;
      b.add("linkwatch", JSON.stringify({ list: lw.list, urgent: lw.urgent }));
    } else {
      b.add("kwork", JSON.stringify(k.state.work));
      b.add("linkwatch", JSON.stringify(k.state.linkwatch));
    }
    b.add("ifindex", intText(k.state.lastIfindex));
    const subsys = k.state.subsys as unknown as Record<string, unknown>;
    for (const s of Object.keys(subsys)) b.add(subsysRes(s), this.#textOf(subsysRes(s), subsys[s]));
    b.add("qemu:pairing", this.#textOf("qemu:pairing", p.machine.state));
    out.set("kernel", b.finish(prev.get("kernel"), changed));
    if (p.udev) {
      b.begin();
      const v = p.udev.explorerView();
      b.add("udev:queue", JSON.stringify(v.queue));
      for (let i = 0; i < v.workers.length; i++)
        b.add(indexed(WORKER_RES, "udev:w", i), JSON.stringify(v.workers[i]));
      for (const e of v.db) b.add(indexed(UDEVDB_RES, "udevdb:", e.ifindex), JSON.stringify(e));
      out.set("udev", b.finish(prev.get("udev"), changed));
    }
    if (p.bringup) {
      b.begin();
      const bv = p.bringup.explorerView();
      const cfg = this.#sc.bringup !== "none" ? this.#sc.bringup : undefined;
      for (const i of bv.seen) {
        const done = bv.done.includes(i);
        b.add(indexed(NETWORKD_RES, "networkd:", i), done ? "done" : "seen");
        if (done || !cfg) continue;
        const d = k.state.devices.get(i);
        const eligible =
          d !== undefined &&
          cfg.links.some((g) => globMatch(g, d.name)) &&
          (!cfg.wait_for_udev || !p.udev || p.udev.isReady(i));
        // What it would do to an eligible link depends on whether it is up already.
        b.add(
          indexed(ELIGIBLE_RES, "networkd-eligible:", i),
          eligible ? ((d?.flags ?? 0) & 1 ? "yes/1" : "yes/0") : "no",
        );
      }
      out.set("networkd", b.finish(prev.get("networkd"), changed));
    }
    b.begin();
    b.add(
      "script",
      `${p.script.stepIndex}/${p.script.waitingForSettle}/${p.script.readyAt() === null}`,
    );
    b.add("qemu:job", p.qemu.readyAt() === null ? "true" : "false");
    if (p.probe) b.add("cloud-init", p.probe.readyAt() === null ? "true" : "false");
    out.set("misc", b.finish(prev.get("misc"), changed));
    if (found < oldCache.size || this.#reshaped) {
      // A device is gone, or changed its fields: its components that are gone, then drop the
      // resources named twice (the first stays: the order is the one a diff of every component
      // of `prev` and `out`, in their order, gives).
      for (const [c, m] of prev) if (!out.has(c)) for (const r of m.keys()) changed.push(r);
      const uniq = [...new Set(changed)];
      changed.length = 0;
      for (const r of uniq) changed.push(r);
    }
    return out;
  }

  /**
   * The resources whose digest changed in the last `resources` (what a diff of its `prev` and
   * its result gives: by component in the result's order, each component's in its order, then
   * the components of `prev` that are gone).
   */
  get changed(): readonly string[] {
    return this.#changed;
  }

  #changed: string[] = [];
  /** A device's key list changed in the last `resources`. */
  #reshaped = false;

  /** `resources`' builder of one component at a time. */
  readonly #builder = new ComponentBuilder();

  /** `resources`' devices of this state, in order: their cache keys and digests (reused). */
  readonly #cks: string[] = [];
  readonly #digs: DevDigest[] = [];

  /** A device's cache key (`U` before an unlisted device's ifindex), one string per device. */
  #ck(ifindex: number, unlisted: boolean): string {
    return indexed(unlisted ? UCK : CK, unlisted ? "U" : "", ifindex);
  }

  /** A name's resource (`name:` and the name), one string per name while the cache holds it. */
  #nameRes(n: string): string {
    let r = this.#nameResOf.get(n);
    if (r === undefined) {
      if (this.#nameResOf.size >= 100_000) this.#nameResOf.clear();
      r = `name:${n}`;
      this.#nameResOf.set(n, r);
    }
    return r;
  }

  readonly #nameResOf = new Map<string, string>();

  /**
   * A device's field digests: `old`'s, or what changed since, with the values they were made
   * from; the resources whose digest changed are pushed onto `changed`, in field order. A field
   * holding the same primitive, or the same frozen object (a shared constant: it cannot have
   * changed inside), is unchanged without building its text; an object still equal to the copy
   * its text was made from has that text.
   */
  #devDigest(
    d: NetDevice,
    ck: string,
    unlisted: boolean,
    old: DevDigest | undefined,
    changed: string[],
  ): DevDigest {
    const tag = unlisted ? "U" : "";
    const rec = d as unknown as Record<string, unknown>;
    const keys = Object.keys(rec);
    if (old === undefined || !sameKeys(old.keys, keys)) {
      const res: string[] = [];
      const texts: string[] = [];
      const vals: unknown[] = [];
      const raws: unknown[] = [];
      const copies: unknown[] = [];
      for (const f of keys) {
        const v = rec[f];
        raws.push(v);
        vals.push(fieldValue(v));
        copies.push(copyOf(v));
        res.push(`dev:${d.ifindex}.${f}`);
        texts.push(`${tag}${JSON.stringify(v)}`);
      }
      const comps: string[] = [];
      const chunks: Map<string, string>[] = [];
      for (let j = 0; j * DEV_CHUNK < keys.length; j++) {
        comps.push(`dev:${ck}/${j}`);
        chunks.push(chunkMap(res, texts, j));
      }
      if (old === undefined) for (const r of res) changed.push(r);
      else {
        this.#reshaped = true;
        const before = new Map<string, string>();
        old.res.forEach((r, i) => {
          before.set(r, old.texts[i] as string);
        });
        const after = new Map<string, string>();
        res.forEach((r, i) => {
          after.set(r, texts[i] as string);
        });
        diffInto(before, after, changed);
      }
      return { keys, res, raws, vals, copies, texts, comps, chunks };
    }
    let texts: string[] | null = null;
    let vals: unknown[] | null = null;
    let raws: unknown[] | null = null;
    let copies: unknown[] | null = null;
    let chunks: ReadonlyMap<string, string>[] | null = null;
    const n = changedFields(old.keys, rec, old.raws, CHANGED);
    for (let j = 0; j < n; j++) {
      const i = CHANGED[j] as number;
      const v = rec[keys[i] as string];
      const same = old.copies[i] !== undefined && sameData(v, old.copies[i]);
      const t = same ? old.vals[i] : fieldValue(v);
      if (same || Object.is(t, old.vals[i])) {
        // The same object as before (a field holding an object that is not frozen, such as a
        // driver's private data, is scanned at every step): nothing to note.
        if (v === (raws ?? old.raws)[i]) continue;
        if (raws === null) raws = old.raws.slice();
        raws[i] = v;
        continue;
      }
      // Another value: a new `texts` array (the device changed), even when the text is the
      // same (NaN and null, 0 and -0 both write one text): a restore copies the device then.
      if (texts === null || vals === null || copies === null) {
        texts = old.texts.slice();
        vals = old.vals.slice();
        copies = old.copies.slice();
      }
      if (raws === null) raws = old.raws.slice();
      raws[i] = v;
      vals[i] = t;
      copies[i] = copyOf(v);
      const text = `${tag}${JSON.stringify(v)}`;
      if (text === texts[i]) continue;
      texts[i] = text;
      changed.push(old.res[i] as string);
      if (chunks === null) chunks = old.chunks.slice();
      chunks[Math.floor(i / DEV_CHUNK)] = CHUNK_STALE;
    }
    if (texts === null || vals === null || copies === null)
      return raws === null ? old : { ...old, raws };
    if (chunks !== null)
      for (let j = 0; j < chunks.length; j++)
        if (chunks[j] === CHUNK_STALE) chunks[j] = chunkMap(old.res, texts, j);
    return {
      keys: old.keys,
      res: old.res,
      raws: raws ?? old.raws,
      vals,
      copies,
      texts,
      comps: old.comps,
      chunks: chunks ?? old.chunks,
    };
  }

  /**
   * A token of a device's field digests in the current state (its `texts` array), or undefined
   * for a device the digests do not know: the same object comes back for as long as none of
   * the device's fields changes, so a cache keyed by it can hold anything made from the
   * device's fields (the projection's device text, pair.ts).
   */
  deviceFields(d: NetDevice, unlisted: boolean): object | undefined {
    return this.#devCache.get(this.#ck(d.ifindex, unlisted))?.texts;
  }
}
