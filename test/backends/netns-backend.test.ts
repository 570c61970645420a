// The netns backend: what it refuses and why, how it reads iproute2's errors, how it splits the
// monitor per step and reads the final links — and, where the host allows (root, ip netns), a
// real run: records, the namespace and the monitor gone afterwards.

import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { EXTACK_ERRNO, errnoFromIpError, strerrorText } from "../../src/backends/errno-text.ts";
import { backendByName, backendNames } from "../../src/backends/index.ts";
import {
  cNumberU32,
  deviceCommand,
  ipStepRefusal,
  linkRecordsFromIp,
  MARKER_IFINDEX,
  MARKER_NAME,
  MonitorSplitter,
  majorMinor,
  NetnsBackend,
  parseNameAssign,
} from "../../src/backends/netns-backend.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const backend = new NetnsBackend({ quietMs: 100 });
const reason = backend.unavailableReason();

const base: ScenarioDoc = { ifsim: 1, name: "t", kernel: "6.18", steps: [] };

describe("netns backend refusals", () => {
  it("should run veth and ifb with ip, settle and sleep steps", () => {
    const sc: ScenarioDoc = {
      ...base,
      devices: [
        { id: "a", type: "veth", name: "v0", peer: "v1" },
        { id: "b", type: "ifb" },
      ],
      steps: [{ ip: "link set dev v0 up" }, "settle", { sleep: "10ms" }, { ip: "link frob" }],
    };
    expect(backend.refuses(sc)).toBeNull();
  });

  it("should refuse PCI devices and VM steps, naming each and the backend to use", () => {
    const sc: ScenarioDoc = {
      ...base,
      devices: [
        { id: "net0", type: "virtio-net", mac: "52:54:00:12:34:56", standby: true },
        { id: "vf0", type: "pci-nic", mac: "52:54:00:12:34:56", plugged: false },
      ],
      steps: [
        { plug: "vf0" },
        { unplug: "vf0" },
        { set_link: { device: "net0", up: false } },
        { migrate: { primary: "vf0" } },
        { modprobe: "e1000e" },
      ],
    };
    const r = backend.refuses(sc) ?? "";
    expect(r).toMatch(/^the netns backend cannot run this scenario: /);
    expect(r).toContain('device "net0" is a virtio-net: a namespace has no PCI bus');
    expect(r).toContain('device "vf0" is a pci-nic');
    expect(r).toContain("step 1 (plug vf0): hot-plug needs a VM");
    expect(r).toContain("step 2 (unplug vf0): hot-plug needs a VM");
    expect(r).toContain("step 3 (set_link net0 down): set_link is QEMU's backend link");
    expect(r).toContain("step 4 (migrate vf0): migrate is QEMU's failover migration");
    expect(r).toContain("step 5 (modprobe e1000e): modprobe would load a module on the host");
    expect(r).toContain("use --backend qemu");
  });

  it("should refuse the model's userspace actors and machine knobs it cannot honour", () => {
    const sc: ScenarioDoc = {
      ...base,
      udev: { generation: "v256" },
      bringup: { links: ["eth*"] },
      cloud_init: {},
      modules: ["virtio_net"],
      uek_takeover_delay_ms: 100,
      default_qdisc: "not-the-host-qdisc",
      script_starts: "boot",
    };
    const r = backend.refuses(sc) ?? "";
    for (const key of [
      "udev:",
      "bringup:",
      "cloud_init:",
      "modules:",
      "uek_takeover_delay_ms:",
      "script_starts: boot",
    ])
      expect(r).toContain(key);
    expect(r).toMatch(/default_qdisc: not-the-host-qdisc, but the host's net.core.default_qdisc/);
  });

  it("should refuse ip steps that reach beyond the namespace or touch the marker", () => {
    expect(ipStepRefusal("netns add x")).toMatch(/"ip netns" is not modelled/);
    expect(ipStepRefusal("route add default dev x")).toMatch(/"ip route"/);
    expect(ipStepRefusal("a add 10.0.0.1/24 dev x")).toMatch(/"ip address"/);
    expect(ipStepRefusal("link set dev v0 netns 1")).toMatch(/"netns" would move a device/);
    expect(ipStepRefusal("link add a type veth peer name b link-netnsid 0")).toMatch(
      /link-netnsid/,
    );
    expect(ipStepRefusal("-n other link show")).toMatch(/global ip options/);
    expect(ipStepRefusal(`link set dev ${MARKER_NAME} up`)).toMatch(/reserved/);
    expect(ipStepRefusal(`link add x index ${MARKER_IFINDEX} type ifb`)).toMatch(/reserved/);
    for (const ok of ["link show", "l show", "li set dev x up", "frob", "help"])
      expect(ipStepRefusal(ok)).toBeNull();
  });

  it("should refuse every spelling iproute2 reads as the marker's ifindex or group", () => {
    for (const line of [
      "link set dev if999999 up", // ll_idx_a2n: "if%u"
      "link set dev if0999999x mtu 1300",
      "link show group 0xf423f",
      "link set group +999999 down",
      "link set group 03641077 up", // octal
      `link set group ${2 ** 32 + 999999} up`, // cut to 32 bits
      "link add x index 0xF423F type ifb",
    ])
      expect(ipStepRefusal(line), line).toMatch(/reserved for the backend's marker device/);
    for (const ok of ["link set group 0 mtu 1400", "link set group default up", "link show if1"])
      expect(ipStepRefusal(ok), ok).toBeNull();
  });

  it("should read numbers as C's strtoul does, cut to 32 bits", () => {
    expect(cNumberU32("999999")).toBe(999999);
    expect(cNumberU32("0xf423f")).toBe(999999);
    expect(cNumberU32(" +010")).toBe(8);
    expect(cNumberU32("010", 10)).toBe(10);
    expect(cNumberU32("-1")).toBe(0xffffffff);
    expect(cNumberU32("99999999999999999999999")).toBe(0xffffffff);
    expect(cNumberU32("0x")).toBeNull();
    expect(cNumberU32("12abc")).toBeNull();
    expect(cNumberU32("")).toBeNull();
  });

  it("should build devices with the commands the model's createVirtual mirrors", () => {
    expect(deviceCommand({ id: "a", type: "veth" })).toEqual(["link", "add", "type", "veth"]);
    expect(
      deviceCommand({ id: "a", type: "veth", name: "v0", peer: "v1", mac: "02:AA:00:00:00:01" }),
    ).toEqual([
      "link",
      "add",
      "name",
      "v0",
      "address",
      "02:aa:00:00:00:01",
      "type",
      "veth",
      "peer",
      "name",
      "v1",
    ]);
    expect(deviceCommand({ id: "i", type: "ifb", name: "ifbx" })).toEqual([
      "link",
      "add",
      "name",
      "ifbx",
      "type",
      "ifb",
    ]);
  });

  it("should be the registry's netns backend, and take the host's major.minor", () => {
    expect(backendNames()).toContain("netns");
    expect(backendByName("netns")?.name).toBe("netns");
    expect(backendByName("nope")).toBeNull();
    expect(majorMinor("6.18.44-fc-v445")).toBe("6.18");
    expect(majorMinor("6.1.0-31-amd64")).toBe("6.1");
    expect(backend.kernelVersion({})).toMatch(/^\d+\.\d+$/);
  });
});

describe("errno from iproute2's error text", () => {
  it("should map every glibc strerror text after 'RTNETLINK answers:' back to the errno", () => {
    for (const [name, text] of [
      ["EBUSY", "Device or resource busy"],
      ["EEXIST", "File exists"],
      ["EINVAL", "Invalid argument"],
      ["ENODEV", "No such device"],
      ["EOPNOTSUPP", "Operation not supported"],
      ["EADDRNOTAVAIL", "Cannot assign requested address"],
      ["ENOBUFS", "No buffer space available"],
      ["EAFNOSUPPORT", "Address family not supported by protocol"],
    ] as const) {
      expect(strerrorText(name)).toBe(text);
      expect(errnoFromIpError(`RTNETLINK answers: ${text}`)).toBe(name);
    }
  });

  it("should name the kernel-internal errnos glibc prints as 'Unknown error N'", () => {
    expect(errnoFromIpError("RTNETLINK answers: Unknown error 524")).toBe("ENOTSUPP");
    expect(errnoFromIpError("RTNETLINK answers: Unknown error 9999")).toBeNull();
  });

  it("should take the errno of a known extack message from the kernel source", () => {
    expect(errnoFromIpError("Error: mtu less than device minimum.")).toBe("EINVAL");
    expect(errnoFromIpError("Error: Attribute failed policy validation.")).toBe("ERANGE");
    expect(errnoFromIpError("Error: Unknown device type.")).toBe("EOPNOTSUPP");
    for (const [msg, name] of Object.entries(EXTACK_ERRNO))
      expect(errnoFromIpError(`Error: ${msg}.`)).toBe(name);
  });

  it("should give no errno for iproute2's own errors and unknown extack messages", () => {
    expect(errnoFromIpError('Cannot find device "x"')).toBeNull();
    expect(
      errnoFromIpError('Error: argument "a b" is wrong: "name" not a valid ifname'),
    ).toBeNull();
    expect(errnoFromIpError("Error: something the table does not know.")).toBeNull();
    expect(errnoFromIpError('Command "frob" is unknown, try "ip link help".')).toBeNull();
  });
});

describe("monitor splitting at the marker", () => {
  const marker = (n: number) =>
    `${MARKER_IFINDEX}: ${MARKER_NAME}: <BROADCAST,NOARP> mtu ${100000 + n} qdisc noop state DOWN group default \n    link/ether 22:6b:b8:46:49:ab brd ff:ff:ff:ff:ff:ff\n`;
  const rec = (i: number) =>
    `${i}: veth${i}@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \n    link/ether 02:00:00:00:00:0${i} brd ff:ff:ff:ff:ff:ff\n`;

  it("should give each marker the records before it, without the marker's own lines", () => {
    const s = new MonitorSplitter();
    expect(s.feed(marker(1) + rec(2) + rec(3) + marker(2) + marker(3) + rec(4))).toEqual([1, 2, 3]);
    expect(s.segment(1)).toEqual([]);
    expect(s.segment(2)).toEqual((rec(2) + rec(3)).trimEnd().split("\n"));
    expect(s.segment(3)).toEqual([]);
    expect(s.segment(4)).toBeUndefined();
    expect(s.pending).toEqual(rec(4).trimEnd().split("\n"));
  });

  it("should cope with output cut anywhere, also inside the marker's record", () => {
    const text = marker(1) + rec(2) + marker(2) + rec(3) + marker(3);
    for (let cut = 1; cut < text.length; cut += 7) {
      const s = new MonitorSplitter();
      s.feed(text.slice(0, cut));
      s.feed(text.slice(cut));
      expect(s.segment(2)).toEqual(rec(2).trimEnd().split("\n"));
      expect(s.segment(3)).toEqual(rec(3).trimEnd().split("\n"));
    }
  });
});

describe("final links from ip -j -d link", () => {
  it("should map the fields, leave out the marker and take name_assign_type from sysfs", () => {
    const json = JSON.stringify([
      {
        ifindex: MARKER_IFINDEX,
        ifname: MARKER_NAME,
        flags: ["BROADCAST", "NOARP"],
        mtu: 100007,
        operstate: "DOWN",
        address: "22:6b:b8:46:49:ab",
      },
      {
        ifindex: 3,
        link: "veth1",
        ifname: "veth0",
        flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"],
        mtu: 1500,
        operstate: "LOWERLAYERDOWN",
        address: "2e:6e:a8:b3:c8:2d",
        master: "br0",
        phys_port_name: "p0",
      },
      {
        ifindex: 1,
        ifname: "lo",
        flags: ["LOOPBACK"],
        mtu: 65536,
        operstate: "DOWN",
        address: "00:00:00:00:00:00",
      },
    ]);
    const nat = parseNameAssign("lo 2\nveth0 4\nifsim-mark 3\nbroken \n");
    expect(nat.get("broken")).toBe(0);
    expect(linkRecordsFromIp(json, nat)).toEqual([
      {
        ifindex: 1,
        ifname: "lo",
        flags: ["LOOPBACK"],
        mtu: 65536,
        operstate: "DOWN",
        address: "00:00:00:00:00:00",
        master: null,
        portname: null,
        name_assign_type: 2,
      },
      {
        ifindex: 3,
        ifname: "veth0",
        flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"],
        mtu: 1500,
        operstate: "LOWERLAYERDOWN",
        address: "2e:6e:a8:b3:c8:2d",
        master: "br0",
        portname: "p0",
        name_assign_type: 4,
      },
    ]);
  });
});

function namespaces(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith("ifsim-run-"));
}

function monitors(): string[] {
  const r = spawnSync("pgrep", ["-a", "-f", "monitor link"], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .filter((l) => l.includes(`ifsim-run-${process.pid}-`) && !l.includes("pgrep"));
}

describe("netns backend on the host kernel", () => {
  if (reason !== null && required) {
    it("should have what the real-kernel test needs", () => {
      throw new Error(`The netns backend test must run here but cannot: ${reason}`);
    });
    return;
  }
  const itReal = it.skipIf(reason !== null);
  const suffix = reason ? ` (skipped: ${reason})` : "";

  itReal(
    `should record each step's result and events, the final links, and clean up${suffix}`,
    async () => {
      const before = namespaces();
      const sc: ScenarioDoc = {
        ...base,
        devices: [{ id: "a", type: "veth", name: "v0", peer: "v1", mac: "02:00:00:00:00:01" }],
        steps: [
          { ip: "link set dev v0 up" },
          { ip: "link set dev v1 up" },
          { ip: "link set dev v0 name v1" },
          { ip: "link set dev v0 mtu 10" },
          { ip: "link set dev nosuch up" },
          "settle",
        ],
      };
      const r = await backend.run(sc, {});
      expect(r.backend).toBe("netns");
      expect(majorMinor(r.kernel)).toBe(backend.kernelVersion({}));
      expect(r.steps.map((s) => [s.index, s.step, s.ok, s.errno, s.message])).toEqual([
        [1, "ip link set dev v0 up", true, null, null],
        [2, "ip link set dev v1 up", true, null, null],
        [3, "ip link set dev v0 name v1", false, "EEXIST", "RTNETLINK answers: File exists"],
        [4, "ip link set dev v0 mtu 10", false, "EINVAL", "Error: mtu less than device minimum."],
        [5, "ip link set dev nosuch up", false, null, 'Cannot find device "nosuch"'],
        [6, "settle", true, null, null],
      ]);
      expect(r.steps[0]?.events).toEqual([
        "3: v0@v1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default ",
        "    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff",
      ]);
      // The peer's carrier comes on, and linkwatch's records land in the step that caused them.
      expect(r.steps[1]?.events.filter((l) => !l.startsWith(" "))).toEqual([
        "2: v1@v0: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default ",
        "2: v1@v0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
        "3: v0@v1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
      ]);
      for (const s of r.steps.slice(2)) expect(s.events).toEqual([]);
      expect(r.links.map((l) => [l.ifindex, l.ifname, l.operstate, l.name_assign_type])).toEqual([
        [1, "lo", "DOWN", 2],
        [2, "v1", "UP", 3],
        [3, "v0", "UP", 3],
      ]);
      expect(r.links[2]?.address).toBe("02:00:00:00:00:01");
      expect(r.wallMs).toBeGreaterThan(0);
      expect(namespaces()).toEqual(before);
      expect(monitors()).toEqual([]);
    },
    30_000,
  );

  itReal(
    `should refuse another kernel version, and remove the namespace on failure${suffix}`,
    async () => {
      const before = namespaces();
      await expect(backend.run(base, { kernel: "4.19" })).rejects.toThrow(
        /runs the host kernel \(\d+\.\d+\), not 4\.19/,
      );
      const dup: ScenarioDoc = {
        ...base,
        devices: [
          { id: "a", type: "ifb", name: "same" },
          { id: "b", type: "ifb", name: "same" },
        ],
      };
      await expect(backend.run(dup, {})).rejects.toThrow(
        /devices: cannot create ifb "b".*File exists/,
      );
      expect(namespaces()).toEqual(before);
      expect(monitors()).toEqual([]);
    },
  );

  itReal(
    `should keep the marker out of group 0: ip link set group 0 reaches only the scenario's devices${suffix}`,
    async () => {
      const sc: ScenarioDoc = {
        ...base,
        devices: [{ id: "a", type: "veth", name: "v0", peer: "v1" }],
        steps: [
          { ip: "link set group 0 mtu 1400" },
          { ip: "link set group default up" },
          { ip: "link set dev v0 mtu 1300" },
        ],
      };
      const r = await backend.run(sc, {});
      expect(r.steps.map((s) => s.ok)).toEqual([true, true, true]);
      const heads = r.steps.map((s) => s.events.filter((l) => !l.startsWith(" ")));
      for (const h of heads) for (const l of h) expect(l).not.toContain(MARKER_NAME);
      // Each step's records are its own: the MTU change in step 1, the carrier in step 2, and
      // step 3's own MTU change (had the marker's MTU moved, the records would have shifted).
      expect(heads[0]?.every((l) => / mtu 1400 /.test(l))).toBe(true);
      expect(heads[0]?.length).toBeGreaterThanOrEqual(3);
      expect(heads[2]).toEqual([expect.stringMatching(/^3: v0@v1: .* mtu 1300 /)]);
      expect(r.links.map((l) => [l.ifname, l.mtu])).toEqual([
        ["lo", 1400],
        ["v1", 1400],
        ["v0", 1300],
      ]);
    },
    30_000,
  );

  itReal(`should sleep for a sleep step (capped)${suffix}`, async () => {
    const capped = new NetnsBackend({ quietMs: 50, sleepCapMs: 300 });
    const t0 = Date.now();
    const r = await capped.run({ ...base, steps: [{ sleep: "250ms" }, { sleep: "60s" }] }, {});
    const took = Date.now() - t0;
    expect(r.steps.map((s) => s.step)).toEqual(["sleep 250ms", "sleep 60s"]);
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(10_000);
  });
});
