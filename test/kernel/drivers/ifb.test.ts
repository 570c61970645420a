// drivers/net/ifb.c as measured on 6.18 (OBSERVATIONS [05], [14], [15]).

import { describe, expect, it } from "vitest";
import {
  devOpen,
  err,
  IF_OPER,
  IFF,
  NLM_F,
  rtnlDellink,
  rtnlFillIfinfo,
  rtnlNewlink,
  rtnlSetlink,
} from "../../../src/kernel/index.ts";
import { boot, E2, events, ifb, settle } from "../../_helpers/kernel.ts";

describe("IFB_LINK_OPS", () => {
  it("should name devices ifb%d with BROADCAST|NOARP, qlen 32, min/max MTU 0", () => {
    const k = boot(E2);
    const d = ifb(k);
    expect(d.name).toBe("ifb0");
    expect(d.flags).toBe(IFF.BROADCAST | IFF.NOARP);
    expect([d.txQueueLen, d.minMtu, d.maxMtu, d.qdisc]).toEqual([32, 0, 0, "noop"]);
  });

  it("should come up with carrier on, operstate UNKNOWN and pfifo_fast", () => {
    const k = boot(E2);
    const d = ifb(k);
    expect(devOpen(k, d)).toBe(0);
    settle(k);
    expect(rtnlFillIfinfo(k, d)).toMatchObject({ operstate: IF_OPER.UNKNOWN, qdisc: "pfifo_fast" });
  });

  it("should refuse any address change with -EOPNOTSUPP and accept any MTU", () => {
    const k = boot(E2);
    const d = ifb(k);
    expect(
      rtnlSetlink(k, { ifindex: d.ifindex, attrs: { address: "02:00:00:00:00:01" } }).ret,
    ).toBe(err("EOPNOTSUPP"));
    for (const mtu of [0, 67, 65536, 70000]) {
      expect(rtnlSetlink(k, { ifindex: d.ifindex, attrs: { mtu } }).ret, String(mtu)).toBe(0);
    }
  });

  it("should reject a multicast address at create time with -EADDRNOTAVAIL", () => {
    const k = boot(E2);
    expect(
      rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE,
        kind: "ifb",
        attrs: { address: "01:00:00:00:00:00" },
      }).ret,
    ).toBe(err("EADDRNOTAVAIL"));
  });
});

describe("rtnlDellink of an ifb", () => {
  it("should delete it with the default dellink (OBSERVATIONS [12]: down record, then Deleted)", () => {
    const k = boot(E2);
    const d = ifb(k, "x");
    expect(devOpen(k, d)).toBe(0);
    const ev = events(k, () => expect(rtnlDellink(k, { ifindex: 0, ifname: "x" }).ret).toBe(0));
    expect(ev).toEqual([
      "notify NETDEV_GOING_DOWN x",
      "rtnl RTM_NEWLINK x",
      "notify NETDEV_DOWN x",
      "notify NETDEV_UNREGISTER x",
      "rtnl RTM_DELLINK x",
      "uevent remove x",
    ]);
    expect(k.state.devices.has(d.ifindex)).toBe(false);
  });
});
