// drivers/net/virtio_net.c with and without VIRTIO_NET_F_STANDBY (spec §B10, VN1–VN5): the
// feature table, probe order (master before standby), remove order (standby before master),
// phys_port_name "sby", the config work that reports the backend link, and MAC changes.

import { describe, expect, it } from "vitest";
import {
  devChangeName,
  devClose,
  devOpen,
  devSetMacAddress,
  err,
  IF_OPER,
  type KernelEvent,
  NET_FAILOVER,
  NET_NAME,
  type NetDevice,
  netdevMasterUpperDevGet,
  netFailoverSlaves,
  pciGetFunction,
  rtnlFillIfinfo,
  VIRTIO_NET,
  VIRTIO_NET_DRIVER,
  VIRTIO_NET_VIRTIO_DRIVER,
  VIRTNET_CONFIG_WORK,
  virtioDeviceOf,
} from "../../../src/kernel/index.ts";
import {
  FAILOVER_MAC,
  FAILOVER_VM,
  type MachineSpec,
  VIRTIO_VM,
} from "../../../src/machine/index.ts";
import { dev, events, project, rawEvents, runDueNow } from "../../_helpers/kernel.ts";
import { bootMachine, failoverVmWith } from "../../_helpers/machine.ts";

/** A standby virtio-net and a plain one, no primary: the probe alone. */
const STANDBY_VM: MachineSpec = {
  name: "standby-vm",
  description: "virtio-net standby at 00:03.0, plain virtio-net at 00:04.0",
  defaultQdisc: "fq_codel",
  cpus: 1,
  modules: ["virtio_pci", "failover", "net_failover", "virtio_net"],
  devices: [
    { addr: "0000:00:03.0", model: "virtio-net", id: "standby0", mac: FAILOVER_MAC, standby: true },
    { addr: "0000:00:04.0", model: "virtio-net", id: "net1", mac: "52:54:00:00:12:99" },
  ],
};

function logs(evs: readonly KernelEvent[]): string[] {
  return evs.flatMap((e) => (e.type === "kernel.log" ? [e.text] : []));
}

function ueventsOf(evs: readonly KernelEvent[]): string[] {
  return evs.flatMap((e) => (e.type === "kernel.uevent" ? [`${e.action} ${e.interface}`] : []));
}

function names(k: { state: { devices: Map<number, NetDevice> } }): string[] {
  return [...k.state.devices.values()].map((d) => `${d.ifindex} ${d.name} ${d.driver}`);
}

describe("VIRTIO_NET_VIRTIO_DRIVER (VN1)", () => {
  it("should list VIRTIO_NET_F_STANDBY in the driver's feature table", () => {
    expect(VIRTIO_NET_VIRTIO_DRIVER.features).toContain("VIRTIO_NET_F_STANDBY");
    expect(VIRTIO_NET_VIRTIO_DRIVER.deviceType).toBe("net");
    expect(VIRTIO_NET_VIRTIO_DRIVER.name).toBe("virtio_net");
  });

  it("should negotiate STANDBY when the device offers it (QEMU failover=on) and not otherwise", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    const sby = pciGetFunction(k, "0000:00:03.0");
    const plain = pciGetFunction(k, "0000:00:04.0");
    expect(sby && virtioDeviceOf(sby)).toMatchObject({
      index: 0,
      deviceType: "net",
      driver: "virtio_net",
      offered: ["VIRTIO_NET_F_MAC", "VIRTIO_NET_F_STATUS", "VIRTIO_NET_F_STANDBY"],
      negotiated: ["VIRTIO_NET_F_MAC", "VIRTIO_NET_F_STATUS", "VIRTIO_NET_F_STANDBY"],
    });
    expect(plain && virtioDeviceOf(plain)).toMatchObject({
      index: 1,
      offered: ["VIRTIO_NET_F_MAC", "VIRTIO_NET_F_STATUS"],
      negotiated: ["VIRTIO_NET_F_MAC", "VIRTIO_NET_F_STATUS"],
    });
  });
});

