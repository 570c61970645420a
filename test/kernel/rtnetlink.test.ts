// Rules RT1–RT7 and RT9: the rtnetlink request path (permission, entry points, lookup, the
// rename condition, do_setlink order, the partial-failure log, errors, altnames).

import { describe, expect, it } from "vitest";
import {
  devOpen,
  err,
  IFF,
  NLM_F,
  rtnlDellink,
  rtnlDumpLinks,
  rtnlGetlink,
  rtnlLinkprop,
  rtnlNewlink,
  rtnlSetlink,
} from "../../src/kernel/index.ts";
import { boot, dev, E0, E1, E2, events, ifb, nic, traced, veth } from "../_helpers/kernel.ts";

const PARTIAL =
  "log A link change request failed with some changes committed already. Interface eth0 may have been left with an inconsistent configuration, please check.";

describe("rtnlNewlink / rtnlSetlink / rtnlDellink permission", () => {
  it("RT1: should return -EPERM without CAP_NET_ADMIN, with no events", () => {
    const k = boot(E2);
    const d = nic(k);
    const ev = events(k, () => {
      expect(
        rtnlNewlink(k, { ifindex: d.ifindex, attrs: { ifname: "x" }, capNetAdmin: false }).ret,
      ).toBe(err("EPERM"));
      expect(
        rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "x" }, capNetAdmin: false }).ret,
      ).toBe(err("EPERM"));
      expect(rtnlDellink(k, { ifindex: d.ifindex, capNetAdmin: false }).ret).toBe(err("EPERM"));
      expect(
        rtnlNewlink(k, {
          ifindex: 0,
          nlFlags: NLM_F.CREATE,
          kind: "ifb",
          attrs: {},
          capNetAdmin: false,
        }).ret,
      ).toBe(err("EPERM"));
    });
    expect(ev).toEqual([]);
    expect(d.name).toBe("eth0");
  });
});

describe("rtnlNewlink", () => {
  it.each([E0, E1, E2])(
    "RT2 (%s): RTM_NEWLINK with flags 0, ifindex and IFLA_IFNAME should rename",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      const { ret, ev } = traced(k, () =>
        rtnlNewlink(k, { ifindex: d.ifindex, attrs: { ifname: "foo" } }),
      );
      expect(ret).toEqual({ ret: 0, extack: null });
      expect(ev).toEqual([
        "log foo: renamed from eth0",
        "uevent move foo",
        "notify NETDEV_CHANGENAME foo",
        "rtnl RTM_NEWLINK foo",
      ]);
    },
  );

  it("RT3: NLM_F_EXCL on an existing device should be -EEXIST, NLM_F_REPLACE -EOPNOTSUPP", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(rtnlNewlink(k, { ifindex: d.ifindex, nlFlags: NLM_F.EXCL, attrs: {} }).ret).toBe(
      err("EEXIST"),
    );
    expect(
      rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        attrs: { ifname: "eth0" },
      }).ret,
    ).toBe(err("EEXIST"));
    expect(rtnlNewlink(k, { ifindex: d.ifindex, nlFlags: NLM_F.REPLACE, attrs: {} }).ret).toBe(
      err("EOPNOTSUPP"),
    );
  });

  it("RT3: a missing device without NLM_F_CREATE should be -ENODEV", () => {
    const k = boot(E2);
    expect(rtnlNewlink(k, { ifindex: 99, attrs: {} }).ret).toBe(err("ENODEV"));
    expect(rtnlNewlink(k, { ifindex: 0, attrs: { ifname: "nope" } }).ret).toBe(err("ENODEV"));
  });

  it('RT3: an unknown kind should be -EOPNOTSUPP with "Unknown device type"', () => {
    const k = boot(E2);
    expect(
      rtnlNewlink(k, { ifindex: 0, nlFlags: NLM_F.CREATE, kind: "nosuchkind", attrs: {} }),
    ).toEqual({
      ret: err("EOPNOTSUPP"),
      extack: "Unknown device type",
    });
  });

  it("RT3: a create with a name in use should be -EEXIST and use no ifindex (OBSERVATIONS)", () => {
    const k = boot(E2);
    expect(
      rtnlNewlink(k, {
        ifindex: 0,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        attrs: { ifname: "lo" },
      }).ret,
    ).toBe(err("EEXIST"));
    expect(ifb(k).ifindex).toBe(2);
  });

  it("RT3: NLM_F_CREATE with ifi_index N should create index N without moving the auto counter (OBSERVATIONS [10])", () => {
    const k = boot(E2);
    const create = (ifindex: number, name: string) =>
      rtnlNewlink(k, {
        ifindex,
        nlFlags: NLM_F.CREATE | NLM_F.EXCL,
        kind: "ifb",
        attrs: { ifname: name },
      }).ret;
    expect(create(100, "a")).toBe(0);
    expect(create(50, "b")).toBe(0);
    expect(dev(k, "a").ifindex).toBe(100);
    expect(dev(k, "b").ifindex).toBe(50);
    expect(create(1, "c")).toBe(err("EEXIST"));
    expect(ifb(k).ifindex).toBe(2);
  });

  it("RT4: a device found by name should not be renamed (IFLA_IFNAME is the key)", () => {
    const k = boot(E2);
    const d = nic(k);
    const { ret, ev } = traced(k, () =>
      rtnlNewlink(k, {
        ifindex: 0,
        attrs: { ifname: "eth0" },
        ifiFlags: IFF.UP,
        ifiChange: IFF.UP,
      }),
    );
    expect(ret.ret).toBe(0);
    expect(ev.some((e) => e.includes("CHANGENAME"))).toBe(false);
    expect(d.flags & IFF.UP).toBe(IFF.UP);
  });
});

