// drivers/net/net_failover.c (spec §B9): NF-PRE, NF-REG, NF-PREU, NF-UNREG, NF-LC, NF-LS,
// NF-NC, NF-OPEN, NF-STOP, NF-XMIT, NF-STATS, NF-MTU, NF-RX, NF-ETHTOOL, NF-CREATE,
// NF-DESTROY, and the Oracle UEK5 takeover_delay variant. Realistic set-ups use the failover VM
// (eth0 = master, eth1 = virtio standby, eth2 = plain virtio, eth3 = e1000e primary); edge cases
// add generic Ethernet devices on a PCI parent ("VFs") by hand.
//
// Event lists keep every notifier call, rtnetlink message and uevent, and the log lines of
// failover, net_failover and renames; other drivers' log lines (e1000e, IPv6 addrconf) are left
// out so that the orders asserted here are the ones the spec gives.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocNetdev,
  coreStatsOf,
  devChangeFlags,
  devChangeName,
  devGetStats,
  devOpen,
  devQueueXmit,
  devSetMtu,
  err,
  failoverInstances,
  failoverSlaveRegister,
  failoverSlaveUnregister,
  foldStats,
  GENERIC_ETH,
  genericEthSetOpenError,
  IFF,
  IFF_PRIV,
  type Kernel,
  LINK_STATS_FIELDS,
  type LinkStats,
  NET_FAILOVER,
  NET_FAILOVER_DRIVER,
  NET_FAILOVER_OPS,
  NET_FAILOVER_TAKEOVER_WORK,
  NET_FAILOVER_VERSION,
  NET_NAME,
  type NegErrno,
  type NetDevice,
  NOTIFY_DONE,
  netFailoverCreate,
  netFailoverDestroy,
  netFailoverHandleFrame,
  netifReceive,
  nfoInfo,
  notifierFromErrno,
  type ParentDevice,
  privOf,
  type RtnlEvent,
  registerNetdev,
  rtnlFillIfinfo,
  runDueWork,
  statsOf,
  zeroStats,
} from "../../../src/kernel/index.ts";
import { FAILOVER_MAC, FAILOVER_VM, type MachineSpec } from "../../../src/machine/index.ts";
import {
  addRecorder,
  boot,
  E0,
  E1,
  E2,
  events,
  project,
  rawEvents,
  vetoOn,
} from "../../_helpers/kernel.ts";
import { bootMachine } from "../../_helpers/machine.ts";

// ─── helpers ───────────────────────────────────────────────────────────────────────────────

/** Log lines this file asserts; other drivers' lines are dropped from event lists. */
const KEPT_LOG =
  /failover|renamed from|Opening slave|Opening primary|unable to change mtu|attempting to register|can not (register|set)|Unable to register/;

function keep(line: string): boolean {
  return !line.startsWith("log ") || KEPT_LOG.test(line);
}

/** events() without unrelated driver log lines. */
function ev(k: Kernel, fn: () => unknown): string[] {
  return events(k, fn).filter(keep);
}

/** The failover VM without the e1000e primary (a master with only its standby). */
const NO_PRIMARY_VM: MachineSpec = {
  ...FAILOVER_VM,
  name: "failover-vm-no-primary",
  devices: FAILOVER_VM.devices.filter((d) => d.id !== "primary0"),
};

type Vm = ReturnType<typeof bootMachine> & { d: (name: string) => NetDevice };

function vm(
  version = E1,
  spec: MachineSpec = FAILOVER_VM,
  o: { takeoverDelayMs?: number | null; up?: boolean } = {},
): Vm {
  const b = bootMachine(version, spec, { takeoverDelayMs: o.takeoverDelayMs ?? null });
  const d = (name: string): NetDevice => {
    const x = [...b.k.state.devices.values()].find((y) => y.name === name);
    if (!x) throw new Error(`no device ${name}`);
    return x;
  };
  if (o.up) {
    const m = d("eth0");
    expect(devChangeFlags(b.k, m, m.flags | IFF.UP)).toBe(0);
    b.m.settle();
  }
  return { ...b, d };
}

function setUp(k: Kernel, d: NetDevice, up: boolean): void {
  expect(devChangeFlags(k, d, up ? d.flags | IFF.UP : d.flags & ~IFF.UP)).toBe(0);
}

const VF_SLOT = "0000:01:00.0";

function pciParent(slot = VF_SLOT): ParentDevice {
  return {
    id: slot,
    bus: "pci",
    driver: GENERIC_ETH,
    devpath: `/devices/pci0000:00/0000:00:05.0/${slot}`,
  };
}

/** Registers a generic Ethernet device ("eth%d"), by default a PCI function with the failover MAC. */
function vf(
  k: Kernel,
  o: {
    mac?: string;
    parent?: ParentDevice | null;
    openError?: NegErrno;
    minMtu?: number;
    maxMtu?: number;
    stats?: Partial<LinkStats>;
  } = {},
): NetDevice {
  const d = allocNetdev(k, {
    name: "eth%d",
    nameAssignType: NET_NAME.ENUM,
    driver: GENERIC_ETH,
    parent: o.parent === undefined ? pciParent() : o.parent,
  });
  d.devAddr = o.mac ?? FAILOVER_MAC;
  d.carrier = false;
  if (o.openError !== undefined) privOf(d).openError = o.openError;
  if (o.minMtu !== undefined) d.minMtu = o.minMtu;
  if (o.maxMtu !== undefined) d.maxMtu = o.maxMtu;
  if (o.stats) Object.assign(statsOf(d), o.stats);
  expect(registerNetdev(k, d)).toBe(0);
  return d;
}

/** Projects raw events like events() does, without unrelated driver log lines. */
function lines(raw: ReturnType<typeof rawEvents>): string[] {
  return raw.map(project).filter(keep);
}

function rtms(raw: ReturnType<typeof rawEvents>): RtnlEvent[] {
  return raw.filter((e): e is RtnlEvent => e.type === "kernel.rtnl");
}

function lowerStates(
  rec: ReturnType<typeof addRecorder>,
): [string, { linkUp: boolean; txEnabled: boolean } | undefined][] {
  return rec.calls
    .filter((c) => c.event === "NETDEV_CHANGELOWERSTATE")
    .map((c) => [c.dev, c.info.lowerState]);
}

const SLAVE_FLAGS =
  IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_LIVE_RENAME_OK | IFF_PRIV.IFF_NO_ADDRCONF;

const REGISTER_VF3 = [
  "notify NETDEV_POST_INIT eth3",
  "uevent add eth3",
  "notify NETDEV_REGISTER eth3",
];

// ─── NF-CREATE ─────────────────────────────────────────────────────────────────────────────

