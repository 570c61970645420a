// The netns conformance corpus: every scenario of test/conformance/netns/ runs on the host
// kernel in a fresh network namespace and on the model (the host kernel's profile) and must
// agree step by step (ok, errno, message, ip monitor link records) and link by link. Skipped
// with the reason when the host cannot run namespaces, unless IFSIM_REAL_KERNEL=1 or CI is set:
// then it fails (as test/differential does).

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NetnsBackend } from "../../src/backends/netns-backend.ts";
import { formatConform } from "../../src/cli/conform.ts";
import { main } from "../../src/cli/main.ts";
import { type ConformResult, conformScenario } from "../../src/conform/index.ts";
import { parseScenario } from "../../src/scenario/parse.ts";

const DIR = fileURLToPath(new URL("./netns/", import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const backend = new NetnsBackend();
const reason = backend.unavailableReason();

describe("netns conformance corpus (model vs host kernel)", () => {
  it("should hold 10 to 15 scenarios that the netns backend accepts", () => {
    expect(FILES.length).toBeGreaterThanOrEqual(10);
    expect(FILES.length).toBeLessThanOrEqual(15);
    for (const f of FILES) {
      const p = parseScenario(readFileSync(DIR + f, "utf8"), f);
      if (!p.ok) throw new Error(`${f}: ${JSON.stringify(p.issues)}`);
      expect(backend.refuses(p.scenario), f).toBeNull();
    }
  });

  if (reason !== null && required) {
    it("should have what the real-kernel test needs", () => {
      throw new Error(`The netns conformance test must run here but cannot: ${reason}`);
    });
    return;
  }
  const suffix = reason ? ` (skipped: ${reason})` : "";

  for (const f of FILES) {
    it.skipIf(reason !== null)(
      `should agree on ${f}${suffix}`,
      async () => {
        const p = parseScenario(readFileSync(DIR + f, "utf8"), f);
        if (!p.ok) throw new Error(`${f} does not parse`);
        const r: ConformResult = await conformScenario(
          `test/conformance/netns/${f}`,
          p.scenario,
          backend,
        );
        console.log(`netns conform ${f}: ${r.verdict} in ${r.wallMs} ms`);
        if (r.verdict !== "AGREE") expect.fail(formatConform([r], "netns"));
      },
      60_000,
    );
  }

  it.skipIf(reason !== null)(
    `should exit 0 from ifsim conform --backend netns when all agree${suffix}`,
    async () => {
      const r = await main(["conform", `${DIR}${FILES[0]}`, "--backend", "netns", "--json"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ backend: "netns", ok: true });
    },
    60_000,
  );
});