describe("rtnlSetlink", () => {
  it("RT2: RTM_SETLINK with ifindex and IFLA_IFNAME should rename", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "foo" } }).ret).toBe(0);
    expect(d.name).toBe("foo");
  });

  it("RT3: lookup by a missing index or name should be -ENODEV, neither -EINVAL", () => {
    const k = boot(E2);
    expect(rtnlSetlink(k, { ifindex: 42, attrs: {} }).ret).toBe(err("ENODEV"));
    expect(rtnlSetlink(k, { ifindex: 0, attrs: { ifname: "nope" } }).ret).toBe(err("ENODEV"));
    expect(rtnlSetlink(k, { ifindex: 0, attrs: {} }).ret).toBe(err("EINVAL"));
  });

  it("RT3 (v5.5+): IFLA_IFNAME should resolve an altname", () => {
    const k = boot(E1);
    const d = nic(k);
    expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "alt0" }).ret).toBe(0);
    expect(rtnlSetlink(k, { ifindex: 0, attrs: { ifname: "alt0", mtu: 1400 } }).ret).toBe(0);
    expect(d.mtu).toBe(1400);
  });

  it("RT4: a rename should need ifindex > 0 even through RTM_SETLINK", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(rtnlSetlink(k, { ifindex: 0, attrs: { ifname: "eth0", mtu: 1400 } }).ret).toBe(0);
    expect(d.name).toBe("eth0");
  });

  it('RT5 (E0): "name X up" on an UP device should fail at the name step with -EBUSY', () => {
    const k = boot(E0);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    const { ret, ev } = traced(k, () =>
      rtnlSetlink(k, {
        ifindex: d.ifindex,
        attrs: { ifname: "ens4" },
        ifiFlags: IFF.UP,
        ifiChange: IFF.UP,
      }),
    );
    expect(ret.ret).toBe(err("EBUSY"));
    expect(ev).toEqual([]);
  });

  it('RT5 (E0): "down name X" on an UP device should still rename first and fail -EBUSY, staying UP', () => {
    const k = boot(E0);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    const { ret, ev } = traced(k, () =>
      rtnlSetlink(k, {
        ifindex: d.ifindex,
        attrs: { ifname: "ens4" },
        ifiFlags: 0,
        ifiChange: IFF.UP,
      }),
    );
    expect(ret.ret).toBe(err("EBUSY"));
    expect(ev).toEqual([]);
    expect(d.flags & IFF.UP).toBe(IFF.UP);
  });

  it('RT5: "name X up" on a DOWN device should rename before the up records (OBSERVATIONS [06a])', () => {
    const k = boot(E2);
    const d = nic(k);
    const ev = events(k, () =>
      rtnlSetlink(k, {
        ifindex: d.ifindex,
        attrs: { ifname: "baz" },
        ifiFlags: IFF.UP,
        ifiChange: IFF.UP,
      }),
    );
    expect(ev).toEqual([
      "log baz: renamed from eth0",
      "uevent move baz",
      "notify NETDEV_CHANGENAME baz",
      "rtnl RTM_NEWLINK baz",
      "notify NETDEV_PRE_UP baz",
      "rtnl RTM_NEWLINK baz",
      "notify NETDEV_UP baz",
    ]);
  });

  it('RT5: "mtu 1400 name m1" should set the MTU (old name) before the rename (OBSERVATIONS [06b])', () => {
    const k = boot(E2);
    const d = nic(k);
    const ev = events(k, () =>
      rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "m1", mtu: 1400 } }),
    );
    expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual([
      "rtnl RTM_NEWLINK eth0",
      "rtnl RTM_NEWLINK m1",
    ]);
  });

  it("RT5: the address step should come before the MTU step", () => {
    const k = boot(E2);
    const d = nic(k);
    const ev = events(k, () =>
      rtnlSetlink(k, { ifindex: d.ifindex, attrs: { address: "02:00:00:00:00:99", mtu: 1400 } }),
    );
    expect(ev.filter((e) => e.startsWith("notify"))).toEqual([
      "notify NETDEV_PRE_CHANGEADDR eth0",
      "notify NETDEV_CHANGEADDR eth0",
      "notify NETDEV_PRECHANGEMTU eth0",
      "notify NETDEV_CHANGEMTU eth0",
    ]);
  });

  it("RT6: a failure after a committed change should log the partial-failure warning", () => {
    const k = boot(E0);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    const { ret, ev } = traced(k, () =>
      rtnlSetlink(k, { ifindex: d.ifindex, attrs: { mtu: 1400, ifname: "foo" } }),
    );
    expect(ret.ret).toBe(err("EBUSY"));
    expect(d.mtu).toBe(1400);
    expect(ev.at(-1)).toBe(PARTIAL);
  });

  it("RT6: a failure at the first step should not log it", () => {
    const k = boot(E2);
    const d = nic(k);
    nic(k);
    const ev = events(k, () => rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "eth1" } }));
    expect(ev).toEqual([]);
  });

  it("RT6: a plain rename should add no message beyond R10's", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    const ev = events(k, () => rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "foo" } }));
    expect(ev.filter((e) => e.startsWith("rtnl") || e.startsWith("notify"))).toEqual([
      "notify NETDEV_CHANGENAME foo",
      "rtnl RTM_NEWLINK foo",
    ]);
  });

  it.each([
    ["a:b", "EINVAL"],
    [".", "EINVAL"],
    ["x%d%d", "EINVAL"],
    ["x%s", "EINVAL"],
    ["a%b", "EINVAL"],
    ["lo", "EEXIST"],
  ] as const)("RT7: renaming to %j should return -%s (OBSERVATIONS [06a])", (name, e) => {
    const k = boot(E2);
    const d = nic(k);
    expect(rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: name } }).ret).toBe(err(e));
  });

  it("RT7: the error should be the first failing step's (MTU before name)", () => {
    const k = boot(E2);
    const d = nic(k);
    const r = rtnlSetlink(k, { ifindex: d.ifindex, attrs: { mtu: 67, ifname: "a:b" } });
    expect(r).toEqual({ ret: err("EINVAL"), extack: "mtu less than device minimum" });
    expect(d.name).toBe("eth0");
  });

  it("RT7: renaming an UP veth or ifb should succeed on 6.18 (OBSERVATIONS [06a])", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "veth0", "veth1");
    const i = ifb(k, "ifb0");
    for (const d of [a, b, i]) expect(devOpen(k, d)).toBe(0);
    expect(rtnlSetlink(k, { ifindex: a.ifindex, attrs: { ifname: "foo" } }).ret).toBe(0);
    expect(rtnlSetlink(k, { ifindex: i.ifindex, attrs: { ifname: "bar" } }).ret).toBe(0);
  });

  it("RT7: renaming an UP veth on 6.1 should be -EBUSY", () => {
    const k = boot(E1);
    const [a] = veth(k, "veth0", "veth1");
    expect(devOpen(k, a)).toBe(0);
    expect(rtnlSetlink(k, { ifindex: a.ifindex, attrs: { ifname: "foo" } }).ret).toBe(err("EBUSY"));
  });
});

