// Rules V1–V3 (names), R1–R13 (rename), O1–O3 (open/close/flags), G1–G3 (register /
// unregister) and U1–U3 (links, rx handlers) of net/core/dev.c, per era.

import { describe, expect, it } from "vitest";
import {
  allocNetdev,
  devAllocNameCore,
  devChangeFlags,
  devChangeName,
  devClose,
  devGetByIndex,
  devGetByName,
  devGetValidName,
  devOpen,
  devValidName,
  err,
  IFF,
  IFF_PRIV,
  type Kernel,
  NET_NAME,
  type NetDevice,
  netdevMasterUpperDevGet,
  netdevMasterUpperDevLink,
  netdevNameNodeAltCreate,
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netdevUpperDevLink,
  netdevUpperDevUnlink,
  notifierFromErrno,
  type RtnlEvent,
  registerNetdev,
  registerNetdevice,
  rtmsgIfinfo,
  unregisterNetdevice,
} from "../../src/kernel/index.ts";
import {
  addRecorder,
  boot,
  E0,
  E1,
  E2,
  events,
  nic,
  rawEvents,
  traced,
  veth,
  vetoOn,
} from "../_helpers/kernel.ts";

const PCI = {
  id: "0000:00:04.0",
  bus: "pci",
  driver: "e1000e",
  devpath: "/devices/pci0000:00/0000:00:04.0",
};

function upNic(k: Kernel, name?: string): NetDevice {
  const d = nic(k, name !== undefined ? { name } : {});
  expect(devOpen(k, d)).toBe(0);
  return d;
}

// ─── V1 ──────────────────────────────────────────────────────────────────────────────────

describe("devValidName", () => {
  it.each([
    "a",
    "eth0",
    "0",
    "-x",
    "a.b",
    "a-b",
    "a_b",
    "a@b",
    "%",
    "x%d",
    "ä",
    "123456789012345",
    "äääääääa",
  ])("V1: should accept %j", (name) => {
    expect(devValidName(name)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["16 bytes", "1234567890123456"],
    ["16 bytes of UTF-8", "ääääääää"],
    ["dot", "."],
    ["dot dot", ".."],
    ["slash", "a/b"],
    ["colon", "a:b"],
    ["space", "a b"],
    ["tab", "a\tb"],
    ["newline", "a\nb"],
    ["vertical tab", "a\vb"],
    ["form feed", "a\fb"],
    ["carriage return", "a\rb"],
    ["a 0xA0 byte (NBSP)", "a\u00a0b"],
    ["a 0xA0 byte inside a UTF-8 sequence (à = C3 A0)", "à"],
  ])("V1: should reject %s", (_what, name) => {
    expect(devValidName(name)).toBe(false);
  });
});

// ─── V2 ──────────────────────────────────────────────────────────────────────────────────

describe("devAllocNameCore", () => {
  it("V2: should take the lowest free unit of a %d template", () => {
    const k = boot(E1);
    nic(k, { name: "veth0" });
    nic(k, { name: "veth1" });
    expect(devAllocNameCore(k, "veth%d")).toEqual({ unit: 2, name: "veth2" });
  });

  it("V2: should reuse a hole below the highest unit", () => {
    const k = boot(E1);
    nic(k, { name: "x0" });
    nic(k, { name: "x2" });
    expect(devAllocNameCore(k, "x%d")).toEqual({ unit: 1, name: "x1" });
  });

  it("V2: should honour a suffix after %d", () => {
    const k = boot(E2);
    nic(k, { name: "a0b" });
    expect(devAllocNameCore(k, "a%db")).toEqual({ unit: 1, name: "a1b" });
  });

  it("V2: should not mark a slot whose name does not print back exactly (x01, x+1)", () => {
    const k = boot(E2);
    nic(k, { name: "x0" });
    nic(k, { name: "x01" });
    nic(k, { name: "x+1" });
    expect(devAllocNameCore(k, "x%d")).toEqual({ unit: 1, name: "x1" });
  });

  it.each(["a%d%d", "a%s", "a%", "a%dx%", "%%d"])(
    "V2: should return -EINVAL for the template %j",
    (t) => {
      const k = boot(E2);
      expect(devAllocNameCore(k, t)).toEqual({ err: err("EINVAL") });
    },
  );

  it("V2: should return -EINVAL for a template that is not a valid name (V1)", () => {
    const k = boot(E2);
    expect(devAllocNameCore(k, "a/%d")).toEqual({ err: err("EINVAL") });
  });

  it("V2: should return -ENFILE when the truncated candidate name is taken", () => {
    // "abcdefghijklm%d" is 15 bytes; units 0..99 exist, unit 100 prints "abcdefghijklm100",
    // truncated to 15 bytes that is "abcdefghijklm10", which is unit 10's name.
    const k = boot(E2);
    for (let i = 0; i < 100; i++) nic(k, { name: `abcdefghijklm${i}` });
    expect(devAllocNameCore(k, "abcdefghijklm%d")).toEqual({ err: err("ENFILE") });
  });

  it("V2: a template without % should stand for itself (unit 0, -ENFILE when used)", () => {
    const k = boot(E2);
    expect(devAllocNameCore(k, "foo")).toEqual({ unit: 0, name: "foo" });
    nic(k, { name: "foo" });
    expect(devAllocNameCore(k, "foo")).toEqual({ err: err("ENFILE") });
  });

  it.each(["5.5", E1, "6.6"])(
    "V2 (%s, before ~6.7): altnames should not occupy slots, so a taken candidate gives -ENFILE",
    (v) => {
      const k = boot(v);
      nic(k, { name: "veth0" });
      nic(k, { name: "veth1" });
      expect(netdevNameNodeAltCreate(k, devGetByName(k, "lo") as NetDevice, "veth2")).toBe(0);
      expect(devAllocNameCore(k, "veth%d")).toEqual({ err: err("ENFILE") });
    },
  );

  it.each(["6.7", E2])("V2 (%s, ~6.7+): altnames should occupy slots too", (v) => {
    // Measured on 6.18: altname veth2 present → the next veth%d is veth3 (OBSERVATIONS, Names).
    const k = boot(v);
    nic(k, { name: "veth0" });
    nic(k, { name: "veth1" });
    expect(netdevNameNodeAltCreate(k, devGetByName(k, "lo") as NetDevice, "veth2")).toBe(0);
    expect(devAllocNameCore(k, "veth%d")).toEqual({ unit: 3, name: "veth3" });
  });
});

// ─── V3 ──────────────────────────────────────────────────────────────────────────────────

describe("devGetValidName", () => {
  it("V3: should return -EINVAL for an invalid name and leave dev.name", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devGetValidName(k, d, "a:b")).toBe(err("EINVAL"));
    expect(d.name).toBe("eth0");
  });

  it("V3: should return -EEXIST for a name in use", () => {
    const k = boot(E2);
    const d = nic(k);
    nic(k, { name: "foo" });
    expect(devGetValidName(k, d, "foo")).toBe(err("EEXIST"));
  });

  it.each(["5.5", E1, E2])("V3 (%s): should return -EEXIST for any altname, own or not", (v) => {
    const k = boot(v);
    const d = nic(k);
    const o = nic(k);
    expect(netdevNameNodeAltCreate(k, d, "mine")).toBe(0);
    expect(netdevNameNodeAltCreate(k, o, "theirs")).toBe(0);
    expect(devGetValidName(k, d, "mine")).toBe(err("EEXIST"));
    expect(devGetValidName(k, d, "theirs")).toBe(err("EEXIST"));
  });

  it.each([
    [E0, 1],
    [E1, 1],
    ["6.6", 1],
    ["6.7", 0],
    [E2, 0],
  ])("V3 (%s): a %%d template should store the name and return %i", (v, ret) => {
    const k = boot(v);
    nic(k, { name: "x0" });
    const d = nic(k);
    expect(devGetValidName(k, d, "x%d")).toBe(ret);
    expect(d.name).toBe("x1");
  });
});

