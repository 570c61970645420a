// `ifsim machines` and `ifsim ip --machine NAME|FILE.json` (src/cli/machines.ts, src/cli/ip.ts):
// listings of the built-in failover VM against what iproute2 6.1 printed on Debian's 6.1 guest
// (test/fixtures/qemu-6.1 step 1), machine JSON files, --dmesg, --uek-takeover-delay and the
// `#ifsim:` batch directives.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { FAILOVER_VM, type MachineSpec, VIRTIO_VM } from "../../src/machine/index.ts";

const TMP = mkdtempSync(join(tmpdir(), "ifsim-cli-machine-"));
let seq = 0;

/** Writes `text` to a fresh temp file with `suffix` and returns its path. */
function tmpFile(text: string, suffix: string): string {
  const p = join(TMP, `f${seq++}${suffix}`);
  writeFileSync(p, text);
  return p;
}

function machineFile(doc: unknown): string {
  return tmpFile(typeof doc === "string" ? doc : JSON.stringify(doc), ".json");
}

function ip(...args: string[]) {
  return main(["ip", "--kernel", "6.1", ...args]);
}

/** Seconds of a dmesg line's "[    4.400000] " prefix. */
function stamp(line: string | undefined): number {
  const m = /^\[\s*(\d+)\.(\d{6})\] /.exec(line ?? "");
  if (!m) throw new Error(`not a dmesg line: ${line}`);
  return Number(m[1]) + Number(m[2]) / 1e6;
}

const LINK_LO =
  "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n";

/** `ip link` on the freshly booted guest (fixture 01, command 1.102). */
const IP_LINK =
  LINK_LO +
  "2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff\n" +
  "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff\n" +
  "4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/ether 52:54:00:00:12:99 brd ff:ff:ff:ff:ff:ff\n" +
  "5: eth3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff\n";

const D_TAIL =
  "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536";

/** `ip -d link` on the freshly booted guest (fixture 01, command 1.103). */
const IP_D_LINK =
  "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n" +
  "2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
  "    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 9212 addrgenmode eui64 numtxqueues 16 numrxqueues 16 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 parentbus virtio parentdev virtio0 \n" +
  "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000\n" +
  `    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ${D_TAIL} portname sby parentbus virtio parentdev virtio0 \n` +
  "4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
  `    link/ether 52:54:00:00:12:99 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ${D_TAIL} parentbus virtio parentdev virtio1 \n` +
  "5: eth3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000\n" +
  `    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 9212 ${D_TAIL} parentbus pci parentdev 0000:02:00.0 \n`;

const BOOT_DMESG = [
  "[    0.000000] virtio_net virtio0 eth0: failover master:eth0 registered",
  "[    0.000000] virtio_net virtio0 eth0: failover standby slave:eth1 registered",
  "[    0.000000] e1000e: Intel(R) PRO/1000 Network Driver",
  "[    0.000000] e1000e: Copyright(c) 1999 - 2015 Intel Corporation.",
  "[    0.000000] e1000e 0000:02:00.0: enabling device (0000 -> 0002)",
  "[    0.000000] e1000e 0000:02:00.0: Interrupt Throttling Rate (ints/sec) set to dynamic conservative mode",
  "[    0.000000] e1000e 0000:02:00.0 0000:02:00.0 (uninitialized): registered PHC clock",
  "[    0.000000] virtio_net virtio0 eth0: failover primary slave:eth3 registered",
  "[    0.000000] e1000e 0000:02:00.0 eth3: (PCI Express:2.5GT/s:Width x1) 52:54:00:00:12:53",
  "[    0.000000] e1000e 0000:02:00.0 eth3: Intel(R) PRO/1000 Network Connection",
  "[    0.000000] e1000e 0000:02:00.0 eth3: MAC: 3, PHY: 8, PBA No: 000000-000",
].join("\n");

