// Free timing (`timing: "free"`, src/explore/scenario-system.ts) must over-approximate the
// timed semantics it replaces: every execution under "any" is an execution under "free", with
// the same states up to time. Checked by simulation: a random walk under "any" is followed step
// by step under "free" (each step mapped to the free lane that does the same thing), and after
// every step the two states must agree on everything but times, and on the invariants. Then the
// usual checks of the search under free timing: independent steps commute, and DPOR with
// hashing and symmetry gives the naive search's verdict.

import { describe, expect, it } from "vitest";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import type { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { search } from "../../src/explore/search.ts";
import { LINKWATCH_WORK, type WorkItem } from "../../src/kernel/index.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { chooser, describeDiamond, diamonds, loadScenario } from "../_helpers/explore.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const SEED_RACE = loadScenario("examples/explore/seed-race.yaml");
const CONFIGS: {
  name: string;
  sc: ScenarioDoc;
  kernel: string;
  walks: number;
  /** Fewer steps per walk than usual: cloud-init's duplicate MAC is violated at once. */
  short?: boolean;
}[] = [
  { name: "seed race 5.0", sc: SEED_RACE, kernel: "5.0", walks: 40 },
  { name: "seed race 6.1", sc: SEED_RACE, kernel: "6.1", walks: 40 },
  { name: "seed race 6.12", sc: SEED_RACE, kernel: "6.12", walks: 20 },
  {
    name: "boot race, one pair, 5.0",
    sc: bootRaceScenario(1, { kernel: "5.0" }),
    kernel: "5.0",
    walks: 40,
  },
  { name: "boot race, one pair, 5.1", sc: bootRaceScenario(1), kernel: "5.1", walks: 40 },
  { name: "boot race, two pairs, 5.1", sc: bootRaceScenario(2), kernel: "5.1", walks: 20 },
  { name: "boot race, three pairs, 6.1", sc: bootRaceScenario(3), kernel: "6.1", walks: 6 },
  {
    name: "01-seed-race 6.1",
    sc: loadScenario("examples/scenarios/01-seed-race.yaml"),
    kernel: "6.1",
    walks: 20,
  },
  {
    name: "02-boot-race 5.0 (a sleep)",
    sc: loadScenario("examples/scenarios/02-boot-race.yaml"),
    kernel: "5.0",
    walks: 20,
  },
  {
    name: "06-udev-seed-race 6.1",
    sc: loadScenario("examples/scenarios/06-udev-seed-race.yaml"),
    kernel: "6.1",
    walks: 20,
  },
  {
    name: "03-migration 6.1",
    sc: loadScenario("examples/scenarios/03-migration.yaml"),
    kernel: "6.1",
    walks: 20,
  },
  {
    name: "04-two-pairs 6.1",
    sc: loadScenario("examples/scenarios/04-two-pairs.yaml"),
    kernel: "6.1",
    walks: 10,
  },
  {
    name: "05-cloud-init-duplicate-mac 6.1",
    sc: loadScenario("examples/scenarios/05-cloud-init-duplicate-mac.yaml"),
    kernel: "6.1",
    walks: 20,
    short: true,
  },
  {
    name: "qtest-migrate-abort-timeout 6.1",
    sc: loadScenario("examples/scenarios/qtest-migrate-abort-timeout.yaml"),
    kernel: "6.1",
    walks: 10,
  },
  {
    name: "qtest-migrate-abort-wait-unplug 6.1",
    sc: loadScenario("examples/scenarios/qtest-migrate-abort-wait-unplug.yaml"),
    kernel: "6.1",
    walks: 10,
  },
  {
    name: "07-udev-boot-race 5.0",
    sc: loadScenario("examples/scenarios/07-udev-boot-race.yaml"),
    kernel: "5.0",
    walks: 20,
  },
];

/** The work item the timed kernel lane runs next (`runDueWork` after the clock moved to it). */
function timedKernelItem(sys: ScenarioSystem): { item: WorkItem; at: number } {
  const work = sys.p.k.state.work;
  let best: WorkItem | undefined;
  for (const w of work)
    if (!best || w.due < best.due || (w.due === best.due && w.seq < best.seq)) best = w;
  if (!best) throw new Error("no kernel work");
  return { item: best, at: Math.max(sys.p.w.now(), best.due) };
}

/** The free lane doing what `lane` does next in the timed system `t`. */
function freeLane(t: ScenarioSystem, f: ScenarioSystem, lane: string): string {
  if (lane === "kernel") {
    const { item, at } = timedKernelItem(t);
    const urgentOnly = item.name === LINKWATCH_WORK && t.p.k.state.linkwatch.nextEvent > at;
    const urgentLane = `kernel/${item.name}!urgent`;
    // An urgent-only run that would do what a full run does is not offered as a lane of its own.
    return urgentOnly && f.enabled().includes(urgentLane) ? urgentLane : `kernel/${item.name}`;
  }
  if (lane === "networkd") {
    const b = t.p.bringup;
    if (!b) throw new Error("no bring-up");
    const pick = b.pendingLinks().sort((x, y) => x.at - y.at || x.ifindex - y.ifindex)[0];
    if (!pick) throw new Error("bring-up has nothing pending");
    return `networkd/${pick.ifindex}`;
  }
  return lane;
}

/** Everything of a run's state but its times (the clock, due times, linkwatch's next run). */
function untimed(sys: ScenarioSystem): string {
  const p = sys.p;
  const k = p.k;
  const kinds = new Map<string, WorkItem[]>();
  for (const w of k.state.work) kinds.set(w.name, [...(kinds.get(w.name) ?? []), w]);
  const work = [...kinds]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([n, l]) => [n, l.sort((a, b) => a.due - b.due || a.seq - b.seq).map((w) => w.arg)]);
  const sv = p.script.explorerView?.();
  return JSON.stringify({
    devices: [...k.state.devices],
    unlisted: [...k.state.unlisted],
    names: [...k.state.names],
    lastIfindex: k.state.lastIfindex,
    subsys: k.state.subsys,
    linkwatch: { list: k.state.linkwatch.list, urgent: k.state.linkwatch.urgent },
    work,
    udev: p.udev?.explorerView() ?? null,
    udevRenames: p.udev?.renames.map(({ t: _t, ...r }) => r) ?? null,
    bringup: p.bringup?.explorerView() ?? null,
    script: sv ? { ...sv, wait: sv.wait ? sv.wait.kind : null, settleSince: null } : null,
    machine: p.machine.state,
    qemu: p.qemu.explorerView?.() ?? null,
    cloudInit: p.probe ? { ready: p.probe.readyAt() !== null, result: p.probe.result } : null,
  });
}

