// Issue 14, item 4: one pair against an environment standing for every other pair
// (src/explore/environment.ts). udevd's other devices' events; the environment's lanes; that
// the check fails when the projection sees what the environment does (so a pass means
// something); the cross-talk check between pairs.

import { describe, expect, it } from "vitest";
import { everyN, familyOf, pairAlone, pairGraph, projection } from "../../src/explore/cutoff.ts";
import { enumerate } from "../../src/explore/enumerate.ts";
import {
  crossTalk,
  type EnvironmentObservation,
  environmentCheck,
  graphNames,
  judgeEnvironment,
  type ObservedEvent,
  observeEnvironment,
} from "../../src/explore/environment.ts";
import { type ExploreConfig, systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { macOf } from "../../src/explore/pair.ts";
import { type EnvironmentOptions, ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { LINKWATCH_WORK } from "../../src/kernel/link-watch.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import type { Udevd } from "../../src/userspace/udev/udevd.ts";
import { quiescentProjections } from "../_helpers/quiescent.ts";

const C = { kernel: "5.1" };
const ENV: EnvironmentOptions = { udev: 2, linkwatch: true };

/** Pair 0 of the boot race alone, under free timing, with the environment. */
function withEnvironment(env: EnvironmentOptions = ENV): ScenarioSystem {
  return systemFor(pairAlone(bootRaceScenario(2, C), 0), {
    ...C,
    timing: "free",
    atomic: false,
    environment: env,
  });
}

describe("udevd: other devices' events", () => {
  it("take their turn in the FIFO, hold a worker no lane runs until released, and count as pending", () => {
    const sys = withEnvironment();
    const u = sys.p.udev as unknown as Udevd;
    expect(u.others()).toEqual({ queued: 0, held: [] });
    const pending = u.pending();
    sys.fire("env/udev");
    sys.fire("env/udev");
    const o = u.others();
    // Boot's own events went first; the workers they left free went to the other events.
    expect(o.queued + o.held.length).toBe(2);
    expect(u.pending()).toBe(pending + 2);
    for (const i of o.held) {
      expect(u.workerReadyAt(i)).toBeNull();
      expect(() => u.stepWorker(i)).toThrow(/another device's event/);
    }
    // The bound: two at once.
    expect(sys.enabled()).not.toContain("env/udev");
    expect(() => sys.fire("env/udev")).toThrow(/not enabled/);
    // Releasing a worker hands it to the next queued event.
    let guard = 0;
    while (u.others().queued + u.others().held.length > 0 && guard++ < 100) {
      const rel = sys.enabled().find((l) => l.startsWith("env/udev-release/"));
      const lane = rel ?? sys.enabled().find((l) => !l.startsWith("env/")) ?? "";
      sys.fire(lane);
    }
    expect(u.others()).toEqual({ queued: 0, held: [] });
    expect(() => u.otherRelease(0)).toThrow(/holds no other device's event/);
  });

  it("an urgent linkwatch event of another device sets the urgent mark and queues the work", () => {
    const sys = withEnvironment();
    expect(sys.enabled()).toContain("env/linkwatch!urgent");
    sys.fire("env/linkwatch!urgent");
    expect(sys.kernel.state.linkwatch.urgent).toBe(true);
    expect(sys.kernel.state.work.some((w) => w.name === "linkwatch_event")).toBe(true);
    expect(sys.enabled().filter((l) => l.startsWith("env/linkwatch"))).toEqual([]);
  });

  it("there are no environment lanes without an environment; one needs free timing", () => {
    const plain = systemFor(pairAlone(bootRaceScenario(2, C), 0), { ...C, timing: "free" });
    expect(plain.enabled().filter((l) => l.startsWith("env/"))).toEqual([]);
    expect(
      () => new ScenarioSystem(bootRaceScenario(2, C), { ...C, timing: "any", environment: ENV }),
    ).toThrow(/needs timing "free"/);
    expect(
      () =>
        new ScenarioSystem(bootRaceScenario(2, C), {
          ...C,
          timing: "free",
          environment: { udev: -1, linkwatch: false },
        }),
    ).toThrow(/must be a count/);
    expect(ScenarioSystem.isEnvironmentMove("env/udev")).toBe(true);
    expect(ScenarioSystem.isEnvironmentMove("env/udev-release/w0")).toBe(false);
  });
});

describe("the environment check", () => {
  it("fails when the projection sees the environment (udev's pending events, every device's)", () => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    const tooFine = (sys: ScenarioSystem, mac: string): string =>
      `${projection(sys, mac)}|${(sys.p.udev as unknown as Udevd).pending()}`;
    const g = pairGraph(sc, 0, C, { project: tooFine });
    expect(g.complete && g.violation === null).toBe(true);
    const r = environmentCheck(sc, 0, g, C, ENV, { project: tooFine });
    expect(r.complete).toBe(false);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/^after .*env\/udev, a projection the pair alone never reaches$/);
    // The same projection without the environment's events: none to see, so it passes.
    const none = environmentCheck(sc, 0, g, C, { udev: 0, linkwatch: false }, { project: tooFine });
    expect(none.failures).toEqual([]);
    expect(none.complete).toBe(true);
  });

  it("finds the nodes by their parts as by their text: the same result, and a graph it does not fit fails", () => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    const g = pairGraph(sc, 0, C);
    expect(g.index?.keys.size).toBe(g.nodes.size);
    const one = { udev: 0, linkwatch: true };
    const byParts = environmentCheck(sc, 0, g, C, one);
    const byText = environmentCheck(sc, 0, g, C, one, { project: projection });
    expect(byParts).toEqual(byText);
    expect(byParts.failures).toEqual([]);
    // Linux 6.1's pair alone is not 5.1's: by parts as by text, 5.1 leaves that graph at once.
    const sc61 = familyOf(bootRaceScenario(2, { kernel: "6.1" }), 2);
    const g61 = pairGraph(sc61, 0, { kernel: "6.1" });
    const a = environmentCheck(sc, 0, g61, C, one);
    const b = environmentCheck(sc, 0, g61, C, one, { project: projection });
    expect(a.failures.length).toBeGreaterThan(0);
    expect(a).toEqual(b);
  });

  it("observed first and judged afterwards (another thread's way), it finds what the check finds", () => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    const g = pairGraph(sc, 0, C);
    const one = { udev: 0, linkwatch: true };
    const obs = observeEnvironment(sc, 0, C, one);
    // Plain data: it crosses a thread boundary unchanged.
    expect(structuredClone(obs)).toEqual(obs);
    expect(judgeEnvironment(obs, g)).toEqual(environmentCheck(sc, 0, g, C, one));
    // Where the check fails, the same failure and violation; the counts are the whole
    // enumeration's, where the check stops at the failure.
    const sc61 = familyOf(bootRaceScenario(2, { kernel: "6.1" }), 2);
    const g61 = pairGraph(sc61, 0, { kernel: "6.1" });
    const stopped = environmentCheck(sc, 0, g61, C, one);
    const judged = judgeEnvironment(obs, g61);
    expect(stopped.failures).toHaveLength(1);
    expect(judged.failures).toEqual(stopped.failures);
    expect(judged.violation).toEqual(stopped.violation);
    expect([judged.reached, judged.edgesUsed, judged.complete]).toEqual([
      stopped.reached,
      stopped.edgesUsed,
      false,
    ]);
    expect(judged.states).toBeGreaterThan(stopped.states);
    // A projection that sees the environment's events: the first of them fails, either way.
    const tooFine = (sys: ScenarioSystem, mac: string): string =>
      `${projection(sys, mac)}|${(sys.p.udev as unknown as Udevd).pending()}`;
    const gf = pairGraph(sc, 0, C, { project: tooFine });
    const ev = { udev: 1, linkwatch: false };
    const f = judgeEnvironment(observeEnvironment(sc, 0, C, ev, { project: tooFine }), gf);
    expect(f.failures).toEqual(environmentCheck(sc, 0, gf, C, ev, { project: tooFine }).failures);
    expect(f.failures[0]).toMatch(/^after .*env\/udev, a projection the pair alone never reaches$/);
  });

  it("with no udev events and no linkwatch moves it is the pair alone (symmetry off and on, every lane and the reduced lanes)", () => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    for (const symmetry of [false, true]) {
      for (const lanes of ["all", "reduced"] as const) {
        const gl = pairGraph(sc, 0, C, { symmetry, lanes });
        const r = environmentCheck(
          sc,
          0,
          gl,
          C,
          { udev: 0, linkwatch: false },
          { symmetry, lanes },
        );
        expect([r.states, r.transitions, r.environmentSteps]).toEqual([
          gl.states,
          gl.transitions,
          0,
        ]);
        expect([r.reached, r.edgesUsed]).toEqual([gl.nodes.size, gl.edges.size]);
      }
    }
  });
});

