// Issue 14, item 4: a verdict for every number of failover pairs (a dynamic cutoff).
//
// A family is a scenario made only of identical failover pairs (a virtio-net STANDBY device and
// its VF each), a bring-up link per pair and one `settle`. Under free timing (no decision of the
// model reads the clock) a pair P's future depends on what P's projection keeps: P's devices
// (ifindexes as roles, `eth<n>` names as `eth#`: the ifindex, the eth number and the virtio index
// are global counters), udev's database entries, pending events (queued or held by a worker: a
// worker may hold an event as long as it likes, so the two are the same to P) and renames for
// P's devices, bring-up's handling of P's link, P's devices on linkwatch's list and P's pending
// kernel work. The per-pair invariants (`no-ebusy-to-udev`, `failover-named`) read only that.
//
// The check (`cutoffCheck`): enumerate each pair alone (the pair's two devices on the same
// slots, its link) without reduction, giving its projected graph G_P (projections, the steps
// between them, the end projections) and its verdict. Then enumerate the family at N = K + 1
// without partial-order reduction and check, on every reachable state and every transition,
// that each pair's projection is a node of G_P, changes only along an edge of G_P (or not at
// all), and, where the N-pair system stops, is an end node of G_P. Every N-pair execution is then,
// for each pair, a stuttering execution of the pair alone. With cutoff 1 that is checked at
// N = 2, the first N where pairs share udev's workers, linkwatch's runs and the kernel's work;
// that the check passes there and the per-pair set stops changing (N = 2 reaches exactly G_P)
// is the evidence for every N (docs/performance.md, "A verdict for every N").

import type { ScenarioDoc } from "../scenario/schema.ts";
import type { Udevd } from "../userspace/udev/udevd.ts";
import type { ExploreConfig } from "./explore.ts";
import { systemFor } from "./explore.ts";
import { type EnumerateOptions, enumerate } from "./enumerate.ts";
import type { ScenarioSystem } from "./scenario-system.ts";