// ─── R1–R13 ──────────────────────────────────────────────────────────────────────────────

describe("devChangeName", () => {
  it("R1 (E0): should return -EBUSY for an UP device, with no events", () => {
    const k = boot(E0);
    const d = upNic(k);
    const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
    expect(ret).toBe(err("EBUSY"));
    expect(ev).toEqual([]);
    expect(d.name).toBe("eth0");
    expect(devGetByName(k, "eth0")).toBe(d);
  });

  it("R1 (E0): should return -EBUSY even with IFF_LIVE_RENAME_OK set (the flag does not exist yet)", () => {
    const k = boot(E0);
    const d = upNic(k);
    d.privFlags |= IFF_PRIV.IFF_LIVE_RENAME_OK;
    expect(devChangeName(k, d, "foo")).toBe(err("EBUSY"));
  });

  it("R1 (E0): should check UP before R3, so renaming an UP device to its own name is -EBUSY", () => {
    const k = boot(E0);
    const d = upNic(k);
    expect(devChangeName(k, d, "eth0")).toBe(err("EBUSY"));
  });

  it("R1 (E0): should check UP before V3, so an invalid name on an UP device is -EBUSY", () => {
    const k = boot(E0);
    const d = upNic(k);
    expect(devChangeName(k, d, "a/b")).toBe(err("EBUSY"));
  });

  it.each(["5.1", E1])(
    "R1 (E1 %s): should return -EBUSY for an UP device without IFF_LIVE_RENAME_OK",
    (v) => {
      const k = boot(v);
      const d = upNic(k);
      const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
      expect(ret).toBe(err("EBUSY"));
      expect(ev).toEqual([]);
      expect(d.name).toBe("eth0");
    },
  );

  it.each(["5.1", E1])(
    "R1 (E1 %s): should rename an UP device with IFF_LIVE_RENAME_OK (failover slave)",
    (v) => {
      const k = boot(v);
      const d = upNic(k);
      d.privFlags |= IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_LIVE_RENAME_OK;
      const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
      expect(ret).toBe(0);
      expect(ev).toEqual([
        "log foo: renamed from eth0",
        "uevent move foo",
        "notify NETDEV_CHANGENAME foo",
        "rtnl RTM_NEWLINK foo",
      ]);
      expect(d.flags & IFF.UP).toBe(IFF.UP);
    },
  );

  it(`R1 (E1): the UP check should also apply to a same-name rename of an UP device`, () => {
    const k = boot(E1);
    const d = upNic(k);
    expect(devChangeName(k, d, "eth0")).toBe(err("EBUSY"));
  });

  it.each(["6.2", E2])('R1 (E2 %s): should rename any UP device and log " (while UP)"', (v) => {
    const k = boot(v);
    const d = upNic(k);
    const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
    expect(ret).toBe(0);
    expect(ev).toEqual([
      "log foo: renamed from eth0 (while UP)",
      "uevent move foo",
      "notify NETDEV_CHANGENAME foo",
      "rtnl RTM_NEWLINK foo",
    ]);
    expect(d.name).toBe("foo");
    expect(d.flags & IFF.UP).toBe(IFF.UP);
  });

  it.each([E0, E1, E2])("R1 (%s): a DOWN device should be renamed in every era", (v) => {
    const k = boot(v);
    const d = nic(k);
    expect(devChangeName(k, d, "foo")).toBe(0);
    expect(d.name).toBe("foo");
  });

  it("R2: the rename lock is not observable; a listener already sees the new name hashed", () => {
    const k = boot(E2);
    const d = nic(k);
    const seen: boolean[] = [];
    addRecorder(k, {
      extra: (kk, ev, x) => {
        if (ev === "NETDEV_CHANGENAME")
          seen.push(devGetByName(kk, "foo") === x, devGetByName(kk, "eth0") === undefined);
        return 0;
      },
    });
    expect(devChangeName(k, d, "foo")).toBe(0);
    expect(seen).toEqual([true, true]);
  });

  it.each([E0, E1, E2])(
    "R3 (%s): renaming a DOWN device to its own name should return 0 with no events",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      const { ret, ev } = traced(k, () => devChangeName(k, d, "eth0"));
      expect(ret).toBe(0);
      expect(ev).toEqual([]);
      expect(d.nameAssignType).toBe(NET_NAME.ENUM);
    },
  );

  it("R3 (E2): renaming an UP device to its own name should return 0 with no events", () => {
    const k = boot(E2);
    const d = upNic(k);
    expect(events(k, () => expect(devChangeName(k, d, "eth0")).toBe(0))).toEqual([]);
  });

  it.each([E0, E1, E2])(
    "R4 (%s): should return -EEXIST for an existing name, with no events",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      nic(k);
      const { ret, ev } = traced(k, () => devChangeName(k, d, "eth1"));
      expect(ret).toBe(err("EEXIST"));
      expect(ev).toEqual([]);
      expect(d.name).toBe("eth0");
      expect(d.nameAssignType).toBe(NET_NAME.ENUM);
    },
  );

  it.each([
    ["a/b"],
    ["a b"],
    ["a:b"],
    [""],
    ["."],
    [".."],
    ["1234567890123456"],
    ["a%d%d"],
    ["a%s"],
  ])("R4: should return -EINVAL for %j in every era, with no events", (name) => {
    for (const v of [E0, E1, E2]) {
      const k = boot(v);
      const d = nic(k);
      const { ret, ev } = traced(k, () => devChangeName(k, d, name));
      expect(ret, v).toBe(err("EINVAL"));
      expect(ev, v).toEqual([]);
      expect(d.name, v).toBe("eth0");
    }
  });

  it("R4: should return -ENFILE when a %d template has no usable candidate", () => {
    const k = boot(E2);
    for (let i = 0; i < 100; i++) nic(k, { name: `abcdefghijklm${i}` });
    const d = nic(k);
    expect(
      events(k, () => expect(devChangeName(k, d, "abcdefghijklm%d")).toBe(err("ENFILE"))),
    ).toEqual([]);
    expect(d.name).toBe("eth0");
  });

  it("R5: should prefix the log with driver and bus id and use the new name", () => {
    const k = boot(E1);
    const d = nic(k);
    d.parent = PCI;
    expect(events(k, () => devChangeName(k, d, "ens4"))[0]).toBe(
      "log e1000e 0000:00:04.0 ens4: renamed from eth0",
    );
  });

  it.each([E0, E1])('R5 (%s): should not add " (while UP)" before E2', (v) => {
    const k = boot(v);
    const d = upNic(k);
    d.privFlags |= IFF_PRIV.IFF_LIVE_RENAME_OK;
    const ev = events(k, () => devChangeName(k, d, "foo"));
    if (v === E0) expect(ev).toEqual([]);
    else expect(ev[0]).toBe("log foo: renamed from eth0");
  });

  it('R5 (E2): should log without " (while UP)" for a DOWN device', () => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => devChangeName(k, d, "foo"))[0]).toBe("log foo: renamed from eth0");
  });

  it("R5: should log even when the sysfs rename (R7) then fails", () => {
    const k = boot(E2);
    const d = nic(k);
    k.registry.deviceRenameFault = () => err("ENOMEM");
    const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
    expect(ret).toBe(err("ENOMEM"));
    expect(ev).toEqual(["log foo: renamed from eth0"]);
  });

  it("R6: a successful rename should set name_assign_type to NET_NAME_RENAMED", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(d.nameAssignType).toBe(NET_NAME.ENUM);
    expect(devChangeName(k, d, "foo")).toBe(0);
    expect(d.nameAssignType).toBe(NET_NAME.RENAMED);
  });

  it("R7: a failing sysfs rename should restore the name and assign type, with no notifier or RTM", () => {
    const k = boot(E1);
    const d = nic(k);
    k.registry.deviceRenameFault = () => err("EEXIST");
    const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
    expect(ret).toBe(err("EEXIST"));
    expect(ev.filter((e) => !e.startsWith("log"))).toEqual([]);
    expect(d.name).toBe("eth0");
    expect(d.nameAssignType).toBe(NET_NAME.ENUM);
    expect(devGetByName(k, "eth0")).toBe(d);
    expect(devGetByName(k, "foo")).toBeUndefined();
  });

  it("R7: the move uevent should carry the old devpath", () => {
    const k = boot(E2);
    const d = nic(k);
    d.parent = PCI;
    const ev = rawEvents(k, () => devChangeName(k, d, "ens4")).find(
      (e) => e.type === "kernel.uevent",
    );
    expect(ev).toMatchObject({
      action: "move",
      devpath: "/devices/pci0000:00/0000:00:04.0/net/ens4",
      devpathOld: "/devices/pci0000:00/0000:00:04.0/net/eth0",
      interface: "ens4",
    });
  });

  it("R8: links to adjacent devices should survive a rename", () => {
    const k = boot(E2);
    const lower = nic(k);
    const upper = nic(k);
    expect(netdevMasterUpperDevLink(k, lower, upper)).toBe(0);
    expect(devChangeName(k, lower, "ens4")).toBe(0);
    expect(devChangeName(k, upper, "bond0")).toBe(0);
    expect(netdevMasterUpperDevGet(k, lower)).toBe(upper);
    expect(upper.lowers.map((l) => devGetByIndex(k, l.ifindex)?.name)).toEqual(["ens4"]);
  });

  it("R9: the name hash should hold the new name only", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devChangeName(k, d, "foo")).toBe(0);
    expect(devGetByName(k, "foo")).toBe(d);
    expect(devGetByName(k, "eth0")).toBeUndefined();
    expect(k.state.names.get("foo")).toBe(d.ifindex);
    expect(k.state.names.has("eth0")).toBe(false);
  });

  it("R10: the RTM_NEWLINK should carry the new name, ifi_change 0 and no IFLA_EVENT", () => {
    const k = boot(E2);
    const d = nic(k);
    const rtm = rawEvents(k, () => devChangeName(k, d, "foo")).filter(
      (e): e is RtnlEvent => e.type === "kernel.rtnl",
    );
    expect(rtm).toHaveLength(1);
    expect(rtm[0]).toMatchObject({ msg: "RTM_NEWLINK", change: 0, event: null });
    expect(rtm[0]?.link.ifname).toBe("foo");
  });

  it("R10: the rtnetlink notifier should run before a later listener (RTM_NEWLINK first)", () => {
    const k = boot(E2);
    const d = nic(k);
    const rec = addRecorder(k, {
      extra: (kk, ev) => {
        if (ev === "NETDEV_CHANGENAME")
          kk.trace.emit({ type: "kernel.log", level: "info", text: "listener" });
        return 0;
      },
    });
    expect(events(k, () => devChangeName(k, d, "foo"))).toEqual([
      "log foo: renamed from eth0",
      "uevent move foo",
      "notify NETDEV_CHANGENAME foo",
      "rtnl RTM_NEWLINK foo",
      "log listener",
    ]);
    expect(rec.lines()).toContain("NETDEV_CHANGENAME foo");
  });

  it.each([E0, E1, E2])(
    "R11 (%s): a CHANGENAME veto should roll back once and return the veto",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      const rec = addRecorder(k);
      rec.veto = (ev, dv) =>
        ev === "NETDEV_CHANGENAME" && dv.name === "foo"
          ? notifierFromErrno(err("EPERM"))
          : undefined;
      const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
      expect(ret).toBe(err("EPERM"));
      expect(ev).toEqual([
        "log foo: renamed from eth0",
        "uevent move foo",
        "notify NETDEV_CHANGENAME foo",
        "rtnl RTM_NEWLINK foo",
        "uevent move eth0",
        "notify NETDEV_CHANGENAME eth0",
        "rtnl RTM_NEWLINK eth0",
      ]);
      expect(d.name).toBe("eth0");
      expect(d.nameAssignType).toBe(NET_NAME.ENUM);
      expect(devGetByName(k, "eth0")).toBe(d);
      expect(devGetByName(k, "foo")).toBeUndefined();
    },
  );

  it.each([E0, E1, E2])(
    "R11 (%s): a vetoed rollback should log the failure once and keep the old name",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      const rec = addRecorder(k);
      rec.veto = vetoOn("NETDEV_CHANGENAME", err("EPERM"));
      const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
      expect(ret).toBe(err("EPERM"));
      expect(ev).toEqual([
        "log foo: renamed from eth0",
        "uevent move foo",
        "notify NETDEV_CHANGENAME foo",
        "rtnl RTM_NEWLINK foo",
        "uevent move eth0",
        "notify NETDEV_CHANGENAME eth0",
        "rtnl RTM_NEWLINK eth0",
        "log eth0: name change rollback failed: -1",
      ]);
      expect(k.trace.events.at(-1)).toMatchObject({ type: "kernel.log", level: "err" });
      expect(d.name).toBe("eth0");
      expect(d.nameAssignType).toBe(NET_NAME.ENUM);
    },
  );

  it.each([
    [E0, "log ens4: name change rollback failed: -16"],
    [E1, "log e1000e 0000:00:04.0 ens4: name change rollback failed: -16"],
    [E2, "log e1000e 0000:00:04.0 ens4: name change rollback failed: -16"],
  ])(
    "R11 (%s): the rollback failure should be logged with pr_err (old) or netdev_err (new)",
    (v, line) => {
      const k = boot(v);
      const d = nic(k, { name: "ens4" });
      d.parent = PCI;
      const rec = addRecorder(k);
      rec.veto = vetoOn("NETDEV_CHANGENAME", err("EBUSY"));
      const ev = events(k, () => expect(devChangeName(k, d, "foo")).toBe(err("EBUSY")));
      expect(ev.at(-1)).toBe(line);
    },
  );

  it("R11: a failing sysfs rename during rollback should leave the NEW name and return the sysfs error", () => {
    const k = boot(E2);
    const d = nic(k);
    const rec = addRecorder(k);
    rec.veto = vetoOn("NETDEV_CHANGENAME", err("EPERM"), "foo");
    let calls = 0;
    k.registry.deviceRenameFault = () => (++calls === 2 ? err("ENOMEM") : 0);
    const { ret, ev } = traced(k, () => devChangeName(k, d, "foo"));
    expect(ret).toBe(err("ENOMEM"));
    expect(ev).toEqual([
      "log foo: renamed from eth0",
      "uevent move foo",
      "notify NETDEV_CHANGENAME foo",
      "rtnl RTM_NEWLINK foo",
    ]);
    expect(d.name).toBe("foo");
    expect(d.nameAssignType).toBe(NET_NAME.RENAMED);
    expect(devGetByName(k, "foo")).toBe(d);
    expect(devGetByName(k, "eth0")).toBeUndefined();
  });

  it("R11: a veto of an UP device's rename (E2) should keep it UP", () => {
    const k = boot(E2);
    const d = upNic(k);
    addRecorder(k).veto = vetoOn("NETDEV_CHANGENAME", err("EPERM"), "foo");
    expect(devChangeName(k, d, "foo")).toBe(err("EPERM"));
    expect(d.flags & IFF.UP).toBe(IFF.UP);
    expect(d.name).toBe("eth0");
  });

  it("R11: a veto should restore a USER assign type", () => {
    const k = boot(E2);
    const d = nic(k, { name: "mine" });
    expect(d.nameAssignType).toBe(NET_NAME.USER);
    addRecorder(k).veto = vetoOn("NETDEV_CHANGENAME", err("EPERM"), "foo");
    expect(devChangeName(k, d, "foo")).toBe(err("EPERM"));
    expect(d.nameAssignType).toBe(NET_NAME.USER);
  });

  it.each([
    [E0, 2],
    ["5.1", 2],
    [E1, 2],
    ["6.6", 2],
    ["6.7", 0],
    [E2, 0],
  ])("R12 (%s): a %%d rename should return %i and allocate veth2", (v, ret) => {
    const k = boot(v);
    veth(k, "veth0", "veth1");
    const d = nic(k);
    expect(devChangeName(k, d, "veth%d")).toBe(ret);
    expect(d.name).toBe("veth2");
  });

  it("R12: a %d rename should log with the allocated name", () => {
    const k = boot(E1);
    const d = nic(k);
    expect(events(k, () => devChangeName(k, d, "x%d"))[0]).toBe("log x0: renamed from eth0");
  });

  it.each([E0, E1, E2])(
    "R13 (%s): a rename should emit no NETDEV_CHANGE and exactly one RTM_NEWLINK",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      if (v === E2) expect(devOpen(k, d)).toBe(0);
      const ev = events(k, () => devChangeName(k, d, "foo"));
      expect(ev.filter((e) => e.startsWith("rtnl"))).toEqual(["rtnl RTM_NEWLINK foo"]);
      expect(ev.filter((e) => e.startsWith("notify"))).toEqual(["notify NETDEV_CHANGENAME foo"]);
    },
  );

  it("R13: a rename should leave altnames untouched", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(netdevNameNodeAltCreate(k, d, "alt0")).toBe(0);
    expect(devChangeName(k, d, "foo")).toBe(0);
    expect(d.altnames).toEqual(["alt0"]);
    expect(devGetByName(k, "alt0")).toBe(d);
  });
});

