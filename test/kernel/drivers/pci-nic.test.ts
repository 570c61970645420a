// The PCIe NIC / VF driver (src/kernel/drivers/pci-nic.ts, e1000e-like): probe (perm_addr = the
// NVM MAC, no phys_port_name, the e1000e log lines), carrier only after open plus the link-up
// delay, carrier off on close, the QEMU set_link behaviour measured on Debian's 6.1
// (test/fixtures/qemu-6.1, step 10), MAC changes, invalid-MAC probe failure and removal.

import { describe, expect, it } from "vitest";
import {
  devClose,
  devOpen,
  devSetMacAddress,
  E1000E_MAX_MTU,
  err,
  IF_OPER,
  type Kernel,
  type KernelEvent,
  NET_NAME,
  nextWorkDue,
  PCI_NIC_DRIVERS,
  PCI_NIC_LINK_UP_DELAY_MS,
  PCI_NIC_RELINK_DELAY_MS,
  type PciFunctionSpec,
  pciAddFunction,
  pciGetFunction,
  pciNicInit,
  pciRemoveFunction,
  pciSetLink,
  rtnlFillIfinfo,
  runDueWork,
} from "../../../src/kernel/index.ts";
import type { VirtualClock } from "../../../src/sim/index.ts";
import { boot, dev, E1, E2, events, rawEvents, settle } from "../../_helpers/kernel.ts";

const MAC = "52:54:00:00:12:53";
const ADDR = "0000:00:05.0";
const MS = 1000;

function nic(extra: Partial<PciFunctionSpec> = {}): PciFunctionSpec {
  return { addr: ADDR, model: "e1000e", mac: MAC, ...extra };
}

/** A kernel with the NIC drivers loaded and one e1000e probed as eth0. */
function withNic(version = E1, extra: Partial<PciFunctionSpec> = {}) {
  const k = boot(version);
  pciNicInit(k);
  pciAddFunction(k, nic(extra));
  settle(k);
  return { k, d: dev(k, "eth0") };
}

/** Runs the work due up to virtual time `t` (µs), then moves the clock there. */
function runTo(k: Kernel & { clock: VirtualClock }, t: number): void {
  for (;;) {
    while (runDueWork(k)) {}
    const due = nextWorkDue(k);
    if (due === null || due > t) break;
    k.clock.advanceTo(Math.max(due, k.clock.now()));
  }
  k.clock.advanceTo(Math.max(t, k.clock.now()));
}

function logs(evs: readonly KernelEvent[]): string[] {
  return evs.flatMap((e) => (e.type === "kernel.log" ? [e.text] : []));
}

describe("pciNicInit / probe", () => {
  it("should register eth0 with the NVM MAC as address and perm_addr", () => {
    const { d } = withNic();
    expect([d.devAddr, d.permAddr]).toEqual([MAC, MAC]);
    expect(d.driver).toBe("e1000e");
    expect(d.nameAssignType).toBe(NET_NAME.ENUM);
    expect(d.parent).toEqual({
      id: ADDR,
      bus: "pci",
      driver: "e1000e",
      devpath: "/devices/pci0000:00/0000:00:05.0",
    });
  });

  it("should log what Debian's 6.1 logs for QEMU's e1000e (fixture step 0)", () => {
    const k = boot(E1);
    const evs = rawEvents(k, () => {
      pciNicInit(k);
      pciAddFunction(k, nic());
    });
    expect(logs(evs)).toEqual([
      "e1000e: Intel(R) PRO/1000 Network Driver",
      "e1000e: Copyright(c) 1999 - 2015 Intel Corporation.",
      "e1000e 0000:00:05.0: enabling device (0000 -> 0002)",
      "e1000e 0000:00:05.0: Interrupt Throttling Rate (ints/sec) set to dynamic conservative mode",
      "e1000e 0000:00:05.0 0000:00:05.0 (uninitialized): registered PHC clock",
      "e1000e 0000:00:05.0 eth0: (PCI Express:2.5GT/s:Width x1) 52:54:00:00:12:53",
      "e1000e 0000:00:05.0 eth0: Intel(R) PRO/1000 Network Connection",
      "e1000e 0000:00:05.0 eth0: MAC: 3, PHY: 8, PBA No: 000000-000",
    ]);
  });

  it("should print the driver banner only once", () => {
    const k = boot(E1);
    pciNicInit(k);
    expect(events(k, () => pciNicInit(k))).toEqual([]);
  });

  it("should leave the carrier off after probe (one carrier-down count)", () => {
    const { k, d } = withNic();
    expect(d.carrier).toBe(false);
    expect([d.carrierUpCount, d.carrierDownCount]).toEqual([0, 1]);
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.DOWN);
  });

  it("should take max_mtu from the spec, else e1000e's 9212", () => {
    expect(withNic().d.maxMtu).toBe(E1000E_MAX_MTU);
    expect(E1000E_MAX_MTU).toBe(9212);
    expect(withNic(E1, { maxMtu: 1500 }).d.maxMtu).toBe(1500);
  });

  it("should have no phys_port_name (no ndo_get_phys_port_name)", () => {
    const { k, d } = withNic();
    expect(k.registry.drivers.get("e1000e")?.ops.ndoGetPhysPortName).toBeUndefined();
    expect(rtnlFillIfinfo(k, d).physPortName).toBeNull();
  });

  it.each([
    ["igbvf", "igbvf"],
    ["ixgbevf", "ixgbevf"],
    ["iavf", "iavf"],
  ])("should bind a %s VF with driver %s and none of e1000e's log lines", (model, driver) => {
    const k = boot(E1);
    pciNicInit(k);
    const evs = rawEvents(k, () => pciAddFunction(k, nic({ model })));
    expect(logs(evs)).toEqual([]);
    expect(dev(k, "eth0").driver).toBe(driver);
    expect(dev(k, "eth0").permAddr).toBe(MAC);
    expect(PCI_NIC_DRIVERS.flatMap((d) => d.models)).toContain(model);
  });
});