describe(`free timing simulates every "any" execution (seed ${SEED})`, () => {
  for (const [ci, c] of CONFIGS.entries())
    it(`${c.name}: ${c.walks} random walks under "any", followed step by step under "free"`, () => {
      const next = chooser(SEED + ci);
      let steps = 0;
      let urgentOnly = 0;
      let outOfOrder = 0;
      for (let walk = 0; walk < c.walks; walk++) {
        // Single steps on both sides (coarse steps are a reduction of their own, tested apart:
        // under free timing the end of a sleep moves no clock anyone reads, so it merges further).
        const t = systemFor(c.sc, { kernel: c.kernel, timing: "any", atomic: false });
        const f = systemFor(c.sc, { kernel: c.kernel, timing: "free", atomic: false });
        const path: string[] = [];
        for (;;) {
          const en = t.enabled();
          const where = `${c.name}, walk ${walk}, after ${path.join(" ")}`;
          if (en.length === 0) {
            expect(f.enabled(), `${where}: quiescent under "any" only`).toEqual([]);
            expect(f.check(true), where).toEqual(t.check(true));
            break;
          }
          expect(path.length, where).toBeLessThan(2000);
          const lane = en[next(en.length)] as string;
          const fl = freeLane(t, f, lane);
          if (fl.endsWith("!urgent")) urgentOnly++;
          if (
            fl.startsWith("kernel/") &&
            f.enabled().filter((l) => l.startsWith("kernel/")).length > 1
          )
            outOfOrder++;
          expect(f.enabled(), `${where}: "${lane}" is "${fl}" under "free"`).toContain(fl);
          t.fire(lane);
          f.fire(fl);
          path.push(fl);
          steps++;
          const [uf, ut] = [untimed(f), untimed(t)];
          if (uf !== ut) {
            let i = 0;
            while (uf[i] === ut[i]) i++;
            expect(uf.slice(i - 200, i + 100), `${where}: the states differ`).toBe(
              ut.slice(i - 200, i + 100),
            );
          }
          const tv = t.check(false);
          expect(f.check(false), where).toEqual(tv);
          if (tv) break;
        }
      }
      // The walks met the choices free timing adds (other kinds pending; linkwatch's two runs).
      expect(steps).toBeGreaterThan(c.walks * (c.short ? 1 : 5));
      console.log(
        `${c.name}: ${steps} steps; ${outOfOrder} kernel steps with other kinds of work pending, ${urgentOnly} urgent-only linkwatch runs`,
      );
    });
});

describe(`free timing: the search's reductions (seed ${SEED})`, () => {
  it("should reach the same state key in both orders for every independent pair", () => {
    const bad: string[] = [];
    let total = 0;
    for (const [i, c] of CONFIGS.slice(0, 6).entries()) {
      const r = diamonds(() => systemFor(c.sc, { kernel: c.kernel, timing: "free" }), {
        walks: 6,
        seed: SEED + i,
      });
      total += r.diamonds.length;
      for (const d of r.diamonds) {
        if (d.ab?.plain === d.ba?.plain) continue;
        if (/^udev\/w/.test(d.a) && /^udev\/w/.test(d.b) && d.ab?.sym === d.ba?.sym) continue;
        bad.push(`${c.name} ${describeDiamond(d)}`);
      }
    }
    expect(total).toBeGreaterThan(100);
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it("should give the naive search's verdict with DPOR, hashing and symmetry", () => {
    for (const c of CONFIGS.slice(0, 5)) {
      const sys = () => systemFor(c.sc, { kernel: c.kernel, timing: "free" });
      const dpor = search(sys());
      const naive = search(sys(), { reduction: "none", hashing: true, symmetry: false });
      expect(`${c.name}: ${dpor.verdict}`).toBe(`${c.name}: ${naive.verdict}`);
      if (naive.verdict === "verified")
        expect(dpor.stats.distinct, c.name).toBeLessThanOrEqual(naive.stats.distinct);
    }
  });
});

describe("free timing: what it refuses", () => {
  it("should refuse a timed view, saying why", () => {
    expect(() => systemFor(SEED_RACE, { timing: "free", view: "exact" })).toThrow(
      /keys no time: view "exact" does not apply/,
    );
    expect(() => systemFor(SEED_RACE, { view: "free" })).toThrow(/needs timing "free"/);
  });
});