describe("the environment's linkwatch moves", () => {
  /**
   * Everything of a state but linkwatch's urgent mark and queued work while its list is empty:
   * the pair's projection, udevd (its queue, workers, database, the environment's events),
   * bring-up, the script, the other kernel work and linkwatch's list.
   */
  const described = (sys: ScenarioSystem, mac: string): string => {
    const k = sys.p.k;
    const lw = k.state.linkwatch;
    const listed = lw.list.length > 0;
    const u = sys.p.udev as unknown as Udevd;
    return JSON.stringify([
      projection(sys, mac, false),
      u.explorerView(),
      u.others(),
      sys.p.bringup?.explorerView(),
      [sys.p.script.stepIndex, sys.p.script.waitingForSettle],
      k.state.work
        .filter((w) => listed || w.name !== LINKWATCH_WORK)
        .map((w) => [w.name, w.arg ?? null]),
      lw.list,
      listed ? lw.urgent : null,
    ]);
  };
  const reach = (env: EnvironmentOptions) => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    const sys = withEnvironment(env);
    const mac = macOf(sc, 0);
    const out = new Set<string>();
    const r = enumerate(
      sys,
      {},
      () => {
        out.add(described(sys, mac));
        return true;
      },
      () => true,
      false,
      () => "",
    );
    return { ...r, described: out };
  };

  it("while the list is empty add nothing: the same states but for the mark and the queued work (Linux 5.1, one udev event)", () => {
    const listed = reach({ udev: 1, linkwatch: true });
    const always = reach({ udev: 1, linkwatch: true, linkwatchAlways: true });
    expect(listed.complete && always.complete).toBe(true);
    // The broad environment has more states: the work queued, or the mark set, with nothing listed.
    expect(always.states).toBeGreaterThan(listed.states);
    const missing = [...always.described].filter((d) => !listed.described.has(d));
    expect(missing.slice(0, 1)).toEqual([]);
    expect(always.described.size).toBe(listed.described.size);
  });

  it("are offered only while the list holds a device, unless always", () => {
    const sys = withEnvironment({ udev: 0, linkwatch: true });
    const broad = withEnvironment({ udev: 0, linkwatch: true, linkwatchAlways: true });
    const env = (s: ScenarioSystem): string[] => s.enabled().filter((l) => l.startsWith("env/"));
    for (const s of [sys, broad]) {
      // Boot lists the registered devices; the work is queued, so only the urgent move is offered.
      expect(s.p.k.state.linkwatch.list.length).toBeGreaterThan(0);
      expect(env(s)).toEqual(["env/linkwatch!urgent"]);
      s.fire(`kernel/${LINKWATCH_WORK}`);
      expect(s.p.k.state.linkwatch.list).toEqual([]);
    }
    expect(env(sys)).toEqual([]);
    expect(env(broad).sort()).toEqual(["env/linkwatch", "env/linkwatch!urgent"]);
  });
});

