// udev.files in a scenario: the model's udevd reads .link files, rules and netplan as on disk.

import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { udevFilesReport, udevGuestFiles } from "../../src/scenario/udev.ts";

function scenario(files: Record<string, string>, extra = ""): ScenarioDoc {
  const body = Object.entries(files)
    .map(
      ([p, t]) =>
        `    ${p}: |\n${t
          .split("\n")
          .map((l) => `      ${l}`)
          .join("\n")}`,
    )
    .join("\n");
  const text = `ifsim: 1
name: t
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
udev:
  generation: v253
${extra}  files:
${body}
steps:
  - settle
`;
  const p = parseScenario(text, "t.yaml");
  if (!p.ok) throw new Error(p.issues.map((i) => i.message).join("\n"));
  return p.scenario;
}

const names = (sc: ScenarioDoc): string[] =>
  runScenario(sc)
    .links.map((l) => l.ifname)
    .filter((n) => n !== "lo");

describe("udev.files", () => {
  it("should name a device by a .link matching its MAC, the other by 99-default.link", () => {
    const sc = scenario({
      "/etc/systemd/network/10-b.link":
        "[Match]\nMACAddress=52:54:00:00:00:0b\n[Link]\nName=lan0\n",
    });
    expect(names(sc)).toEqual(["enp0s3", "lan0"]);
    const rec = runScenario(sc);
    const b = rec.udevDevices?.find((d) => d.name === "lan0");
    expect(b?.properties.ID_NET_LINK_FILE).toBe("/etc/systemd/network/10-b.link");
    expect(b?.properties.ID_NET_NAME_PATH).toBe("enp0s4");
  });

  it("should let a rule's NAME= after 80-net-setup-link.rules win over the .link name", () => {
    const sc = scenario({
      "/etc/udev/rules.d/90-wan.rules":
        'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:00:00:0a", NAME="wan0"\n',
    });
    expect(names(sc)).toEqual(["wan0", "enp0s4"]);
  });

  it('should let a rule before 80-net-setup-link.rules keep its NAME (NAME=="" fails there)', () => {
    const sc = scenario({
      "/etc/udev/rules.d/70-wan.rules": 'KERNEL=="eth0", NAME="first0"\n',
    });
    expect(names(sc)).toEqual(["first0", "enp0s4"]);
  });

  it("should keep kernel names when 80-net-setup-link.rules is masked by an empty file", () => {
    const sc = scenario({ "/etc/udev/rules.d/80-net-setup-link.rules": "" });
    expect(names(sc)).toEqual(["eth0", "eth1"]);
  });

  it("should keep kernel names when 99-default.link is masked", () => {
    const sc = scenario({ "/etc/systemd/network/99-default.link": "" });
    expect(names(sc)).toEqual(["eth0", "eth1"]);
  });

  it("should apply name_policy to udev's own 99-default.link", () => {
    const sc = scenario(
      { "/etc/udev/rules.d/00-none.rules": "# nothing\n" },
      "  name_policy: [mac]\n",
    );
    expect(names(sc)).toEqual(["enx52540000000a", "enx52540000000b"]);
  });

  it("should report what it does not take, by file and line, in the record", () => {
    const sc = scenario({
      "/etc/udev/rules.d/70.rules": 'SUBSYSTEM=="net", RUN+="/bin/x"\n',
      "/etc/systemd/network/10.link": "[Match]\nOriginalName=eth9\n[Link]\nMTUBytes=9000\n",
    });
    expect(runScenario(sc).udevConfig).toEqual([
      "/etc/systemd/network/10.link:4: info: [Link] MTUBytes= does not affect naming and is not modelled, ignored",
      "/etc/udev/rules.d/70.rules:1: error: RUN+= is not in the model's rule subset: rule line not used",
    ]);
    expect(udevFilesReport(sc.udev)).toHaveLength(2);
  });

  it("should give the guest the user's files and netplan's output, not the YAML", () => {
    const sc = scenario({
      "/etc/netplan/a.yaml":
        'network:\n  version: 2\n  ethernets:\n    e:\n      match: {macaddress: "52:54:00:00:00:0a"}\n      set-name: lan0\n',
      "/etc/systemd/network/10.link": "[Match]\nOriginalName=x\n[Link]\nName=y\n",
    });
    expect(Object.keys(udevGuestFiles(sc.udev)).sort()).toEqual([
      "/etc/systemd/network/10.link",
      "/run/systemd/network/10-netplan-e.link",
      "/run/udev/rules.d/99-netplan-e.rules",
    ]);
    expect(names(sc)).toEqual(["lan0", "enp0s4"]);
  });

  it("should refuse a relative path in the schema", () => {
    const p = parseScenario(
      'ifsim: 1\nname: t\nudev:\n  files:\n    etc/x.link: ""\nsteps: [settle]\n',
      "t.yaml",
    );
    expect(p.ok).toBe(false);
  });
});

describe("udev.start: late in a scenario", () => {
  const text = (starts: string) => `ifsim: 1
name: t
kernel: "6.1"
devices:
  - id: net0
    type: virtio-net
    mac: "52:54:00:12:34:56"
    standby: true
    slot: 3
  - id: vf0
    type: pci-nic
    mac: "52:54:00:12:34:56"
    slot: 4
udev:
  start: late
${starts}steps:
  - settle
`;

  it("should start udevd once boot is quiescent, trigger add, and start the steps after settle", () => {
    const p = parseScenario(text(""), "t.yaml");
    if (!p.ok) throw new Error(p.issues.map((i) => i.message).join("\n"));
    const r = runScenario(p.scenario);
    const tl = r.timeline.map((e) => `${e.actor} ${e.what}`);
    const start = tl.indexOf(
      "udevd udevd starts after boot; udevadm trigger --action=add: 4 net events",
    );
    const steps = tl.findIndex((l) => l.startsWith("script boot is quiescent"));
    const renames = tl.filter((l) => l.startsWith("udevd rename "));
    expect(start).toBeGreaterThan(0);
    // nothing renamed before the start (the boot's uevents were lost), all before the steps
    expect(tl.slice(0, start).filter((l) => l.startsWith("udevd rename "))).toEqual([]);
    expect(renames).toEqual([
      "udevd rename eth0 → enp0s3",
      "udevd rename eth1 → enp0s3nsby",
      "udevd rename eth2 → enp1s0",
    ]);
    expect(tl.lastIndexOf(renames.at(-1) as string)).toBeLessThan(steps);
    // the boot was quiescent when udevd started: the last linkwatch run came before it
    expect(r.timeline[start]?.t).toBeGreaterThanOrEqual(1_000_000);
    expect(r.links.map((l) => l.ifname)).toEqual(["lo", "enp0s3", "enp0s3nsby", "enp1s0"]);
  });

  it("should refuse it with script_starts: boot, at the key", () => {
    const p = parseScenario(text("script_starts: boot\n"), "t.yaml");
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      expect.stringMatching(/^udev\.start: udev\.start: late .*needs script_starts: quiescent/),
    ]);
  });
});