describe("probe with an invalid MAC", () => {
  it.each([
    ["multicast", "01:54:00:00:12:53"],
    ["all-zero", "00:00:00:00:00:00"],
  ])("should fail the probe of a %s MAC: no netdev, function unbound", (_what, mac) => {
    const k = boot(E1);
    pciNicInit(k);
    const fn = pciAddFunction(k, nic({ mac }));
    expect(fn.driver).toBeNull();
    expect(fn.drvdata).toEqual({});
    expect([...k.state.devices.values()].map((d) => d.name)).toEqual(["lo"]);
    // The name and ifindex are still free for the next NIC.
    pciAddFunction(k, nic({ addr: "0000:00:06.0" }));
    expect(dev(k, "eth0").ifindex).toBe(2);
  });

  it("should fail without a MAC at all (zero NVM)", () => {
    const k = boot(E1);
    pciNicInit(k);
    const { mac: _none, ...noMac } = nic();
    expect(pciAddFunction(k, noMac).driver).toBeNull();
    expect(k.state.devices.size).toBe(1);
  });

  // e1000_probe() reports the bad address with dev_err() on the PCI device, and 6.1's driver
  // core (call_driver_probe) reports the failure with pr_warn("%s: probe of %s failed with error
  // %d"), naming the PCI driver "e1000e". The dev_err form "probe with driver %s failed" came
  // with "driver: core: Log probe failure as error and with device metadata" (2024).
  it("should log the invalid MAC on the PCI device and the probe failure as 6.1 does", () => {
    const k = boot(E1);
    pciNicInit(k);
    const evs = rawEvents(k, () => pciAddFunction(k, nic({ mac: "01:54:00:00:12:53" })));
    expect(logs(evs)).toEqual([
      "e1000e 0000:00:05.0: enabling device (0000 -> 0002)",
      "e1000e 0000:00:05.0: Interrupt Throttling Rate (ints/sec) set to dynamic conservative mode",
      "e1000e 0000:00:05.0: Invalid MAC Address: 01:54:00:00:12:53",
      "e1000e: probe of 0000:00:05.0 failed with error -5",
    ]);
  });

  it("should name the e1000e driver in the 6.18 probe-failure line", () => {
    const k = boot(E2);
    pciNicInit(k);
    const evs = rawEvents(k, () => pciAddFunction(k, nic({ mac: "01:54:00:00:12:53" })));
    expect(logs(evs).at(-1)).toBe(
      "e1000e 0000:00:05.0: probe with driver e1000e failed with error -5",
    );
  });
});