describe("netFailoverCreate", () => {
  it("NF-CREATE steps 5–7: the master should register first (lower ethN), failover ignoring its REGISTER, then the standby", () => {
    const { k } = vm(E1, NO_PRIMARY_VM);
    const all = lines(k.trace.since(0));
    const from = all.indexOf("notify NETDEV_POST_INIT eth0");
    const to = all.indexOf("log virtio_net virtio0 eth0: failover standby slave:eth1 registered");
    expect(all.slice(from, to + 2)).toEqual([
      "notify NETDEV_POST_INIT eth0",
      "uevent add eth0",
      "notify NETDEV_REGISTER eth0",
      "rtnl RTM_NEWLINK eth0",
      "log virtio_net virtio0 eth0: failover master:eth0 registered",
      "notify NETDEV_POST_INIT eth1",
      "uevent add eth1",
      "notify NETDEV_REGISTER eth1",
      "notify NETDEV_PRECHANGEUPPER eth1",
      "notify NETDEV_CHANGEUPPER eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_CHANGELOWERSTATE eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_JOIN eth1",
      "log virtio_net virtio0 eth0: failover standby slave:eth1 registered",
      "rtnl RTM_NEWLINK eth1",
    ]);
  });

  it("NF-CREATE steps 1–4: eth%d (ENUM), 16 queues, the standby's parent, MAC and MTU range, priv flags", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const m = d("eth0");
    const s = d("eth1");
    expect(failoverInstances(k)).toEqual([{ master: m.ifindex, ops: NET_FAILOVER }]);
    expect(m.driver).toBe(NET_FAILOVER);
    expect(m.nameAssignType).toBe(NET_NAME.ENUM);
    expect([m.numTxQueues, m.numRxQueues]).toEqual([16, 16]);
    expect(m.parent).toEqual(s.parent);
    expect(m.parent?.id).toBe("virtio0");
    expect([m.devAddr, m.permAddr]).toEqual([FAILOVER_MAC, FAILOVER_MAC]);
    expect([m.minMtu, m.maxMtu]).toEqual([s.minMtu, s.maxMtu]);
    expect([m.minMtu, m.maxMtu]).toEqual([68, 65535]);
    const on = IFF_PRIV.IFF_UNICAST_FLT | IFF_PRIV.IFF_NO_QUEUE | IFF_PRIV.IFF_FAILOVER;
    expect(m.privFlags & on).toBe(on);
    expect(m.privFlags & (IFF_PRIV.IFF_XMIT_DST_RELEASE | IFF_PRIV.IFF_TX_SKB_SHARING)).toBe(0);
    expect(m.flags & (IFF.MASTER | IFF.SLAVE)).toBe(0);
  });

  it("NF-CREATE step 3: the master should get the noqueue qdisc once up (IFF_NO_QUEUE)", () => {
    const { d } = vm(E1, FAILOVER_VM, { up: true });
    expect(d("eth0").qdisc).toBe("noqueue");
  });

  it("NF-CREATE step 6: the master's carrier should be off after creation, with no slave open", () => {
    const { d } = vm(E1);
    expect(d("eth0").carrier).toBe(false);
    expect(d("eth0").flags & IFF.UP).toBe(0);
    expect(d("eth1").flags & IFF.UP).toBe(0);
    expect(d("eth3").flags & IFF.UP).toBe(0);
  });

  it("NF-CREATE step 5: a register_netdev failure should log 'Unable to register failover_dev!' and fail the virtio probe", () => {
    const b = bootMachine(E1, FAILOVER_VM, { noBoot: true });
    const rec = addRecorder(b.k);
    rec.veto = (event, dv) =>
      event === "NETDEV_REGISTER" && dv.driver === NET_FAILOVER
        ? notifierFromErrno(err("EIO"))
        : undefined;
    b.m.boot();
    const logs = b.k.trace
      .since(0)
      .filter((e) => e.type === "kernel.log")
      .map((e) => (e as { text: string }).text);
    expect(logs).toContain("virtio_net virtio0: Unable to register failover_dev!");
    expect(logs.filter((t) => t.includes("failover master"))).toEqual([]);
    const names = [...b.k.state.devices.values()].map((x) => `${x.name}:${x.driver}`);
    // Only lo and the plain virtio-net: no master, no standby netdev, and QEMU keeps the
    // primary hidden because STANDBY was never negotiated.
    expect(names).toEqual(["lo:loopback", "eth0:virtio_net"]);
    expect(b.m.isPresent("primary0")).toBe(false);
    expect(failoverInstances(b.k)).toEqual([]);
  });

  it("NF-CREATE step 7: a failing failover_register should unregister the master and return its error", () => {
    const k = boot(E1);
    const rec = addRecorder(k);
    // Make the master non-Ethernet while it registers, so that FO-R step 1 refuses it.
    rec.veto = (event, dv) => {
      if (event === "NETDEV_REGISTER" && dv.driver === NET_FAILOVER) dv.type = 0xfffe;
      return undefined;
    };
    const standby = allocNetdev(k, {
      name: "eth%d",
      nameAssignType: NET_NAME.ENUM,
      driver: GENERIC_ETH,
      parent: { id: "virtio7", bus: "virtio", driver: "virtio_net", devpath: "/devices/v7" },
    });
    standby.devAddr = FAILOVER_MAC;
    let ret: unknown;
    const out = ev(k, () => {
      ret = netFailoverCreate(k, standby);
    });
    expect(ret).toBe(err("EINVAL"));
    expect(out).toEqual([
      "notify NETDEV_POST_INIT eth0",
      "uevent add eth0",
      "notify NETDEV_REGISTER eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_UNREGISTER eth0",
      "rtnl RTM_DELLINK eth0",
      "uevent remove eth0",
    ]);
    expect([...k.state.devices.values()].map((x) => x.name)).toEqual(["lo"]);
    expect(failoverInstances(k)).toEqual([]);
  });
});

// ─── NF-PRE ────────────────────────────────────────────────────────────────────────────────

describe("net_failover slave_pre_register", () => {
  it("NF-PRE step 1: a second primary should get -EINVAL and the log '<slave> attempting to register as slave dev when primary already present'", () => {
    const spec = FAILOVER_VM.devices.concat([
      { addr: "0000:01:00.0", model: "e1000e", id: "vf2", mac: FAILOVER_MAC, atBoot: false },
    ]);
    const { k, m, d } = vm(E1, { ...FAILOVER_VM, name: "fo+vf2", devices: spec });
    const out = ev(k, () => m.plug("vf2"));
    expect(out).toEqual([
      "notify NETDEV_POST_INIT eth4",
      "uevent add eth4",
      "notify NETDEV_REGISTER eth4",
      "log virtio_net virtio0 eth0: eth4 attempting to register as slave dev when primary already present",
      "rtnl RTM_NEWLINK eth4",
    ]);
    const log = k.trace
      .since(0)
      .find((e) => e.type === "kernel.log" && e.text.includes("eth4 attempting"));
    expect(log).toMatchObject({ level: "err" });
    const v = d("eth4");
    expect(v.regState).toBe("REGISTERED");
    expect(v.uppers).toEqual([]);
    expect(v.rxHandler).toBeNull();
    expect(v.privFlags & SLAVE_FLAGS).toBe(0);
    expect(nfoInfo(d("eth0")).primary).toBe(d("eth3").ifindex);
    // FO-SR answers NOTIFY_DONE; a second attempt is refused the same way.
    expect(failoverSlaveRegister(k, v)).toBe(NOTIFY_DONE);
    expect(NET_FAILOVER_OPS.slavePreRegister?.(k, v, d("eth0"))).toBe(err("EINVAL"));
  });

  it("NF-PRE step 1: a second standby (the master's parent) should be refused with 'standby already present'", () => {
    const { k, d } = vm(E1);
    const parent = d("eth0").parent;
    const out = ev(k, () => vf(k, { parent }));
    expect(out).toEqual([
      "notify NETDEV_POST_INIT eth4",
      "uevent add eth4",
      "notify NETDEV_REGISTER eth4",
      "log virtio_net virtio0 eth0: eth4 attempting to register as slave dev when standby already present",
      "rtnl RTM_NEWLINK eth4",
    ]);
    expect(nfoInfo(d("eth0")).standby).toBe(d("eth1").ifindex);
    expect(d("eth4").uppers).toEqual([]);
  });

  it("NF-PRE step 1: the same VF plugged again after an unplug should be accepted (its slot was cleared)", () => {
    const { k, m, d } = vm(E1);
    m.unplug("primary0");
    expect(nfoInfo(d("eth0")).primary).toBeNull();
    const out = ev(k, () => m.plug("primary0"));
    expect(out).toContain("log virtio_net virtio0 eth0: failover primary slave:eth3 registered");
    expect(nfoInfo(d("eth0")).primary).toBe(d("eth3").ifindex);
  });

  it("NF-PRE step 2: a primary-role device without a parent should be refused, with no log", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const out = ev(k, () => vf(k, { parent: null }));
    expect(out).toEqual([...REGISTER_VF3, "rtnl RTM_NEWLINK eth3"]);
    expect(k.trace.since(0).some((e) => e.type === "kernel.log" && e.text.includes("eth3"))).toBe(
      false,
    );
    expect(d("eth3").uppers).toEqual([]);
    expect(nfoInfo(d("eth0")).primary).toBeNull();
    expect(NET_FAILOVER_OPS.slavePreRegister?.(k, d("eth3"), d("eth0"))).toBe(err("EINVAL"));
  });

  it("NF-PRE step 2: a primary-role device on a non-PCI parent should be refused, with no log", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const usb: ParentDevice = {
      id: "1-1:1.0",
      bus: "usb",
      driver: "cdc_ether",
      devpath: "/devices/pci0000:00/0000:00:1d.0/usb1/1-1/1-1:1.0",
    };
    const out = ev(k, () => vf(k, { parent: usb }));
    expect(out).toEqual([...REGISTER_VF3, "rtnl RTM_NEWLINK eth3"]);
    expect(d("eth3").uppers).toEqual([]);
    expect(d("eth3").rxHandler).toBeNull();
    expect(nfoInfo(d("eth0")).primary).toBeNull();
  });

  it("NF-PRE step 4: a PCI device with the MAC should become the primary", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const v = vf(k);
    expect(nfoInfo(d("eth0")).primary).toBe(v.ifindex);
    expect(NET_FAILOVER_OPS.slavePreRegister?.(k, v, d("eth0"))).toBe(err("EINVAL")); // now taken
  });

  it("NF-PRE STANDBY-TEST: a slave and a master that both have no parent share it (NULL == NULL): standby", () => {
    const k = boot(E1);
    const standby = allocNetdev(k, {
      name: "eth%d",
      nameAssignType: NET_NAME.ENUM,
      driver: GENERIC_ETH,
      parent: null,
    });
    standby.devAddr = FAILOVER_MAC;
    const inst = netFailoverCreate(k, standby);
    expect(typeof inst).toBe("object");
    const out = ev(k, () => expect(registerNetdev(k, standby)).toBe(0));
    expect(out).toContain("log eth0: failover standby slave:eth1 registered");
    const m = k.state.devices.get(2) as NetDevice;
    expect(nfoInfo(m).standby).toBe(standby.ifindex);
  });
});

