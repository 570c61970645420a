// Issue 14, item 4: one pair against an environment that stands for every other pair.
//
// In a machine with N identical failover pairs, the other pairs reach a pair P only through what
// the machine shares (docs/performance.md, "Every N without two pairs"): udevd's queue and workers,
// the kernel's linkwatch work, the global counters (ifindex, eth<n>, virtio<n>) and the per-kind
// order of the kernel's work. The environment check runs P alone with lanes that do what other
// pairs do to those (`ScenarioSystemOptions.environment`): queue another device's udev event, which
// takes its place in the FIFO and then a worker, end such an event at any later time, and queue the
// linkwatch work as another device's urgent or ordinary event would. It enumerates that system
// without reduction and checks, on every state and transition, that P's projection is one of the
// pair alone's (G_P, `pairGraph`), changes only along an edge of G_P, and that wherever only the
// environment could still add work and it holds nothing, P is at an end of G_P. The counters and
// the per-kind work order are not moves: a pair's projection keeps counters as roles, and another
// pair's work item of the same kind ahead of P's runs without touching P.
//
// The environment is not a model of the other pairs: it may do more than they can (a held worker
// is released at any time, events arrive at any time). It has at most `udev` other events at
// once (`everyN`: udev's workers, so it can hold all of them). Why the pair with the environment
// covers every N, and which parts of that are argued rather than checked: docs/performance.md.
//
// The check runs in line (`environmentCheck`: against G_P as it goes, stopping at the first
// failure) or in two halves (`observeEnvironment` records what the enumeration meets, in order,
// without G_P; `judgeEnvironment` compares that record with G_P afterwards), so that another
// thread can enumerate while G_P is being built (`everyNParallel`).

import type { ScenarioDoc } from "../scenario/schema.ts";
import { globMatch } from "../userspace/bringup.ts";
import { type EnumerateOptions, enumerate } from "./enumerate.ts";
import type { ExploreConfig } from "./explore.ts";
import {
  macOf,
  type PairGraph,
  type ProjectionIndex,
  pairSystem,
  projection,
  projectionKey,
} from "./pair.ts";
import { type EnvironmentOptions, ScenarioSystem } from "./scenario-system.ts";

/** The enumeration's counts, which the check's result and its observation share. */
interface EnvironmentCounts {
  environment: EnvironmentOptions;
  /**
   * Every reachable state and transition checked (the deadline did not cut it short); in an
   * observation, that the enumeration ran out (no deadline, no stop).
   */
  complete: boolean;
  states: number;
  transitions: number;
  /** Transitions of the environment's own lanes (queue, release, linkwatch). */
  environmentSteps: number;
  /** Of those, the ones that changed the pair's projection (each one of its steps). */
  environmentMoves: number;
}

/** What the environment check found for one pair and one bound. */
export interface EnvironmentResult extends EnvironmentCounts {
  /** Projections and steps of the pair alone this system reached. */
  reached: number;
  edgesUsed: number;
  /** The first failure (a projection, step or end the pair alone does not have), with its path. */
  failures: string[];
  /** A violation of an invariant (none of the pair's own should be new), or null. */
  violation: { invariant: string; detail: string; path: string[] } | null;
}

/**
 * What the environment check's enumeration met, in the order it met it, for a comparison with
 * the pair alone's graph afterwards (`judgeEnvironment`): each projection the first time a step
 * reached it (its text and that step's path), each step between two projections the first time it
 * was taken, each projection the first time a state of it was visited and the first time such a
 * state was stopped, and the first violation. Plain data: it crosses to another thread as it is.
 */
export interface EnvironmentObservation extends EnvironmentCounts {
  /** The projections' texts, by local node (in the order first reached). */
  texts: string[];
  events: ObservedEvent[];
}

/** One thing the enumeration met for the first time (`EnvironmentObservation`). */
export type ObservedEvent =
  /** Local node `node` first reached, by the step whose path is `at` ("" at the start). */
  | { readonly kind: "node"; readonly node: number; readonly at: string }
  /** The step `lane` from `from` to `to` first taken, after the path `at`. */
  | {
      readonly kind: "edge";
      readonly from: number;
      readonly to: number;
      readonly lane: string;
      readonly at: string;
    }
  /** A state of `node` first visited. */
  | { readonly kind: "visit"; readonly node: number }
  /** A state of `node` first visited where only the environment could add work (or the script). */
  | { readonly kind: "stopped"; readonly node: number }
  /** The first violation of an invariant, with its path. */
  | {
      readonly kind: "violation";
      readonly invariant: string;
      readonly detail: string;
      readonly path: string[];
    };

/**
 * Compares what the environment check met with `graph`, the pair alone's projected graph, event
 * by event in the order met: the first projection, step or stopped state the pair alone does not
 * have is the failure (what the enumeration would have stopped at), and what came after it does
 * not count.
 */
class Judge {
  readonly failures: string[] = [];
  readonly reached = new Set<number>();
  readonly used = new Set<string>();
  violation: EnvironmentResult["violation"] = null;
  /** Local node → the pair alone's node (undefined: none). */
  readonly #map: (number | undefined)[] = [];