// ─── O1–O3 ───────────────────────────────────────────────────────────────────────────────

describe("devOpen", () => {
  it.each([E0, E1, E2])("O1 (%s): should emit PRE_UP, RTM_NEWLINK(change UP|RUNNING), UP", (v) => {
    const k = boot(v);
    const d = nic(k);
    const cursor = k.trace.length;
    expect(devOpen(k, d)).toBe(0);
    const ev = k.trace.since(cursor);
    expect(ev.map((e) => (e.type === "kernel.notify" ? e.event : e.type))).toEqual([
      "NETDEV_PRE_UP",
      "kernel.rtnl",
      "NETDEV_UP",
    ]);
    expect(ev[1]).toMatchObject({ msg: "RTM_NEWLINK", change: IFF.UP | IFF.RUNNING });
    expect(d.flags & IFF.UP).toBe(IFF.UP);
    expect(d.running).toBe(true);
  });

  it("O1: should return 0 with no events for a device already UP", () => {
    const k = boot(E2);
    const d = upNic(k);
    expect(events(k, () => expect(devOpen(k, d)).toBe(0))).toEqual([]);
  });

  it("O1: should return -ENODEV for a device that is not present, with no events", () => {
    const k = boot(E2);
    const d = nic(k);
    d.present = false;
    expect(events(k, () => expect(devOpen(k, d)).toBe(err("ENODEV")))).toEqual([]);
    expect(d.flags & IFF.UP).toBe(0);
  });

  it("O1: a PRE_UP veto should abort with nothing else happening", () => {
    const k = boot(E2);
    const d = nic(k);
    addRecorder(k).veto = vetoOn("NETDEV_PRE_UP", err("EBUSY"));
    const { ret, ev } = traced(k, () => devOpen(k, d));
    expect(ret).toBe(err("EBUSY"));
    expect(ev).toEqual(["notify NETDEV_PRE_UP eth0"]);
    expect(d.running).toBe(false);
    expect(d.flags & IFF.UP).toBe(0);
  });

  it("O1: an ndo_open failure should clear running and return the error with no further events", () => {
    const k = boot(E2);
    const d = nic(k, { openError: err("EIO") });
    const { ret, ev } = traced(k, () => devOpen(k, d));
    expect(ret).toBe(err("EIO"));
    expect(ev).toEqual(["notify NETDEV_PRE_UP eth0"]);
    expect(d.running).toBe(false);
    expect(d.flags & IFF.UP).toBe(0);
  });

  it("O1: ndo_validate_addr should refuse an all-zero MAC with -EADDRNOTAVAIL", () => {
    const k = boot(E2);
    const d = nic(k, { mac: "00:00:00:00:00:00" });
    expect(devOpen(k, d)).toBe(err("EADDRNOTAVAIL"));
    expect(d.running).toBe(false);
  });

  it("O1: should attach the default qdisc on first activation and keep it after close", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(d.qdisc).toBe("noop");
    expect(devOpen(k, d)).toBe(0);
    expect(d.qdisc).toBe("pfifo_fast");
    devClose(k, d);
    expect(d.qdisc).toBe("pfifo_fast");
  });
});

