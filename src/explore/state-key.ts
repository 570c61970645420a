// The state key of a scenario system, made from its digests (digests.ts): a text (`key`) or a
// 64-bit fingerprint (`fingerprint`) of the state view, canonicalised under permutations of
// identical failover pairs (each pair's devices, names, PCI addresses and MAC become tokens) and
// of udev's workers when asked. Split from scenario-system.ts.

import type { NetDevice } from "../kernel/index.ts";
import type { PreparedRun } from "../scenario/run.ts";
import type { Digests } from "./digests.ts";
import {
  addInto,
  compareHash,
  fingerprintKey,
  type Hash64,
  HashCache,
  mixInto,
} from "./fingerprint.ts";
import { type StateView, timerKey } from "./state-view.ts";
import type { StateKey } from "./system.ts";

const RES = /^(dev|udevdb|networkd):(\d+)(?:\.(.*))?$/;

/**
 * A resource as a canonical item: its only pair (its text then says `§S§` for it) or -1, the
 * text, the text's hash, and whether the text still names pairs (`§n§`: relabelled per state).
 */
type CanonItem = readonly [number, string, Hash64, boolean];

/**
 * udev worker i's lane (`udev/w<i>`), one string per worker: the search looks lanes up in its
 * tables, and a string made once keeps the hash the engine computed for it.
 */
const WORKER_LANES: string[] = [];
export function workerLane(i: number): string {
  let l = WORKER_LANES[i];
  if (l === undefined) {
    l = `udev/w${i}`;
    WORKER_LANES[i] = l;
  }
  return l;
}

/**
 * A component's fingerprint contributions, kept on its Map as properties under these symbols.
 * A component Map is never changed once made (digests.ts makes a new one when an entry
 * differs), so what was computed from it holds for as long as it lives: its hash without
 * symmetry depends on its entries only, and its contribution under symmetry carries the token
 * tables it was made with (checked before use; tables belong to one system). Per-system
 * WeakMaps did the same, but their inserts and the collector's work on them cost about a tenth
 * of a search (docs/performance.md, session 31).
 */
const COMP_HASH = Symbol("compHash");
const COMP_SYM = Symbol("compSym");
type Cached = ReadonlyMap<string, string> & { [COMP_HASH]?: Hash64; [COMP_SYM]?: CompSym };

/** Resources the key leaves to its own, relative forms (timers, workers). */
const NOT_KEYED = (r: string): boolean =>
  r === "kwork" || r === "linkwatch" || r.startsWith("udev:w") || r.startsWith("kwork:");

/** A component's fingerprint contribution under symmetry, for one set of token tables. */
interface CompSym {
  readonly tables: SymTables;
  /** The pairs its items belong to, and the sum of each one's item hashes (same positions). */
  readonly owners: readonly number[];
  readonly local: readonly Hash64[];
  readonly global: Hash64;
  readonly named: readonly string[];
}

/** The token tables of a symmetric key. */
interface SymTables {
  readonly sig: string;
  readonly idxTok: (i: number) => string | number;
  readonly canon: (v: unknown, key: string) => unknown;
  readonly subst: (s: string) => string;
}

interface PairInfo {
  /** The pair's PCI addresses, virtio index, spec ids and MAC. */
  readonly addrs: string[];
  readonly ids: string[];
  readonly mac: string;
  /** Symmetry group: pairs with the same configuration. */
  readonly group: string;
}

/**
 * The keys of one scenario system's states. It keeps the failover pairs it found in the
 * scenario, the tokens of the names seen on their devices (`noteNames`) and the hash caches that
 * make a key cost a fraction of hashing the whole state.
 */
