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

import type { ScenarioDoc } from "../scenario/schema.ts";
import { globMatch } from "../userspace/bringup.ts";
import { type EnumerateOptions, enumerate } from "./enumerate.ts";
import type { ExploreConfig } from "./explore.ts";
import { macOf, type PairGraph, pairSystem, projection, projectionKey } from "./pair.ts";
import { type EnvironmentOptions, ScenarioSystem } from "./scenario-system.ts";

/** What the environment check found for one pair and one bound. */
export interface EnvironmentResult {
  environment: EnvironmentOptions;
  /** Every reachable state and transition checked (the deadline did not cut it short). */
  complete: boolean;
  states: number;
  transitions: number;
  /** Transitions of the environment's own lanes (queue, release, linkwatch). */
  environmentSteps: number;
  /** Of those, the ones that changed the pair's projection (each one of its steps). */
  environmentMoves: number;
  /** Projections and steps of the pair alone this system reached. */
  reached: number;
  edgesUsed: number;
  /** The first failure (a projection, step or end the pair alone does not have), with its path. */
  failures: string[];
  /** A violation of an invariant (none of the pair's own should be new), or null. */
  violation: { invariant: string; detail: string; path: string[] } | null;
}

/**
 * Enumerates pair `i` of the family `sc` with the environment `env` (free timing, no reduction)
 * and checks it against `graph`, the pair alone's projected graph (`pairGraph` on the same
 * scenario and pair).
 */
export function environmentCheck(
  sc: ScenarioDoc,
  i: number,
  graph: PairGraph,
  c: ExploreConfig,
  env: EnvironmentOptions,
  o: EnumerateOptions = {},
): EnvironmentResult {
  const mac = macOf(sc, i);
  // P's node in G_P, or undefined: by the parts' index when G_P has one and the projection is
  // the default (no text of the whole is built or hashed), else by the text.
  const index = o.project === undefined ? graph.index : null;
  const project = o.project ?? projection;
  const nodeOf = (): number | undefined => {
    if (index === null) return graph.nodes.get(project(sys, mac));
    const { key } = projectionKey(sys, mac, index, false);
    return key === null ? undefined : index.keys.get(key);
  };
  const sys = pairSystem(sc, i, c, env);
  const failures: string[] = [];
  const reached = new Set<number>();
  const used = new Set<string>();
  let violation: EnvironmentResult["violation"] = null;
  let environmentSteps = 0;
  let environmentMoves = 0;
  const start = nodeOf();
  if (start === undefined) failures.push("at the start: a projection the pair alone lacks");
  const at: (number | undefined)[] = [start];
  const r =
    start === undefined
      ? { states: 0, transitions: 0, complete: false }
      : enumerate(
          sys,
          o,
          (en, depth) => {
            const here = at[depth] as number;
            reached.add(here);
            // Stopped, as far as the pair goes: only the environment could add work, and it holds
            // none (a held worker's release is not such a lane).
            const rest = en.filter((l) => !ScenarioSystem.isEnvironmentMove(l));
            const stopped = rest.length === 0;
            const v = sys.check(stopped);
            if (v !== null && violation === null) violation = { ...v, path: [] };
            if ((stopped || rest.every((l) => l === "script")) && !graph.ends.has(here))
              failures.push(
                "where only the environment could add work and it holds none, the pair is at no end of the pair alone",
              );
            return failures.length === 0;
          },
          (lane, path) => {
            const from = at[path.length - 1] as number;
            const to = nodeOf();
            const env = lane.startsWith("env/");
            if (env) environmentSteps++;
            if (to === undefined) {
              failures.push(`after ${path.join(" ")}, a projection the pair alone never reaches`);
              return false;
            }
            if (to !== from) {
              if (env) environmentMoves++;
              const e = `${from} ${to}`;
              if (!graph.edges.has(e))
                failures.push(`${lane} after ${path.join(" ")} is no step of the pair alone`);
              else used.add(e);
            }
            const v = sys.check(false);
            if (v !== null && violation === null)
              violation = { invariant: v.invariant, detail: v.detail, path: [...path] };
            at[path.length] = to;
            return failures.length === 0;
          },
          o.symmetry !== false,
          (depth) => String(at[depth]),
        );
  return {
    environment: env,
    complete: r.complete && failures.length === 0,
    states: r.states,
    transitions: r.transitions,
    environmentSteps,
    environmentMoves,
    reached: reached.size,
    edgesUsed: used.size,
    failures,
    violation,
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