describe("devClose", () => {
  it.each([E0, E1, E2])(
    "O2 (%s): should emit GOING_DOWN, RTM_NEWLINK(change UP|RUNNING), DOWN",
    (v) => {
      const k = boot(v);
      const d = upNic(k);
      const cursor = k.trace.length;
      devClose(k, d);
      const ev = k.trace.since(cursor);
      expect(ev.map((e) => (e.type === "kernel.notify" ? e.event : e.type))).toEqual([
        "NETDEV_GOING_DOWN",
        "kernel.rtnl",
        "NETDEV_DOWN",
      ]);
      expect(ev[1]).toMatchObject({ change: IFF.UP | IFF.RUNNING });
      expect(d.flags & IFF.UP).toBe(0);
      expect(d.running).toBe(false);
    },
  );

  it("O2: should do nothing for a device that is not UP", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => devClose(k, d))).toEqual([]);
  });

  it("O2: the RTM_NEWLINK should already show the device down", () => {
    const k = boot(E2);
    const d = upNic(k);
    const rtm = rawEvents(k, () => devClose(k, d)).find(
      (e) => e.type === "kernel.rtnl",
    ) as RtnlEvent;
    expect(rtm.link.flags & (IFF.UP | IFF.RUNNING | IFF.LOWER_UP)).toBe(0);
  });
});