/** A valid machine document: one plain virtio-net and one e1000e, no failover. */
const TWO_NICS = {
  name: "two-nics",
  description: "virtio-net + e1000e",
  defaultQdisc: "pfifo_fast",
  cpus: 1,
  modules: ["virtio_pci", "virtio_net", "e1000e"],
  devices: [
    { addr: "0000:00:03.0", model: "virtio-net", id: "n0", mac: "52:54:00:00:00:01" },
    { addr: "0000:00:04.0", model: "e1000e", id: "e0", mac: "52:54:00:00:00:02" },
  ],
};

describe("ifsim machines", () => {
  it("should list failover-vm with its QEMU devices and the guest modules", () => {
    const r = main(["machines"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(
      "failover-vm\n" +
        "  QEMU q35: virtio-net standby (00:03.0) + plain virtio-net (00:04.0) + e1000e primary (02:00.0, plugged after STANDBY negotiation)\n" +
        "  modules: virtio_pci failover net_failover virtio_net e1000e; default_qdisc fq_codel\n" +
        "    0000:00:03.0 virtio-net id=standby0 mac=52:54:00:00:12:53 failover=on\n" +
        "    0000:00:04.0 virtio-net id=net1 mac=52:54:00:00:12:99\n" +
        "    0000:00:05.0 pcie-root-port id=rp1 bus 1 behind it\n" +
        "    0000:00:06.0 pcie-root-port id=rp2 bus 2 behind it\n" +
        "    0000:02:00.0 e1000e id=primary0 mac=52:54:00:00:12:53 failover_pair_id=standby0\n",
    );
    expect(r.stdout).toContain(
      "virtio-vm\n" +
        "  QEMU q35 with one plain virtio-net at 00:03.0 (no failover)\n" +
        "  modules: virtio_pci virtio_net; default_qdisc fq_codel\n" +
        "    0000:00:03.0 virtio-net id=net0 mac=52:54:00:00:12:53\n",
    );
  });

  it("should print the specs as JSON with --json (and -j)", () => {
    const r = main(["machines", "--json"]);
    expect(r.status).toBe(0);
    const specs = JSON.parse(r.stdout) as MachineSpec[];
    expect(specs.find((s) => s.name === "failover-vm")).toEqual(FAILOVER_VM);
    expect(specs.find((s) => s.name === "virtio-vm")).toEqual(VIRTIO_VM);
    expect(main(["machines", "-j"]).stdout).toBe(r.stdout);
  });

  it("should refuse an unknown option with exit 2", () => {
    expect(main(["machines", "--bogus"])).toMatchObject({
      stdout: "",
      stderr: 'ifsim machines: unknown option "--bogus" (see ifsim machines --help)\n',
      status: 2,
    });
  });
});

describe("ifsim ip --machine failover-vm", () => {
  it("should print ip link exactly as iproute2 6.1 did on the guest", () => {
    expect(ip("--machine", "failover-vm", "link")).toMatchObject({
      stdout: IP_LINK,
      stderr: "",
      status: 0,
    });
  });

  it("should print ip -d link exactly as on the guest: master, portname, parentbus, parentdev", () => {
    const r = ip("--machine", "failover-vm", "-d", "link");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(IP_D_LINK);
  });

  it("should show portname sby on the standby only", () => {
    const r = ip("--machine", "failover-vm", "-d", "link", "show", "dev", "eth1");
    expect(r.stdout).toMatch(/ portname sby parentbus virtio parentdev virtio0 \n$/);
    for (const d of ["eth0", "eth2", "eth3"])
      expect(ip("--machine", "failover-vm", "-d", "link", "show", "dev", d).stdout).not.toContain(
        "portname",
      );
  });

  it('should give "phys_port_name":"sby" and the parent in ip -j -d', () => {
    const r = ip("--machine", "failover-vm", "-j", "-d", "link");
    const links = JSON.parse(r.stdout) as Record<string, unknown>[];
    const by = (n: string) => links.find((l) => l.ifname === n) ?? {};
    expect(by("eth1")).toMatchObject({
      master: "eth0",
      phys_port_name: "sby",
      parentbus: "virtio",
      parentdev: "virtio0",
    });
    expect(by("eth0")).toMatchObject({ num_tx_queues: 16, parentdev: "virtio0" });
    expect(by("eth0")).not.toHaveProperty("phys_port_name");
    expect(by("eth3")).toMatchObject({
      master: "eth0",
      parentbus: "pci",
      parentdev: "0000:02:00.0",
    });
    expect(r.stdout).toContain(
      '"gro_max_size":65536,"phys_port_name":"sby","parentbus":"virtio","parentdev":"virtio0"}',
    );
  });

  it("should refuse a MAC change on the master and on the standby (Operation not supported)", () => {
    for (const d of ["eth0", "eth1"]) {
      expect(
        ip("--machine", "failover-vm", "link", "set", d, "address", "52:54:00:00:12:54"),
      ).toMatchObject({
        stdout: "",
        stderr: "RTNETLINK answers: Operation not supported\n",
        status: 2,
      });
    }
  });

  it("should boot the plain virtio-vm without portname", () => {
    const r = ip("--machine", "virtio-vm", "-d", "link", "show", "eth0");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("parentbus virtio parentdev virtio0 \n");
    expect(r.stdout).not.toContain("portname");
  });
});

describe("ifsim ip --machine errors", () => {
  it("should refuse an unknown machine with exit 2, listing the built-ins", () => {
    expect(ip("--machine", "nope", "link")).toMatchObject({
      stdout: "",
      stderr:
        'ifsim ip: unknown machine "nope": built-ins are failover-vm, virtio-vm (or give a FILE.json)\n',
      status: 2,
    });
  });

  it("should refuse --machine without a value", () => {
    expect(ip("--machine")).toMatchObject({
      stdout: "",
      stderr: "ifsim ip: --machine needs a built-in name or a FILE.json\n",
      status: 2,
    });
  });
});

describe("ifsim ip --machine FILE.json", () => {
  it("should boot the machine a JSON file describes", () => {
    const f = machineFile(TWO_NICS);
    const r = ip("--machine", f, "-d", "link");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
        "    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ",
    );
    expect(r.stdout).toContain("parentbus virtio parentdev virtio0 \n3: eth1: ");
    expect(r.stdout).toContain(
      "    link/ether 52:54:00:00:00:02 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 9212 ",
    );
    expect(r.stdout).toMatch(/parentbus pci parentdev 0000:00:04\.0 \n$/);
  });

  it("should use the machine's default qdisc once a device is up", () => {
    const f = machineFile(TWO_NICS);
    const batch = tmpFile("link set eth0 up\nlink show eth0\n", ".batch");
    const r = ip("--machine", f, "-batch", batch);
    expect(r.stdout).toContain("qdisc pfifo_fast state UP");
  });

  it.each([
    [
      "a wrong type, with the path to the field",
      { standby: "yes" },
      "devices[0].standby must be a boolean",
    ],
    [
      "an unknown device key",
      { foo: 1 },
      'devices[0]: unknown key "foo" (known: addr, model, id, mac, standby, failoverPairId, link, linkUpDelayMs, maxMtu, secondaryBus, atBoot)',
    ],
    [
      "an unknown model",
      { model: "rtl8139" },
      'devices[0].model: unknown model "rtl8139" (known: virtio-net, e1000e, igbvf, ixgbevf, iavf, pcie-root-port)',
    ],
    ["a number where a string belongs", { mac: 5 }, "devices[0].mac must be a string"],
  ])("should report %s", (_what, patch, message) => {
    const doc = { ...TWO_NICS, devices: [{ ...TWO_NICS.devices[0], ...patch }] };
    const f = machineFile(doc);
    expect(ip("--machine", f, "link")).toMatchObject({
      stdout: "",
      stderr: `ifsim ip: machine file "${f}": ${message}\n`,
      status: 2,
    });
  });

  it.each([
    ["not an object", 42, "the document must be a JSON object"],
    ["a missing name", { ...TWO_NICS, name: undefined }, '"name" must be a string'],
    ["zero cpus", { ...TWO_NICS, cpus: 0 }, '"cpus" must be a positive integer'],
    [
      "an unknown module",
      { ...TWO_NICS, modules: ["virtio_pci", "bogus"] },
      'modules[1]: unknown module "bogus" (known: virtio_pci, failover, net_failover, virtio_net, e1000e)',
    ],
    ["devices not an array", { ...TWO_NICS, devices: "no" }, '"devices" must be an array'],
    [
      "a device without addr",
      { ...TWO_NICS, devices: [{ model: "e1000e" }] },
      'devices[0] needs "addr" and "model"',
    ],
    [
      "a failoverPairId naming nothing (validation after the shape)",
      {
        ...TWO_NICS,
        devices: [{ addr: "0000:00:03.0", model: "e1000e", id: "p", failoverPairId: "zz" }],
      },
      'devices[0]: failoverPairId "zz" names no device',
    ],
  ])("should report %s", (_what, doc, message) => {
    const f = machineFile(doc);
    const r = ip("--machine", f, "link");
    expect(r.stderr).toBe(`ifsim ip: machine file "${f}": ${message}\n`);
    expect(r.status).toBe(2);
  });

  it("should report a file that is not JSON or does not exist", () => {
    const bad = machineFile("{");
    const r1 = ip("--machine", bad, "link");
    expect(r1.status).toBe(2);
    expect(r1.stderr.startsWith(`ifsim ip: cannot read machine file "${bad}": `)).toBe(true);
    const missing = join(TMP, "missing.json");
    const r2 = ip("--machine", missing, "link");
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`ifsim ip: cannot read machine file "${missing}": ENOENT`);
  });

  it("should report a machine that does not boot (bus without root port)", () => {
    const f = machineFile({
      ...TWO_NICS,
      name: "orphan",
      devices: [{ addr: "0000:01:00.0", model: "e1000e", id: "e", mac: "52:54:00:00:00:02" }],
    });
    expect(ip("--machine", f, "link")).toMatchObject({
      stdout: "",
      stderr:
        'ifsim ip: machine "orphan" does not boot: no bridge leads to bus 01 for 0000:01:00.0: add a pcie-root-port with secondaryBus 1\n',
      status: 2,
    });
  });
});

