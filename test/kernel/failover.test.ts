// Rules FO-M, FO-R, FO-U, FO-EV, FO-SR, FO-SU, FO-LC and FO-NC of net/core/failover.c (spec
// §B8), per era. The generic layer is driven through a spy ops table (a test "driver" that
// records every callback and answers what the test says); realistic set-ups use the failover
// VM (eth0 = net_failover master, eth1 = virtio standby, eth2 = plain virtio, eth3 = e1000e
// primary).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocNetdev,
  devChangeFlags,
  devChangeName,
  devClose,
  devOpen,
  devSetMacAddress,
  err,
  type FailoverOps,
  failoverEvent,
  failoverGetByMac,
  failoverInit,
  failoverInstances,
  failoverRegister,
  failoverRegisterOps,
  failoverSlaveLinkChange,
  failoverSlaveNameChange,
  failoverSlaveRegister,
  failoverSlaveUnregister,
  failoverUnregister,
  GENERIC_ETH,
  genericEthSetLink,
  IFF,
  IFF_PRIV,
  type Kernel,
  type KRet,
  klog,
  NET_ADDR,
  NET_NAME,
  type NetDevice,
  type NetdevEvent,
  NOTIFY_DONE,
  NOTIFY_OK,
  netdevMasterUpperDevLink,
  netdevRxHandlerRegister,
  type RtnlEvent,
  registerNetdev,
  unregisterNetdevice,
} from "../../src/kernel/index.ts";
import {
  addRecorder,
  boot,
  dev,
  E0,
  E1,
  E2,
  events,
  nic,
  rawEvents,
  settle,
  vetoOn,
} from "../_helpers/kernel.ts";
import { bootMachine } from "../_helpers/machine.ts";

/** The MAC the spy masters carry as perm_addr. */
const MAC = "02:00:00:aa:bb:cc";
const OTHER_MAC = "02:00:00:aa:bb:dd";
const ALL_SLAVE_FLAGS =
  IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_LIVE_RENAME_OK | IFF_PRIV.IFF_NO_ADDRCONF;
/** ARPHRD_NONE: a non-Ethernet device type. */
const ARPHRD_NONE = 0xfffe;

type OpName = Exclude<keyof FailoverOps, "slaveHandleFrame">;

/** A failover ops table that records its calls (with the slave's state at call time). */
interface Spy {
  readonly name: string;
  /** "op slave master" per call, in order. */
  readonly calls: string[];
  /** What each op answers (default 0). */
  readonly ret: Partial<Record<OpName, KRet>>;
  /** The slave's state when each op was called, keyed by op. */
  readonly seen: Partial<
    Record<OpName, { privFlags: number; rxHandler: string | null; masters: number[] }>
  >;
  /** Also write each call to the kernel log (to see where it falls in the trace). */
  log: boolean;
}

const OPS: readonly OpName[] = [
  "slavePreRegister",
  "slaveRegister",
  "slavePreUnregister",
  "slaveUnregister",
  "slaveLinkChange",
  "slaveNameChange",
];

function spyOps(k: Kernel, name = "spy"): Spy {
  const spy: Spy = { name, calls: [], ret: {}, seen: {}, log: false };
  const table: Record<string, unknown> = { slaveHandleFrame: `${name}_handle_frame` };
  for (const op of OPS) {
    table[op] = (kk: Kernel, slave: NetDevice, master: NetDevice): KRet => {
      spy.calls.push(`${op} ${slave.name} ${master.name}`);
      spy.seen[op] = {
        privFlags: slave.privFlags,
        rxHandler: slave.rxHandler,
        masters: slave.uppers.filter((u) => u.master).map((u) => u.ifindex),
      };
      if (spy.log) klog(kk, "info", `spy ${op} ${slave.name}`);
      return spy.ret[op] ?? 0;
    };
  }
  failoverRegisterOps(k, name, table as unknown as FailoverOps);
  return spy;
}

/** A kernel with failover loaded, a generic master "eth0" (perm_addr MAC) registered with a spy. */
type BootedKernel = ReturnType<typeof boot>;

function spyKernel(version = E1): { k: BootedKernel; spy: Spy; master: NetDevice } {
  const k = boot(version);
  failoverInit(k);
  const spy = spyOps(k);
  const master = nic(k, { mac: MAC });
  const inst = failoverRegister(k, master, spy.name);
  expect(typeof inst).toBe("object");
  return { k, spy, master };
}

/** As spyKernel, plus an enslaved slave "eth1" (and the master running when asked). */
function spyPair(
  version = E1,
  o: { masterUp?: boolean } = {},
): { k: BootedKernel; spy: Spy; master: NetDevice; slave: NetDevice } {
  const { k, spy, master } = spyKernel(version);
  if (o.masterUp) expect(devOpen(k, master)).toBe(0);
  const slave = nic(k, { mac: MAC });
  expect(slave.uppers).toEqual([{ ifindex: master.ifindex, master: true }]);
  spy.calls.length = 0;
  return { k, spy, master, slave };
}

/**
 * Two failover masters eth0 ("a") and eth1 ("b") with the same perm_addr MAC; eth1 is kept from
 * becoming eth0's slave by a's slave_pre_register while it registers.
 */
function twoMasters(k: Kernel, a: Spy): { ma: NetDevice; mb: NetDevice } {
  const ma = nic(k, { mac: MAC });
  failoverRegister(k, ma, "a");
  a.ret.slavePreRegister = err("EINVAL");
  const mb = nic(k, { mac: MAC });
  a.ret.slavePreRegister = 0;
  failoverRegister(k, mb, "b");
  return { ma, mb };
}