describe("devChangeFlags", () => {
  it("O3: setting IFF_UP should emit PRE_UP, RTM_NEWLINK(change IFF_UP), UP", () => {
    const k = boot(E2);
    const d = nic(k);
    const cursor = k.trace.length;
    expect(devChangeFlags(k, d, d.flags | IFF.UP)).toBe(0);
    const ev = k.trace.since(cursor);
    expect(ev.map((e) => (e.type === "kernel.notify" ? e.event : e.type))).toEqual([
      "NETDEV_PRE_UP",
      "kernel.rtnl",
      "NETDEV_UP",
    ]);
    expect(ev[1]).toMatchObject({ change: IFF.UP });
  });

  it("O3: clearing IFF_UP should emit GOING_DOWN (inside __dev_close), RTM_NEWLINK, DOWN", () => {
    const k = boot(E2);
    const d = upNic(k);
    expect(events(k, () => devChangeFlags(k, d, d.flags & ~IFF.UP))).toEqual([
      "notify NETDEV_GOING_DOWN eth0",
      "rtnl RTM_NEWLINK eth0",
      "notify NETDEV_DOWN eth0",
    ]);
  });

  it("O3: an open failure should return the error and emit nothing after PRE_UP", () => {
    const k = boot(E2);
    const d = nic(k, { openError: err("EBUSY") });
    const { ret, ev } = traced(k, () => devChangeFlags(k, d, d.flags | IFF.UP));
    expect(ret).toBe(err("EBUSY"));
    expect(ev).toEqual(["notify NETDEV_PRE_UP eth0"]);
  });

  it("O3: another flag change on an UP device should emit RTM_NEWLINK(changed bits) then CHANGE", () => {
    const k = boot(E2);
    const d = upNic(k);
    const cursor = k.trace.length;
    expect(devChangeFlags(k, d, d.flags | IFF.NOARP)).toBe(0);
    const ev = k.trace.since(cursor);
    expect(ev.map((e) => (e.type === "kernel.notify" ? e.event : e.type))).toEqual([
      "kernel.rtnl",
      "NETDEV_CHANGE",
    ]);
    expect(ev[0]).toMatchObject({ change: IFF.NOARP });
  });

  it("O3: another flag change on a DOWN device should emit only the RTM_NEWLINK", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => devChangeFlags(k, d, d.flags | IFF.NOARP))).toEqual([
      "rtnl RTM_NEWLINK eth0",
    ]);
  });

  it("O3: no change should emit nothing", () => {
    const k = boot(E2);
    const d = upNic(k);
    expect(events(k, () => devChangeFlags(k, d, d.flags))).toEqual([]);
  });

  it("O3: volatile flags in the request (RUNNING, LOWER_UP, MASTER) should be ignored", () => {
    const k = boot(E2);
    const d = nic(k);
    const before = d.flags;
    expect(devChangeFlags(k, d, before | IFF.RUNNING | IFF.LOWER_UP | IFF.MASTER)).toBe(0);
    expect(d.flags).toBe(before);
  });
});

