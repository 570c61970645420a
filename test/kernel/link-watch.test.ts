// Rule O5: carrier changes flip the bit at once; linkwatch later recomputes operstate and, for
// an UP device, calls netdev_state_change (NETDEV_CHANGE + RTM_NEWLINK).

import { describe, expect, it } from "vitest";
import {
  defaultOperstate,
  devClose,
  devOpen,
  genericEthSetLink,
  IF_OPER,
  LINKWATCH_HZ,
  LINKWATCH_WORK,
  netifCarrierOff,
  netifCarrierOn,
  netSysfsRead,
  nextWorkDue,
  rtnlDumpLinks,
  rtnlGetlink,
  unregisterNetdevice,
} from "../../src/kernel/index.ts";
import { boot, E0, E1, E2, events, nic, runDueNow, settle, veth } from "../_helpers/kernel.ts";

describe("netifCarrierOn", () => {
  it.each([E0, E1, E2])(
    "O5 (%s): should flip the carrier at once and defer operstate to linkwatch",
    (v) => {
      const k = boot(v);
      const d = nic(k);
      expect(devOpen(k, d)).toBe(0);
      expect(d.carrier).toBe(true);
      expect(d.operstate).toBe(IF_OPER.DOWN);
      expect(d.linkwatchPending).toBe(true);
      expect(settle(k) > 0).toBe(true);
      expect(d.operstate).toBe(IF_OPER.UP);
    },
  );

  it("O5: the linkwatch run for an UP device should emit NETDEV_CHANGE then RTM_NEWLINK", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    expect(events(k, () => settle(k))).toEqual([
      "notify NETDEV_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
  });

  it("O5: a carrier change of a DOWN device should update operstate with no events", () => {
    const k = boot(E2);
    const d = nic(k);
    genericEthSetLink(k, d, true);
    expect(events(k, () => settle(k))).toEqual([]);
    expect(d.operstate).toBe(IF_OPER.UP);
  });

  it("O5: a repeated carrier_on should be a no-op", () => {
    const k = boot(E2);
    const d = nic(k);
    netifCarrierOn(k, d);
    const ups = d.carrierUpCount;
    netifCarrierOn(k, d);
    expect(d.carrierUpCount).toBe(ups);
  });

  it("O5: non-urgent events should be batched at most once per second", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    expect(nextWorkDue(k)).toBe(0);
    settle(k);
    k.clock.advanceBy(100_000);
    netifCarrierOff(k, d);
    expect(nextWorkDue(k)).toBe(LINKWATCH_HZ);
    expect(runDueNow(k)).toBe(0);
    expect(d.operstate).toBe(IF_OPER.UP);
    expect(events(k, () => settle(k))).toEqual([
      "notify NETDEV_CHANGE eth0",
      "rtnl RTM_NEWLINK eth0",
    ]);
    expect(d.operstate).toBe(IF_OPER.DOWN);
    expect(k.clock.now()).toBe(LINKWATCH_HZ);
  });

  it("O5: a veth event (iflink ≠ ifindex) on a running device should be urgent (run at once)", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "a", "b");
    settle(k);
    expect(devOpen(k, a)).toBe(0);
    settle(k);
    k.clock.advanceBy(100_000);
    expect(devOpen(k, b)).toBe(0);
    expect(nextWorkDue(k)).toBe(k.clock.now());
    runDueNow(k);
    expect([a.operstate, b.operstate]).toEqual([IF_OPER.UP, IF_OPER.UP]);
  });

  it("O5: a veth up with its peer down should end LOWERLAYERDOWN (OBSERVATIONS [03])", () => {
    const k = boot(E2);
    const [a, b] = veth(k, "a", "b");
    expect(devOpen(k, a)).toBe(0);
    settle(k);
    expect(a.operstate).toBe(IF_OPER.LOWERLAYERDOWN);
    expect(devOpen(k, b)).toBe(0);
    settle(k);
    devClose(k, b);
    settle(k);
    expect(a.operstate).toBe(IF_OPER.LOWERLAYERDOWN);
  });

  it("O5: a device unregistered while pending should be forgotten", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    unregisterNetdevice(k, d);
    expect(k.state.linkwatch.list).not.toContain(d.ifindex);
    expect(events(k, () => settle(k))).toEqual([]);
  });

  it("O5: the work item should be the linkwatch work", () => {
    const k = boot(E2);
    nic(k);
    genericEthSetLink(k, k.state.devices.get(2) as never, true);
    expect(k.state.work.map((w) => w.name)).toEqual([LINKWATCH_WORK]);
  });
});

describe("defaultOperstate", () => {
  it("O5: should be DOWN without carrier, UP with carrier, DORMANT when dormant", () => {
    const k = boot(E2);
    const d = nic(k);
    d.carrier = false;
    expect(defaultOperstate(k, d)).toBe(IF_OPER.DOWN);
    d.carrier = true;
    expect(defaultOperstate(k, d)).toBe(IF_OPER.UP);
    d.dormant = true;
    expect(defaultOperstate(k, d)).toBe(IF_OPER.DORMANT);
  });
});

describe("linkwatch_sync_dev (v6.8+, facd15dfd691)", () => {
  it.each([
    ["6.7", false],
    ["6.12", true],
    ["6.18", true],
  ] as const)("on %s a getlink of one device should run its pending event first: %s", (v, sync) => {
    const k = boot(v);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    expect(d.linkwatchPending).toBe(true);
    const ev = events(k, () => rtnlGetlink(k, { ifindex: d.ifindex }));
    expect(ev).toEqual(sync ? ["notify NETDEV_CHANGE eth0", "rtnl RTM_NEWLINK eth0"] : []);
    expect(d.linkwatchPending).toBe(!sync);
    expect(d.operstate).toBe(sync ? IF_OPER.UP : IF_OPER.DOWN);
    // The work still runs later; on 6.8+ it finds nothing left for this device.
    expect(events(k, () => settle(k))).toEqual(
      sync ? [] : ["notify NETDEV_CHANGE eth0", "rtnl RTM_NEWLINK eth0"],
    );
  });

  it("should run a running device's pending event when sysfs carrier is read (6.18)", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    expect(netSysfsRead(k, d.name, "carrier")).toEqual({ text: "1\n" });
    expect(d.linkwatchPending).toBe(false);
    expect(d.operstate).toBe(IF_OPER.UP);
  });

  it("should leave the pending list alone for a dump (rtnl_dump_ifinfo does not sync)", () => {
    const k = boot(E2);
    const d = nic(k);
    expect(devOpen(k, d)).toBe(0);
    rtnlDumpLinks(k);
    expect(d.linkwatchPending).toBe(true);
  });
});
