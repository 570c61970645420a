// .link NamePolicy= (net_setup_link), [Match], the name database, ifname_valid, and the v256
// hwdb ID_NET_NAME_ALLOW lookup.

import { describe, expect, it } from "vitest";
import { parsePciAddr } from "../../../src/kernel/index.ts";
import {
  type ChooseNameInput,
  chooseName,
  DEFAULT_LINK_FILE,
  DEFAULT_NAME_POLICY,
  databaseName,
  fnmatch,
  hwdbNameAllow,
  ifnameValid,
  type LinkFile,
  matchLinkFile,
  type NamePolicy,
  type NetFacts,
  type NetIdNames,
  namingSysattrAllowed,
} from "../../../src/userspace/udev/index.ts";

const NAMES: NetIdNames = {
  ID_NET_NAME_MAC: "enx525400001253",
  ID_NET_NAME_ONBOARD: "eno1",
  ID_NET_NAME_SLOT: "ens3",
  ID_NET_NAME_PATH: "enp0s3",
};

const NET_NAME = { UNKNOWN: null, ENUM: 1, PREDICTABLE: 2, USER: 3, RENAMED: 4 } as const;

function choose(o: Partial<ChooseNameInput> = {}) {
  return chooseName({
    link: DEFAULT_LINK_FILE,
    names: NAMES,
    nameAssignType: NET_NAME.ENUM,
    scheme: "v255",
    ...o,
  });
}

function facts(o: Partial<NetFacts> = {}): NetFacts {
  const [domain, bus, slot, func] = parsePciAddr("0000:00:03.0");
  return {
    ifindex: 2,
    iflink: 2,
    name: "eth0",
    type: 1,
    address: "52:54:00:00:12:53",
    addrAssignType: 0,
    nameAssignType: 1,
    devPort: 0,
    physPortName: null,
    flags: 0,
    driver: "virtio_net",
    devpath: "/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0",
    pci: [
      {
        addr: "0000:00:03.0",
        domain,
        bus,
        slot,
        func,
        multifunction: false,
        bridge: false,
        hotplugSlot: 3,
        acpiIndex: null,
      },
    ],
    ...o,
  };
}

describe("NamePolicy= (v240+ ordered walk)", () => {
  it("should default to keep kernel database onboard slot path", () => {
    expect(DEFAULT_NAME_POLICY).toEqual(["keep", "kernel", "database", "onboard", "slot", "path"]);
    expect(DEFAULT_LINK_FILE.namePolicy).toBe(DEFAULT_NAME_POLICY);
  });

  it.each<[string, number | null, string | null, string | null]>([
    ["NET_NAME_UNKNOWN (unreadable): renamed", NET_NAME.UNKNOWN, "eno1", "onboard"],
    ["NET_NAME_ENUM: renamed", NET_NAME.ENUM, "eno1", "onboard"],
    ["NET_NAME_PREDICTABLE: kept by `kernel`", NET_NAME.PREDICTABLE, null, "kernel"],
    ["NET_NAME_USER: kept by `keep`", NET_NAME.USER, null, "keep"],
    ["NET_NAME_RENAMED: kept by `keep`", NET_NAME.RENAMED, null, "keep"],
  ])("%s", (_what, nat, name, policy) => {
    const c = choose({ nameAssignType: nat });
    expect(c.name).toBe(name);
    expect(c.policy).toBe(policy);
  });

  it("should take the first policy that yields a name, in the configured order", () => {
    const link = (namePolicy: readonly NamePolicy[]): LinkFile => ({ file: "x.link", namePolicy });
    expect(choose({ link: link(["path", "slot"]) }).name).toBe("enp0s3");
    expect(choose({ link: link(["mac"]) }).name).toBe("enx525400001253");
    expect(choose({ names: { ID_NET_NAME_PATH: "enp2s0" } }).name).toBe("enp2s0");
    expect(choose({ database: "lan0" }).name).toBe("lan0");
    expect(choose({ database: "lan0" }).log).toEqual(['Policy *database* yields "lan0".']);
  });

  it("should rename a userspace-named device again when `keep` is not in the list (ALLOW_RERENAMES)", () => {
    const link: LinkFile = { file: "x.link", namePolicy: ["slot"] };
    expect(choose({ link, nameAssignType: NET_NAME.RENAMED }).name).toBe("ens3");
    // `kernel` only keeps predictable names, ordered: a policy before it wins
    const slotFirst: LinkFile = { file: "x.link", namePolicy: ["slot", "kernel"] };
    expect(choose({ link: slotFirst, nameAssignType: NET_NAME.PREDICTABLE }).name).toBe("ens3");
  });

  it("should fall back to Name=, or leave the device alone", () => {
    const named: LinkFile = { file: "10-lan.link", namePolicy: ["onboard"], name: "lan0" };
    expect(choose({ link: named, names: {} })).toMatchObject({ name: "lan0", policy: "Name=" });
    expect(choose({ names: {} })).toMatchObject({ name: null, policy: null });
    // net.ifnames=0: only Name= applies
    expect(choose({ link: named, enableNamePolicy: false }).name).toBe("lan0");
    expect(choose({ enableNamePolicy: false }).name).toBeNull();
  });

  it("should skip names that fail ifname_valid", () => {
    const c = choose({ database: "much-too-long-name0" });
    expect(c.name).toBe("eno1");
    expect(c.log[0]).toBe('Policy *database* yields invalid name "much-too-long-name0", ignoring.');
  });
});

