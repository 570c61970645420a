// The library entry (src/index.ts): what `import … from "ifsim"` gives.

import { describe, expect, it } from "vitest";
import {
  explore,
  IpModel,
  linkNamed,
  loadScenario,
  readRunRecords,
  readScenarioFile,
  run,
  ScenarioError,
} from "../src/index.ts";

const SEED_RACE = "examples/scenarios/01-seed-race.yaml";

describe("loadScenario", () => {
  it("should throw a ScenarioError with every positioned issue", () => {
    expect(() => loadScenario("ifsim: 1\nname: x\nsteps: [frob]\n", "f.yaml")).toThrow(
      ScenarioError,
    );
    try {
      loadScenario("ifsim: 2\nname: x\nsteps: []\n", "f.yaml");
    } catch (e) {
      expect((e as ScenarioError).issues[0]).toMatchObject({ file: "f.yaml", line: 1, col: 8 });
    }
  });
});

describe("run", () => {
  it("should run a scenario file per kernel, as ifsim run --json does", () => {
    const sc = readScenarioFile(SEED_RACE);
    expect(run(sc, { kernel: "5.0" }).steps[3]?.errno).toBe("EBUSY");
    const fixed = run(sc, { kernel: "6.1" });
    expect(fixed.steps[3]?.ok).toBe(true);
    expect(linkNamed(fixed, "enp1s0")?.master).toBe("eth0");
  });
});

describe("explore", () => {
  it("should return a verdict with a replayable counterexample", () => {
    const r = explore(readScenarioFile("examples/explore/seed-race.yaml"), {
      kernel: "5.0",
      invariants: ["no-ebusy-to-udev"],
    });
    expect(r.verdict).toBe("violated");
    if (r.verdict === "violated")
      expect(r.counterexample.violation.invariant).toBe("no-ebusy-to-udev");
  });
});

describe("IpModel", () => {
  it("should keep one kernel across commands and hot-plug on a machine", () => {
    const m = new IpModel({ kernel: "5.0", machine: "failover-vm" });
    expect(m.ip("link set dev eth0 up").status).toBe(0);
    m.unplug("primary0");
    m.plug("primary0");
    const r = m.ip(["link", "set", "dev", "eth3", "name", "ens4"]);
    expect(r).toMatchObject({ status: 2, stderr: "RTNETLINK answers: Device or resource busy\n" });
    expect(m.monitor()).toContain("eth3");
    expect(m.monitor()).toBe("");
    expect(m.dmesg().length).toBeGreaterThan(0);
  });

  it("should refuse an unknown machine and machine actions without one", () => {
    expect(() => new IpModel({ machine: "nope" })).toThrow(RangeError);
    expect(() => new IpModel().plug("x")).toThrow(TypeError);
  });
});

describe("readRunRecords", () => {
  it("should read a model record and a list, and name the first bad field", () => {
    const rec = run(readScenarioFile(SEED_RACE));
    expect(readRunRecords(JSON.stringify(rec))[0]?.steps[3]?.errno).toBe("EBUSY");
    expect(readRunRecords(JSON.stringify([rec, rec]))).toHaveLength(2);
    expect(() => readRunRecords(JSON.stringify([rec, { ...rec, links: 3 }]))).toThrow(
      /Not an ifsim run record: \[1\]\.links: /,
    );
    expect(() => readRunRecords("{")).toThrow(SyntaxError);
  });
});