describe("ifsim ip --dmesg", () => {
  it("should write the boot log dmesg-style to stderr with -", () => {
    const r = ip("--machine", "failover-vm", "--dmesg", "-", "link", "show", "lo");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(LINK_LO);
    expect(r.stderr).toBe(`${BOOT_DMESG}\n`);
    expect(r.stderr.split("\n")[0]).toBe(
      "[    0.000000] virtio_net virtio0 eth0: failover master:eth0 registered",
    );
  });

  it("should write the same text to a file", () => {
    const out = join(TMP, "dmesg.txt");
    const r = ip("--machine", "failover-vm", "--dmesg", out, "link", "show", "lo");
    expect(r.stderr).toBe("");
    expect(readFileSync(out, "utf8")).toBe(`${BOOT_DMESG}\n`);
  });

  it("should refuse an unwritable file before running anything", () => {
    const out = join(TMP, "no-such-dir", "dmesg.txt");
    expect(ip("--machine", "failover-vm", "--dmesg", out, "link")).toMatchObject({
      stdout: "",
      stderr: `ifsim ip: --dmesg: cannot write "${out}": ENOENT (No such file or directory)\n`,
      status: 2,
    });
  });

  it("should refuse --dmesg without a value", () => {
    expect(ip("--dmesg").stderr).toBe("ifsim ip: --dmesg needs a file name (or - for stderr)\n");
  });
});

