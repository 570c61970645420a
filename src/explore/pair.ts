// A family of identical failover pairs, and one pair of it alone (issue 14, item 4): what a family
// is, a pair's projection of a state, and the pair alone's projected graph G_P. The checks that
// compare other systems with G_P are in cutoff.ts (two pairs) and environment.ts (one pair
// against an environment standing for the others).
//
// Under free timing (no decision of the model reads the clock) a pair P's future depends on what
// P's projection keeps: P's devices (ifindexes as roles, `eth<n>` names as `eth#`: the ifindex,
// the eth number and the virtio index are global counters), udev's database entries, pending
// events (queued or held by a worker: a worker may hold an event as long as it likes, so the two
// are the same to P) and the renames udevd made of P's devices (as a set), bring-up's handling
// of P's link, P's devices on linkwatch's list and P's pending kernel work. The per-pair
// invariants (`no-ebusy-to-udev`, `failover-named`) read only that.

import type { NetDevice } from "../kernel/netdevice.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { Udevd } from "../userspace/udev/udevd.ts";
import { type EnumerateOptions, enumerate } from "./enumerate.ts";
import type { ExploreConfig } from "./explore.ts";
import { systemFor } from "./explore.ts";
import type { EnvironmentOptions, ScenarioSystem } from "./scenario-system.ts";

/** Why `sc` is not a family of identical failover pairs, or null when it is. */
export function familyProblem(sc: ScenarioDoc): string | null {
  const devs = sc.devices ?? [];
  const masters = devs.filter((d) => d.type === "virtio-net" && "standby" in d && d.standby);
  if (masters.length === 0) return "it has no virtio-net device with standby: true";
  const ids = new Set(masters.map((m) => m.id));
  for (const d of devs) {
    if (ids.has(d.id)) continue;
    if (!("failover_pair" in d) || d.failover_pair === undefined || !ids.has(d.failover_pair))
      return `device ${d.id} is not part of a failover pair (every device must be a STANDBY virtio-net or its primary)`;
  }
  for (const m of masters) {
    const prim = devs.filter((d) => "failover_pair" in d && d.failover_pair === m.id);
    if (prim.length !== 1)
      return `failover pair ${m.id} has ${prim.length} primaries (a family's pairs have one each)`;
    const p = prim[0];
    if (!("mac" in m) || !m.mac || !p || !("mac" in p) || p.mac !== m.mac)
      return `failover pair ${m.id}: the standby and its primary must carry the same explicit mac:`;
    const shape = (d: object): string =>
      JSON.stringify(
        Object.entries(d).filter(([k]) => !["id", "mac", "slot", "failover_pair"].includes(k)),
      );
    const m0 = masters[0];
    const p0 = devs.find((d) => "failover_pair" in d && d.failover_pair === m0?.id);
    if (m0 && p0 && (shape(m) !== shape(m0) || shape(p) !== shape(p0)))
      return `failover pair ${m.id} differs from ${m0.id} in more than its id, MAC and slots (a family's pairs are identical)`;
  }
  const macs = new Set(masters.map((m) => ("mac" in m ? m.mac : "")));
  if (macs.size !== masters.length) return "two failover pairs share a MAC";
  const b = sc.bringup;
  if (b === undefined || b === "none" || b.links.length !== masters.length)
    return `bring-up must list one link per failover pair, in the order of the pairs (${masters.length})`;
  if (sc.cloud_init !== undefined) return "it has cloud_init: (not part of a pair family)";
  if (JSON.stringify(sc.steps) !== JSON.stringify(["settle"]))
    return 'its steps must be exactly ["settle"] (the script is shared by every pair)';
  return null;
}

/** How many pairs the family `sc` has, or 0 when it is not a family (`familyProblem`). */
export function familyPairs(sc: ScenarioDoc): number {
  return familyProblem(sc) === null ? pairsOf(sc).length : 0;
}