// ─── G1–G3 ───────────────────────────────────────────────────────────────────────────────

describe("registerNetdevice", () => {
  it.each([E0, E1, E2])(
    "G1 (%s): should emit POST_INIT, add uevent, REGISTER, RTM_NEWLINK(~0) in order",
    (v) => {
      const k = boot(v);
      const cursor = k.trace.length;
      const d = nic(k);
      const ev = k.trace.since(cursor);
      expect(ev.map((e) => (e.type === "kernel.notify" ? e.event : e.type))).toEqual([
        "NETDEV_POST_INIT",
        "kernel.uevent",
        "NETDEV_REGISTER",
        "kernel.rtnl",
      ]);
      expect(ev[3]).toMatchObject({ msg: "RTM_NEWLINK", change: 0xffffffff });
      expect(d.regState).toBe("REGISTERED");
      expect(d.ifindex).toBe(2);
    },
  );

  it("G1: the first device after lo should get ifindex 2 and eth0 (eth%d, NET_NAME_ENUM)", () => {
    const k = boot(E2);
    const d = nic(k);
    expect([d.ifindex, d.name, d.nameAssignType]).toEqual([2, "eth0", NET_NAME.ENUM]);
  });

  it("G1 step 1: a name error should register nothing and use up no ifindex", () => {
    const k = boot(E2);
    nic(k, { name: "foo" });
    const d = allocNetdev(k, { name: "foo", nameAssignType: NET_NAME.USER, driver: "generic-eth" });
    expect(events(k, () => expect(registerNetdevice(k, d)).toBe(err("EEXIST")))).toEqual([]);
    expect(d.regState).toBe("UNINITIALIZED");
    expect(nic(k).ifindex).toBe(3);
  });

  it("G1 step 2: an ndo_init error should be returned; a positive one becomes -EIO", () => {
    const k = boot(E2);
    let result = -12;
    k.registry.drivers.set("initfail", { name: "initfail", ops: { ndoInit: () => result } });
    const a = allocNetdev(k, { name: "a", nameAssignType: NET_NAME.USER, driver: "initfail" });
    expect(registerNetdevice(k, a)).toBe(err("ENOMEM"));
    result = 5;
    const b = allocNetdev(k, { name: "b", nameAssignType: NET_NAME.USER, driver: "initfail" });
    expect(registerNetdevice(k, b)).toBe(err("EIO"));
    expect(devGetByName(k, "a")).toBeUndefined();
  });

  it("G1 step 3: an explicit ifindex in use should give -EBUSY", () => {
    const k = boot(E2);
    const d = allocNetdev(k, { name: "x", nameAssignType: NET_NAME.USER, driver: "generic-eth" });
    d.ifindex = 1;
    expect(registerNetdevice(k, d)).toBe(err("EBUSY"));
    const e = allocNetdev(k, { name: "y", nameAssignType: NET_NAME.USER, driver: "generic-eth" });
    e.ifindex = 50;
    expect(registerNetdevice(k, e)).toBe(0);
    expect(e.ifindex).toBe(50);
  });

  it("G1 step 4: a POST_INIT veto should register nothing (no uevent, no REGISTER)", () => {
    const k = boot(E2);
    addRecorder(k).veto = vetoOn("NETDEV_POST_INIT", err("EPERM"));
    const d = allocNetdev(k, { name: "x", nameAssignType: NET_NAME.USER, driver: "generic-eth" });
    const { ret, ev } = traced(k, () => registerNetdevice(k, d));
    expect(ret).toBe(err("EPERM"));
    expect(ev).toEqual(["notify NETDEV_POST_INIT x"]);
    expect(devGetByName(k, "x")).toBeUndefined();
  });

  it("G1 step 5: the add uevent should go out before any REGISTER listener runs", () => {
    const k = boot(E2);
    const seen: string[] = [];
    addRecorder(k, {
      extra: (kk, ev, d) => {
        if (ev === "NETDEV_REGISTER" && d.name === "eth0")
          seen.push(
            ...kk.trace.events
              .filter((e) => e.type === "kernel.uevent" && e.interface === "eth0")
              .map((e) => e.type),
          );
        return 0;
      },
    });
    nic(k);
    expect(seen).toEqual(["kernel.uevent"]);
  });

  it("G1 step 6: the device should be REGISTERED and resolvable when NETDEV_REGISTER runs", () => {
    const k = boot(E2);
    const states: string[] = [];
    addRecorder(k, {
      extra: (kk, ev, d) => {
        if (d.name !== "eth0") return 0;
        if (ev === "NETDEV_REGISTER")
          states.push(`${d.regState} ${devGetByName(kk, d.name) === d}`);
        if (ev === "NETDEV_POST_INIT") states.push(`${d.regState}`);
        return 0;
      },
    });
    nic(k);
    expect(states).toEqual(["UNINITIALIZED", "REGISTERED true"]);
  });

  it("G1 step 7: perm_addr should be copied from dev_addr when addr_assign_type is PERM", () => {
    const k = boot(E2);
    const d = nic(k, { mac: "52:54:00:12:34:56" });
    expect(d.permAddr).toBe("52:54:00:12:34:56");
    const [v] = veth(k, "a", "b");
    expect(v.permAddr).toBeNull(); // random address: NET_ADDR_RANDOM
  });

  it("G1 step 8: a REGISTER veto should run the unregister sequence and return the error", () => {
    const k = boot(E2);
    addRecorder(k).veto = vetoOn("NETDEV_REGISTER", err("EPERM"), "x");
    const d = allocNetdev(k, { name: "x", nameAssignType: NET_NAME.USER, driver: "generic-eth" });
    const { ret, ev } = traced(k, () => registerNetdevice(k, d));
    expect(ret).toBe(err("EPERM"));
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT x",
      "uevent add x",
      "notify NETDEV_REGISTER x",
      "notify NETDEV_UNREGISTER x",
      "rtnl RTM_DELLINK x",
      "uevent remove x",
    ]);
    expect(devGetByName(k, "x")).toBeUndefined();
    expect(d.regState).toBe("UNREGISTERED");
  });

  it("G1 step 9: RTM_NEWLINKs emitted inside REGISTER should precede the registration's", () => {
    const k = boot(E2);
    const upper = nic(k, { name: "master" });
    addRecorder(k, {
      extra: (kk, ev, d) => {
        if (ev === "NETDEV_REGISTER" && d.name === "slave") netdevMasterUpperDevLink(kk, d, upper);
        return 0;
      },
    });
    const ev = rawEvents(k, () => nic(k, { name: "slave" })).filter(
      (e): e is RtnlEvent => e.type === "kernel.rtnl",
    );
    expect(ev.map((e) => [e.link.ifname, e.change, e.link.master])).toEqual([
      ["slave", 0, upper.ifindex],
      ["slave", 0xffffffff, upper.ifindex],
    ]);
  });

  it("G1 step 9: an rtnl_link_ops device should get no RTM_NEWLINK until rtnl_configure_link", () => {
    const k = boot(E2);
    const ev = events(k, () => veth(k, "a", "b"));
    // Each end: REGISTER without an RTM, then the one from rtnl_configure_link.
    expect(ev).toEqual([
      "notify NETDEV_POST_INIT b",
      "uevent add b",
      "notify NETDEV_REGISTER b",
      "rtnl RTM_NEWLINK b",
      "notify NETDEV_POST_INIT a",
      "uevent add a",
      "notify NETDEV_REGISTER a",
      "rtnl RTM_NEWLINK a",
    ]);
  });

  it("G2: registerNetdev should behave as registerNetdevice", () => {
    const k = boot(E2);
    const d = allocNetdev(k, { name: "x%d", nameAssignType: NET_NAME.ENUM, driver: "generic-eth" });
    expect(registerNetdev(k, d)).toBe(0);
    expect(d.name).toBe("x0");
  });
});

