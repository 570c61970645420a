// The schedules of an ip batch's deferred work (src/ip/schedules.ts): the outcomes a real kernel
// gives when its linkwatch work runs late, each found by the search, and orders no schedule gives.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { type BatchSearch, batchOutcome, findSchedule } from "../../src/ip/schedules.ts";
import { maskMacs } from "../_helpers/macs.ts";

const FILE = "examples/rename-while-up.batch";

function search(kernel = "6.18"): BatchSearch {
  return {
    kernel,
    global: ["-force"],
    text: readFileSync(FILE, "utf8"),
    fileName: FILE,
    normalise: maskMacs,
  };
}

/** Monitor records of the real 6.18 kernel (MACs masked), test/fixtures/schedules/. */
function realMonitor(name: string): string {
  return readFileSync(`test/fixtures/schedules/rename-while-up.${name}.monitor`, "utf8");
}

function records(text: string): string[] {
  return text.split("\n").filter((l) => l !== "" && !/^\s/.test(l));
}

describe("ip batch schedules", () => {
  it("should give ifsim ip's outcome when every pending work runs at once", () => {
    const cli = main(["ip", "--kernel", "6.18", "-force", "-batch", FILE, "--monitor", "-"]);
    const o = batchOutcome(search());
    expect(o.status).toBe(cli.status);
    expect(maskMacs(o.stdout)).toBe(maskMacs(cli.stdout));
    expect(maskMacs(o.stderr + o.monitor)).toBe(maskMacs(cli.stderr));
  });

  it("should reproduce the starved kernel's records with the work deferred to the end (6.8+)", () => {
    // Measured on 6.18 with ip SCHED_FIFO on one CPU and a busy loop on the other: no kworker ran
    // until ip exited. `ip link set dev veth0 name uplink0` looks veth0 up first, and that
    // RTM_GETLINK ran veth0's pending linkwatch event (facd15dfd691): veth0's carrier record
    // comes before the rename, veth1's only at its own lookup.
    const o = batchOutcome(search(), [], "defer");
    expect(maskMacs(o.monitor)).toBe(realMonitor("starved"));
    expect(maskMacs(batchOutcome(search()).monitor)).not.toBe(realMonitor("starved"));
  });

  it("should find a schedule for the records of CI run 19 (the work ran between a lookup and its change)", () => {
    const base = batchOutcome(search());
    const found = findSchedule(search(), { ...base, monitor: realMonitor("ci19") });
    expect(found.schedule).not.toBeNull();
    expect(found.schedule).toContain("defer");
  });

  it("should find ifsim ip's own outcome first, on the all-run schedule", () => {
    const base = batchOutcome(search());
    const found = findSchedule(search(), base);
    expect(found.schedule?.every((c) => c === "run")).toBe(true);
    expect(found.runs).toBeLessThan(20);
  });

  it("should find no schedule before 6.8 for the starved records (no lookup runs linkwatch)", () => {
    const s = search("6.7");
    const found = findSchedule(s, { ...batchOutcome(s), monitor: realMonitor("starved") });
    expect(found).toMatchObject({ schedule: null, exhausted: true });
  });

  it("should find no schedule for an order the kernel cannot give", () => {
    // The rename to downlink0 printed before the `down` that allows it: no schedule does that.
    const recs = realMonitor("starved").split(/\n(?=\S)/);
    const i = recs.findIndex((r) => r.startsWith("2: downlink0"));
    [recs[i - 1], recs[i]] = [recs[i] as string, recs[i - 1] as string];
    const bad = recs.join("\n");
    expect(records(bad)).toHaveLength(records(realMonitor("starved")).length);
    const found = findSchedule(search(), { ...batchOutcome(search()), monitor: bad });
    expect(found).toMatchObject({ schedule: null, exhausted: true });
  });

  it("should stop at the run limit and say the search was not exhausted", () => {
    const s = { ...search(), maxRuns: 2 };
    const found = findSchedule(s, { ...batchOutcome(s), monitor: realMonitor("starved") });
    expect(found).toMatchObject({ schedule: null, exhausted: false, runs: 2 });
  });

  it("should be deterministic", () => {
    const a = findSchedule(search(), { ...batchOutcome(search()), monitor: realMonitor("ci19") });
    const b = findSchedule(search(), { ...batchOutcome(search()), monitor: realMonitor("ci19") });
    expect(a).toEqual(b);
  });
});
