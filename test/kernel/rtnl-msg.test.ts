// Rules F1 (reported flags), O4 (netdev_state_change) and RT8 (which events produce an
// RTM_NEWLINK, IFLA_EVENT, and the REGISTERED filter).

import { describe, expect, it } from "vitest";
import {
  callNetdeviceNotifiers,
  devGetFlags,
  devOpen,
  IF_OPER,
  IFF,
  iflaEventFor,
  type NetdevEvent,
  netdevStateChange,
  type RtnlEvent,
  rtmsgIfinfo,
  rtnlFillIfinfo,
} from "../../src/kernel/index.ts";
import { boot, E0, E2, events, ifb, nic, rawEvents, settle, veth } from "../_helpers/kernel.ts";

describe("devGetFlags", () => {
  it("F1: a DOWN device should report neither RUNNING nor LOWER_UP, even with carrier", () => {
    const k = boot(E2);
    const d = nic(k);
    d.carrier = true;
    d.operstate = IF_OPER.UP;
    expect(devGetFlags(d)).toBe(IFF.BROADCAST | IFF.MULTICAST);
  });

  it("F1: stored RUNNING, LOWER_UP, DORMANT, PROMISC and ALLMULTI bits should be dropped", () => {
    const k = boot(E2);
    const d = nic(k);
    d.flags |= IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT | IFF.PROMISC | IFF.ALLMULTI;
    expect(devGetFlags(d)).toBe(IFF.BROADCAST | IFF.MULTICAST);
  });

  it("F1: user-requested PROMISC/ALLMULTI (gflags) should be reported", () => {
    const k = boot(E2);
    const d = nic(k);
    d.gflags = IFF.PROMISC | IFF.ALLMULTI;
    expect(devGetFlags(d) & (IFF.PROMISC | IFF.ALLMULTI)).toBe(IFF.PROMISC | IFF.ALLMULTI);
  });

  it.each([
    [IF_OPER.UP, true],
    [IF_OPER.UNKNOWN, true],
    [IF_OPER.DOWN, false],
    [IF_OPER.LOWERLAYERDOWN, false],
    [IF_OPER.DORMANT, false],
  ])("F1: a running device with operstate %i should report RUNNING = %s", (op, running) => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    d.operstate = op;
    expect((devGetFlags(d) & IFF.RUNNING) !== 0).toBe(running);
  });

  it("F1: LOWER_UP should follow the carrier and DORMANT the dormant bit, only while running", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    d.carrier = false;
    d.dormant = true;
    expect(devGetFlags(d) & (IFF.LOWER_UP | IFF.DORMANT)).toBe(IFF.DORMANT);
    d.carrier = true;
    d.dormant = false;
    expect(devGetFlags(d) & (IFF.LOWER_UP | IFF.DORMANT)).toBe(IFF.LOWER_UP);
  });

  it("F1: right after open the carrier may be on before operstate is (LOWER_UP without RUNNING)", () => {
    // OBSERVATIONS (monitor): NO-CARRIER and LOWER_UP can appear together for a moment.
    const k = boot(E2);
    const d = nic(k);
    const rtm = rawEvents(k, () => devOpen(k, d)).find(
      (e): e is RtnlEvent => e.type === "kernel.rtnl",
    );
    expect(rtm?.link.flags).toBe(IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.LOWER_UP);
    settle(k);
    expect(devGetFlags(d)).toBe(
      IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.LOWER_UP | IFF.RUNNING,
    );
  });

  it("F1: ifb up should report UP, LOWER_UP, RUNNING with operstate UNKNOWN (OBSERVATIONS [05])", () => {
    const k = boot(E2);
    const d = ifb(k);
    expect(devOpen(k, d)).toBe(0);
    const s = rtnlFillIfinfo(k, d);
    expect(s.flags).toBe(IFF.BROADCAST | IFF.NOARP | IFF.UP | IFF.LOWER_UP | IFF.RUNNING);
    expect(s.operstate).toBe(IF_OPER.UNKNOWN);
  });
});

describe("rtnlFillIfinfo", () => {
  it("should report operstate DOWN for a device that is not running", () => {
    const k = boot(E2);
    const d = ifb(k);
    expect(rtnlFillIfinfo(k, d).operstate).toBe(IF_OPER.DOWN);
  });

  it("should carry altnames only from v5.5 and perm address only from v5.6", () => {
    const k0 = boot(E0);
    const d0 = nic(k0, { mac: "52:54:00:00:00:01" });
    d0.altnames = [...d0.altnames, "ignored"];
    expect(rtnlFillIfinfo(k0, d0)).toMatchObject({ altnames: [], permAddress: null });
    const k2 = boot(E2);
    const d2 = nic(k2, { mac: "52:54:00:00:00:01" });
    expect(rtnlFillIfinfo(k2, d2).permAddress).toBe("52:54:00:00:00:01");
  });
});