describe("unregisterNetdevice", () => {
  it.each([E0, E1, E2])(
    "G3 (%s): should close, then UNREGISTER, RTM_DELLINK, remove uevent",
    (v) => {
      const k = boot(v);
      const d = upNic(k);
      expect(events(k, () => unregisterNetdevice(k, d))).toEqual([
        "notify NETDEV_GOING_DOWN eth0",
        "rtnl RTM_NEWLINK eth0",
        "notify NETDEV_DOWN eth0",
        "notify NETDEV_UNREGISTER eth0",
        "rtnl RTM_DELLINK eth0",
        "uevent remove eth0",
      ]);
      expect(d.regState).toBe("UNREGISTERED");
      expect(devGetByName(k, "eth0")).toBeUndefined();
      expect(devGetByIndex(k, d.ifindex)).toBeUndefined();
    },
  );

  it("G3 step 2: the device should be UNREGISTERING and unlisted when NETDEV_UNREGISTER runs", () => {
    const k = boot(E2);
    const d = nic(k);
    const seen: string[] = [];
    addRecorder(k, {
      extra: (kk, ev, x) => {
        if (ev === "NETDEV_UNREGISTER")
          seen.push(`${x.regState} ${devGetByName(kk, x.name) === undefined}`);
        return 0;
      },
    });
    unregisterNetdevice(k, d);
    expect(seen).toEqual(["UNREGISTERING true"]);
  });

  it("G3 step 3–5: RTM_NEWLINKs from listeners are dropped and the DELLINK names no master", () => {
    const k = boot(E2);
    const upper = nic(k, { name: "master" });
    const lower = nic(k, { name: "slave" });
    expect(netdevMasterUpperDevLink(k, lower, upper)).toBe(0);
    addRecorder(k, {
      extra: (kk, ev, x) => {
        if (ev === "NETDEV_UNREGISTER" && x === lower) {
          netdevUpperDevUnlink(kk, lower, upper);
          rtmsgIfinfo(kk, lower, 0);
        }
        return 0;
      },
    });
    const ev = rawEvents(k, () => unregisterNetdevice(k, lower));
    const rtm = ev.filter((e): e is RtnlEvent => e.type === "kernel.rtnl");
    expect(rtm.map((e) => [e.msg, e.link.ifname, e.link.master])).toEqual([
      ["RTM_DELLINK", "slave", null],
    ]);
    expect(ev.some((e) => e.type === "kernel.warn")).toBe(false);
  });

  it("G3: an upper link left after NETDEV_UNREGISTER should WARN", () => {
    const k = boot(E2);
    const upper = nic(k);
    const lower = nic(k);
    expect(netdevMasterUpperDevLink(k, lower, upper)).toBe(0);
    const ev = events(k, () => unregisterNetdevice(k, lower));
    expect(ev.filter((e) => e.startsWith("warn"))).toHaveLength(1);
  });

  it("G3: the name and altnames should be free again afterwards", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(netdevNameNodeAltCreate(k, d, "alt0")).toBe(0);
    unregisterNetdevice(k, d);
    expect(k.state.names.has("alt0")).toBe(false);
    expect(nic(k).name).toBe("eth0");
  });

  it("G3: a freed ifindex should not be reused by automatic allocation", () => {
    const k = boot(E2);
    const a = nic(k);
    unregisterNetdevice(k, a);
    expect(nic(k).ifindex).toBe(3);
  });
});

// ─── U1–U3 ───────────────────────────────────────────────────────────────────────────────