/** Allocates (not registers) a generic Ethernet device with MAC as its address. */
function rawNic(k: Kernel, mac = MAC): NetDevice {
  const d = allocNetdev(k, { name: "eth%d", nameAssignType: NET_NAME.ENUM, driver: GENERIC_ETH });
  d.devAddr = mac;
  d.carrier = false;
  return d;
}

function masterIfindexOf(e: RtnlEvent): number | null {
  return e.link.master;
}

// ─── FO-M ──────────────────────────────────────────────────────────────────────────────────

describe("failoverGetByMac", () => {
  it("FO-M: should return the master whose perm_addr equals the MAC, else null", () => {
    const { k, master } = spyKernel();
    expect(failoverGetByMac(k, MAC)?.master).toBe(master);
    expect(failoverGetByMac(k, MAC)?.inst).toEqual({ master: master.ifindex, ops: "spy" });
    expect(failoverGetByMac(k, OTHER_MAC)).toBeNull();
    expect(failoverGetByMac(k, null)).toBeNull();
  });

  it("FO-M: with two masters sharing a perm_addr the first registered should win", () => {
    const k = boot(E1);
    failoverInit(k);
    const a = spyOps(k, "a");
    const b = spyOps(k, "b");
    const { ma, mb } = twoMasters(k, a);
    expect(failoverInstances(k)).toEqual([
      { master: ma.ifindex, ops: "a" },
      { master: mb.ifindex, ops: "b" },
    ]);
    expect(failoverGetByMac(k, MAC)?.master).toBe(ma);
    a.calls.length = 0;
    const slave = nic(k, { mac: MAC });
    expect(a.calls).toEqual(["slavePreRegister eth2 eth0", "slaveRegister eth2 eth0"]);
    expect(b.calls).toEqual([]);
    expect(slave.uppers).toEqual([{ ifindex: ma.ifindex, master: true }]);
  });

  it("FO-M: the master is found by its perm_addr, not by its current dev_addr", () => {
    const { k, master, spy } = spyKernel();
    expect(devSetMacAddress(k, master, OTHER_MAC)).toBe(0);
    expect(master.devAddr).toBe(OTHER_MAC);
    expect(failoverGetByMac(k, OTHER_MAC)).toBeNull();
    expect(failoverGetByMac(k, MAC)?.master).toBe(master);
    const slave = nic(k, { mac: MAC });
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0", "slaveRegister eth1 eth0"]);
    expect(slave.uppers).toEqual([{ ifindex: master.ifindex, master: true }]);
  });

  it("FO-M: a device whose dev_addr but not perm_addr equals the master's is never considered", () => {
    const { k, spy } = spyKernel();
    const d = rawNic(k);
    d.addrAssignType = NET_ADDR.SET; // perm_addr is not copied at registration
    const ev = events(k, () => expect(registerNetdev(k, d)).toBe(0));
    expect(d.permAddr).toBeNull();
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT eth1",
      "uevent add eth1",
      "notify NETDEV_REGISTER eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(spy.calls).toEqual([]);
    expect(d.uppers).toEqual([]);
    expect(d.rxHandler).toBeNull();
  });

  it("FO-M: taking the master's MAC later as dev_addr does not make a device a slave", () => {
    const { k, spy } = spyKernel();
    const d = nic(k, { mac: OTHER_MAC });
    const ev = events(k, () => expect(devSetMacAddress(k, d, MAC)).toBe(0));
    expect(ev).toEqual([
      "notify NETDEV_PRE_CHANGEADDR eth1",
      "notify NETDEV_CHANGEADDR eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(d.permAddr).toBe(OTHER_MAC);
    expect(spy.calls).toEqual([]);
    expect(failoverSlaveRegister(k, d)).toBe(NOTIFY_DONE);
    expect(d.uppers).toEqual([]);
  });
});

// ─── FO-R ──────────────────────────────────────────────────────────────────────────────────

describe("failoverRegister", () => {
  it("FO-R step 1: a non-Ethernet master should get -EINVAL, with no flag, no instance, no log", () => {
    const k = boot(E1);
    failoverInit(k);
    const spy = spyOps(k);
    const m = nic(k, { mac: MAC });
    m.type = ARPHRD_NONE;
    let ret: unknown;
    const ev = events(k, () => {
      ret = failoverRegister(k, m, spy.name);
    });
    expect(ret).toBe(err("EINVAL"));
    expect(ev).toEqual([]);
    expect(m.privFlags & IFF_PRIV.IFF_FAILOVER).toBe(0);
    expect(failoverInstances(k)).toEqual([]);
    expect(failoverGetByMac(k, MAC)).toBeNull();
  });

  it("FO-R steps 2, 3, 5: should set IFF_FAILOVER, append the instance, log and return it", () => {
    const k = boot(E1);
    failoverInit(k);
    spyOps(k, "a");
    spyOps(k, "b");
    const m1 = nic(k, { mac: MAC });
    const m2 = nic(k, { mac: OTHER_MAC });
    let i1: unknown;
    const ev = events(k, () => {
      i1 = failoverRegister(k, m1, "a");
    });
    expect(ev).toEqual(["log eth0: failover master:eth0 registered"]);
    expect(i1).toEqual({ master: m1.ifindex, ops: "a" });
    expect(m1.privFlags & IFF_PRIV.IFF_FAILOVER).toBe(IFF_PRIV.IFF_FAILOVER);
    const i2 = failoverRegister(k, m2, "b");
    expect(i2).toEqual({ master: m2.ifindex, ops: "b" });
    expect(failoverInstances(k)).toEqual([i1, i2]);
  });

  it("FO-R step 3: a net_failover master should log with its parent's driver and id", () => {
    const { k } = bootMachine(E1);
    expect(k.trace.since(0).filter((e) => e.type === "kernel.log")[0]).toMatchObject({
      level: "info",
      text: "virtio_net virtio0 eth0: failover master:eth0 registered",
    });
  });

  it("FO-R step 4 (FO-R5): should enslave the already-registered devices with its perm_addr, after the log, in list order", () => {
    const k = boot(E1);
    failoverInit(k);
    const spy = spyOps(k);
    const m = nic(k, { mac: MAC }); // eth0
    const s1 = nic(k, { mac: MAC }); // eth1
    nic(k, { mac: OTHER_MAC }); // eth2
    const s2 = nic(k, { mac: MAC }); // eth3
    expect(s1.uppers).toEqual([]);
    const ev = events(k, () => failoverRegister(k, m, spy.name));
    expect(ev).toEqual([
      "log eth0: failover master:eth0 registered",
      "notify NETDEV_PRECHANGEUPPER eth1",
      "notify NETDEV_CHANGEUPPER eth1",
      "rtnl RTM_NEWLINK eth1",
      "notify NETDEV_PRECHANGEUPPER eth3",
      "notify NETDEV_CHANGEUPPER eth3",
      "rtnl RTM_NEWLINK eth3",
    ]);
    // The master itself (same perm_addr, but IFF_FAILOVER) is skipped.
    expect(spy.calls).toEqual([
      "slavePreRegister eth1 eth0",
      "slaveRegister eth1 eth0",
      "slavePreRegister eth3 eth0",
      "slaveRegister eth3 eth0",
    ]);
    expect(s1.uppers).toEqual([{ ifindex: m.ifindex, master: true }]);
    expect(s2.uppers).toEqual([{ ifindex: m.ifindex, master: true }]);
  });

  it("FO-R step 4: the scan should skip another failover master with the same perm_addr", () => {
    const k = boot(E1);
    failoverInit(k);
    const a = spyOps(k, "a");
    const b = spyOps(k, "b");
    const ma = nic(k, { mac: MAC }); // eth0
    failoverRegister(k, ma, "a");
    a.ret.slavePreRegister = err("EINVAL"); // keep eth1 out of eth0's hands
    const mb = nic(k, { mac: MAC }); // eth1
    a.ret.slavePreRegister = 0;
    a.calls.length = 0;
    const ev = events(k, () => failoverRegister(k, mb, "b"));
    expect(ev).toEqual(["log eth1: failover master:eth1 registered"]);
    // Had eth0 been scanned, FO-SR would have found eth0 itself by MAC and called a's ops.
    expect(a.calls).toEqual([]);
    expect(b.calls).toEqual([]);
    expect(ma.uppers).toEqual([]);
    expect(mb.uppers).toEqual([]);
  });

  it("FO-R step 4: the scan should compare perm_addr, ignoring a matching dev_addr", () => {
    const k = boot(E1);
    failoverInit(k);
    const spy = spyOps(k);
    const m = nic(k, { mac: MAC });
    const d = nic(k, { mac: OTHER_MAC });
    expect(devSetMacAddress(k, d, MAC)).toBe(0);
    const ev = events(k, () => failoverRegister(k, m, spy.name));
    expect(ev).toEqual(["log eth0: failover master:eth0 registered"]);
    expect(spy.calls).toEqual([]);
    expect(d.uppers).toEqual([]);
  });

  it("FO-R: the failover VM's master should scan no slaves (it registers before them)", () => {
    const { k } = bootMachine(E1);
    const ev = k.trace
      .since(0)
      .map((e) =>
        e.type === "kernel.log" ? `log ${e.text}` : e.type === "kernel.notify" ? e.event : "",
      );
    const i = ev.indexOf("log virtio_net virtio0 eth0: failover master:eth0 registered");
    expect(i).toBeGreaterThan(0);
    expect(ev[i + 1]).toBe("NETDEV_POST_INIT"); // next: the standby's registration
  });
});

// ─── FO-U ──────────────────────────────────────────────────────────────────────────────────

describe("failoverUnregister", () => {
  it("FO-U: should log, clear IFF_FAILOVER and drop the instance, leaving the slaves linked", () => {
    const { k } = bootMachine(E1);
    const [inst] = failoverInstances(k);
    expect(inst).toBeDefined();
    const ev = events(k, () => failoverUnregister(k, inst as NonNullable<typeof inst>));
    expect(ev).toEqual(["log virtio_net virtio0 eth0: failover master:eth0 unregistered"]);
    const m = dev(k, "eth0");
    expect(m.privFlags & IFF_PRIV.IFF_FAILOVER).toBe(0);
    expect(failoverInstances(k)).toEqual([]);
    for (const s of ["eth1", "eth3"]) {
      const d = dev(k, s);
      expect(d.uppers, s).toEqual([{ ifindex: m.ifindex, master: true }]);
      expect(d.rxHandler, s).toBe("net_failover_handle_frame");
      expect(d.privFlags & IFF_PRIV.IFF_FAILOVER_SLAVE, s).toBe(IFF_PRIV.IFF_FAILOVER_SLAVE);
    }
  });

  it("FO-U: afterwards slave events find no master, so no ops are called", () => {
    const { k, spy, master, slave } = spyPair(E1, { masterUp: true });
    const [inst] = failoverInstances(k);
    failoverUnregister(k, inst as NonNullable<typeof inst>);
    expect(failoverGetByMac(k, MAC)).toBeNull();
    expect(devOpen(k, slave)).toBe(0);
    expect(devChangeName(k, slave, "sl0")).toBe(0);
    expect(failoverSlaveUnregister(k, slave)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual([]);
    expect(slave.uppers).toEqual([{ ifindex: master.ifindex, master: true }]);
  });
});

// ─── FO-EV ─────────────────────────────────────────────────────────────────────────────────

describe("failoverEvent", () => {
  it("FO-EV: an event about a failover master itself should be ignored (NOTIFY_DONE, nothing)", () => {
    const { k } = bootMachine(E1);
    const m = dev(k, "eth0");
    // Were it not skipped, REGISTER would run FO-SR on the master (its own perm_addr matches)
    // and NF-PRE would log "eth0 attempting to register ... standby already present".
    for (const ev of ["NETDEV_REGISTER", "NETDEV_UNREGISTER", "NETDEV_UP", "NETDEV_CHANGENAME"]) {
      let ret = -1;
      const out = events(k, () => {
        ret = failoverEvent(k, ev as NetdevEvent, m, {});
      });
      expect(ret, ev).toBe(NOTIFY_DONE);
      expect(out, ev).toEqual([]);
    }
  });

  it.each([
    ["NETDEV_REGISTER", "slavePreRegister"],
    ["NETDEV_UNREGISTER", "slavePreUnregister"],
    ["NETDEV_UP", "slaveLinkChange"],
    ["NETDEV_DOWN", "slaveLinkChange"],
    ["NETDEV_CHANGE", "slaveLinkChange"],
    ["NETDEV_CHANGENAME", "slaveNameChange"],
  ] as const)("FO-EV: %s should be dispatched to %s", (event, op) => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    if (event === "NETDEV_REGISTER") {
      // A fresh candidate (the enslaved slave would stop at its busy rx handler).
      const d = rawNic(k);
      d.addrAssignType = NET_ADDR.SET;
      expect(registerNetdev(k, d)).toBe(0);
      d.permAddr = MAC;
      spy.calls.length = 0;
      failoverEvent(k, event, d, {});
      expect(spy.calls[0]).toBe(`${op} ${d.name} eth0`);
      return;
    }
    failoverEvent(k, event, slave, {});
    expect(spy.calls[0]).toBe(`${op} eth1 eth0`);
  });

  it.each([
    "NETDEV_GOING_DOWN",
    "NETDEV_PRE_UP",
    "NETDEV_POST_INIT",
    "NETDEV_PRECHANGEUPPER",
    "NETDEV_CHANGEUPPER",
    "NETDEV_PRECHANGEMTU",
    "NETDEV_CHANGEMTU",
    "NETDEV_CHANGEADDR",
    "NETDEV_FEAT_CHANGE",
    "NETDEV_JOIN",
    "NETDEV_CHANGELOWERSTATE",
  ] as const)("FO-EV: %s should be ignored (NOTIFY_DONE, no op called)", (event) => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    const ev = events(k, () => expect(failoverEvent(k, event, slave, {})).toBe(NOTIFY_DONE));
    expect(ev).toEqual([]);
    expect(spy.calls).toEqual([]);
  });

  it("FO-EV: should only ever answer NOTIFY_OK or NOTIFY_DONE, whatever the ops return", () => {
    const EVENTS: NetdevEvent[] = [
      "NETDEV_REGISTER",
      "NETDEV_UNREGISTER",
      "NETDEV_UP",
      "NETDEV_DOWN",
      "NETDEV_CHANGE",
      "NETDEV_CHANGENAME",
      "NETDEV_GOING_DOWN",
      "NETDEV_PRECHANGEUPPER",
    ];
    const rets: KRet[] = [0, err("EINVAL"), err("EBUSY"), err("ENODEV")];
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENTS),
        fc.constantFrom("master", "slave", "other"),
        fc.boolean(),
        fc.array(fc.constantFrom(...rets), { minLength: OPS.length, maxLength: OPS.length }),
        (event, who, up, answers) => {
          const { k, spy, master, slave } = spyPair(E1, { masterUp: up });
          const other = nic(k, { mac: OTHER_MAC });
          OPS.forEach((op, i) => {
            spy.ret[op] = answers[i] as KRet;
          });
          const d = who === "master" ? master : who === "slave" ? slave : other;
          const ret = failoverEvent(k, event, d, {});
          expect([NOTIFY_DONE, NOTIFY_OK]).toContain(ret);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ─── FO-SR ─────────────────────────────────────────────────────────────────────────────────

describe("failoverSlaveRegister", () => {
  it("FO-SR step 1: a non-Ethernet device with the master's perm_addr should be ignored", () => {
    const { k, spy } = spyKernel();
    const d = rawNic(k);
    d.type = ARPHRD_NONE;
    const ev = events(k, () => expect(registerNetdev(k, d)).toBe(0));
    expect(d.permAddr).toBe(MAC);
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT eth1",
      "uevent add eth1",
      "notify NETDEV_REGISTER eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(spy.calls).toEqual([]);
    expect(failoverSlaveRegister(k, d)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual([]);
    expect(d.uppers).toEqual([]);
  });

  it("FO-SR step 2: a device whose perm_addr matches no master should be left alone", () => {
    const { k, spy } = spyKernel();
    const d = nic(k, { mac: OTHER_MAC });
    expect(failoverSlaveRegister(k, d)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual([]);
    expect(d.uppers).toEqual([]);
    expect(d.rxHandler).toBeNull();
  });

  it("FO-SR step 3: a non-zero slave_pre_register should stop with nothing changed", () => {
    const { k, spy } = spyKernel();
    spy.ret.slavePreRegister = err("EINVAL");
    let d: NetDevice | undefined;
    const ev = events(k, () => {
      d = nic(k, { mac: MAC });
    });
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT eth1",
      "uevent add eth1",
      "notify NETDEV_REGISTER eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0"]);
    const s = d as NetDevice;
    expect(s.rxHandler).toBeNull();
    expect(s.uppers).toEqual([]);
    expect(s.privFlags & ALL_SLAVE_FLAGS).toBe(0);
  });

  it("FO-SR step 4: a busy rx handler should log 'can not register failover rx handler (err = -16)' and stop", () => {
    const k = boot(E1);
    failoverInit(k);
    const spy = spyOps(k);
    const m = nic(k, { mac: MAC });
    const s = nic(k, { mac: MAC });
    expect(netdevRxHandlerRegister(k, s, "bridge_handle_frame", null)).toBe(0);
    const ev = events(k, () => failoverRegister(k, m, spy.name));
    expect(ev).toEqual([
      "log eth0: failover master:eth0 registered",
      "log eth1: can not register failover rx handler (err = -16)",
    ]);
    expect(
      k.trace.since(0).find((e) => e.type === "kernel.log" && e.text.includes("can not")),
    ).toMatchObject({ level: "err" });
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0"]);
    expect(s.rxHandler).toBe("bridge_handle_frame");
    expect(s.uppers).toEqual([]);
    expect(s.privFlags & ALL_SLAVE_FLAGS).toBe(0);
  });

  it("FO-SR step 4: a device with IFF_NO_RX_HANDLER should log '(err = -22)' and stop", () => {
    const { k, spy } = spyKernel();
    const d = rawNic(k);
    d.privFlags |= IFF_PRIV.IFF_NO_RX_HANDLER;
    const ev = events(k, () => expect(registerNetdev(k, d)).toBe(0));
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT eth1",
      "uevent add eth1",
      "notify NETDEV_REGISTER eth1",
      "log eth1: can not register failover rx handler (err = -22)",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0"]);
    expect(d.rxHandler).toBeNull();
    expect(d.uppers).toEqual([]);
  });

  it("FO-SR step 5: a PRECHANGEUPPER veto should log 'can not set failover device eth0 (err = -1)' and remove the rx handler", () => {
    const { k, spy } = spyKernel();
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_PRECHANGEUPPER", err("EPERM"));
    let d: NetDevice | undefined;
    const ev = events(k, () => {
      d = nic(k, { mac: MAC });
    });
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT eth1",
      "uevent add eth1",
      "notify NETDEV_REGISTER eth1",
      "notify NETDEV_PRECHANGEUPPER eth1",
      "log eth1: can not set failover device eth0 (err = -1)",
      "rtnl RTM_NEWLINK eth1",
    ]);
    const s = d as NetDevice;
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0"]);
    expect(s.rxHandler).toBeNull();
    expect(s.uppers).toEqual([]);
    expect(s.privFlags & ALL_SLAVE_FLAGS).toBe(0);
  });

  it("FO-SR step 5: a CHANGEUPPER veto should undo the link after its RTM_NEWLINK went out", () => {
    const { k, spy, master } = spyKernel();
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_CHANGEUPPER", err("EINVAL"));
    let d: NetDevice | undefined;
    const raw = rawEvents(k, () => {
      d = nic(k, { mac: MAC });
    });
    const s = d as NetDevice;
    const rtm = raw.filter((e): e is RtnlEvent => e.type === "kernel.rtnl");
    expect(rtm.map(masterIfindexOf)).toEqual([master.ifindex, null]);
    expect(
      raw.filter((e) => e.type === "kernel.log").map((e) => (e as { text: string }).text),
    ).toEqual(["eth1: can not set failover device eth0 (err = -22)"]);
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0"]);
    expect(s.rxHandler).toBeNull();
    expect(s.uppers).toEqual([]);
    expect(master.lowers).toEqual([]);
  });

  it("FO-SR step 5: a slave that already has another master should log '(err = -16)'", () => {
    const k = boot(E1);
    failoverInit(k);
    const spy = spyOps(k);
    const m = nic(k, { mac: MAC }); // eth0
    const br = nic(k, { mac: OTHER_MAC }); // eth1
    const s = nic(k, { mac: MAC }); // eth2
    expect(netdevMasterUpperDevLink(k, s, br)).toBe(0);
    const ev = events(k, () => failoverRegister(k, m, spy.name));
    expect(ev).toEqual([
      "log eth0: failover master:eth0 registered",
      "log eth2: can not set failover device eth0 (err = -16)",
    ]);
    expect(s.uppers).toEqual([{ ifindex: br.ifindex, master: true }]);
    expect(s.rxHandler).toBeNull();
  });

  it.each([
    [E0, IFF_PRIV.IFF_FAILOVER_SLAVE],
    [E1, IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_LIVE_RENAME_OK],
    [E2, IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_NO_ADDRCONF],
  ])(
    "FO-SR step 6 (%s): should set exactly the era's slave flags on both slaves",
    (version, flags) => {
      const { k } = bootMachine(version);
      expect(dev(k, "eth1").privFlags & ALL_SLAVE_FLAGS).toBe(flags);
      expect(dev(k, "eth3").privFlags & ALL_SLAVE_FLAGS).toBe(flags);
      expect(dev(k, "eth2").privFlags & ALL_SLAVE_FLAGS).toBe(0);
      expect(dev(k, "eth0").privFlags & ALL_SLAVE_FLAGS).toBe(0);
    },
  );

  it.each([
    [E0, IFF_PRIV.IFF_FAILOVER_SLAVE],
    [E1, IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_LIVE_RENAME_OK],
    [E2, IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_NO_ADDRCONF],
  ])(
    "FO-SR step 6 (%s): the flags, rx handler and link should be in place when slave_register runs",
    (version, flags) => {
      const { k, spy, master } = spyKernel(version);
      nic(k, { mac: MAC });
      expect(spy.seen.slaveRegister).toEqual({
        privFlags: flags,
        rxHandler: "spy_handle_frame",
        masters: [master.ifindex],
      });
    },
  );

  it("FO-SR step 7: slave_register answering 0 should enslave and return NOTIFY_OK", () => {
    const { k, spy, master } = spyKernel();
    spy.ret.slavePreRegister = err("EINVAL");
    const s = nic(k, { mac: MAC });
    spy.ret.slavePreRegister = 0;
    spy.calls.length = 0;
    let ret = -1;
    const ev = events(k, () => {
      ret = failoverSlaveRegister(k, s);
    });
    expect(ret).toBe(NOTIFY_OK);
    expect(ev).toEqual([
      "notify NETDEV_PRECHANGEUPPER eth1",
      "notify NETDEV_CHANGEUPPER eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(spy.calls).toEqual(["slavePreRegister eth1 eth0", "slaveRegister eth1 eth0"]);
    expect(s.uppers).toEqual([{ ifindex: master.ifindex, master: true }]);
    expect(master.lowers).toEqual([{ ifindex: s.ifindex, master: true }]);
    expect(s.rxHandler).toBe("spy_handle_frame");
    expect(s.rxHandlerData).toBe(master.ifindex);
    expect(s.flags & (IFF.MASTER | IFF.SLAVE)).toBe(0); // failover sets neither public flag
  });

  it.each([E0, E1, E2])(
    "FO-SR step 8 (%s): a failing slave_register should unlink, clear the flags and drop the rx handler",
    (version) => {
      const { k, spy, master } = spyKernel(version);
      spy.ret.slaveRegister = err("EINVAL");
      let d: NetDevice | undefined;
      const raw = rawEvents(k, () => {
        d = nic(k, { mac: MAC });
      });
      const s = d as NetDevice;
      expect(raw.map((e) => (e.type === "kernel.notify" ? `${e.event} ${e.dev}` : e.type))).toEqual(
        [
          "NETDEV_POST_INIT eth1",
          "kernel.uevent",
          "NETDEV_REGISTER eth1",
          "NETDEV_PRECHANGEUPPER eth1",
          "NETDEV_CHANGEUPPER eth1",
          "kernel.rtnl",
          "NETDEV_PRECHANGEUPPER eth1",
          "NETDEV_CHANGEUPPER eth1",
          "kernel.rtnl",
          "kernel.rtnl",
        ],
      );
      const rtm = raw.filter((e): e is RtnlEvent => e.type === "kernel.rtnl");
      expect(rtm.map(masterIfindexOf)).toEqual([master.ifindex, null, null]);
      expect(spy.calls).toEqual(["slavePreRegister eth1 eth0", "slaveRegister eth1 eth0"]);
      expect(s.uppers).toEqual([]);
      expect(master.lowers).toEqual([]);
      expect(s.privFlags & ALL_SLAVE_FLAGS).toBe(0);
      expect(s.rxHandler).toBeNull();
      expect(failoverSlaveRegister(k, s)).toBe(NOTIFY_DONE);
    },
  );
});

// ─── FO-SU ─────────────────────────────────────────────────────────────────────────────────

describe("failoverSlaveUnregister", () => {
  it("FO-SU step 1: a device without IFF_FAILOVER_SLAVE should be ignored, even with the MAC", () => {
    const { k, spy } = spyKernel();
    spy.ret.slavePreRegister = err("EINVAL");
    const d = nic(k, { mac: MAC });
    spy.calls.length = 0;
    expect(failoverSlaveUnregister(k, d)).toBe(NOTIFY_DONE);
    const ev = events(k, () => unregisterNetdevice(k, d));
    expect(ev).toEqual([
      "notify NETDEV_UNREGISTER eth1",
      "rtnl RTM_DELLINK eth1",
      "uevent remove eth1",
    ]);
    expect(spy.calls).toEqual([]);
  });

  it("FO-SU step 2: a flagged slave whose MAC finds no master should get NOTIFY_DONE, unchanged", () => {
    const { k, spy, master, slave } = spyPair();
    const [inst] = failoverInstances(k);
    failoverUnregister(k, inst as NonNullable<typeof inst>);
    const ev = events(k, () => expect(failoverSlaveUnregister(k, slave)).toBe(NOTIFY_DONE));
    expect(ev).toEqual([]);
    expect(spy.calls).toEqual([]);
    expect(slave.uppers).toEqual([{ ifindex: master.ifindex, master: true }]);
    expect(slave.rxHandler).toBe("spy_handle_frame");
  });

  it("FO-SU step 3: a non-zero slave_pre_unregister should change nothing", () => {
    const { k, spy, master, slave } = spyPair();
    spy.ret.slavePreUnregister = err("ENODEV");
    const before = slave.privFlags;
    const ev = events(k, () => expect(failoverSlaveUnregister(k, slave)).toBe(NOTIFY_DONE));
    expect(ev).toEqual([]);
    expect(spy.calls).toEqual(["slavePreUnregister eth1 eth0"]);
    expect(slave.privFlags).toBe(before);
    expect(slave.rxHandler).toBe("spy_handle_frame");
    expect(slave.uppers).toEqual([{ ifindex: master.ifindex, master: true }]);
  });

  it.each([E0, E1, E2])(
    "FO-SU steps 4–5 (%s): should drop the rx handler, unlink, clear the flags, then call slave_unregister → NOTIFY_OK",
    (version) => {
      const { k, spy, master, slave } = spyPair(version);
      let ret = -1;
      const raw = rawEvents(k, () => {
        ret = failoverSlaveUnregister(k, slave);
      });
      expect(ret).toBe(NOTIFY_OK);
      expect(raw.map((e) => (e.type === "kernel.notify" ? `${e.event} ${e.dev}` : e.type))).toEqual(
        ["NETDEV_PRECHANGEUPPER eth1", "NETDEV_CHANGEUPPER eth1", "kernel.rtnl"],
      );
      expect((raw[2] as RtnlEvent).link.master).toBeNull();
      expect(spy.calls).toEqual(["slavePreUnregister eth1 eth0", "slaveUnregister eth1 eth0"]);
      expect(spy.seen.slaveUnregister).toEqual({ privFlags: 0, rxHandler: null, masters: [] });
      expect(master.lowers).toEqual([]);
    },
  );

  it("FO-SU step 5: a failing slave_unregister should give NOTIFY_DONE without undoing the unlink", () => {
    const { k, spy, slave } = spyPair();
    spy.ret.slaveUnregister = err("EINVAL");
    expect(failoverSlaveUnregister(k, slave)).toBe(NOTIFY_DONE);
    expect(slave.uppers).toEqual([]);
    expect(slave.rxHandler).toBeNull();
    expect(slave.privFlags & ALL_SLAVE_FLAGS).toBe(0);
  });

  it("FO-SU: through NETDEV_UNREGISTER the unlink's RTM_NEWLINK is dropped and the DELLINK names no master", () => {
    const { k, spy, slave } = spyPair();
    const raw = rawEvents(k, () => unregisterNetdevice(k, slave));
    expect(raw.map((e) => (e.type === "kernel.notify" ? `${e.event} ${e.dev}` : e.type))).toEqual([
      "NETDEV_UNREGISTER eth1",
      "NETDEV_PRECHANGEUPPER eth1",
      "NETDEV_CHANGEUPPER eth1",
      "kernel.rtnl",
      "kernel.uevent",
    ]);
    expect(raw[3]).toMatchObject({ msg: "RTM_DELLINK", link: { master: null } });
    expect(spy.calls).toEqual(["slavePreUnregister eth1 eth0", "slaveUnregister eth1 eth0"]);
  });
});

// ─── FO-LC ─────────────────────────────────────────────────────────────────────────────────

describe("failoverSlaveLinkChange", () => {
  it("FO-LC: UP, DOWN and CHANGE of a slave should reach slave_link_change while the master runs", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    settle(k);
    spy.calls.length = 0;
    expect(devOpen(k, slave)).toBe(0); // UP (the generic NIC's carrier comes on)
    settle(k); // linkwatch: NETDEV_CHANGE
    devClose(k, slave); // DOWN
    expect(spy.calls).toEqual([
      "slaveLinkChange eth1 eth0",
      "slaveLinkChange eth1 eth0",
      "slaveLinkChange eth1 eth0",
    ]);
  });

  it("FO-LC: a carrier change of an UP slave should reach the ops through linkwatch's NETDEV_CHANGE", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    expect(devOpen(k, slave)).toBe(0);
    settle(k);
    spy.calls.length = 0;
    spy.log = true;
    genericEthSetLink(k, slave, false);
    const ev = events(k, () => settle(k));
    expect(ev).toEqual([
      "notify NETDEV_CHANGE eth1",
      "log spy slaveLinkChange eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
  });

  it("FO-LC: nothing should reach the ops while the master is not running", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: false });
    expect(devOpen(k, slave)).toBe(0);
    devClose(k, slave);
    expect(failoverSlaveLinkChange(k, slave)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual([]);
  });

  it("FO-LC: a device with the MAC but without IFF_FAILOVER_SLAVE should not reach the ops", () => {
    const { k, spy, master } = spyKernel();
    expect(devOpen(k, master)).toBe(0);
    spy.ret.slavePreRegister = err("EINVAL");
    const d = nic(k, { mac: MAC });
    spy.calls.length = 0;
    expect(devOpen(k, d)).toBe(0);
    expect(failoverSlaveLinkChange(k, d)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual([]);
  });

  it("FO-LC: should answer NOTIFY_OK when slave_link_change returns 0, else NOTIFY_DONE", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    expect(failoverSlaveLinkChange(k, slave)).toBe(NOTIFY_OK);
    spy.ret.slaveLinkChange = err("ENODEV");
    expect(failoverSlaveLinkChange(k, slave)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual(["slaveLinkChange eth1 eth0", "slaveLinkChange eth1 eth0"]);
  });
});

// ─── FO-NC ─────────────────────────────────────────────────────────────────────────────────

describe("failoverSlaveNameChange", () => {
  it("FO-NC: a slave rename should reach slave_name_change after the RTM_NEWLINK with the new name", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    spy.log = true;
    const ev = events(k, () => expect(devChangeName(k, slave, "sl0")).toBe(0));
    expect(ev).toEqual([
      "log sl0: renamed from eth1",
      "uevent move sl0",
      "notify NETDEV_CHANGENAME sl0",
      "rtnl RTM_NEWLINK sl0",
      "log spy slaveNameChange sl0",
    ]);
    expect(spy.calls).toEqual(["slaveNameChange sl0 eth0"]);
  });

  it("FO-NC: never vetoes, so a failing slave_name_change leaves the rename in place", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: true });
    spy.ret.slaveNameChange = err("EBUSY");
    expect(failoverSlaveNameChange(k, slave)).toBe(NOTIFY_DONE);
    const ev = events(k, () => expect(devChangeName(k, slave, "sl0")).toBe(0));
    expect(ev.filter((e) => e.startsWith("notify"))).toEqual(["notify NETDEV_CHANGENAME sl0"]);
    expect(slave.name).toBe("sl0");
    spy.ret.slaveNameChange = 0;
    expect(failoverSlaveNameChange(k, slave)).toBe(NOTIFY_OK);
  });

  it("FO-NC: should not reach the ops while the master is not running", () => {
    const { k, spy, slave } = spyPair(E1, { masterUp: false });
    expect(devChangeName(k, slave, "sl0")).toBe(0);
    expect(failoverSlaveNameChange(k, slave)).toBe(NOTIFY_DONE);
    expect(spy.calls).toEqual([]);
  });

  it("FO-NC: a renamed device with the MAC but not enslaved should not reach the ops", () => {
    const { k, spy, master } = spyKernel();
    expect(devOpen(k, master)).toBe(0);
    spy.ret.slavePreRegister = err("EINVAL");
    const d = nic(k, { mac: MAC });
    spy.calls.length = 0;
    expect(devChangeName(k, d, "sl0")).toBe(0);
    expect(spy.calls).toEqual([]);
  });
});

