// A scenario as an explorable system: the footprints fire() returns (the dependency relation the
// search uses: two steps are dependent when they touch the same device field, the same name, the
// MAC-pairing table or the same udev database entry, or either touches everything), what the
// relation does on random walks through the seed race and the boot race, and the state keys
// (symmetric paths, restore).

import { describe, expect, it } from "vitest";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { ScenarioSystem, type ScenarioSystemOptions } from "../../src/explore/scenario-system.ts";
import { dependent } from "../../src/explore/system.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import {
  chooser,
  type DiamondRun,
  describeDiamond,
  diamonds,
  loadScenario,
} from "../_helpers/explore.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const SEED_RACE = loadScenario("examples/explore/seed-race.yaml");
const BOOT_RACE_07 = loadScenario("examples/scenarios/07-udev-boot-race.yaml");

/** A system, and a helper that fires one lane from a snapshot and returns its footprint. */
function at(sc: ScenarioDoc, o: ScenarioSystemOptions, prefix: readonly string[] = []) {
  const sys = new ScenarioSystem(sc, o);
  for (const l of prefix) sys.fire(l);
  const snap = sys.save();
  const fire = (lane: string): Set<string> => {
    sys.restore(snap);
    return new Set(sys.fire(lane));
  };
  return { sys, snap, fire };
}

/** The ifindex of the device named `name` now. */
function ifindexOf(sys: ScenarioSystem, name: string): number {
  const i = sys.kernel.state.names.get(name);
  if (i === undefined) throw new Error(`no device named ${name}`);
  return i;
}

const intersect = (a: ReadonlySet<string>, b: ReadonlySet<string>): string[] =>
  [...a].filter((r) => b.has(r)).sort();
const without = (a: ReadonlySet<string>, r: string): Set<string> =>
  new Set([...a].filter((x) => x !== r));

describe("dependent", () => {
  it("should be true for footprints that share a resource", () => {
    expect(dependent(new Set(["dev:2.name", "name:ens3"]), new Set(["name:ens3"]))).toBe(true);
  });

  it("should be false for disjoint footprints", () => {
    expect(dependent(new Set(["dev:2.name"]), new Set(["dev:2.carrier", "dev:3.name"]))).toBe(
      false,
    );
    expect(dependent(new Set(), new Set(["dev:2.name"]))).toBe(false);
  });

  it("should be true when either footprint is global (*)", () => {
    expect(dependent(new Set(["*"]), new Set(["udevdb:2"]))).toBe(true);
    expect(dependent(new Set(["script"]), new Set(["*"]))).toBe(true);
    expect(dependent(new Set(), new Set(["*"]))).toBe(true);
  });
});

