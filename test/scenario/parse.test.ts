// parseScenario: positioned errors for the usual mistakes, and a fuzz test — whatever the text,
// it never throws and every failure is a list of positioned, readable issues.

import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  formatIssue,
  type ParseResult,
  parseScenario,
  type ScenarioIssue,
} from "../../src/scenario/parse.ts";
import { scenarioJsonSchema } from "../../src/scenario/schema.ts";
import { testSeed } from "../_helpers/seed.ts";

const FILE = "s.yaml";

/** A valid scenario; each case below breaks one thing in it. Line numbers are in comments. */
const BASE = `ifsim: 1
name: test
kernel: "6.1"
devices:
  - id: net0
    type: virtio-net
    mac: "52:54:00:12:34:56"
    standby: true
  - id: vf0
    type: pci-nic
    mac: "52:54:00:12:34:56"
    plugged: false
steps:
  - ip: link set dev eth0 up
  - plug: vf0
  - settle
expect:
  - step: 1
    error: ok
`;

/** BASE with `from` replaced by `to` (which must occur exactly once). */
function edit(from: string, to: string, text = BASE): string {
  expect(text.split(from).length - 1, `"${from}" occurs once`).toBe(1);
  return text.replace(from, to);
}

/** The issues as "file:line:col: path: message" lines. */
function issues(text: string): string[] {
  const r = parseScenario(text, FILE);
  if (r.ok) return ["(ok)"];
  return r.issues.map(formatIssue);
}