export class StateKeys {
  readonly #p: PreparedRun;
  readonly #view: StateView;
  /** Free timing: bring-up's lanes are per link (`networkd/<ifindex>`), relabelled with pairs. */
  readonly #free: boolean;
  /** Per resource: the last digest canonicalised and its item (digests are shared strings). */
  #lastItem = new Map<string, [string, CanonItem]>();
  /** Hashes of strings (digests, canonical texts) for fingerprints. */
  readonly #hashes = new HashCache();
  /** Per resource: the last digest fingerprinted and its item hash (no symmetry). */
  #lastHash = new Map<string, [string, Hash64]>();
  /** Canonical texts of raw JSON (workers, work, linkwatch) under the current token tables. */
  #canonText = new Map<string, string>();
  /**
   * Slot permutation → canonical text → hash of the relabelled text (two levels: a text is
   * often the same string as before, whose hash the engine keeps, while a joined key would be
   * a new string to hash every time).
   */
  #relabelled = new Map<string, Map<string, Hash64>>();
  #relabelledSize = 0;
  readonly #pairs: PairInfo[];
  /** PCI address → pair index. */
  readonly #pairOfAddr = new Map<string, number>();
  /**
   * Every name seen on a device of a failover pair → its token (`§pair§driver:shape`, shape =
   * the name with its digits as #; a second name of the same shape on that device gets `~n`).
   */
  readonly #nameTok = new Map<string, string>();
  readonly #tokNames = new Set<string>();

  constructor(p: PreparedRun, view: StateView, free: boolean) {
    this.#p = p;
    this.#view = view;
    this.#free = free;
    this.#pairs = this.#findPairs();
  }