describe("the reduced lanes: the urgent move first and the hidden script (ScenarioSystem.lanesToTake)", () => {
  /** What the check reads of an observation: projections, steps, stopped ones, violations. */
  const seen = (o: EnvironmentObservation) => {
    const t = (n: number) => o.texts[n] as string;
    const of = <K extends ObservedEvent["kind"]>(k: K) =>
      o.events.filter((e): e is Extract<ObservedEvent, { kind: K }> => e.kind === k);
    return {
      nodes: new Set(o.texts),
      edges: new Set(of("edge").map((e) => `${t(e.from)} -> ${t(e.to)}`)),
      visited: new Set(of("visit").map((e) => t(e.node))),
      stopped: new Set(of("stopped").map((e) => t(e.node))),
      violations: of("violation").map((e) => e.invariant),
    };
  };
  const both = (kernel: string, env: EnvironmentOptions) => {
    const sc = familyOf(bootRaceScenario(2, { kernel }), 2);
    const all = observeEnvironment(sc, 0, { kernel }, { ...env, lanes: "all" });
    const reduced = observeEnvironment(sc, 0, { kernel }, env);
    return { all, reduced };
  };

  for (const [kernel, env, counts] of [
    // The every-N check's environment on the boot race: 7 169 states and 35 159 transitions with
    // every lane, 2 527 and 10 661 with the reduced lanes.
    ["5.1", { udev: 2, linkwatch: true }, [7_169, 35_159, 2_527, 10_661]],
    ["5.1", { udev: 1, linkwatch: true, linkwatchAlways: true }, null],
    ["6.1", { udev: 1, linkwatch: true }, null],
    // The pair alone breaks no-ebusy-to-udev here: the violation is met either way.
    ["5.0", { udev: 1, linkwatch: true }, null],
  ] as const)
    it(`shows the check what every lane shows it, from fewer states (Linux ${kernel}, ${JSON.stringify(env)})`, () => {
      const { all, reduced } = both(kernel, env);
      expect(all.complete && reduced.complete).toBe(true);
      expect(seen(reduced)).toEqual(seen(all));
      expect(reduced.states).toBeLessThan(all.states);
      expect(reduced.transitions).toBeLessThan(all.transitions);
      if (counts !== null)
        expect([all.states, all.transitions, reduced.states, reduced.transitions]).toEqual(counts);
      if (kernel === "5.0") expect(seen(all).violations).toEqual(["no-ebusy-to-udev"]);
    }, 120_000);

  it("the quiescent invariants are checked at the same projections with the script hidden", () => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    const mac = macOf(sc, 0);
    const quiet = (lanes: "reduced" | "all") => {
      const { result: o, at } = quiescentProjections(mac, () =>
        observeEnvironment(sc, 0, C, { udev: 1, linkwatch: true, lanes }),
      );
      expect(o.complete).toBe(true);
      return at;
    };
    const all = quiet("all");
    expect(all.size).toBeGreaterThan(0);
    expect(quiet("reduced")).toEqual(all);
  }, 120_000);

  it("the script is hidden only when it is one settle, udevd runs from boot and no expect reads the records", () => {
    const env: EnvironmentOptions = { udev: 0, linkwatch: true };
    const make = (sc: ScenarioDoc, more: Partial<ExploreConfig> = {}) =>
      systemFor(sc, { ...C, timing: "free", atomic: false, environment: env, ...more });
    const alone = pairAlone(bootRaceScenario(2, C), 0);
    expect(make(alone).scriptHidden).toBe(true);
    expect(make(alone).lanesToTake(["script", "udev/w0"])).toEqual(["udev/w0"]);
    expect(
      systemFor(alone, { ...C, timing: "free", environment: { ...env, lanes: "all" } })
        .scriptHidden,
    ).toBe(false);
    expect(make(alone, { invariants: ["expect"] }).scriptHidden).toBe(false);
    expect(make({ ...alone, steps: ["settle", "settle"] }).scriptHidden).toBe(false);
    const u = alone.udev !== undefined && alone.udev !== "none" ? alone.udev : {};
    expect(
      make({ ...alone, script_starts: "quiescent", udev: { ...u, start: "late" } }).scriptHidden,
    ).toBe(false);
    expect(systemFor(alone, { ...C, timing: "free" }).scriptHidden).toBe(false);
  });

  it("a move that covers nothing would be caught: taking env/udev alone where it is offered misses steps", () => {
    const proto = ScenarioSystem.prototype;
    const own = Object.getOwnPropertyDescriptor(proto, "coveringMove");
    const env: EnvironmentOptions = { udev: 1, linkwatch: true };
    const { all } = both("5.1", env);
    try {
      Object.defineProperty(proto, "coveringMove", {
        configurable: true,
        value: (en: readonly string[]) => (en.includes("env/udev") ? "env/udev" : null),
      });
      const wrong = both("5.1", env).reduced;
      expect(seen(wrong)).not.toEqual(seen(all));
    } finally {
      if (own) Object.defineProperty(proto, "coveringMove", own);
    }
  }, 120_000);

  it("is taken only with the environment's urgent move offered, the work queued, the reduced lanes and no expect", () => {
    const sys = withEnvironment({ udev: 0, linkwatch: true });
    // Boot lists the registered devices and queues the work: the urgent move covers the rest.
    expect(sys.enabled()).toContain("env/linkwatch!urgent");
    expect(sys.coveringMove(sys.enabled())).toBe("env/linkwatch!urgent");
    const off = withEnvironment({ udev: 0, linkwatch: true, lanes: "all" });
    expect(off.coveringMove(off.enabled())).toBeNull();
    // Without the lane among the enabled ones, nothing covers.
    expect(sys.coveringMove(sys.enabled().filter((l) => !l.startsWith("env/")))).toBeNull();
    // With the mark set, the move is not offered.
    sys.fire("env/linkwatch!urgent");
    expect(sys.p.k.state.linkwatch.urgent).toBe(true);
    expect(sys.coveringMove(sys.enabled())).toBeNull();
    // The broad environment offers it with the work not queued: then it covers nothing.
    const broad = withEnvironment({ udev: 0, linkwatch: true, linkwatchAlways: true });
    broad.fire(`kernel/${LINKWATCH_WORK}`);
    expect(broad.p.k.state.work.some((w) => w.name === LINKWATCH_WORK)).toBe(false);
    expect(broad.enabled()).toContain("env/linkwatch!urgent");
    expect(broad.coveringMove(broad.enabled())).toBeNull();
    // Nor without an environment, nor with an expect invariant (it reads the run's records).
    const plain = systemFor(pairAlone(bootRaceScenario(2, C), 0), { ...C, timing: "free" });
    expect(plain.coveringMove(["env/linkwatch!urgent"])).toBeNull();
    const expecting = systemFor(pairAlone(bootRaceScenario(2, C), 0), {
      ...C,
      timing: "free",
      atomic: false,
      environment: { udev: 0, linkwatch: true },
      invariants: ["expect"],
    });
    expect(expecting.coveringMove(expecting.enabled())).toBeNull();
  });
});