describe("parseScenario: a valid file", () => {
  it("should accept BASE and keep its values", () => {
    const r = parseScenario(BASE, FILE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario.devices?.map((d) => d.id)).toEqual(["net0", "vf0"]);
    expect(r.scenario.steps).toEqual([{ ip: "link set dev eth0 up" }, { plug: "vf0" }, "settle"]);
  });

  it("should accept every example file that is meant to run", () => {
    for (const f of readdirSync("examples/scenarios").filter((x) => x.endsWith(".yaml"))) {
      const text = readFileSync(`examples/scenarios/${f}`, "utf8");
      const r = parseScenario(text, f);
      expect(r.ok, f).toBe(!/^# ifsim run refuses: /m.test(text));
    }
  });

  it("should accept the new QEMU keys: modules, modprobe, bus, device expectations, several primaries", () => {
    const text = `ifsim: 1
name: q
kernel: "6.1"
modules: [virtio_pci, e1000e]
devices:
  - { id: s0, type: virtio-net, mac: "52:54:00:00:00:01", standby: true, bus: pci.0 }
  - { id: p0, type: pci-nic, mac: "52:54:00:00:00:01", failover_pair: s0 }
  - { id: p1, type: pci-nic, mac: "52:54:00:00:00:02", failover_pair: nowhere }
  - { id: n1, type: virtio-net, mac: "52:54:00:00:00:03", bus: pcie.0 }
steps:
  - modprobe: virtio_net
  - migrate: { primary: [p0, p1], outcome: cancel-after-eject, resume: false }
expect:
  - { device: p0, present: true, hidden: false }
`;
    expect(issues(text)).toEqual(["(ok)"]);
  });
});

describe("parseScenario: positioned errors", () => {
  it.each<[string, string, string[]]>([
    [
      "a wrong MAC (too short)",
      edit('mac: "52:54:00:12:34:56"\n    plugged', 'mac: "52:54:00:12:34"\n    plugged'),
      ["s.yaml:11:10: devices[1].mac: expected a MAC like 52:54:00:12:34:56"],
    ],
    [
      "a MAC written as a number",
      edit('mac: "52:54:00:12:34:56"\n    plugged', "mac: 525400123456\n    plugged"),
      ["s.yaml:11:10: devices[1].mac: expected a MAC like 52:54:00:12:34:56"],
    ],
    [
      "an unknown top-level key",
      `${BASE}colour: blue\n`,
      ['s.yaml:20:1: colour: unknown key "colour"'],
    ],
    [
      "a misspelt device key",
      edit("standby: true", "standy: true"),
      ['s.yaml:8:5: devices[0].standy: unknown key "standy"'],
    ],
    [
      "a missing steps list",
      edit("steps:\n  - ip: link set dev eth0 up\n  - plug: vf0\n  - settle\n", ""),
      ["s.yaml:1:1: steps: missing (expected array, received undefined)"],
    ],
    [
      "a missing name",
      edit("name: test\n", ""),
      ["s.yaml:1:1: name: missing (expected string, received undefined)"],
    ],
    [
      "a device without its MAC (at the device)",
      edit('    mac: "52:54:00:12:34:56"\n    standby', "    standby"),
      ["s.yaml:5:5: devices[0].mac: missing (expected a MAC like 52:54:00:12:34:56)"],
    ],
    [
      "an unknown step kind",
      edit("  - settle", "  - reboot: now"),
      [
        's.yaml:16:5: steps[2]: expected a step: "settle" or a mapping with one of ip, plug, unplug, sleep, set_link, migrate, modprobe, udevadm; got a mapping with key "reboot"',
      ],
    ],
    [
      "a misspelt settle",
      edit("  - settle", "  - setle"),
      [
        's.yaml:16:5: steps[2]: expected a step: "settle" or a mapping with one of ip, plug, unplug, sleep, set_link, migrate, modprobe, udevadm; got "setle"',
      ],
    ],
    [
      "two step kinds in one item",
      edit("  - plug: vf0", "  - plug: vf0\n    unplug: vf0"),
      [
        's.yaml:15:5: steps[1]: expected a step: "settle" or a mapping with one of ip, plug, unplug, sleep, set_link, migrate, modprobe, udevadm; got a mapping with keys "plug", "unplug"',
      ],
    ],
    [
      "a known step kind with a bad value (narrowed to that kind)",
      edit("  - settle", "  - sleep: soon"),
      ['s.yaml:16:12: steps[2].sleep: expected a duration like 500, "500ms" or "2s"'],
    ],
    [
      "a module the model does not have",
      edit("  - settle", "  - modprobe: ixgbe"),
      [
        "s.yaml:16:15: steps[2].modprobe: expected a module: virtio_pci, failover, net_failover, virtio_net or e1000e",
      ],
    ],
    [
      "a kernel without a profile",
      edit('kernel: "6.1"', 'kernel: "9.99"'),
      [
        's.yaml:3:9: kernel: Unknown kernel version "9.99": supported versions are 4.18, 4.19, 5.0, 5.1, 5.4, 5.5, 5.10, 5.15, 6.1, 6.2, 6.6, 6.7, 6.12, 6.18',
      ],
    ],
    [
      "the wrong format version",
      edit("ifsim: 1", "ifsim: 2"),
      ["s.yaml:1:8: ifsim: expected ifsim: 1 (the format version)"],
    ],
    [
      "an unknown device type",
      edit("type: pci-nic", "type: usb-nic"),
      [
        's.yaml:10:11: devices[1].type: expected a device type: "virtio-net", "pci-nic", "veth" or "ifb"',
      ],
    ],
    [
      "a slot out of range",
      edit("    plugged: false", "    plugged: false\n    slot: 40"),
      ["s.yaml:13:11: devices[1].slot: expected a PCI slot number from 1 to 31"],
    ],
    [
      "a duplicate device id (and the reference that now dangles)",
      edit("id: vf0", "id: net0"),
      [
        's.yaml:9:9: devices[1].id: device id "net0" already used by devices[0]',
        's.yaml:15:11: steps[1].plug: no virtio-net or pci-nic device "vf0" (devices: net0)',
      ],
    ],
    [
      "a duplicate slot",
      edit("    standby: true", "    standby: true\n    slot: 4").replace(
        "    plugged: false",
        "    plugged: false\n    slot: 4",
      ),
      ["s.yaml:14:11: devices[1].slot: slot 4 already used by devices[0]"],
    ],
    [
      "a step naming an unknown device",
      edit("plug: vf0", "plug: vf9"),
      ['s.yaml:15:11: steps[1].plug: no virtio-net or pci-nic device "vf9" (devices: net0, vf0)'],
    ],
    [
      "a migration naming an unknown primary in its list",
      edit("  - settle", "  - migrate:\n      primary: [vf0, vf7]"),
      [
        's.yaml:17:22: steps[2].migrate.primary[1]: no virtio-net or pci-nic device "vf7" (devices: net0, vf0)',
      ],
    ],
    [
      "a set_link naming an unknown device",
      edit("  - settle", "  - set_link: { device: nic9, up: false }"),
      [
        's.yaml:16:25: steps[2].set_link.device: no virtio-net or pci-nic device "nic9" (devices: net0, vf0)',
      ],
    ],
    [
      "a device expectation naming an unknown device",
      `${BASE}  - device: nope\n    present: true\n`,
      [
        's.yaml:20:13: expect[1].device: no virtio-net or pci-nic device "nope" (devices: net0, vf0)',
      ],
    ],
    [
      "an expectation on a step that does not exist",
      edit("step: 1", "step: 9"),
      ["s.yaml:18:11: expect[0].step: there are only 3 steps"],
    ],
    [
      "an expectation missing its errno (narrowed to the step kind)",
      edit("    error: ok\n", ""),
      ['s.yaml:18:5: expect[0].error: missing (expected "ok" or an errno name like EBUSY)'],
    ],
    [
      "an expectation of no known kind",
      edit("  - step: 1\n    error: ok", "  - lnk: eth0"),
      [
        's.yaml:18:5: expect[0]: expected an expectation: a mapping with one of step, link, device, log, no_log; got a mapping with key "lnk"',
      ],
    ],
    [
      "a misspelt key in a link expectation",
      `${BASE}  - link: eth0\n    mastr: eth1\n`,
      ['s.yaml:21:5: expect[1].mastr: unknown key "mastr"'],
    ],
    [
      "a udev section that is neither none nor a mapping",
      `${BASE}udev: systemd\n`,
      ['s.yaml:20:7: udev: expected "none" or a mapping; got "systemd"'],
    ],
    [
      "a bad value inside the bring-up section",
      `${BASE}bringup:\n  links: [eth0]\n  latency_ms: soon\n`,
      ["s.yaml:22:15: bringup.latency_ms: Invalid input: expected number, received string"],
    ],
    [
      "an errno that is not a name",
      edit("error: ok", "error: busy"),
      [
        's.yaml:19:12: expect[0].error: expected "ok" or an errno name like EBUSY; "busy" is not a Linux errno (did you mean EBUSY?)',
      ],
    ],
    [
      "a log pattern that is not a regular expression",
      `${BASE}  - log: 'a(('\n`,
      [
        "s.yaml:20:10: expect[1].log: not a supported pattern (a linear-time subset of regular expressions): unterminated group at offset 2",
      ],
    ],
    [
      "a log pattern with a backreference (outside the linear-time subset)",
      `${BASE}  - no_log: '(a+)\\1'\n`,
      [
        's.yaml:20:13: expect[1].no_log: not a supported pattern (a linear-time subset of regular expressions): "\\1" is not supported (escape only punctuation, or use \\d \\w \\s) at offset 4',
      ],
    ],
    [
      "a sleep past the virtual clock's range (a number)",
      edit("  - settle\n", "  - sleep: 9000000000000\n"),
      ["s.yaml:16:12: steps[2].sleep: expected a duration of at most 86400000 ms (one day)"],
    ],
    [
      "a sleep of 400 nines (a string)",
      edit("  - settle\n", `  - sleep: "${"9".repeat(400)}s"\n`),
      ["s.yaml:16:12: steps[2].sleep: expected a duration of at most 86400000 ms (one day)"],
    ],
    [
      "sleeps that together pass 1000 days",
      edit("  - settle\n", "  - sleep: 86400000\n".repeat(1001)),
      [
        "s.yaml:1016:12: steps[1002].sleep: the sleeps add up to more than 86400000000 ms (1000 days), past what a run may span",
      ],
    ],
    [
      "a *_ms field past one day",
      edit("    plugged: false", "    plugged: false\n    link_up_delay_ms: 1e300"),
      [
        "s.yaml:13:23: devices[1].link_up_delay_ms: expected a duration of at most 86400000 ms (one day)",
      ],
    ],
    [
      "a hwdb glob with a reversed range",
      edit("steps:", 'udev:\n  hwdb:\n    "[z-a]*": { PHYS_PORT_NAME: false }\nsteps:'),
      [
        's.yaml:15:5: udev.hwdb.[z-a]*: not a valid glob: the range "z-a" is reversed (write "a-z") at offset 1',
      ],
    ],
    [
      "more PCI devices than free slots (QEMU's automatic addr=)",
      edit(
        "steps:",
        `${Array.from({ length: 28 }, (_, i) => `  - { id: n${i}, type: pci-nic, mac: "52:54:00:00:00:${i.toString(16).padStart(2, "0")}" }\n`).join("")}steps:`,
      ),
      [
        's.yaml:40:5: devices[29]: no free PCI slot for "n27": slots 3 to 31 are all in use (QEMU: "PCI: no slot/function available for e1000e, all in use or reserved")',
      ],
    ],
    [
      "a failover primary without an id (QEMU's message)",
      edit("  - id: vf0\n    type: pci-nic", "  - type: pci-nic\n    failover_pair: net0").replace(
        "  - plug: vf0\n",
        "",
      ),
      [
        's.yaml:9:5: devices[1].id: missing: a device with failover_pair needs an id (QEMU: "Device with failover_pair_id needs to have id")',
      ],
    ],
    [
      "a hot-plugged device on pcie.0",
      edit("    plugged: false", "    plugged: false\n    bus: pcie.0"),
      [
        "s.yaml:13:10: devices[1].bus: Bus 'pcie.0' does not support hotplugging (plugged: false needs a hot-plug)",
      ],
    ],
    [
      "a failover primary on pcie.0",
      edit("    plugged: false", "    failover_pair: net0\n    bus: pcie.0").replace(
        "  - plug: vf0\n",
        "",
      ),
      [
        "s.yaml:13:10: devices[1].bus: Bus 'pcie.0' does not support hotplugging (a failover primary is hot-plugged by QEMU)",
      ],
    ],
    [
      "an unplug step for a device on pcie.0",
      edit("    plugged: false", "    bus: pcie.0").replace("  - plug: vf0", "  - unplug: vf0"),
      [
        "s.yaml:12:10: devices[1].bus: Bus 'pcie.0' does not support hotplugging (a plug or unplug step needs a hot-plug)",
      ],
    ],
    [
      "a YAML syntax error (unclosed flow sequence)",
      edit("  - settle", "  - [settle"),
      [
        "s.yaml:17:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    ],
    [
      "a YAML indentation error",
      edit("    type: pci-nic", "   type: pci-nic"),
      [
        "s.yaml:10:1: Sequence item without - indicator",
        "s.yaml:10:10: Nested mappings are not allowed in compact mappings",
        "s.yaml:10:10: Implicit keys need to be on a single line",
        "s.yaml:12:1: All mapping items must start at the same column",
      ],
    ],
    [
      "a tab as indentation",
      "ifsim: 1\n\tname: x\n",
      ["s.yaml:2:1: Tabs are not allowed as indentation"],
    ],
    [
      "a duplicate key (the second one is flagged)",
      edit("name: test\n", "name: test\nname: again\n"),
      ["s.yaml:3:1: Map keys must be unique"],
    ],
    [
      "a duplicate key inside a device",
      edit("    standby: true", "    standby: true\n    standby: false"),
      ["s.yaml:9:5: Map keys must be unique"],
    ],
    [
      "a list instead of a mapping",
      "- 1\n- 2\n",
      ["s.yaml:1:1: expected a mapping with ifsim: 1, name, devices and steps; got a list"],
    ],
    [
      "an empty file (a whole-document problem: no position)",
      "",
      ["s.yaml: expected a mapping with ifsim: 1, name, devices and steps; got null"],
    ],
  ])("%s", (_what, text, want) => {
    expect(issues(text)).toEqual(want);
  });

  it("should not accept what QEMU would pair wrongly as an error: failover_pair naming nothing", () => {
    expect(issues(edit("    plugged: false", "    failover_pair: nobody"))).toEqual(["(ok)"]);
  });

  it("should take script_starts: quiescent or boot, and position a bad value", () => {
    for (const v of ["quiescent", "boot"]) {
      const r = parseScenario(edit("steps:\n", `script_starts: ${v}\nsteps:\n`), FILE);
      expect(r.ok && r.scenario.script_starts).toBe(v);
    }
    expect(issues(edit("steps:\n", "script_starts: later\nsteps:\n"))).toEqual([
      's.yaml:13:16: script_starts: expected "quiescent" or "boot"',
    ]);
    expect(issues(edit("steps:\n", "script_start: boot\nsteps:\n"))).toEqual([
      's.yaml:13:1: script_start: unknown key "script_start"',
    ]);
  });

  it("should report several problems at once, in document order", () => {
    const text = edit("standby: true", "standy: true").replace("error: ok", "error: busy");
    expect(issues(text)).toEqual([
      's.yaml:8:5: devices[0].standy: unknown key "standy"',
      's.yaml:19:12: expect[0].error: expected "ok" or an errno name like EBUSY; "busy" is not a Linux errno (did you mean EBUSY?)',
    ]);
  });

  it("should name the file it was given, and <scenario> by default", () => {
    const r = parseScenario("ifsim: 2\n");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.every((i) => i.file === "<scenario>")).toBe(true);
  });

  it("should publish a JSON Schema that knows the new keys", () => {
    const text = JSON.stringify(scenarioJsonSchema());
    for (const k of ['"modprobe"', '"modules"', '"bus"', '"pcie.0"', '"resume"', '"hidden"'])
      expect(text).toContain(k);
    const starts = (scenarioJsonSchema().properties as Record<string, Record<string, unknown>>)
      .script_starts;
    expect(starts?.enum).toEqual(["quiescent", "boot"]);
    expect(String(starts?.description)).toMatch(/quiescent \(default\)/);
  });
});

// ─── fuzz ───────────────────────────────────────────────────────────────────────────────

/** The contract of a failed parse: positioned, readable issues, never a stack trace. */
function checkResult(r: ParseResult, file: string): void {
  if (r.ok) {
    expect(r.scenario.ifsim).toBe(1);
    expect(Array.isArray(r.scenario.steps)).toBe(true);
    return;
  }
  expect(r.issues.length).toBeGreaterThan(0);
  for (const i of r.issues as ScenarioIssue[]) {
    expect(i.file).toBe(file);
    expect(Number.isInteger(i.line) && Number.isInteger(i.col)).toBe(true);
    if (i.line === 0) {
      // Only whole-document problems have no position.
      expect(i.path).toBe("");
      expect(i.col).toBe(0);
    } else {
      expect(i.line).toBeGreaterThanOrEqual(1);
      expect(i.col).toBeGreaterThanOrEqual(1);
    }
    expect(typeof i.path).toBe("string");
    expect(typeof i.message).toBe("string");
    expect(i.message.trim()).not.toBe("");
    expect(i.message).not.toMatch(/\n\s+at |\bat .*\.(ts|js):\d+/);
    expect(formatIssue(i)).not.toContain("\n");
  }
}

function parseChecked(text: string): void {
  let r: ParseResult;
  try {
    r = parseScenario(text, FILE);
  } catch (e) {
    throw new Error(`parseScenario threw on ${JSON.stringify(text)}: ${(e as Error).stack}`);
  }
  checkResult(r, FILE);
}

const EXAMPLES = readdirSync("examples/scenarios")
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => readFileSync(`examples/scenarios/${f}`, "utf8"));

const KEYS = [
  "ifsim",
  "name",
  "kernel",
  "devices",
  "steps",
  "expect",
  "id",
  "type",
  "mac",
  "standby",
  "slot",
  "bus",
  "plugged",
  "failover_pair",
  "ip",
  "plug",
  "unplug",
  "sleep",
  "migrate",
  "primary",
  "outcome",
  "modprobe",
  "modules",
  "set_link",
  "link",
  "master",
  "step",
  "error",
  "log",
  "device",
  "udev",
  "bringup",
  "cloud_init",
  "settle",
  "<<",
  "? x",
];
const SCALARS = [
  "1",
  "0",
  "-1",
  "2",
  '"5.0"',
  '"6.1"',
  "9.99",
  "true",
  "false",
  "null",
  "~",
  '"52:54:00:12:34:56"',
  "52:54:00:12:34:56",
  "eth0",
  "net0",
  "vf0",
  "virtio-net",
  "pci-nic",
  "pcie.0",
  "settle",
  "[]",
  "{}",
  "[net0, vf0]",
  "{ device: vf0, up: true }",
  '"2s"',
  "500",
  "&a x",
  "*a",
  "!!binary aGk=",
  "!!int x",
  "|",
  ">-",
  "'",
  '"',
  "[",
  "{",
  "#",
  "%YAML 1.2",
  "---",
  "...",
  "EBUSY",
  "ok",
  "'a(('",
  "1e400",
  "0x1F",
  "-.inf",
  ".nan",
];

/** A YAML-ish line: key/value, list item or a stray token, at a random indentation. */
const yamlishLine = fc
  .tuple(
    fc.integer({ min: 0, max: 8 }),
    fc.oneof(
      fc
        .tuple(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS, ""))
        .map(([k, v]) => `${k}: ${v}`),
      fc.constantFrom(...SCALARS).map((v) => `- ${v}`),
      fc
        .tuple(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS))
        .map(([k, v]) => `- ${k}: ${v}`),
      fc.constantFrom(...KEYS).map((k) => `${k}:`),
      fc.string({ maxLength: 12 }),
    ),
  )
  .map(([n, l]) => `${" ".repeat(n)}${l}`);

