// The udev conformance corpus (test/conformance/qemu-udev/*.yaml) with Debian's real systemd-udevd
// 252 in the qemu guest against the model's udevd (generation v253), through `ifsim conform`:
// the verdict must be AGREE — every step (ok, errno, message and its `ip monitor link` records,
// altname changes included), every final link, and the renames udevd tried with their results
// (sorted: udevd's workers handle devices in parallel). What made them differ before, and must
// not come back: the model's step monitor started at boot and named the master by its boot name
// (`master eth0`); the model's steps followed each other at once, so a VF's carrier-off waited
// for linkwatch's next batch; the model loaded every boot module at once, so e1000e registered
// before udevd renamed the virtio NIC (eth1 instead of eth0).
//
// Skips (with the reason) when QEMU cannot run here; fails instead when IFSIM_REAL_KERNEL=1 or
// CI is set.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { QemuBackend, qemuUnavailableReason } from "../../src/backends/qemu/index.ts";
import { conformScenario } from "../../src/cli/conform.ts";
import { parseScenario } from "../../src/scenario/parse.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = qemuUnavailableReason();
const dir = new URL("./qemu-udev/", import.meta.url);
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("qemu backend: real udevd 252 against the udev model", () => {
  it("should find a usable QEMU (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
    if (reason && required)
      throw new Error(`IFSIM_REAL_KERNEL=1 but the qemu backend cannot run: ${reason}`);
    if (reason) console.log(`qemu udev conformance skipped: ${reason}`);
    expect(corpus.length).toBeGreaterThanOrEqual(5);
  });

  for (const f of corpus) {
    it.skipIf(reason !== null)(
      `${f}: every step, link and udevd rename agrees`,
      async () => {
        const parsed = parseScenario(readFileSync(new URL(f, dir), "utf8"), f);
        if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
        const r = await conformScenario(f, parsed.scenario, new QemuBackend());
        if (r.verdict === "REFUSED" || r.verdict === "ERROR")
          throw new Error(`${r.verdict}: ${r.reason}`);
        const shown = r.differences.map(
          (d) =>
            `${d.where} ${d.field}: model ${d.model}, kernel ${d.kernel}${d.diff ? `\n${d.diff.join("\n")}` : ""}`,
        );
        console.log(`${f}: ${r.verdict} in ${((r.wallMs ?? 0) / 1000).toFixed(1)} s`);
        expect(shown).toEqual([]);
        expect(r.verdict).toBe("AGREE");
      },
      600_000,
    );
  }
});