// ─── NF-REG ────────────────────────────────────────────────────────────────────────────────

describe("net_failover slave_register", () => {
  it("NF-REG (K5–K8): a VF hot-plugged while the master runs is linked, MTU-aligned, opened, recorded, announced and logged, in this order", () => {
    const { k, m } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("primary0");
    const raw = rawEvents(k, () => m.plug("primary0"));
    expect(lines(raw)).toEqual([
      ...REGISTER_VF3,
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRE_UP eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_UP eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_JOIN eth3",
      "log virtio_net virtio0 eth0: failover primary slave:eth3 registered",
      "rtnl RTM_NEWLINK eth3",
    ]);
    const r = rtms(raw);
    const m0 = 2; // eth0's ifindex
    // CHANGEUPPER: under the master, still down; open: UP; registration: change ~0.
    expect(r[0]?.link).toMatchObject({ ifname: "eth3", master: m0 });
    expect((r[0]?.link.flags ?? 0) & IFF.UP).toBe(0);
    expect((r[1]?.link.flags ?? 0) & IFF.UP).toBe(IFF.UP);
    expect(r[1]?.change).toBe(IFF.UP | IFF.RUNNING);
    expect(r[4]?.change).toBe(~0 >>> 0);
  });

  it("NF-REG step 1: a slave whose MTU differs should be aligned (PRECHANGEMTU, CHANGEMTU, RTM_NEWLINK) before it is opened", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("primary0");
    expect(devSetMtu(k, d("eth0"), 1400)).toBe(0);
    const out = ev(k, () => m.plug("primary0"));
    expect(out.slice(3, 12)).toEqual([
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRECHANGEMTU eth3",
      "notify NETDEV_CHANGEMTU eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRE_UP eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_UP eth3",
    ]);
    expect(d("eth3").mtu).toBe(1400);
  });

  it.each([E0, E1, E2])(
    "NF-REG step 1 (%s): an MTU the slave cannot take should log 'unable to change mtu of <slave> to <mtu> register failed' and FO-SR should undo",
    (version) => {
      const { k, d } = vm(version, NO_PRIMARY_VM);
      expect(devSetMtu(k, d("eth0"), 9000)).toBe(0);
      const raw = rawEvents(k, () => vf(k)); // generic NIC: max_mtu 1500
      expect(lines(raw)).toEqual([
        ...REGISTER_VF3,
        "notify NETDEV_PRECHANGEUPPER eth3",
        "notify NETDEV_CHANGEUPPER eth3",
        "rtnl RTM_NEWLINK eth3",
        "log virtio_net virtio0 eth0: unable to change mtu of eth3 to 9000 register failed",
        "notify NETDEV_PRECHANGEUPPER eth3",
        "notify NETDEV_CHANGEUPPER eth3",
        "rtnl RTM_NEWLINK eth3",
        "rtnl RTM_NEWLINK eth3",
      ]);
      expect(rtms(raw).map((e) => e.link.master)).toEqual([2, null, null]);
      const v = d("eth3");
      expect(v.mtu).toBe(1500);
      expect(v.uppers).toEqual([]);
      expect(v.rxHandler).toBeNull();
      expect(v.privFlags & SLAVE_FLAGS).toBe(0);
      expect(nfoInfo(d("eth0")).primary).toBeNull();
      expect(d("eth0").maxMtu).toBe(65535);
    },
  );

  it("NF-REG step 3: an open error other than -EBUSY should log 'Opening slave <slave> failed err:<n>', restore the MTU and leave the slave out", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM, { up: true });
    expect(devSetMtu(k, d("eth0"), 1400)).toBe(0);
    const out = ev(k, () => vf(k, { openError: err("EIO") }));
    expect(out).toEqual([
      ...REGISTER_VF3,
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRECHANGEMTU eth3",
      "notify NETDEV_CHANGEMTU eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRE_UP eth3",
      "log virtio_net virtio0 eth0: Opening slave eth3 failed err:-5",
      "notify NETDEV_PRECHANGEMTU eth3",
      "notify NETDEV_CHANGEMTU eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "rtnl RTM_NEWLINK eth3",
    ]);
    const v = d("eth3");
    expect(v.mtu).toBe(1500);
    expect(v.flags & IFF.UP).toBe(0);
    expect(v.running).toBe(false);
    expect(v.uppers).toEqual([]);
    expect(v.privFlags & SLAVE_FLAGS).toBe(0);
    expect(nfoInfo(d("eth0")).primary).toBeNull();
    expect(d("eth0").maxMtu).toBe(65535);
  });

  it("NF-REG step 3: -EBUSY from the slave's open should be tolerated: enslaved as primary but down, no error log", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM, { up: true });
    const out = ev(k, () => vf(k, { openError: err("EBUSY") }));
    expect(out).toEqual([
      ...REGISTER_VF3,
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRE_UP eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_JOIN eth3",
      "log virtio_net virtio0 eth0: failover primary slave:eth3 registered",
      "rtnl RTM_NEWLINK eth3",
    ]);
    const v = d("eth3");
    expect(v.flags & IFF.UP).toBe(0);
    expect(nfoInfo(d("eth0")).primary).toBe(v.ifindex);
    expect(v.privFlags & IFF_PRIV.IFF_FAILOVER_SLAVE).toBe(IFF_PRIV.IFF_FAILOVER_SLAVE);
  });

  it.each([E0, E1, E2])(
    "NF-REG step 3 + NF-NC (%s): the slave left down by -EBUSY should be opened by its next rename",
    (version) => {
      const { k, d } = vm(version, NO_PRIMARY_VM, { up: true });
      const v = vf(k, { openError: err("EBUSY") });
      genericEthSetOpenError(v, 0);
      let ret = -1;
      const out = ev(k, () => {
        ret = devChangeName(k, v, "ens4");
      });
      expect(ret).toBe(0);
      expect(out).toEqual([
        "log generic-eth 0000:01:00.0 ens4: renamed from eth3",
        "uevent move ens4",
        "notify NETDEV_CHANGENAME ens4",
        "rtnl RTM_NEWLINK ens4",
        "notify NETDEV_PRE_UP ens4",
        "rtnl RTM_NEWLINK ens4",
        "notify NETDEV_UP ens4",
        "notify NETDEV_CHANGELOWERSTATE ens4",
        "rtnl RTM_NEWLINK ens4",
      ]);
      expect(v.flags & IFF.UP).toBe(IFF.UP);
      expect(d("eth0").carrier).toBe(true);
    },
  );

  it("NF-REG step 3: with the master down the new slave should not be opened", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const out = ev(k, () => vf(k));
    expect(out.some((l) => l.startsWith("notify NETDEV_PRE_UP"))).toBe(false);
    expect(d("eth3").flags & IFF.UP).toBe(0);
    expect(nfoInfo(d("eth0")).primary).toBe(d("eth3").ifindex);
  });

  it("NF-REG step 6: a primary should copy its min/max MTU onto the master; a standby should not", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    expect([d("eth0").minMtu, d("eth0").maxMtu]).toEqual([68, 65535]);
    vf(k, { minMtu: 576, maxMtu: 9000 });
    expect([d("eth0").minMtu, d("eth0").maxMtu]).toEqual([576, 9000]);
    const full = vm(E1);
    expect([full.d("eth0").minMtu, full.d("eth0").maxMtu]).toEqual([68, 9212]);
  });

  it("NF-REG step 6: the slave's counters at enslavement should be the baseline of the master's statistics", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const v = vf(k, { stats: { txPackets: 500, txBytes: 50_000, rxPackets: 7 } });
    const s = devGetStats(k, d("eth0"));
    expect([s.txPackets, s.txBytes, s.rxPackets]).toEqual([0, 0, 0]);
    statsOf(v).txPackets += 3;
    statsOf(v).txBytes += 300;
    const s2 = devGetStats(k, d("eth0"));
    expect([s2.txPackets, s2.txBytes, s2.rxPackets]).toEqual([3, 300, 0]);
  });

  it("NF-REG step 7 (NF-LS): the new slave's lower state should be announced: hot-plugged primary {link_up: no carrier yet, tx_enabled: running}", () => {
    const { k, m } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("primary0");
    const rec = addRecorder(k);
    const raw = rawEvents(k, () => m.plug("primary0"));
    expect(lowerStates(rec)).toEqual([["eth3", { linkUp: false, txEnabled: true }]]);
    const i = raw.findIndex(
      (e) => e.type === "kernel.notify" && e.event === "NETDEV_CHANGELOWERSTATE",
    );
    expect(raw[i + 1]).toMatchObject({
      type: "kernel.rtnl",
      msg: "RTM_NEWLINK",
      change: 0,
      event: null,
    });
  });

  it("NF-REG step 7 (NF-LS): the standby registered at boot (master down) should be announced with tx_enabled false", () => {
    const b = bootMachine(E1, NO_PRIMARY_VM, { noBoot: true });
    const rec = addRecorder(b.k);
    b.m.boot();
    const ls = lowerStates(rec);
    expect(ls.map(([n, s]) => [n, s?.txEnabled])).toEqual([["eth1", false]]);
  });

  it("NF-REG step 8: the master's features should be announced as RTM_NEWLINK(master) with IFLA_EVENT FEATURES", () => {
    const { k, m } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("primary0");
    const raw = rawEvents(k, () => m.plug("primary0"));
    const i = raw.findIndex((e) => e.type === "kernel.notify" && e.event === "NETDEV_FEAT_CHANGE");
    expect(raw[i]).toMatchObject({ dev: "eth0" });
    expect(raw[i + 1]).toMatchObject({
      type: "kernel.rtnl",
      msg: "RTM_NEWLINK",
      event: "FEATURES",
      change: 0,
      link: { ifname: "eth0" },
    });
  });

  it("NF-REG step 9: NETDEV_JOIN(slave) should produce no netlink message", () => {
    const { k, m } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("primary0");
    const out = ev(k, () => m.plug("primary0"));
    const i = out.indexOf("notify NETDEV_JOIN eth3");
    expect(i).toBeGreaterThan(0);
    expect(out[i + 1]).toBe("log virtio_net virtio0 eth0: failover primary slave:eth3 registered");
  });

  it("NF-REG step 10: should log 'failover <standby|primary> slave:<name> registered' at info level", () => {
    const { k } = vm(E1);
    const logs = k.trace
      .since(0)
      .filter((e) => e.type === "kernel.log" && e.text.includes("slave:"));
    expect(logs).toEqual([
      expect.objectContaining({
        level: "info",
        text: "virtio_net virtio0 eth0: failover standby slave:eth1 registered",
      }),
      expect.objectContaining({
        level: "info",
        text: "virtio_net virtio0 eth0: failover primary slave:eth3 registered",
      }),
    ]);
  });
});