describe("rtnlDellink", () => {
  it("should return -EOPNOTSUPP for lo and -ENODEV for a missing device", () => {
    const k = boot(E2);
    expect(rtnlDellink(k, { ifindex: 1 }).ret).toBe(err("EOPNOTSUPP"));
    expect(rtnlDellink(k, { ifindex: 0, ifname: "nope" }).ret).toBe(err("ENODEV"));
    expect(rtnlDellink(k, { ifindex: 0 }).ret).toBe(err("EINVAL"));
  });

  it("should delete a veth and its peer, the named device first (OBSERVATIONS [06d])", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "veth0", "veth1");
    expect(devOpen(k, a)).toBe(0);
    expect(devOpen(k, b)).toBe(0);
    const ev = events(k, () => expect(rtnlDellink(k, { ifindex: 0, ifname: "veth0" }).ret).toBe(0));
    expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual([
      "rtnl RTM_NEWLINK veth0",
      "rtnl RTM_NEWLINK veth1",
      "rtnl RTM_DELLINK veth0",
      "rtnl RTM_DELLINK veth1",
    ]);
    expect(k.state.devices.size).toBe(1);
  });
});

describe("rtnlGetlink / rtnlDumpLinks", () => {
  it("should return snapshots by index or name and dump in ifindex order", () => {
    const k = boot(E2);
    veth(k, "veth0", "veth1");
    expect(rtnlGetlink(k, { ifindex: 0, ifname: "veth0" })).toMatchObject({ ifindex: 3, link: 2 });
    expect(rtnlGetlink(k, { ifindex: 7 })).toBe(err("ENODEV"));
    expect(rtnlDumpLinks(k).map((l) => l.ifname)).toEqual(["lo", "veth1", "veth0"]);
  });
});