describe("ndo_open / ndo_stop: carrier after the link-up delay", () => {
  it("should use the delays measured on QEMU 7.2's e1000e (2.4 s after open, 1.2 s relink)", () => {
    expect(PCI_NIC_LINK_UP_DELAY_MS).toBe(2400);
    expect(PCI_NIC_RELINK_DELAY_MS).toBe(1200);
  });

  it("should turn the carrier on exactly the default delay after open, with the e1000e log", () => {
    const { k, d } = withNic();
    const t0 = k.clock.now();
    expect(devOpen(k, d)).toBe(0);
    expect(d.carrier).toBe(false);
    runTo(k, t0 + PCI_NIC_LINK_UP_DELAY_MS * MS - 1);
    expect(d.carrier).toBe(false);
    const evs = rawEvents(k, () => runTo(k, t0 + PCI_NIC_LINK_UP_DELAY_MS * MS));
    expect(d.carrier).toBe(true);
    expect(logs(evs)).toEqual([
      "e1000e 0000:00:05.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
      "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
    ]);
    settle(k);
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.UP);
  });

  it("should honour the spec's linkUpDelayMs", () => {
    const { k, d } = withNic(E1, { linkUpDelayMs: 500 });
    const t0 = k.clock.now();
    expect(devOpen(k, d)).toBe(0);
    runTo(k, t0 + 499 * MS);
    expect(d.carrier).toBe(false);
    runTo(k, t0 + 500 * MS);
    expect(d.carrier).toBe(true);
  });

  it("should not bring the carrier while the device stays down", () => {
    const { k, d } = withNic();
    runTo(k, k.clock.now() + 10 * PCI_NIC_LINK_UP_DELAY_MS * MS);
    expect(d.carrier).toBe(false);
  });

  it('should drop the carrier on close and log "NIC Link is Down" when it was up', () => {
    const { k, d } = withNic();
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    expect(d.carrier).toBe(true);
    const evs = rawEvents(k, () => devClose(k, d));
    expect(d.carrier).toBe(false);
    expect(logs(evs)).toEqual(["e1000e 0000:00:05.0 eth0: NIC Link is Down"]);
  });

  it("should close silently before the link came up, and never raise that stale link", () => {
    const { k, d } = withNic();
    expect(devOpen(k, d)).toBe(0);
    runTo(k, k.clock.now() + 1000 * MS);
    expect(logs(rawEvents(k, () => devClose(k, d)))).toEqual([]);
    const evs = rawEvents(k, () => settle(k));
    expect(d.carrier).toBe(false);
    expect(logs(evs)).toEqual([]);
  });

  it("should time the carrier from the last open when reopened within the delay", () => {
    const { k, d } = withNic();
    const t0 = k.clock.now();
    expect(devOpen(k, d)).toBe(0);
    runTo(k, t0 + 1000 * MS);
    devClose(k, d);
    runTo(k, t0 + 1100 * MS);
    expect(devOpen(k, d)).toBe(0);
    runTo(k, t0 + 1100 * MS + PCI_NIC_LINK_UP_DELAY_MS * MS - 1);
    expect(d.carrier).toBe(false);
    runTo(k, t0 + 1100 * MS + PCI_NIC_LINK_UP_DELAY_MS * MS);
    expect(d.carrier).toBe(true);
  });
});

