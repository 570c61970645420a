// `ifsim ip --work late`: the kernel's deferred work waits until ip has ended, as on a machine too
// busy to run its workqueue; compared with what the real 6.18 kernel printed in that case.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { maskMacs } from "../_helpers/macs.ts";

const FILE = "examples/rename-while-up.batch";

describe("ifsim ip --work", () => {
  it("late: should print the records the starved 6.18 kernel printed", () => {
    const r = main(["ip", "--work", "late", "--monitor", "-", "-force", "-batch", FILE]);
    expect(r.status).toBe(0);
    expect(maskMacs(r.stderr)).toBe(
      readFileSync("test/fixtures/schedules/rename-while-up.starved.monitor", "utf8"),
    );
  });

  it("now (the default): should differ from late in the order of the carrier records", () => {
    const now = main(["ip", "--work", "now", "--monitor", "-", "-force", "-batch", FILE]);
    const dflt = main(["ip", "--monitor", "-", "-force", "-batch", FILE]);
    const late = main(["ip", "--work", "late", "--monitor", "-", "-force", "-batch", FILE]);
    expect(now).toEqual(dflt);
    expect(now.stderr).not.toBe(late.stderr);
    // The same records, in another order.
    expect(now.stderr.split("\n").sort()).toEqual(late.stderr.split("\n").sort());
  });

  it("late before 6.8: no lookup runs the pending events, all come after the batch", () => {
    const r = main([
      "ip",
      "--kernel",
      "6.7",
      "--work",
      "late",
      "--monitor",
      "-",
      "-force",
      "-batch",
      FILE,
    ]);
    const heads = r.stderr.split("\n").filter((l) => /^\d+:/.test(l));
    // veth0's carrier-on record comes only after the batch, under its new name.
    expect(
      heads.findIndex((l) => l.startsWith("3: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP>")),
    ).toBe(-1);
    expect(heads.at(-1)).toMatch(/^3: uplink0@veth1: <NO-CARRIER/);
  });

  it("should refuse another value with a usage error", () => {
    const r = main(["ip", "--work", "sometimes", "link", "show"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('ifsim ip: --work needs now or late, got "sometimes"\n');
    expect(main(["ip", "--work"]).status).toBe(2);
  });

  it("should be in --help", () => {
    expect(main(["ip", "--help"]).stdout).toContain("--work now|late");
  });
});