  /** Gives every name now on a device of a failover pair a token (once per name). */
  noteNames(): void {
    for (const d of this.#p.k.state.devices.values()) {
      if (this.#nameTok.has(d.name)) continue;
      const pi = this.#pairOfDevice(d);
      if (pi === null) continue;
      const base = `§${pi}§${d.driver}:${d.name.replace(/\d+/g, "#")}`;
      let tok = base;
      for (let n = 1; this.#tokNames.has(tok); n++) tok = `${base}~${n}`;
      this.#tokNames.add(tok);
      this.#nameTok.set(d.name, tok);
    }
  }

  key(symmetric: boolean, digests: Digests, violation: string | null): StateKey {
    const { work, linkwatch, times, workers } = timerKey(
      this.#p,
      this.#view,
      this.#workerTexts(digests),
    );
    const parts: [string, unknown][] = [];
    for (const m of digests.values())
      for (const [r, d] of m) {
        if (NOT_KEYED(r)) continue;
        parts.push([r, d]);
      }
    if (!symmetric) {
      const s = JSON.stringify([
        [...parts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
        work,
        linkwatch,
        workers,
        violation,
        times,
      ]);
      return { key: s, lane: (l) => l };
    }
    return this.#symmetricKey(parts, work, linkwatch, workers, times, violation);
  }

  /**
   * The state's 64-bit fingerprint: the same state view as `key` (equal keys ⇒ equal
   * fingerprints), hashed item by item with cached per-item hashes and combined order-free, so
   * no text of the whole state is built. Under symmetry the pairs are ordered by the hash of
   * their own items instead of their text (any fixed order of the pairs gives a sound key).
   */
  fingerprint(symmetric: boolean, digests: Digests, violation: string | null): StateKey {
    const { work, linkwatch, times, workers } = timerKey(
      this.#p,
      this.#view,
      this.#workerTexts(digests),
    );
    const out: [number, number] = [0x2545f491, 0x6a09e667];
    if (!symmetric) {
      const acc: [number, number] = [0, 0];
      for (const m of digests.values()) {
        let h = (m as Cached)[COMP_HASH];
        if (h === undefined) {
          const c: [number, number] = [0, 0];
          for (const [r, d] of m) if (!NOT_KEYED(r)) addInto(c, this.#itemHash(r, d));
          h = c;
          (m as Cached)[COMP_HASH] = h;
        }
        addInto(acc, h);
      }
      mixInto(out, acc);
      mixInto(out, this.#hashes.get(JSON.stringify(work)));
      mixInto(out, this.#hashes.get(JSON.stringify(linkwatch)));
      for (const w of workers) mixInto(out, this.#hashes.get(w));
      mixInto(out, this.#hashes.get(violation ?? ""));
      if (times !== null) mixInto(out, this.#hashes.get(JSON.stringify(times)));
      return { key: fingerprintKey(out), lane: (l) => l };
    }
    const tables = this.#symTables();
    const { canon } = tables;
    const local = this.#pairs.map((): [number, number] => [0, 0]);
    const global: [number, number] = [0, 0];
    const named: string[] = [];
    for (const m of digests.values()) {
      let cs = (m as Cached)[COMP_SYM];
      if (cs === undefined || cs.tables !== tables) {
        const owners: number[] = [];
        const loc: [number, number][] = [];
        const glob: [number, number] = [0, 0];
        const nm: string[] = [];
        for (const [r, d] of m) {
          if (NOT_KEYED(r)) continue;
          const [owner, text, h, tok] = this.#canonItem(r, d);
          if (owner >= 0) {
            let j = owners.indexOf(owner);
            if (j < 0) {
              j = owners.length;
              owners.push(owner);
              loc.push([0, 0]);
            }
            addInto(loc[j] as [number, number], h);
          } else if (tok) nm.push(text);
          else addInto(glob, h);
        }
        cs = { tables, owners, local: loc, global: glob, named: nm };
        (m as Cached)[COMP_SYM] = cs;
      }
      for (let j = 0; j < cs.owners.length; j++)
        addInto(local[cs.owners[j] as number] as [number, number], cs.local[j] as Hash64);
      addInto(global, cs.global);
      for (const t of cs.named) named.push(t);
    }
    // Within each symmetry group, canonical slots go to the pairs in local-hash order (no order
    // to find where every group has one pair: each pair keeps its own slot).
    const groups = this.#groups();
    const trivial = groups.length === this.#pairs.length;
    const slot = new Map<number, number>();
    if (!trivial)
      for (const members of groups) {
        const sorted = [...members].sort(
          (a, b) => compareHash(local[a] as Hash64, local[b] as Hash64) || a - b,
        );
        members.forEach((orig, j) => {
          slot.set(sorted[j] as number, orig);
        });
      }
    else for (let i = 0; i < this.#pairs.length; i++) slot.set(i, i);
    const perm = trivial ? "" : this.#pairs.map((_, i) => slot.get(i) ?? i).join(",");
    let byText = this.#relabelled.get(perm);
    if (byText === undefined) {
      byText = new Map();
      this.#relabelled.set(perm, byText);
    }
    const relabel = (text: string): Hash64 => {
      // Under the identity every text is its own relabelling.
      if (trivial) return this.#hashes.get(text);
      let h = (byText as Map<string, Hash64>).get(text);
      if (h === undefined) {
        h = this.#hashes.get(text.replace(/§(\d+)§/g, (_, n) => `§${slot.get(Number(n))}§`));
        if (++this.#relabelledSize > 500_000) {
          this.#relabelled = new Map([[perm, new Map()]]);
          this.#relabelledSize = 1;
          byText = this.#relabelled.get(perm) as Map<string, Hash64>;
        }
        (byText as Map<string, Hash64>).set(text, h);
      }
      return h;
    };
    const canonText = (raw: string): string => {
      let t = this.#canonText.get(raw);
      if (t === undefined) {
        t = JSON.stringify(canon(JSON.parse(raw), ""));
        if (this.#canonText.size > 500_000) this.#canonText.clear();
        this.#canonText.set(raw, t);
      }
      return t;
    };
    const bySlot: Hash64[] = [];
    for (const [i, label] of slot) bySlot[label] = local[i] as Hash64;
    for (let i = 0; i < this.#pairs.length; i++) mixInto(out, bySlot[i] ?? (local[i] as Hash64));
    for (const t of named) addInto(global, relabel(t));
    mixInto(out, global);
    mixInto(out, relabel(canonText(JSON.stringify(work))));
    mixInto(out, relabel(canonText(JSON.stringify(linkwatch))));
    const wh = workers.map((w) => relabel(canonText(w)));
    const order = wh
      .map((_, i) => i)
      .sort((a, b) => compareHash(wh[a] as Hash64, wh[b] as Hash64) || a - b);
    for (const i of order) mixInto(out, wh[i] as Hash64);
    mixInto(out, this.#hashes.get(violation ?? ""));
    if (times !== null) mixInto(out, relabel(canonText(JSON.stringify(times))));
    const laneMap = new Map<string, string>();
    order.forEach((orig, pos) => {
      laneMap.set(workerLane(orig), workerLane(pos));
    });
    this.#networkdLanes(laneMap, (t) =>
      t.replace(/§(\d+)§/g, (_, n) => `§${slot.get(Number(n))}§`),
    );
    const pairs = this.#pairs;
    return {
      key: fingerprintKey(out),
      lane: (l) => laneMap.get(l) ?? l,
      pairSlot: (mac) => {
        const i = pairs.findIndex((p) => p.mac === mac);
        return i < 0 ? undefined : (slot.get(i) ?? i);
      },
    };
  }

  /**
   * The udev workers' texts of the current state's digests (`udev:w<i>`, in order: each the
   * JSON of the worker's job in udevd's `explorerView()`), for `timerKey`.
   */
  #workerTexts(digests: Digests): string[] | undefined {
    if (!this.#p.udev) return undefined;
    const out: string[] = [];
    for (const [r, d] of digests.get("udev") ?? []) if (r.startsWith("udev:w")) out.push(d);
    return out;
  }

  /** A resource's item hash without symmetry (cached per resource while its digest stays). */
  #itemHash(r: string, d: string): Hash64 {
    const last = this.#lastHash.get(r);
    if (last !== undefined && last[0] === d) return last[1];
    const h: [number, number] = [...this.#hashes.get(r)];
    mixInto(h, this.#hashes.get(d));
    this.#lastHash.set(r, [d, h]);
    return h;
  }

  /** The pairs of each symmetry group (pair indices), groups in first-member order. */
  #groupList: number[][] | null = null;
  #groups(): number[][] {
    if (this.#groupList) return this.#groupList;
    const byGroup = new Map<string, number[]>();
    this.#pairs.forEach((pi, i) => {
      const g = byGroup.get(pi.group) ?? [];
      g.push(i);
      byGroup.set(pi.group, g);
    });
    this.#groupList = [...byGroup.values()];
    return this.#groupList;
  }

  /** The failover pairs (virtio-net standby + its paired pci-nic) and their symmetry groups. */
  #findPairs(): PairInfo[] {
    const spec = this.#p.spec;
    const out: PairInfo[] = [];
    for (const d of spec.devices) {
      if (d.model !== "virtio-net" || !("standby" in d && d.standby)) continue;
      const prim = spec.devices.filter((x) => "failoverPairId" in x && x.failoverPairId === d.id);
      const strip = (x: object): string => {
        const {
          addr: _a,
          id: _i,
          mac: _m,
          failoverPairId: _f,
          ...rest
        } = x as Record<string, unknown>;
        return JSON.stringify(rest);
      };
      out.push({
        addrs: [d.addr, ...prim.map((x) => x.addr)],
        ids: [d.id ?? "", ...prim.map((x) => x.id ?? "")],
        mac: d.mac ?? "",
        group: `${strip(d)}+${prim.map(strip).join("+")}`,
      });
    }
    out.forEach((pi, i) => {
      for (const a of pi.addrs) this.#pairOfAddr.set(a, i);
    });
    return out;
  }

  #pairOfDevice(d: NetDevice): number | null {
    const path = d.parent?.devpath ?? "";
    for (const [a, i] of this.#pairOfAddr) if (path.includes(a)) return i;
    return null;
  }

  /** Token tables of the symmetric key, rebuilt when devices or name tokens change. */
  #tables: SymTables | null = null;
  /** (resource, digest) → [pair or -1, canonical item]: items of one pair use `§S§`. */
  #itemCache = new Map<string, CanonItem>();

  #symTables(): SymTables {
    const k = this.#p.k;
    const sig = `${k.state.lastIfindex}/${k.state.devices.size}/${k.state.unlisted.size}/${this.#nameTok.size}`;
    if (this.#tables?.sig === sig) return this.#tables;
    this.#itemCache = new Map();
    this.#lastItem = new Map();
    this.#canonText = new Map();
    this.#relabelled = new Map();
    this.#relabelledSize = 0;
    // Which pair (and role) every device belongs to.
    const devPair = new Map<number, { pair: number; role: string }>();
    const strTok = new Map<string, string>();
    const virtioIdx = new Map<number, string>();
    for (const d of [...k.state.devices.values(), ...k.state.unlisted.values()]) {
      const pi = this.#pairOfDevice(d);
      if (pi === null) continue;
      devPair.set(d.ifindex, { pair: pi, role: d.driver });
      const vid = /^virtio(\d+)$/.exec(d.parent?.id ?? "");
      if (vid) {
        strTok.set(vid[0], `§${pi}§virtio`);
        virtioIdx.set(Number(vid[1]), `§${pi}§vidx`);
      }
    }
    // Tokens for every identifier of a pair, with the pair index as a placeholder `§n§`.
    this.#pairs.forEach((pi, i) => {
      pi.addrs.forEach((a, j) => {
        strTok.set(a, `§${i}§a${j}`);
      });
      pi.ids.forEach((a, j) => {
        strTok.set(a, `§${i}§id${j}`);
      });
      strTok.set(pi.mac, `§${i}§mac`);
    });
    for (const [name, tok] of this.#nameTok) strTok.set(name, tok);
    const idxTok = (i: number): string | number => {
      const dp = devPair.get(i);
      return dp ? `§${dp.pair}§${dp.role}` : i;
    };
    // Paths embed PCI addresses and virtio ids as whole components.
    const PATH = /(?<=\/|^)(\d{4}:\d{2}:\d{2}\.\d|virtio\d+)(?=\/|$)/g;
    const subst = (s: string): string => {
      const t = strTok.get(s);
      if (t !== undefined) return t;
      if (!s.includes("/")) return s;
      return s.replace(PATH, (m) => strTok.get(m) ?? m);
    };
    const IFX = new Set(["ifindex", "master", "primary", "standby", "rxHandlerData", "link"]);
    const canon = (v: unknown, key: string): unknown => {
      if (typeof v === "number") {
        if (IFX.has(key)) return idxTok(v);
        if (key === "index") return virtioIdx.get(v) ?? v;
        return v;
      }
      if (typeof v === "string") return subst(v);
      if (Array.isArray(v)) return v.map((x) => canon(x, key));
      if (v && typeof v === "object") {
        const o: Record<string, unknown> = {};
        for (const [kk, vv] of Object.entries(v)) {
          const ck = key === "idev" && /^\d+$/.test(kk) ? String(idxTok(Number(kk))) : subst(kk);
          o[ck] = canon(vv, kk);
        }
        return o;
      }
      return v;
    };
    this.#tables = { sig, idxTok, canon, subst };
    return this.#tables;
  }

  /** One resource as a canonical item: [its only pair (then `§S§` for it), or -1; text]. */
  #canonItem(r: string, raw: string): CanonItem {
    const last = this.#lastItem.get(r);
    if (last !== undefined && last[0] === raw) return last[1];
    const ck = `${r}\u0000${raw}`;
    const hit = this.#itemCache.get(ck);
    if (hit) {
      this.#lastItem.set(r, [raw, hit]);
      return hit;
    }
    const { idxTok, canon, subst } = this.#symTables();
    const m = RES.exec(r);
    let res = r;
    if (m) res = `${m[1]}:${idxTok(Number(m[2]))}${m[3] !== undefined ? `.${m[3]}` : ""}`;
    else if (r.startsWith("name:")) res = `name:${subst(r.slice(5))}`;
    let v: unknown;
    let tag = "";
    if (r.startsWith("name:")) v = idxTok(Number(raw));
    else if (m && m[1] === "dev") {
      tag = raw.startsWith("U") ? "U" : "";
      v = canon(JSON.parse(tag ? raw.slice(1) : raw), m[3] ?? "");
    } else {
      try {
        v = canon(JSON.parse(raw), "");
      } catch {
        v = canon(raw, "");
      }
    }
    let text = `${res}=${tag}${JSON.stringify(v)}`;
    const pairs = new Set<number>();
    for (const x of text.matchAll(/§(\d+)§/g)) pairs.add(Number(x[1]));
    let owner = -1;
    if (pairs.size === 1) {
      owner = [...pairs][0] as number;
      text = text.split(`§${owner}§`).join("§S§");
    }
    const out: CanonItem = [owner, text, this.#hashes.get(text), text.includes("§")];
    if (this.#itemCache.size > 500_000) this.#itemCache.clear();
    this.#itemCache.set(ck, out);
    this.#lastItem.set(r, [raw, out]);
    return out;
  }

  #symmetricKey(
    parts: [string, unknown][],
    work: unknown[],
    linkwatch: unknown,
    workers: string[],
    times: unknown,
    violation: string | null,
  ): StateKey {
    const { canon } = this.#symTables();
    // Items of one pair form its local signature; the rest are global.
    const local = this.#pairs.map(() => [] as string[]);
    const global: string[] = [];
    for (const [r, d] of parts) {
      const [owner, text] = this.#canonItem(r, String(d));
      if (owner >= 0) (local[owner] as string[]).push(text);
      else global.push(text);
    }
    const sigs = local.map((ls) => ls.sort().join("\n"));
    // Within each symmetry group, canonical slots go to the pairs in signature order.
    const slot = new Map<number, number>();
    const byGroup = new Map<string, number[]>();
    this.#pairs.forEach((pi, i) => {
      const g = byGroup.get(pi.group) ?? [];
      g.push(i);
      byGroup.set(pi.group, g);
    });
    for (const members of byGroup.values()) {
      const sorted = [...members].sort((a, b) => {
        const la = sigs[a] as string;
        const lb = sigs[b] as string;
        return la < lb ? -1 : la > lb ? 1 : a - b;
      });
      members.forEach((orig, j) => {
        slot.set(sorted[j] as number, orig);
      });
    }
    const relabel = (s: string): string =>
      s.includes("§") ? s.replace(/§(\d+)§/g, (_, n) => `§${slot.get(Number(n))}§`) : s;
    const pairPart = this.#pairs.map((_, i) => sigs[[...slot].find(([, o]) => o === i)?.[0] ?? i]);
    const workerKeys = workers.map((w) => relabel(JSON.stringify(canon(JSON.parse(w), ""))));
    const workerOrder = workerKeys
      .map((_, i) => i)
      .sort((a, b) => {
        const wa = workerKeys[a] as string;
        const wb = workerKeys[b] as string;
        return wa < wb ? -1 : wa > wb ? 1 : a - b;
      });
    const key = JSON.stringify([
      pairPart,
      global.map(relabel).sort(),
      relabel(JSON.stringify(canon(work, ""))),
      relabel(JSON.stringify(canon(linkwatch, ""))),
      workerOrder.map((i) => workerKeys[i]),
      violation,
      times === null ? null : relabel(JSON.stringify(canon(times, ""))),
    ]);
    const laneMap = new Map<string, string>();
    workerOrder.forEach((orig, pos) => {
      laneMap.set(`udev/w${orig}`, `udev/w${pos}`);
    });
    this.#networkdLanes(laneMap, relabel);
    return { key, lane: (l) => laneMap.get(l) ?? l };
  }

  /** Free timing's bring-up lanes of this state under a symmetry's relabelling of pairs. */
  #networkdLanes(laneMap: Map<string, string>, relabel: (s: string) => string): void {
    if (!this.#free || !this.#p.bringup) return;
    const { idxTok } = this.#symTables();
    for (const x of this.#p.bringup.pendingLinks())
      laneMap.set(`networkd/${x.ifindex}`, `networkd/${relabel(String(idxTok(x.ifindex)))}`);
  }
}