describe("cross-talk between the pairs", () => {
  it("the boot race's pairs take disjoint names and their links match only their own", () => {
    const sc = familyOf(bootRaceScenario(2, C), 2);
    const gs = [0, 1].map((i) => pairGraph(sc, i, C));
    const n0 = graphNames(gs[0] as (typeof gs)[number]);
    expect(n0).toContain("ens3");
    expect(n0).toContain("eth#");
    expect(n0).not.toContain("ens4");
    expect(crossTalk(["ens3", "ens4"], gs)).toEqual([]);
    expect(crossTalk(["ens*", "ens4"], gs)).toEqual([
      'pair 0\'s bring-up link "ens*" matches "ens4", a name of pair 1',
    ]);
    expect(crossTalk(["eth1*", "ens4"], gs)).toEqual([
      'pair 0\'s bring-up link "eth1*" matches an eth<n> name, a name of pair 1',
    ]);
    // A same name in both graphs.
    const g1 = gs[1] as (typeof gs)[number];
    const shared = { ...g1, nodes: new Map([...g1.nodes, ['{"devs":[{"name":"ens3"}]}', -1]]) };
    expect(crossTalk(["ens3", "ens4"], [gs[0] as (typeof gs)[number], shared])).toEqual([
      "pairs 0 and 1 both take the name ens3",
      'pair 0\'s bring-up link "ens3" matches "ens3", a name of pair 1',
    ]);
  }, 60_000);

  it("a family whose bring-up links reach another pair gets no verdict for every N", () => {
    const sc = bootRaceScenario(2, C);
    const b = sc.bringup !== "none" && sc.bringup ? sc.bringup : { links: [] };
    const r = everyN({ ...sc, bringup: { ...b, links: ["ens*", "ens4"] } }, C);
    expect(r.verdict).toBe("no-cutoff");
    expect(r.crossTalk.length).toBeGreaterThan(0);
    expect(r.environment).toBeNull();
  }, 60_000);
});