describe("linkChanged (QEMU set_link)", () => {
  // Measured (fixture step 10): set_link off on an open e1000e goes unnoticed by the guest; the
  // carrier stays on until the device is closed.
  it("should not notice the partner going away while open", () => {
    const { k, d } = withNic();
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    const ev = events(k, () => {
      pciSetLink(k, ADDR, false);
      settle(k);
    });
    expect(ev).toEqual([]);
    expect(d.carrier).toBe(true);
    expect(pciGetFunction(k, ADDR)?.link).toBe(false);
    expect(logs(rawEvents(k, () => devClose(k, d)))).toEqual([
      "e1000e 0000:00:05.0 eth0: NIC Link is Down",
    ]);
  });

  it("should open without carrier while the partner is away, and get it 1.2 s after it returns", () => {
    const { k, d } = withNic();
    pciSetLink(k, ADDR, false);
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    expect(d.carrier).toBe(false);
    const t1 = k.clock.now();
    pciSetLink(k, ADDR, true);
    runTo(k, t1 + PCI_NIC_RELINK_DELAY_MS * MS - 1);
    expect(d.carrier).toBe(false);
    const evs = rawEvents(k, () => runTo(k, t1 + PCI_NIC_RELINK_DELAY_MS * MS));
    expect(d.carrier).toBe(true);
    expect(logs(evs)[0]).toBe(
      "e1000e 0000:00:05.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    );
  });

  it("should start with the partner away when the spec says link: false", () => {
    const { k, d } = withNic(E1, { link: false });
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    expect(d.carrier).toBe(false);
  });

  it("should only record the partner while the device is down", () => {
    const { k, d } = withNic();
    const ev = events(k, () => {
      pciSetLink(k, ADDR, false);
      pciSetLink(k, ADDR, true);
      settle(k);
    });
    expect(ev).toEqual([]);
    expect(d.carrier).toBe(false);
  });
});

describe("MAC address changes", () => {
  it("should change the MAC of a down NIC and keep perm_addr", () => {
    const { k, d } = withNic();
    expect(devSetMacAddress(k, d, "52:54:00:00:12:55")).toBe(0);
    expect([d.devAddr, d.permAddr]).toEqual(["52:54:00:00:12:55", MAC]);
    expect(rtnlFillIfinfo(k, d).permAddress).toBe(MAC);
  });

  it("should refuse a multicast MAC with -EADDRNOTAVAIL", () => {
    const { k, d } = withNic();
    expect(devSetMacAddress(k, d, "01:00:5e:00:00:01")).toBe(err("EADDRNOTAVAIL"));
    expect(d.devAddr).toBe(MAC);
  });

  // e1000_set_mac() has no "device running" check (unlike eth_mac_addr without
  // IFF_LIVE_ADDR_CHANGE): fixture step 11.176, `ip link set ens4 address 52:54:00:00:12:55` on
  // the UP primary, exits 0 and the monitor shows "permaddr 52:54:00:00:12:53".
  it("should change the MAC of an UP e1000e (measured on 6.1)", () => {
    const { k, d } = withNic();
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    const ev = events(k, () => {
      expect(devSetMacAddress(k, d, "52:54:00:00:12:55")).toBe(0);
    });
    expect(ev).toEqual([
      "notify NETDEV_PRE_CHANGEADDR eth0",
      "notify NETDEV_CHANGEADDR eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
    expect([d.devAddr, d.permAddr]).toEqual(["52:54:00:00:12:55", MAC]);
  });
});

describe("PCI NIC driver remove", () => {
  it("should log removed PHC, then unregister: NETDEV_UNREGISTER, RTM_DELLINK, remove uevent", () => {
    const { k } = withNic();
    expect(events(k, () => pciRemoveFunction(k, ADDR))).toEqual([
      "log e1000e 0000:00:05.0 eth0: removed PHC",
      "notify NETDEV_UNREGISTER eth0",
      "rtnl RTM_DELLINK eth0",
      "uevent remove eth0",
    ]);
    expect(k.state.devices.size).toBe(1);
  });

  // Fixture step 6: "removed PHC", then the close inside unregister logs "NIC Link is Down".
  it("should close an UP NIC inside the unregister and log the link loss after removed PHC", () => {
    const { k, d } = withNic();
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    const evs = rawEvents(k, () => pciRemoveFunction(k, ADDR));
    expect(logs(evs)).toEqual([
      "e1000e 0000:00:05.0 eth0: removed PHC",
      "e1000e 0000:00:05.0 eth0: NIC Link is Down",
    ]);
    const kinds = evs.map((e) =>
      e.type === "kernel.rtnl" ? e.msg : e.type === "kernel.uevent" ? e.action : null,
    );
    expect(kinds.filter(Boolean)).toEqual(["RTM_NEWLINK", "RTM_DELLINK", "remove"]);
  });

  it("should drop a pending link-up of a removed NIC without effect", () => {
    const { k, d } = withNic();
    expect(devOpen(k, d)).toBe(0);
    pciRemoveFunction(k, ADDR);
    const ev = events(k, () => settle(k));
    expect(ev).toEqual([]);
    expect(d.regState).toBe("UNREGISTERED");
  });

  it("should give a re-plugged NIC the lowest free name and a new ifindex", () => {
    const k = boot(E1);
    pciNicInit(k);
    pciAddFunction(k, nic());
    pciAddFunction(k, nic({ addr: "0000:00:06.0", mac: "52:54:00:00:12:54" }));
    pciRemoveFunction(k, ADDR);
    pciAddFunction(k, nic());
    expect(dev(k, "eth0").ifindex).toBe(4);
    expect(dev(k, "eth1").ifindex).toBe(3);
  });
});