describe("netdevMasterUpperDevLink", () => {
  it.each([E0, E1, E2])(
    "U1 (%s): should emit PRECHANGEUPPER, CHANGEUPPER, RTM_NEWLINK(lower, master)",
    (v) => {
      const k = boot(v);
      const upper = nic(k, { name: "bond0" });
      const lower = nic(k, { name: "eth0" });
      const cursor = k.trace.length;
      expect(netdevMasterUpperDevLink(k, lower, upper)).toBe(0);
      const ev = k.trace.since(cursor);
      expect(ev.map((e) => (e.type === "kernel.notify" ? `${e.event} ${e.dev}` : e.type))).toEqual([
        "NETDEV_PRECHANGEUPPER eth0",
        "NETDEV_CHANGEUPPER eth0",
        "kernel.rtnl",
      ]);
      expect((ev[2] as RtnlEvent).link).toMatchObject({ ifname: "eth0", master: upper.ifindex });
      expect(netdevMasterUpperDevGet(k, lower)).toBe(upper);
      expect(lower.uppers[0]).toEqual({ ifindex: upper.ifindex, master: true });
      expect(upper.lowers).toEqual([{ ifindex: lower.ifindex, master: true }]);
    },
  );

  it("U1: linking a device to itself should be -EBUSY", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => expect(netdevMasterUpperDevLink(k, d, d)).toBe(err("EBUSY")))).toEqual(
      [],
    );
  });

  it("U1: a loop (the lower is already above the upper, transitively) should be -EBUSY", () => {
    const k = boot(E2);
    const a = nic(k);
    const b = nic(k);
    const c = nic(k);
    expect(netdevMasterUpperDevLink(k, a, b)).toBe(0);
    expect(netdevMasterUpperDevLink(k, b, c)).toBe(0);
    expect(netdevMasterUpperDevLink(k, c, a)).toBe(err("EBUSY"));
    expect(netdevMasterUpperDevLink(k, b, a)).toBe(err("EBUSY"));
  });

  it("U1: a non-master link to a device already above (transitively) should be -EEXIST", () => {
    const k = boot(E2);
    const a = nic(k);
    const b = nic(k);
    const c = nic(k);
    expect(netdevMasterUpperDevLink(k, a, b)).toBe(0);
    expect(netdevMasterUpperDevLink(k, b, c)).toBe(0);
    expect(events(k, () => expect(netdevUpperDevLink(k, a, c)).toBe(err("EEXIST")))).toEqual([]);
    expect(netdevUpperDevLink(k, a, b)).toBe(err("EEXIST"));
  });

  it("U1: a second link to the same master should be -EEXIST, to another -EBUSY", () => {
    const k = boot(E2);
    const m1 = nic(k);
    const m2 = nic(k);
    const d = nic(k);
    expect(netdevMasterUpperDevLink(k, d, m1)).toBe(0);
    expect(events(k, () => expect(netdevMasterUpperDevLink(k, d, m1)).toBe(err("EEXIST")))).toEqual(
      [],
    );
    expect(events(k, () => expect(netdevMasterUpperDevLink(k, d, m2)).toBe(err("EBUSY")))).toEqual(
      [],
    );
  });

  it("U1: a PRECHANGEUPPER veto should link nothing", () => {
    const k = boot(E2);
    const m = nic(k);
    const d = nic(k);
    addRecorder(k).veto = vetoOn("NETDEV_PRECHANGEUPPER", err("EOPNOTSUPP"));
    const { ret, ev } = traced(k, () => netdevMasterUpperDevLink(k, d, m));
    expect(ret).toBe(err("EOPNOTSUPP"));
    expect(ev).toEqual([`notify NETDEV_PRECHANGEUPPER ${d.name}`]);
    expect(d.uppers).toEqual([]);
    expect(m.lowers).toEqual([]);
  });

  it("U1: a CHANGEUPPER veto should remove the adjacency again with no second event", () => {
    const k = boot(E2);
    const m = nic(k);
    const d = nic(k);
    addRecorder(k).veto = vetoOn("NETDEV_CHANGEUPPER", err("EINVAL"));
    const { ret, ev } = traced(k, () => netdevMasterUpperDevLink(k, d, m));
    expect(ret).toBe(err("EINVAL"));
    expect(ev).toEqual([
      "notify NETDEV_PRECHANGEUPPER eth1",
      "notify NETDEV_CHANGEUPPER eth1",
      "rtnl RTM_NEWLINK eth1",
    ]);
    expect(d.uppers).toEqual([]);
    expect(m.lowers).toEqual([]);
  });

  it("U1 (v5.5+): nesting deeper than 8 levels should be -EMLINK; E0 has no limit", () => {
    for (const [v, ret] of [
      [E0, 0],
      [E1, err("EMLINK")],
      [E2, err("EMLINK")],
    ] as const) {
      const k = boot(v);
      const devs = Array.from({ length: 9 }, () => nic(k));
      for (let i = 0; i < 7; i++)
        expect(netdevMasterUpperDevLink(k, devs[i] as NetDevice, devs[i + 1] as NetDevice)).toBe(0);
      expect(netdevMasterUpperDevLink(k, devs[7] as NetDevice, devs[8] as NetDevice), v).toBe(ret);
    }
  });

  it("U1: a non-master upper link should be -EEXIST when repeated and not count as master", () => {
    const k = boot(E2);
    const m = nic(k);
    const d = nic(k);
    expect(netdevUpperDevLink(k, d, m)).toBe(0);
    expect(netdevUpperDevLink(k, d, m)).toBe(err("EEXIST"));
    expect(netdevMasterUpperDevGet(k, d)).toBeUndefined();
  });
});

describe("netdevUpperDevUnlink", () => {
  it("U2: should emit PRECHANGEUPPER, CHANGEUPPER and an RTM_NEWLINK without master", () => {
    const k = boot(E2);
    const m = nic(k);
    const d = nic(k);
    expect(netdevMasterUpperDevLink(k, d, m)).toBe(0);
    const cursor = k.trace.length;
    netdevUpperDevUnlink(k, d, m);
    const ev = k.trace.since(cursor);
    expect(ev.map((e) => (e.type === "kernel.notify" ? e.event : e.type))).toEqual([
      "NETDEV_PRECHANGEUPPER",
      "NETDEV_CHANGEUPPER",
      "kernel.rtnl",
    ]);
    expect((ev[2] as RtnlEvent).link.master).toBeNull();
    expect(d.uppers).toEqual([]);
    expect(m.lowers).toEqual([]);
  });

  it("U2: vetoes should be ignored (unlinking cannot fail)", () => {
    const k = boot(E2);
    const m = nic(k);
    const d = nic(k);
    expect(netdevMasterUpperDevLink(k, d, m)).toBe(0);
    const rec = addRecorder(k);
    rec.veto = () => notifierFromErrno(err("EPERM"));
    netdevUpperDevUnlink(k, d, m);
    expect(d.uppers).toEqual([]);
  });
});

describe("netdevRxHandlerRegister", () => {
  it("U3: should install a handler once; a second one is -EBUSY", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(netdevRxHandlerRegister(k, d, "bridge", null)).toBe(0);
    expect(netdevRxHandlerRegister(k, d, "bond", 5)).toBe(err("EBUSY"));
    expect(d.rxHandler).toBe("bridge");
  });

  it("U3: should return -EINVAL for an IFF_NO_RX_HANDLER device", () => {
    const k = boot(E2);
    const d = nic(k);
    d.privFlags |= IFF_PRIV.IFF_NO_RX_HANDLER;
    expect(netdevRxHandlerRegister(k, d, "bridge", null)).toBe(err("EINVAL"));
    expect(d.rxHandler).toBeNull();
  });

  it("U3: unregister should always succeed and free the slot", () => {
    const k = boot(E2);
    const d = nic(k);
    netdevRxHandlerUnregister(k, d);
    expect(netdevRxHandlerRegister(k, d, "bridge", null)).toBe(0);
    netdevRxHandlerUnregister(k, d);
    expect(d.rxHandler).toBeNull();
    expect(netdevRxHandlerRegister(k, d, "failover", 1)).toBe(0);
    expect(d.rxHandlerData).toBe(1);
  });

  it("U3: should emit no events", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(events(k, () => netdevRxHandlerRegister(k, d, "bridge", null))).toEqual([]);
  });
});
