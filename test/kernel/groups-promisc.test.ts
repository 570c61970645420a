// Device groups (IFLA_GROUP; changes and deletes by group) and promiscuous / all-multicast mode
// counted per user (dev->gflags, promiscuity, allmulti), as measured on the 6.18 host.

import { describe, expect, it } from "vitest";
import {
  devChangeFlags,
  err,
  IFF,
  rtnlDellink,
  rtnlNewlink,
  rtnlSetlink,
} from "../../src/kernel/index.ts";
import { boot, E2, events, veth } from "../_helpers/kernel.ts";

function logs(k: ReturnType<typeof boot>, fn: () => unknown): string[] {
  const from = k.trace.length;
  fn();
  return k.trace
    .since(from)
    .filter((e) => e.type === "kernel.log")
    .map((e) => (e as { text: string }).text);
}

describe("device groups", () => {
  it("should set a group on creation and with do_setlink, announcing it only while UP", () => {
    const k = boot(E2);
    const [a] = veth(k, "p0", "p1");
    expect(events(k, () => rtnlSetlink(k, { ifindex: a.ifindex, attrs: { group: 7 } }))).toEqual(
      [],
    );
    expect(a.group).toBe(7);
    rtnlSetlink(k, { ifindex: a.ifindex, ifiFlags: IFF.UP, ifiChange: IFF.UP, attrs: {} });
    expect(events(k, () => rtnlSetlink(k, { ifindex: a.ifindex, attrs: { group: 8 } }))).toEqual([
      "notify NETDEV_CHANGE p0",
      "rtnl RTM_NEWLINK p0",
    ]);
  });

  it("should apply a request by group to every member, and to none when the group is empty", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "p0", "p1");
    const [c] = veth(k, "p2", "p3");
    for (const d of [a, c]) rtnlSetlink(k, { ifindex: d.ifindex, attrs: { group: 5 } });
    const r = rtnlNewlink(k, { ifindex: 0, nlFlags: 0, attrs: { group: 5, mtu: 1400 } });
    expect(r.ret).toBe(0);
    expect([a.mtu, b.mtu, c.mtu]).toEqual([1400, 1500, 1400]);
    expect(rtnlNewlink(k, { ifindex: 0, nlFlags: 0, attrs: { group: 9, mtu: 1400 } }).ret).toBe(0);
    // The first failing member ends the request.
    expect(rtnlNewlink(k, { ifindex: 0, nlFlags: 0, attrs: { group: 5, mtu: 1 } }).ret).toBe(
      err("EINVAL"),
    );
  });

  it("should delete a group with the peers of its veths, and refuse groups it cannot delete", () => {
    const k = boot(E2);
    const [a] = veth(k, "p0", "p1");
    const [c, d] = veth(k, "p2", "p3");
    for (const x of [a, c, d]) rtnlSetlink(k, { ifindex: x.ifindex, attrs: { group: 5 } });
    expect(rtnlDellink(k, { ifindex: 0, group: 0 }).ret).toBe(err("EPERM"));
    expect(rtnlDellink(k, { ifindex: 0, group: 9 }).ret).toBe(err("ENODEV"));
    const lo = k.state.devices.get(1);
    if (!lo) throw new Error("no lo");
    rtnlSetlink(k, { ifindex: 1, attrs: { group: 6 } });
    expect(rtnlDellink(k, { ifindex: 0, group: 6 }).ret).toBe(err("EOPNOTSUPP"));
    const ev = events(k, () => rtnlDellink(k, { ifindex: 0, group: 5 }));
    // Measured order: p0 with its peer p1, then p3 with its peer p2 (p2 moves to the tail).
    expect(ev.filter((e) => e.startsWith("rtnl RTM_DELLINK"))).toEqual([
      "rtnl RTM_DELLINK p0",
      "rtnl RTM_DELLINK p1",
      "rtnl RTM_DELLINK p3",
      "rtnl RTM_DELLINK p2",
    ]);
    expect([...k.state.devices.values()].map((x) => x.name)).toEqual(["lo"]);
  });
});

describe("promiscuous and all-multicast mode", () => {
  it("should count a user's request once, log the change and send one record (6.18)", () => {
    const k = boot(E2);
    const [a] = veth(k, "p0", "p1");
    const on = a.flags | IFF.PROMISC;
    expect(logs(k, () => devChangeFlags(k, a, on))).toEqual(["p0: entered promiscuous mode"]);
    expect([a.promiscuity, a.gflags & IFF.PROMISC, a.flags & IFF.PROMISC]).toEqual([
      1,
      IFF.PROMISC,
      IFF.PROMISC,
    ]);
    // Asking again changes nothing and says nothing.
    expect(events(k, () => devChangeFlags(k, a, on))).toEqual([]);
    expect(a.promiscuity).toBe(1);
    expect(logs(k, () => devChangeFlags(k, a, (a.flags & ~IFF.PROMISC) | IFF.ALLMULTI))).toEqual([
      "p0: left promiscuous mode",
      "p0: entered allmulticast mode",
    ]);
    expect([a.promiscuity, a.allmulti]).toEqual([0, 1]);
  });

  it("should log with pr_info and not log all-multicast before 5.16", () => {
    const k = boot("5.15");
    const [a] = veth(k, "p0", "p1");
    expect(logs(k, () => devChangeFlags(k, a, a.flags | IFF.PROMISC | IFF.ALLMULTI))).toEqual([
      "device p0 entered promiscuous mode",
    ]);
  });
});
