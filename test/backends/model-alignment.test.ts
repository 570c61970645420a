// What `ifsim conform` needs from the model's runner: steps that end on a settled machine
// (settleSteps), and link records whose flags are `ip -j link`'s (M-DOWN included).

import { describe, expect, it } from "vitest";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const VETH_UP: ScenarioDoc = {
  ifsim: 1,
  name: "veth carrier",
  kernel: "6.18",
  devices: [{ id: "v", type: "veth", name: "veth0", peer: "veth1" }],
  steps: [{ ip: "link set dev veth0 up" }, { ip: "link set dev veth1 up" }, { ip: "link show" }],
};

describe("runScenario with settleSteps", () => {
  it("should put the linkwatch records a step leaves behind among its events", () => {
    const r = runScenario(VETH_UP, { settleSteps: true });
    const up = r.steps[1]?.events ?? [];
    expect(up.filter((l) => !l.startsWith(" "))).toEqual([
      "2: veth1@veth0: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default ",
      "2: veth1@veth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
      "3: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
    ]);
    expect(r.steps[2]?.events).toEqual([]);
  });

  it("should keep each step's result (ok, errno, message) while it waits", () => {
    const sc: ScenarioDoc = {
      ...VETH_UP,
      steps: [{ ip: "link set dev veth0 name veth1" }, { ip: "link set dev nosuch up" }, "settle"],
    };
    const r = runScenario(sc, { settleSteps: true });
    expect(r.steps.map((s) => [s.ok, s.errno, s.message])).toEqual([
      [false, "EEXIST", "RTNETLINK answers: File exists"],
      [false, null, 'Cannot find device "nosuch"'],
      [true, null, null],
    ]);
  });

  it("should leave the default (steps race deferred work) unchanged", () => {
    const a = runScenario(VETH_UP);
    const b = runScenario(VETH_UP, { settleSteps: false });
    expect(a.steps).toEqual(b.steps);
  });
});

describe("run record link flags", () => {
  it("should carry M-DOWN for a veth whose peer is down, as ip -j link prints it", () => {
    const sc: ScenarioDoc = { ...VETH_UP, steps: [{ ip: "link set dev veth0 up" }] };
    const r = runScenario(sc, { settleSteps: true });
    const byName = new Map(r.links.map((l) => [l.ifname, l.flags]));
    expect(byName.get("veth0")).toEqual(["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"]);
    expect(byName.get("veth1")).toEqual(["BROADCAST", "MULTICAST"]);
    expect(byName.get("lo")).toEqual(["LOOPBACK"]);
  });
});

describe("veth_validate() (found by ifsim conform on 6.18: no extack message)", () => {
  const run = (ip: string) =>
    runScenario({ ifsim: 1, name: "veth validate", kernel: "6.18", steps: [{ ip }] }).steps[0];

  it("should answer a multicast address with a bare EADDRNOTAVAIL", () => {
    expect(run("link add name m0 address 01:02:03:04:05:06 type veth")).toMatchObject({
      ok: false,
      errno: "EADDRNOTAVAIL",
      message: "RTNETLINK answers: Cannot assign requested address",
    });
  });

  it("should answer an MTU above 65535 with a bare EINVAL", () => {
    expect(run("link add name big mtu 70000 type veth")).toMatchObject({
      ok: false,
      errno: "EINVAL",
      message: "RTNETLINK answers: Invalid argument",
    });
  });
});

// The qemu backend's settle rule (QUIET_MS) and its guest's boot (modules insmodded one after
// another, udevd started first), as conform tells the model: measured with Debian's 6.1 and
// real udevd 252 (test/conformance/qemu-udev).
const VF_PLUG: ScenarioDoc = {
  ifsim: 1,
  name: "VF plugged while the master is up",
  kernel: "6.1",
  devices: [
    { id: "net0", type: "virtio-net", mac: "52:54:00:12:34:56", standby: true, slot: 3 },
    { id: "vf0", type: "pci-nic", mac: "52:54:00:12:34:56", slot: 4, plugged: false },
  ],
  udev: { generation: "v253" },
  steps: ["settle", { ip: "link set dev enp0s3 up" }, { plug: "vf0" }],
};

describe("runScenario with settleQuietUs", () => {
  it("should end every step no earlier than the quiet time after its start", () => {
    const r = runScenario(VF_PLUG, { settleSteps: true, settleQuietUs: 1_200_000 });
    for (const s of r.steps) expect(s.tEnd - s.t).toBeGreaterThanOrEqual(1_200_000);
  });

  it("should report a VF's carrier-off at open before udevd's altname and rename records", () => {
    const heads = (o: { settleQuietUs?: number }) =>
      (runScenario(VF_PLUG, { settleSteps: true, ...o }).steps[2]?.events ?? []).filter(
        (l) => !l.startsWith(" "),
      );
    const firstAltnameOrRename = (ls: string[]) => ls.findIndex((l) => l.startsWith("4: enp1s0"));
    const firstNoCarrier = (ls: string[]) => ls.findIndex((l) => l.includes("NO-CARRIER"));
    const quiet = heads({ settleQuietUs: 1_200_000 });
    expect(firstNoCarrier(quiet)).toBeLessThan(firstAltnameOrRename(quiet));
    // at once, linkwatch ran less than a second ago: the carrier-off waits for its next batch
    const atOnce = heads({});
    expect(firstNoCarrier(atOnce)).toBeGreaterThan(firstAltnameOrRename(atOnce));
  });

  it("should name a master in the steps' monitor records by its name at step 1", () => {
    const r = runScenario(VF_PLUG, { settleSteps: true, settleQuietUs: 1_200_000 });
    const lines = r.steps.flatMap((s) => s.events).filter((l) => l.includes(" master "));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toContain(" master enp0s3 ");
  });
});

describe("runScenario with moduleGapUs", () => {
  const NIC_AT_BOOT: ScenarioDoc = {
    ...VF_PLUG,
    devices: [
      { id: "net0", type: "virtio-net", mac: "52:54:00:12:34:57", slot: 3 },
      { id: "nic0", type: "pci-nic", mac: "52:54:00:12:34:58", slot: 4 },
    ],
    steps: ["settle"],
  };

  it("should let udevd rename the virtio NIC before e1000e registers (e1000e gets eth0)", () => {
    const r = runScenario(NIC_AT_BOOT, { settleSteps: true, moduleGapUs: 200_000 });
    expect(r.udevRenames).toEqual([
      { from: "eth0", to: "enp0s3", errno: null },
      { from: "eth0", to: "enp1s0", errno: null },
    ]);
  });

  it("should load every boot module at power-on by default (e1000e gets eth1)", () => {
    const r = runScenario(NIC_AT_BOOT, { settleSteps: true });
    expect(r.udevRenames).toEqual([
      { from: "eth0", to: "enp0s3", errno: null },
      { from: "eth1", to: "enp1s0", errno: null },
    ]);
  });
});