describe("ScenarioSystem.fire footprints", () => {
  it("should let udev renames of two different devices meet only in the udev queue", () => {
    // The boot race: udevd's two workers hold the master's and the standby's add events, more
    // events wait in the queue, and each rename queues its move event.
    // (The coarse view: under the exact one each worker also reads the clock it sets timers
    // from, so moving it makes them dependent; test/explore/soundness.test.ts.)
    const { sys, fire } = at(bootRaceScenario(1), { kernel: "5.1", view: "coarse" });
    expect(sys.enabled()).toEqual(expect.arrayContaining(["udev/w0", "udev/w1"]));
    const [j0, j1] = sys.p.udev?.explorerView().workers ?? [];
    expect(j0?.ifindex).not.toBe(j1?.ifindex);
    const f0 = fire("udev/w0");
    const f1 = fire("udev/w1");
    expect(f0).toContain(`dev:${j0?.ifindex}.name`);
    expect(f1).toContain(`dev:${j1?.ifindex}.name`);
    // Both move the clock forward ("?clock"): such moves commute.
    expect(intersect(f0, f1).filter((r) => r !== "?clock")).toEqual(["udev:queue"]);
    expect(dependent(f0, f1)).toBe(true);
    expect(dependent(without(f0, "udev:queue"), without(f1, "udev:queue"))).toBe(false);
  });

  it("should keep udev renames of two different devices independent when the queue is untouched", () => {
    // The seed race at boot: two events, two workers, nothing queued (coarse view, as above).
    const { sys, fire } = at(SEED_RACE, { kernel: "6.1", view: "coarse" });
    const f0 = fire("udev/w0");
    const f1 = fire("udev/w1");
    expect(sys.p.udev?.renames.map((r) => r.to)).toEqual(["ens3nsby"]);
    expect(f0).toContain("name:ens3");
    expect(f1).toContain("name:ens3nsby");
    expect(f0).not.toContain("udev:queue");
    expect(dependent(f0, f1)).toBe(false);
  });

  it("should make udevd's rename of a device and networkd bringing the same device up dependent", () => {
    // 07 (q35): networkd brings up eth* without waiting for udev, udevd renames eth0 to enp0s3.
    const { sys, fire } = at(BOOT_RACE_07, { kernel: "6.1" });
    const eth0 = ifindexOf(sys, "eth0");
    expect(sys.p.udev?.explorerView().workers[0]?.ifindex).toBe(eth0);
    const rename = fire("udev/w0");
    expect(sys.p.udev?.renames.at(-1)).toMatchObject({ from: "eth0", to: "enp0s3", errno: null });
    const up = fire("networkd");
    // fire() restores the world's snapshot around a step, so only the newest entry is compared.
    expect(sys.p.w.timeline.at(-1)).toMatchObject({
      actor: "networkd",
      what: "eth0: bringing link up",
    });
    expect(rename).toContain(`dev:${eth0}.name`);
    expect(up).toContain(`dev:${eth0}.flags`);
    expect(dependent(rename, up)).toBe(true);
  });

  it("should keep a carrier change of one device independent of a rename of another", () => {
    // The boot race after the first linkwatch run: the kernel's next work turns the standby's
    // carrier on (virtio config work), udev worker 0 renames the master.
    const { sys, fire } = at(bootRaceScenario(1), { kernel: "5.1" }, ["kernel"]);
    const master = ifindexOf(sys, "eth0");
    const standby = ifindexOf(sys, "eth1");
    const tl = sys.p.w.timeline.length;
    const carrier = fire("kernel");
    expect(sys.p.w.timeline.slice(tl).map((e) => e.what)).toEqual([
      "work virtnet_config_changed_work",
    ]);
    expect(sys.kernel.state.devices.get(standby)?.carrier).toBe(true);
    const rename = fire("udev/w0");
    expect(sys.kernel.state.devices.get(master)?.name).toBe("ens3");
    expect(carrier).toContain(`dev:${standby}.carrier`);
    expect([...carrier].some((r) => r.startsWith(`dev:${master}.`))).toBe(false);
    expect(rename).toContain(`dev:${master}.name`);
    expect([...rename].some((r) => r.startsWith(`dev:${standby}.`))).toBe(false);
    // They meet only through the clock: the rename's worker moves it forward ("?clock") and the
    // carrier work queues linkwatch work due relative to it ("clock").
    expect(dependent(without(carrier, "clock"), without(rename, "?clock"))).toBe(false);
  });

  it("should make plugging a VF touch the MAC-pairing table", () => {
    // The seed race after the boot settle: the next script step hot-plugs the VF, which the
    // failover module pairs with the master by MAC.
    const sys = new ScenarioSystem(SEED_RACE, { kernel: "6.1" });
    const s = sys.p.script;
    while (!(s.stepIndex === 1 && !s.waitingForSettle && sys.enabled().includes("script")))
      sys.fire(sys.nextByTime() as string);
    expect(SEED_RACE.steps[1]).toEqual({ plug: "vf0" });
    const fp = new Set(sys.fire("script"));
    expect(dependent(fp, new Set(["mac-pairing"]))).toBe(true);
    const vf = [...sys.kernel.state.devices.values()].find((d) => d.driver === "e1000e");
    const master = [...sys.kernel.state.devices.values()].find((d) => d.driver === "net_failover");
    expect(master?.lowers.map((l) => l.ifindex)).toContain(vf?.ifindex);
  });

  it("should write the MAC-pairing table when a failover standby is plugged", () => {
    const sc: ScenarioDoc = {
      ifsim: 1,
      machine: "i440fx", // ACPI slots: the ens3 names below
      name: "plug a standby",
      kernel: "6.1",
      devices: [
        {
          id: "net0",
          type: "virtio-net",
          mac: "52:54:00:12:34:56",
          standby: true,
          slot: 3,
          plugged: false,
        },
      ],
      udev: "none",
      steps: [{ plug: "net0" }],
    };
    const sys = new ScenarioSystem(sc, {});
    expect(sys.enabled()).toEqual(["script"]);
    expect(sys.fire("script")).toContain("mac-pairing");
  });

  it("should touch udevdb:X whenever a udev worker processes device X", () => {
    for (const [sc, kernel] of [
      [SEED_RACE, "5.0"],
      [SEED_RACE, "6.1"],
      [bootRaceScenario(2), "5.1"],
    ] as const) {
      const sys = new ScenarioSystem(sc, { kernel });
      let udevSteps = 0;
      for (let lane = sys.nextByTime(); lane !== null; lane = sys.nextByTime()) {
        const m = /^udev\/w(\d+)$/.exec(lane);
        const job = m ? sys.p.udev?.explorerView().workers[Number(m[1])] : null;
        const fp = sys.fire(lane);
        if (!job) continue;
        udevSteps++;
        expect(fp, `${lane} on ifindex ${job.ifindex}`).toContain(`udevdb:${job.ifindex}`);
      }
      expect(udevSteps).toBeGreaterThanOrEqual(4);
    }
  });

  it("should touch only the script, the kernel's work list and the clock when the script starts a settle after boot", () => {
    // The script lane is enabled once boot is quiescent (the kernel's boot work has run, or the
    // clock has passed the boot wait's bound): its first step reads what enabled it.
    const prefix: string[] = [];
    const sys = new ScenarioSystem(SEED_RACE, { kernel: "6.1" });
    while (!sys.enabled().includes("script")) {
      const lane = sys.enabled().includes("kernel") ? "kernel" : (sys.nextByTime() as string);
      sys.fire(lane);
      prefix.push(lane);
    }
    const { fire } = at(SEED_RACE, { kernel: "6.1", atomic: false }, prefix);
    expect(SEED_RACE.steps[0]).toBe("settle");
    expect([...fire("script")].sort()).toEqual(["clock", "kwork", "script"]);
  });

  it("should run a step that touches only the script together with the script's next step (atomic)", () => {
    // Racing boot, the script starts a sleep (a step that touches only the script), then ends it
    // (moving the clock: visible to every timed lane, so the coarse step ends there).
    const sc: ScenarioDoc = {
      ...SEED_RACE,
      script_starts: "boot",
      steps: [{ sleep: 5 }, "settle"],
    };
    // (The coarse view: under the exact one starting the sleep reads the clock, which other
    // lanes move, so it is not private.)
    const fine = new ScenarioSystem(sc, { kernel: "6.1", atomic: false, view: "coarse" });
    expect(fine.enabled()).toContain("script");
    expect(fine.fire("script")).toEqual(["script"]);
    const second = new Set(fine.fire("script"));
    expect(second.has("?clock")).toBe(true);
    expect(fine.merged).toBe(0);
    const coarse = new ScenarioSystem(sc, { kernel: "6.1", view: "coarse" });
    expect(coarse.atomic).toBe(true);
    // One step: both, with the union footprint, and the same state as the two fine steps.
    expect(new Set(coarse.fire("script"))).toEqual(new Set(["script", ...second]));
    expect(coarse.merged).toBe(1);
    expect(coarse.p.script.stepIndex).toBe(fine.p.script.stepIndex);
    expect(coarse.p.w.now()).toBe(fine.p.w.now());
    expect(coarse.fingerprint(false).key).toBe(fine.fingerprint(false).key);
    // A visible step is never merged: the kernel's work stays one item per step.
    const k1 = new ScenarioSystem(sc, { kernel: "6.1", view: "coarse" });
    const k0 = new ScenarioSystem(sc, { kernel: "6.1", atomic: false, view: "coarse" });
    expect(k1.fire("kernel")).toEqual(k0.fire("kernel"));
    expect(k1.merged).toBe(0);
  });

  it("should keep the script lane disabled until boot is quiescent, unless the scenario races boot", () => {
    // The seed race boots a virtio-net STANDBY: its config work and linkwatch are pending.
    // (Fine steps: with coarse ones the script's start runs on into its first step.)
    const quiescent = new ScenarioSystem(SEED_RACE, { kernel: "6.1", atomic: false });
    expect(quiescent.p.k.state.work.length).toBeGreaterThan(0);
    expect(quiescent.enabled()).toContain("kernel");
    expect(quiescent.enabled()).not.toContain("script");
    expect(() => quiescent.fire("script")).toThrow(/not enabled/);
    // Every interleaving of the other lanes keeps it disabled while kernel work is pending; it
    // is enabled the moment none is, and stays so once it started.
    let steps = 0;
    while (!quiescent.p.script.started) {
      const en = quiescent.enabled();
      expect(en.includes("script"), `after ${steps} steps`).toBe(
        quiescent.p.k.state.work.length === 0,
      );
      quiescent.fire(en.includes("script") ? "script" : (en[steps % en.length] as string));
      steps++;
    }
    expect(quiescent.p.script.records).toEqual([]);
    const racing = new ScenarioSystem({ ...SEED_RACE, script_starts: "boot" }, { kernel: "6.1" });
    expect(racing.p.k.state.work.length).toBeGreaterThan(0);
    expect(racing.enabled()).toContain("script");
  });

  it("should refuse a lane that is not enabled", () => {
    const sys = new ScenarioSystem(SEED_RACE, { kernel: "6.1" });
    expect(sys.enabled()).not.toContain("networkd");
    expect(() => sys.fire("networkd")).toThrow(/not enabled/);
    expect(() => sys.fire("udev/w9")).toThrow(/not enabled/);
  });
});

