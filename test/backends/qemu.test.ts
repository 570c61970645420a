// The qemu backend's pure parts: the scenario → q35 machine mapping, refusals, the agent
// channel's framing, the initramfs archive and the kernel-log comparison. (The real runs are in
// test/conformance/qemu.test.ts.)

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChannelParser, requestLine } from "../../src/backends/qemu/channel.ts";
import { compareLogs, logSource, modelledLog } from "../../src/backends/qemu/compare.ts";
import { cpioNewc } from "../../src/backends/qemu/cpio.ts";
import { GUEST_AGENT, GUEST_INIT, GUEST_MODLIB } from "../../src/backends/qemu/guest.ts";
import { HostView } from "../../src/backends/qemu/hv.ts";
import { QemuBackend } from "../../src/backends/qemu/index.ts";
import {
  deviceArg,
  layoutProblem,
  pciAddrMap,
  qemuLayout,
} from "../../src/backends/qemu/layout.ts";
import {
  bringupArg,
  dmesgLines,
  errnoOfMessage,
  linkRecords,
} from "../../src/backends/qemu/run.ts";
import { scenarioLinkFile, udevRenames } from "../../src/backends/qemu/udev.ts";
import { BackendRefusal } from "../../src/backends/refusal.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const MAC = "52:54:00:12:34:56";

const FAILOVER: ScenarioDoc = {
  ifsim: 1,
  name: "failover",
  kernel: "6.1",
  devices: [
    { id: "net0", type: "virtio-net", mac: MAC, standby: true, slot: 3 },
    { id: "ctl0", type: "virtio-net", mac: "52:54:00:12:34:99", slot: 4 },
    { id: "vf0", type: "pci-nic", mac: MAC, slot: 5, failover_pair: "net0" },
    { id: "vf1", type: "pci-nic", mac: MAC, slot: 6, plugged: false, link: false },
  ],
  udev: "none",
  steps: ["settle", { plug: "vf1" }],
};

describe("qemu layout", () => {
  const l = qemuLayout(FAILOVER);

  it("should put virtio-nets on pcie.0 at their slot and pci-nics behind a root port there", () => {
    expect(l.deviceArgs).toEqual([
      "-device",
      "pcie-root-port,id=rp-vf0,bus=pcie.0,addr=0x05,chassis=5",
      "-device",
      "pcie-root-port,id=rp-vf1,bus=pcie.0,addr=0x06,chassis=6",
      "-netdev",
      "hubport,id=hp1,hubid=1",
      "-device",
      "virtio-net-pci,id=net0,mac=52:54:00:12:34:56,netdev=hp1,bus=pcie.0,addr=0x03,failover=on",
      "-netdev",
      "hubport,id=hp2,hubid=2",
      "-device",
      "virtio-net-pci,id=ctl0,mac=52:54:00:12:34:99,netdev=hp2,bus=pcie.0,addr=0x04",
      "-netdev",
      "hubport,id=hp3,hubid=3",
      "-netdev",
      "hubport,id=hp4,hubid=4",
    ]);
  });

  it("should add the pci-nics present at boot over QMP while paused, with failover_pair_id", () => {
    expect(l.pausedAdds).toEqual(["vf0"]);
    const vf0 = l.nics.find((n) => n.id === "vf0");
    expect(vf0?.props).toEqual({
      driver: "e1000e",
      id: "vf0",
      mac: MAC,
      netdev: "hp3",
      bus: "rp-vf0",
      failover_pair_id: "net0",
    });
    expect(vf0?.pairedWith).toBe("net0");
  });

  it("should number the buses behind the root ports in slot order", () => {
    expect(l.nics.map((n) => [n.id, n.guestAddr, n.modelAddr])).toEqual([
      ["net0", "0000:00:03.0", "0000:00:03.0"],
      ["ctl0", "0000:00:04.0", "0000:00:04.0"],
      ["vf0", "0000:01:00.0", "0000:01:00.0"],
      ["vf1", "0000:02:00.0", "0000:02:00.0"],
    ]);
    // the model builds the same q35 machine (machineOf): the addresses agree
    expect([...pciAddrMap(l)]).toEqual([
      ["0000:01:00.0", "0000:01:00.0"],
      ["0000:02:00.0", "0000:02:00.0"],
    ]);
  });

  it("should count the netdevs of boot (lo, master + standby, plain virtio, primary)", () => {
    expect(l.bootNetdevs).toBe(5);
    expect(l.linkOffAtBoot).toEqual([]);
    expect(l.nics.find((n) => n.id === "vf1")?.link).toBe(false);
  });

  it("should give a virtio-net that is hot-(un)plugged a root port", () => {
    const sc: ScenarioDoc = {
      ...FAILOVER,
      devices: [
        { id: "a", type: "virtio-net", mac: MAC, slot: 3 },
        { id: "b", type: "virtio-net", mac: MAC, slot: 7, plugged: false },
      ],
      steps: [{ plug: "b" }],
    };
    expect(qemuLayout(sc).nics.map((n) => n.port)).toEqual([null, "rp-b"]);
  });

  it("should write -device properties as QEMU reads them", () => {
    expect(deviceArg({ driver: "e1000e", id: "x", failover: true, x: false })).toBe(
      "e1000e,id=x,failover=on,x=off",
    );
  });
});