describe("virtnet_probe (VN2)", () => {
  it("should register the master before the standby: master eth0 with the lower ifindex", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    expect(names(k)).toEqual([
      "1 lo loopback",
      "2 eth0 net_failover",
      "3 eth1 virtio_net",
      "4 eth2 virtio_net",
    ]);
    expect(netdevMasterUpperDevGet(k, dev(k, "eth1"))?.name).toBe("eth0");
    expect(netFailoverSlaves(k, dev(k, "eth0"))).toEqual({
      primary: null,
      standby: dev(k, "eth1"),
    });
    expect(netdevMasterUpperDevGet(k, dev(k, "eth2"))).toBeUndefined();
  });

  it("should send the add uevents and the failover logs in probe order", () => {
    const { k, m } = bootMachine("6.1", STANDBY_VM, { noBoot: true });
    const evs = rawEvents(k, () => m.boot());
    expect(ueventsOf(evs)).toEqual(["add eth0", "add eth1", "add eth2"]);
    expect(logs(evs)).toEqual([
      "virtio_net virtio0 eth0: failover master:eth0 registered",
      "virtio_net virtio0 eth0: failover standby slave:eth1 registered",
    ]);
    // The master's registration RTM_NEWLINK comes before anything about the standby.
    const ev = evs.map(project);
    expect(ev.indexOf("rtnl RTM_NEWLINK eth0")).toBeLessThan(
      ev.indexOf("notify NETDEV_POST_INIT eth1"),
    );
  });

  it("should give all three netdevs name_assign_type NET_NAME_ENUM (1) on 6.1", () => {
    const { k } = bootMachine("6.1");
    for (const n of ["eth0", "eth1", "eth2", "eth3"])
      expect(dev(k, n).nameAssignType, n).toBe(NET_NAME.ENUM);
  });

  // alloc_etherdev_mqs() passed NET_NAME_UNKNOWN until "net/ethernet: set default assignment
  // identifier to NET_NAME_ENUM" (I. Wienand, posted 2022-04-01, merged for v5.19): on 5.15
  // and older, /sys/class/net/ethN/name_assign_type of virtio_net, net_failover and e1000e is 0.
  it.each(["5.10", "5.15"])(
    "should give alloc_etherdev devices NET_NAME_UNKNOWN (0) on %s (before v5.19)",
    (version) => {
      const { k } = bootMachine(version);
      for (const n of ["eth0", "eth1", "eth2", "eth3"])
        expect(dev(k, n).nameAssignType, n).toBe(NET_NAME.UNKNOWN);
    },
  );

  it("should hang the master off the standby's parent virtio0 on the virtio bus", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    const master = dev(k, "eth0");
    const standby = dev(k, "eth1");
    expect(master.parent).toEqual({
      id: "virtio0",
      bus: "virtio",
      driver: "virtio_net",
      devpath: "/devices/pci0000:00/0000:00:03.0/virtio0",
    });
    expect(standby.parent).toEqual(master.parent);
    expect(rtnlFillIfinfo(k, master)).toMatchObject({ parentBus: "virtio", parentDev: "virtio0" });
    expect(dev(k, "eth2").parent?.id).toBe("virtio1");
  });

  it("should give the master 16 tx/rx queues and the virtio netdevs one", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    expect([dev(k, "eth0").numTxQueues, dev(k, "eth0").numRxQueues]).toEqual([16, 16]);
    expect([dev(k, "eth1").numTxQueues, dev(k, "eth2").numTxQueues]).toEqual([1, 1]);
  });

  it("should copy the standby's MAC (perm_addr) and MTU range to the master", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    const master = dev(k, "eth0");
    expect([master.devAddr, master.permAddr]).toEqual([FAILOVER_MAC, FAILOVER_MAC]);
    expect(dev(k, "eth1").permAddr).toBe(FAILOVER_MAC);
    expect([master.minMtu, master.maxMtu]).toEqual([68, 65535]);
  });

  it("should leave everything down: the standby is not opened at probe", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    for (const n of ["eth0", "eth1", "eth2"]) {
      expect(dev(k, n).running, n).toBe(false);
      expect(rtnlFillIfinfo(k, dev(k, n)).operstate, n).toBe(IF_OPER.DOWN);
    }
    expect(dev(k, "eth0").carrier).toBe(false);
  });

  it("should create no master without STANDBY", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM, { noBoot: true });
    const evs = rawEvents(k, () => m.boot());
    expect(names(k)).toEqual(["1 lo loopback", "2 eth0 virtio_net"]);
    expect(logs(evs)).toEqual([]);
  });

  it("should turn the carrier on through the config work once the link reads up", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM, { noBoot: true });
    m.boot();
    const d = dev(k, "eth0");
    expect(d.carrier).toBe(true);
    expect(d.carrierDownCount).toBe(1);
    expect(d.carrierUpCount).toBe(1);
    expect(k.state.work.filter((w) => w.name === VIRTNET_CONFIG_WORK)).toEqual([]);
  });
});

