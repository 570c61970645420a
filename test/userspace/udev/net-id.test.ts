// net_id as pure functions: the name table of systemd's udev-builtin-net_id.c (slot,
// path, MAC, onboard, port suffixes, domain, function), the naming-scheme rules, and the names the
// model's failover VM gets when its devices are read through sysfs.

import { describe, expect, it } from "vitest";
import { createKernel, parsePciAddr } from "../../../src/kernel/index.ts";
import { FAILOVER_VM, Machine } from "../../../src/machine/index.ts";
import { Rng, VirtualClock } from "../../../src/sim/index.ts";
import {
  NAMING_SCHEMES,
  type NetFacts,
  type NetIdOptions,
  namingSchemeHas,
  netId,
  type PciFacts,
  portSpecifier,
  readNetFacts,
} from "../../../src/userspace/udev/index.ts";

/** A PCI function as net_id sees it on an i440fx machine (ACPI slot N for bus-0 slot N). */
function pci(addr: string, o: Partial<PciFacts> = {}): PciFacts {
  const [domain, bus, slot, func] = parsePciAddr(addr);
  return {
    addr,
    domain,
    bus,
    slot,
    func,
    multifunction: false,
    bridge: false,
    hotplugSlot: bus === 0 && slot > 0 ? slot : null,
    acpiIndex: null,
    ...o,
  };
}

function facts(o: Partial<NetFacts> = {}): NetFacts {
  return {
    ifindex: 2,
    iflink: 2,
    name: "eth0",
    type: 1,
    address: "52:54:00:00:12:53",
    addrAssignType: 0,
    nameAssignType: 1,
    devPort: 0,
    physPortName: null,
    flags: 0x1002,
    driver: "virtio_net",
    devpath: "/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0",
    pci: [pci("0000:00:03.0")],
    ...o,
  };
}

const V255: NetIdOptions = { scheme: "v255" };
/** The root port the failover VM's VF sits behind (bus 0, slot 6). */
const ROOT_PORT = pci("0000:00:06.0", { bridge: true });

