import { describe, expect, it } from "vitest";
import { parseLinkFile } from "../../../src/userspace/udev/link-config.ts";
import { type MatchSubject, netMatchConfig } from "../../../src/userspace/udev/net-match.ts";

const dev: MatchSubject = {
  name: "eth0",
  mac: "52:54:00:12:34:56",
  permanentMac: "52:54:00:12:34:56",
  path: "pci-0000:00:03.0",
  driver: "virtio_net",
  type: "ether",
  kind: null,
  properties: { ID_BUS: "pci" },
};

describe("parseLinkFile", () => {
  it("should parse [Match] lists and the naming keys of [Link]", () => {
    const r = parseLinkFile(
      "[Match]\nMACAddress=52:54:00:12:34:56 52:54:00:AA:BB:CC\nDriver=virtio_net e1000e\n[Link]\nName=lan0\nNamePolicy=path mac\nAlternativeNamesPolicy=mac\nAlternativeName=uplink\n",
      "/etc/systemd/network/10-lan.link",
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.link).toEqual({
      file: "10-lan.link",
      path: "/etc/systemd/network/10-lan.link",
      netMatch: {
        mac: ["52:54:00:12:34:56", "52:54:00:aa:bb:cc"],
        driver: ["virtio_net", "e1000e"],
      },
      name: "lan0",
      namePolicy: ["path", "mac"],
      alternativeNamesPolicy: ["mac"],
      alternativeNames: ["uplink"],
    });
  });

  it("should append repeated list keys, reset on an empty assignment and negate with !", () => {
    const r = parseLinkFile(
      "[Match]\nOriginalName=eth*\nOriginalName=\nOriginalName=!lo wl*\n[Link]\nName=x\n",
      "/etc/systemd/network/a.link",
    );
    expect(r.link?.netMatch?.originalName).toEqual(["!lo", "!wl*"]);
  });

  it("should report unknown sections and keys, and not-modelled keys, by line", () => {
    const r = parseLinkFile(
      "[Match]\nOriginalName=*\nHost=x\nFoo=1\n[Link]\nMTUBytes=9000\nBar=2\n[Frob]\nA=1\n",
      "/etc/systemd/network/a.link",
    );
    expect(r.diagnostics.map((d) => `${d.line} ${d.level}`)).toEqual([
      "8 warning",
      "3 info",
      "4 warning",
      "6 info",
      "7 warning",
    ]);
  });

  it("should not load a file whose [Match] is empty, as systemd", () => {
    const r = parseLinkFile("[Link]\nName=x\n", "/etc/systemd/network/a.link");
    expect(r.link).toBeNull();
    expect(r.diagnostics[0]?.message).toMatch(/No valid settings found in the \[Match\] section/);
  });

  it("should refuse invalid names, MACs and policies with a warning", () => {
    const r = parseLinkFile(
      "[Match]\nMACAddress=nope\nMACAddress=!52:54:00:12:34:56\nOriginalName=*\n[Link]\nName=a/b\nNamePolicy=path bogus\n",
      "/etc/systemd/network/a.link",
    );
    expect(r.link?.name).toBeUndefined();
    expect(r.link?.namePolicy).toEqual(["path"]);
    expect(r.link?.netMatch?.mac).toBeUndefined();
    expect(r.diagnostics.filter((d) => d.level === "warning")).toHaveLength(4);
  });
});

describe("netMatchConfig", () => {
  it("should match when every given list matches", () => {
    expect(netMatchConfig({ mac: ["52:54:00:12:34:56"], driver: ["virtio*"] }, dev)).toBe(true);
    expect(netMatchConfig({ mac: ["52:54:00:12:34:57"] }, dev)).toBe(false);
    expect(
      netMatchConfig({ permanentMac: ["52:54:00:12:34:56"] }, { ...dev, permanentMac: null }),
    ).toBe(false);
  });

  it("should refuse on a matching ! glob and need a positive match when there is one", () => {
    expect(netMatchConfig({ originalName: ["!eth0"] }, dev)).toBe(false);
    expect(netMatchConfig({ originalName: ["!wl*"] }, dev)).toBe(true);
    expect(netMatchConfig({ originalName: ["en*", "!wl*"] }, dev)).toBe(false);
  });

  it("should match Kind= and Type= as globs (no kind never matches a positive glob)", () => {
    expect(netMatchConfig({ kind: ["veth"] }, dev)).toBe(false);
    expect(netMatchConfig({ kind: ["!veth"] }, dev)).toBe(true);
    expect(netMatchConfig({ type: ["ether"] }, dev)).toBe(true);
  });

  it("should match Property= KEY=glob, negated with !", () => {
    expect(netMatchConfig({ property: ["ID_BUS=p*"] }, dev)).toBe(true);
    expect(netMatchConfig({ property: ["!ID_BUS=pci"] }, dev)).toBe(false);
    expect(netMatchConfig({ property: ["NOPE=*"] }, dev)).toBe(false);
  });
});
