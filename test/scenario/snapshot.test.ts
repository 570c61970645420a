// A scenario run saved at a choice point and restored in place reruns to the same record: for
// every example the model runs, on 5.0 and 6.1, saved after several numbers of main-loop turns.
// Also: the prepared run's record equals runScenario's, a restore after a different branch, and
// udevd's workers as lanes.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/parse.ts";
import {
  finishRun,
  type PreparedRun,
  prepareRun,
  RunError,
  type RunOptions,
  runScenario,
  runToQuiescence,
  stepRun,
} from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const DIR = "examples/scenarios";
const KERNELS = ["5.0", "6.1"];

const examples: { name: string; sc: ScenarioDoc }[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .flatMap((f) => {
    const r = parseScenario(readFileSync(`${DIR}/${f}`, "utf8"), f);
    return r.ok ? [{ name: f.slice(0, -".yaml".length), sc: r.scenario }] : [];
  });

/** Prepares a run, or null when the model refuses the scenario (RunError). */
function tryPrepare(sc: ScenarioDoc, o: RunOptions): PreparedRun | null {
  try {
    return prepareRun(sc, o);
  } catch (e) {
    if (e instanceof RunError) return null;
    throw e;
  }
}

/** Runs to quiescence and returns the record as JSON. */
function finish(p: PreparedRun): string {
  runToQuiescence(p);
  return JSON.stringify(finishRun(p));
}

/** Main-loop turns until quiescence. */
function turns(p: PreparedRun): number {
  let n = 0;
  while (stepRun(p)) n++;
  return n;
}

/** Where to save: after 0, 3, 7 turns, halfway and at the end. */
function savePoints(total: number): number[] {
  return [...new Set([0, 3, 7, Math.floor(total / 2), total])].filter((n) => n <= total);
}

const cases = examples.flatMap(({ name, sc }) =>
  KERNELS.flatMap((kernel) => {
    const probe = tryPrepare(sc, { kernel });
    return probe ? [{ name, sc, kernel, total: turns(probe) }] : [];
  }),
);

describe("PreparedRun.save / load", () => {
  it("should cover the examples on both kernels", () => {
    expect(cases.length).toBeGreaterThanOrEqual(2 * 20);
  });

  it.each(cases)("$name on $kernel: reruns to the same record after load", (c) => {
    const want = JSON.stringify(runScenario(c.sc, { kernel: c.kernel }));
    for (const k of savePoints(c.total)) {
      const p = prepareRun(c.sc, { kernel: c.kernel });
      for (let i = 0; i < k; i++) stepRun(p);
      const snap = p.save();

      const a = finish(p);
      p.load(snap);
      const b = finish(p);
      p.load(snap);
      p.load(snap);
      const again = finish(p);

      expect(a, `saved after ${k} turns`).toBe(want);
      expect(b, `saved after ${k} turns`).toBe(a);
      expect(again, `saved after ${k} turns`).toBe(a);
    }
  });

  it.each(cases)("$name on $kernel: settleSteps reruns to the same record", (c) => {
    const o = { kernel: c.kernel, settleSteps: true };
    const want = JSON.stringify(runScenario(c.sc, o));
    const p = prepareRun(c.sc, o);
    for (let i = 0; i < 5; i++) stepRun(p);
    const snap = p.save();

    const a = finish(p);
    p.load(snap);

    expect(a).toBe(want);
    expect(finish(p)).toBe(a);
  });

  it.each(cases)("$name on $kernel: restores after a different interleaving", (c) => {
    const p = prepareRun(c.sc, { kernel: c.kernel });
    for (let i = 0; i < Math.floor(c.total / 3); i++) stepRun(p);
    const snap = p.save();
    const a = finish(p);
    p.load(snap);

    // Another branch: always the last ready actor, whatever its time.
    for (let n = 0; n < 10_000; n++) {
      const cands = p.w.sched.candidates();
      const last = cands[cands.length - 1];
      if (!last) {
        if (!p.script.waitingForSettle) break;
        p.script.settled();
        continue;
      }
      if (last.time > p.clock.now()) p.clock.advanceTo(last.time);
      p.w.sched.actors.find((x) => x.name === last.actor)?.step();
      p.w.dispatch();
    }
    p.load(snap);

    expect(finish(p)).toBe(a);
  });

  it("should refuse a snapshot of an abandoned branch", () => {
    const c = cases.find((x) => x.name === "04-two-pairs" && x.kernel === "6.1");
    if (!c) throw new Error("04-two-pairs is missing");
    const p = prepareRun(c.sc, { kernel: c.kernel });
    const root = p.save();
    runToQuiescence(p);
    const leaf = p.save();
    p.load(root);
    runToQuiescence(p);
    p.load(root);
    stepRun(p);
    stepRun(p);

    expect(() => p.load(leaf)).toThrow(RangeError);
  });
});

describe("PreparedRun.load and the step monitor", () => {
  it("should restore its ll_map (a peer's flags as last seen)", () => {
    const r = parseScenario(
      [
        "ifsim: 1",
        "name: veth peer flags",
        'kernel: "6.1"',
        "devices:",
        "  - { id: v, type: veth, name: va, peer: vb }",
        "steps:",
        "  - ip: link set dev va up",
        "  - ip: link set dev vb up",
        "",
      ].join("\n"),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const p = prepareRun(r.scenario, {});
    const snap = p.save();
    const a = finish(p);
    p.load(snap);

    // Step 1 prints va with M-DOWN only if the monitor still remembers vb as down.
    expect(a).toContain("M-DOWN");
    expect(finish(p)).toBe(a);
  });
});

describe("prepareRun", () => {
  it("should expose the actors and the script's position", () => {
    const ex = examples.find((e) => e.name === "07-udev-boot-race");
    if (!ex) throw new Error("07-udev-boot-race is missing");
    const p = prepareRun(ex.sc, { kernel: "6.1" });

    expect(p.script.stepIndex).toBe(0);
    expect(p.script.done).toBe(false);
    expect(p.udev).not.toBeNull();
    expect(p.kernelActor.name).toBe("kernel");
    expect(p.qemu.name).toBe("qemu");
    expect(p.w.sched.actors.map((a) => a.name)).toContain("script");

    runToQuiescence(p);

    expect(p.script.done).toBe(true);
    expect(p.script.stepIndex).toBe(ex.sc.steps.length);
    expect(p.script.records.length).toBe(ex.sc.steps.length);
  });

  it("should leave the run as it was in finishRun (a second call gives the same record)", () => {
    const ex = examples.find((e) => e.name === "04-two-pairs");
    if (!ex) throw new Error("04-two-pairs is missing");
    const p = prepareRun(ex.sc, {});
    runToQuiescence(p);

    expect(JSON.stringify(finishRun(p))).toBe(JSON.stringify(finishRun(p)));
  });
});

describe("udevd workers as lanes", () => {
  const udevCases = cases.filter((c) => c.sc.udev !== undefined && c.sc.udev !== "none");

  it("should have udev examples", () => {
    expect(udevCases.length).toBeGreaterThan(0);
  });

  it.each(udevCases)("$name on $kernel: stepping the earliest lane equals step()", (c) => {
    const want = JSON.stringify(runScenario(c.sc, { kernel: c.kernel }));
    const p = prepareRun(c.sc, { kernel: c.kernel });
    const udev = p.udev;
    if (!udev) throw new Error("no udev");
    const realStep = udev.step.bind(udev);
    // Each time the scheduler runs udevd: step() on a snapshot, then each lane step() could have
    // picked (ready at the earliest time; the tie-break by arrival order is not visible), restored
    // in between; one of them must leave udevd as step() does. Then the real step.
    let lanes = 0;
    udev.step = () => {
      const before = JSON.stringify(udev.explorerView());
      const snap = p.save();
      realStep();
      const viaStep = JSON.stringify(udev.explorerView());
      p.load(snap);
      expect(JSON.stringify(udev.explorerView())).toBe(before);
      let best = -1;
      for (let i = 0; i < udev.workerCount; i++) {
        const t = udev.workerReadyAt(i);
        if (t === null || t > p.clock.now()) continue;
        const b = best < 0 ? null : udev.workerReadyAt(best);
        if (b === null || t < b) best = i;
      }
      if (best < 0) {
        realStep();
        return;
      }
      // Try every ready lane with the earliest time; one of them is what step() ran.
      const tried: string[] = [];
      for (let i = 0; i < udev.workerCount; i++) {
        if (udev.workerReadyAt(i) !== udev.workerReadyAt(best)) continue;
        const s = p.save();
        udev.stepWorker(i);
        tried.push(JSON.stringify(udev.explorerView()));
        p.load(s);
      }
      expect(tried).toContain(viaStep);
      realStep();
      lanes++;
    };
    runToQuiescence(p);
    udev.step = realStep;

    expect(lanes).toBeGreaterThan(0);
    expect(JSON.stringify(finishRun(p))).toBe(want);
  });

  it("should report free workers and refuse to step them", () => {
    const c = udevCases[0];
    if (!c) throw new Error("no udev example");
    const p = prepareRun(c.sc, { kernel: c.kernel });
    const udev = p.udev;
    if (!udev) throw new Error("no udev");
    runToQuiescence(p);

    expect(udev.workerCount).toBeGreaterThan(0);
    for (let i = 0; i < udev.workerCount; i++) expect(udev.workerReadyAt(i)).toBeNull();
    expect(() => udev.stepWorker(0)).toThrow(RangeError);
    expect(() => udev.workerReadyAt(udev.workerCount)).toThrow(RangeError);
    const view = udev.explorerView();
    expect(view.queue).toEqual([]);
    expect(view.workers.every((w) => w === null)).toBe(true);
    const order = view.db.map((e) => e.ifindex);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(view.db.every((e) => e.initialized !== undefined && !("properties" in e))).toBe(true);
  });

  it("should refuse to step a worker before its job is ready", () => {
    const c = udevCases[0];
    if (!c) throw new Error("no udev example");
    const p = prepareRun(c.sc, { kernel: c.kernel });
    const udev = p.udev;
    if (!udev) throw new Error("no udev");
    // Before anything ran, the boot's uevents are on workers, ready after the latencies.
    const i = [...Array(udev.workerCount).keys()].find((x) => udev.workerReadyAt(x) !== null);
    if (i === undefined) throw new Error("no busy worker at boot");

    expect(udev.workerReadyAt(i)).toBeGreaterThan(p.clock.now());
    expect(() => udev.stepWorker(i)).toThrow(RangeError);
  });
});

describe("BringupActor.explorerView", () => {
  it("should list seen links in order and handled ones sorted", () => {
    const c = cases.find((x) => x.sc.bringup !== undefined && x.sc.bringup !== "none");
    if (!c) throw new Error("no bring-up example");
    const p = prepareRun(c.sc, { kernel: c.kernel });
    runToQuiescence(p);
    const v = p.bringup?.explorerView();

    expect(v).toBeDefined();
    expect(v?.done).toEqual([...(v?.done ?? [])].sort((a, b) => a - b));
    for (const i of v?.done ?? []) expect(v?.seen).toContain(i);
  });
});
