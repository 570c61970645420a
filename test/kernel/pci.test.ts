// drivers/pci (src/kernel/pci.ts): addresses and bus order, devpaths behind root ports, probe
// order at boot, hot-plug and hot-unplug through the drivers' probe/remove paths, and the
// virtio index (virtio_pci, src/kernel/virtio.ts) that a re-plug reuses.

import { test as fcTest } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  comparePciAddr,
  devOpen,
  type Kernel,
  type KernelEvent,
  PciAddressError,
  type PciFunctionSpec,
  parsePciAddr,
  pciAddFunction,
  pciGetFunction,
  pciNicInit,
  pciRegisterDriver,
  pciRemoveFunction,
  pciSetLink,
  pciState,
  VIRTIO_PCI_DRIVER,
  virtioDeviceOf,
  virtioNetInit,
} from "../../src/kernel/index.ts";
import { boot, dev, E1, events, project, rawEvents, settle } from "../_helpers/kernel.ts";
import { testSeed } from "../_helpers/seed.ts";

const ROOT_PORT_1: PciFunctionSpec = {
  addr: "0000:00:05.0",
  model: "pcie-root-port",
  id: "rp1",
  secondaryBus: 1,
};
const ROOT_PORT_2: PciFunctionSpec = {
  addr: "0000:00:06.0",
  model: "pcie-root-port",
  id: "rp2",
  secondaryBus: 2,
};

function virtioNet(
  addr: string,
  mac: string,
  extra: Partial<PciFunctionSpec> = {},
): PciFunctionSpec {
  return { addr, model: "virtio-net", mac, ...extra };
}

function e1000e(addr: string, mac: string, extra: Partial<PciFunctionSpec> = {}): PciFunctionSpec {
  return { addr, model: "e1000e", mac, ...extra };
}

/** Bus state as plain data: address, devpath and bound driver of every function, in bus order. */
function busSnapshot(k: Kernel): string[] {
  return pciState(k).functions.map((f) => `${f.spec.addr} ${f.devpath} ${f.driver ?? "-"}`);
}