/** The family's pairs: each master's id and MAC, in the order of the devices. */
export function pairsOf(sc: ScenarioDoc): { id: string; mac: string }[] {
  return (sc.devices ?? []).flatMap((d) =>
    d.type === "virtio-net" && "standby" in d && d.standby && "mac" in d && d.mac
      ? [{ id: d.id, mac: d.mac }]
      : [],
  );
}

/** Pair `i` of the family alone: its two devices on the same slots, its bring-up link. */
export function pairAlone(sc: ScenarioDoc, i: number): ScenarioDoc {
  const p = pairsOf(sc)[i];
  const b = sc.bringup;
  if (!p || b === undefined || b === "none") throw new RangeError(`pairAlone: no pair ${i}`);
  return {
    ...sc,
    devices: (sc.devices ?? []).filter(
      (d) => d.id === p.id || ("failover_pair" in d && d.failover_pair === p.id),
    ),
    bringup: { ...b, links: [b.links[i] as string] },
  };
}

/** The family with its first `n` pairs only (the masters' bring-up links with them). */
export function familyOf(sc: ScenarioDoc, n: number): ScenarioDoc {
  const ps = pairsOf(sc).slice(0, n);
  const keep = new Set(ps.map((p) => p.id));
  const b = sc.bringup;
  if (b === undefined || b === "none") throw new RangeError("familyOf: no bring-up");
  return {
    ...sc,
    devices: (sc.devices ?? []).filter(
      (d) => keep.has(d.id) || ("failover_pair" in d && keep.has(d.failover_pair ?? "")),
    ),
    bringup: { ...b, links: b.links.slice(0, n) },
  };
}

/** Pair `i`'s MAC (its devices are the ones carrying it). */
export function macOf(sc: ScenarioDoc, i: number): string {
  const p = pairsOf(sc)[i];
  if (!p) throw new RangeError(`macOf: no pair ${i}`);
  return p.mac;
}

/**
 * Pair P's projection of a state (the file's comment says what it keeps, and why). With `cache`
 * (the default) a device's text is reused while its field digests are the same
 * (`ScenarioSystem.deviceFields` gives the same token), which holds for the states a system reaches by its own
 * construction, steps and restores; `cache = false` builds every part afresh (the tests compare
 * the two).
 */
export function projection(sys: ScenarioSystem, mac: string, cache = true): string {
  return joinParts(projectionParts(sys, mac, cache));
}

/**
 * A projection in its parts: each of P's devices' texts, each of udevd's database entries' for
 * them, and the rest: the pending events' text and, after a newline (JSON text has none), the
 * text of `{"renames":…,"bringup":…,"linkwatch":…,"work":…}`.
 */
interface ProjectionParts {
  readonly devs: readonly string[];
  readonly db: readonly string[];
  readonly rest: string;
}

/** The projection's text from its parts (`{"devs":[…],"pending":…,"db":[…],"renames":…}`). */
function joinParts(p: ProjectionParts): string {
  const nl = p.rest.indexOf("\n");
  return `{"devs":[${p.devs.join(",")}],"pending":${p.rest.slice(0, nl)},"db":[${p.db.join(",")}],${p.rest.slice(nl + 2)}`;
}

/**
 * Projections keyed by their parts' ids: looking a projection up by its text hashes all of it
 * (several KB) every time, while a device's text, kept while the device is unchanged, is the
 * same string whose hash the engine keeps. Equal texts have equal parts (the text parses into
 * its parts one way), so equal keys are equal texts.
 */
export interface ProjectionIndex {
  /** A part's text → its id. */
  readonly parts: Map<string, number>;
  /** "id,id,…|id" → the node. */
  readonly keys: Map<string, number>;
}

/**
 * The key of P's projection in `index`, adding its parts when `add`; null when a part is not
 * in it (then the projection is no node of the index's graph).
 */
