// Issue 14, item 4: `ifsim explore --every-n` (src/explore/cutoff.ts). What a family is; the
// pair alone's verdict on Linux 5.0 (violated, and re-checked on the concrete model); that the
// check at N = 2 does fail when a projection keeps something the pair alone cannot match (so a
// pass means something); and the CLI's errors and JSON.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseExploreArgs } from "../../src/cli/explore-args.ts";
import { main } from "../../src/cli/main.ts";
import {
  type EnvironmentOffload,
  everyN,
  everyNParallel,
  familyCheck,
  familyOf,
  familyProblem,
  pairAlone,
  pairGraph,
  projection,
  sameGraphs,
} from "../../src/explore/cutoff.ts";
import { observeEnvironment } from "../../src/explore/environment.ts";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import type { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { search } from "../../src/explore/search.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const FAMILY = "examples/explore/boot-race-2.yaml";

/** `ifsim explore FAMILY --kernel 5.1 --time-limit 1s` with more options. */
const family1s = (...more: string[]) =>
  main(["explore", FAMILY, "--kernel", "5.1", "--time-limit", "1s", ...more]);

describe("what a family of failover pairs is", () => {
  it("accepts the boot race with two and three pairs", () => {
    expect(familyProblem(bootRaceScenario(2))).toBeNull();
    expect(familyProblem(bootRaceScenario(3))).toBeNull();
  });

  it("refuses what is not one, saying why", () => {
    const sc = bootRaceScenario(2);
    const devs = sc.devices ?? [];
    const cases: [ScenarioDoc, RegExp][] = [
      [
        {
          ...sc,
          devices: [...devs, { id: "x", type: "pci-nic", mac: "52:54:00:00:02:00", slot: 20 }],
        },
        /device x is not part/,
      ],
      [{ ...sc, steps: ["settle", { sleep: "1s" }] as ScenarioDoc["steps"] }, /steps must be/],
      [{ ...sc, bringup: { links: ["ens3"], wait_for_udev: true } }, /one link per failover pair/],
      [
        {
          ...sc,
          devices: devs.map((d) => (d.id === "vf1" ? { ...d, mac: "52:54:00:00:01:00" } : d)),
        },
        /same explicit mac/,
      ],
      [
        { ...sc, devices: devs.map((d) => (d.id === "net1" ? { ...d, standby: false } : d)) },
        /not part of a failover pair/,
      ],
      [{ ...sc, devices: devs.filter((d) => d.id !== "vf1") }, /has 0 primaries/],
    ];
    for (const [bad, why] of cases) expect(familyProblem(bad)).toMatch(why);
  });

  it("the pair alone keeps the pair's devices on their slots and its link; familyOf keeps the first n", () => {
    const sc = bootRaceScenario(3);
    const p1 = pairAlone(sc, 1);
    expect(p1.devices?.map((d) => [d.id, "slot" in d ? d.slot : null])).toEqual([
      ["net1", 4],
      ["vf1", 7],
    ]);
    expect(p1.bringup !== "none" && p1.bringup?.links).toEqual(["ens4"]);
    const two = familyOf(sc, 2);
    expect(two.devices?.map((d) => d.id)).toEqual(["net0", "net1", "vf0", "vf1"]);
    expect(two.bringup !== "none" && two.bringup?.links).toEqual(["ens3", "ens4"]);
  });
});

describe("the family check", () => {
  it("Linux 5.0: the pair alone breaks no-ebusy-to-udev (no verdict for every N)", () => {
    const r = everyN(bootRaceScenario(2, { kernel: "5.0" }), { kernel: "5.0" });
    expect(r.verdict).toBe("alone-violated");
    expect(r.check).toBeNull();
    expect(r.alone.map((a) => a.violation?.invariant)).toEqual([
      "no-ebusy-to-udev",
      "no-ebusy-to-udev",
    ]);
  });

  it("fails at N = 2 when the projection reads another pair's state (udev's database size)", () => {
    const sc = bootRaceScenario(2, { kernel: "5.1" });
    // A projection that counts every device udev has initialized, the other pair's too: equal at
    // the start, but two pairs soon reach counts the pair alone never does.
    const tooFine = (sys: ScenarioSystem, mac: string): string => {
      const u = sys.p.udev as unknown as { save(): { db: { initialized: boolean }[] } };
      return `${projection(sys, mac)}|${u.save().db.filter((e) => e.initialized).length}`;
    };
    const graphs = [0, 1].map((i) => pairGraph(sc, i, { kernel: "5.1" }, { project: tooFine }));
    expect(graphs.every((g) => g.complete && g.violation === null)).toBe(true);
    for (const symmetry of [true, false]) {
      const r = familyCheck(sc, graphs, { kernel: "5.1" }, { project: tooFine, symmetry });
      expect(r.symmetric).toBe(symmetry);
      expect(r.failures).toHaveLength(1);
      expect(r.failures[0]).toMatch(
        /^pair \d: after .*udev\/w\d, a projection the pair alone never reaches$/,
      );
      expect(r.complete).toBe(false);
      expect(r.states).toBeGreaterThan(1);
    }
  });

  // Session 21 keyed the two-pair states by their projections alone: states that differ
  // outside the projections (udev's worker holding an event, the global counters) were merged and
  // their futures never enumerated. The check must visit at least every state the plain search
  // without reduction stores (one udev worker keeps this to seconds).
  it("visits every state of two pairs that the search without reduction visits (one udev worker)", () => {
    const sc = bootRaceScenario(2, { kernel: "5.1", workers: 1 });
    const c = { kernel: "5.1" };
    const graphs = [0, 1].map((i) => pairGraph(sc, i, c));
    for (const symmetry of [true, false]) {
      const r = familyCheck(sc, graphs, c, { symmetry });
      expect(r.complete).toBe(true);
      expect(r.failures).toEqual([]);
      const naive = search(systemFor(sc, { ...c, timing: "free", atomic: false }), {
        reduction: "none",
        symmetry,
      });
      expect(naive.verdict).toBe("verified");
      expect(r.states).toBeGreaterThanOrEqual(naive.stats.distinct);
      expect(r.transitions).toBeGreaterThanOrEqual(naive.stats.transitions);
    }
  }, 300_000);

  it("the pair alone on Linux 5.1 verifies; the two pairs' graphs are one graph (so symmetry applies)", () => {
    const sc = bootRaceScenario(2, { kernel: "5.1" });
    const gs = [0, 1].map((i) => pairGraph(sc, i, { kernel: "5.1" }));
    for (const g of gs) {
      expect(g.complete).toBe(true);
      expect(g.violation).toBeNull();
      expect(g.ends.size).toBeGreaterThan(0);
      expect(g.nodes.size).toBeGreaterThan(100);
      expect(g.edges.size).toBeGreaterThanOrEqual(g.nodes.size - 1);
    }
    expect(sameGraphs(gs)).toBe(true);
    expect(gs.map((g) => g.scriptMoves)).toEqual([0, 0]);
    // A graph with one step less is another graph.
    const g1 = gs[1] as (typeof gs)[number];
    const cut = { ...g1, edges: new Set([...g1.edges].slice(1)) };
    expect(sameGraphs([gs[0] as (typeof gs)[number], cut])).toBe(false);
  });

  it("Linux 5.1: verified for every N against the environment, which changes no projection and reaches all of the pair alone", () => {
    const r = everyN(bootRaceScenario(2, { kernel: "5.1" }), { kernel: "5.1" });
    expect(r.verdict).toBe("verified");
    expect(r.crossTalk).toEqual([]);
    expect(r.check).toBeNull();
    // Under symmetry, pair 1 alone has pair 0's graph: pair 0 is checked.
    expect(r.environment).toHaveLength(1);
    const e = r.environment?.[0];
    expect(e?.environment).toEqual({
      udev: 2,
      linkwatch: true,
      linkwatchAlways: false,
      lanes: "reduced",
    });
    expect(e?.complete).toBe(true);
    expect(e?.failures).toEqual([]);
    expect(e?.violation).toBeNull();
    // With every lane (`environmentLanes: "all"`): 7 169 states, 35 159 transitions
    // (test/explore/environment.test.ts compares both).
    expect([e?.states, e?.transitions, e?.environmentSteps]).toEqual([2_527, 10_661, 4_270]);
    expect(e?.environmentMoves).toBe(0);
    expect([e?.reached, e?.edgesUsed]).toEqual([473, 1409]);
  }, 300_000);

  // The cross-check: every state of two pairs, about 3 minutes of one CPU (docs/performance.md,
  // "A verdict for every N"); the time limit is far above it so that a loaded machine cannot fail it.
  it(
    "Linux 5.1, cross-checked: each pair of two reaches every projection and step of the pair alone",
    () => {
      const r = everyN(
        bootRaceScenario(2, { kernel: "5.1" }),
        { kernel: "5.1" },
        { crossCheck: true },
      );
      expect(r.verdict).toBe("verified");
      expect(r.environment?.[0]?.failures).toEqual([]);
      const k = r.check;
      expect(k?.complete).toBe(true);
      expect(k?.symmetric).toBe(true);
      expect(k?.failures).toEqual([]);
      expect(k?.violation).toBeNull();
      expect(k?.states).toBe(126_569);
      expect(k?.transitions).toBe(592_925);
      expect(k?.pairs.map((p) => [p.reached, p.alone, p.edgesUsed, p.aloneEdges])).toEqual([
        [473, 473, 1409, 1409],
        [473, 473, 1409, 1409],
      ]);
    },
    60 * 60_000,
  );

  it("with the environment check offloaded (another thread's way): everyN's result; a pair alone that breaks an invariant cancels it", async () => {
    const log: string[] = [];
    // In this thread, after the pairs alone (at the first await), unless cancelled by then.
    const offload: EnvironmentOffload = (job) => {
      log.push(`start pair ${job.i}`);
      let cancelled = false;
      return {
        result: Promise.resolve().then(() => {
          if (cancelled) throw new Error("cancelled");
          return observeEnvironment(job.sc, job.i, job.config, job.environment);
        }),
        cancel: () => {
          if (!cancelled) log.push("cancel");
          cancelled = true;
        },
      };
    };
    const c = { kernel: "5.1" };
    const o = { environmentEvents: 1 };
    const sc = bootRaceScenario(2, c);
    const par = await everyNParallel(sc, c, o, offload);
    expect(par.verdict).toBe("verified");
    expect({ ...par, ms: 0 }).toEqual({ ...everyN(sc, c, o), ms: 0 });
    expect(log).toEqual(["start pair 0", "cancel"]);
    // Linux 5.0: pair 0 alone is violated; the environment check is cancelled before it is read.
    log.length = 0;
    const v = await everyNParallel(
      bootRaceScenario(2, { kernel: "5.0" }),
      { kernel: "5.0" },
      {},
      offload,
    );
    expect(v.verdict).toBe("alone-violated");
    expect(v.environment).toBeNull();
    expect(log).toEqual(["start pair 0", "cancel"]);
    // Without symmetry nothing is offloaded (pair 1 alone may differ from pair 0).
    log.length = 0;
    let t = 0;
    const none = await everyNParallel(
      sc,
      c,
      { symmetry: false, now: () => t++ * 1000, deadline: 5 },
      offload,
    );
    expect(none.verdict).toBe("bounded");
    expect(log).toEqual([]);
  }, 300_000);

  it("a deadline already past leaves the check bounded, not verified", () => {
    let t = 0;
    const r = everyN(
      bootRaceScenario(2, { kernel: "5.1" }),
      { kernel: "5.1" },
      { now: () => t++ * 1000, deadline: 5 },
    );
    expect(r.verdict).toBe("bounded");
  });
});

describe("ifsim explore --every-n", () => {
  it("refuses other timings, the search's reductions and files that are not families", async () => {
    for (const [args, why] of [
      [[FAMILY, "--every-n", "--timing", "any"], /decides under --timing free/],
      [[FAMILY, "--every-n", "--random", "5"], /not with --random/],
      [[FAMILY, "--every-n", "--reduction", "dpor"], /not with --reduction/],
      [[FAMILY, "--every-n", "--view", "exact"], /not with --view/],
      [
        ["examples/explore/seed-race.yaml", "--every-n"],
        /not a family of identical failover pairs/,
      ],
      [["examples/explore/boot-race.yaml", "--every-n"], /at least two pairs/],
      [[FAMILY, "--every-n", "--invariants", "expect"], /expect is about the whole machine/],
      [
        [FAMILY, "--search", "--cross-check"],
        /--cross-check goes with --every-n, not with --search/,
      ],
      [
        [FAMILY, "--search", "--environment-events", "2"],
        /--environment-events goes with --every-n, not with --search/,
      ],
      [
        [FAMILY, "--environment-events", "1", "--random", "5"],
        /--every-n \(which --environment-events asks for\) enumerates without reduction: not with --random/,
      ],
      [
        [FAMILY, "--cross-check", "--timing", "any"],
        /--every-n \(which --cross-check asks for\) decides under --timing free/,
      ],
      [[FAMILY, "--every-n", "--environment-events", "x"], /takes a count from 0 to 64/],
      [[FAMILY, "--environment-events", "x"], /takes a count from 0 to 64/],
      [
        [FAMILY, "--search", "--environment-linkwatch", "always"],
        /--environment-linkwatch goes with --every-n, not with --search/,
      ],
      [
        ["examples/explore/seed-race.yaml", "--environment-events", "1"],
        /not a family of identical failover pairs/,
      ],
      [[FAMILY, "--every-n", "--environment-linkwatch", "often"], /takes listed or always/],
      [[FAMILY, "--every-n", "--every-n-lanes", "some"], /takes reduced or all/],
      [
        [FAMILY, "--search", "--every-n-lanes", "all"],
        /--every-n-lanes goes with --every-n, not with --search/,
      ],
    ] as const) {
      const r = await main(["explore", ...args]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(why);
    }
  });

  it("--environment-linkwatch chooses when the environment may queue the linkwatch work", () => {
    const parsed = (...more: string[]) => parseExploreArgs([FAMILY, "--every-n", ...more]);
    expect(parsed()).not.toHaveProperty("environmentLinkwatch");
    for (const mode of ["listed", "always"])
      expect(parsed("--environment-linkwatch", mode)).toMatchObject({ environmentLinkwatch: mode });
  });

  it("--every-n-lanes all turns the every-N check's lane reductions off", () => {
    const parsed = (...more: string[]) => parseExploreArgs([FAMILY, "--every-n", ...more]);
    expect(parsed()).not.toHaveProperty("everyNLanes");
    for (const mode of ["reduced", "all"])
      expect(parsed("--every-n-lanes", mode)).toMatchObject({ everyNLanes: mode });
  });

  it("the every-N options ask for --every-n: given alone, they are the every-N check's", () => {
    for (const more of [
      ["--environment-events", "1"],
      ["--environment-linkwatch", "always"],
      ["--every-n-lanes", "all"],
      ["--cross-check"],
    ])
      expect(parseExploreArgs([FAMILY, ...more]), more.join(" ")).toMatchObject({
        everyN: true,
        timing: "free",
      });
    expect(parseExploreArgs([FAMILY])).toMatchObject({ everyNIfFamily: true });
    expect(parseExploreArgs([FAMILY])).not.toHaveProperty("everyN");
  });

  it("Linux 5.0: violated by the pair alone, then re-checked on the file's two pairs (JSON, exit 1)", async () => {
    const r = await main(["explore", FAMILY, "--every-n", "--kernel", "5.0", "--json"]);
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.everyN).toEqual({
      pairs: 2,
      timing: "free",
      environment: true,
      crossCheck: false,
      byDefault: false,
    });
    expect(j.cells[0].verdict).toBe("alone-violated");
    expect(j.recheck[0].status).toBe(1);
    expect(j.recheck[0].result.verdict).toBe("violated");
    expect(j.recheck[0].result.counterexample.invariant).toBe("no-ebusy-to-udev");
  });

  it("a family file is decided for every N by default; --search or a search option searches it", async () => {
    const dflt = await family1s("--json");
    expect(dflt.status).toBe(3);
    const j = JSON.parse(dflt.stdout);
    expect(j.everyN.byDefault).toBe(true);
    expect(j.cells[0].verdict).toBe("bounded");
    const text = await family1s();
    expect(text.stdout).toMatch(/a family is decided for every N by default; --search searches/);
    for (const search of [["--search"], ["--timing", "any"], ["--reduction", "none"]]) {
      const r = await family1s(...search);
      expect(r.status, search.join(" ")).toBe(3);
      expect(r.stdout).not.toMatch(/every N/);
    }
    // A search's outputs without a search: said, not silently dropped.
    const html = join(mkdtempSync(join(tmpdir(), "ifsim-every-n-")), "r.html");
    const h = await family1s("--html", html);
    expect(h.stderr).toMatch(
      /--html .*r\.html: nothing written: no search to draw .*--search does/,
    );
    const both = await main(["explore", FAMILY, "--every-n", "--search"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--search and --every-n: give one/);
  });

  it("a search of a family file at its own N points to --every-n; other files and re-checks do not", async () => {
    const fam = await family1s("--search");
    expect(fam.status).toBe(3);
    expect(fam.stdout).toMatch(
      /note: .*boot-race-2\.yaml is a family of identical failover pairs: without --search[\s\S]*--every-n/,
    );
    const other = await main(["explore", "examples/explore/seed-race.yaml", "--kernel", "6.1"]);
    expect(other.status).toBe(0);
    expect(other.stdout).not.toMatch(/--every-n/);
    const trace = join(mkdtempSync(join(tmpdir(), "ifsim-every-n-")), "t.cex.txt");
    const re = await main([
      "explore",
      FAMILY,
      "--every-n",
      "--kernel",
      "5.0",
      "--trace-out",
      trace,
    ]);
    expect(re.status).toBe(1);
    expect(re.stdout).toMatch(/the file at N = 2, free timing/);
    expect(re.stdout).not.toMatch(/note: .*--every-n/);
  });

  it("--time-limit cuts the check: bounded, exit 3, no re-check", async () => {
    const r = await main(["explore", FAMILY, "--every-n", "--time-limit", "1s"]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/bounded: --time-limit came first/);
    expect(r.stdout).not.toMatch(/the file at N = 2/);
  });
});
