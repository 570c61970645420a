// ifsim conform: normalisation (random MACs by position, nothing else), the field-by-field
// comparison, verdicts and exit statuses (through main(), with a stand-in backend registered
// under a test name), and `ifsim run --backend` usage errors — none of it needs root.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import {
  type Backend,
  BackendRefusal,
  type BackendRunRecord,
  registerBackend,
} from "../../src/backends/index.ts";
import { conformStatus } from "../../src/cli/conform.ts";
import { type CliResult, main } from "../../src/cli/main.ts";
import {
  type ComparableRecord,
  compareIpDetails,
  compareRecords,
  givenMacs,
  modelRunOptions,
  normaliseRandomMacs,
  OPEN_CARRIER_RACE,
  verdictOf,
} from "../../src/conform/index.ts";
import { type LinkRecord, runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const link = (o: Partial<LinkRecord> & { ifindex: number; ifname: string }): LinkRecord => ({
  flags: ["BROADCAST", "MULTICAST"],
  mtu: 1500,
  operstate: "DOWN",
  address: "00:00:00:00:00:00",
  master: null,
  portname: null,
  name_assign_type: 3,
  ...o,
});

const ev = (i: number, name: string, mac: string) => [
  `${i}: ${name}: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default `,
  `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`,
];

describe("random MAC normalisation", () => {
  const sc: ScenarioDoc = {
    ifsim: 1,
    name: "n",
    devices: [{ id: "a", type: "veth", name: "v0", mac: "02:00:00:00:00:01" }],
    steps: [{ ip: "link set dev v0 address 0A:00:00:00:00:02" }, { ip: "link show" }],
  };

  it("should collect the MACs the scenario gives (devices and steps, lowercased)", () => {
    expect([...givenMacs(sc)].sort()).toEqual(["02:00:00:00:00:01", "0a:00:00:00:00:02"]);
  });

  it("should label random MACs by first appearance and keep given and non-random ones", () => {
    const rec: ComparableRecord = {
      steps: [
        {
          index: 1,
          step: "s",
          ok: true,
          errno: null,
          message: null,
          events: [...ev(5, "x", "de:ad:be:ef:00:01"), ...ev(6, "y", "02:00:00:00:00:01")],
        },
      ],
      links: [
        link({ ifindex: 7, ifname: "z", address: "aa:bb:cc:dd:ee:ff" }),
        link({ ifindex: 5, ifname: "x", address: "de:ad:be:ef:00:01" }),
        link({ ifindex: 1, ifname: "lo", address: "00:00:00:00:00:00" }),
        link({ ifindex: 8, ifname: "w", address: "00:1b:21:00:00:01" }),
      ],
    };
    const n = normaliseRandomMacs(rec, givenMacs(sc));
    expect(n.steps[0]?.events).toEqual([
      ...ev(5, "x", "<random MAC 1>"),
      ...ev(6, "y", "02:00:00:00:00:01"),
    ]);
    expect(n.links.map((l) => [l.ifindex, l.address])).toEqual([
      [1, "00:00:00:00:00:00"],
      [5, "<random MAC 1>"],
      [7, "<random MAC 2>"],
      // Globally administered (an OUI): never what the kernel draws at random, kept.
      [8, "00:1b:21:00:00:01"],
    ]);
  });

  it("should still show a device that took another device's random address", () => {
    const mk = (a: string, b: string): ComparableRecord => ({
      steps: [],
      links: [
        link({ ifindex: 2, ifname: "v1", address: a }),
        link({ ifindex: 3, ifname: "v0", address: b }),
      ],
    });
    expect(
      verdictOf(
        sc,
        mk("12:00:00:00:00:01", "12:00:00:00:00:02"),
        mk("16:00:00:00:00:09", "16:00:00:00:00:08"),
      ),
    ).toEqual([]);
    expect(
      verdictOf(
        sc,
        mk("12:00:00:00:00:01", "12:00:00:00:00:02"),
        mk("16:00:00:00:00:09", "16:00:00:00:00:09"),
      ),
    ).toEqual([
      { where: "link 3 (v0)", field: "address", model: "<random MAC 2>", kernel: "<random MAC 1>" },
    ]);
  });
});

describe("comparison", () => {
  const step = (o: Partial<ComparableRecord["steps"][number]> = {}) => ({
    index: 1,
    step: "ip link set dev v0 up",
    ok: true,
    errno: null,
    message: null,
    events: ["a ", "    b"],
    ...o,
  });

  it("should report every differing field of steps and links, with both values", () => {
    const model: ComparableRecord = {
      steps: [
        step(),
        step({
          index: 2,
          ok: false,
          errno: "EBUSY",
          message: "RTNETLINK answers: Device or resource busy",
        }),
      ],
      links: [
        link({ ifindex: 1, ifname: "lo" }),
        link({ ifindex: 2, ifname: "v0", flags: ["UP"] }),
      ],
    };
    const kernel: ComparableRecord = {
      steps: [step({ events: ["a ", "    b", "c "] }), step({ index: 2 })],
      links: [
        link({ ifindex: 2, ifname: "v0", flags: ["UP", "M-DOWN"], mtu: 9000 }),
        link({ ifindex: 4, ifname: "new" }),
      ],
    };
    expect(compareRecords(model, kernel)).toEqual([
      {
        where: "step 1 (ip link set dev v0 up)",
        field: "events",
        model: "2 records",
        kernel: "3 records",
        diff: ["  a ", "      b", "+ c "],
      },
      { where: "step 2 (ip link set dev v0 up)", field: "ok", model: "false", kernel: "true" },
      { where: "step 2 (ip link set dev v0 up)", field: "errno", model: "EBUSY", kernel: "null" },
      {
        where: "step 2 (ip link set dev v0 up)",
        field: "message",
        model: "RTNETLINK answers: Device or resource busy",
        kernel: "null",
      },
      { where: "link 1 (lo)", field: "link", model: "lo", kernel: "(absent)" },
      { where: "link 2 (v0)", field: "flags", model: "UP", kernel: "UP,M-DOWN" },
      { where: "link 2 (v0)", field: "mtu", model: "1500", kernel: "9000" },
      { where: "link 4 (new)", field: "link", model: "(absent)", kernel: "new" },
    ]);
  });

  it("should let devices' records interleave differently only when udevd runs (parallel workers), never a device's own order", () => {
    // Measured on the qemu backend (04-retrigger-path-ebusy, udevadm trigger): idx 3's records
    // came before idx 2's on one run and after on another.
    const two = [...ev(2, "enp0s3", "52:54:00:12:34:57")];
    const three = [...ev(3, "eth9", "52:54:00:12:34:58"), "    altname enp1s0"];
    const threeB = [...ev(3, "eth9", "52:54:00:12:34:58")];
    const rec = (events: string[]): ComparableRecord => ({
      steps: [step({ step: "udevadm trigger", events })],
      links: [],
    });
    const m = rec([...two, ...threeB, ...three]);
    const k = rec([...threeB, ...three, ...two]);
    expect(compareRecords(m, k, { concurrentDevices: true })).toEqual([]);
    // Without udevd the order is the kernel's and is compared as it is.
    expect(compareRecords(m, k).map((d) => d.field)).toEqual(["events"]);
    // One device's own records swapped: a difference even with udevd.
    const swapped = rec([...three, ...threeB, ...two]);
    expect(compareRecords(m, swapped, { concurrentDevices: true }).map((d) => d.field)).toEqual([
      "events",
    ]);
    // A record missing: a difference.
    expect(
      compareRecords(m, rec([...threeB, ...two]), { concurrentDevices: true }).map((d) => d.field),
    ).toEqual(["events"]);
    // verdictOf turns it on exactly for a scenario with a udev actor.
    const sc = (udev: ScenarioDoc["udev"]): ScenarioDoc =>
      ({
        ifsim: 1,
        name: "t",
        kernel: "6.1",
        udev,
        // Given MACs: not renamed "<random MAC n>" by first appearance.
        devices: [
          { id: "a", type: "virtio-net", mac: "52:54:00:12:34:57" },
          { id: "b", type: "pci-nic", mac: "52:54:00:12:34:58" },
        ],
        steps: [],
      }) as unknown as ScenarioDoc;
    expect(verdictOf(sc({ generation: "v253" }), m, k)).toEqual([]);
    expect(verdictOf(sc("none"), m, k).map((d) => d.field)).toEqual(["events"]);
  });

  it("should let a shared MAC's enx altname sit on another device of that MAC only when udevd runs", () => {
    // Measured on udev 257 (01 of the qemu-udev corpus): the master's and the standby's workers
    // race for enx525400123456; the standby won 5 runs in 6.
    const mac = "52:54:00:12:34:56";
    const alt = "    altname enx525400123456";
    const links = [
      link({ ifindex: 2, ifname: "enp0s3", address: mac }),
      link({ ifindex: 3, ifname: "enp0s3nsby", address: mac }),
    ];
    const rec = (events: string[], l = links): ComparableRecord => ({
      steps: [step({ step: "ip link set dev enp0s3 up", events })],
      links: l,
    });
    const onMaster = rec([...ev(3, "enp0s3nsby", mac), ...ev(2, "enp0s3", mac), alt]);
    const onStandby = rec([...ev(3, "enp0s3nsby", mac), alt, ...ev(2, "enp0s3", mac)]);
    expect(compareRecords(onMaster, onStandby, { concurrentDevices: true })).toEqual([]);
    expect(compareRecords(onMaster, onStandby).map((d) => d.field)).toEqual(["events"]);
    // both devices carrying it on one side is not a race outcome: a difference
    const onBoth = rec([...ev(3, "enp0s3nsby", mac), alt, ...ev(2, "enp0s3", mac), alt]);
    expect(
      compareRecords(onMaster, onBoth, { concurrentDevices: true }).map((d) => d.field),
    ).toEqual(["events"]);
    // a MAC no two links share is not contested: its altname must agree
    const unique = [link({ ifindex: 2, ifname: "enp0s3", address: mac })];
    expect(
      compareRecords(
        rec(ev(2, "enp0s3", mac), unique),
        rec([...ev(2, "enp0s3", mac), alt], unique),
        {
          concurrentDevices: true,
        },
      ).map((d) => d.field),
    ).toEqual(["events"]);
    // another altname is never normalised
    const other = rec([
      ...ev(3, "enp0s3nsby", mac),
      "    altname enp0s3x",
      ...ev(2, "enp0s3", mac),
    ]);
    expect(
      compareRecords(onMaster, other, { concurrentDevices: true }).map((d) => d.field),
    ).toEqual(["events"]);
  });

  it("should compare the bring-up's DHCP decisions, sorted", () => {
    const rec = (dhcp?: string[]): ComparableRecord => ({
      steps: [],
      links: [],
      ...(dhcp ? { dhcp } : {}),
    });
    const a = ["enp0s3: DHCPv4 client started", "enp0s3nsby: DHCPv4 client started"];
    // another order (the bring-up takes links as they become ready): the same
    expect(compareRecords(rec(a), rec([...a].reverse()))).toEqual([]);
    // a client the kernel side did not start: a difference
    expect(compareRecords(rec(a), rec([a[0] as string, "enp0s3nsby: no DHCP, unmanaged"]))).toEqual(
      [
        {
          where: "bringup",
          field: "dhcp[1]",
          model: "enp0s3nsby: DHCPv4 client started",
          kernel: "enp0s3nsby: no DHCP, unmanaged",
        },
      ],
    );
    // one side without any: a difference per decision
    expect(compareRecords(rec(a), rec([])).map((d) => d.kernel)).toEqual(["(absent)", "(absent)"]);
    expect(compareRecords(rec(), rec())).toEqual([]);
  });

  it("should tolerate dev_open's records without the carrier on 6.12+ only, and say so", () => {
    // Measured on Debian's 6.12.118 (qemu-udev 05, CI run of 2026-12-03): virtio_net's config
    // work had not turned the carrier on when dev_open's records went out (8 runs before: it had).
    const mac = "52:54:00:12:34:56";
    const open = (i: number, name: string, carrier: boolean) => [
      `${i}: ${name}: <NO-CARRIER,BROADCAST,MULTICAST,UP${carrier ? ",LOWER_UP" : ""}> mtu 1500 qdisc noqueue state DOWN group default `,
      `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`,
    ];
    const up = (i: number, name: string) => [
      `${i}: ${name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default `,
      `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`,
    ];
    const rec = (events: string[]): ComparableRecord => ({
      steps: [step({ step: "ip link set dev enp0s3 up", events })],
      links: [],
    });
    const model = rec([...open(3, "enp0s3nsby", true), ...open(2, "enp0s3", true), ...up(3, "x")]);
    const kernel = rec([
      ...open(3, "enp0s3nsby", false),
      ...open(2, "enp0s3", false),
      ...up(3, "x"),
    ]);
    const tolerated: string[] = [];
    expect(compareRecords(model, kernel, { openCarrierRace: true, tolerated })).toEqual([]);
    expect(tolerated).toEqual([
      `step 1 (ip link set dev enp0s3 up): 2 records with LOWER_UP in the model only (${OPEN_CARRIER_RACE})`,
    ]);
    // before 6.12 (no such race): a difference
    expect(compareRecords(model, kernel).map((d) => d.field)).toEqual(["events"]);
    // the race changes only that flag: a record missing is still a difference
    expect(
      compareRecords(model, rec([...open(3, "enp0s3nsby", false), ...up(3, "x")]), {
        openCarrierRace: true,
      }).map((d) => d.field),
    ).toEqual(["events"]);
    // LOWER_UP with the carrier shown (no NO-CARRIER) is not the race: a difference
    const noRace = rec([...up(3, "enp0s3nsby"), ...open(2, "enp0s3", true), ...up(3, "x")]);
    expect(compareRecords(model, noRace, { openCarrierRace: true }).map((d) => d.field)).toEqual([
      "events",
    ]);
    // verdictOf turns it on from the profile
    const sc = { ifsim: 1, name: "t", devices: [], steps: [] } as unknown as ScenarioDoc;
    expect(verdictOf(sc, model, kernel, { profile: "6.12" })).toEqual([]);
    expect(verdictOf(sc, model, kernel, { profile: "6.1" }).map((d) => d.field)).toEqual([
      "events",
    ]);
  });

  it("should give exit 0 only when all agree, 1 for a difference, 2 for anything not compared", () => {
    const r = (verdict: "AGREE" | "DIFFER" | "REFUSED" | "ERROR") => ({
      file: "f",
      scenario: "s",
      verdict,
      differences: [],
    });
    expect(conformStatus([r("AGREE"), r("AGREE")])).toBe(0);
    expect(conformStatus([r("AGREE"), r("DIFFER")])).toBe(1);
    expect(conformStatus([r("DIFFER"), r("REFUSED")])).toBe(2);
    expect(conformStatus([r("ERROR")])).toBe(2);
  });
});

/** A backend that answers with the model's own record, optionally altered. */
class ModelEcho implements Backend {
  readonly name = "echo";
  readonly alter: (r: BackendRunRecord) => BackendRunRecord;
  readonly unavailable: string | null;
  constructor(
    alter: (r: BackendRunRecord) => BackendRunRecord = (r) => r,
    unavailable: string | null = null,
  ) {
    this.alter = alter;
    this.unavailable = unavailable;
  }
  unavailableReason(): string | null {
    return this.unavailable;
  }
  refuses(sc: ScenarioDoc): string | null {
    return sc.name.includes("refuse me") ? "the echo backend refuses this one" : null;
  }
  kernelVersion(o: { kernel?: string | null }): string {
    if (o.kernel != null && o.kernel !== "6.18")
      throw new BackendRefusal(`echo has only 6.18 (asked for ${o.kernel})`);
    return "6.18";
  }
  async run(sc: ScenarioDoc, o: { kernel?: string | null }): Promise<BackendRunRecord> {
    if (o.kernel != null && o.kernel !== "6.18")
      throw new BackendRefusal(`echo runs 6.18, not ${o.kernel}`);
    const m = runScenario(sc, { kernel: "6.18", settleSteps: true, seed: 99 });
    return this.alter({
      scenario: m.scenario,
      backend: "echo",
      kernel: "6.18.0-echo",
      steps: m.steps.map(({ t: _t, tEnd: _e, ...s }) => s),
      links: m.links,
      wallMs: 1,
    });
  }
}

const dir = mkdtempSync(join(tmpdir(), "ifsim-conform-"));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const SC = file(
  "veth.yaml",
  `ifsim: 1
name: veth up
devices:
  - id: a
    type: veth
    name: v0
    peer: v1
steps:
  - ip: link set dev v0 up
  - ip: link set dev v1 up
  - ip: link set dev v0 name v1
`,
);
const REFUSED = file("refused.yaml", "ifsim: 1\nname: refuse me\nsteps: []\n");

describe("ip -d link of the final state (qemu: every attribute iproute2 prints)", () => {
  const guest = `1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535
2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether 52:54:00:00:12:53 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 9212 parentbus pci parentdev 0000:01:00.0
    altname enp1s0
3: d0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether 2a:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff promiscuity 0
`;
  const model = guest
    .replace("0000:01:00.0", "0000:02:00.0")
    .replace("2a:11:22:33:44:55", "6e:99:88:77:66:55");
  const pciAddrs = new Map([["0000:01:00.0", "0000:02:00.0"]]);
  const given = new Set(["52:54:00:00:12:53"]);

  it("should agree once guest PCI addresses are mapped and random MACs labelled", () => {
    expect(compareIpDetails({ model, kernel: guest, pciAddrs }, given)).toBeNull();
  });
  it("should report the first differing line and a diff (an attribute the kernel does not send)", () => {
    const d = compareIpDetails(
      { model: model.replace("allmulti 0 minmtu 68", "minmtu 68"), kernel: guest, pciAddrs },
      given,
    );
    expect(d?.field).toBe("ip -d link");
    expect(d?.model).toContain("promiscuity 0  minmtu 68 maxmtu 9212");
    expect(d?.kernel).toContain("promiscuity 0  allmulti 0 minmtu 68");
    expect(d?.diff?.some((l) => l.startsWith("- "))).toBe(true);
    // without the PCI map the parent device differs too
    expect(compareIpDetails({ model, kernel: guest }, given)?.kernel).toContain("0000:01:00.0");
  });
  it("should leave altname lines out only when asked (udevd: a shared MAC's altname may move)", () => {
    const moved = model.replace("    altname enp1s0\n", "");
    expect(compareIpDetails({ model: moved, kernel: guest, pciAddrs }, given)).not.toBeNull();
    expect(
      compareIpDetails({ model: moved, kernel: guest, pciAddrs }, given, { altnames: false }),
    ).toBeNull();
  });
  it("should have the model keep ip -d link when conform runs it, and only then", () => {
    const sc: ScenarioDoc = { ifsim: 1, name: "d", kernel: "5.10", steps: [] };
    const rec = runScenario(sc, modelRunOptions({}, "5.10"));
    expect(rec.ip_link_details).toMatch(/^1: lo: .*\n {4}link\/loopback .* gso_max_segs 65535 \n$/);
    expect(rec.ip_link_details).not.toContain("allmulti");
    expect(runScenario(sc).ip_link_details).toBeUndefined();
  });
});

describe("ifsim conform through main()", () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it("should be typed as a promise for conform and run --backend, a result otherwise", () => {
    expectTypeOf(main(["conform", "x.yaml"])).toEqualTypeOf<Promise<CliResult>>();
    expectTypeOf(main(["run", "x.yaml", "--backend", "netns"])).toEqualTypeOf<Promise<CliResult>>();
    expectTypeOf(main(["run", "x.yaml", "--json"])).toEqualTypeOf<CliResult>();
    expectTypeOf(main(["kernels"])).toEqualTypeOf<CliResult>();
  });

  it("should say AGREE and exit 0 when the records agree (random MACs normalised)", async () => {
    restore = registerBackend("echo", () => new ModelEcho());
    const r = await main(["conform", SC, "--backend", "echo"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^AGREE {3}.*veth\.yaml — veth up \(echo 6\.18\.0-echo, model 6\.18; 3 steps, 3 links; /m,
    );
    expect(r.stdout).toContain("1 scenario on echo: 1 agree, 0 differ");
  });

  it("should say DIFFER, show step/link, field, model and kernel, and exit 1", async () => {
    restore = registerBackend(
      "echo",
      () =>
        new ModelEcho((rec) => ({
          ...rec,
          steps: rec.steps.map((s) =>
            s.index === 3 ? { ...s, ok: true, errno: null, message: null } : s,
          ),
          links: rec.links.map((l) => (l.ifname === "v0" ? { ...l, mtu: 9000 } : l)),
        })),
    );
    const r = await main(["conform", SC, "--backend", "echo"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      [
        "          step 3 (ip link set dev v0 name v1)",
        "            ok",
        "              model:  false",
        "              kernel: true",
        "            errno",
        "              model:  EEXIST",
        "              kernel: null",
      ].join("\n"),
    );
    expect(r.stdout).toContain(
      "          link 3 (v0)\n            mtu\n              model:  1500\n              kernel: 9000\n",
    );
    const j = await main(["conform", SC, "--backend", "echo", "--json"]);
    expect(j.status).toBe(1);
    const out = JSON.parse(j.stdout) as {
      ok: boolean;
      results: { verdict: string; differences: unknown[] }[];
    };
    expect(out.ok).toBe(false);
    expect(out.results[0]?.verdict).toBe("DIFFER");
    expect(out.results[0]?.differences).toContainEqual({
      where: "link 3 (v0)",
      field: "mtu",
      model: "1500",
      kernel: "9000",
    });
  });

  it("should say REFUSED with the reason and exit 2", async () => {
    restore = registerBackend("echo", () => new ModelEcho());
    const r = await main(["conform", SC, REFUSED, "--backend", "echo"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(
      /^REFUSED .*refused\.yaml — refuse me\n {10}the echo backend refuses this one$/m,
    );
    expect(r.stdout).toContain("2 scenarios on echo: 1 agree, 0 differ, 1 refused");
    const k = await main(["conform", SC, "--backend", "echo", "--kernel", "6.1", "--json"]);
    expect(k.status).toBe(2);
    expect(JSON.parse(k.stdout).results[0]).toMatchObject({
      verdict: "REFUSED",
      reason: "echo has only 6.18 (asked for 6.1)",
    });
  });

  it("should exit 2 for an unavailable or unknown backend and for bad files", async () => {
    restore = registerBackend("echo", () => new ModelEcho(undefined, "no echo chamber here"));
    expect(await main(["conform", SC, "--backend", "echo"])).toEqual({
      stdout: "",
      stderr: "ifsim conform: the echo backend is not available here: no echo chamber here\n",
      status: 2,
    });
    const unknown = await main(["conform", SC, "--backend", "bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown backend "bogus" \(backends: netns/);
    const missing = await main(["conform", join(dir, "missing.yaml")]);
    expect(missing).toMatchObject({ status: 2, stderr: expect.stringContaining("cannot read") });
    const bad = await main(["conform", file("bad.yaml", "ifsim: 2\nname: x\nsteps: []\n")]);
    expect(bad).toMatchObject({ status: 2, stderr: expect.stringContaining("bad.yaml:1:8") });
    expect((await main(["conform"])).status).toBe(2);
    expect((await main(["conform", SC, "--frob"])).stderr).toContain('unknown option "--frob"');
    const help = await main(["conform", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: ifsim conform FILE.yaml...");
  });
});

describe("ifsim run --backend through main()", () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it("should print the backend's record: human (steps, events, links) and --json", async () => {
    restore = registerBackend("echo", () => new ModelEcho());
    const h = await main(["run", SC, "--backend", "echo"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^== veth up — echo, kernel 6\.18\.0-echo, 0\.00 s\n\nsteps:\n/);
    expect(h.stdout).toContain(
      "   3. ip link set dev v0 name v1  → EEXIST (RTNETLINK answers: File exists)\n",
    );
    expect(h.stdout).toContain(
      "        | 3: v0@v1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500",
    );
    expect(h.stdout).toMatch(
      /\nfinal links:\n {2}idx {2}name .*\n {2}1 {4}lo {4}DOWN {3}- {7}2 predictable {5}00:00:00:00:00:00 {2}65536 {2}<LOOPBACK>\n/,
    );
    const j = await main(["run", SC, "--backend", "echo", "--json"]);
    const rec = JSON.parse(j.stdout) as BackendRunRecord;
    expect(Object.keys(rec)).toEqual([
      "scenario",
      "backend",
      "kernel",
      "steps",
      "links",
      "wallMs",
      "expectations",
    ]);
    expect(rec.steps[2]).toEqual({
      index: 3,
      step: "ip link set dev v0 name v1",
      ok: false,
      errno: "EEXIST",
      message: "RTNETLINK answers: File exists",
      events: [],
    });
  });

  it("should check step and link expectations on the record, and skip the unobservable", async () => {
    restore = registerBackend("echo", () => new ModelEcho());
    const f = file(
      "expect.yaml",
      `ifsim: 1
name: expectations
devices:
  - id: a
    type: veth
    name: v0
    peer: v1
steps:
  - ip: link set dev v0 name v1
expect:
  - step: 1
    error: EEXIST
  - link: v0
    up: false
  - log: anything
`,
    );
    const ok = await main(["run", f, "--backend", "echo"]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(
      "  PASS step 1 → EEXIST: got EEXIST\n  PASS link v0: down\n  SKIP log /anything/: not observable on the echo backend\n",
    );
    const failing = file(
      "failing.yaml",
      readFileSync(f, "utf8").replace("error: EEXIST", "error: ok"),
    );
    expect((await main(["run", failing, "--backend", "echo"])).status).toBe(1);
  });

  it("should refuse options a real kernel has no use for, and bad backends, with exit 2", async () => {
    restore = registerBackend("echo", () => new ModelEcho());
    expect(await main(["run", SC, "--backend", "echo", "--seed", "3"])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("--seed is the model's"),
    });
    expect(
      await main(["run", SC, "--backend", "echo", "--kernel", "6.1", "--kernel", "6.18"]),
    ).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("give --kernel at most once"),
    });
    expect(await main(["run", SC, "--backend", "echo", "--kernel", "6.1"])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("echo runs 6.18, not 6.1"),
    });
    expect(await main(["run", REFUSED, "--backend", "echo"])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("the echo backend refuses this one"),
    });
    expect(await main(["run", SC, "--backend", "bogus"])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('unknown backend "bogus"'),
    });
    // The model stays the default and is synchronous.
    const m = main(["run", SC, "--backend", "model", "--kernel", "6.18"]);
    expect((await m).status).toBe(0);
    expect(main(["run", SC]).status).toBe(2);
  });
});