// ─── R1 interplay: IFF_LIVE_RENAME_OK (FO-SR step 6, FO-SU step 4) ──────────────────────────

describe("renaming UP devices in the failover VM", () => {
  function upVm(version: string) {
    const b = bootMachine(version);
    const { k } = b;
    const m = dev(k, "eth0");
    expect(devChangeFlags(k, m, m.flags | IFF.UP)).toBe(0);
    expect(devOpen(k, dev(k, "eth2"))).toBe(0);
    b.m.settle();
    for (const n of ["eth0", "eth1", "eth2", "eth3"]) expect(dev(k, n).flags & IFF.UP, n).toBe(1);
    return b;
  }

  it("FO-SR step 6 / R1 (E0): neither an UP slave nor an UP non-slave can be renamed (-EBUSY, no events)", () => {
    const { k } = upVm(E0);
    const ev = events(k, () => {
      expect(devChangeName(k, dev(k, "eth3"), "ens4")).toBe(err("EBUSY"));
      expect(devChangeName(k, dev(k, "eth1"), "ens3nsby")).toBe(err("EBUSY"));
      expect(devChangeName(k, dev(k, "eth2"), "ens5")).toBe(err("EBUSY"));
      // R1 precedes R3 in E0: even the same name is refused.
      expect(devChangeName(k, dev(k, "eth3"), "eth3")).toBe(err("EBUSY"));
    });
    expect(ev).toEqual([]);
  });

  it("FO-SR step 6 / R1 (E1): an UP slave can be renamed (IFF_LIVE_RENAME_OK), an UP non-slave cannot", () => {
    const { k } = upVm(E1);
    const ev = events(k, () => expect(devChangeName(k, dev(k, "eth3"), "ens4")).toBe(0));
    expect(ev).toEqual([
      "log e1000e 0000:02:00.0 ens4: renamed from eth3",
      "uevent move ens4",
      "notify NETDEV_CHANGENAME ens4",
      "rtnl RTM_NEWLINK ens4",
    ]);
    expect(devChangeName(k, dev(k, "eth1"), "ens3nsby")).toBe(0);
    expect(dev(k, "ens3nsby").flags & IFF.UP).toBe(1);
    expect(
      events(k, () => expect(devChangeName(k, dev(k, "eth2"), "ens5")).toBe(err("EBUSY"))),
    ).toEqual([]);
    // R3 after R1: a second rename to the same name is 0 without events.
    expect(events(k, () => expect(devChangeName(k, dev(k, "ens4"), "ens4")).toBe(0))).toEqual([]);
  });

  it("FO-SR step 6 / R1 (E2): both an UP slave and an UP non-slave can be renamed, logged '(while UP)'", () => {
    const { k } = upVm(E2);
    const ev = events(k, () => {
      expect(devChangeName(k, dev(k, "eth3"), "ens4")).toBe(0);
      expect(devChangeName(k, dev(k, "eth2"), "ens5")).toBe(0);
    });
    expect(ev).toEqual([
      "log e1000e 0000:02:00.0 ens4: renamed from eth3 (while UP)",
      "uevent move ens4",
      "notify NETDEV_CHANGENAME ens4",
      "rtnl RTM_NEWLINK ens4",
      "log virtio_net virtio1 ens5: renamed from eth2 (while UP)",
      "uevent move ens5",
      "notify NETDEV_CHANGENAME ens5",
      "rtnl RTM_NEWLINK ens5",
    ]);
  });

  it("FO-SR step 6 / R1 (E1): the RTM_NEWLINK of a live rename should show the slave UP under its master", () => {
    const { k } = upVm(E1);
    const raw = rawEvents(k, () => devChangeName(k, dev(k, "eth3"), "ens4"));
    const rtm = raw.find((e): e is RtnlEvent => e.type === "kernel.rtnl");
    expect(rtm?.link).toMatchObject({ ifname: "ens4", master: dev(k, "eth0").ifindex });
    expect((rtm?.link.flags ?? 0) & IFF.UP).toBe(IFF.UP);
    expect(rtm?.change).toBe(0);
  });

  it("FO-SU step 4 / R1 (E1): once detached (flag cleared) the former primary, UP again, cannot be renamed", () => {
    const { k, m } = upVm(E1);
    m.unplug("standby0"); // virtio remove → FO-SU(standby), NF-DESTROY → FO-SU(primary)
    const p = dev(k, "eth3");
    expect(p.privFlags & ALL_SLAVE_FLAGS).toBe(0);
    expect(p.flags & IFF.UP).toBe(0);
    expect(devOpen(k, p)).toBe(0);
    expect(devChangeName(k, p, "ens4")).toBe(err("EBUSY"));
    expect(p.name).toBe("eth3");
  });

  it("FO-SR step 6 / R1 (E1): a slave re-enslaved after a hot-plug gets the flag again and can be renamed UP", () => {
    const { k, m } = upVm(E1);
    m.unplug("primary0");
    m.plug("primary0");
    const p = dev(k, "eth3");
    expect(p.flags & IFF.UP).toBe(1);
    expect(p.privFlags & IFF_PRIV.IFF_LIVE_RENAME_OK).toBe(IFF_PRIV.IFF_LIVE_RENAME_OK);
    expect(devChangeName(k, p, "ens4")).toBe(0);
  });
});