describe("NamePolicy= before naming scheme v240 (should_rename)", () => {
  it("should never rename a userspace-named device, whatever the list says", () => {
    const link: LinkFile = { file: "x.link", namePolicy: ["slot"] };
    expect(choose({ link, scheme: "v239", nameAssignType: NET_NAME.RENAMED }).name).toBeNull();
    expect(choose({ link, scheme: "v239", nameAssignType: NET_NAME.USER }).name).toBeNull();
    expect(choose({ link, scheme: "v239", nameAssignType: NET_NAME.ENUM }).name).toBe("ens3");
  });

  it("should keep a predictable kernel name when `kernel` is anywhere in the list", () => {
    const link: LinkFile = { file: "x.link", namePolicy: ["slot", "kernel"] };
    expect(choose({ link, scheme: "v238", nameAssignType: NET_NAME.PREDICTABLE }).name).toBeNull();
  });
});

describe("[Match] and the name database", () => {
  const lan: LinkFile = {
    file: "10-lan.link",
    match: { macAddress: "52:54:00:00:12:53" },
    name: "lan0",
  };
  const e1000e: LinkFile = { file: "20-e1000e.link", match: { driver: "e1000*" }, name: "vf0" };
  const byPath: LinkFile = {
    file: "30-path.link",
    match: { path: "pci-0000:00:04.*" },
    name: "p4",
  };
  const files = [lan, e1000e, byPath, DEFAULT_LINK_FILE];

  it("should apply the first matching file", () => {
    expect(matchLinkFile(files, facts(), "eth0")).toBe(lan);
    expect(
      matchLinkFile(files, facts({ address: "52:54:00:00:00:01", driver: "e1000e" }), "eth0"),
    ).toBe(e1000e);
    const slot4 = facts({ address: "52:54:00:00:00:02" });
    const p4 = {
      ...slot4,
      pci: [{ ...(slot4.pci[0] as NetFacts["pci"][number]), addr: "0000:00:04.0" }],
    };
    expect(matchLinkFile(files, p4, "eth0")).toBe(byPath);
    expect(matchLinkFile(files, facts({ address: "52:54:00:00:00:03" }), "eth0")).toBe(
      DEFAULT_LINK_FILE,
    );
    expect(
      matchLinkFile([{ file: "x.link", match: { originalName: "wl*" } }], facts(), "eth0"),
    ).toBeNull();
  });

  it("should look names up by MAC first, then by ID_PATH or PCI address", () => {
    expect(databaseName({ byMac: { "52:54:00:00:12:53": "wan0" } }, facts())).toBe("wan0");
    expect(databaseName({ byPath: { "pci-0000:00:03.0": "lan1" } }, facts())).toBe("lan1");
    expect(databaseName({ byPath: { "0000:00:03.0": "lan2" } }, facts())).toBe("lan2");
    expect(databaseName({}, facts())).toBeUndefined();
    expect(databaseName({ byPath: { "0000:00:03.0": "x" } }, facts({ pci: [] }))).toBeUndefined();
  });
});

describe("ifname_valid", () => {
  it.each([
    ["eth0", true],
    ["ens3nsby", true],
    ["abcdefghijklmno", true],
    ["abcdefghijklmnop", false],
    ["", false],
    [".", false],
    ["..", false],
    ["a/b", false],
    ["a:b", false],
    ["a b", false],
    ["123", false],
  ])("%s → %s", (name, ok) => {
    expect(ifnameValid(name)).toBe(ok);
  });
});

describe("hwdb ID_NET_NAME_ALLOW (v256)", () => {
  it("should match fnmatch patterns", () => {
    expect(fnmatch("net:naming:drvirtio_net:*", "net:naming:drvirtio_net:")).toBe(true);
    expect(fnmatch("net:naming:*", "net:naming:dre1000e:")).toBe(true);
    expect(fnmatch("net:naming:*:*", "net:naming:dre1000e:")).toBe(true);
    expect(fnmatch("net:naming:drvirtio_net:*", "net:naming:drnet_failover:")).toBe(false);
    expect(fnmatch("dr[ev]*", "drvirtio")).toBe(true);
    expect(fnmatch("dr[!ev]*", "drvirtio")).toBe(false);
    expect(fnmatch("e?000e", "e1000e")).toBe(true);
  });

  it("should import the properties of every matching entry, keyed by the ethtool driver", () => {
    const db = {
      "net:naming:*": { ID_NET_NAME_ALLOW_DEV_PORT: false },
      "net:naming:drvirtio_net:*": { PHYS_PORT_NAME: false },
    };
    expect(hwdbNameAllow(db, "virtio_net")).toEqual({
      ID_NET_NAME_ALLOW_DEV_PORT: "0",
      ID_NET_NAME_ALLOW_PHYS_PORT_NAME: "0",
    });
    // the failover master's ethtool driver is net_failover: the virtio_net entry does not apply
    expect(hwdbNameAllow(db, "net_failover")).toEqual({ ID_NET_NAME_ALLOW_DEV_PORT: "0" });
    expect(hwdbNameAllow(db, null)).toEqual({});
    expect(
      hwdbNameAllow({ "net:naming:*": { ID_NET_NAME_ALLOW: false, ALLOW: true } }, "x"),
    ).toEqual({
      ID_NET_NAME_ALLOW: "1",
    });
  });

  it("should decide per attribute, then by ID_NET_NAME_ALLOW, then allow", () => {
    expect(namingSysattrAllowed({}, "phys_port_name")).toBe(true);
    expect(namingSysattrAllowed({ ID_NET_NAME_ALLOW_PHYS_PORT_NAME: "0" }, "phys_port_name")).toBe(
      false,
    );
    expect(namingSysattrAllowed({ ID_NET_NAME_ALLOW: "0" }, "dev_port")).toBe(false);
    expect(
      namingSysattrAllowed({ ID_NET_NAME_ALLOW: "0", ID_NET_NAME_ALLOW_DEV_PORT: "1" }, "dev_port"),
    ).toBe(true);
  });
});