describe("virtnet_remove (VN3)", () => {
  it("should unregister the standby first, then destroy the master", () => {
    const { k, m } = bootMachine("6.1", STANDBY_VM);
    const evs = rawEvents(k, () => m.unplug("standby0"));
    expect(logs(evs)).toEqual([
      "virtio_net virtio0 eth0: failover standby slave:eth1 unregistered",
      "virtio_net virtio0 eth0: failover master:eth0 unregistered",
    ]);
    expect(ueventsOf(evs)).toEqual(["remove eth1", "remove eth0"]);
    const dellinks = evs.flatMap((e) =>
      e.type === "kernel.rtnl" && e.msg === "RTM_DELLINK" ? [e.link] : [],
    );
    expect(dellinks.map((l) => [l.ifname, l.master])).toEqual([
      ["eth1", null],
      ["eth0", null],
    ]);
    expect(names(k)).toEqual(["1 lo loopback", "4 eth2 virtio_net"]);
  });

  it("should detach the primary first and leave it registered as an independent device", () => {
    const { k, m } = bootMachine("6.1");
    const evs = rawEvents(k, () => m.unplug("standby0"));
    expect(logs(evs)).toEqual([
      "virtio_net virtio0 eth0: failover standby slave:eth1 unregistered",
      "virtio_net virtio0 eth0: failover primary slave:eth3 unregistered",
      "virtio_net virtio0 eth0: failover master:eth0 unregistered",
    ]);
    const eth3 = dev(k, "eth3");
    expect(eth3.uppers).toEqual([]);
    expect(eth3.regState).toBe("REGISTERED");
    expect(names(k)).toEqual(["1 lo loopback", "4 eth2 virtio_net", "5 eth3 e1000e"]);
  });

  it("should close UP devices on the way: the standby, then the master", () => {
    const { k, m } = bootMachine("6.1", STANDBY_VM);
    expect(devOpen(k, dev(k, "eth0"))).toBe(0);
    m.settle();
    const ev = events(k, () => m.unplug("standby0")).filter((e) =>
      /NETDEV_(GOING_)?DOWN|RTM_DELLINK|uevent/.test(e),
    );
    expect(ev).toEqual([
      "notify NETDEV_GOING_DOWN eth1",
      "notify NETDEV_DOWN eth1",
      "rtnl RTM_DELLINK eth1",
      "uevent remove eth1",
      "notify NETDEV_GOING_DOWN eth0",
      "notify NETDEV_DOWN eth0",
      "rtnl RTM_DELLINK eth0",
      "uevent remove eth0",
    ]);
  });

  it("should reuse virtio0 and the lowest free ethN names when the standby comes back", () => {
    const { k, m } = bootMachine("6.1", STANDBY_VM);
    m.unplug("standby0");
    const evs = rawEvents(k, () => m.plug("standby0"));
    expect(logs(evs)).toEqual([
      "virtio_net virtio0 eth0: failover master:eth0 registered",
      "virtio_net virtio0 eth0: failover standby slave:eth1 registered",
    ]);
    expect(names(k)).toEqual([
      "1 lo loopback",
      "4 eth2 virtio_net",
      "5 eth0 net_failover",
      "6 eth1 virtio_net",
    ]);
  });
});