/** Well-formed YAML from random JSON-like values shaped a little like scenarios. */
const leaf = fc.oneof(
  fc.constantFrom(1, 0, -3, 2.5, true, false, null, "6.1", "5.0", "52:54:00:12:34:56"),
  fc.constantFrom("eth0", "net0", "vf0", "virtio-net", "pci-nic", "settle", "EBUSY", "ok"),
  fc.string({ maxLength: 8 }),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("node"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie("node"), { maxKeys: 5 }),
  ),
})).node;
const scenarioLike = fc
  .record(
    {
      ifsim: fc.constantFrom(1, 2, "1"),
      name: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(3)),
      kernel: fc.constantFrom("5.0", "6.1", "6.18", "7.0", 6.1),
      devices: fc.array(
        fc.record(
          {
            id: fc.constantFrom("net0", "vf0", "vf1", "0bad", ""),
            type: fc.constantFrom("virtio-net", "pci-nic", "veth", "ifb", "usb"),
            mac: fc.constantFrom("52:54:00:12:34:56", "52:54:00:12:34", "zz:zz:zz:zz:zz:zz"),
            standby: fc.boolean(),
            failover_pair: fc.constantFrom("net0", "vf0", "nobody"),
            plugged: fc.boolean(),
            bus: fc.constantFrom("pci.0", "pcie.0", "isa"),
            slot: fc.integer({ min: -1, max: 40 }),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      steps: fc.array(
        fc.oneof(
          fc.constant("settle"),
          fc.constantFrom("net0", "vf0", "vf9").map((d) => ({ plug: d })),
          fc.constantFrom("net0", "vf0").map((d) => ({ unplug: d })),
          fc.constant({ ip: "link set dev eth0 up" }),
          fc.constantFrom("virtio_net", "ixgbe").map((m) => ({ modprobe: m })),
          fc
            .constantFrom<string | string[]>("vf0", ["vf0", "vf9"], [])
            .map((p) => ({ migrate: { primary: p } })),
          value,
        ),
        { maxLength: 5 },
      ),
      expect: fc.array(
        fc.oneof(
          fc.record({
            step: fc.integer({ min: -1, max: 9 }),
            error: fc.constantFrom("ok", "EBUSY", "x"),
          }),
          fc.record({ device: fc.constantFrom("vf0", "zz"), hidden: fc.boolean() }),
          fc.record({ log: fc.constantFrom("a", "a((", "[") }),
          value,
        ),
        { maxLength: 3 },
      ),
      extra: value,
    },
    { requiredKeys: [] },
  )
  .map((o) => stringify(o));

/** One edit of a text: delete, duplicate or swap lines, change a character or a value. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    kind: fc.constant("char" as const),
    at: fc.nat(),
    to: fc.constantFrom(..." \t\n:-[]{}#'\"&*!|>?,%@`0aZ\u00e9\u0000\uffff"),
  }),
  fc.record({ kind: fc.constant("value" as const), at: fc.nat(), to: fc.constantFrom(...SCALARS) }),
  fc.record({
    kind: fc.constant("indent" as const),
    at: fc.nat(),
    by: fc.integer({ min: -4, max: 4 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, m: Mutation): string {
  const lines = text.split("\n");
  const i = lines.length === 0 ? 0 : m.at % lines.length;
  switch (m.kind) {
    case "delete":
      lines.splice(i, 1);
      return lines.join("\n");
    case "duplicate":
      lines.splice(i, 0, lines[i] ?? "");
      return lines.join("\n");
    case "swap": {
      const j = m.with % lines.length;
      [lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""];
      return lines.join("\n");
    }
    case "char": {
      if (text.length === 0) return m.to;
      const p = m.at % text.length;
      return text.slice(0, p) + m.to + text.slice(p + 1);
    }
    case "value": {
      // Replace the value after the first ": " of a line (or the item after "- ").
      const l = lines[i] ?? "";
      const k = l.indexOf(": ");
      const d = l.indexOf("- ");
      if (k >= 0) lines[i] = `${l.slice(0, k + 2)}${m.to}`;
      else if (d >= 0) lines[i] = `${l.slice(0, d + 2)}${m.to}`;
      else lines[i] = `${l}${m.to}`;
      return lines.join("\n");
    }
    case "indent": {
      const l = lines[i] ?? "";
      lines[i] =
        m.by >= 0 ? `${" ".repeat(m.by)}${l}` : l.replace(new RegExp(`^ {0,${-m.by}}`), "");
      return lines.join("\n");
    }
  }
}

describe("parseScenario: fuzz (seeded by IFSIM_SEED)", () => {
  const params = { seed: testSeed(), numRuns: 400 };

  it("should never throw on random strings", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 })),
        (s) => parseChecked(s),
      ),
      params,
    );
  });

  it("should never throw on YAML-ish line soup", () => {
    fc.assert(
      fc.property(fc.array(yamlishLine, { maxLength: 30 }), (ls) => parseChecked(ls.join("\n"))),
      params,
    );
  });

  it("should never throw on well-formed YAML shaped like a scenario", () => {
    fc.assert(
      fc.property(scenarioLike, (t) => parseChecked(t)),
      params,
    );
  });

  it("should never throw on mutated example files", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: EXAMPLES.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (e, ms) => parseChecked(ms.reduce(mutate, EXAMPLES[e] as string)),
      ),
      { ...params, numRuns: 800 },
    );
  });
});
