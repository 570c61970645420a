// A counterexample as an ITF trace (the Informal Trace Format of Apalache and Quint, ADR-015:
// https://apalache-mc.org/docs/adr/015adr-trace.html): `#meta`, `vars` and `states`, each state
// with `#meta.index` and one value per variable. Integers are `{"#bigint": "N"}`, sets
// `{"#set": [...]}`, maps `{"#map": [[k, v], ...]}`, records plain objects, an optional value a
// Quint `Option` variant (`{"tag": "Some", "value": v}` / `{"tag": "None", "value": {"#tup": []}}`).
// The action that led to a state is in `mbt::actionTaken`, as Quint writes it ("init" first).

import type { LinkRecord } from "../scenario/run.ts";
import type { ReplayResult } from "./explore.ts";
import type { Violation } from "./system.ts";

/** An ITF value. */
export type ItfValue =
  | boolean
  | string
  | readonly ItfValue[]
  | { readonly "#bigint": string }
  | { readonly "#set": readonly ItfValue[] }
  | { readonly "#map": readonly (readonly [ItfValue, ItfValue])[] }
  | { readonly "#tup": readonly ItfValue[] }
  | { readonly tag: string; readonly value: ItfValue }
  | { readonly [field: string]: ItfValue };

/** One ITF state: its index and a value per variable. */
export type ItfState = { readonly "#meta": { readonly index: number } } & {
  readonly [v: string]: ItfValue | { readonly index: number };
};

/** An ITF trace. */
export interface ItfTrace {
  readonly "#meta": Readonly<Record<string, string | number>>;
  readonly vars: readonly string[];
  readonly states: readonly ItfState[];
}

/** The variables of an ifsim trace, in order. */
export const ITF_VARS = ["mbt::actionTaken", "t", "links", "violation"] as const;

const int = (n: number): ItfValue => ({ "#bigint": String(n) });
const none: ItfValue = { tag: "None", value: { "#tup": [] } };
const some = (v: ItfValue): ItfValue => ({ tag: "Some", value: v });

/** One link as an ITF record. */
function linkValue(l: LinkRecord): ItfValue {
  return {
    ifname: l.ifname,
    flags: { "#set": [...l.flags].sort() },
    mtu: int(l.mtu),
    operstate: l.operstate,
    address: l.address,
    master: l.master === null ? none : some(l.master),
    portname: l.portname === null ? none : some(l.portname),
    name_assign_type: int(l.name_assign_type),
  };
}

/** The links as a map ifindex → link, by ifindex. */
function linksValue(links: readonly LinkRecord[]): ItfValue {
  return {
    "#map": [...links]
      .sort((a, b) => a.ifindex - b.ifindex)
      .map((l) => [int(l.ifindex), linkValue(l)] as const),
  };
}

/**
 * A replay recorded with states (`replay(…, { states: true })`) as an ITF trace: state 0 is the
 * start, state i the links after step i; `violation` is None until the last state of a violated
 * run. Throws TypeError for a replay without states.
 */
export function itfTrace(
  rep: ReplayResult,
  meta: { readonly source: string; readonly description: string },
): ItfTrace {
  if (rep.initial === undefined)
    throw new TypeError("itfTrace needs a replay recorded with states: true");
  const v = (x: Violation): ItfValue => some({ invariant: x.invariant, detail: x.detail });
  const last = rep.steps.length;
  const states: ItfState[] = [
    {
      "#meta": { index: 0 },
      "mbt::actionTaken": "init",
      t: int(rep.initial.t),
      links: linksValue(rep.initial.links),
      violation: rep.violation && last === 0 ? v(rep.violation) : none,
    },
  ];
  for (const s of rep.steps) {
    if (s.links === undefined)
      throw new TypeError(`itfTrace: step ${s.n} of the replay has no recorded links`);
    states.push({
      "#meta": { index: s.n },
      "mbt::actionTaken": s.lane,
      t: int(s.t),
      links: linksValue(s.links),
      violation: rep.violation && s.n === last ? v(rep.violation) : none,
    });
  }
  return {
    "#meta": {
      format: "ITF",
      "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
      source: meta.source,
      status: rep.violation ? "violation" : "ok",
      description: meta.description,
    },
    vars: [...ITF_VARS],
    states,
  };
}