describe("virtnet_get_phys_port_name (VN4)", () => {
  it('should answer "sby" for a virtio netdev that negotiated STANDBY', () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    const op = VIRTIO_NET_DRIVER.ops.ndoGetPhysPortName;
    expect(op).toBeDefined();
    expect(op?.(k, dev(k, "eth1"))).toBe("sby");
    expect(rtnlFillIfinfo(k, dev(k, "eth1")).physPortName).toBe("sby");
  });

  it("should answer -EOPNOTSUPP without STANDBY, so no IFLA_PHYS_PORT_NAME", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    expect(VIRTIO_NET_DRIVER.ops.ndoGetPhysPortName?.(k, dev(k, "eth2"))).toBe(err("EOPNOTSUPP"));
    expect(rtnlFillIfinfo(k, dev(k, "eth2")).physPortName).toBeNull();
  });

  it("should give the master no port name (net_failover has no such op)", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    expect(dev(k, "eth0").driver).toBe(NET_FAILOVER);
    expect(rtnlFillIfinfo(k, dev(k, "eth0")).physPortName).toBeNull();
  });

  it("should keep the port name across a rename (udev's ens3nsby)", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    const d = dev(k, "eth1");
    expect(devChangeName(k, d, "ens3nsby")).toBe(0);
    expect(d.driver).toBe(VIRTIO_NET);
    expect(rtnlFillIfinfo(k, d)).toMatchObject({ ifname: "ens3nsby", physPortName: "sby" });
  });
});

describe("VN5: the primary must share the MAC and be a PCI device", () => {
  it("should enslave the PCI function with the standby's MAC as primary", () => {
    const { k } = bootMachine("6.1");
    const eth3 = dev(k, "eth3");
    expect([eth3.driver, eth3.permAddr, eth3.parent?.bus]).toEqual(["e1000e", FAILOVER_MAC, "pci"]);
    expect(netFailoverSlaves(k, dev(k, "eth0"))).toEqual({
      primary: eth3,
      standby: dev(k, "eth1"),
    });
  });

  it("should not enslave a PCI function with another MAC", () => {
    const spec = failoverVmWith([
      { addr: "0000:01:00.0", model: "igbvf", id: "vf1", mac: "52:54:00:00:12:77" },
    ]);
    const { k } = bootMachine("6.1", spec);
    const vf = [...k.state.devices.values()].find((d) => d.driver === "igbvf");
    expect(vf?.uppers).toEqual([]);
  });

  it("should refuse a virtio netdev with the standby's MAC as primary (not PCI), silently", () => {
    const spec = failoverVmWith([
      { addr: "0000:00:07.0", model: "virtio-net", id: "v2", mac: FAILOVER_MAC, atBoot: false },
    ]);
    const { k, m } = bootMachine("6.1", spec);
    m.unplug("primary0");
    const evs = rawEvents(k, () => m.plug("v2"));
    expect(logs(evs)).toEqual([]);
    const v2 = dev(k, "eth3");
    expect([v2.driver, v2.parent?.id, v2.uppers]).toEqual(["virtio_net", "virtio2", []]);
    expect(netFailoverSlaves(k, dev(k, "eth0")).primary).toBeNull();
  });
});