export type { EnumerateOptions } from "./enumerate.ts";

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
function pairsOf(sc: ScenarioDoc): { id: string; mac: string }[] {
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

/** Pair P's projection of a state (the file's comment says what it keeps, and why). */
export function projection(sys: ScenarioSystem, mac: string): string {
  const p = sys.p;
  const k = p.k;
  const mine = [];
  for (const d of k.state.devices.values())
    if (d.permAddr === mac || d.devAddr === mac) mine.push(d);
  for (const d of k.state.unlisted.values())
    if (d.permAddr === mac || d.devAddr === mac) mine.push(d);
  const role = new Map<number, string>(mine.map((d) => [d.ifindex, d.driver]));
  const ifx = (i: number): string => role.get(i) ?? "other";
  mine.sort((a, b) => (ifx(a.ifindex) < ifx(b.ifindex) ? -1 : 1));
  const ud = p.udev as { peek?: Udevd["peek"] } | undefined;
  if (ud && ud.peek === undefined) throw new TypeError("projection: the udev actor has no peek()");
  const u = ud?.peek?.();
  const pending = u
    ? u.pending
        .filter((e) => role.has(e.ifindex))
        .sort((a, b) => a.order - b.order)
        .map((e) => [ifx(e.ifindex), e.action, e.ifname])
    : [];
  const db = [];
  if (u)
    for (const e of u.db.values())
      if (role.has(e.ifindex))
        db.push(
          // udev's properties hold the ifindex and, in paths, the kernel name (eth<n>: below)
          e.properties.IFINDEX !== undefined
            ? { ...e, properties: { ...e.properties, IFINDEX: ifx(Number(e.properties.IFINDEX)) } }
            : e,
        );
  db.sort((a, b) => (ifx(a.ifindex) < ifx(b.ifindex) ? -1 : 1));
  const renames = u
    ? u.renames
        .filter((r) => role.has(r.ifindex))
        .map((r) => [ifx(r.ifindex), r.from, r.to, r.errno])
    : [];
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
  return JSON.stringify({
    devs: mine,
    pending,
    db,
    renames,
    bringup,
    linkwatch: k.state.linkwatch.list.filter((i) => role.has(i)).map(ifx),
    work,
  })
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

/** Enumerates pair `i` of `sc` alone and returns its projected graph. */
export function pairGraph(
  sc: ScenarioDoc,
  i: number,
  c: ExploreConfig,
  o: EnumerateOptions = {},
): PairGraph {
  const project = o.project ?? projection;
  const mac = macOf(sc, i);
  const sys = systemFor(pairAlone(sc, i), { ...c, timing: "free", atomic: false });
  const nodes = new Map<string, number>();
  const edges = new Set<string>();
  const ends = new Set<number>();
  let violation: PairGraph["violation"] = null;
  let scriptMoves = 0;
  const node = (): number => {
    const p = project(sys, mac);
    let n = nodes.get(p);
    if (n === undefined) {
      n = nodes.size;
      nodes.set(p, n);
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
      const v = sys.check(en.length === 0);
      if (v !== null && violation === null) violation = { ...v, path: [] };
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
      if (v !== null && violation === null)
        violation = { invariant: v.invariant, detail: v.detail, path: [...path] };
      return true;
    },
    false,
    (depth) => String(at[depth]),
  );
  return {
    nodes,
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

/** What the family check found at N = n. */
export interface CutoffResult {
  n: number;
  /** Every reachable state and transition checked. */
  complete: boolean;
  /** States were identified up to a permutation of the pairs and of udev's workers. */
  symmetric: boolean;
  states: number;
  transitions: number;
  /** Per pair: projections of the pair alone, and how many of them the N-pair states reached. */
  pairs: { alone: number; reached: number; aloneEdges: number; edgesUsed: number }[];
  /** Transitions that changed more than one pair's projection. */
  shared: number;
  /** The first failure (a projection or a step the pair alone does not have), with its path. */
  failures: string[];
  /** A violation of the N-pair system itself (global invariants included), or null. */
  violation: { invariant: string; detail: string; path: string[] } | null;
}

/**
 * Checks, on every reachable state and transition of the family with `n` pairs (free timing,
 * no reduction), that each pair behaves as the pair alone (`graphs[i]`, from `pairGraph` on the
 * same `n`-pair scenario).
 */
export function familyCheck(
  scN: ScenarioDoc,
  graphs: readonly PairGraph[],
  c: ExploreConfig,
  o: EnumerateOptions = {},
): CutoffResult {
  const project = o.project ?? projection;
  const n = graphs.length;
  const symmetric = o.symmetry !== false && sameGraphs(graphs);
  const macs = Array.from({ length: n }, (_, i) => macOf(scN, i));
  const sys = systemFor(scN, { ...c, timing: "free", atomic: false });
  const failures: string[] = [];
  const reached = graphs.map(() => new Set<number>());
  const used = graphs.map(() => new Set<string>());
  let shared = 0;
  let violation: CutoffResult["violation"] = null;
  const nodesOf = (): (number | undefined)[] =>
    macs.map((m, i) => (graphs[i] as PairGraph).nodes.get(project(sys, m)));
  const start = nodesOf();
  const at: (number | undefined)[][] = [start];
  start.forEach((x, i) => {
    if (x === undefined) failures.push(`pair ${i} at the start: a projection the pair alone lacks`);
  });
  const r =
    failures.length > 0
      ? { states: 0, transitions: 0, complete: false }
      : enumerate(
          sys,
          o,
          (en, depth) => {
            const here = at[depth] as (number | undefined)[];
            here.forEach((x, i) => {
              if (x !== undefined) reached[i]?.add(x);
            });
            if (en.length === 0) {
              const v = sys.check(true);
              if (v !== null && violation === null) violation = { ...v, path: [] };
              here.forEach((x, i) => {
                if (x !== undefined && !(graphs[i] as PairGraph).ends.has(x))
                  failures.push(
                    `pair ${i}: the ${n}-pair system stops where the pair alone does not`,
                  );
              });
            }
            return failures.length === 0;
          },
          (lane, path) => {
            const before = at[path.length - 1] as (number | undefined)[];
            const after = nodesOf();
            let changed = 0;
            after.forEach((x, i) => {
              const b = before[i];
              if (x === b) return;
              changed++;
              if (x === undefined)
                failures.push(
                  `pair ${i}: after ${path.join(" ")}, a projection the pair alone never reaches`,
                );
              else if (b !== undefined) {
                const e = `${b} ${x}`;
                if (!(graphs[i] as PairGraph).edges.has(e))
                  failures.push(
                    `pair ${i}: ${lane} after ${path.join(" ")} is no step of the pair alone`,
                  );
                else used[i]?.add(e);
              }
            });
            if (changed > 1) shared++;
            const v = sys.check(false);
            if (v !== null && violation === null)
              violation = { invariant: v.invariant, detail: v.detail, path: [...path] };
            at[path.length] = after;
            return failures.length === 0;
          },
          symmetric,
          (depth, fk) => {
            // Each pair's node, in the key's pair order under symmetry: equal keys are one state
            // with the same projections.
            const here = at[depth] as (number | undefined)[];
            const slot = fk.pairSlot;
            if (slot === undefined) return here.join();
            const canon: (number | undefined)[] = [];
            macs.forEach((m, i) => {
              const j = slot(m);
              if (j === undefined)
                throw new Error(`familyCheck: the key has no pair with MAC ${m}`);
              canon[j] = here[i];
            });
            return canon.join();
          },
        );
  return {
    n,
    complete: r.complete && failures.length === 0,
    symmetric,
    states: r.states,
    transitions: r.transitions,
    // Under symmetry a representative's pair i stands for every pair: the union is per pair.
    pairs: graphs.map((g, i) => ({
      alone: g.nodes.size,
      reached: symmetric ? new Set(reached.flatMap((x) => [...x])).size : (reached[i]?.size ?? 0),
      aloneEdges: g.edges.size,
      edgesUsed: symmetric ? new Set(used.flatMap((x) => [...x])).size : (used[i]?.size ?? 0),
    })),
    shared,
    failures,
    violation,
  };
}

/** The invariants a family check decides: per pair, or kept by the kernel model itself. */
export const FAMILY_INVARIANTS: ReadonlySet<string> = new Set([
  "unique-names",
  "unique-ifindexes",
  "no-ebusy-to-udev",
  "failover-named",
  "no-kernel-warning",
  "no-duplicate-mac-crash",
]);

/** `everyN`'s outcome for one configuration. */
export interface EveryNResult {
  /** Pairs in the scenario. */
  pairs: number;
  /**
   * verified: the pair alone verified and the N = 2 check passed (cutoff 1). alone-violated: the
   * pair alone breaks an invariant. no-cutoff: N = 2 reached a projection or a step the pair alone
   * does not have, or broke an invariant. bounded: the deadline came first.
   */
  verdict: "verified" | "alone-violated" | "no-cutoff" | "bounded";
  /** The pairs alone, enumerated (each pair of the two-pair instance on its own slots). */
  alone: {
    states: number;
    transitions: number;
    projections: number;
    edges: number;
    ends: number;
    scriptMoves: number;
    violation: PairGraph["violation"];
  }[];
  /** The check at N = 2, or null when it did not run (the pair alone violated or unfinished). */
  check: CutoffResult | null;
  /** Milliseconds of the caller's clock. */
  ms: number;
}

/**
 * A verdict for every number of pairs of the family `sc` (at least two pairs; `familyProblem`
 * must be null): the pair alone enumerated and verified, then the cutoff-1 check at N = 2
 * (`familyCheck`). Decided under free timing, so it holds for every latency.
 */
export function everyN(sc: ScenarioDoc, c: ExploreConfig, o: EnumerateOptions = {}): EveryNResult {
  const why = familyProblem(sc);
  if (why !== null) throw new RangeError(`everyN: not a family of failover pairs: ${why}`);
  const pairs = pairsOf(sc).length;
  if (pairs < 2) throw new RangeError("everyN: the family check runs at N = 2: give two pairs");
  const now = o.now ?? (() => 0);
  const t0 = now();
  const sc2 = familyOf(sc, 2);
  const graphs = [0, 1].map((i) => pairGraph(sc2, i, c, o));
  const alone = graphs.map((g) => ({
    states: g.states,
    transitions: g.transitions,
    projections: g.nodes.size,
    edges: g.edges.size,
    ends: g.ends.size,
    scriptMoves: g.scriptMoves,
    violation: g.violation,
  }));
  if (graphs.some((g) => g.violation !== null))
    return { pairs, verdict: "alone-violated", alone, check: null, ms: now() - t0 };
  if (graphs.some((g) => !g.complete))
    return { pairs, verdict: "bounded", alone, check: null, ms: now() - t0 };
  // The end check takes a state where only the script is left as an end of the pair alone:
  // sound only while the script's steps change no projection.
  if (graphs.some((g) => g.scriptMoves > 0))
    return { pairs, verdict: "no-cutoff", alone, check: null, ms: now() - t0 };
  const check = familyCheck(sc2, graphs, c, o);
  const verdict =
    check.failures.length > 0 || check.violation !== null
      ? "no-cutoff"
      : !check.complete
        ? "bounded"
        : "verified";
  return { pairs, verdict, alone, check, ms: now() - t0 };
}
