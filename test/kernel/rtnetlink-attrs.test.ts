// do_setlink / rtnl_create_link attributes beyond the rename path: IFLA_TXQLEN, IFLA_BROADCAST,
// queue counts, the IFLA_IFNAME policy, flags on create, and several altnames in one request.

import { describe, expect, it } from "vitest";
import {
  devChangeTxQueueLen,
  err,
  IFF,
  NLM_F,
  rtnlLinkprop,
  rtnlNewlink,
  rtnlSetlink,
} from "../../src/kernel/index.ts";
import {
  addRecorder,
  boot,
  dev,
  E2,
  events,
  ifb,
  nic,
  traced,
  vetoOn,
} from "../_helpers/kernel.ts";

describe("devChangeTxQueueLen", () => {
  it("should set the length and emit CHANGE_TX_QUEUE_LEN → RTM_NEWLINK once", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    const { ret, ev } = traced(k, () => devChangeTxQueueLen(k, d, 500));
    expect(ret).toBe(0);
    expect(d.txQueueLen).toBe(500);
    expect(ev).toEqual(["notify NETDEV_CHANGE_TX_QUEUE_LEN ifb0", "rtnl RTM_NEWLINK ifb0"]);
  });

  it("should do nothing when the length does not change", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    expect(events(k, () => expect(devChangeTxQueueLen(k, d, 32)).toBe(0))).toEqual([]);
  });

  it("should return -ERANGE for a value that is not a u32", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    expect(devChangeTxQueueLen(k, d, 2 ** 32)).toBe(err("ERANGE"));
    expect(d.txQueueLen).toBe(32);
  });

  it("should restore the old length and log when a listener vetoes", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    addRecorder(k).veto = vetoOn("NETDEV_CHANGE_TX_QUEUE_LEN", err("EPERM"));
    const { ret, ev } = traced(k, () => devChangeTxQueueLen(k, d, 7));
    expect(ret).toBe(err("EPERM"));
    expect(d.txQueueLen).toBe(32);
    expect(ev).toContain("log ifb0: refused to change device tx_queue_len");
  });
});

describe("rtnlSetlink attributes", () => {
  it("RT5: should apply IFLA_BROADCAST after the name and emit NETDEV_CHANGEADDR", () => {
    const k = boot(E2);
    const d = nic(k);
    const { ret, ev } = traced(k, () =>
      rtnlSetlink(k, {
        ifindex: d.ifindex,
        attrs: { ifname: "x", broadcast: "ff:ff:ff:ff:ff:fe" },
      }),
    );
    expect(ret.ret).toBe(0);
    expect(d.broadcast).toBe("ff:ff:ff:ff:ff:fe");
    expect(ev.filter((e) => e.startsWith("notify NETDEV_CHANGE"))).toEqual([
      "notify NETDEV_CHANGENAME x",
      "notify NETDEV_CHANGEADDR x",
    ]);
  });

  it("RT5: should apply IFLA_TXQLEN after the flags", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    const ev = events(k, () =>
      rtnlSetlink(k, {
        ifindex: d.ifindex,
        ifiFlags: IFF.UP,
        ifiChange: IFF.UP,
        attrs: { txqlen: 0 },
      }),
    );
    expect(d.txQueueLen).toBe(0);
    expect(ev.indexOf("notify NETDEV_UP ifb0")).toBeLessThan(
      ev.indexOf("notify NETDEV_CHANGE_TX_QUEUE_LEN ifb0"),
    );
  });

  it("should refuse an IFLA_IFNAME over 15 bytes with -ERANGE (netlink policy), unchanged", () => {
    const k = boot(E2);
    const d = nic(k);
    const r = rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "0123456789abcdef" } });
    expect(r).toEqual({ ret: err("ERANGE"), extack: "Attribute failed policy validation" });
    expect(d.name).toBe("eth0");
  });
});

describe("rtnlNewlink create attributes", () => {
  it("should reject numtxqueues 0 with the kernel's extack, creating nothing", () => {
    const k = boot(E2);
    const ev = events(k, () => {
      const r = rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        attrs: { ifname: "q", numTxQueues: 0 },
      });
      expect(r).toEqual({ ret: err("EINVAL"), extack: "Invalid number of transmit queues" });
    });
    expect(ev).toEqual([]);
  });

  it("should attach mq on first up for a multiqueue ifb and noqueue for txqueuelen 0", () => {
    const k = boot(E2);
    const mk = (name: string, attrs: object) =>
      rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        attrs: { ifname: name, ...attrs },
      });
    expect(mk("m", { numTxQueues: 3 }).ret).toBe(0);
    expect(mk("z", { txqlen: 0 }).ret).toBe(0);
    for (const n of ["m", "z"]) {
      rtnlSetlink(k, {
        ifindex: dev(k, n).ifindex,
        ifiFlags: IFF.UP,
        ifiChange: IFF.UP,
        attrs: {},
      });
    }
    expect(dev(k, "m").qdisc).toBe("mq");
    expect(dev(k, "z").qdisc).toBe("noqueue");
  });

  it("should create the device UP when the request carries IFF_UP (rtnl_configure_link)", () => {
    const k = boot(E2);
    const ev = events(k, () =>
      rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        ifiFlags: IFF.UP,
        ifiChange: IFF.UP,
        attrs: { ifname: "u" },
      }),
    );
    expect(dev(k, "u").flags & IFF.UP).toBe(IFF.UP);
    expect(ev.slice(-3)).toEqual([
      "notify NETDEV_PRE_UP u",
      "rtnl RTM_NEWLINK u",
      "notify NETDEV_UP u",
    ]);
  });

  it("should give a veth peer its requested index only when the device has one too", () => {
    const k = boot(E2);
    const add = (ifindex: number, a: string, b: string) =>
      rtnlNewlink(k, {
        ifindex,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "veth",
        attrs: { ifname: a },
        peer: { ifname: b },
        peerIfindex: 50,
      });
    expect(add(100, "w", "ww").ret).toBe(0);
    expect([dev(k, "w").ifindex, dev(k, "ww").ifindex]).toEqual([100, 50]);
    expect(add(0, "v", "vv").ret).toBe(0);
    expect(dev(k, "vv").ifindex).not.toBe(50);
  });
});

describe("rtnlLinkprop with several altnames", () => {
  it("RT9: should add all names and send one RTM_NEWLINK for an UP device", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    rtnlSetlink(k, { ifindex: d.ifindex, ifiFlags: IFF.UP, ifiChange: IFF.UP, attrs: {} });
    const { ret, ev } = traced(k, () =>
      rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: ["a1", "a2"] }),
    );
    expect(ret.ret).toBe(0);
    expect(d.altnames).toEqual(["a1", "a2"]);
    expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual(["rtnl RTM_NEWLINK ifb0"]);
  });

  it("RT9: should stop at the first error, keep the names before it, and not notify", () => {
    const k = boot(E2);
    const d = ifb(k, "ifb0");
    rtnlSetlink(k, { ifindex: d.ifindex, ifiFlags: IFF.UP, ifiChange: IFF.UP, attrs: {} });
    const { ret, ev } = traced(k, () =>
      rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: ["a1", "lo", "a3"] }),
    );
    expect(ret.ret).toBe(err("EEXIST"));
    expect(d.altnames).toEqual(["a1"]);
    // rtnl_linkprop() returns the error before netdev_state_change (since v5.5; measured on
    // 6.18: no RTM_NEWLINK, the first name stays).
    expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual([]);
  });
});
