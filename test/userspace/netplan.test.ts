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
});
