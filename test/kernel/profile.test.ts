// The version table (spec §A): eras and the sub-era switches each kernel version gets.

import { describe, expect, it } from "vitest";
import {
  describeKernels,
  profileFor,
  SUPPORTED_KERNELS,
  UnknownKernelError,
} from "../../src/kernel/index.ts";

describe("profileFor", () => {
  it.each([
    ["4.18", "E0", "never"],
    ["4.19", "E0", "never"],
    ["5.0", "E0", "never"],
    ["5.1", "E1", "flag"],
    ["5.5", "E1", "flag"],
    ["6.1", "E1", "flag"],
    ["6.2", "E2", "always"],
    ["6.7", "E2", "always"],
    ["6.18", "E2", "always"],
  ] as const)("§A / R1: %s should be era %s (rename while UP: %s)", (v, era, mode) => {
    const p = profileFor(v);
    expect(p.era).toBe(era);
    expect(p.renameWhileUp).toBe(mode);
    expect(p.renameLogWhileUp).toBe(era === "E2");
  });

  it.each([
    ["5.4", false],
    ["5.5", true],
    ["6.1", true],
  ] as const)("§A: altnames in %s should be %s (v5.5+)", (v, on) => {
    expect(profileFor(v).altnames).toBe(on);
  });

  it.each([
    ["6.6", false],
    ["6.7", true],
    ["6.18", true],
  ] as const)("§A / V3: %%d returns 0 in %s: %s (~v6.7+)", (v, on) => {
    expect(profileFor(v).allocNameReturnsZero).toBe(on);
  });

  it("should accept patch levels and distro suffixes", () => {
    expect(profileFor("6.1.0-56-amd64").version).toBe("6.1");
    expect(profileFor("4.19.71").era).toBe("E0");
    expect(profileFor(" 6.18.44 ").version).toBe("6.18");
  });

  it("should throw UnknownKernelError for an unsupported or malformed version", () => {
    expect(() => profileFor("3.10")).toThrow(UnknownKernelError);
    expect(() => profileFor("six")).toThrow(/supported versions are 4\.18/);
  });

  it("should default to mainline net_failover (no takeover delay)", () => {
    expect(profileFor("4.19").takeoverDelayMs).toBeNull();
    expect(profileFor("4.19", { takeoverDelayMs: 100 }).takeoverDelayMs).toBe(100);
  });

  it("should describe every supported version", () => {
    expect(describeKernels()).toHaveLength(SUPPORTED_KERNELS.length);
    expect(SUPPORTED_KERNELS).toContain("6.18");
  });
});

describe("profileFor rollback log wording", () => {
  it.each([
    ["5.0", true],
    ["5.15", true],
    ["6.1", false],
    ["6.18", false],
  ])("R11 (%s): pr_err wording should be %s (netdev_err from v5.16)", (v, prErr) => {
    expect(profileFor(v).rollbackLogPrErr).toBe(prErr);
  });
});