describe("virtnet_config_changed_work", () => {
  it("should follow QEMU set_link off/on only when the config work runs", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM);
    const d = dev(k, "eth0");
    expect(devOpen(k, d)).toBe(0);
    m.settle();
    expect([d.carrier, rtnlFillIfinfo(k, d).operstate]).toEqual([true, IF_OPER.UP]);
    m.setLink("net0", false);
    expect(d.carrier).toBe(true);
    expect(k.state.work.map((w) => w.name)).toContain(VIRTNET_CONFIG_WORK);
    runDueNow(k);
    expect(d.carrier).toBe(false);
    m.settle();
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.DOWN);
    m.setLink("net0", true);
    m.settle();
    expect([d.carrier, rtnlFillIfinfo(k, d).operstate]).toEqual([true, IF_OPER.UP]);
    expect([d.carrierUpCount, d.carrierDownCount]).toEqual([2, 2]);
  });

  it("should announce the carrier change of an UP netdev (NETDEV_CHANGE, RTM_NEWLINK)", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM);
    const d = dev(k, "eth0");
    expect(devOpen(k, d)).toBe(0);
    m.settle();
    m.setLink("net0", false);
    const evs = rawEvents(k, () => m.settle());
    expect(evs.map(project)).toEqual(["notify NETDEV_CHANGE eth0", "rtnl RTM_NEWLINK eth0"]);
    const rtm = evs.find((e) => e.type === "kernel.rtnl");
    expect(rtm?.type === "kernel.rtnl" && rtm.link.operstate).toBe(IF_OPER.DOWN);
  });

  it("should change the carrier of a down netdev without any message", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM);
    const d = dev(k, "eth0");
    const ev = events(k, () => {
      m.setLink("net0", false);
      m.settle();
    });
    expect(ev).toEqual([]);
    expect(d.carrier).toBe(false);
  });

  it("should take the standby's carrier, and with it the master's, down and up", () => {
    const { k, m } = bootMachine("6.1", STANDBY_VM);
    const master = dev(k, "eth0");
    const standby = dev(k, "eth1");
    expect(devOpen(k, master)).toBe(0);
    m.settle();
    expect([master.carrier, standby.carrier]).toEqual([true, true]);
    m.setLink("standby0", false);
    m.settle();
    expect([master.carrier, standby.carrier]).toEqual([false, false]);
    m.setLink("standby0", true);
    m.settle();
    expect([master.carrier, standby.carrier]).toEqual([true, true]);
  });
});

describe("virtio_net from v6.12: carrier in step with the admin state (df28de7b0050, be5dcaed694e)", () => {
  it("should leave the carrier off after the probe, the config change pending until the first open", () => {
    const { k, m } = bootMachine("6.12", VIRTIO_VM, { noBoot: true });
    m.boot();
    const d = dev(k, "eth0");
    expect(d.carrier).toBe(false);
    expect([d.carrierUpCount, d.carrierDownCount]).toEqual([0, 1]);
    expect(k.state.work.filter((w) => w.name === VIRTNET_CONFIG_WORK)).toEqual([]);
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.DOWN);
  });

  it("should turn the carrier on in ndo_open and leave operstate DOWN for linkwatch (measured on 6.12.118)", () => {
    const { k, m } = bootMachine("6.12", VIRTIO_VM);
    const d = dev(k, "eth0");
    const evs = rawEvents(k, () => expect(devOpen(k, d)).toBe(0));
    const rtm = evs.find((e) => e.type === "kernel.rtnl");
    // ip monitor: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> … state DOWN
    expect(rtm?.type === "kernel.rtnl" && [rtm.link.carrier, rtm.link.operstate]).toEqual([
      true,
      IF_OPER.DOWN,
    ]);
    m.settle();
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.UP);
  });

  it("should turn the carrier off on close and back on at the next open from the status read", () => {
    const { k, m } = bootMachine("6.12", VIRTIO_VM);
    const d = dev(k, "eth0");
    expect(devOpen(k, d)).toBe(0);
    m.settle();
    devClose(k, d);
    expect(d.carrier).toBe(false);
    m.settle();
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.DOWN);
    expect(devOpen(k, d)).toBe(0);
    expect(d.carrier).toBe(true);
    expect([d.carrierUpCount, d.carrierDownCount]).toEqual([2, 2]);
  });

  it("should hold a set_link while the device is down until it opens, then run it", () => {
    const { k, m } = bootMachine("6.12", VIRTIO_VM);
    const d = dev(k, "eth0");
    expect(devOpen(k, d)).toBe(0);
    m.settle();
    devClose(k, d);
    m.setLink("net0", false);
    m.settle();
    expect(k.state.work.filter((w) => w.name === VIRTNET_CONFIG_WORK)).toEqual([]);
    // open: the carrier on from the last status read (up), then the pending change reads down
    expect(devOpen(k, d)).toBe(0);
    expect(d.carrier).toBe(false);
    expect([d.carrierUpCount, d.carrierDownCount]).toEqual([2, 3]);
    m.setLink("net0", true);
    m.settle();
    expect([d.carrier, rtnlFillIfinfo(k, d).operstate]).toEqual([true, IF_OPER.UP]);
  });

  it("should keep the pre-6.12 behaviour on 6.7: carrier on at probe while down", () => {
    const { k } = bootMachine("6.7", VIRTIO_VM);
    expect(dev(k, "eth0").carrier).toBe(true);
  });
});