export function projectionKey(
  sys: ScenarioSystem,
  mac: string,
  index: ProjectionIndex,
  add: boolean,
): { key: string | null; text: () => string } {
  const parts = projectionParts(sys, mac, true);
  const id = (t: string): number | undefined => {
    let n = index.parts.get(t);
    if (n === undefined && add) {
      n = index.parts.size;
      index.parts.set(t, n);
    }
    return n;
  };
  let key: string | null = "";
  for (const list of [parts.devs, parts.db]) {
    for (const d of list) {
      const n = id(d);
      if (n === undefined) return { key: null, text: () => joinParts(parts) };
      key += `${n},`;
    }
    key += "|";
  }
  const n = id(parts.rest);
  key = n === undefined ? null : `${key}${n}`;
  return { key, text: () => joinParts(parts) };
}

function projectionParts(sys: ScenarioSystem, mac: string, cache: boolean): ProjectionParts {
  const p = sys.p;
  const k = p.k;
  const mine: NetDevice[] = [];
  const unlisted = new Set<NetDevice>();
  for (const d of k.state.devices.values())
    if (d.permAddr === mac || d.devAddr === mac) mine.push(d);
  for (const d of k.state.unlisted.values())
    if (d.permAddr === mac || d.devAddr === mac) {
      mine.push(d);
      unlisted.add(d);
    }
  const role = new Map<number, string>(mine.map((d) => [d.ifindex, d.driver]));
  const ifx = (i: number): string => role.get(i) ?? "other";
  mine.sort((a, b) => (ifx(a.ifindex) < ifx(b.ifindex) ? -1 : 1));
  // Each device's text with roles put in: kept per device as long as its fields and the roles
  // are the same (`deviceFields` gives the same token then).
  let roles = "";
  for (const d of mine) roles += `${d.ifindex}:${d.driver};`;
  const devs = mine.map((d) => {
    const fields = cache ? sys.deviceFields(d, unlisted.has(d)) : undefined;
    const hit = fields === undefined ? undefined : DEVICE_TEXT.get(fields);
    if (hit !== undefined && hit.roles === roles) return hit.text;
    const text = withRoles(JSON.stringify(d), ifx);
    if (fields !== undefined) DEVICE_TEXT.set(fields, { roles, text });
    return text;
  });
  const ud = p.udev as { peek?: Udevd["peek"] } | undefined;
  if (ud && ud.peek === undefined) throw new TypeError("projection: the udev actor has no peek()");
  const u = ud?.peek?.();
  const pending = u
    ? u.pending
        .filter((e) => role.has(e.ifindex))
        .sort((a, b) => a.order - b.order)
        .map((e) => [ifx(e.ifindex), e.action, e.ifname])
    : [];
  const entries = [];
  if (u) for (const e of u.db.values()) if (role.has(e.ifindex)) entries.push(e);
  entries.sort((a, b) => (ifx(a.ifindex) < ifx(b.ifindex) ? -1 : 1));
  // Each entry's text with roles put in, kept per entry while the roles are the same: udevd
  // replaces an entry at every write and never changes one (its snapshots share them).
  const db = entries.map((e) => {
    const hit = cache ? DB_TEXT.get(e) : undefined;
    if (hit !== undefined && hit.roles === roles) return hit.text;
    const text = withRoles(
      JSON.stringify(
        // udev's properties hold the ifindex and, in paths, the kernel name (eth<n>: withRoles)
        e.properties.IFINDEX !== undefined
          ? { ...e, properties: { ...e.properties, IFINDEX: ifx(Number(e.properties.IFINDEX)) } }
          : e,
      ),
      ifx,
    );
    if (cache) DB_TEXT.set(e, { roles, text });
    return text;
  });
  // udevd's renames of P's devices as a set: each once, in the order of their texts. The order
  // and repetitions are history that nothing reads (udevd only appends to its list; the
  // invariants and the cross-talk check read which renames were made, from and to which names,
  // and with which result), and keeping them told apart states with one future (about half of
  // the pair alone's states on the boot race: docs/performance.md, "Renames as a set").
  const renamed = new Set<string>();
  if (u)
    for (const r of u.renames)
      if (role.has(r.ifindex))
        renamed.add(withRoles(JSON.stringify([ifx(r.ifindex), r.from, r.to, r.errno]), ifx));
  const renames = `[${[...renamed].sort().join(",")}]`;
  const b = p.bringup?.explorerView();
  const bringup = b
    ? {
        seen: b.seen.filter((i) => role.has(i)).map(ifx),
        done: b.done
          .filter((i) => role.has(i))
          .map(ifx)
          .sort(),
      }
    : null;
  const work = k.state.work
    .filter((w) => w.arg !== undefined && role.has(Number.parseInt(w.arg, 10)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.due - b.due || a.seq - b.seq))
    .map((w) => [w.name, ifx(Number.parseInt(w.arg as string, 10))]);
  // Every ifindex a device, an entry or the private data holds becomes its role; the virtio bus
  // index (virtio0, virtio1, …) and the kernel's eth<n> names are global counters, like the
  // ifindex.
  // (A number under a role key becomes its role in the text: one pass over the text instead of a
  // replacer function during stringify, which is several times slower.)
  // The text is `{"devs":[…],"pending":…,"db":[…],"renames":…}` (joinParts): the rewriting
  // never matches across a part's ends (each part is a whole JSON value), so rewriting the parts
  // is rewriting the whole.
  // (The renames' text is made above, roles in: rewriting it again changes nothing.)
  const tail = `{"renames":${renames},${JSON.stringify({
    bringup,
    linkwatch: k.state.linkwatch.list.filter((i) => role.has(i)).map(ifx),
    work,
  }).slice(1)}`;
  const rest = withRoles(`${JSON.stringify(pending)}\n${tail}`, ifx);
  return { devs, db, rest };
}

