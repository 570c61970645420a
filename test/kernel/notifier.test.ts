// Rules N1–N5: notifier return codes, errno encoding, chain order, vetoable events, and the
// register/unregister replays.

import { describe, expect, it } from "vitest";
import {
  callNetdeviceNotifiers,
  devChangeFlags,
  devChangeName,
  devClose,
  devOpen,
  devSetMtu,
  err,
  IFF,
  type NetdevEvent,
  NOTIFY_BAD,
  NOTIFY_DONE,
  NOTIFY_OK,
  NOTIFY_STOP,
  NOTIFY_STOP_MASK,
  type NotifierBlock,
  netdevMasterUpperDevLink,
  netdevStateChange,
  netdevUpperDevUnlink,
  notifierChainRegister,
  notifierFromErrno,
  notifierToErrno,
  registerNetdeviceNotifier,
  unregisterNetdevice,
  unregisterNetdeviceNotifier,
} from "../../src/kernel/index.ts";
import { addRecorder, boot, E0, E1, E2, nic, vetoOn } from "../_helpers/kernel.ts";

describe("notifier constants", () => {
  it("N1: should have the values of include/linux/notifier.h", () => {
    expect([NOTIFY_DONE, NOTIFY_OK, NOTIFY_STOP_MASK, NOTIFY_BAD, NOTIFY_STOP]).toEqual([
      0x0000, 0x0001, 0x8000, 0x8002, 0x8001,
    ]);
  });
});

describe("notifierFromErrno", () => {
  it("N2: should map 0 to NOTIFY_OK", () => {
    expect(notifierFromErrno(0)).toBe(NOTIFY_OK);
  });

  it("N2: should map -EBUSY to 0x8011 and -EPERM to 0x8002", () => {
    expect(notifierFromErrno(err("EBUSY"))).toBe(0x8011);
    expect(notifierFromErrno(err("EPERM"))).toBe(0x8002);
  });
});

describe("notifierToErrno", () => {
  it("N2: should map DONE, OK and STOP to 0 and BAD to -EPERM", () => {
    expect(notifierToErrno(NOTIFY_DONE)).toBe(0);
    expect(notifierToErrno(NOTIFY_OK)).toBe(0);
    expect(notifierToErrno(NOTIFY_STOP)).toBe(0);
    expect(notifierToErrno(NOTIFY_BAD)).toBe(err("EPERM"));
  });

  it.each(["EPERM", "ENOENT", "EBUSY", "EEXIST", "EINVAL", "EOPNOTSUPP"] as const)(
    "N2: should round-trip -%s",
    (name) => {
      expect(notifierToErrno(notifierFromErrno(err(name)))).toBe(err(name));
    },
  );
});

describe("notifierChainRegister", () => {
  it("N3: should keep descending priority and append equal priorities in registration order", () => {
    const chain: NotifierBlock[] = [];
    for (const [name, priority] of [
      ["a", 0],
      ["b", 10],
      ["c", 0],
      ["d", -5],
      ["e", 10],
    ] as const) {
      notifierChainRegister(chain, { name, priority });
    }
    expect(chain.map((b) => b.name)).toEqual(["b", "e", "a", "c", "d"]);
  });
});

describe("callNetdeviceNotifiers", () => {
  it("N3: the rtnetlink block (registered at boot) should run before later priority-0 blocks", () => {
    const k = boot(E2);
    addRecorder(k, { name: "later" });
    expect(k.state.notifiers.map((b) => b.name)).toEqual([
      "rtnetlink",
      "inetdev",
      "addrconf",
      "later",
    ]);
  });

  it("N3: a higher-priority block should run before rtnetlink", () => {
    const k = boot(E2);
    addRecorder(k, { name: "high", priority: 100 });
    expect(k.state.notifiers.map((b) => b.name)).toEqual([
      "high",
      "rtnetlink",
      "inetdev",
      "addrconf",
    ]);
  });

  it("N3: should stop after a result with NOTIFY_STOP_MASK and return the last result", () => {
    const k = boot(E2);
    const d = nic(k);
    const a = addRecorder(k);
    const b = addRecorder(k);
    a.veto = () => NOTIFY_STOP;
    expect(callNetdeviceNotifiers(k, "NETDEV_CHANGE", d)).toBe(NOTIFY_STOP);
    expect(a.lines()).toContain("NETDEV_CHANGE eth0");
    expect(b.lines()).not.toContain("NETDEV_CHANGE eth0");
    a.veto = () => NOTIFY_OK;
    b.veto = () => NOTIFY_DONE;
    expect(callNetdeviceNotifiers(k, "NETDEV_CHANGE", d)).toBe(NOTIFY_DONE);
  });

  it("N3: should record one notify trace event per chain call", () => {
    const k = boot(E2);
    const d = nic(k);
    const c = k.trace.length;
    callNetdeviceNotifiers(k, "NETDEV_CHANGE", d);
    expect(k.trace.since(c)).toMatchObject([
      { type: "kernel.notify", event: "NETDEV_CHANGE", dev: "eth0", ifindex: d.ifindex },
    ]);
  });
});