describe("net_id name table (spec §1.1)", () => {
  it.each<[string, Partial<NetFacts>, Record<string, string>]>([
    [
      "virtio-net at 00:03.0 (QEMU's ens3)",
      {},
      {
        ID_NET_NAME_SLOT: "ens3",
        ID_NET_NAME_PATH: "enp0s3",
        ID_NET_NAME_MAC: "enx525400001253",
      },
    ],
    [
      "a non-zero function adds f<fn>",
      { pci: [pci("0000:00:1f.6")] },
      { ID_NET_NAME_SLOT: "ens31f6", ID_NET_NAME_PATH: "enp0s31f6" },
    ],
    [
      "a multifunction device adds f0",
      { pci: [pci("0000:00:03.0", { multifunction: true })] },
      { ID_NET_NAME_SLOT: "ens3f0", ID_NET_NAME_PATH: "enp0s3f0" },
    ],
    [
      "a non-zero domain adds P<domain> (decimal)",
      { pci: [pci("0010:00:03.0")] },
      { ID_NET_NAME_SLOT: "enP16s3", ID_NET_NAME_PATH: "enP16p0s3" },
    ],
    [
      "bus and slot numbers are decimal",
      { pci: [pci("0000:1a:1f.0", { hotplugSlot: null })] },
      { ID_NET_NAME_PATH: "enp26s31" },
    ],
    [
      "phys_port_name gives n<name>",
      { physPortName: "sby" },
      { ID_NET_NAME_SLOT: "ens3nsby", ID_NET_NAME_PATH: "enp0s3nsby" },
    ],
    [
      "dev_port > 0 gives d<port> when there is no phys_port_name",
      { devPort: 2 },
      { ID_NET_NAME_SLOT: "ens3d2", ID_NET_NAME_PATH: "enp0s3d2" },
    ],
    [
      "phys_port_name wins over dev_port",
      { devPort: 2, physPortName: "p1" },
      { ID_NET_NAME_SLOT: "ens3np1", ID_NET_NAME_PATH: "enp0s3np1" },
    ],
    [
      "an empty phys_port_name falls back to dev_port",
      { devPort: 1, physPortName: "" },
      { ID_NET_NAME_SLOT: "ens3d1" },
    ],
    [
      "onboard: eno<acpi_index>",
      { pci: [pci("0000:00:03.0", { acpiIndex: 1 })] },
      { ID_NET_NAME_ONBOARD: "eno1", ID_NET_NAME_SLOT: "ens3" },
    ],
    [
      "onboard with a port suffix",
      { pci: [pci("0000:00:03.0", { acpiIndex: 2 })], devPort: 1 },
      { ID_NET_NAME_ONBOARD: "eno2d1" },
    ],
    [
      "behind a root port: no slot of its own, path only",
      { pci: [pci("0000:02:00.0"), ROOT_PORT] },
      { ID_NET_NAME_PATH: "enp2s0" },
    ],
  ])("%s", (_what, f, expected) => {
    const got = netId(facts(f), V255);
    for (const [k, v] of Object.entries(expected)) expect(got[k as keyof typeof got]).toBe(v);
    if (!("ID_NET_NAME_SLOT" in expected) && f.pci?.[0]?.hotplugSlot === null)
      expect(got.ID_NET_NAME_SLOT).toBeUndefined();
  });

  it("should give the failover triple ens3 / ens3nsby / ens4 and enp2s0 for the VF", () => {
    const master = netId(facts({ driver: "net_failover" }), V255);
    const standby = netId(facts({ ifindex: 3, iflink: 3, physPortName: "sby" }), V255);
    const vfSlot4 = netId(
      facts({ ifindex: 5, iflink: 5, driver: "e1000e", pci: [pci("0000:00:04.0")] }),
      V255,
    );
    const vfBehindPort = netId(
      facts({ ifindex: 5, iflink: 5, driver: "e1000e", pci: [pci("0000:02:00.0"), ROOT_PORT] }),
      V255,
    );
    expect([master.ID_NET_NAME_SLOT, standby.ID_NET_NAME_SLOT]).toEqual(["ens3", "ens3nsby"]);
    expect(vfSlot4.ID_NET_NAME_SLOT).toBe("ens4");
    expect(vfBehindPort.ID_NET_NAME_SLOT).toBeUndefined();
    expect(vfBehindPort.ID_NET_NAME_PATH).toBe("enp2s0");
    // all three share the MAC, so the mac policy cannot tell them apart
    expect(new Set([master, standby, vfSlot4].map((n) => n.ID_NET_NAME_MAC))).toEqual(
      new Set(["enx525400001253"]),
    );
  });

  it("should export the naming scheme, and nothing for stacked or non-Ethernet devices", () => {
    expect(netId(facts(), { scheme: "v249" }).ID_NET_NAMING_SCHEME).toBe("v249");
    expect(netId(facts({ iflink: 7 }), V255)).toEqual({});
    expect(netId(facts({ type: 772, pci: [] }), V255)).toEqual({});
    expect(netId(facts({ type: 32 }), { scheme: "v239" })).toEqual({});
    expect(netId(facts({ type: 32 }), V255).ID_NET_NAME_SLOT).toBe("ibs3");
    expect(netId(facts({ type: 32 }), V255).ID_NET_NAME_MAC).toBeUndefined();
  });

  it("should give no PCI names to a device without a PCI parent", () => {
    expect(netId(facts({ pci: [] }), V255)).toEqual({
      ID_NET_NAMING_SCHEME: "v255",
      ID_NET_NAME_MAC: "enx525400001253",
    });
  });
});