// ─── NF-PREU, NF-UNREG ─────────────────────────────────────────────────────────────────────

describe("net_failover slave_pre_unregister / slave_unregister", () => {
  it("NF-PREU: -ENODEV for a device that is neither primary nor standby, so FO-SU does nothing", () => {
    const { k, d } = vm(E1);
    const m = d("eth0");
    expect(NET_FAILOVER_OPS.slavePreUnregister?.(k, d("eth2"), m)).toBe(err("ENODEV"));
    expect(NET_FAILOVER_OPS.slavePreUnregister?.(k, d("eth3"), m)).toBe(0);
    expect(NET_FAILOVER_OPS.slavePreUnregister?.(k, d("eth1"), m)).toBe(0);
    // A refused second VF carrying IFF_FAILOVER_SLAVE (as if it had been enslaved elsewhere).
    const v = vf(k);
    expect(v.uppers).toEqual([]);
    v.privFlags |= IFF_PRIV.IFF_FAILOVER_SLAVE;
    const out = events(k, () => expect(failoverSlaveUnregister(k, v)).toBe(NOTIFY_DONE));
    expect(out).toEqual([]);
    expect(nfoInfo(m).primary).toBe(d("eth3").ifindex);
  });

  it("NF-UNREG step 1: neither primary nor standby should give -ENODEV with a one-time WARN", () => {
    const { k, d } = vm(E1);
    const m = d("eth0");
    const first = events(k, () =>
      expect(NET_FAILOVER_OPS.slaveUnregister?.(k, d("eth2"), m)).toBe(err("ENODEV")),
    );
    expect(first).toEqual([
      "warn net_failover_slave_unregister: eth2 is neither primary nor standby",
    ]);
    // WARN_ON_ONCE: the second hit is silent.
    const second = events(k, () =>
      expect(NET_FAILOVER_OPS.slaveUnregister?.(k, d("eth2"), m)).toBe(err("ENODEV")),
    );
    expect(second).toEqual([]);
  });

  it("NF-UNREG (T9): unplugging the primary while the master runs: close, NF-LC, unlink, features, log, DELLINK", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    const raw = rawEvents(k, () => m.unplug("primary0"));
    expect(lines(raw)).toEqual([
      "notify NETDEV_GOING_DOWN eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_DOWN eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_UNREGISTER eth3",
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "log virtio_net virtio0 eth0: failover primary slave:eth3 unregistered",
      "rtnl RTM_DELLINK eth3",
      "uevent remove eth3",
    ]);
    const r = rtms(raw);
    expect(r[0]?.link).toMatchObject({ ifname: "eth3", master: 2 }); // down, still under eth0
    expect((r[0]?.link.flags ?? 0) & IFF.UP).toBe(0);
    expect(r.at(-1)).toMatchObject({ msg: "RTM_DELLINK", link: { master: null } });
    expect(d("eth0").carrier).toBe(true); // the standby is still xmit-ready
    expect(nfoInfo(d("eth0")).primary).toBeNull();
  });

  it("NF-UNREG step 2: a slave detached while UP should be closed after the unlink (GOING_DOWN, RTM_NEWLINK, DOWN), and FO-LC ignores that DOWN", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = ev(k, () => expect(failoverSlaveUnregister(k, d("eth3"))).toBe(1));
    expect(out).toEqual([
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_GOING_DOWN eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_DOWN eth3",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "log virtio_net virtio0 eth0: failover primary slave:eth3 unregistered",
    ]);
  });

  it("NF-UNREG step 4: losing the primary should copy the standby's min/max MTU back onto the master", () => {
    const { m, d } = vm(E1);
    expect(d("eth0").maxMtu).toBe(9212);
    m.unplug("primary0");
    expect([d("eth0").minMtu, d("eth0").maxMtu]).toEqual([68, 65535]);
  });

  it("NF-UNREG steps 4–6: detaching the standby should clear its slot only, keep the master's MTU range and log", () => {
    const { k, d } = vm(E1);
    const out = ev(k, () => failoverSlaveUnregister(k, d("eth1")));
    expect(out).toEqual([
      "notify NETDEV_PRECHANGEUPPER eth1",
      "notify NETDEV_CHANGEUPPER eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "log virtio_net virtio0 eth0: failover standby slave:eth1 unregistered",
    ]);
    const info = nfoInfo(d("eth0"));
    expect([info.primary, info.standby]).toEqual([d("eth3").ifindex, null]);
    expect(d("eth0").maxMtu).toBe(9212);
  });

  it("NF-UNREG: the slave's MTU should not be restored", () => {
    const { k, m, d } = vm(E1);
    expect(devSetMtu(k, d("eth0"), 1400)).toBe(0);
    expect(d("eth3").mtu).toBe(1400);
    m.unplug("standby0");
    expect(d("eth3").mtu).toBe(1400);
  });
});

