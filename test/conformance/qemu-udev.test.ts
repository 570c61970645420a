// The udev conformance corpus (test/conformance/qemu-udev/*.yaml) with Debian's real systemd-udevd
// 252 in the qemu guest against the model's udevd (generation v253), through `ifsim conform`'s
// comparison. Asserted: the final links (names, flags, masters, name_assign_type) and the renames
// udevd tried with their results (sorted: udevd's workers handle devices in parallel). The per-step `ip monitor link` records are compared
// and printed but not asserted yet: they differ for harness and timing reasons listed in README
// "Real udev in the guest" (the guest's udevd renames at boot before the monitor starts; the
// model's udev records land in step 1 and its monitor names the master by its boot name).
// One difference is pinned (KNOWN): real udevd starts before the NIC modules load, so it has
// renamed the virtio NIC (freeing eth0) before e1000e registers, which gets eth0; the model
// loads every boot module before udevd runs, so e1000e gets eth1. When the model learns that
// boot order the pin fails and must go.
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

/** Pinned differences (where, field, model, kernel), per corpus file: see the header. */
const KNOWN: Readonly<Record<string, string[]>> = {
  "03-keep-after-user-rename.yaml": [
    "udev rename[1]: model eth1 -> enp1s0: ok, kernel eth0 -> enp1s0: ok",
  ],
  "04-retrigger-path-ebusy.yaml": [
    "udev rename[1]: model eth1 -> enp1s0: ok, kernel eth0 -> enp1s0: ok",
  ],
};

describe("qemu backend: real udevd 252 against the udev model", () => {
  it("should find a usable QEMU (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
    if (reason && required)
      throw new Error(`IFSIM_REAL_KERNEL=1 but the qemu backend cannot run: ${reason}`);
    if (reason) console.log(`qemu udev conformance skipped: ${reason}`);
    expect(corpus.length).toBeGreaterThanOrEqual(4);
  });

  for (const f of corpus) {
    it.skipIf(reason !== null)(
      `${f}: udevd's renames and the final links agree`,
      async () => {
        const parsed = parseScenario(readFileSync(new URL(f, dir), "utf8"), f);
        if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
        const r = await conformScenario(f, parsed.scenario, new QemuBackend());
        if (r.verdict === "REFUSED" || r.verdict === "ERROR")
          throw new Error(`${r.verdict}: ${r.reason}`);
        const events = r.differences.filter((d) => d.where.startsWith("step "));
        const decisions = r.differences
          .filter((d) => !d.where.startsWith("step "))
          .map((d) => `${d.where} ${d.field}: model ${d.model}, kernel ${d.kernel}`);
        console.log(
          `${f}: ${r.verdict} in ${((r.wallMs ?? 0) / 1000).toFixed(1)} s; ${events.length} monitor-record differences (not asserted)${events.length > 0 ? `, first: ${events[0]?.where} ${events[0]?.field}` : ""}`,
        );
        expect(decisions).toEqual(KNOWN[f] ?? []);
      },
      600_000,
    );
  }
});
