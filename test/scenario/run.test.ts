// `ifsim run` through main(): exit statuses, the --json run record of
// docs/scenario-format.md, several --kernel with their differences, --help, bad options.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import type { RunRecord } from "../../src/scenario/run.ts";

const SEED_RACE = "test/fixtures/scenarios/seed-race-5.0.yaml";
const TWO_PAIRS = "examples/scenarios/04-two-pairs.yaml";

const tmp = mkdtempSync(join(tmpdir(), "ifsim-run-test-"));

/** Writes a scenario file into a temporary directory and returns its path. */
function scenarioFile(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const LINK_KEYS = [
  "ifindex",
  "ifname",
  "flags",
  "mtu",
  "operstate",
  "address",
  "master",
  "portname",
  "name_assign_type",
];

describe("ifsim run: exit status", () => {
  it("should exit 0 when every expectation holds", () => {
    const r = main(["run", SEED_RACE]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("PASS step 4 → EBUSY: got EBUSY");
    expect(r.stdout).not.toMatch(/^ {2}FAIL /m);
  });

  it("should exit 1 when an expectation fails (the seed race on a fixed kernel)", () => {
    const r = main(["run", SEED_RACE, "--kernel", "6.1"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("FAIL step 4 → EBUSY: got ok");
    expect(r.stdout).toContain("FAIL link eth2: no link named eth2");
  });

  it("should exit 1 when any of several kernels fails an expectation", () => {
    expect(main(["run", SEED_RACE, "--kernel", "5.0", "--kernel", "6.1"]).status).toBe(1);
    expect(main(["run", SEED_RACE, "--kernel", "5.0", "--kernel", "5.0"]).status).toBe(0);
  });

  it("should exit 2 with positioned errors for a bad file, and print nothing on stdout", () => {
    const f = scenarioFile(
      "bad.yaml",
      'ifsim: 1\nname: x\ndevices:\n  - id: a\n    type: pci-nic\n    mac: "52:54:00"\nsteps: []\n',
    );
    expect(main(["run", f])).toEqual({
      stdout: "",
      stderr: `${f}:6:10: devices[0].mac: expected a MAC like 52:54:00:12:34:56\n`,
      status: 2,
    });
  });

  it("should exit 2 for a YAML syntax error", () => {
    const f = scenarioFile("syntax.yaml", "ifsim: 1\nname: [x\n");
    const r = main(["run", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${f}:\\d+:\\d+: `));
  });

  it("should exit 2 for a file it cannot read", () => {
    expect(main(["run", join(tmp, "missing.yaml")])).toEqual({
      stdout: "",
      stderr: `ifsim run: cannot read "${join(tmp, "missing.yaml")}": ENOENT (No such file or directory)\n`,
      status: 2,
    });
  });

  it("should exit 2 for a scenario without a kernel and no --kernel", () => {
    const f = scenarioFile("nokernel.yaml", "ifsim: 1\nname: x\nsteps: [settle]\n");
    expect(main(["run", f])).toEqual({
      stdout: "",
      stderr: `ifsim run: ${f}: no kernel: set kernel: in the scenario or pass --kernel\n`,
      status: 2,
    });
    expect(main(["run", f, "--kernel", "6.1"]).status).toBe(0);
  });

  it("should exit 2 for an unknown --kernel", () => {
    const r = main(["run", SEED_RACE, "--kernel", "9.9"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^ifsim run: test\/fixtures\/scenarios\/seed-race-5\.0\.yaml: .*"9\.9"/,
    );
  });
});

describe("ifsim run: usage", () => {
  it("should print its help with --help and -h, exit 0", () => {
    for (const h of ["--help", "-h"]) {
      const r = main(["run", h]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^Usage: ifsim run FILE\.yaml \[--kernel V\]\.\.\. \[--seed N\]/);
      for (const opt of ["--kernel V", "--seed N", "--json", "--monitor", "Exit status"])
        expect(r.stdout).toContain(opt);
    }
  });

  it("should list run in the top-level help", () => {
    expect(main(["--help"]).stdout).toContain("ifsim run FILE.yaml [--kernel V]... [--seed N]");
  });

  it.each<[string, string[], string]>([
    ["no file", [], "ifsim run: give a scenario file (see ifsim run --help)\n"],
    ["two files", [SEED_RACE, TWO_PAIRS], "ifsim run: give one scenario file\n"],
    [
      "an unknown option",
      [SEED_RACE, "--frobnicate"],
      'ifsim run: unknown option "--frobnicate" (see ifsim run --help)\n',
    ],
    [
      "--kernel without a version",
      [SEED_RACE, "--kernel"],
      "ifsim run: --kernel needs a version, e.g. --kernel 6.1\n",
    ],
    [
      "--seed without a number",
      [SEED_RACE, "--seed"],
      'ifsim run: --seed needs an integer from 0 to 2^53 - 1, got ""\n',
    ],
    [
      "--seed with a negative number",
      [SEED_RACE, "--seed", "-3"],
      'ifsim run: --seed needs an integer from 0 to 2^53 - 1, got "-3"\n',
    ],
    [
      "--seed with a word",
      [SEED_RACE, "--seed", "abc"],
      'ifsim run: --seed needs an integer from 0 to 2^53 - 1, got "abc"\n',
    ],
  ])("should exit 2 for %s", (_what, args, stderr) => {
    expect(main(["run", ...args])).toEqual({ stdout: "", stderr, status: 2 });
  });
});

describe("ifsim run --json: the run record", () => {
  const r = main(["run", SEED_RACE, "--json"]);
  const rec = JSON.parse(r.stdout) as RunRecord;

  it("should print one JSON object and exit 0", () => {
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.endsWith("}\n")).toBe(true);
    expect(Array.isArray(rec)).toBe(false);
  });

  it("should start with the contract's fields, in order", () => {
    expect(Object.keys(rec).slice(0, 5)).toEqual([
      "scenario",
      "backend",
      "kernel",
      "steps",
      "links",
    ]);
    expect(rec.scenario).toBe("VF hot-plugged while the failover master is up");
    expect(rec.backend).toBe("model");
    expect(rec.kernel).toBe("5.0");
  });

  it("should give each step index, step, ok, errno, message and events", () => {
    expect(rec.steps.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    for (const s of rec.steps) {
      expect(Object.keys(s).slice(0, 6)).toEqual([
        "index",
        "step",
        "ok",
        "errno",
        "message",
        "events",
      ]);
      expect(typeof s.step).toBe("string");
      expect(typeof s.ok).toBe("boolean");
      expect(Array.isArray(s.events)).toBe(true);
    }
    expect(rec.steps[0]).toMatchObject({
      step: "ip link set dev eth0 up",
      ok: true,
      errno: null,
      message: null,
    });
    expect(rec.steps[3]).toMatchObject({
      step: "ip link set dev eth2 name ens4",
      ok: false,
      errno: "EBUSY",
      message: "RTNETLINK answers: Device or resource busy",
      events: [],
    });
  });

  it("should give events as ip monitor link prints them (trailing space on record lines)", () => {
    const evs = rec.steps[1]?.events ?? [];
    expect(evs.length).toBeGreaterThan(0);
    expect(evs[0]).toBe(
      "4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN group default ",
    );
    expect(evs[1]).toBe("    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff");
    for (const e of evs) expect(/^\d+: .* $/.test(e) || /^ {4}link\//.test(e)).toBe(true);
  });

  it("should give the final links in ifindex order with the ip -j -d link field names, lo included", () => {
    expect(rec.links.map((l) => [l.ifindex, l.ifname])).toEqual([
      [1, "lo"],
      [2, "eth0"],
      [3, "eth1"],
      [4, "eth2"],
    ]);
    for (const l of rec.links) expect(Object.keys(l)).toEqual(LINK_KEYS);
    expect(rec.links[3]).toEqual({
      ifindex: 4,
      ifname: "eth2",
      flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
      mtu: 1500,
      operstate: "UP",
      address: "52:54:00:12:34:56",
      master: "eth0",
      portname: null,
      name_assign_type: 0, // NET_NAME_UNKNOWN: alloc_etherdev before 5.19
    });
    expect(rec.links[2]?.portname).toBe("sby");
    expect(rec.links[0]?.flags).toEqual(["LOOPBACK"]);
  });

  it("should add the model's extensions after the contract's fields", () => {
    expect(Object.keys(rec).slice(5)).toEqual([
      "seed",
      "timeline",
      "expectations",
      "dmesg",
      "ip_link",
      "monitor",
      "devices",
      "ok",
    ]);
    expect(rec.seed).toBe(1);
    expect(rec.ok).toBe(true);
    expect(rec.devices).toEqual([
      // q35: the hot-pluggable VF sits behind its own PCIe root port, as the qemu backend builds it.
      { id: "rp-vf0", present: true, hidden: false },
      { id: "net0", present: true, hidden: false },
      { id: "vf0", present: true, hidden: false },
    ]);
    expect(rec.expectations.every((e) => e.ok)).toBe(true);
  });

  it("should take --seed into the record", () => {
    const s = JSON.parse(main(["run", SEED_RACE, "--json", "--seed", "42"]).stdout) as RunRecord;
    expect(s.seed).toBe(42);
  });

  it("should print an array of records, one per --kernel, exit 1 if one fails", () => {
    const m = main(["run", SEED_RACE, "--json", "--kernel", "5.0", "--kernel", "6.1"]);
    expect(m.status).toBe(1);
    const recs = JSON.parse(m.stdout) as RunRecord[];
    expect(recs.map((x) => [x.kernel, x.ok])).toEqual([
      ["5.0", true],
      ["6.1", false],
    ]);
    expect(recs.map((x) => x.steps[3]?.errno)).toEqual(["EBUSY", null]);
  });

  it("should give records of two kernels that compare field by field", () => {
    const recs = JSON.parse(
      main(["run", TWO_PAIRS, "--json", "--kernel", "5.0", "--kernel", "6.18"]).stdout,
    ) as RunRecord[];
    const [a, b] = recs as [RunRecord, RunRecord];
    expect(a.links.map((l) => Object.keys(l))).toEqual(b.links.map((l) => Object.keys(l)));
    expect(a.steps.map((s) => s.step)).toEqual(b.steps.map((s) => s.step));
  });
});

describe("ifsim run: several kernels", () => {
  it("should show each run and a differences: section", () => {
    const r = main(["run", SEED_RACE, "--kernel", "5.0", "--kernel", "6.1"]);
    expect(r.stdout).toContain(
      "== VF hot-plugged while the failover master is up — kernel 5.0, seed 1",
    );
    expect(r.stdout).toContain(
      "== VF hot-plugged while the failover master is up — kernel 6.1, seed 1",
    );
    const diff = r.stdout.slice(r.stdout.indexOf("\ndifferences:\n"));
    expect(diff).toBe(
      "\ndifferences:\n" +
        "  step 4 (ip link set dev eth2 name ens4): 5.0 EBUSY, 6.1 ok\n" +
        "  link 4: 5.0 eth2 <BROADCAST,MULTICAST,UP,LOWER_UP> master eth0, 6.1 ens4 <BROADCAST,MULTICAST,UP,LOWER_UP> master eth0\n" +
        "\nverdicts:\n" +
        "  Linux 5.0  PASS  all 3 expectations hold\n" +
        "  Linux 6.1  FAIL  3 of 3 failed: step 4 → EBUSY (got ok); link eth2 (no link named eth2); link ens4 absent (link ens4 absent (got present))\n",
    );
  });

  it("should say none when two kernels agree", () => {
    const r = main(["run", TWO_PAIRS, "--kernel", "6.1", "--kernel", "6.18"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("\ndifferences:\n  6.1 and 6.18: none\n\nverdicts:\n");
  });

  it("should have no differences: section for one kernel", () => {
    expect(main(["run", SEED_RACE]).stdout).not.toContain("differences:");
  });
});

describe("ifsim run --monitor", () => {
  it("should print the ip monitor link lines under each step", () => {
    const plain = main(["run", SEED_RACE]).stdout;
    const mon = main(["run", SEED_RACE, "--monitor"]).stdout;
    expect(plain).not.toContain("        | ");
    expect(mon).toContain(
      "   2. plug vf0  → ok\n        | 4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN group default \n",
    );
  });
});