describe("rtnlLinkprop", () => {
  it("RT9: should be -EOPNOTSUPP before v5.5", () => {
    const k = boot(E0);
    expect(rtnlLinkprop(k, { op: "add", ifindex: 1, altname: "x" }).ret).toBe(err("EOPNOTSUPP"));
    expect(
      boot("5.4") && rtnlLinkprop(boot("5.4"), { op: "add", ifindex: 1, altname: "x" }).ret,
    ).toBe(err("EOPNOTSUPP"));
  });

  it.each(["5.5", E1, E2])(
    "RT9 (%s): adding a name in use (primary or altname) should be -EEXIST",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "alt0" }).ret).toBe(0);
      expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "alt0" }).ret).toBe(
        err("EEXIST"),
      );
      expect(rtnlLinkprop(k, { op: "add", ifindex: 1, altname: "alt0" }).ret).toBe(err("EEXIST"));
      expect(rtnlLinkprop(k, { op: "add", ifindex: 1, altname: "eth0" }).ret).toBe(err("EEXIST"));
    },
  );

  it("RT9: altnames should not be validated with V1 (only length < 128, by netlink policy)", () => {
    const k = boot(E2);
    const d = nic(k);
    for (const a of ["a:b", "x%d", ".", "with space", "a".repeat(127)]) {
      expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: a }).ret, a).toBe(0);
    }
    // ifla_policy[IFLA_ALT_IFNAME] (NLA_STRING, len 127): -ERANGE with the policy extack,
    // measured on 6.18 ("Error: Attribute failed policy validation.").
    expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "b".repeat(128) })).toEqual({
      ret: err("ERANGE"),
      extack: "Attribute failed policy validation",
    });
    expect(dev(k, "x%d")).toBe(d);
  });

  it("RT9: deleting should be -ENOENT when unknown, -EINVAL for the primary name or another's altname", () => {
    const k = boot(E2);
    const d = nic(k);
    const o = nic(k);
    expect(rtnlLinkprop(k, { op: "add", ifindex: o.ifindex, altname: "theirs" }).ret).toBe(0);
    expect(rtnlLinkprop(k, { op: "del", ifindex: d.ifindex, altname: "nope" }).ret).toBe(
      err("ENOENT"),
    );
    expect(rtnlLinkprop(k, { op: "del", ifindex: d.ifindex, altname: "eth0" }).ret).toBe(
      err("EINVAL"),
    );
    expect(rtnlLinkprop(k, { op: "del", ifindex: d.ifindex, altname: "theirs" }).ret).toBe(
      err("EINVAL"),
    );
    expect(rtnlLinkprop(k, { op: "del", ifindex: o.ifindex, altname: "theirs" }).ret).toBe(0);
    expect(k.state.names.has("theirs")).toBe(false);
  });

  it("RT9: a change should emit NETDEV_CHANGE + RTM_NEWLINK only when the device is UP", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(
      events(k, () => rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "a1" })),
    ).toEqual([]);
    expect(devOpen(k, d)).toBe(0);
    expect(
      events(k, () => rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "a2" })),
    ).toEqual(["notify NETDEV_CHANGE eth0", "rtnl RTM_NEWLINK eth0"]);
    expect(
      events(k, () => rtnlLinkprop(k, { op: "del", ifindex: d.ifindex, altname: "a1" })),
    ).toEqual(["notify NETDEV_CHANGE eth0", "rtnl RTM_NEWLINK eth0"]);
  });

  it("RT9: a rename to the device's own altname should be -EEXIST; deleting it first allows it (udev)", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "ens4" }).ret).toBe(0);
    expect(rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "ens4" } }).ret).toBe(
      err("EEXIST"),
    );
    expect(rtnlLinkprop(k, { op: "del", ifindex: d.ifindex, altname: "ens4" }).ret).toBe(0);
    expect(rtnlSetlink(k, { ifindex: d.ifindex, attrs: { ifname: "ens4" } }).ret).toBe(0);
  });

  it("RT9: a device should be selectable by altname", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(rtnlLinkprop(k, { op: "add", ifindex: d.ifindex, altname: "alt0" }).ret).toBe(0);
    expect(rtnlLinkprop(k, { op: "add", ifindex: 0, ifname: "alt0", altname: "alt1" }).ret).toBe(0);
    expect(d.altnames).toEqual(["alt0", "alt1"]);
  });
});