// ─── NF-LC, NF-LS ──────────────────────────────────────────────────────────────────────────

describe("net_failover slave_link_change and lower state", () => {
  it("NF-LC step 1: -ENODEV for a device that is neither primary nor standby", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = events(k, () =>
      expect(NET_FAILOVER_OPS.slaveLinkChange?.(k, d("eth2"), d("eth0"))).toBe(err("ENODEV")),
    );
    expect(out).toEqual([]);
  });

  it("NF-LC step 2: with the standby still xmit-ready the master's carrier should stay on when the primary goes down", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = ev(k, () => setUp(k, d("eth3"), false));
    expect(out).toEqual([
      "notify NETDEV_GOING_DOWN eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_DOWN eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
    ]);
    expect(d("eth0").carrier).toBe(true);
  });

  it("NF-LC step 2: with no slave xmit-ready the master's carrier should go off, and on again when one is", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    setUp(k, d("eth3"), false);
    m.setLink("standby0", false);
    m.settle();
    expect(d("eth1").carrier).toBe(false);
    expect(d("eth0").carrier).toBe(false);
    m.setLink("standby0", true);
    m.settle();
    expect(d("eth0").carrier).toBe(true);
  });

  it("NF-LC: only reached while the master runs (slave events with the master down change nothing)", () => {
    const { k, d } = vm(E1);
    const out = ev(k, () => expect(devOpen(k, d("eth1"))).toBe(0));
    expect(out).toEqual([
      "notify NETDEV_PRE_UP eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_UP eth1",
    ]);
    expect(d("eth0").carrier).toBe(false);
  });

  it("NF-LS: the primary's tx_enabled should be its running state and link_up its carrier", () => {
    const { k, d, m } = vm(E1, FAILOVER_VM, { up: true });
    const rec = addRecorder(k);
    setUp(k, d("eth3"), false);
    setUp(k, d("eth3"), true);
    expect(lowerStates(rec)).toEqual([
      ["eth3", { linkUp: false, txEnabled: false }], // DOWN
      ["eth3", { linkUp: false, txEnabled: true }], // UP, e1000e link not up yet
    ]);
    m.settle(); // linkwatch (the carrier loss at close), then the e1000e link comes up
    const later = lowerStates(rec).slice(2);
    expect(later.at(-1)).toEqual(["eth3", { linkUp: true, txEnabled: true }]);
    for (const x of later.slice(0, -1))
      expect(x).toEqual(["eth3", { linkUp: false, txEnabled: true }]);
  });

  it("NF-LS: the standby's tx_enabled should be true only while no primary is running", () => {
    const { k, d, m } = vm(E1, FAILOVER_VM, { up: true });
    const rec = addRecorder(k);
    m.setLink("standby0", false);
    m.settle();
    setUp(k, d("eth3"), false);
    m.setLink("standby0", true);
    m.settle();
    setUp(k, d("eth1"), false);
    expect(lowerStates(rec)).toEqual([
      ["eth1", { linkUp: false, txEnabled: false }], // primary running
      ["eth3", { linkUp: false, txEnabled: false }],
      ["eth1", { linkUp: true, txEnabled: true }], // primary down
      ["eth1", { linkUp: true, txEnabled: false }], // standby itself down
    ]);
  });
});

// ─── NF-NC ─────────────────────────────────────────────────────────────────────────────────

describe("net_failover slave_name_change", () => {
  it("NF-NC step 1: -ENODEV for a device that is neither primary nor standby", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = events(k, () =>
      expect(NET_FAILOVER_OPS.slaveNameChange?.(k, d("eth2"), d("eth0"))).toBe(err("ENODEV")),
    );
    expect(out).toEqual([]);
  });

  it("NF-NC step 2 (E1): renaming an UP slave should be a silent dev_open no-op", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = ev(k, () => expect(devChangeName(k, d("eth3"), "ens4")).toBe(0));
    expect(out).toEqual([
      "log e1000e 0000:02:00.0 ens4: renamed from eth3",
      "uevent move ens4",
      "notify NETDEV_CHANGENAME ens4",
      "rtnl RTM_NEWLINK ens4",
    ]);
  });

  it.each([
    [E0, "renamed from eth3"],
    [E1, "renamed from eth3"],
    [E2, "renamed from eth3"],
  ])(
    "NF-NC step 2 (%s): renaming a slave an admin set DOWN while the master runs should bring it back UP",
    (version, logText) => {
      const { k, d } = vm(version, FAILOVER_VM, { up: true });
      setUp(k, d("eth3"), false);
      const out = ev(k, () => expect(devChangeName(k, d("eth3"), "ens4")).toBe(0));
      expect(out).toEqual([
        `log e1000e 0000:02:00.0 ens4: ${logText}`,
        "uevent move ens4",
        "notify NETDEV_CHANGENAME ens4",
        "rtnl RTM_NEWLINK ens4",
        "notify NETDEV_PRE_UP ens4",
        "rtnl RTM_NEWLINK ens4",
        "notify NETDEV_UP ens4",
        "notify NETDEV_CHANGELOWERSTATE ens4",
        "rtnl RTM_NEWLINK ens4",
      ]);
      expect(d("ens4").flags & IFF.UP).toBe(IFF.UP);
    },
  );

  it("NF-NC: with the master down a rename should not open the slave", () => {
    const { k, d } = vm(E1);
    const out = ev(k, () => expect(devChangeName(k, d("eth3"), "ens4")).toBe(0));
    expect(out).toEqual([
      "log e1000e 0000:02:00.0 ens4: renamed from eth3",
      "uevent move ens4",
      "notify NETDEV_CHANGENAME ens4",
      "rtnl RTM_NEWLINK ens4",
    ]);
    expect(d("ens4").flags & IFF.UP).toBe(0);
  });
});

// ─── NF-OPEN, NF-STOP ──────────────────────────────────────────────────────────────────────

