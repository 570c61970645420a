// `ifsim udevadm` and `ifsim run --link-dir/--rules-dir/--netplan`.

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliResult } from "../../src/cli/main.ts";
import { main } from "../../src/cli/main.ts";

const VM = `ifsim: 1
name: two NICs
kernel: "6.1"
devices:
  - id: a
    type: virtio-net
    mac: "52:54:00:00:00:0a"
    slot: 3
  - id: b
    type: virtio-net
    mac: "52:54:00:00:00:0b"
    slot: 4
steps:
  - settle
`;

function setup(): { dir: string; vm: string; links: string; rules: string } {
  const dir = mkdtempSync(join(tmpdir(), "ifsim-udevadm-"));
  const vm = join(dir, "vm.yaml");
  writeFileSync(vm, VM);
  const links = join(dir, "links");
  const rules = join(dir, "rules");
  mkdirSync(links);
  mkdirSync(rules);
  writeFileSync(
    join(links, "10-b.link"),
    "[Match]\nMACAddress=52:54:00:00:00:0b\n[Link]\nName=lan0\n",
  );
  writeFileSync(join(links, "README"), "not a link file\n");
  return { dir, vm, links, rules };
}

const sync = (r: CliResult | Promise<CliResult>): CliResult => r as CliResult;

describe("ifsim run --link-dir", () => {
  it("should turn udev on and read DIR/*.link, naming the other files on stderr", () => {
    const { vm, links } = setup();
    const r = sync(main(["run", vm, "--link-dir", links]));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/udevd +rename eth1 → lan0/);
    expect(r.stderr).toContain("README: not a .link file, not read");
  });

  it("should treat a symlink to /dev/null as a mask", () => {
    const { vm, links } = setup();
    symlinkSync("/dev/null", join(links, "99-default.link"));
    const r = sync(main(["run", vm, "--link-dir", links, "--json"]));
    const rec = JSON.parse(r.stdout) as { links: { ifname: string }[] };
    expect(rec.links.map((l) => l.ifname)).toEqual(["lo", "eth0", "lan0"]);
  });

  it("should refuse a missing directory and a flag without its value", () => {
    const { vm } = setup();
    expect(sync(main(["run", vm, "--rules-dir", "/nonexistent-x"])).status).toBe(2);
    expect(sync(main(["run", vm, "--netplan"])).stderr).toContain("--netplan needs a YAML file");
  });
});

describe("ifsim udevadm", () => {
  it("should print info DEV in udevadm's format", () => {
    const { vm, links } = setup();
    const r = sync(main(["udevadm", vm, "--link-dir", links, "info", "lan0"]));
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n").slice(0, 6)).toEqual([
      "P: /devices/pci0000:00/0000:00:04.0/virtio1/net/lan0",
      "M: lan0",
      "R: 0",
      "U: net",
      "I: 3",
      "E: DEVPATH=/devices/pci0000:00/0000:00:04.0/virtio1/net/lan0",
    ]);
    expect(r.stdout).toContain("E: ID_NET_LINK_FILE=/etc/systemd/network/10-b.link\n");
    expect(r.stdout).toContain("E: ID_NET_NAME=lan0\n");
  });

  it("should print test-builtin net_id for /sys/class/net/DEV", () => {
    const { vm, links } = setup();
    const r = sync(
      main(["udevadm", vm, "--link-dir", links, "test-builtin", "net_id", "/sys/class/net/enp0s3"]),
    );
    expect(r.stdout).toBe(
      "Using default interface naming scheme 'v256'.\nID_NET_NAMING_SCHEME=v256\nID_NET_NAME_MAC=enx52540000000a\nID_NET_NAME_PATH=enp0s3\n",
    );
  });

  it("should exit 2 for an unknown device or request", () => {
    const { vm, links } = setup();
    expect(sync(main(["udevadm", vm, "--link-dir", links, "info", "nope0"])).status).toBe(2);
    expect(sync(main(["udevadm", vm, "trigger"])).status).toBe(2);
    expect(sync(main(["udevadm", vm, "info", "eth0"])).stderr).toContain("has no udev: actor");
  });
});