describe("ID_NET_NAME_MAC", () => {
  it.each<[string, Partial<NetFacts>, string | undefined]>([
    ["permanent (addr_assign_type 0)", {}, "enx525400001253"],
    ["random (1)", { addrAssignType: 1 }, undefined],
    ["stolen (2)", { addrAssignType: 2 }, undefined],
    ["set (3)", { addrAssignType: 3 }, undefined],
    ["unreadable", { addrAssignType: null }, undefined],
    ["all-zero MAC", { address: "00:00:00:00:00:00" }, undefined],
    ["upper-case MAC", { address: "52:54:00:AB:CD:EF" }, "enx525400abcdef"],
  ])("%s", (_what, f, expected) => {
    expect(netId(facts(f), V255).ID_NET_NAME_MAC).toBe(expected);
  });
});

describe("naming schemes", () => {
  it("should know which scheme introduced which flag", () => {
    expect(namingSchemeHas("v239", "ALLOW_RERENAMES")).toBe(false);
    expect(namingSchemeHas("v240", "ALLOW_RERENAMES")).toBe(true);
    expect(namingSchemeHas("v245", "BRIDGE_NO_SLOT")).toBe(false);
    expect(namingSchemeHas("v250", "BRIDGE_MULTIFUNCTION_SLOT")).toBe(false);
    expect(namingSchemeHas("v251", "BRIDGE_MULTIFUNCTION_SLOT")).toBe(true);
    expect(namingSchemeHas("v254", "BRIDGE_MULTIFUNCTION_SLOT")).toBe(true);
    expect(namingSchemeHas("v255", "BRIDGE_MULTIFUNCTION_SLOT")).toBe(false);
    expect(NAMING_SCHEMES[0]).toBe("v238");
  });

  it("should accept onboard index 0 only from v240, and up to 2^16-1 only from v249", () => {
    const on = (idx: number, scheme: NetIdOptions["scheme"]) =>
      netId(facts({ pci: [pci("0000:00:03.0", { acpiIndex: idx })] }), { scheme })
        .ID_NET_NAME_ONBOARD;
    expect(on(0, "v239")).toBeUndefined();
    expect(on(0, "v240")).toBe("eno0");
    expect(on(16383, "v247")).toBe("eno16383");
    expect(on(16384, "v247")).toBeUndefined();
    expect(on(65535, "v249")).toBe("eno65535");
    expect(on(65536, "v249")).toBeUndefined();
  });

  it("should use a parent bridge's slot only before v247, or for multifunction devices in v251-v254", () => {
    const slot = (scheme: NetIdOptions["scheme"], multifunction = false, parentSlots = true) =>
      netId(facts({ pci: [pci("0000:02:00.0", { multifunction }), ROOT_PORT] }), {
        scheme,
        parentSlots,
      }).ID_NET_NAME_SLOT;
    expect(slot("v239")).toBe("ens6");
    expect(slot("v245")).toBe("ens6");
    expect(slot("v247")).toBeUndefined();
    expect(slot("v251")).toBeUndefined();
    expect(slot("v251", true)).toBe("ens6f0");
    expect(slot("v254", true)).toBe("ens6f0");
    expect(slot("v255", true)).toBeUndefined();
    // 2013 udev never looked above the function itself
    expect(slot("v239", false, false)).toBeUndefined();
  });

  it("should name VF representors r<vf> from v254 and n<phys_port_name> before", () => {
    expect(portSpecifier(facts({ physPortName: "pf0vf3" }), { scheme: "v254" })).toBe("r3");
    expect(portSpecifier(facts({ physPortName: "pf0vf3" }), { scheme: "v253" })).toBe("npf0vf3");
    expect(portSpecifier(facts({ physPortName: "p0" }), { scheme: "v254" })).toBe("np0");
  });

  it("should drop attributes the ID_NET_NAME_ALLOW filter denies", () => {
    const deny = (denied: string[]): NetIdOptions => ({
      scheme: "v256",
      allow: (a) => !denied.includes(a),
    });
    const f = facts({ physPortName: "sby", devPort: 3 });
    expect(netId(f, deny(["phys_port_name"])).ID_NET_NAME_SLOT).toBe("ens3d3");
    expect(netId(f, deny(["phys_port_name", "dev_port"])).ID_NET_NAME_SLOT).toBe("ens3");
    expect(netId(f, deny(["addr_assign_type"])).ID_NET_NAME_MAC).toBeUndefined();
  });
});