describe(`the dependency relation on random walks (seed ${SEED})`, () => {
  // Every state of 8 seeded walks per configuration; every pair of lanes enabled there whose
  // footprints are independent is fired in both orders.
  // The seed race once with its script waiting for boot quiescence (more walks: the script lane
  // has fewer states to race in) and once with the script racing boot (script_starts: boot).
  const CONFIGS: { name: string; sc: ScenarioDoc; kernel: string; walks: number }[] = [
    { name: "seed race 5.0", sc: SEED_RACE, kernel: "5.0", walks: 16 },
    {
      name: "seed race 6.1, script_starts: boot",
      sc: { ...SEED_RACE, script_starts: "boot" },
      kernel: "6.1",
      walks: 12,
    },
    { name: "bootRaceScenario(1) 5.0", sc: bootRaceScenario(1), kernel: "5.0", walks: 8 },
    { name: "bootRaceScenario(1) 5.1", sc: bootRaceScenario(1), kernel: "5.1", walks: 8 },
  ];
  let memo: { name: string; run: DiamondRun }[] | null = null;
  const runs = (): { name: string; run: DiamondRun }[] => {
    memo ??= CONFIGS.map(({ name, sc, kernel, walks }, i) => ({
      name,
      // the coarse view, whose footprints leave the clock out (under the exact view
      // test/explore/soundness.test.ts checks the commutation with the clock in them)
      run: diamonds(() => new ScenarioSystem(sc, { kernel, view: "coarse" }), {
        walks,
        seed: SEED + i,
      }),
    }));
    return memo;
  };
  const all = () => runs().flatMap((r) => r.run.diamonds);

  it("should find hundreds of independent pairs", () => {
    for (const { name, run } of runs()) {
      expect(run.states, name).toBeGreaterThan(50);
      expect(run.diamonds.length, name).toBeGreaterThan(100);
    }
    expect(all().length).toBeGreaterThan(600);
  });

  it("should keep both steps of an independent pair enabled in either order", () => {
    const bad = all().filter((d) => !d.aAfterB || !d.bAfterA);
    expect(bad.map(describeDiamond)).toEqual([]);
  });

  it("should let independent steps of two udev workers commute (up to worker symmetry)", () => {
    const udev = all().filter((d) => d.a.startsWith("udev/") && d.b.startsWith("udev/"));
    expect(udev.length).toBeGreaterThan(50);
    const bad = udev.filter((d) => d.ab === null || d.ba === null || d.ab.sym !== d.ba.sym);
    expect(bad.map(describeDiamond)).toEqual([]);
  });
});