/** The error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an exception");
}

function uevents(evs: readonly KernelEvent[]): string[] {
  return evs.flatMap((e) => (e.type === "kernel.uevent" ? [`${e.action} ${e.devpath}`] : []));
}

describe("parsePciAddr", () => {
  it("should split domain:bus:slot.function into numbers", () => {
    expect(parsePciAddr("0000:02:00.0")).toEqual([0, 2, 0, 0]);
    expect(parsePciAddr("0000:00:1f.7")).toEqual([0, 0, 31, 7]);
    expect(parsePciAddr("0001:ff:03.2")).toEqual([1, 255, 3, 2]);
  });

  it("should throw PciAddressError with the expected format for a malformed address", () => {
    const e = thrown(() => parsePciAddr("0000:00:20.0"));
    expect(e).toBeInstanceOf(PciAddressError);
    expect(e.name).toBe("PciAddressError");
    expect(e.message).toBe(
      'bad PCI address "0000:00:20.0": expected dddd:bb:ss.f in lower-case hex (slot 00-1f, function 0-7), e.g. 0000:00:03.0',
    );
  });

  it.each([
    ["slot above 1f", "0000:00:20.0"],
    ["function above 7", "0000:00:03.8"],
    ["upper-case hex", "0000:00:0A.0"],
    ["no domain", "00:03.0"],
    ["one-digit bus", "0000:0:03.0"],
    ["trailing text", "0000:00:03.0 "],
    ["empty", ""],
  ])("should reject %s (%j)", (_what, addr) => {
    expect(() => parsePciAddr(addr)).toThrow(PciAddressError);
    expect(() => parsePciAddr(addr)).toThrow(`bad PCI address "${addr}"`);
  });
});

describe("comparePciAddr", () => {
  it("should order bus 0 by slot and function first, then the buses behind bridges", () => {
    const addrs = [
      "0000:02:00.0",
      "0000:00:06.0",
      "0000:01:00.0",
      "0000:00:03.1",
      "0000:00:04.0",
      "0000:00:03.0",
      "0001:00:01.0",
    ];
    expect([...addrs].sort(comparePciAddr)).toEqual([
      "0000:00:03.0",
      "0000:00:03.1",
      "0000:00:04.0",
      "0000:00:06.0",
      "0000:01:00.0",
      "0000:02:00.0",
      "0001:00:01.0",
    ]);
  });

  it("should return 0 for the same address and throw for a malformed one", () => {
    expect(comparePciAddr("0000:00:03.0", "0000:00:03.0")).toBe(0);
    expect(() => comparePciAddr("0000:00:03.0", "0000:00:3.0")).toThrow(PciAddressError);
  });
});

describe(`PCI addresses as numbers (seed ${testSeed()})`, () => {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");
  const tuple = fc.tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 0xff }),
    fc.integer({ min: 0, max: 0x1f }),
    fc.integer({ min: 0, max: 7 }),
  );
  const fmt = ([d, b, s, f]: [number, number, number, number]) =>
    `${hex(d, 4)}:${hex(b, 2)}:${hex(s, 2)}.${f}`;

  fcTest.prop([tuple])("should parse back every well-formed address", (t) => {
    expect(parsePciAddr(fmt(t))).toEqual(t);
  });

  fcTest.prop([tuple, tuple])(
    "should compare like the (domain, bus, slot, function) tuples",
    (a, b) => {
      const lex = a.findIndex((x, i) => x !== b[i]);
      const want = lex < 0 ? 0 : Math.sign((a[lex] as number) - (b[lex] as number));
      expect(Math.sign(comparePciAddr(fmt(a), fmt(b)))).toBe(want);
    },
  );
});

describe("pciAddFunction", () => {
  it("should put a bus-0 function right under the host bridge", () => {
    const k = boot(E1);
    const fn = pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    expect(fn.devpath).toBe("/devices/pci0000:00/0000:00:03.0");
    expect(fn.driver).toBeNull();
    expect(fn.link).toBe(true);
  });

  it("should put a function behind the root port that leads to its bus", () => {
    const k = boot(E1);
    pciAddFunction(k, ROOT_PORT_1);
    pciAddFunction(k, ROOT_PORT_2);
    const fn = pciAddFunction(k, e1000e("0000:02:00.0", "52:54:00:00:12:53"));
    expect(fn.devpath).toBe("/devices/pci0000:00/0000:00:06.0/0000:02:00.0");
    expect(pciGetFunction(k, "0000:00:05.0")?.devpath).toBe("/devices/pci0000:00/0000:00:05.0");
  });

  it("should name the host bridge after the domain", () => {
    const k = boot(E1);
    expect(pciAddFunction(k, virtioNet("0001:00:03.0", "52:54:00:00:00:01")).devpath).toBe(
      "/devices/pci0001:00/0001:00:03.0",
    );
  });

  it("should hang the netdev's sysfs entry under that devpath", () => {
    const k = boot(E1);
    pciNicInit(k);
    pciAddFunction(k, ROOT_PORT_2);
    const evs = rawEvents(k, () => pciAddFunction(k, e1000e("0000:02:00.0", "52:54:00:00:12:53")));
    expect(uevents(evs)).toEqual(["add /devices/pci0000:00/0000:00:06.0/0000:02:00.0/net/eth0"]);
    expect(dev(k, "eth0").parent).toEqual({
      id: "0000:02:00.0",
      bus: "pci",
      driver: "e1000e",
      devpath: "/devices/pci0000:00/0000:00:06.0/0000:02:00.0",
    });
  });

  it("should keep the functions in bus order whatever the order they were added in", () => {
    const k = boot(E1);
    pciAddFunction(k, ROOT_PORT_2);
    pciAddFunction(k, e1000e("0000:02:00.0", "52:54:00:00:12:53"));
    pciAddFunction(k, virtioNet("0000:00:04.0", "52:54:00:00:00:02"));
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    expect(pciState(k).functions.map((f) => f.spec.addr)).toEqual([
      "0000:00:03.0",
      "0000:00:04.0",
      "0000:00:06.0",
      "0000:02:00.0",
    ]);
  });

  it("should refuse a bus without a bridge with PciAddressError and change nothing", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciNicInit(k);
    pciAddFunction(k, ROOT_PORT_1);
    const before = busSnapshot(k);
    const cursor = k.trace.length;
    const e = thrown(() => pciAddFunction(k, e1000e("0000:02:00.0", "52:54:00:00:12:53")));
    expect(e).toBeInstanceOf(PciAddressError);
    expect(e.message).toBe(
      "no bridge leads to bus 02 for 0000:02:00.0: add a pcie-root-port with secondaryBus 2",
    );
    expect(busSnapshot(k)).toEqual(before);
    expect(k.trace.since(cursor)).toEqual([]);
    expect([...k.state.devices.values()].map((d) => d.name)).toEqual(["lo"]);
  });

  it("should refuse an occupied slot and leave the function there bound", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciNicInit(k);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    const before = busSnapshot(k);
    const cursor = k.trace.length;
    const e = thrown(() => pciAddFunction(k, e1000e("0000:00:03.0", "52:54:00:00:00:09")));
    expect(e).toBeInstanceOf(PciAddressError);
    expect(e.message).toBe("PCI slot 0000:00:03.0 is occupied");
    expect(busSnapshot(k)).toEqual(before);
    expect(before).toEqual(["0000:00:03.0 /devices/pci0000:00/0000:00:03.0 virtio-pci"]);
    expect(k.trace.since(cursor)).toEqual([]);
    expect(dev(k, "eth0").driver).toBe("virtio_net");
  });

  it("should refuse a malformed address and change nothing", () => {
    const k = boot(E1);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    const before = busSnapshot(k);
    expect(() => pciAddFunction(k, virtioNet("0000:00:3.0", "52:54:00:00:00:02"))).toThrow(
      'bad PCI address "0000:00:3.0"',
    );
    expect(busSnapshot(k)).toEqual(before);
  });

  it("should probe at once when the driver is already loaded (hot-plug)", () => {
    const k = boot(E1);
    virtioNetInit(k);
    const ev = events(k, () => pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01")));
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT eth0",
      "uevent add eth0",
      "notify NETDEV_REGISTER eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
    expect(pciGetFunction(k, "0000:00:03.0")?.driver).toBe("virtio-pci");
  });

  it("should leave a root port and a model no driver knows unbound", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciNicInit(k);
    const ev = events(k, () => pciAddFunction(k, ROOT_PORT_1));
    expect(ev).toEqual([]);
    expect(pciGetFunction(k, "0000:00:05.0")?.driver).toBeNull();
  });
});

describe("pciRegisterDriver", () => {
  it("should probe the functions in bus order: virtio0 and eth0 for 00:03.0, then virtio1", () => {
    const k = boot(E1);
    // Enumerated out of order; the bus keeps them sorted, the driver walks the bus.
    pciAddFunction(k, virtioNet("0000:00:04.0", "52:54:00:00:00:02"));
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    const evs = rawEvents(k, () => virtioNetInit(k));
    expect(uevents(evs)).toEqual([
      "add /devices/pci0000:00/0000:00:03.0/virtio0/net/eth0",
      "add /devices/pci0000:00/0000:00:04.0/virtio1/net/eth1",
    ]);
    const f3 = pciGetFunction(k, "0000:00:03.0");
    const f4 = pciGetFunction(k, "0000:00:04.0");
    expect(f3 && virtioDeviceOf(f3)?.index).toBe(0);
    expect(f4 && virtioDeviceOf(f4)?.index).toBe(1);
    expect(dev(k, "eth0").devAddr).toBe("52:54:00:00:00:01");
    expect(dev(k, "eth0").ifindex).toBe(2);
    expect(dev(k, "eth1").devAddr).toBe("52:54:00:00:00:02");
    expect(dev(k, "eth1").ifindex).toBe(3);
  });

  it("should probe the functions behind root ports after bus 0", () => {
    const k = boot(E1);
    pciAddFunction(k, ROOT_PORT_1);
    pciAddFunction(k, e1000e("0000:01:00.0", "52:54:00:00:00:0b"));
    pciAddFunction(k, e1000e("0000:00:07.0", "52:54:00:00:00:0a"));
    pciNicInit(k);
    expect(dev(k, "eth0").parent?.id).toBe("0000:00:07.0");
    expect(dev(k, "eth1").parent?.id).toBe("0000:01:00.0");
  });

  it("should do nothing when the same driver registers again", () => {
    const k = boot(E1);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    virtioNetInit(k);
    expect(events(k, () => pciRegisterDriver(k, VIRTIO_PCI_DRIVER))).toEqual([]);
    expect(events(k, () => virtioNetInit(k))).toEqual([]);
    expect([...k.state.devices.values()].map((d) => d.name)).toEqual(["lo", "eth0"]);
  });
});

describe("pciRemoveFunction", () => {
  it("should run the driver's remove path: NETDEV_UNREGISTER, RTM_DELLINK, remove uevent", () => {
    const k = boot(E1);
    pciNicInit(k);
    pciAddFunction(k, ROOT_PORT_2);
    pciAddFunction(k, e1000e("0000:02:00.0", "52:54:00:00:12:53"));
    const evs = rawEvents(k, () => pciRemoveFunction(k, "0000:02:00.0"));
    expect(evs.map(project)).toEqual([
      "log e1000e 0000:02:00.0 eth0: removed PHC",
      "notify NETDEV_UNREGISTER eth0",
      "rtnl RTM_DELLINK eth0",
      "uevent remove eth0",
    ]);
    const [, , del, ue] = evs;
    expect(del).toMatchObject({ msg: "RTM_DELLINK", link: { ifname: "eth0", ifindex: 2 } });
    expect(ue).toMatchObject({
      action: "remove",
      devpath: "/devices/pci0000:00/0000:00:06.0/0000:02:00.0/net/eth0",
    });
    expect(pciGetFunction(k, "0000:02:00.0")).toBeUndefined();
    expect(k.state.devices.has(2)).toBe(false);
  });

  it("should close an UP device before unregistering it", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    expect(devOpen(k, dev(k, "eth0"))).toBe(0);
    settle(k);
    expect(events(k, () => pciRemoveFunction(k, "0000:00:03.0"))).toEqual([
      "notify NETDEV_GOING_DOWN eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_DOWN eth0",
      "notify NETDEV_UNREGISTER eth0",
      "rtnl RTM_DELLINK eth0",
      "uevent remove eth0",
    ]);
  });

  it("should give a re-plugged function the lowest free ethN and reuse the virtio index", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    pciAddFunction(k, virtioNet("0000:00:04.0", "52:54:00:00:00:02"));
    pciAddFunction(k, virtioNet("0000:00:05.0", "52:54:00:00:00:03"));
    pciRemoveFunction(k, "0000:00:04.0");
    const fn = pciAddFunction(k, virtioNet("0000:00:07.0", "52:54:00:00:00:04"));
    expect(virtioDeviceOf(fn)?.index).toBe(1);
    const d = dev(k, "eth1");
    expect(d.devAddr).toBe("52:54:00:00:00:04");
    expect(d.ifindex).toBe(5);
    expect(d.parent).toEqual({
      id: "virtio1",
      bus: "virtio",
      driver: "virtio_net",
      devpath: "/devices/pci0000:00/0000:00:07.0/virtio1",
    });
  });

  it("should take the lowest free virtio index, not the next one", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    pciAddFunction(k, virtioNet("0000:00:04.0", "52:54:00:00:00:02"));
    pciRemoveFunction(k, "0000:00:03.0");
    pciRemoveFunction(k, "0000:00:04.0");
    const a = pciAddFunction(k, virtioNet("0000:00:04.0", "52:54:00:00:00:02"));
    const b = pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    expect([virtioDeviceOf(a)?.index, virtioDeviceOf(b)?.index]).toEqual([0, 1]);
    expect(dev(k, "eth0").devAddr).toBe("52:54:00:00:00:02");
    expect(dev(k, "eth1").devAddr).toBe("52:54:00:00:00:01");
  });

  it("should refuse an empty slot", () => {
    const k = boot(E1);
    const e = thrown(() => pciRemoveFunction(k, "0000:00:09.0"));
    expect(e).toBeInstanceOf(PciAddressError);
    expect(e.message).toBe("no PCI function at 0000:00:09.0");
  });

  it("should refuse a root port with devices behind it and change nothing", () => {
    const k = boot(E1);
    pciNicInit(k);
    pciAddFunction(k, ROOT_PORT_2);
    pciAddFunction(k, e1000e("0000:02:00.0", "52:54:00:00:12:53"));
    const before = busSnapshot(k);
    const cursor = k.trace.length;
    const e = thrown(() => pciRemoveFunction(k, "0000:00:06.0"));
    expect(e).toBeInstanceOf(PciAddressError);
    expect(e.message).toBe("0000:00:06.0 has devices behind it; remove them first");
    expect(busSnapshot(k)).toEqual(before);
    expect(k.trace.since(cursor)).toEqual([]);
    pciRemoveFunction(k, "0000:02:00.0");
    pciRemoveFunction(k, "0000:00:06.0");
    expect(pciState(k).functions).toEqual([]);
  });
});

describe("pciSetLink", () => {
  it("should refuse an empty slot", () => {
    const k = boot(E1);
    expect(() => pciSetLink(k, "0000:00:09.0", false)).toThrow("no PCI function at 0000:00:09.0");
  });

  it("should record the link of an unbound function for the driver that binds later", () => {
    const k = boot(E1);
    const fn = pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    expect(events(k, () => pciSetLink(k, "0000:00:03.0", false))).toEqual([]);
    expect(fn.link).toBe(false);
    virtioNetInit(k);
    settle(k);
    expect(dev(k, "eth0").carrier).toBe(false);
  });

  it("should start with the link the spec gives (default up)", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    pciAddFunction(k, virtioNet("0000:00:04.0", "52:54:00:00:00:02", { link: false }));
    settle(k);
    expect(dev(k, "eth0").carrier).toBe(true);
    expect(dev(k, "eth1").carrier).toBe(false);
  });

  it("should do nothing when the link does not change", () => {
    const k = boot(E1);
    virtioNetInit(k);
    pciAddFunction(k, virtioNet("0000:00:03.0", "52:54:00:00:00:01"));
    settle(k);
    const work = k.state.work.length;
    expect(events(k, () => pciSetLink(k, "0000:00:03.0", true))).toEqual([]);
    expect(k.state.work.length).toBe(work);
  });
});