describe("vetoable events", () => {
  type K = ReturnType<typeof boot>;

  it("N4: PRE_UP, CHANGENAME, PRECHANGEUPPER, CHANGEUPPER, PRECHANGEMTU and CHANGEMTU vetoes should be returned", () => {
    for (const [ev, run] of [
      ["NETDEV_PRE_UP", (k: K) => devOpen(k, nic(k, { name: "x" }))],
      ["NETDEV_CHANGENAME", (k: K) => devChangeName(k, nic(k, { name: "x" }), "y")],
      [
        "NETDEV_PRECHANGEUPPER",
        (k: K) => netdevMasterUpperDevLink(k, nic(k, { name: "x" }), nic(k, { name: "m" })),
      ],
      [
        "NETDEV_CHANGEUPPER",
        (k: K) => netdevMasterUpperDevLink(k, nic(k, { name: "x" }), nic(k, { name: "m" })),
      ],
      ["NETDEV_PRECHANGEMTU", (k: K) => devSetMtu(k, nic(k, { name: "x" }), 1400)],
      ["NETDEV_CHANGEMTU", (k: K) => devSetMtu(k, nic(k, { name: "x" }), 1400)],
    ] as const) {
      const k = boot(E2);
      addRecorder(k).veto = vetoOn(ev, err("EPERM"));
      expect(run(k), ev).toBe(err("EPERM"));
    }
  });

  it("N4: POST_INIT and REGISTER vetoes should fail the registration", () => {
    for (const ev of ["NETDEV_POST_INIT", "NETDEV_REGISTER"] as const) {
      const k = boot(E2);
      addRecorder(k).veto = vetoOn(ev, err("EPERM"), "eth0");
      expect(() => nic(k), ev).toThrow(/-1/);
      expect(k.state.names.has("eth0"), ev).toBe(false);
    }
  });

  it("N4: a CHANGEMTU veto should set the old MTU back and notify again", () => {
    const k = boot(E2);
    const d = nic(k);
    const rec = addRecorder(k);
    rec.veto = (ev, _d, info) =>
      ev === "NETDEV_CHANGEMTU" && info.oldMtu === 1500
        ? notifierFromErrno(err("EPERM"))
        : undefined;
    expect(devSetMtu(k, d, 1400)).toBe(err("EPERM"));
    expect(d.mtu).toBe(1500);
    expect(rec.lines().filter((l) => l.startsWith("NETDEV_CHANGEMTU"))).toHaveLength(2);
  });

  it("N4: UP, DOWN, GOING_DOWN, CHANGE, UNREGISTER and unlink CHANGEUPPER results should be ignored", () => {
    const k = boot(E2);
    const d = nic(k);
    const m = nic(k);
    expect(netdevMasterUpperDevLink(k, d, m)).toBe(0);
    const rec = addRecorder(k);
    const ignored = new Set<NetdevEvent>([
      "NETDEV_UP",
      "NETDEV_DOWN",
      "NETDEV_GOING_DOWN",
      "NETDEV_CHANGE",
      "NETDEV_UNREGISTER",
      "NETDEV_CHANGEUPPER",
      "NETDEV_PRECHANGEUPPER",
    ]);
    rec.veto = (ev) => (ignored.has(ev) ? notifierFromErrno(err("EPERM")) : undefined);
    expect(devOpen(k, d)).toBe(0);
    expect(d.flags & IFF.UP).toBe(IFF.UP);
    netdevStateChange(k, d);
    expect(devChangeFlags(k, d, d.flags | IFF.NOARP)).toBe(0);
    devClose(k, d);
    expect(d.flags & IFF.UP).toBe(0);
    netdevUpperDevUnlink(k, d, m);
    expect(d.uppers).toEqual([]);
    unregisterNetdevice(k, d);
    expect(d.regState).toBe("UNREGISTERED");
  });
});

