// The machine layer (src/machine/machine.ts, builtins.ts): spec validation, boot of the measured
// failover VM (qemu-failover-recipe.md, test/fixtures/qemu-6.1 step 0/1), QEMU's failover
// pairing (a primary with failover_pair_id stays hidden until its standby negotiated
// STANDBY), and the QMP-like controls plug / unplug / setLink.

import { describe, expect, it } from "vitest";
import {
  devOpen,
  IFF,
  type Kernel,
  type KernelEvent,
  netdevMasterUpperDevGet,
  PciAddressError,
  pciState,
} from "../../src/kernel/index.ts";
import {
  BUILTIN_MACHINES,
  FAILOVER_MAC,
  FAILOVER_VM,
  INIT_MODPROBE_WORK,
  Machine,
  MachineError,
  type MachineSpec,
  VIRTIO_VM,
  validateMachineSpec,
} from "../../src/machine/index.ts";
import { dev, rawEvents } from "../_helpers/kernel.ts";
import { bootMachine, failoverVmWith } from "../_helpers/machine.ts";

type Device = MachineSpec["devices"][number];

function spec(devices: readonly Device[], patch: Partial<MachineSpec> = {}): MachineSpec {
  return {
    name: "m",
    description: "test machine",
    defaultQdisc: "fq_codel",
    cpus: 1,
    modules: ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"],
    devices,
    ...patch,
  };
}

const STANDBY: Device = {
  addr: "0000:00:03.0",
  model: "virtio-net",
  id: "standby0",
  mac: FAILOVER_MAC,
  standby: true,
};

/** "ifindex name driver [master]" for every netdev. */
function netdevs(k: Kernel): string[] {
  return [...k.state.devices.values()].map((d) => {
    const m = netdevMasterUpperDevGet(k, d);
    return `${d.ifindex} ${d.name} ${d.driver}${m ? ` master ${m.name}` : ""}`;
  });
}

function logs(evs: readonly KernelEvent[]): string[] {
  return evs.flatMap((e) => (e.type === "kernel.log" ? [e.text] : []));
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an exception");
}

/** The failover VM with the primary plugged only on request (QMP device_add after boot). */
const LATE_PRIMARY_VM: MachineSpec = {
  ...FAILOVER_VM,
  name: "late-primary",
  devices: FAILOVER_VM.devices.map((d) => (d.id === "primary0" ? { ...d, atBoot: false } : d)),
};

describe("validateMachineSpec", () => {
  it("should accept every built-in machine", () => {
    for (const m of Object.values(BUILTIN_MACHINES))
      expect(validateMachineSpec(m), m.name).toBeNull();
  });

  it("should report a malformed PCI address with its device index", () => {
    expect(validateMachineSpec(spec([{ addr: "0000:00:3.0", model: "virtio-net" }]))).toBe(
      'devices[0]: bad PCI address "0000:00:3.0": expected dddd:bb:ss.f in lower-case hex (slot 00-1f, function 0-7), e.g. 0000:00:03.0',
    );
  });

  it("should report a PCI address used twice", () => {
    const s = spec([STANDBY, { addr: "0000:00:03.0", model: "e1000e", id: "x" }]);
    expect(validateMachineSpec(s)).toBe("devices[1]: PCI address 0000:00:03.0 used twice");
  });

  it("should report a device id used twice", () => {
    const s = spec([STANDBY, { addr: "0000:00:04.0", model: "e1000e", id: "standby0" }]);
    expect(validateMachineSpec(s)).toBe('devices[1]: device id "standby0" used twice');
  });

  it("should report a failoverPairId that names no device", () => {
    const s = spec([
      STANDBY,
      { addr: "0000:00:04.0", model: "e1000e", id: "p", mac: FAILOVER_MAC, failoverPairId: "sb" },
    ]);
    expect(validateMachineSpec(s)).toBe('devices[1]: failoverPairId "sb" names no device');
  });

  it("should report a failoverPairId that names a device without standby", () => {
    const s = spec([
      { addr: "0000:00:03.0", model: "virtio-net", id: "net0", mac: FAILOVER_MAC },
      { addr: "0000:00:04.0", model: "e1000e", id: "p", mac: FAILOVER_MAC, failoverPairId: "net0" },
    ]);
    expect(validateMachineSpec(s)).toBe(
      'devices[1]: failoverPairId "net0" must name a virtio-net with standby: true',
    );
  });

  it("should report a failoverPairId that names a non-virtio device", () => {
    const s = spec([
      { addr: "0000:00:03.0", model: "e1000e", id: "e", mac: FAILOVER_MAC },
      { addr: "0000:00:04.0", model: "e1000e", id: "p", mac: FAILOVER_MAC, failoverPairId: "e" },
    ]);
    expect(validateMachineSpec(s)).toBe(
      'devices[1]: failoverPairId "e" must name a virtio-net with standby: true',
    );
  });

  it("should require an id on a failover primary and on a device plugged later", () => {
    expect(
      validateMachineSpec(
        spec([STANDBY, { addr: "0000:00:04.0", model: "e1000e", failoverPairId: "standby0" }]),
      ),
    ).toBe("devices[1]: a failover primary needs an id");
    expect(
      validateMachineSpec(spec([{ addr: "0000:00:04.0", model: "e1000e", atBoot: false }])),
    ).toBe("devices[0]: a device plugged later (atBoot: false) needs an id");
  });

  it.each([
    ["too short", "52:54:00:00:12"],
    ["upper case", "52:54:00:00:12:AB"],
    ["dashes", "52-54-00-00-12-53"],
  ])("should report a bad MAC (%s)", (_what, mac) => {
    expect(validateMachineSpec(spec([{ addr: "0000:00:03.0", model: "e1000e", mac }]))).toBe(
      `devices[0]: bad MAC "${mac}" (expected lower-case xx:xx:xx:xx:xx:xx)`,
    );
  });
});