describe("ScenarioSystem.key", () => {
  it("should give equal symmetric keys to the states of bootRaceScenario(2) whose udev workers are swapped", () => {
    // Worker 0 handles the first pair's master and standby (rename + finish each), then the
    // next queued event goes to whichever worker is free first.
    const sc = bootRaceScenario(2);
    const w0 = Array<string>(5).fill("udev/w0");
    // (The coarse view: under the exact one the two orders leave the workers' due times
    // different relative to now, so the states are not symmetric.)
    const reach = (path: readonly string[]) => {
      const sys = new ScenarioSystem(sc, { kernel: "5.1", view: "coarse" });
      for (const l of path) sys.fire(l);
      return sys;
    };
    const p = reach([...w0, "udev/w0", "udev/w1"]);
    const q = reach([...w0, "udev/w1", "udev/w0"]);
    const wp = p.p.udev?.explorerView().workers ?? [];
    const wq = q.p.udev?.explorerView().workers ?? [];
    expect(wp[0]).not.toBeNull();
    expect(wp[1]).not.toBeNull();
    expect(wp[0]?.ifindex).not.toBe(wp[1]?.ifindex);
    expect([wq[0], wq[1]]).toEqual([wp[1], wp[0]]);
    expect(p.key(false).key).not.toBe(q.key(false).key);
    const kp = p.key(true);
    const kq = q.key(true);
    expect(kp.key).toBe(kq.key);
    // The lanes map to canonical lanes consistently: the worker holding the same job is one lane.
    expect(kp.lane("udev/w0")).toBe(kq.lane("udev/w1"));
    expect(kp.lane("udev/w1")).toBe(kq.lane("udev/w0"));
  });

  it("should give symmetric keys that differ for states that are not symmetric", () => {
    const sys = new ScenarioSystem(bootRaceScenario(2), { kernel: "5.1" });
    const before = sys.key(true).key;
    sys.fire("udev/w0");
    expect(sys.key(true).key).not.toBe(before);
  });

  it(`should give the same keys after restore as before (seed ${SEED})`, () => {
    let checked = 0;
    for (const [i, [sc, kernel]] of (
      [
        [SEED_RACE, "6.1"],
        [bootRaceScenario(2), "5.0"],
      ] as const
    ).entries()) {
      const next = chooser(SEED + 100 + i);
      for (let walk = 0; walk < 3; walk++) {
        const sys = new ScenarioSystem(sc, { kernel });
        for (let en = sys.enabled(); en.length > 0; en = sys.enabled()) {
          const snap = sys.save();
          const plain = sys.key(false).key;
          const sym = sys.key(true).key;
          // Wander off up to three steps, come back.
          for (let d = 0; d < 3; d++) {
            const e = sys.enabled();
            if (e.length === 0) break;
            sys.fire(e[next(e.length)] as string);
          }
          sys.restore(snap);
          expect(sys.key(false).key).toBe(plain);
          expect(sys.key(true).key).toBe(sym);
          expect(sys.enabled()).toEqual(en);
          checked++;
          if (sys.check(false) !== null) break;
          sys.fire(en[next(en.length)] as string);
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