describe("sysfs facts of the failover VM", () => {
  function booted(kernel: string) {
    const clock = new VirtualClock();
    const rng = new Rng(1);
    const k = createKernel({ kernel, clock, rng, cpus: 1, defaultQdisc: "fq_codel" });
    new Machine(k, FAILOVER_VM, (t) => clock.advanceTo(t)).boot();
    return k;
  }

  it("should read what udev reads: virtio skipped, the driver, phys_port_name, the root port", () => {
    const k = booted("6.1");
    const master = readNetFacts(k, 2);
    const standby = readNetFacts(k, 3);
    const vf = readNetFacts(k, 5);
    expect(master?.driver).toBe("net_failover");
    expect(master?.physPortName).toBeNull();
    expect(master?.pci.map((p) => p.addr)).toEqual(["0000:00:03.0"]);
    expect(standby?.driver).toBe("virtio_net");
    expect(standby?.physPortName).toBe("sby");
    expect(vf?.driver).toBe("e1000e");
    expect(vf?.pci.map((p) => [p.addr, p.bridge, p.hotplugSlot])).toEqual([
      ["0000:02:00.0", false, 0],
      ["0000:00:06.0", true, null],
    ]);
    expect(vf?.devpath).toBe("/devices/pci0000:00/0000:00:06.0/0000:02:00.0/net/eth3");
    expect(master?.nameAssignType).toBe(1);
    expect(readNetFacts(k, 1)?.pci).toEqual([]);
    expect(readNetFacts(k, 99)).toBeNull();
  });

  it("should read name_assign_type as unreadable on 5.0 (NET_NAME_UNKNOWN gives -EINVAL)", () => {
    expect(readNetFacts(booted("5.0"), 2)?.nameAssignType).toBeNull();
  });

  it.each([
    [2, "enp0s3"],
    [3, "enp0s3nsby"],
    [4, "enp0s4"],
    [5, "enp2s0"],
  ])(
    "should name ifindex %i %s on q35 (no slot name: no hot-plug slots, port slot 0)",
    (ifindex, name) => {
      const f = readNetFacts(booted("6.1"), ifindex) as NetFacts;
      expect(netId(f, V255).ID_NET_NAME_SLOT).toBeUndefined();
      expect(netId(f, V255).ID_NET_NAME_PATH).toBe(name);
    },
  );

  it("should give i440fx's ACPI slot names (ens3) on the same devices", () => {
    const clock = new VirtualClock();
    const k = createKernel({
      kernel: "6.1",
      clock,
      rng: new Rng(1),
      cpus: 1,
      defaultQdisc: "fq_codel",
    });
    const spec = { ...FAILOVER_VM, machineType: "i440fx" as const };
    new Machine(k, spec, (t) => clock.advanceTo(t)).boot();
    expect(netId(readNetFacts(k, 2) as NetFacts, V255).ID_NET_NAME_SLOT).toBe("ens3");
    expect(netId(readNetFacts(k, 3) as NetFacts, V255).ID_NET_NAME_SLOT).toBe("ens3nsby");
    expect(netId(readNetFacts(k, 4) as NetFacts, V255).ID_NET_NAME_SLOT).toBe("ens4");
  });

  it("should take acpi_index and hotplug slots from the firmware config", () => {
    const k = booted("6.1");
    const f = readNetFacts(k, 3, {
      acpiIndex: { "0000:00:03.0": 1 },
      hotplugSlots: { "0000:00:03.0": 10 },
    }) as NetFacts;
    const n = netId(f, V255);
    expect(n.ID_NET_NAME_ONBOARD).toBe("eno1nsby");
    expect(n.ID_NET_NAME_SLOT).toBe("ens10nsby");
    const noSlot = readNetFacts(k, 2, { hotplugSlots: { "0000:00:03.0": null } }) as NetFacts;
    expect(netId(noSlot, V255).ID_NET_NAME_SLOT).toBeUndefined();
  });
});
