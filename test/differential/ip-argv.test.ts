// The `ip` argv differential: each case of tools/ip-argv/cases.ts on the model against what
// iproute2 6.1 printed (test/fixtures/iproute2-6.1/argv/argv.json, recorded by
// tools/ip-argv/compare.ts --write): exit status, stdout and stderr byte for byte. Cases outside
// the modelled scope must say so. Where a namespace can be made (root), the real `ip` runs
// again, so the recording cannot drift from the binary.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Netns, netnsUnavailableReason } from "../../src/backends/netns.ts";
import { main } from "../../src/cli/main.ts";
import { ARGV_CASES, OUTSIDE_SCOPE } from "../../tools/ip-argv/cases.ts";

interface Recorded {
  readonly argv: readonly string[];
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

const RECORDED = JSON.parse(
  readFileSync("test/fixtures/iproute2-6.1/argv/argv.json", "utf8"),
) as readonly Recorded[];
const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = netnsUnavailableReason();

describe("ip argv vs iproute2 6.1 (recorded)", () => {
  it("should have a recording for every case", () => {
    expect(RECORDED.map((r) => r.argv)).toEqual(ARGV_CASES);
  });

  it.each(RECORDED.map((r) => [r.argv.join(" ") || "(no arguments)", r] as const))(
    "ip %s",
    (_name, r) => {
      const m = main(["ip", ...r.argv]);
      const outside = OUTSIDE_SCOPE[JSON.stringify(r.argv)];
      if (outside !== undefined) {
        expect(m.status).toBe(255);
        expect(m.stderr).toMatch(/^ifsim: ip option ".*" is not modelled\n$/);
        return;
      }
      expect({ status: m.status, stdout: m.stdout, stderr: m.stderr }).toEqual({
        status: r.status,
        stdout: r.stdout,
        stderr: r.stderr,
      });
    },
  );
});

describe("ip argv: the recording against the real ip", () => {
  if (reason !== null && required) {
    it("should have what the real-kernel test needs", () => {
      throw new Error(`The argv differential must run here but cannot: ${reason}`);
    });
    return;
  }
  it.skipIf(reason !== null)(
    `should still be what iproute2 prints${reason ? ` (skipped: ${reason})` : ""}`,
    () => {
      const diffs: string[] = [];
      for (const r of RECORDED) {
        // A fresh namespace per case: a case may change lo.
        const ns = new Netns("ifsim-argv");
        try {
          const got = ns.ip(r.argv);
          if (got.status !== r.status || got.stdout !== r.stdout || got.stderr !== r.stderr)
            diffs.push(
              `ip ${JSON.stringify(r.argv)}: real exit ${got.status} ${JSON.stringify(got.stderr)}`,
            );
        } finally {
          ns.close();
        }
      }
      expect(diffs).toEqual([]);
    },
  );
});
