import { describe, expect, it } from "vitest";
import { loadUdevFiles } from "../../../src/userspace/udev/udev-files.ts";

describe("loadUdevFiles", () => {
  it("should order .link files by base name across directories, /etc masking /run and /usr/lib", () => {
    const u = loadUdevFiles(
      {
        "/run/systemd/network/10-a.link": "[Match]\nOriginalName=*\n[Link]\nName=run\n",
        "/etc/systemd/network/10-a.link": "[Match]\nOriginalName=*\n[Link]\nName=etc\n",
        "/etc/systemd/network/05-b.link": "[Match]\nDriver=x\n[Link]\nName=b\n",
      },
      { generation: "v253" },
    );
    expect(u.links.map((l) => `${l.path} ${l.name ?? ""}`)).toEqual([
      "/etc/systemd/network/05-b.link b",
      "/etc/systemd/network/10-a.link etc",
      "/usr/lib/systemd/network/99-default.link ",
    ]);
    expect(u.masked).toEqual([
      { path: "/run/systemd/network/10-a.link", by: "/etc/systemd/network/10-a.link" },
    ]);
  });

  it("should let an empty file mask udev's own 99-default.link and 80-net-setup-link.rules", () => {
    const u = loadUdevFiles(
      {
        "/etc/systemd/network/99-default.link": "",
        "/etc/udev/rules.d/80-net-setup-link.rules": "",
      },
      { generation: "v253" },
    );
    expect(u.links).toEqual([]);
    expect(u.rules.map((r) => [r.path, r.lines.length])).toEqual([
      ["/etc/udev/rules.d/80-net-setup-link.rules", 0],
    ]);
  });

  it("should run netplan and put its output with the user's files", () => {
    const u = loadUdevFiles(
      {
        "/etc/netplan/a.yaml":
          "network:\n  version: 2\n  ethernets:\n    e:\n      match: {macaddress: '52:54:00:12:34:56'}\n      set-name: lan0\n",
      },
      { generation: "v253" },
    );
    expect(u.links.map((l) => l.path)).toEqual([
      "/run/systemd/network/10-netplan-e.link",
      "/usr/lib/systemd/network/99-default.link",
    ]);
    expect(u.rules.map((r) => r.path)).toEqual([
      "/usr/lib/udev/rules.d/80-net-setup-link.rules",
      "/run/udev/rules.d/99-netplan-e.rules",
    ]);
  });

  it("should report files outside the known directories and drop-ins", () => {
    const u = loadUdevFiles(
      { "/tmp/x.link": "", "/etc/systemd/network/99-default.link.d/a.conf": "" },
      { generation: "v253" },
    );
    expect(u.diagnostics.map((d) => d.level)).toEqual(["error", "error"]);
    expect(u.diagnostics[1]?.message).toMatch(/drop-in/);
  });

  it("should ship 99-default.link without keep or AlternativeNamesPolicy= for legacy udev", () => {
    const legacy = loadUdevFiles({}, { generation: "legacy" }).links[0];
    expect(legacy?.namePolicy).toEqual(["kernel", "database", "onboard", "slot", "path"]);
    expect(legacy?.alternativeNamesPolicy).toBeUndefined();
  });
});