describe("ifsim ip --uek-takeover-delay", () => {
  it.each([
    ["x", 'ifsim ip: --uek-takeover-delay needs milliseconds, got "x"\n'],
    ["-5", 'ifsim ip: --uek-takeover-delay needs milliseconds, got "-5"\n'],
    ["1.5", 'ifsim ip: --uek-takeover-delay needs milliseconds, got "1.5"\n'],
  ])("should refuse %j", (v, stderr) => {
    expect(ip("--machine", "failover-vm", "--uek-takeover-delay", v, "link")).toMatchObject({
      stdout: "",
      stderr,
      status: 2,
    });
  });

  it("should refuse it without a value", () => {
    expect(ip("--uek-takeover-delay").stderr).toBe(
      'ifsim ip: --uek-takeover-delay needs milliseconds, got ""\n',
    );
  });

  it("should open a hot-plugged primary that many ms later than mainline does", () => {
    const batch = tmpFile(
      "link set eth0 up\n#ifsim: unplug primary0\n#ifsim: plug primary0\n",
      ".batch",
    );
    const linkUp = (extra: string[]): number => {
      const r = ip("--machine", "failover-vm", ...extra, "--dmesg", "-", "-batch", batch);
      expect(r.status).toBe(0);
      const lines = r.stderr.split("\n");
      const reg = lines.filter((l) => l.endsWith("failover primary slave:eth3 registered")).at(-1);
      const up = lines.filter((l) => l.includes("eth3: NIC Link is Up")).at(-1);
      return stamp(up) - stamp(reg);
    };
    const mainline = linkUp([]);
    const uek = linkUp(["--uek-takeover-delay", "500"]);
    expect(uek - mainline).toBeCloseTo(0.5, 6);
  });
});