describe("Machine constructor", () => {
  it("should throw MachineError naming the machine and the problem", () => {
    const { k } = bootMachine("6.1", VIRTIO_VM, { noBoot: true });
    const bad = spec([STANDBY, { ...STANDBY, addr: "0000:00:04.0" }], { name: "bad" });
    const e = thrown(() => new Machine(k, bad, () => {}));
    expect(e).toBeInstanceOf(MachineError);
    expect(e.name).toBe("MachineError");
    expect(e.message).toBe('machine "bad": devices[1]: device id "standby0" used twice');
  });
});

describe("Machine.boot", () => {
  it("should boot failover-vm on 6.1 into eth0..eth3 as measured (master, standby, plain, primary)", () => {
    const { k, m } = bootMachine("6.1");
    expect(netdevs(k)).toEqual([
      "1 lo loopback",
      "2 eth0 net_failover",
      "3 eth1 virtio_net master eth0",
      "4 eth2 virtio_net",
      "5 eth3 e1000e master eth0",
    ]);
    for (const d of k.state.devices.values()) expect(d.flags & IFF.UP, d.name).toBe(0);
    expect(m.state).toEqual({ hidden: [], negotiated: ["standby0"] });
    expect(["standby0", "net1", "rp1", "rp2", "primary0"].map((id) => m.isPresent(id))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it("should log the boot as Debian's 6.1 did (fixture step 0, failover and e1000e lines)", () => {
    const { k, m } = bootMachine("6.1", FAILOVER_VM, { noBoot: true });
    const evs = rawEvents(k, () => m.boot());
    expect(logs(evs)).toEqual([
      "virtio_net virtio0 eth0: failover master:eth0 registered",
      "virtio_net virtio0 eth0: failover standby slave:eth1 registered",
      "e1000e: Intel(R) PRO/1000 Network Driver",
      "e1000e: Copyright(c) 1999 - 2015 Intel Corporation.",
      "e1000e 0000:02:00.0: enabling device (0000 -> 0002)",
      "e1000e 0000:02:00.0: Interrupt Throttling Rate (ints/sec) set to dynamic conservative mode",
      "e1000e 0000:02:00.0 0000:02:00.0 (uninitialized): registered PHC clock",
      "virtio_net virtio0 eth0: failover primary slave:eth3 registered",
      "e1000e 0000:02:00.0 eth3: (PCI Express:2.5GT/s:Width x1) 52:54:00:00:12:53",
      "e1000e 0000:02:00.0 eth3: Intel(R) PRO/1000 Network Connection",
      "e1000e 0000:02:00.0 eth3: MAC: 3, PHY: 8, PBA No: 000000-000",
    ]);
  });

  it("should enumerate the root ports so that the primary sits behind 00:06.0", () => {
    const { k } = bootMachine("6.1");
    expect(pciState(k).functions.map((f) => `${f.spec.addr} ${f.devpath}`)).toEqual([
      "0000:00:03.0 /devices/pci0000:00/0000:00:03.0",
      "0000:00:04.0 /devices/pci0000:00/0000:00:04.0",
      "0000:00:05.0 /devices/pci0000:00/0000:00:05.0",
      "0000:00:06.0 /devices/pci0000:00/0000:00:06.0",
      "0000:02:00.0 /devices/pci0000:00/0000:00:06.0/0000:02:00.0",
    ]);
  });

  it("should boot the plain virtio-vm into eth0 only", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM);
    expect(netdevs(k)).toEqual(["1 lo loopback", "2 eth0 virtio_net"]);
    expect(m.state).toEqual({ hidden: [], negotiated: [] });
  });

  it("should keep the primary hidden when the guest never negotiates STANDBY (no virtio_net)", () => {
    const s: MachineSpec = { ...FAILOVER_VM, modules: ["virtio_pci", "e1000e"] };
    const { k, m } = bootMachine("6.1", s);
    expect(m.state).toEqual({ hidden: ["primary0"], negotiated: [] });
    expect(m.isPresent("primary0")).toBe(false);
    expect(k.state.devices.size).toBe(1);
  });

  it("should not plug atBoot: false devices at boot", () => {
    const { k, m } = bootMachine("6.1", LATE_PRIMARY_VM);
    expect(m.isPresent("primary0")).toBe(false);
    expect(m.state).toEqual({ hidden: [], negotiated: [] });
    expect(netdevs(k)).toEqual([
      "1 lo loopback",
      "2 eth0 net_failover",
      "3 eth1 virtio_net master eth0",
      "4 eth2 virtio_net",
    ]);
  });

  it("should refuse to boot a device on a bus without a root port (PciAddressError)", () => {
    const s = spec([{ addr: "0000:01:00.0", model: "e1000e", id: "e", mac: FAILOVER_MAC }]);
    const { m } = bootMachine("6.1", s, { noBoot: true });
    const e = thrown(() => m.boot());
    expect(e).toBeInstanceOf(PciAddressError);
    expect(e.message).toBe(
      "no bridge leads to bus 01 for 0000:01:00.0: add a pcie-root-port with secondaryBus 1",
    );
  });
});

describe("Machine.plug", () => {
  it("should list the known ids for an unknown one", () => {
    const { m } = bootMachine("6.1");
    const e = thrown(() => m.plug("nope"));
    expect(e).toBeInstanceOf(MachineError);
    expect(e.message).toBe(
      'no device "nope" in machine "failover-vm" (ids: standby0, net1, rp1, rp2, primary0)',
    );
  });

  it('should refuse a device that is already in the VM with QEMU\'s "Duplicate ID"', () => {
    const { m } = bootMachine("6.1");
    expect(() => m.plug("primary0")).toThrow(
      "device \"primary0\" is already in the VM (Duplicate ID 'primary0' for device)",
    );
    expect(() => m.plug("net1")).toThrow(MachineError);
  });

  it("should refuse a hidden primary as a duplicate too", () => {
    const s: MachineSpec = { ...FAILOVER_VM, modules: ["virtio_pci", "e1000e"] };
    const { m } = bootMachine("6.1", s);
    expect(() => m.plug("primary0")).toThrow("Duplicate ID 'primary0' for device");
  });

  it("should hot-plug an atBoot: false primary at once when its standby negotiated STANDBY", () => {
    const { k, m } = bootMachine("6.1", LATE_PRIMARY_VM);
    const evs = rawEvents(k, () => expect(m.plug("primary0")).toBe("plugged"));
    expect(logs(evs)).toContain("virtio_net virtio0 eth0: failover primary slave:eth3 registered");
    expect(netdevs(k).at(-1)).toBe("5 eth3 e1000e master eth0");
    expect(m.state).toEqual({ hidden: [], negotiated: ["standby0"] });
  });

  it("should re-plug an unplugged primary as the lowest free ethN, enslaved again", () => {
    const { k, m } = bootMachine("6.1");
    m.unplug("primary0");
    expect(m.plug("primary0")).toBe("plugged");
    expect(netdevs(k).at(-1)).toBe("6 eth3 e1000e master eth0");
  });

  it("should hot-plug a plain atBoot: false VF behind its root port", () => {
    const s = failoverVmWith([
      { addr: "0000:01:00.0", model: "igbvf", id: "vf1", mac: "52:54:00:00:12:77", atBoot: false },
    ]);
    const { k, m } = bootMachine("6.1", s);
    expect(m.isPresent("vf1")).toBe(false);
    expect(m.plug("vf1")).toBe("plugged");
    const vf = dev(k, "eth4");
    expect(vf.driver).toBe("igbvf");
    expect(vf.parent?.devpath).toBe("/devices/pci0000:00/0000:00:05.0/0000:01:00.0");
    expect(vf.uppers).toEqual([]);
  });

  it("should plug the hidden primary once a re-plugged standby negotiates STANDBY", () => {
    const { k, m } = bootMachine("6.1");
    m.unplug("primary0");
    m.unplug("standby0");
    m.plug("primary0");
    m.plug("standby0");
    m.settle();
    // QEMU: virtio_net_set_features() on the new standby sends FAILOVER_NEGOTIATED and plugs the
    // primary (failover_add_primary); the guest's new master then enslaves it.
    expect(m.isPresent("primary0")).toBe(true);
    expect(m.state.hidden).toEqual([]);
    const primary = [...k.state.devices.values()].find((d) => d.driver === "e1000e");
    expect(primary && netdevMasterUpperDevGet(k, primary)?.driver).toBe("net_failover");
  });
});

describe("Machine.unplug", () => {
  it("should run the guest's remove path and report the device gone", () => {
    const { k, m } = bootMachine("6.1");
    const evs = rawEvents(k, () => m.unplug("primary0"));
    expect(logs(evs)).toEqual([
      "e1000e 0000:02:00.0 eth3: removed PHC",
      "virtio_net virtio0 eth0: failover primary slave:eth3 unregistered",
    ]);
    expect(m.isPresent("primary0")).toBe(false);
    expect(netdevs(k)).toEqual([
      "1 lo loopback",
      "2 eth0 net_failover",
      "3 eth1 virtio_net master eth0",
      "4 eth2 virtio_net",
    ]);
  });

  it("should refuse a device that is not plugged", () => {
    const { m } = bootMachine("6.1");
    m.unplug("primary0");
    const e = thrown(() => m.unplug("primary0"));
    expect(e).toBeInstanceOf(MachineError);
    expect(e.message).toBe('device "primary0" is not plugged');
  });

  it("should list the known ids for an unknown one", () => {
    const { m } = bootMachine("6.1", VIRTIO_VM);
    expect(() => m.unplug("x")).toThrow('no device "x" in machine "virtio-vm" (ids: net0)');
  });

  it("should drop a hidden primary without the guest seeing anything", () => {
    const s: MachineSpec = { ...FAILOVER_VM, modules: ["virtio_pci", "e1000e"] };
    const { k, m } = bootMachine("6.1", s);
    expect(rawEvents(k, () => m.unplug("primary0"))).toEqual([]);
    expect(m.state.hidden).toEqual([]);
    expect(() => m.unplug("primary0")).toThrow('device "primary0" is not plugged');
  });

  it("should refuse a root port with the primary behind it", () => {
    const { m } = bootMachine("6.1");
    expect(() => m.unplug("rp2")).toThrow("0000:00:06.0 has devices behind it; remove them first");
    expect(m.isPresent("rp2")).toBe(true);
  });
});

describe("Machine.setLink", () => {
  it("should refuse unknown and unplugged devices", () => {
    const { m } = bootMachine("6.1");
    expect(() => m.setLink("nope", false)).toThrow('no device "nope" in machine "failover-vm"');
    m.unplug("primary0");
    expect(() => m.setLink("primary0", false)).toThrow('device "primary0" is not plugged');
  });

  it("should take the standby's link down and, with no primary carrier, the master's", () => {
    const { k, m } = bootMachine("6.1");
    m.unplug("primary0");
    expect(devOpen(k, dev(k, "eth0"))).toBe(0);
    m.settle();
    expect(dev(k, "eth0").carrier).toBe(true);
    m.setLink("standby0", false);
    m.settle();
    expect([dev(k, "eth1").carrier, dev(k, "eth0").carrier]).toEqual([false, false]);
  });

  it("should leave an open e1000e primary's carrier on (measured QEMU 7.2 behaviour)", () => {
    const { k, m } = bootMachine("6.1");
    expect(devOpen(k, dev(k, "eth0"))).toBe(0);
    m.settle();
    expect(dev(k, "eth3").carrier).toBe(true);
    const evs = rawEvents(k, () => {
      m.setLink("primary0", false);
      m.settle();
    });
    expect(evs).toEqual([]);
    expect(dev(k, "eth3").carrier).toBe(true);
  });
});

describe("Machine.boot with moduleGapUs", () => {
  it("should load the first boot module at once and each next one as deferred work", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM, { noBoot: true });
    m.boot({ settle: false, moduleGapUs: 200_000 });
    const pending = k.state.work.filter((w) => w.name === INIT_MODPROBE_WORK);
    expect(pending.map((w) => [w.due, w.arg])).toEqual([[200_000, "1"]]);
    expect([...k.state.devices.values()].filter((d) => d.name.startsWith("eth"))).toEqual([]);
    m.settle();
    expect(k.state.work.filter((w) => w.name === INIT_MODPROBE_WORK)).toEqual([]);
    expect(k.clock.now()).toBeGreaterThanOrEqual(200_000 * (VIRTIO_VM.modules.length - 1));
    expect([...k.state.devices.values()].some((d) => d.name === "eth0")).toBe(true);
  });

  it("should refuse a negative or fractional gap", () => {
    const { m } = bootMachine("6.1", VIRTIO_VM, { noBoot: true });
    expect(() => m.boot({ moduleGapUs: -1 })).toThrow(RangeError);
    expect(() => m.boot({ moduleGapUs: 0.5 })).toThrow(RangeError);
  });
});
