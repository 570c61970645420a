import { describe, expect, it } from "vitest";
import { netplanGenerate } from "../../src/userspace/netplan.ts";

describe("netplanGenerate", () => {
  it("should write netplan's .link and .rules for match macaddress + set-name", () => {
    const r = netplanGenerate({
      "/etc/netplan/50-cloud-init.yaml":
        'network:\n  version: 2\n  ethernets:\n    eth0:\n      match:\n        macaddress: "52:54:00:12:34:56"\n      set-name: eth0\n      dhcp4: true\n',
    });
    expect(r.files).toEqual({
      "/run/systemd/network/10-netplan-eth0.link":
        "[Match]\nPermanentMACAddress=52:54:00:12:34:56\n\n[Link]\nName=eth0\nWakeOnLan=off\n",
      "/run/udev/rules.d/99-netplan-eth0.rules":
        'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="52:54:00:12:34:56", NAME="eth0"\n',
    });
    expect(r.diagnostics.map((d) => [d.line, d.level])).toEqual([[8, "info"]]);
  });

  it("should write Driver= and OriginalName= and no rule without mac or driver", () => {
    const r = netplanGenerate({
      "/etc/netplan/a.yaml":
        "network:\n  version: 2\n  ethernets:\n    x:\n      match: {name: 'ens*'}\n      set-name: lan\n",
    });
    expect(Object.keys(r.files)).toEqual(["/run/systemd/network/10-netplan-x.link"]);
    expect(r.files["/run/systemd/network/10-netplan-x.link"]).toContain("OriginalName=ens*");
  });

  it("should let /run/netplan mask a same-named /etc/netplan file", () => {
    const y = (n: string) =>
      `network:\n  version: 2\n  ethernets:\n    e:\n      match: {driver: virtio_net}\n      set-name: ${n}\n`;
    const r = netplanGenerate({ "/etc/netplan/a.yaml": y("one"), "/run/netplan/a.yaml": y("two") });
    expect(r.files["/run/systemd/network/10-netplan-e.link"]).toContain("Name=two");
  });

  it("should refuse set-name without match and report YAML errors by line", () => {
    const r = netplanGenerate({
      "/etc/netplan/a.yaml": "network:\n  version: 2\n  ethernets:\n    e:\n      set-name: x\n",
      "/etc/netplan/b.yaml": "network: [\n",
    });
    expect(r.files).toEqual({});
    expect(r.diagnostics.map((d) => `${d.file}:${d.level}`)).toEqual([
      "/etc/netplan/b.yaml:error",
      "/etc/netplan/a.yaml:error",
    ]);
  });

  it("should write a driver list as netplan does: Driver= space-separated, DRIVERS== tab-joined", () => {
    const r = netplanGenerate({
      "/etc/netplan/a.yaml":
        'network:\n  version: 2\n  ethernets:\n    e:\n      match:\n        driver: ["virtio-pci", "e1000e"]\n      set-name: lan0\n',
    });
    expect(r.files["/run/systemd/network/10-netplan-e.link"]).toBe(
      "[Match]\nDriver=virtio-pci e1000e\n\n[Link]\nName=lan0\nWakeOnLan=off\n",
    );
    expect(r.files["/run/udev/rules.d/99-netplan-e.rules"]).toBe(
      'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="virtio-pci\te1000e", NAME="lan0"\n',
    );
    expect(r.diagnostics.filter((d) => d.level !== "info")).toEqual([]);
  });

  it("should refuse a driver glob with whitespace and an empty driver list, by line", () => {
    const y = (drv: string) =>
      `network:\n  version: 2\n  ethernets:\n    e:\n      match:\n        driver: ${drv}\n      set-name: x\n`;
    for (const [drv, msg] of [
      ['"a b"', "A 'driver' glob cannot contain whitespace"],
      ['["a", "b c"]', "A 'driver' glob cannot contain whitespace"],
      ["[]", "invalid sequence for 'driver'"],
      ["{x: 1}", "must be a scalar or a sequence of scalars"],
    ] as const) {
      const r = netplanGenerate({ "/etc/netplan/a.yaml": y(drv) });
      expect(r.diagnostics[0]?.line, drv).toBe(6);
      expect(r.diagnostics[0]?.message, drv).toContain(msg);
      expect(r.diagnostics[0]?.level, drv).toBe("error");
    }
  });
});