  readonly graph: PairGraph;
  /** The projections' texts by local node, as the enumeration adds them. */
  readonly texts: readonly string[];

  constructor(graph: PairGraph, texts: readonly string[]) {
    this.graph = graph;
    this.texts = texts;
  }

  /** Takes the next event; false when it is the failure (nothing after it counts). */
  take(e: ObservedEvent): boolean {
    if (this.failures.length > 0) return false;
    const g = this.graph;
    switch (e.kind) {
      case "violation":
        if (this.violation === null)
          this.violation = { invariant: e.invariant, detail: e.detail, path: e.path };
        return true;
      case "node": {
        const n = this.graph.nodes.get(this.texts[e.node] as string);
        this.#map[e.node] = n;
        if (n === undefined)
          this.failures.push(
            e.at === ""
              ? "at the start: a projection the pair alone lacks"
              : `after ${e.at}, a projection the pair alone never reaches`,
          );
        return n !== undefined;
      }
      case "edge": {
        const key = `${this.#map[e.from]} ${this.#map[e.to]}`;
        if (!g.edges.has(key)) {
          this.failures.push(`${e.lane} after ${e.at} is no step of the pair alone`);
          return false;
        }
        this.used.add(key);
        return true;
      }
      case "visit":
        this.reached.add(this.#map[e.node] as number);
        return true;
      case "stopped":
        if (!g.ends.has(this.#map[e.node] as number)) {
          this.failures.push(
            "where only the environment could add work and it holds none, the pair is at no end of the pair alone",
          );
          return false;
        }
        return true;
    }
  }

  result(o: EnvironmentObservation): EnvironmentResult {
    return {
      environment: o.environment,
      complete: o.complete && this.failures.length === 0,
      states: o.states,
      transitions: o.transitions,
      environmentSteps: o.environmentSteps,
      environmentMoves: o.environmentMoves,
      reached: this.reached.size,
      edgesUsed: this.used.size,
      failures: this.failures,
      violation: this.violation,
    };
  }
}

/**
 * Enumerates pair `i` of the family `sc` with the environment `env` (free timing, no reduction)
 * and checks it against `graph`, the pair alone's projected graph (`pairGraph` on the same
 * scenario and pair), stopping at the first failure. The same as `judgeEnvironment` on
 * `observeEnvironment`'s result but for the counts, which stop with the enumeration here.
 */
export function environmentCheck(
  sc: ScenarioDoc,
  i: number,
  graph: PairGraph,
  c: ExploreConfig,
  env: EnvironmentOptions,
  o: EnumerateOptions = {},
): EnvironmentResult {
  const texts: string[] = [];
  const judge = new Judge(graph, texts);
  return judge.result(observe(sc, i, c, env, o, texts, judge));
}

/**
 * Enumerates pair `i` of the family `sc` with the environment `env` (free timing, no reduction)
 * to its end, without the pair alone's graph: what it met, for `judgeEnvironment` (another
 * thread can run this while the pairs alone are enumerated).
 */
export function observeEnvironment(
  sc: ScenarioDoc,
  i: number,
  c: ExploreConfig,
  env: EnvironmentOptions,
  o: EnumerateOptions = {},
): EnvironmentObservation {
  return observe(sc, i, c, env, o, [], null);
}

/** `observeEnvironment`'s result judged against `graph`, the pair alone's projected graph. */
export function judgeEnvironment(obs: EnvironmentObservation, graph: PairGraph): EnvironmentResult {
  const judge = new Judge(graph, obs.texts);
  for (const e of obs.events) if (!judge.take(e)) break;
  return judge.result(obs);
}

/**
 * The enumeration of both, adding the projections' texts to `texts`: with a `judge`, each event
 * goes to it at once and the enumeration stops at the first failure; without, the events are kept.
 */
function observe(
  sc: ScenarioDoc,
  i: number,
  c: ExploreConfig,
  env: EnvironmentOptions,
  o: EnumerateOptions,
  texts: string[],
  judge: Judge | null,
): EnvironmentObservation {
  const mac = macOf(sc, i);
  const sys = pairSystem(sc, i, c, env, env.lanes ?? o.lanes);
  const hidden = sys.scriptHidden;
  const events: ObservedEvent[] = [];
  let going = true;
  const met = (e: ObservedEvent): void => {
    if (judge === null) events.push(e);
    else if (!judge.take(e)) going = false;
  };
  // The local node of P's projection: by the parts' index when the projection is the default (no
  // text of the whole is built or hashed but for a new node), else by the text.
  const index: ProjectionIndex | null =
    o.project === undefined ? { parts: new Map(), keys: new Map() } : null;
  const project = o.project ?? projection;
  const byText = new Map<string, number>();
  const nodeOf = (at: () => string): number => {
    let text: string;
    let key: string | null = null;
    if (index !== null) {
      const k = projectionKey(sys, mac, index, true);
      key = k.key as string;
      const n = index.keys.get(key);
      if (n !== undefined) return n;
      text = k.text();
    } else text = project(sys, mac);
    let n = byText.get(text);
    if (n === undefined) {
      n = texts.length;
      texts.push(text);
      byText.set(text, n);
      met({ kind: "node", node: n, at: at() });
    }
    if (key !== null) index?.keys.set(key, n);
    return n;
  };
  let environmentSteps = 0;
  let environmentMoves = 0;
  let violated = false;
  const violation = (v: { invariant: string; detail: string } | null, path: string[]): void => {
    if (v === null || violated) return;
    violated = true;
    met({ kind: "violation", invariant: v.invariant, detail: v.detail, path });
  };
  const visited = new Set<number>();
  const stopped = new Set<number>();
  const edges = new Set<string>();
  const start = nodeOf(() => "");
  const at: number[] = [start];
  const r = !going
    ? { states: 0, transitions: 0, complete: false }
    : enumerate(
        sys,
        o,
        (en, depth) => {
          const here = at[depth] as number;
          // Stopped, as far as the pair goes: only the environment could add work, and it holds
          // none (a held worker's release is not such a lane).
          // A hidden script (`scriptHidden`) would end its settle here, changing nothing else.
          const rest = en.filter(
            (l) => !ScenarioSystem.isEnvironmentMove(l) && !(hidden && l === "script"),
          );
          const stop = rest.length === 0;
          violation(sys.check(stop), []);
          if (!visited.has(here)) {
            visited.add(here);
            met({ kind: "visit", node: here });
          }
          if ((stop || rest.every((l) => l === "script")) && !stopped.has(here)) {
            stopped.add(here);
            met({ kind: "stopped", node: here });
          }
          return going;
        },
        (lane, path) => {
          const from = at[path.length - 1] as number;
          const to = nodeOf(() => path.join(" "));
          const isEnv = lane.startsWith("env/");
          // A step may end with the environment's urgent move (`ScenarioSystem.coveringMove`):
          // its lanes are in the path's last entry.
          for (const l of (path[path.length - 1] as string).split(" "))
            if (l.startsWith("env/")) environmentSteps++;
          // As the check has always gone: a new projection first, then the invariants, then the step.
          if (going) {
            const v = sys.check(false);
            if (v !== null) violation(v, [...path]);
          }
          if (going && to !== from) {
            if (isEnv) environmentMoves++;
            const e = `${from} ${to}`;
            if (!edges.has(e)) {
              edges.add(e);
              met({ kind: "edge", from, to, lane, at: path.join(" ") });
            }
          }
          at[path.length] = to;
          return going;
        },
        o.symmetry !== false,
        (depth) => String(at[depth]),
      );
  return {
    environment: env,
    complete: r.complete && going,
    states: r.states,
    transitions: r.transitions,
    environmentSteps,
    environmentMoves,
    texts,
    events,
  };
}

/**
 * Every interface name a pair's devices take in its graph: their names and altnames, the names
 * udevd's database holds for them and the names its renames went from and to. The kernel's
 * `eth<n>` names are `eth#` there (a global counter).
 */
export function graphNames(g: PairGraph): Set<string> {
  const out = new Set<string>();
  const add = (x: unknown): void => {
    if (typeof x === "string") out.add(x);
  };
  for (const text of g.nodes.keys()) {
    const p = JSON.parse(text) as {
      devs?: { name?: unknown; altnames?: unknown }[];
      db?: { name?: unknown }[];
      renames?: unknown[][];
    };
    for (const d of p.devs ?? []) {
      add(d.name);
      if (Array.isArray(d.altnames)) for (const a of d.altnames) add(a);
    }
    for (const e of p.db ?? []) add(e.name);
    for (const r of p.renames ?? []) {
      add(r[1]);
      add(r[2]);
    }
  }
  return out;
}

/** The kernel's `eth<n>` names a pattern is tried on for `eth#`: eth0 … eth255. */
const ETH_NAMES: readonly string[] = Array.from({ length: 256 }, (_, k) => `eth${k}`);

/**
 * Why the pairs of a family could reach each other other than through what the environment
 * stands for, or [] when they cannot: two pairs take a same name (other than the kernel's
 * `eth<n>`, which the kernel never gives twice), or a pair's bring-up link pattern matches a
 * name another pair takes (`eth#` tried as eth0 … eth255). `graphs[i]` is pair i alone.
 */
export function crossTalk(links: readonly string[], graphs: readonly PairGraph[]): string[] {
  const names = graphs.map(graphNames);
  const out: string[] = [];
  names.forEach((a, i) => {
    names.forEach((b, j) => {
      if (j <= i) return;
      const both = [...a].filter((n) => n !== "eth#" && b.has(n));
      if (both.length > 0) out.push(`pairs ${i} and ${j} both take the name ${both.join(", ")}`);
    });
    links.forEach((pattern, j) => {
      if (j === i) return;
      const hit = [...a].find((n) =>
        n === "eth#" ? ETH_NAMES.some((e) => globMatch(pattern, e)) : globMatch(pattern, n),
      );
      if (hit !== undefined)
        out.push(
          `pair ${j}'s bring-up link "${pattern}" matches ${hit === "eth#" ? "an eth<n> name" : `"${hit}"`}, a name of pair ${i}`,
        );
    });
  });
  return out;
}