describe("net_failover open / stop", () => {
  it("NF-OPEN: opening the master should open the primary, then the standby (each UP reaching NF-LC), then announce the master", () => {
    const { k, d } = vm(E1);
    const out = ev(k, () => setUp(k, d("eth0"), true));
    expect(out).toEqual([
      "notify NETDEV_PRE_UP eth0",
      "notify NETDEV_PRE_UP eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_UP eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRE_UP eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_UP eth1",
      "notify NETDEV_CHANGELOWERSTATE eth1",
      "rtnl RTM_NEWLINK eth1",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_UP eth0",
    ]);
  });

  it("NF-OPEN step 3: the master's carrier should be on once a slave is xmit-ready", () => {
    const { k, d } = vm(E1);
    expect(d("eth0").carrier).toBe(false);
    setUp(k, d("eth0"), true);
    expect(d("eth0").carrier).toBe(true); // via the standby: the e1000e link is not up yet
    expect(d("eth3").carrier).toBe(false);
  });

  it("NF-OPEN step 1: a primary open failure should fail the master's open, leaving the standby closed", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    vf(k, { openError: err("EIO") }); // enslaved while the master is down
    let ret = 0;
    const out = ev(k, () => {
      ret = devChangeFlags(k, d("eth0"), d("eth0").flags | IFF.UP);
    });
    expect(ret).toBe(err("EIO"));
    expect(out).toEqual(["notify NETDEV_PRE_UP eth0", "notify NETDEV_PRE_UP eth3"]);
    expect(d("eth0").flags & IFF.UP).toBe(0);
    expect(d("eth0").running).toBe(false);
    expect(d("eth1").flags & IFF.UP).toBe(0);
  });

  it("NF-OPEN step 2: a standby open failure should close the primary again and fail the master's open", () => {
    const { k, d } = vm(E1);
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_PRE_UP", err("EPERM"), "eth1");
    let ret = 0;
    const out = ev(k, () => {
      ret = devChangeFlags(k, d("eth0"), d("eth0").flags | IFF.UP);
    });
    expect(ret).toBe(err("EPERM"));
    expect(out).toEqual([
      "notify NETDEV_PRE_UP eth0",
      "notify NETDEV_PRE_UP eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_UP eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRE_UP eth1",
      "notify NETDEV_GOING_DOWN eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_DOWN eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
    ]);
    expect(d("eth0").flags & IFF.UP).toBe(0);
    expect(d("eth3").flags & IFF.UP).toBe(0);
  });

  it("NF-OPEN step 2 (v5.8+): without a primary a standby open failure should just fail the open", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_PRE_UP", err("EPERM"), "eth1");
    let ret = 0;
    const out = ev(k, () => {
      ret = devChangeFlags(k, d("eth0"), d("eth0").flags | IFF.UP);
    });
    expect(ret).toBe(err("EPERM"));
    expect(out).toEqual(["notify NETDEV_PRE_UP eth0", "notify NETDEV_PRE_UP eth1"]);
  });

  it("NF-STOP (T12): closing the master should close the primary, then the standby, with no lower-state updates", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = ev(k, () => setUp(k, d("eth0"), false));
    expect(out).toEqual([
      "notify NETDEV_GOING_DOWN eth0",
      "notify NETDEV_GOING_DOWN eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_DOWN eth3",
      "notify NETDEV_GOING_DOWN eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_DOWN eth1",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_DOWN eth0",
    ]);
    for (const n of ["eth0", "eth1", "eth3"]) expect(d(n).flags & IFF.UP, n).toBe(0);
  });
});

// ─── NF-XMIT ───────────────────────────────────────────────────────────────────────────────

describe("net_failover start_xmit", () => {
  const BATCH = { frames: 10, size: 100 };

  it("NF-XMIT: frames should go out on the primary when it is xmit-ready", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const out = devQueueXmit(k, d("eth0"), BATCH);
    expect(out).toEqual({ sentOn: d("eth3").ifindex, dropped: 0, droppedBy: null });
    expect([d("eth3").stats.txPackets, d("eth3").stats.txBytes]).toEqual([10, 1000]);
    expect(d("eth1").stats.txPackets).toBe(0);
  });

  it("NF-XMIT: the standby should carry the frames while the primary has no carrier yet", () => {
    const { k, d } = vm(E1);
    setUp(k, d("eth0"), true); // e1000e link still negotiating
    expect(d("eth3").running && !d("eth3").carrier).toBe(true);
    expect(devQueueXmit(k, d("eth0"), BATCH)).toEqual({
      sentOn: d("eth1").ifindex,
      dropped: 0,
      droppedBy: null,
    });
    expect(d("eth1").stats.txPackets).toBe(10);
  });

  it("NF-XMIT: the standby should carry the frames when the primary is down", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    setUp(k, d("eth3"), false);
    expect(devQueueXmit(k, d("eth0"), BATCH).sentOn).toBe(d("eth1").ifindex);
  });

  it("NF-XMIT: with neither slave xmit-ready the driver should drop and count the frames in the master's tx_dropped", () => {
    const { k, d, m } = vm(E1, FAILOVER_VM, { up: true });
    setUp(k, d("eth3"), false);
    m.setLink("standby0", false);
    m.settle();
    const master = d("eth0");
    const xmit = NET_FAILOVER_DRIVER.ops.ndoStartXmit;
    expect(xmit).toBeDefined();
    const out = xmit?.(k, master, BATCH);
    expect(out).toEqual({ sentOn: null, dropped: 10, droppedBy: "eth0" });
    expect(master.coreStats.txDropped).toBe(10);
    expect(devGetStats(k, master).txDropped).toBe(10);
    expect(d("eth1").stats.txPackets + d("eth3").stats.txPackets).toBe(0);
  });

  it("NF-XMIT: with the master's carrier off (no slave ready) the qdisc drops before the driver", () => {
    const { k, d, m } = vm(E1, FAILOVER_VM, { up: true });
    setUp(k, d("eth3"), false);
    m.setLink("standby0", false);
    m.settle();
    const out = devQueueXmit(k, d("eth0"), BATCH);
    expect(out).toEqual({ sentOn: null, dropped: 10, droppedBy: "eth0 qdisc" });
    expect(d("eth0").coreStats.txDropped).toBe(0);
  });
});

// ─── NF-STATS ──────────────────────────────────────────────────────────────────────────────

describe("net_failover statistics", () => {
  function fold1(res: number, now: number, old: number): number {
    const r = { ...zeroStats(), rxBytes: res };
    foldStats(r, { ...zeroStats(), rxBytes: now }, { ...zeroStats(), rxBytes: old });
    return r.rxBytes;
  }

  it.each([
    ["a positive delta", 10, 8, 5, 13],
    ["no change", 10, 5, 5, 10],
    ["a negative delta (driver reset) is filtered", 10, 5, 8, 10],
    ["a 32-bit counter wrapping", 100, 0x10, 0xfffffff0, 132],
    ["a 32-bit delta of 2^31 (negative as s32) is filtered", 100, 0x80000000, 0, 100],
    ["a 32-bit delta of 2^31 − 1", 0, 0x7fffffff, 0, 0x7fffffff],
    ["64-bit values use the 64-bit delta", 1, 2 ** 32 + 20, 2 ** 32 + 5, 16],
    ["a new value past 2^32 uses the 64-bit delta", 0, 2 ** 32 + 0x10, 0xfffffff0, 0x20],
    ["a 64-bit decrease is filtered", 7, 5, 2 ** 33, 7],
  ])("NF-STATS fold: %s", (_what, res, now, old, expected) => {
    expect(fold1(res, now, old)).toBe(expected);
  });

  it("NF-STATS fold: every field should be folded independently", () => {
    const res = zeroStats();
    const now = zeroStats();
    const old = zeroStats();
    LINK_STATS_FIELDS.forEach((f, i) => {
      res[f] = 1000;
      now[f] = i % 2 === 0 ? 50 + i : 10;
      old[f] = 50;
    });
    foldStats(res, now, old);
    LINK_STATS_FIELDS.forEach((f, i) => {
      expect(res[f], f).toBe(i % 2 === 0 ? 1000 + i : 1000);
    });
  });

  it("NF-STATS fold: for 32-bit counters the sum should advance by the s32 delta when positive", () => {
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.nat(2 ** 32 - 1), fc.nat(2 ** 40), (nv, ov, base) => {
        const u = (nv - ov + 2 ** 32) % 2 ** 32;
        const s32 = u >= 2 ** 31 ? u - 2 ** 32 : u;
        expect(fold1(base, nv, ov)).toBe(s32 > 0 ? base + s32 : base);
      }),
    );
  });

  it("NF-STATS: the master's counters should add up the deltas of both slaves", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const m = d("eth0");
    devQueueXmit(k, m, { frames: 10, size: 100 }); // primary
    setUp(k, d("eth3"), false);
    devQueueXmit(k, m, { frames: 5, size: 60 }); // standby
    const s = devGetStats(k, m);
    expect([s.txPackets, s.txBytes]).toEqual([15, 1300]);
  });

  it("NF-STATS: a slave counter going backwards should not decrease the master's", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const m = d("eth0");
    devQueueXmit(k, m, { frames: 10, size: 100 });
    expect(devGetStats(k, m).txPackets).toBe(10);
    statsOf(d("eth3")).txPackets = 0; // a driver that resets its counters
    expect(devGetStats(k, m).txPackets).toBe(10);
    statsOf(d("eth3")).txPackets = 3;
    expect(devGetStats(k, m).txPackets).toBe(13);
  });

  it("NF-STATS quirk (NF-UNREG step 3): after a read, removing a slave restarts the aggregate (dev_get_stats zeroes it)", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    devQueueXmit(k, d("eth0"), { frames: 10, size: 100 });
    expect(devGetStats(k, d("eth0")).txPackets).toBe(10);
    m.unplug("primary0");
    expect(devGetStats(k, d("eth0")).txPackets).toBe(0);
  });

  it("NF-STATS quirk (NF-UNREG step 3): deltas not yet read are kept across the snapshot", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    devQueueXmit(k, d("eth0"), { frames: 10, size: 100 });
    m.unplug("primary0");
    expect(devGetStats(k, d("eth0")).txPackets).toBe(10);
  });

  it("NF-STATS quirk (NF-LC): losing every slave after a read also restarts the aggregate", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    devQueueXmit(k, d("eth0"), { frames: 10, size: 100 });
    expect(devGetStats(k, d("eth0")).txPackets).toBe(10);
    setUp(k, d("eth3"), false); // the standby is still ready: no snapshot
    expect(devGetStats(k, d("eth0")).txPackets).toBe(10);
    m.setLink("standby0", false);
    m.settle(); // NF-LC: nobody ready → snapshot
    expect(d("eth0").carrier).toBe(false);
    expect(devGetStats(k, d("eth0")).txPackets).toBe(0);
  });

  it("NF-STATS quirk: core drops folded into the aggregate at a snapshot are counted again by dev_get_stats", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    const master = d("eth0");
    coreStatsOf(master).txDropped = 3;
    expect(devGetStats(k, master).txDropped).toBe(3);
    m.unplug("primary0");
    expect(devGetStats(k, master).txDropped).toBe(6);
  });
});