describe("registerNetdeviceNotifier", () => {
  it("N5: should replay REGISTER for every device, plus UP for UP devices, in list order", () => {
    const k = boot(E2);
    const a = nic(k);
    nic(k);
    expect(devOpen(k, a)).toBe(0);
    const c = k.trace.length;
    const rec = addRecorder(k);
    expect(rec.registerRet).toBe(0);
    expect(rec.lines()).toEqual([
      "NETDEV_REGISTER lo",
      "NETDEV_REGISTER eth0",
      "NETDEV_UP eth0",
      "NETDEV_REGISTER eth1",
    ]);
    // The replays go to the new block only: no trace events, no RTM messages.
    expect(k.trace.since(c)).toEqual([]);
  });

  it("N5 (E0): a failed replay should unwind the replayed devices in forward order", () => {
    const k = boot(E0);
    const a = nic(k);
    nic(k);
    nic(k, { name: "bad" });
    expect(devOpen(k, a)).toBe(0);
    const rec = addRecorder(k, {
      extra: (_k, ev, d) =>
        ev === "NETDEV_REGISTER" && d.name === "bad" ? notifierFromErrno(err("EBUSY")) : 0,
    });
    expect(rec.registerRet).toBe(err("EBUSY"));
    expect(rec.lines()).toEqual([
      "NETDEV_REGISTER lo",
      "NETDEV_REGISTER eth0",
      "NETDEV_UP eth0",
      "NETDEV_REGISTER eth1",
      "NETDEV_REGISTER bad",
      "NETDEV_UNREGISTER lo",
      "NETDEV_GOING_DOWN eth0",
      "NETDEV_DOWN eth0",
      "NETDEV_UNREGISTER eth0",
      "NETDEV_UNREGISTER eth1",
    ]);
    expect(k.state.notifiers.map((b) => b.name)).toEqual(["rtnetlink", "inetdev", "addrconf"]);
  });

  it.each([E1, E2])("N5 (%s): a failed replay should unwind in reverse order", (v) => {
    const k = boot(v);
    const a = nic(k);
    nic(k, { name: "bad" });
    expect(devOpen(k, a)).toBe(0);
    const rec = addRecorder(k, {
      extra: (_k, ev, d) =>
        ev === "NETDEV_REGISTER" && d.name === "bad" ? notifierFromErrno(err("EBUSY")) : 0,
    });
    expect(rec.registerRet).toBe(err("EBUSY"));
    expect(rec.lines().slice(4)).toEqual([
      "NETDEV_GOING_DOWN eth0",
      "NETDEV_DOWN eth0",
      "NETDEV_UNREGISTER eth0",
      "NETDEV_UNREGISTER lo",
    ]);
    expect(k.state.notifiers.map((b) => b.name)).toEqual(["rtnetlink", "inetdev", "addrconf"]);
  });

  it("N5: a block that failed to register should get no further events", () => {
    const k = boot(E2);
    const rec = addRecorder(k, {
      extra: (_k, ev) => (ev === "NETDEV_REGISTER" ? notifierFromErrno(err("EPERM")) : 0),
    });
    const n = rec.calls.length;
    nic(k);
    expect(rec.calls.length).toBe(n);
  });

  it("N5: a registered block should see later devices through the chain", () => {
    const k = boot(E2);
    const rec = addRecorder(k);
    nic(k);
    expect(rec.lines().slice(1)).toEqual(["NETDEV_POST_INIT eth0", "NETDEV_REGISTER eth0"]);
  });
});

describe("unregisterNetdeviceNotifier", () => {
  it("N5: should synthesise GOING_DOWN, DOWN (if up) and UNREGISTER for every device to that block only", () => {
    const k = boot(E2);
    const a = nic(k);
    expect(devOpen(k, a)).toBe(0);
    const rec = addRecorder(k);
    rec.calls.length = 0;
    const c = k.trace.length;
    expect(unregisterNetdeviceNotifier(k, rec.name)).toBe(0);
    expect(rec.lines()).toEqual([
      "NETDEV_UNREGISTER lo",
      "NETDEV_GOING_DOWN eth0",
      "NETDEV_DOWN eth0",
      "NETDEV_UNREGISTER eth0",
    ]);
    expect(k.trace.since(c)).toEqual([]);
    expect(a.flags & IFF.UP).toBe(IFF.UP);
    expect(k.state.notifiers.map((b) => b.name)).toEqual(["rtnetlink", "inetdev", "addrconf"]);
  });

  it("N5: should return -ENOENT for an unknown block", () => {
    const k = boot(E2);
    expect(unregisterNetdeviceNotifier(k, "nope")).toBe(err("ENOENT"));
  });

  it("N5: registering the same block name twice should be a bug", () => {
    const k = boot(E2);
    const fn = () => 0;
    expect(registerNetdeviceNotifier(k, { name: "x", priority: 0 }, fn)).toBe(0);
    expect(() => registerNetdeviceNotifier(k, { name: "x", priority: 0 }, fn)).toThrow();
  });
});
