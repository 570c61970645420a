// The generic test NIC: eth%d names, permanent MAC, carrier with open, configurable open error.

import { describe, expect, it } from "vitest";
import {
  devClose,
  devOpen,
  err,
  genericEthCreate,
  genericEthSetOpenError,
  NET_NAME,
} from "../../../src/kernel/index.ts";
import { boot, E2, nic } from "../../_helpers/kernel.ts";

describe("genericEthCreate", () => {
  it("should register eth0, eth1 … with NET_NAME_ENUM and perm_addr = MAC", () => {
    const k = boot(E2);
    const a = nic(k, { mac: "52:54:00:00:00:01" });
    const b = nic(k);
    expect([a.name, b.name]).toEqual(["eth0", "eth1"]);
    expect(a.nameAssignType).toBe(NET_NAME.ENUM);
    expect(a.permAddr).toBe("52:54:00:00:00:01");
    expect(a.carrier).toBe(false);
  });

  it("should return register_netdev's error for a taken name", () => {
    const k = boot(E2);
    expect(genericEthCreate(k, { mac: "02:00:00:00:00:01", name: "lo" })).toBe(err("EEXIST"));
  });
});

describe("genericEthSetOpenError", () => {
  it("should make ndo_open fail until cleared", () => {
    const k = boot(E2);
    const d = nic(k, { openError: err("EIO") });
    expect(devOpen(k, d)).toBe(err("EIO"));
    genericEthSetOpenError(d, 0);
    expect(devOpen(k, d)).toBe(0);
    expect(d.carrier).toBe(true);
    devClose(k, d);
    expect(d.carrier).toBe(false);
  });
});