describe("netdevStateChange", () => {
  it("O4: an UP device should get NETDEV_CHANGE then RTM_NEWLINK(change 0)", () => {
    const k = boot(E2);
    const d = ifb(k, "x");
    expect(devOpen(k, d)).toBe(0);
    const c = k.trace.length;
    netdevStateChange(k, d);
    const ev = k.trace.since(c);
    expect(ev.map((e) => e.type)).toEqual(["kernel.notify", "kernel.rtnl"]);
    expect(ev[0]).toMatchObject({ event: "NETDEV_CHANGE", dev: "x" });
    expect(ev[1]).toMatchObject({ msg: "RTM_NEWLINK", change: 0 });
  });

  it("O4: a DOWN device should get nothing at all", () => {
    const k = boot(E2);
    const d = ifb(k);
    expect(events(k, () => netdevStateChange(k, d))).toEqual([]);
  });
});

describe("rtnetlink notifier", () => {
  const WITH_RTM: NetdevEvent[] = [
    "NETDEV_REBOOT",
    "NETDEV_CHANGEMTU",
    "NETDEV_CHANGEADDR",
    "NETDEV_CHANGENAME",
    "NETDEV_FEAT_CHANGE",
    "NETDEV_BONDING_FAILOVER",
    "NETDEV_NOTIFY_PEERS",
    "NETDEV_CHANGEUPPER",
    "NETDEV_RESEND_IGMP",
    "NETDEV_CHANGEINFODATA",
    "NETDEV_CHANGELOWERSTATE",
    "NETDEV_CHANGE_TX_QUEUE_LEN",
  ];
  const WITHOUT_RTM: NetdevEvent[] = [
    "NETDEV_UP",
    "NETDEV_DOWN",
    "NETDEV_GOING_DOWN",
    "NETDEV_CHANGE",
    "NETDEV_REGISTER",
    "NETDEV_UNREGISTER",
    "NETDEV_PRE_UP",
    "NETDEV_POST_INIT",
    "NETDEV_PRECHANGEUPPER",
    "NETDEV_PRECHANGEMTU",
    "NETDEV_PRE_CHANGEADDR",
    "NETDEV_JOIN",
  ];

  it.each(WITH_RTM)("RT8: %s should produce one RTM_NEWLINK through the notifier", (ev) => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => callNetdeviceNotifiers(k, ev, d))).toEqual([
      `notify ${ev} eth0`,
      "rtnl RTM_NEWLINK eth0",
    ]);
  });

  it.each(WITHOUT_RTM)("RT8: %s should produce no RTM_NEWLINK through the notifier", (ev) => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => callNetdeviceNotifiers(k, ev, d))).toEqual([`notify ${ev} eth0`]);
  });

  it.each([
    ["NETDEV_REBOOT", "REBOOT"],
    ["NETDEV_FEAT_CHANGE", "FEATURES"],
    ["NETDEV_BONDING_FAILOVER", "BONDING_FAILOVER"],
    ["NETDEV_NOTIFY_PEERS", "NOTIFY_PEERS"],
    ["NETDEV_RESEND_IGMP", "IGMP_RESEND"],
    ["NETDEV_CHANGEINFODATA", "BONDING_OPTIONS"],
    ["NETDEV_CHANGENAME", null],
    ["NETDEV_CHANGEUPPER", null],
    ["NETDEV_CHANGEMTU", null],
  ] as const)("RT8: %s should carry IFLA_EVENT %s", (ev, name) => {
    expect(iflaEventFor(ev)).toBe(name);
    const k = boot(E2);
    const d = nic(k);
    const rtm = rawEvents(k, () => callNetdeviceNotifiers(k, ev, d)).find(
      (e): e is RtnlEvent => e.type === "kernel.rtnl",
    );
    expect(rtm?.event).toBe(name);
  });
});

describe("rtmsgIfinfo", () => {
  it("RT8: should drop messages for a device that is not REGISTERED", () => {
    const k = boot(E2);
    const d = nic(k);
    for (const st of ["UNINITIALIZED", "UNREGISTERING", "UNREGISTERED"] as const) {
      d.regState = st;
      expect(
        events(k, () => rtmsgIfinfo(k, d, 0)),
        st,
      ).toEqual([]);
    }
    d.regState = "REGISTERED";
    expect(events(k, () => rtmsgIfinfo(k, d, 0))).toEqual(["rtnl RTM_NEWLINK eth0"]);
  });

  it("RT8: the snapshot should be taken at emission time", () => {
    const k = boot(E2);
    const [a] = veth(k, "a", "b");
    const rtm = rawEvents(k, () => rtmsgIfinfo(k, a, 0))[0] as RtnlEvent;
    a.mtu = 9000;
    expect(rtm.link.mtu).toBe(1500);
  });
});
