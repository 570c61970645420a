// Counterexamples as linear scenarios (the model must agree with its own export), the shortest
// path search, and replay tokens (compact lanes, payload round trip).

import { existsSync, readFileSync } from "node:fs";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  combine,
  type ExploreConfig,
  frontier,
  replay,
  searchSubtree,
} from "../../src/explore/explore.ts";
import { linearScenario } from "../../src/explore/export.ts";
import { finishExploration, shortest } from "../../src/explore/finish.ts";
import type { InvariantName } from "../../src/explore/scenario-system.ts";
import {
  compactChoices,
  compactLane,
  expandChoices,
  expandLane,
  payloadFromJson,
  payloadToJson,
  type ReplayPayload,
} from "../../src/explore/token.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

function load(file: string): ScenarioDoc {
  const p = parseScenario(readFileSync(file, "utf8"), file);
  if (!p.ok) throw new Error(`${file} does not parse`);
  return p.scenario;
}

const pick = (preferred: string, fallback: string): string =>
  existsSync(preferred) ? preferred : fallback;

const EXAMPLES: { file: string; invariants?: InvariantName[]; timing?: "free" }[] = [
  { file: pick("examples/explore/seed-race.yaml", "examples/scenarios/06-udev-seed-race.yaml") },
  existsSync("examples/explore/boot-race.yaml")
    ? { file: "examples/explore/boot-race.yaml" }
    : // 07's bring-up matches eth* only, so its master stays down once udev renamed it first:
      // check the EBUSY race alone.
      { file: "examples/scenarios/07-udev-boot-race.yaml", invariants: ["no-ebusy-to-udev"] },
  // Free timing: bring-up's lanes are per link (networkd/<ifindex>), its commands exported too.
  { file: "examples/explore/boot-race.yaml", timing: "free" },
  { file: "examples/explore/boot-race-2.yaml", timing: "free" },
];

/** Searches like `ifsim explore` (split at depth 1, in order) and finishes the counterexample. */
function explore(sc: ScenarioDoc, c: ExploreConfig) {
  const r = combine(frontier(sc, c, 1, true).map((p) => searchSubtree(sc, c, p, {})));
  return finishExploration(sc, c, r);
}