/** A udev database entry's projected text (weak: gone with the entry). */
const DB_TEXT = new WeakMap<object, { roles: string; text: string }>();

/** A device's projected text by its field digests (weak: gone with the digests). */
const DEVICE_TEXT = new WeakMap<object, { roles: string; text: string }>();

/**
 * JSON text with every ifindex replaced by its role, and the global counters in names made
 * anonymous: the virtio bus index (virtio0, virtio1, …) and the kernel's eth<n> names.
 */
function withRoles(text: string, ifx: (i: number) => string): string {
  return text
    .replace(
      ROLE_NUMBER,
      (_m, key: string, n: string) => `"${key}":${JSON.stringify(ifx(Number(n)))}`,
    )
    .replace(/virtio\d+/g, "virtio#")
    .replace(/\beth\d+\b/g, "eth#");
}

/**
 * A number under a role key (primary, standby, master, ifindex, rxHandlerData) in JSON text. A
 * key is a quoted string followed by a colon; a quote inside a string value is escaped, so text
 * inside values never matches.
 */
const ROLE_NUMBER =
  /"(primary|standby|master|ifindex|rxHandlerData)":(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=[,}\]])/g;

/** A pair alone, enumerated: its projected graph and its verdict. */
export interface PairGraph {
  /** Projection → index. */
  nodes: Map<string, number>;
  /**
   * The nodes by their parts (`projectionKey`), when the graph was built with the default
   * projection; null with a projection of the caller's (`EnumerateOptions.project`).
   */
  index: ProjectionIndex | null;
  /** "a b" for each step between two different projections. */
  edges: Set<string>;
  /**
   * Projections of the states where the pair alone stops, or where only the script (one
   * settle, no pair's) is left: its steps change no projection (`scriptMoves` counts those that
   * do; `everyN` gives no verdict for every N then).
   */
  ends: Set<number>;
  /** Script steps that changed the pair's projection (0 for the families `everyN` decides). */
  scriptMoves: number;
  states: number;
  transitions: number;
  /** Every reachable state enumerated (the deadline did not cut it short). */
  complete: boolean;
  /** The first violation of the pair alone (its path from the start), or null. */
  violation: { invariant: string; detail: string; path: string[] } | null;
}

/**
 * Pair `i` of `sc` alone as the family checks enumerate it: free timing, every step on its own,
 * with `environment` when given (environment.ts).
 */
