// drivers/net/veth.c as measured on 6.18 (OBSERVATIONS): peer first, carrier coupling, iflink.

import { describe, expect, it } from "vitest";
import {
  devClose,
  devOpen,
  err,
  IF_OPER,
  IFF,
  NET_NAME,
  NLM_F,
  privOf,
  type RtnlEvent,
  rtnlFillIfinfo,
  rtnlNewlink,
} from "../../../src/kernel/index.ts";
import { boot, E0, E2, events, rawEvents, settle, veth } from "../../_helpers/kernel.ts";

const CREATE = NLM_F.CREATE | NLM_F.EXCL;

describe("VETH_LINK_OPS.newlink", () => {
  it("should register the peer first with the lower ifindex", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "veth0", "veth1");
    expect([b.ifindex, a.ifindex]).toEqual([2, 3]);
    expect([a.nameAssignType, b.nameAssignType]).toEqual([NET_NAME.USER, NET_NAME.USER]);
  });

  it("should allocate veth%d for the peer first when no names are given", () => {
    const k = boot(E2);
    const [a, b] = veth(k);
    expect([b.name, a.name]).toEqual(["veth0", "veth1"]);
    expect(a.nameAssignType).toBe(NET_NAME.ENUM);
  });

  it("should announce the peer unpaired (IFLA_LINK 0, @NONE) and the main device paired", () => {
    const k = boot(E2);
    const rtm = rawEvents(k, () => veth(k, "veth0", "veth1")).filter(
      (e): e is RtnlEvent => e.type === "kernel.rtnl",
    );
    expect(rtm.map((e) => [e.link.ifname, e.link.link, e.change])).toEqual([
      ["veth1", 0, 0xffffffff],
      ["veth0", 2, 0xffffffff],
    ]);
    expect(rtnlFillIfinfo(k, k.state.devices.get(3) as never).link).toBe(2);
  });

  it("should leave both ends down with the carrier off and one carrier-down count each", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "a", "b");
    for (const d of [a, b]) {
      expect(d.carrier).toBe(false);
      expect(d.carrierDownCount).toBe(1);
      expect(d.flags & IFF.UP).toBe(0);
      expect(d.numTxQueues).toBe(2);
    }
  });

  it("should fail -EEXIST with no index used when the peer name exists", () => {
    const k = boot(E2);
    const ev = events(k, () =>
      expect(
        rtnlNewlink(k, {
          ifindex: 0,
          nlFlags: CREATE,
          kind: "veth",
          attrs: { ifname: "x" },
          peer: { ifname: "lo" },
        }).ret,
      ).toBe(err("EEXIST")),
    );
    expect(ev).toEqual([]);
    expect(veth(k, "p", "q")[1].ifindex).toBe(2);
  });

  it("should use up the peer's index when the main device then fails (zz/zz)", () => {
    const k = boot(E2);
    const ev = events(k, () =>
      expect(
        rtnlNewlink(k, {
          ifindex: 0,
          nlFlags: CREATE,
          kind: "veth",
          attrs: { ifname: "zz" },
          peer: { ifname: "zz" },
        }).ret,
      ).toBe(err("EEXIST")),
    );
    expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual([
      "rtnl RTM_NEWLINK zz",
      "rtnl RTM_DELLINK zz",
    ]);
    expect(veth(k, "p", "q")[1].ifindex).toBe(3);
  });

  it("should reject a multicast address with -EADDRNOTAVAIL and an MTU out of range with -EINVAL", () => {
    const k = boot(E2);
    expect(
      rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: CREATE,
        kind: "veth",
        attrs: { address: "01:00:5e:00:00:01" },
      }).ret,
    ).toBe(err("EADDRNOTAVAIL"));
    expect(
      rtnlNewlink(k, { ifindex: 0, nlFlags: CREATE, kind: "veth", attrs: { mtu: 67 } }).ret,
    ).toBe(err("EINVAL"));
  });
});

describe("VETH_DRIVER", () => {
  it("should turn the carrier of both ends on only when the peer is up", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "a", "b");
    expect(devOpen(k, a)).toBe(0);
    expect([a.carrier, b.carrier]).toEqual([false, false]);
    expect(devOpen(k, b)).toBe(0);
    expect([a.carrier, b.carrier]).toEqual([true, true]);
    settle(k);
    expect([a.operstate, b.operstate]).toEqual([IF_OPER.UP, IF_OPER.UP]);
    devClose(k, a);
    expect([a.carrier, b.carrier]).toEqual([false, false]);
  });

  it.each([E0, E2])(
    "(%s) closing one end should give its record, then the peer's after linkwatch",
    (v) => {
      const k = boot(v);
      const [a, b] = veth(k, "a", "b");
      expect(devOpen(k, a)).toBe(0);
      expect(devOpen(k, b)).toBe(0);
      settle(k);
      const ev = events(k, () => {
        devClose(k, a);
        settle(k);
      });
      expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual([
        "rtnl RTM_NEWLINK a",
        "rtnl RTM_NEWLINK b",
      ]);
      expect(b.operstate).toBe(IF_OPER.LOWERLAYERDOWN);
    },
  );

  it("should give -ENOTCONN when opening an end without a peer", () => {
    const k = boot(E2);
    const [a] = veth(k, "a", "b");
    privOf(a).peer = null;
    expect(devOpen(k, a)).toBe(err("ENOTCONN"));
  });
});
