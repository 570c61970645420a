// When a scenario's steps start (`script_starts`): by default once boot is quiescent (the kernel
// has no deferred work pending), as on a real machine; with `script_starts: boot` at power-on,
// racing that work. The first step of the seed race is checked against what Debian's 6.1 guest
// printed for it under QEMU (`ifsim conform examples/scenarios/01-seed-race.yaml --backend qemu`).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { queueWork } from "../../src/kernel/index.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import {
  BOOT_QUIESCENCE_MAX_US,
  bootQuiescent,
  prepareRun,
  runScenario,
  runToQuiescence,
  stepRun,
} from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

function load(file: string): ScenarioDoc {
  const r = parseScenario(readFileSync(file, "utf8"), file);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("\n"));
  return r.scenario;
}

const SEED_RACE = load("examples/scenarios/01-seed-race.yaml");
const STARTED = "boot is quiescent (no kernel work pending): the steps start";
const LINK = "    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff";

/** Step 1 of 01-seed-race (`ip link set dev eth0 up`) on Debian's 6.1 under QEMU. */
const KERNEL_STEP1 = [
  "3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
  LINK,
  "3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
  LINK,
  "2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state DOWN group default ",
  LINK,
  "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
  LINK,
];

describe("script_starts: quiescent (the default)", () => {
  it("should start the first step only once the kernel has no deferred work pending", () => {
    const p = prepareRun(SEED_RACE, { kernel: "6.1" });
    // Boot left virtio's config work and linkwatch pending.
    expect(bootQuiescent(p.k)).toBe(false);
    expect(p.script.readyAt()).toBeNull();
    while (!p.script.started) {
      expect(p.script.readyAt() === null, `at ${p.clock.now()} µs`).toBe(!bootQuiescent(p.k));
      expect(stepRun(p)).toBe(true);
    }
    const i = p.w.timeline.findIndex((e) => e.what === STARTED);
    expect(i).toBeGreaterThan(0);
    expect(p.w.timeline[i]?.actor).toBe("script");
    // Every kernel work item ran before it (linkwatch's second batch at 1 s is the last).
    expect(p.w.timeline.slice(i + 1).some((e) => e.actor === "kernel")).toBe(false);
    expect(p.w.timeline[i - 1]).toMatchObject({ actor: "kernel", what: "work linkwatch_event" });
    expect(p.w.timeline[i]?.t).toBe(1_000_000);
    runToQuiescence(p);
  });

  it("should give the seed race's first step the records the real 6.1 kernel gives", () => {
    const r = runScenario(SEED_RACE, { kernel: "6.1", settleSteps: true });
    expect(r.steps[0]?.events).toEqual(KERNEL_STEP1);
    expect(r.steps[0]?.t).toBe(1_000_000);
  });

  it("should wait for kernel work an actor queued during boot (a bring-up actor's open)", () => {
    // Boot work of the virtio-net is done at 1 s, but networkd opened the e1000e (eth1) at 10 ms:
    // its watchdog reports the link 2.4 s later, then linkwatch runs; the steps start after that.
    const sc: ScenarioDoc = {
      ifsim: 1,
      name: "nic brought up at boot",
      kernel: "6.1",
      devices: [
        { id: "net0", type: "virtio-net", mac: "52:54:00:12:34:56", slot: 3 },
        { id: "nic0", type: "pci-nic", mac: "52:54:00:12:34:57", slot: 4 },
      ],
      udev: "none",
      bringup: { links: ["eth1"], wait_for_udev: false },
      steps: [{ ip: "link show dev eth1" }],
    };
    const r = runScenario(sc);
    const start = r.timeline.find((e) => e.what === STARTED);
    const watchdog = r.timeline.find((e) => e.what === "work pci_nic_watchdog");
    expect(r.timeline.find((e) => e.actor === "networkd")?.t).toBe(10_000);
    expect(watchdog?.t).toBe(2_410_000);
    expect(start?.t).toBeGreaterThanOrEqual(2_410_000);
    expect(
      r.timeline.slice(r.timeline.indexOf(start as never)).some((e) => e.actor === "kernel"),
    ).toBe(false);
    expect(r.steps[0]?.t).toBe(start?.t);
    expect(r.links.find((l) => l.ifname === "eth1")?.flags).toContain("LOWER_UP");
  });

  it("should start at once on a machine without boot work", () => {
    const sc: ScenarioDoc = { ifsim: 1, name: "empty", kernel: "6.1", steps: ["settle"] };
    const r = runScenario(sc);
    expect(r.timeline.map((e) => [e.t, e.actor, e.what])).toContainEqual([0, "script", STARTED]);
  });

  it("should not wait forever for work that keeps coming (a periodic watchdog): 15 s at most", () => {
    const p = prepareRun(SEED_RACE, { kernel: "6.1" });
    // A watchdog that requeues itself every 2 s, as e1000e's does on a real kernel.
    p.k.registry.work.set("test_watchdog", (k) => {
      queueWork(k, "test_watchdog", k.clock.now() + 2_000_000);
    });
    queueWork(p.k, "test_watchdog", 0);
    while (!p.script.started) stepRun(p);
    expect(bootQuiescent(p.k)).toBe(false);
    // The first moment the clock (moved by that work) is past the limit: the 16 s run.
    expect(p.clock.now()).toBeGreaterThanOrEqual(BOOT_QUIESCENCE_MAX_US);
    expect(p.clock.now()).toBe(16_000_000);
    const start = p.w.timeline.find((e) => e.actor === "script");
    expect(start).toMatchObject({
      t: 16_000_000,
      what: "boot is not quiescent after 15 s (kernel work keeps coming): the steps start",
    });
  });

  it("should save and restore whether the script has started", () => {
    const p = prepareRun(SEED_RACE, { kernel: "6.1" });
    const before = p.save();
    while (!p.script.started) stepRun(p);
    const t = p.clock.now();
    p.load(before);
    expect(p.script.started).toBe(false);
    expect(p.script.readyAt()).toBeNull();
    while (!p.script.started) stepRun(p);
    expect(p.clock.now()).toBe(t);
  });
});

describe("script_starts: boot", () => {
  it("should start the first step at power-on, racing the boot's deferred work", () => {
    const sc: ScenarioDoc = { ...SEED_RACE, script_starts: "boot" };
    const p = prepareRun(sc, { kernel: "6.1" });
    expect(bootQuiescent(p.k)).toBe(false);
    expect(p.script.readyAt()).toBe(0);
    runToQuiescence(p);
    const r = runScenario(sc, { kernel: "6.1", settleSteps: true });
    expect(r.steps[0]?.t).toBe(0);
    expect(r.timeline.some((e) => e.what === STARTED)).toBe(false);
    // eth1's carrier is not reported yet when the master opens it: the race the default avoids.
    expect(r.steps[0]?.events[0]).toMatch(/^3: eth1: <NO-CARRIER,.*state DOWN/);
    expect(r.steps[0]?.events).not.toEqual(KERNEL_STEP1);
  });
});