describe("linear scenario export", () => {
  it.each(EXAMPLES)(
    "should export $file on 5.0 (timing $timing) as a scenario the model runs as expected",
    ({ file, invariants, timing }) => {
      const sc = load(file);
      const c: ExploreConfig = {
        kernel: "5.0",
        ...(invariants ? { invariants } : {}),
        ...(timing ? { timing } : {}),
      };
      const res = explore(sc, c);
      expect(res.verdict).toBe("violated");
      if (res.verdict !== "violated") return;
      const rep = replay(sc, c, res.counterexample.choices);
      expect(rep.violation?.invariant).toBe(res.counterexample.violation.invariant);
      const lin = linearScenario(sc, c, rep, {
        file,
        violation: rep.violation,
        choices: res.counterexample.choices.length,
        out: "cex.yaml",
      });
      // The header: how it was produced, what it breaks, how to confirm it.
      const header = lin.yaml.split("\n").filter((l) => l.startsWith("#"));
      expect(header[0]).toMatch(/^# Counterexample found by ifsim explore in /);
      expect(header.join("\n")).toContain(`Invariant broken: ${rep.violation?.invariant}: `);
      expect(header.join("\n")).toContain("ifsim run cex.yaml --backend qemu");
      // The text parses back to the document.
      const back = parseScenario(lin.yaml, "cex.yaml");
      expect(back.ok && back.scenario).toEqual(lin.doc);
      const doc = lin.doc;
      expect(doc).toMatchObject({
        name: `${sc.name} (counterexample)`,
        kernel: "5.0",
        udev: "none",
        devices: sc.devices,
      });
      expect(doc).not.toHaveProperty("bringup");
      expect(doc).not.toHaveProperty("explore");
      expect(doc.steps.length).toBe(lin.lanes.length);
      // Every bring-up command of the interleaving is a step (free timing: lanes per link).
      const fromNetworkd = (lane: string) => lane.startsWith("networkd");
      const nd = rep.steps
        .filter((st) => fromNetworkd(st.lane))
        .reduce((n, st) => n + st.actions.length, 0);
      expect(lin.lanes.filter(fromNetworkd).length).toBe(nd);
      if (timing) expect(nd).toBeGreaterThan(0);
      const expects = doc.expect ?? [];
      if (rep.violation?.invariant === "no-ebusy-to-udev")
        expect(expects.some((e) => "step" in e && e.error === "EBUSY")).toBe(true);
      expect(expects.some((e) => "link" in e)).toBe(true);
      // The model agrees with the export: every expectation holds.
      const rec = runScenario(doc, { kernel: "5.0" });
      expect(rec.expectations.filter((e) => !e.ok)).toEqual([]);
      expect(rec.expectations.length).toBe(expects.length);
    },
  );
});

describe("shortest", () => {
  it("should find a path no longer than the search's, to the same invariant, that replays", () => {
    const file = EXAMPLES[0]?.file as string;
    const sc = load(file);
    const c: ExploreConfig = { kernel: "5.0" };
    const r = combine(frontier(sc, c, 1, true).map((p) => searchSubtree(sc, c, p, {})));
    expect(r.verdict).toBe("violated");
    if (r.verdict !== "violated") return;
    const s = shortest(sc, c, r.found);
    expect(s.path.length).toBeLessThanOrEqual(r.found.path.length);
    expect(s.violation.invariant).toBe(r.found.violation.invariant);
    // Forced all the way, the replay follows the path and breaks the invariant at its end.
    const rep = replay(sc, c, s.path);
    expect(rep.path).toEqual(s.path);
    expect(rep.violation?.invariant).toBe(s.violation.invariant);
    // Nothing shorter: a search bounded one step below finds no violation of that invariant.
    const again = shortest(sc, c, s);
    expect(again.path.length).toBe(s.path.length);
  });

  it("should keep the path it was given when the budget is spent at once", () => {
    const sc = load(EXAMPLES[0]?.file as string);
    const c: ExploreConfig = { kernel: "5.0" };
    const r = combine(frontier(sc, c, 1, true).map((p) => searchSubtree(sc, c, p, {})));
    if (r.verdict !== "violated") throw new Error("expected a violation");
    expect(shortest(sc, c, r.found, { maxStates: 1 })).toBe(r.found);
  });
});

describe("replay tokens", () => {
  it("should compact lanes and expand them back", () => {
    const lanes = ["kernel", "udev/w0", "udev/w12", "networkd", "cloud-init", "qemu", "script"];
    expect(lanes.map(compactLane)).toEqual(["k", "u0", "u12", "n", "c", "q", "s"]);
    expect(lanes.map(compactLane).map(expandLane)).toEqual(lanes);
    expect(compactLane("future-lane")).toBe("=future-lane");
    expect(expandLane("=future-lane")).toBe("future-lane");
    expect(expandLane("x")).toBeNull();
    expect(compactChoices(["kernel", "kernel", "kernel", "udev/w1", "script", "script"])).toEqual([
      "k*3",
      "u1",
      "s*2",
    ]);
    expect(expandChoices(["k*3", "u1"])).toEqual(["kernel", "kernel", "kernel", "udev/w1"]);
    expect(expandChoices(["k*0"])).toBeNull();
    expect(expandChoices(["zz"])).toBeNull();
  });

  const lane = fc.oneof(
    fc.constantFrom("kernel", "networkd", "cloud-init", "qemu", "script"),
    fc.nat({ max: 63 }).map((i) => `udev/w${i}`),
    fc.stringMatching(/^[a-z][a-z0-9/-]{0,8}$/),
  );

  test.prop([fc.array(lane, { maxLength: 60 })])(
    "should round-trip any choices through compactChoices/expandChoices",
    (choices) => {
      expect(expandChoices(compactChoices(choices))).toEqual(choices);
    },
  );

  test.prop([
    fc.array(lane, { maxLength: 30 }),
    fc.record(
      {
        kernel: fc.constantFrom("5.0", "6.1"),
        udev: fc.constantFrom("v250", "v253"),
        seed: fc.nat(),
        invariants: fc.subarray<InvariantName>(["unique-names", "no-ebusy-to-udev", "expect"]),
        timing: fc.constantFrom<"any" | "strict">("any", "strict"),
        // Coarse steps are the default: a token records only that they were off.
        atomic: fc.constant(false),
      },
      { requiredKeys: [] },
    ),
    fc.string(),
  ])("should round-trip a payload through JSON", (choices, config, scenario) => {
    const p: ReplayPayload = { v: 1, file: "x.yaml", scenario, config, choices };
    const back = payloadFromJson(payloadToJson(p));
    expect(back).toEqual({ ok: true, payload: p });
  });

  it.each([
    ["not json", "the payload is not JSON"],
    ["[]", "the payload is not a JSON object"],
    ['{"v":2}', 'unsupported payload version "2"'],
    ['{"v":1,"file":"f","scenario":"s","config":{},"choices":["zz"]}', "unknown lanes"],
    [
      '{"v":1,"file":"f","scenario":"s","config":{"invariants":["nope"]},"choices":[]}',
      'unknown invariant "nope"',
    ],
    ['{"v":1,"file":"f","scenario":"s","config":{"seed":-1},"choices":[]}', "config.seed"],
    ['{"v":1,"file":"f","scenario":"s","choices":[]}', "no configuration"],
    ['{"v":1,"file":"f","scenario":"s","config":{"atomic":"on"},"choices":[]}', "config.atomic"],
  ])("should refuse the payload %s", (text, msg) => {
    const r = payloadFromJson(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(msg);
  });
});
