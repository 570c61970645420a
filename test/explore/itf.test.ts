// itfTrace: a counterexample as an ITF trace (Apalache ADR-015, as Quint writes it). The trace is
// checked against the format's structure by a validator written from the ADR: top-level `#meta`,
// `vars` and `states`; each state's `#meta.index` counting from 0 and one value per variable;
// every value a boolean, a string, a list, `#bigint` (a decimal string), `#set`, `#map` (pairs),
// `#tup`, a variant ({tag, value}) or a record — never a bare JSON number or null.

import { describe, expect, it } from "vitest";
import { replay } from "../../src/explore/explore.ts";
import { itfTrace } from "../../src/explore/itf.ts";
import { loadScenario } from "../_helpers/explore.ts";

/** Where `v` breaks the ITF value encoding, or null. */
function itfValueError(v: unknown, at: string): string | null {
  if (typeof v === "boolean" || typeof v === "string") return null;
  if (typeof v === "number") return `${at}: a bare number (integers are {"#bigint": "N"})`;
  if (v === null || v === undefined) return `${at}: ${v} is not an ITF value`;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const e = itfValueError(x, `${at}[${i}]`);
      if (e) return e;
    }
    return null;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.includes("#bigint"))
    return keys.length === 1 && typeof o["#bigint"] === "string" && /^-?\d+$/.test(o["#bigint"])
      ? null
      : `${at}: a bad #bigint`;
  for (const tagged of ["#set", "#tup"])
    if (keys.includes(tagged)) {
      if (keys.length !== 1 || !Array.isArray(o[tagged])) return `${at}: a bad ${tagged}`;
      return itfValueError(o[tagged], `${at}.${tagged}`);
    }
  if (keys.includes("#map")) {
    const m = o["#map"];
    if (keys.length !== 1 || !Array.isArray(m)) return `${at}: a bad #map`;
    for (const [i, pair] of m.entries()) {
      if (!Array.isArray(pair) || pair.length !== 2) return `${at}.#map[${i}]: not a pair`;
      const e =
        itfValueError(pair[0], `${at}.#map[${i}][0]`) ??
        itfValueError(pair[1], `${at}.#map[${i}][1]`);
      if (e) return e;
    }
    return null;
  }
  if (keys.some((k) => k.startsWith("#"))) return `${at}: unknown tagged value ${keys.join(",")}`;
  for (const k of keys) {
    const e = itfValueError(o[k], `${at}.${k}`);
    if (e) return e;
  }
  return null;
}

/** Where `t` breaks the ITF trace structure, or null. */
function itfTraceError(t: unknown): string | null {
  const o = t as Record<string, unknown>;
  if (typeof o["#meta"] !== "object" || o["#meta"] === null) return "no #meta object";
  if (!Array.isArray(o.vars) || !o.vars.every((v) => typeof v === "string"))
    return "vars is not a list of names";
  if (!Array.isArray(o.states)) return "states is not a list";
  for (const [i, s] of (o.states as Record<string, unknown>[]).entries()) {
    const meta = s["#meta"] as { index?: unknown } | undefined;
    if (meta?.index !== i) return `state ${i}: #meta.index is ${String(meta?.index)}`;
    for (const v of o.vars as string[]) {
      if (!(v in s)) return `state ${i}: no value for ${v}`;
      const e = itfValueError(s[v], `states[${i}].${v}`);
      if (e) return e;
    }
    for (const k of Object.keys(s))
      if (k !== "#meta" && !(o.vars as string[]).includes(k))
        return `state ${i}: ${k} is not in vars`;
  }
  return null;
}

describe("itfTrace", () => {
  const sc = loadScenario("examples/explore/seed-race.yaml");
  const config = { kernel: "5.0", udev: "v253" };

  it("should write a trace the ITF structure accepts, one state per step plus the start", () => {
    const rep = replay(sc, config, ["udev/w0", "networkd", "udev/w1"], undefined, { states: true });
    const t = itfTrace(rep, { source: "seed-race.yaml", description: "test" });
    expect(itfTraceError(JSON.parse(JSON.stringify(t)))).toBeNull();
    expect(t["#meta"]).toMatchObject({
      format: "ITF",
      source: "seed-race.yaml",
      status: "violation",
    });
    expect(t.states.length).toBe(rep.steps.length + 1);
    expect(t.states[0]?.["mbt::actionTaken"]).toBe("init");
    expect(t.states.slice(1).map((s) => s["mbt::actionTaken"])).toEqual(rep.path);
    // The violation is None until the last state.
    expect(
      t.states.slice(0, -1).every((s) => (s.violation as { tag: string }).tag === "None"),
    ).toBe(true);
    expect(t.states.at(-1)?.violation).toEqual({
      tag: "Some",
      value: { invariant: rep.violation?.invariant, detail: rep.violation?.detail },
    });
  });

  it("should encode links as a map from #bigint ifindex to records with #set flags and Option masters", () => {
    const rep = replay(sc, config, ["udev/w0"], undefined, { states: true });
    const t = itfTrace(rep, { source: "s", description: "d" });
    const links = (
      (t.states.at(-1) as unknown as { links: unknown }).links as {
        "#map": [{ "#bigint": string }, Record<string, unknown>][];
      }
    )["#map"];
    const last = rep.steps.at(-1)?.links ?? [];
    expect(links.map(([k]) => Number(k["#bigint"]))).toEqual(
      last.map((l) => l.ifindex).sort((a, b) => a - b),
    );
    const slave = links.find(([, v]) => (v.master as { tag: string }).tag === "Some");
    expect(slave).toBeDefined();
    const [, rec] = slave as [unknown, Record<string, unknown>];
    expect(rec.flags).toHaveProperty("#set");
    expect(rec.mtu).toEqual({ "#bigint": expect.stringMatching(/^\d+$/) });
  });

  it("should refuse a replay recorded without states (TypeError)", () => {
    const rep = replay(sc, config, []);
    expect(() => itfTrace(rep, { source: "s", description: "d" })).toThrow(TypeError);
  });

  it("should reject what is not ITF (the validator can fail)", () => {
    expect(
      itfTraceError({ "#meta": {}, vars: ["x"], states: [{ "#meta": { index: 0 }, x: 3 }] }),
    ).toContain("bare number");
    expect(
      itfTraceError({ "#meta": {}, vars: ["x"], states: [{ "#meta": { index: 1 }, x: true }] }),
    ).toContain("#meta.index");
    expect(
      itfTraceError({ "#meta": {}, vars: ["x"], states: [{ "#meta": { index: 0 } }] }),
    ).toContain("no value");
  });
});