describe("virtnet_set_mac_address", () => {
  it("should refuse a MAC change with STANDBY (-EOPNOTSUPP) and change nothing", () => {
    const { k } = bootMachine("6.1", STANDBY_VM);
    const standby = dev(k, "eth1");
    const ev = events(k, () => {
      expect(devSetMacAddress(k, standby, "52:54:00:00:00:01")).toBe(err("EOPNOTSUPP"));
    });
    // dev_set_mac_address() asks NETDEV_PRE_CHANGEADDR before the driver refuses.
    expect(ev).toEqual(["notify NETDEV_PRE_CHANGEADDR eth1"]);
    expect(standby.devAddr).toBe(FAILOVER_MAC);
  });

  it("should refuse it on an UP standby too", () => {
    const { k, m } = bootMachine("6.1", STANDBY_VM);
    expect(devOpen(k, dev(k, "eth0"))).toBe(0);
    m.settle();
    expect(devSetMacAddress(k, dev(k, "eth1"), "52:54:00:00:00:01")).toBe(err("EOPNOTSUPP"));
  });

  it("should change the MAC of a plain virtio netdev, also while it is UP", () => {
    const { k, m } = bootMachine("6.1", VIRTIO_VM);
    const d = dev(k, "eth0");
    expect(devOpen(k, d)).toBe(0);
    m.settle();
    const ev = events(k, () => {
      expect(devSetMacAddress(k, d, "52:54:00:00:00:01")).toBe(0);
    });
    expect(ev).toEqual([
      "notify NETDEV_PRE_CHANGEADDR eth0",
      "notify NETDEV_CHANGEADDR eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
    expect([d.devAddr, d.permAddr]).toEqual(["52:54:00:00:00:01", "52:54:00:00:12:53"]);
  });

  it("should refuse a multicast or zero MAC with -EADDRNOTAVAIL", () => {
    const { k } = bootMachine("6.1", VIRTIO_VM);
    const d = dev(k, "eth0");
    expect(devSetMacAddress(k, d, "01:00:5e:00:00:01")).toBe(err("EADDRNOTAVAIL"));
    expect(devSetMacAddress(k, d, "00:00:00:00:00:00")).toBe(err("EADDRNOTAVAIL"));
    expect(d.devAddr).toBe("52:54:00:00:12:53");
  });
});

describe("virtio-net on the measured failover VM", () => {
  it("should close the standby when the master closes and keep it enslaved", () => {
    const { k, m } = bootMachine("6.1", FAILOVER_VM);
    expect(devOpen(k, dev(k, "eth0"))).toBe(0);
    m.settle();
    expect(dev(k, "eth1").running).toBe(true);
    devClose(k, dev(k, "eth0"));
    m.settle();
    expect(dev(k, "eth1").running).toBe(false);
    expect(netdevMasterUpperDevGet(k, dev(k, "eth1"))?.name).toBe("eth0");
  });
});