export function pairSystem(
  sc: ScenarioDoc,
  i: number,
  c: ExploreConfig,
  environment?: EnvironmentOptions,
  lanes?: "reduced" | "all",
): ScenarioSystem {
  return systemFor(pairAlone(sc, i), {
    ...c,
    timing: "free",
    atomic: false,
    ...(environment !== undefined ? { environment } : {}),
    ...(lanes !== undefined ? { lanes } : {}),
  });
}

/**
 * Enumerates pair `i` of `sc` alone and returns its projected graph. `onViolation` is called
 * when the first violation is found (the enumeration goes on: the graph is the whole one).
 */
export function pairGraph(
  sc: ScenarioDoc,
  i: number,
  c: ExploreConfig,
  o: EnumerateOptions = {},
  onViolation?: () => void,
): PairGraph {
  const mac = macOf(sc, i);
  const sys = pairSystem(sc, i, c, undefined, o.lanes ?? "reduced");
  // A hidden script (`scriptHidden`) would end its settle where every other lane is idle.
  const hidden = sys.scriptHidden;
  const nodes = new Map<string, number>();
  const index: ProjectionIndex | null =
    o.project === undefined ? { parts: new Map(), keys: new Map() } : null;
  const edges = new Set<string>();
  const ends = new Set<number>();
  let violation: PairGraph["violation"] = null;
  let scriptMoves = 0;
  const byText = (p: string): number => {
    let n = nodes.get(p);
    if (n === undefined) {
      n = nodes.size;
      nodes.set(p, n);
    }
    return n;
  };
  const node = (): number => {
    if (index === null) return byText((o.project ?? projection)(sys, mac));
    const { key, text } = projectionKey(sys, mac, index, true);
    if (key === null) throw new Error("pairGraph: a part was not added to the index");
    let n = index.keys.get(key);
    if (n === undefined) {
      n = byText(text());
      index.keys.set(key, n);
    }
    return n;
  };
  const at: number[] = [node()];
  const r = enumerate(
    sys,
    o,
    (en, depth) => {
      const here = at[depth] as number;
      // The script (one settle) is no pair's: it ends once every other lane is idle, and its
      // steps change no projection.
      const v = sys.check(en.length === 0 || (hidden && en.every((l) => l === "script")));
      if (v !== null && violation === null) {
        violation = { ...v, path: [] };
        onViolation?.();
      }
      if (en.length === 0 || en.every((l) => l === "script")) ends.add(here);
      return true;
    },
    (lane, path) => {
      const from = at[path.length - 1] as number;
      const to = node();
      at[path.length] = to;
      if (from !== to) {
        edges.add(`${from} ${to}`);
        if (lane === "script") scriptMoves++;
      }
      const v = sys.check(false);
      if (v !== null && violation === null) {
        violation = { invariant: v.invariant, detail: v.detail, path: [...path] };
        onViolation?.();
      }
      return true;
    },
    // Up to a permutation of udev's workers (unless `o.symmetry` is false): a projection keeps
    // no worker's number (a held event is pending, in queue order), and the model treats its
    // workers alike (the search's symmetric key rests on that), so a state and its image have
    // the same projection and their steps the same projections: the graph is the same, from
    // fewer states (boot race 5.1: 947 against 1 397).
    o.symmetry !== false,
    (depth) => String(at[depth]),
  );
  return {
    nodes,
    index,
    edges,
    ends,
    scriptMoves,
    states: r.states,
    transitions: r.transitions,
    complete: r.complete,
    violation,
  };
}

/** Whether the pairs' graphs are one graph: the same node ids, steps and ends. */
export function sameGraphs(gs: readonly PairGraph[]): boolean {
  const g0 = gs[0];
  if (!g0) return false;
  const ids = (g: PairGraph): string => [...g.nodes.values()].join();
  const set = (x: Set<string> | Set<number>): string => [...x].map(String).sort().join(";");
  return gs.every(
    (g) =>
      g.nodes.size === g0.nodes.size &&
      ids(g) === ids(g0) &&
      set(g.edges) === set(g0.edges) &&
      set(g.ends) === set(g0.ends),
  );
}