// ─── NF-MTU ────────────────────────────────────────────────────────────────────────────────

describe("net_failover change_mtu", () => {
  it("NF-MTU: should set the primary, then the standby, then the master", () => {
    const { k, d } = vm(E1);
    const out = ev(k, () => expect(devSetMtu(k, d("eth0"), 1400)).toBe(0));
    expect(out).toEqual([
      "notify NETDEV_PRECHANGEMTU eth0",
      "notify NETDEV_PRECHANGEMTU eth3",
      "notify NETDEV_CHANGEMTU eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRECHANGEMTU eth1",
      "notify NETDEV_CHANGEMTU eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_CHANGEMTU eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
    expect([d("eth0").mtu, d("eth1").mtu, d("eth3").mtu, d("eth2").mtu]).toEqual([
      1400, 1400, 1400, 1500,
    ]);
  });

  it("NF-MTU: a primary failure should be returned with the standby and master untouched", () => {
    const { k, d } = vm(E1);
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_PRECHANGEMTU", err("EPERM"), "eth3");
    const out = ev(k, () => expect(devSetMtu(k, d("eth0"), 1400)).toBe(err("EPERM")));
    expect(out).toEqual(["notify NETDEV_PRECHANGEMTU eth0", "notify NETDEV_PRECHANGEMTU eth3"]);
    expect([d("eth0").mtu, d("eth1").mtu, d("eth3").mtu]).toEqual([1500, 1500, 1500]);
  });

  it("NF-MTU: a standby failure should put the primary back to the old MTU", () => {
    const { k, d } = vm(E1);
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_PRECHANGEMTU", err("EPERM"), "eth1");
    const out = ev(k, () => expect(devSetMtu(k, d("eth0"), 1400)).toBe(err("EPERM")));
    expect(out).toEqual([
      "notify NETDEV_PRECHANGEMTU eth0",
      "notify NETDEV_PRECHANGEMTU eth3",
      "notify NETDEV_CHANGEMTU eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_PRECHANGEMTU eth1",
      "notify NETDEV_PRECHANGEMTU eth3",
      "notify NETDEV_CHANGEMTU eth3",
      "rtnl RTM_NEWLINK eth3",
    ]);
    expect([d("eth0").mtu, d("eth1").mtu, d("eth3").mtu]).toEqual([1500, 1500, 1500]);
  });

  it("NF-MTU: without a primary only the standby and the master change", () => {
    const { k, d } = vm(E1, NO_PRIMARY_VM);
    const out = ev(k, () => expect(devSetMtu(k, d("eth0"), 9000)).toBe(0));
    expect(out).toEqual([
      "notify NETDEV_PRECHANGEMTU eth0",
      "notify NETDEV_PRECHANGEMTU eth1",
      "notify NETDEV_CHANGEMTU eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_CHANGEMTU eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
  });
});

// ─── NF-RX ─────────────────────────────────────────────────────────────────────────────────

describe("net_failover handle_frame", () => {
  const BATCH = { frames: 5, size: 200 };

  it("NF-RX: a frame on the standby while a primary exists should be EXACT (rx_nohandler on the standby)", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const s = d("eth1");
    expect(netFailoverHandleFrame(k, s, d("eth0").ifindex)).toEqual({ result: "EXACT" });
    expect(netifReceive(k, s, BATCH)).toEqual({
      deliveredTo: null,
      dropped: 5,
      droppedBy: "eth1 (exact only)",
    });
    expect(s.stats.rxPackets).toBe(5);
    expect(s.coreStats.rxNohandler).toBe(5);
    expect(devGetStats(k, s).rxNohandler).toBe(5);
  });

  it("NF-RX: the standby's frames stay EXACT while the primary exists but is down", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    setUp(k, d("eth3"), false);
    expect(netifReceive(k, d("eth1"), BATCH).deliveredTo).toBeNull();
  });

  it("NF-RX: a frame on the primary should be re-targeted to the master (ANOTHER)", () => {
    const { k, d } = vm(E1, FAILOVER_VM, { up: true });
    const m = d("eth0");
    expect(netFailoverHandleFrame(k, d("eth3"), m.ifindex)).toEqual({
      result: "ANOTHER",
      dev: m.ifindex,
    });
    expect(netifReceive(k, d("eth3"), BATCH)).toEqual({
      deliveredTo: m.ifindex,
      dropped: 0,
      droppedBy: null,
    });
  });

  it("NF-RX: without a primary a frame on the standby should be delivered to the master", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("primary0");
    expect(netifReceive(k, d("eth1"), BATCH).deliveredTo).toBe(d("eth0").ifindex);
    expect(d("eth1").coreStats.rxNohandler).toBe(0);
  });
});

// ─── NF-ETHTOOL ────────────────────────────────────────────────────────────────────────────

describe("net_failover ethtool", () => {
  it("NF-ETHTOOL: the master's driver should be 'net_failover', version '0.1'", () => {
    const { k, d } = vm(E1);
    expect(rtnlFillIfinfo(k, d("eth0")).driver).toBe("net_failover");
    expect(rtnlFillIfinfo(k, d("eth1")).driver).toBe("virtio_net");
    expect(rtnlFillIfinfo(k, d("eth3")).driver).toBe("e1000e");
    expect(NET_FAILOVER).toBe("net_failover");
    expect(NET_FAILOVER_VERSION).toBe("0.1");
  });

  it("NF-ETHTOOL: get_link should be the master's carrier", () => {
    const { k, d } = vm(E1);
    expect(rtnlFillIfinfo(k, d("eth0")).carrier).toBe(false);
    setUp(k, d("eth0"), true);
    expect(rtnlFillIfinfo(k, d("eth0")).carrier).toBe(true);
  });
});

// ─── NF-DESTROY ────────────────────────────────────────────────────────────────────────────

describe("netFailoverDestroy", () => {
  it("NF-DESTROY: a NULL instance should do nothing", () => {
    const { k } = vm(E1);
    expect(events(k, () => netFailoverDestroy(k, null))).toEqual([]);
  });

  it("NF-DESTROY (VN3): unplugging the standby with the master up detaches the standby, then the primary, drops the instance and unregisters the master", () => {
    const { k, m } = vm(E1, FAILOVER_VM, { up: true });
    const out = ev(k, () => m.unplug("standby0"));
    expect(out).toEqual([
      "notify NETDEV_GOING_DOWN eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_DOWN eth1",
      "notify NETDEV_CHANGELOWERSTATE eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_UNREGISTER eth1",
      "notify NETDEV_PRECHANGEUPPER eth1",
      "notify NETDEV_CHANGEUPPER eth1",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "log virtio_net virtio0 eth0: failover standby slave:eth1 unregistered",
      "rtnl RTM_DELLINK eth1",
      "uevent remove eth1",
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_GOING_DOWN eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_DOWN eth3",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "log virtio_net virtio0 eth0: failover primary slave:eth3 unregistered",
      "log virtio_net virtio0 eth0: failover master:eth0 unregistered",
      "notify NETDEV_GOING_DOWN eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_DOWN eth0",
      "notify NETDEV_UNREGISTER eth0",
      "rtnl RTM_DELLINK eth0",
      "uevent remove eth0",
    ]);
  });

  it("NF-DESTROY: the former primary should stay registered as an independent device", () => {
    const { k, m, d } = vm(E1, FAILOVER_VM, { up: true });
    m.unplug("standby0");
    expect([...k.state.devices.values()].map((x) => x.name)).toEqual(["lo", "eth2", "eth3"]);
    const p = d("eth3");
    expect(p.regState).toBe("REGISTERED");
    expect(p.uppers).toEqual([]);
    expect(p.rxHandler).toBeNull();
    expect(p.privFlags & SLAVE_FLAGS).toBe(0);
    expect(p.flags & IFF.UP).toBe(0);
    expect(failoverInstances(k)).toEqual([]);
    // It now receives for itself.
    expect(devOpen(k, p)).toBe(0);
    expect(netifReceive(k, p, { frames: 1, size: 64 }).deliveredTo).toBe(p.ifindex);
  });

  it("NF-DESTROY: the master should be detached (not present) before its slaves are unregistered", () => {
    const { k, m, d } = vm(E1);
    const master = d("eth0");
    const seen: boolean[] = [];
    const rec = addRecorder(k, {
      extra: (_kk, event, dv) => {
        if (event === "NETDEV_PRECHANGEUPPER" && dv.name === "eth3") seen.push(master.present);
        return 0;
      },
    });
    m.unplug("standby0");
    expect(rec.calls.length).toBeGreaterThan(0);
    expect(seen).toEqual([false]);
  });
});

// ─── UEK5 takeover_delay ───────────────────────────────────────────────────────────────────

describe("UEK takeover_delay", () => {
  function uek(version: string, delay: number) {
    const b = vm(version, FAILOVER_VM, { takeoverDelayMs: delay, up: true });
    b.m.unplug("primary0");
    return b;
  }

  function takeoverWork(k: Kernel) {
    return k.state.work.filter((w) => w.name === NET_FAILOVER_TAKEOVER_WORK);
  }

  function runUntil(b: Vm, t: number): string[] {
    return ev(b.k, () => {
      b.clock.advanceTo(t);
      while (runDueWork(b.k));
    });
  }

  it("UEK takeover_delay (E0): a primary hot-plugged while the master runs should be opened only 100 ms later", () => {
    const b = uek(E0, 100);
    const t0 = b.clock.now();
    const out = ev(b.k, () => b.m.plug("primary0"));
    expect(out).toEqual([
      ...REGISTER_VF3,
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_FEAT_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_JOIN eth3",
      "log virtio_net virtio0 eth0: failover primary slave:eth3 registered",
      "rtnl RTM_NEWLINK eth3",
    ]);
    expect(b.d("eth3").flags & IFF.UP).toBe(0);
    expect(takeoverWork(b.k)).toEqual([
      expect.objectContaining({ due: t0 + 100_000, arg: String(b.d("eth0").ifindex) }),
    ]);
    expect(runUntil(b, t0 + 99_999).filter((l) => l.includes("eth3"))).toEqual([]);
    expect(b.d("eth3").flags & IFF.UP).toBe(0);
    const at = runUntil(b, t0 + 100_000);
    expect(at.filter((l) => l.includes("eth3"))).toEqual([
      "notify NETDEV_PRE_UP eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_UP eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
      "notify NETDEV_CHANGELOWERSTATE eth3",
      "rtnl RTM_NEWLINK eth3",
    ]);
    expect(b.d("eth3").flags & IFF.UP).toBe(IFF.UP);
  });

  it("UEK takeover_delay (E0): a rename inside the window should succeed; UEK's NF-NC then opens the primary", () => {
    const b = uek(E0, 100);
    const t0 = b.clock.now();
    b.m.plug("primary0");
    const out = ev(b.k, () => expect(devChangeName(b.k, b.d("eth3"), "ens4")).toBe(0));
    expect(out).toEqual([
      "log e1000e 0000:02:00.0 ens4: renamed from eth3",
      "uevent move ens4",
      "notify NETDEV_CHANGENAME ens4",
      "rtnl RTM_NEWLINK ens4",
      "notify NETDEV_PRE_UP ens4",
      "rtnl RTM_NEWLINK ens4",
      "notify NETDEV_UP ens4",
      "notify NETDEV_CHANGELOWERSTATE ens4",
      "rtnl RTM_NEWLINK ens4",
      "notify NETDEV_CHANGELOWERSTATE ens4",
      "rtnl RTM_NEWLINK ens4",
    ]);
    // The delayed work finds it open: dev_open is a no-op, the lower state is announced again.
    const at = runUntil(b, t0 + 100_000);
    expect(at.filter((l) => l.includes("ens4"))).toEqual([
      "notify NETDEV_CHANGELOWERSTATE ens4",
      "rtnl RTM_NEWLINK ens4",
    ]);
  });

  it("UEK takeover_delay: mainline E0 (no delay) opens at once, so the same rename gets -EBUSY", () => {
    const b = vm(E0, FAILOVER_VM, { up: true });
    b.m.unplug("primary0");
    b.m.plug("primary0");
    expect(b.d("eth3").flags & IFF.UP).toBe(IFF.UP);
    expect(devChangeName(b.k, b.d("eth3"), "ens4")).toBe(err("EBUSY"));
    expect(takeoverWork(b.k)).toEqual([]);
  });

  it("UEK takeover_delay 0: the primary should be opened at once, as in mainline", () => {
    const b = uek(E0, 0);
    b.m.plug("primary0");
    expect(b.d("eth3").flags & IFF.UP).toBe(IFF.UP);
    expect(takeoverWork(b.k)).toEqual([]);
  });

  it("UEK takeover_delay: a standby is still opened at once", () => {
    const b = vm(E1, FAILOVER_VM, { takeoverDelayMs: 100, up: true });
    const s = b.d("eth1");
    expect(failoverSlaveUnregister(b.k, s)).toBe(1);
    expect(s.flags & IFF.UP).toBe(0);
    expect(failoverSlaveRegister(b.k, s)).toBe(1);
    expect(s.flags & IFF.UP).toBe(IFF.UP);
    expect(takeoverWork(b.k)).toEqual([]);
  });

  it("UEK takeover_delay: with the master down nothing is scheduled", () => {
    const b = vm(E0, FAILOVER_VM, { takeoverDelayMs: 100 });
    b.m.unplug("primary0");
    b.m.plug("primary0");
    expect(takeoverWork(b.k)).toEqual([]);
    expect(b.d("eth3").flags & IFF.UP).toBe(0);
  });

  it("UEK takeover_delay: NF-DESTROY should cancel a pending takeover", () => {
    const b = uek(E0, 100);
    const t0 = b.clock.now();
    b.m.plug("primary0");
    b.m.unplug("standby0");
    expect(takeoverWork(b.k)).toEqual([]);
    runUntil(b, t0 + 200_000);
    expect(b.d("eth3").flags & IFF.UP).toBe(0);
  });
});
