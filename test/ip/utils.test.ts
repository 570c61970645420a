import { describe, expect, it } from "vitest";
import {
  checkAltifname,
  checkIfname,
  getInteger,
  type IpIo,
  llAddrA2n,
  llAddrN2a,
  matches,
} from "../../src/ip/utils.ts";

function io(): IpIo & { errs: string } {
  const o = { errs: "", out: () => {}, err: (s: string) => (o.errs += s) };
  return o;
}

describe("matches", () => {
  it("should accept any non-empty prefix of the keyword (as lib/utils.c matches())", () => {
    expect(matches("a", "address")).toBe(true);
    // `ip link show ""` looks for a device "" (Device "" does not exist., exit 1), not help.
    expect(matches("", "link")).toBe(false);
    expect(matches("addresses", "address")).toBe(false);
    expect(matches("mt", "mtu")).toBe(true);
  });
});

describe("getInteger", () => {
  it("should parse like strtol base 0 into a C int", () => {
    expect(getInteger("1500")).toBe(1500);
    expect(getInteger("-1")).toBe(-1);
    expect(getInteger("0x10")).toBe(16);
    expect(getInteger("010")).toBe(8);
  });
  it("should reject garbage and values outside int", () => {
    expect(getInteger("abc")).toBeNull();
    expect(getInteger("")).toBeNull();
    expect(getInteger("12x")).toBeNull();
    expect(getInteger("4294967296")).toBeNull();
    expect(getInteger("2147483648")).toBeNull();
    expect(getInteger("08")).toBeNull();
  });
});

describe("llAddrA2n", () => {
  it("should parse colon-separated hex bytes of any length", () => {
    expect(llAddrN2a(llAddrA2n(io(), "2:0:0:0:0:1") ?? [])).toBe("02:00:00:00:00:01");
    expect(llAddrA2n(io(), "02:00:00:00:00")).toHaveLength(5);
    expect(llAddrA2n(io(), "02-00-00-00-00-03")).toEqual([2]);
    expect(llAddrA2n(io(), "0200.0000.0004")).toHaveLength(4);
  });
  it("should report the failing segment", () => {
    const o = io();
    expect(llAddrA2n(o, "zz")).toBeNull();
    expect(o.errs).toBe('"zz" is invalid lladdr.\n');
  });
});

describe("checkIfname", () => {
  it("should mirror check_ifname and check_altifname", () => {
    expect(checkIfname("abcdefghijklmno")).toBe(true);
    expect(checkIfname("abcdefghijklmnop")).toBe(false);
    expect(checkIfname("a/b")).toBe(false);
    expect(checkIfname("a\tb")).toBe(false);
    expect(checkIfname("")).toBe(false);
    expect(checkIfname("a:b")).toBe(true);
    expect(checkAltifname("abcdefghijklmnopqrstuvwxyz")).toBe(true);
  });
});