describe("host view of the guest (what to wait for)", () => {
  const l = qemuLayout(FAILOVER);

  it("should expect the primary once the standby negotiated, at boot with all modules", () => {
    const hv = new HostView(l, ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"]);
    expect(hv.expected()).toEqual([
      "0000:00:03.0=2",
      "0000:00:04.0=1",
      "0000:01:00.0=1",
      "0000:02:00.0=0",
    ]);
    hv.plug("vf1");
    expect(hv.expected()[3]).toBe("0000:02:00.0=1");
    expect(hv.linkOffAddrs()).toEqual(["0000:02:00.0"]);
    hv.unplug("vf0");
    expect(hv.expected()[2]).toBe("0000:01:00.0=0");
  });

  it("should keep a paired primary hidden until virtio_net binds its standby", () => {
    const hv = new HostView(l, ["virtio_pci", "e1000e"]);
    expect(hv.hidden.has("vf0")).toBe(true);
    expect(hv.expected()).toEqual([
      "0000:00:03.0=0",
      "0000:00:04.0=0",
      "0000:01:00.0=0",
      "0000:02:00.0=0",
    ]);
    hv.load("virtio_net");
    expect(hv.hidden.has("vf0")).toBe(false);
    expect(hv.negotiated.has("net0")).toBe(true);
    expect(hv.expected().slice(0, 3)).toEqual([
      "0000:00:03.0=2",
      "0000:00:04.0=1",
      "0000:01:00.0=1",
    ]);
  });

  it("should show a primary added while its standby is absent at once (QEMU does not hide it)", () => {
    const sc: ScenarioDoc = {
      ...FAILOVER,
      devices: [
        { id: "s", type: "virtio-net", mac: MAC, standby: true, slot: 3, plugged: false },
        { id: "p", type: "pci-nic", mac: MAC, slot: 4, failover_pair: "s", plugged: false },
      ],
      steps: [{ plug: "p" }, { plug: "s" }],
    };
    const hv = new HostView(qemuLayout(sc), ["virtio_pci", "e1000e"]);
    hv.plug("p");
    hv.plug("s");
    expect(hv.hidden.size).toBe(0);
    expect(hv.expected()).toEqual(["0000:01:00.0=0", "0000:02:00.0=1"]);
  });
});

describe("qemu refusals", () => {
  const b = new QemuBackend();
  const with_ = (p: Partial<ScenarioDoc>): ScenarioDoc => ({ ...FAILOVER, ...p });

  it("should run the failover machine", () => {
    expect(b.refuses(FAILOVER)).toBeNull();
    expect(b.kernelVersion({})).toBe("6.1");
  });

  it("should refuse what the guest cannot do, saying why", () => {
    expect(b.refuses(with_({ devices: [{ id: "v", type: "veth" }] }))).toMatch(/veth/);
    expect(
      b.refuses(with_({ devices: [{ id: "v", type: "pci-nic", mac: MAC, model: "ixgbevf" }] })),
    ).toMatch(/ixgbevf/);
    expect(b.refuses(with_({ udev: { generation: "v256" } }))).toMatch(
      /real udev 252 behaves as v253/,
    );
    expect(b.refuses(with_({ udev: { generation: "v253" } }))).toBeNull();
    expect(b.refuses(with_({ udev: { name_policy: ["path"] } }))).toBeNull();
    expect(b.refuses(with_({ udev: { hwdb: { "net:*": { PHYS_PORT_NAME: false } } } }))).toMatch(
      /hwdb/,
    );
    expect(b.refuses(with_({ udev: { database: {} } }))).toMatch(/database/);
    expect(b.refuses(with_({ udev: { onboard: {} } }))).toMatch(/acpi_index/);
    expect(b.refuses(with_({ bringup: { links: ["eth*"] } }))).toBeNull();
    expect(b.refuses(with_({ bringup: { links: ["eth*"], wait_for_udev: true } }))).toBeNull();
    // dhcp: busybox's udhcpc in the guest (corpus qemu-udev 09)
    expect(b.refuses(with_({ bringup: { links: ["eth*"], dhcp: true } }))).toBeNull();
    expect(b.refuses(with_({ bringup: { links: ["eth[01]"] } }))).toMatch(/only .*\*/);
    expect(b.refuses(with_({ cloud_init: {} }))).toMatch(/cloud-init/);
    expect(b.refuses(with_({ steps: [{ migrate: { primary: "vf0" } }] }))).toMatch(/migrat/);
    expect(b.refuses(with_({ uek_takeover_delay_ms: 100 }))).toMatch(/UEK/);
    expect(b.refuses(with_({ script_starts: "boot" }))).toMatch(/cannot race its boot/);
    expect(b.refuses(with_({ script_starts: "quiescent" }))).toBeNull();
    expect(b.refuses(with_({ steps: [{ plug: "nosuch" }] }))).toMatch(/nosuch/);
    expect(
      b.refuses(
        with_({
          devices: [{ id: "p", type: "pci-nic", mac: MAC, bus: "pcie.0", plugged: false }],
        }),
      ),
    ).toMatch(/hotplugging/);
  });

  it("should probe in the guest's order: the model puts a ported NIC behind its port too", () => {
    // slot 3 sits behind a port (bus 1) in the guest and in the model, so both probe slot 4 first
    const sc = with_({
      devices: [
        { id: "a", type: "pci-nic", mac: MAC, slot: 3 },
        { id: "b", type: "pci-nic", mac: MAC, slot: 4, bus: "pcie.0" },
      ],
      steps: [],
    });
    expect(layoutProblem(sc)).toBeNull();
    expect(qemuLayout(sc).nics.map((n) => n.modelAddr)).toEqual(["0000:01:00.0", "0000:00:04.0"]);
  });

  it("should refuse an i440fx machine, saying why", () => {
    expect(layoutProblem(with_({ machine: "i440fx" }))).toMatch(/q35 machine only/);
  });

  it("should boot 5.10, 6.1 and 6.12 and refuse another kernel, naming those", () => {
    expect(() => b.kernelVersion({ kernel: "5.0" })).toThrow(/5\.10, 6\.1, 6\.12/);
    expect(() => b.kernelVersion({ kernel: "5.0" })).toThrow(BackendRefusal);
    expect(b.kernelVersion({ kernel: "6.1" })).toBe("6.1");
    expect(b.kernelVersion({ kernel: "5.10" })).toBe("5.10");
    expect(b.kernelVersion({ kernel: "6.12.38" })).toBe("6.12");
    expect(b.refuses(FAILOVER, { kernel: "6.2" })).toMatch(/5\.10, 6\.1, 6\.12/);
  });

  it("should hold each release's udev generation and default qdisc to the scenario", () => {
    expect(b.refuses(with_({ udev: { generation: "v253" } }), { kernel: "5.10" })).toMatch(
      /real udev 247 behaves as v249/,
    );
    expect(b.refuses(with_({ udev: { generation: "v256" } }), { kernel: "6.12" })).toBeNull();
    expect(b.refuses(with_({ default_qdisc: "fq_codel" }), { kernel: "5.10" })).toMatch(
      /pfifo_fast/,
    );
    expect(b.refuses(with_({ default_qdisc: "pfifo_fast" }), { kernel: "5.10" })).toBeNull();
  });

  it("should give the model the release's generation and default qdisc when the scenario names none", () => {
    const sc = with_({ udev: { name_policy: ["path"] } });
    const gen = (k: string) => {
      const m = b.modelScenario(sc, { kernel: k });
      return [m.udev !== "none" ? m.udev?.generation : null, m.default_qdisc];
    };
    expect(gen("5.10")).toEqual(["v249", "pfifo_fast"]);
    expect(gen("6.1")).toEqual(["v253", "fq_codel"]);
    expect(gen("6.12")).toEqual(["v256", "fq_codel"]);
    // a generation the scenario names is kept
    const named = b.modelScenario(with_({ udev: { generation: "v253" } }), { kernel: "6.1" });
    expect(named.udev !== "none" && named.udev?.generation).toBe("v253");
  });
});

describe("agent channel", () => {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");

  it("should decode a reply fed byte by byte, ignoring console noise", () => {
    const p = new ChannelParser();
    const text = `junk\r\n@@HELLO 3.21\n(console noise)\n@@BEGIN 7\n@@F rc 2\n${b64("0\n")}\n@@E\n@@END 7\n`;
    const items = [...text].flatMap((c) => p.push(c));
    expect(items).toEqual([
      { kind: "hello", uptime: "3.21" },
      { kind: "reply", reply: { seq: 7, fields: { rc: "0\n" } } },
    ]);
    expect(p.noise).toEqual(["junk", "(console noise)"]);
  });

  it("should report a field cut by another record", () => {
    const p = new ChannelParser();
    const items = p.push(`@@BEGIN 1\n@@F rc 2\n${b64("0\n")}\n@@END 1\n`);
    expect(items[0]).toEqual({ kind: "error", message: 'field rc cut by "@@END 1"' });
  });

  it("should decode fields byte-exact, with the trailing spaces of monitor lines", () => {
    const p = new ChannelParser();
    const mon = "2: eth0: <UP> mtu 1500 state UP group default \n    link/ether x\n";
    const items = p.push(
      `@@BEGIN 1\n@@F mon ${mon.length}\n${b64(mon)}\n@@E\n@@F rc 0\n\n@@E\n@@END 1\n`,
    );
    expect(items).toEqual([{ kind: "reply", reply: { seq: 1, fields: { mon, rc: "" } } }]);
  });

  it("should report a field whose length does not match", () => {
    const p = new ChannelParser();
    const items = p.push(`@@BEGIN 2\n@@F x 9\n${b64("short")}\n@@E\n@@END 2\n`);
    expect(items[0]).toEqual({ kind: "error", message: "field x: 5 bytes decoded, 9 announced" });
  });

  it("should take a record that follows noise on the same line", () => {
    const p = new ChannelParser();
    expect(p.push("[  1.0] something@@HELLO 1.5\n")).toEqual([{ kind: "hello", uptime: "1.5" }]);
  });

  it("should write one-word requests only", () => {
    expect(requestLine(3, "settle", ["1200", "15000"])).toBe("@@REQ 3 settle 1200 15000\n");
    expect(() => requestLine(1, "exec", ["two words"])).toThrow();
  });
});

describe("guest scripts", () => {
  it("should be valid POSIX sh (dash -n)", () => {
    const d = mkdtempSync(join(tmpdir(), "ifsim-guest-"));
    try {
      for (const [name, text] of [
        ["init", GUEST_INIT],
        ["agent.sh", GUEST_AGENT],
        ["modlib.sh", GUEST_MODLIB],
      ] as const) {
        writeFileSync(join(d, name), text);
        const r = spawnSync("sh", ["-n", join(d, name)], { encoding: "utf8" });
        expect(r.stderr, name).toBe("");
        expect(r.status, name).toBe(0);
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("should match the bring-up actor's link patterns as the model's glob does (only * special)", () => {
    const d = mkdtempSync(join(tmpdir(), "ifsim-guest-"));
    try {
      writeFileSync(join(d, "modlib.sh"), GUEST_MODLIB);
      const match = (links: string, name: string): boolean =>
        spawnSync("sh", [
          "-c",
          `. "$1"; BU_LINKS="$2"; bu_match "$3"`,
          "sh",
          join(d, "modlib.sh"),
          links,
          name,
        ]).status === 0;
      expect(match("enp*|", "enp0s3")).toBe(true);
      expect(match("enp*|", "eth0")).toBe(false);
      expect(match("eth0|enp0s3|", "enp0s3")).toBe(true);
      expect(match("enp0s3|", "enp0s3nsby")).toBe(false);
      expect(match("*nsby|", "enp0s3nsby")).toBe(true);
      expect(match("", "eth0")).toBe(false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("should pass the bring-up configuration on the command line, waiting for udev only with udev", () => {
    const sc = (o: Record<string, unknown>) =>
      ({ ifsim: 1, name: "t", steps: [], ...o }) as unknown as ScenarioDoc;
    const decode = (a: string | null) =>
      a === null ? null : Buffer.from(a.replace(/^ifsim\.bringup=/, ""), "base64").toString();
    expect(bringupArg(sc({}))).toBeNull();
    expect(bringupArg(sc({ bringup: "none" }))).toBeNull();
    expect(decode(bringupArg(sc({ bringup: { links: ["enp*", "eth0"] } })))).toBe(
      "enp*|eth0|\n0\n10\n0\n",
    );
    const waiting = { links: ["enp0s3"], wait_for_udev: true, latency_ms: 50 };
    expect(decode(bringupArg(sc({ bringup: waiting })))).toBe("enp0s3|\n0\n50\n0\n");
    expect(decode(bringupArg(sc({ bringup: waiting, udev: {} })))).toBe("enp0s3|\n1\n50\n0\n");
    expect(decode(bringupArg(sc({ bringup: { ...waiting, dhcp: true }, udev: {} })))).toBe(
      "enp0s3|\n1\n50\n1\n",
    );
  });

  it("should call iproute2 by full path (busybox's shell prefers its own ip applet)", () => {
    expect(GUEST_AGENT).toContain("IP=/usr/sbin/ip");
    expect(GUEST_AGENT).not.toMatch(/^\s*ip /m);
  });
});

describe("initramfs archive", () => {
  it("should be a newc cpio that cpio lists", () => {
    const a = cpioNewc([
      { type: "dir", path: "bin" },
      { type: "file", path: "bin/hello", data: Buffer.from("hi\n"), mode: 0o755 },
      { type: "symlink", path: "bin/sh", target: "busybox" },
    ]);
    expect(a.subarray(0, 6).toString()).toBe("070701");
    expect(a.length % 4).toBe(0);
    const r = spawnSync("cpio", ["-t", "--quiet"], { input: a, encoding: "utf8" });
    if (r.error) return; // no cpio on this host: the header checks above stand
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["bin", "bin/hello", "bin/sh"]);
  });

  it("should extract byte-exact contents", () => {
    const data = Buffer.from([0, 1, 2, 255, 10]);
    const a = cpioNewc([{ type: "file", path: "x", data }]);
    const d = mkdtempSync(join(tmpdir(), "ifsim-cpio-"));
    try {
      const r = spawnSync("cpio", ["-id", "--quiet"], { input: a, cwd: d });
      if (r.error) return;
      expect(readFileSync(join(d, "x"))).toEqual(data);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("run record pieces", () => {
  it("should read the final links from ip -j -d link and name_assign_type", () => {
    const json = JSON.stringify([
      {
        ifindex: 3,
        ifname: "eth1",
        flags: ["BROADCAST", "MULTICAST"],
        mtu: 1500,
        operstate: "DOWN",
        address: MAC,
        master: "eth0",
        phys_port_name: "sby",
      },
    ]);
    expect(linkRecords(json, "eth1 4\nlo 2\n")).toEqual([
      {
        ifindex: 3,
        ifname: "eth1",
        flags: ["BROADCAST", "MULTICAST"],
        mtu: 1500,
        operstate: "DOWN",
        address: MAC,
        master: "eth0",
        portname: "sby",
        name_assign_type: 4,
      },
    ]);
  });

  it("should take the errno from iproute2's message", () => {
    expect(errnoOfMessage("RTNETLINK answers: Device or resource busy")).toBe("EBUSY");
    expect(errnoOfMessage('Cannot find device "x"')).toBeNull();
  });

  it("should strip the kernel log's timestamps", () => {
    expect(dmesgLines("[    9.923808] IPv6: x\n[12.1] y\n")).toEqual(["IPv6: x", "y"]);
  });
});

describe("kernel log comparison", () => {
  it("should compare the modelled lines with guest PCI addresses mapped to the model's", () => {
    const map = new Map([["0000:01:00.0", "0000:00:05.0"]]);
    const kernel = ["pci 0000:01:00.0: BAR 0", "e1000e 0000:01:00.0 eth2: NIC Link is Up"];
    const model = ["e1000e 0000:00:05.0 eth2: NIC Link is Up"];
    expect(modelledLog(kernel, map)).toEqual(model);
    expect(compareLogs(model, kernel, map)).toBeNull();
    expect(compareLogs([], kernel, map)).toEqual({
      source: "e1000e 0000:00:05.0",
      common: 0,
      model: [],
      kernel: model,
    });
  });

  it("should compare each device's lines in order, not how devices interleave", () => {
    const a1 = "virtio_net virtio0 eth0: failover master:eth0 registered";
    const a2 = "virtio_net virtio0 eth0: failover standby slave:eth1 registered";
    const b1 = "e1000e 0000:00:04.0: Interrupt Throttling Rate (ints/sec) set to dynamic";
    expect(logSource(b1)).toBe("e1000e 0000:00:04.0");
    expect(logSource(a1)).toBe("virtio_net virtio0");
    expect(compareLogs([a1, a2, b1], [b1, a1, a2])).toBeNull();
    expect(compareLogs([a1, a2, b1], [a2, a1, b1])).toEqual({
      source: "virtio_net virtio0",
      common: 0,
      model: [a1, a2],
      kernel: [a2, a1],
    });
  });
});

describe("the real udevd's part (pure)", () => {
  const with_ = (p: Partial<ScenarioDoc>): ScenarioDoc => ({ ...FAILOVER, ...p });
  it("writes the scenario's NamePolicy into a .link file that wins over 99-default.link", () => {
    const f = scenarioLinkFile(with_({ udev: { name_policy: ["keep", "path"] } }));
    expect(f).toContain("NamePolicy=keep path\n");
    expect(f).toContain("OriginalName=*\n");
    expect(scenarioLinkFile(with_({ udev: { generation: "v253" } }))).toBeNull();
    expect(scenarioLinkFile(with_({ udev: "none" }))).toBeNull();
  });

  it("reads renames and their results from udevd's log lines", () => {
    const r = udevRenames([
      "eth0: Network interface 2 is renamed from 'eth0' to 'enp0s3'",
      "eth1: Failed to rename network interface 3 from 'eth1' to 'enp0s3nsby': Device or resource busy",
      "eth1: some other line",
    ]);
    expect(r).toEqual([
      expect.objectContaining({ ifindex: 2, from: "eth0", to: "enp0s3", error: null }),
      expect.objectContaining({ ifindex: 3, to: "enp0s3nsby", error: "Device or resource busy" }),
    ]);
  });
});