describe("#ifsim: batch directives", () => {
  it("should hot-unplug the primary: eth3 is gone from the next ip link", () => {
    const batch = tmpFile("#ifsim: unplug primary0\nlink show\n", ".batch");
    const r = ip("--machine", "failover-vm", "-batch", batch);
    expect(r).toMatchObject({ stderr: "", status: 0 });
    expect(r.stdout).toBe(IP_LINK.slice(0, IP_LINK.indexOf("5: eth3")));
  });

  it("should re-plug it as eth3 with a new ifindex, enslaved again", () => {
    const batch = tmpFile(
      "#ifsim: unplug primary0\n#ifsim: plug primary0\nlink show dev eth3\n",
      ".batch",
    );
    expect(ip("--machine", "failover-vm", "-batch", batch).stdout).toBe(
      "6: eth3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000\n" +
        "    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff\n",
    );
  });

  it("should stop at an unknown directive with FILE:LINE and exit 1", () => {
    const batch = tmpFile("link show dev lo\n#ifsim: frob x\nlink show dev eth0\n", ".batch");
    const r = ip("--machine", "failover-vm", "-batch", batch);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(LINK_LO);
    expect(r.stderr).toMatch(
      new RegExp(
        `^ifsim: ${batch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: unknown directive "frob" \\(known: plug, unplug, link, sleep, settle[^)]*\\)\\n$`,
      ),
    );
  });

  it("should go on after a bad directive with -force", () => {
    const batch = tmpFile("#ifsim: frob\nlink show dev lo\n", ".batch");
    const r = ip("--machine", "failover-vm", "-force", "-batch", batch);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(LINK_LO);
  });

  it("should report directive misuse with the line number", () => {
    const batch = tmpFile(
      [
        "#ifsim: sleep",
        "#ifsim: sleep 1x",
        "#ifsim: link standby0 sideways",
        "#ifsim: plug primary0",
        "#ifsim: unplug nothere",
        "#ifsim: unplug rp2",
        "",
      ].join("\n"),
      ".batch",
    );
    const r = ip("--machine", "failover-vm", "-force", "-batch", batch);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      [
        `ifsim: ${batch}:1: usage: #ifsim: sleep MS`,
        `ifsim: ${batch}:2: sleep needs milliseconds, got "1x"`,
        `ifsim: ${batch}:3: usage: #ifsim: link ID up|down`,
        `ifsim: ${batch}:4: device "primary0" is already in the VM (Duplicate ID 'primary0' for device)`,
        `ifsim: ${batch}:5: no device "nothere" in machine "failover-vm" (ids: standby0, net1, rp1, rp2, primary0)`,
        `ifsim: ${batch}:6: 0000:00:06.0 has devices behind it; remove them first`,
        "",
      ].join("\n"),
    );
  });

  it("should need a machine for plug, unplug and link", () => {
    const batch = tmpFile("#ifsim: unplug primary0\n", ".batch");
    expect(ip("-batch", batch)).toMatchObject({
      stderr: `ifsim: ${batch}:1: "unplug" needs a machine (--machine NAME)\n`,
      status: 1,
    });
  });

  it("should move the virtual clock by the ms of #ifsim: sleep", () => {
    const batch = tmpFile(
      "#ifsim: sleep 500\n#ifsim: unplug primary0\n#ifsim: sleep 1500\n#ifsim: plug primary0\n",
      ".batch",
    );
    const r = ip("--machine", "failover-vm", "--dmesg", "-", "-batch", batch);
    expect(r.status).toBe(0);
    const lines = r.stderr.split("\n");
    const removed = lines.find((l) => l.endsWith("eth3: removed PHC"));
    const replugged = lines.filter((l) => l.endsWith("registered PHC clock")).at(-1);
    // Boot settles at 1 s (the linkwatch batch); then 0.5 s, then 1.5 s more.
    expect(removed).toBe("[    1.500000] e1000e 0000:02:00.0 eth3: removed PHC");
    expect(replugged).toBe(
      "[    3.000000] e1000e 0000:02:00.0 0000:02:00.0 (uninitialized): registered PHC clock",
    );
  });

  it("should take a virtio link down and up with #ifsim: link", () => {
    const batch = tmpFile(
      "link set eth2 up\n#ifsim: link net1 down\nlink show dev eth2\n#ifsim: link net1 up\nlink show dev eth2\n",
      ".batch",
    );
    const r = ip("--machine", "failover-vm", "-batch", batch);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      "4: eth2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default qlen 1000\n" +
        "    link/ether 52:54:00:00:12:99 brd ff:ff:ff:ff:ff:ff\n" +
        "4: eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\n" +
        "    link/ether 52:54:00:00:12:99 brd ff:ff:ff:ff:ff:ff\n",
    );
  });

  it("should accept #ifsim: settle", () => {
    const batch = tmpFile("#ifsim: settle\nlink show dev lo\n", ".batch");
    expect(ip("--machine", "failover-vm", "-batch", batch)).toMatchObject({
      stdout: LINK_LO,
      stderr: "",
      status: 0,
    });
  });
});

describe("--help", () => {
  it("should mention --machine, ifsim machines and the directives in the help texts", () => {
    const top = main(["--help"]);
    expect(top.status).toBe(0);
    expect(top.stdout).toContain("ifsim ip [--kernel V] [--machine M]");
    expect(top.stdout).toContain(
      "ifsim machines [--json]       list the built-in machines (for --machine)",
    );
    expect(top.stdout).toContain("--machine M    boot a machine first, e.g. failover-vm");
    const sub = main(["ip", "--help"]);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain("ifsim ip [--kernel V] [--machine M] [--uek-takeover-delay MS]");
    expect(sub.stdout).toContain(
      "--machine M     boot a machine first: a built-in (see ifsim machines) or FILE.json",
    );
    for (const d of ["'#ifsim: plug ID'", "'#ifsim: unplug ID'", "'#ifsim: link ID up|down'"])
      expect(sub.stdout).toContain(d);
    expect(sub.stdout).toContain("'#ifsim: sleep MS'");
    expect(sub.stdout).toContain("'#ifsim: settle'");
  });
});
