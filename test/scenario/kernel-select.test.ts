// Per-kernel expectations (`kernels:` on an expect entry) and the run's verdict lines.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { kernelSelected } from "../../src/scenario/kernel-select.ts";
import { formatIssue, parseScenario } from "../../src/scenario/parse.ts";

describe("kernelSelected", () => {
  it("should match versions, eras and comparisons", () => {
    const k50 = { version: "5.0", era: "E0" };
    const k61 = { version: "6.1", era: "E1" };
    const k610 = { version: "6.10", era: "E2" };
    expect(kernelSelected(undefined, k50)).toBe(true);
    expect(kernelSelected(["5.0"], k50)).toBe(true);
    expect(kernelSelected("5.0", k61)).toBe(false);
    expect(kernelSelected(["E1"], k61)).toBe(true);
    expect(kernelSelected([">=5.1"], k50)).toBe(false);
    expect(kernelSelected([">=5.1"], k61)).toBe(true);
    expect(kernelSelected(["<6.2"], k610)).toBe(false);
    expect(kernelSelected([">6.2"], k610)).toBe(true); // 6.10 > 6.2: numbers, not text
    expect(kernelSelected(["<=6.1", "E2"], k610)).toBe(true);
  });
});

const scenario = (kernels: string): string =>
  `ifsim: 1\nname: x\nkernel: "5.0"\nsteps:\n  - ip: link show\nexpect:\n  - step: 1\n    error: ok\n    kernels: ${kernels}\n`;

describe("kernels: in expect", () => {
  it("should be a positioned error for a bad selector or an unknown version", () => {
    const bad = parseScenario(scenario('["5.0", "five", "9.9"]'), "s.yaml");
    expect(bad.ok ? [] : bad.issues.map(formatIssue)).toEqual([
      's.yaml:9:22: expect[0].kernels[1]: expected a kernel version ("5.0"), an era (E0, E1, E2) or a comparison (">=5.1", "<6.2"); got "five"',
      `s.yaml:9:30: expect[0].kernels[2]: no kernel profile "9.9" (supported: 4.18, 4.19, 5.0, 5.1, 5.4, 5.5, 5.10, 5.15, 6.1, 6.2, 6.6, 6.7, 6.12, 6.18)`,
    ]);
    expect(parseScenario(scenario("[E0, '>=6.2']")).ok).toBe(true);
  });

  it("should make EBUSY on 5.0 and the rename on 6.1 one passing scenario, a verdict per kernel", () => {
    const r = main(["run", "examples/scenarios/01-seed-race.yaml"]);
    expect(r.status).toBe(0);
    expect(r.stdout.slice(r.stdout.indexOf("\nverdicts:\n"))).toBe(
      "\nverdicts:\n" +
        "  Linux 5.0  PASS  all 3 expectations hold\n" +
        "  Linux 6.1  PASS  all 2 expectations hold\n",
    );
    expect(r.stdout).toContain("PASS step 4 → EBUSY [E0]: got EBUSY");
    expect(r.stdout).toContain("PASS step 4 → ok [>=5.1]: got ok");
    expect(r.stdout).toContain("because eth2 is UP (opened by its master eth0 (net_failover)");
  });

  it("should say which expectations failed on which kernel", () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-ksel-"));
    const f = join(dir, "s.yaml");
    writeFileSync(f, scenario('[">=6.2"]').replace("error: ok", "error: EBUSY"));
    const r = main(["run", f, "--kernel", "5.0", "--kernel", "6.18"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /\nverdicts:\n {2}Linux 5\.0 {3}no expectations\n {2}Linux 6\.18 {2}FAIL {2}1 of 1 failed: step 1 → EBUSY \[>=6\.2\] \(got ok\)\n$/,
    );
  });
});
