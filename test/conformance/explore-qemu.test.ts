// A counterexample of `ifsim explore` confirmed on the real kernel: in the boot race of
// examples/scenarios/07-udev-boot-race.yaml (networkd brings up eth* without waiting for udev)
// the explorer finds on 6.1 the interleaving where the failover master is brought up before
// udevd renames it, so the rename gets EBUSY (6.1 lets failover slaves be renamed while up, not
// the master). The exporter turns it into a linear scenario (udev's rename and networkd's command
// as ip steps, the model's results as expectations), which must hold on the model and on the
// real Debian 6.1 kernel under QEMU.
//
// The QEMU part skips (with the reason) when QEMU cannot run here; it fails instead when
// IFSIM_REAL_KERNEL=1 or CI is set (CI installs everything in .ci/run and must really run it).

import { describe, expect, it } from "vitest";
import {
  prepare,
  QemuBackend,
  type QemuRunRecord,
  qemuUnavailableReason,
} from "../../src/backends/qemu/index.ts";
import { checkBackendExpectations } from "../../src/cli/run.ts";
import { type ExploreConfig, exploreScenario, replay } from "../../src/explore/explore.ts";
import { type LinearScenario, linearScenario } from "../../src/explore/export.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { loadScenario } from "../_helpers/explore.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = qemuUnavailableReason();
const FILE = "examples/scenarios/07-udev-boot-race.yaml";
const CONFIG: ExploreConfig = { kernel: "6.1", invariants: ["no-ebusy-to-udev"] };
/** Appended to the titles of the real-kernel tests when they skip. */
const skipped = reason ? ` (skipped: ${reason})` : "";

/** Explores 07 on 6.1 and exports the counterexample (once). */
let memo: { lin: LinearScenario; detail: string } | null = null;
function exported(): { lin: LinearScenario; detail: string } {
  if (memo) return memo;
  const sc = loadScenario(FILE);
  const r = exploreScenario(sc, CONFIG);
  if (r.verdict !== "violated") throw new Error(`expected a violation, got ${r.verdict}`);
  const rep = replay(sc, CONFIG, r.counterexample.choices);
  const lin = linearScenario(sc, CONFIG, rep, {
    file: FILE,
    violation: rep.violation,
    choices: r.counterexample.choices.length,
  });
  memo = { lin, detail: r.counterexample.violation.detail };
  return memo;
}

/** 1-based indexes of the steps the expectations say fail with EBUSY. */
function ebusySteps(lin: LinearScenario): number[] {
  return (lin.doc.expect ?? []).flatMap((e) =>
    "step" in e && e.error === "EBUSY" ? [e.step] : [],
  );
}

describe("explore → export → qemu: the 07 boot race on Linux 6.1", () => {
  it("should find a usable QEMU (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
    if (reason && required)
      throw new Error(
        `IFSIM_REAL_KERNEL=1 or CI is set but the qemu backend cannot run: ${reason}`,
      );
    if (reason) console.log(`explore-qemu: the real-kernel part is skipped: ${reason}`);
    expect(reason === null || !required).toBe(true);
  });

  it("should find that udevd's rename of the master, already up, gets EBUSY", () => {
    const { lin, detail } = exported();
    expect(detail).toBe("udevd's rename of eth0 to enp0s3 returned EBUSY");
    // The linear scenario: networkd's `ip link set dev eth0 up`, then udevd's rename, which the
    // expectations say fails with EBUSY; no udev, no bring-up; it parses back to itself.
    expect(lin.doc).toMatchObject({ kernel: "6.1", udev: "none" });
    expect(lin.doc).not.toHaveProperty("bringup");
    const [i] = ebusySteps(lin);
    expect(ebusySteps(lin)).toHaveLength(1);
    expect(lin.doc.steps[(i as number) - 1]).toEqual({ ip: "link set dev eth0 name enp0s3" });
    expect(lin.lanes[(i as number) - 1]).toMatch(/^udev\/w\d+$/);
    const up = lin.doc.steps.findIndex(
      (s) => typeof s === "object" && "ip" in s && s.ip === "link set dev eth0 up",
    );
    expect(up).toBeGreaterThanOrEqual(0);
    expect(up).toBeLessThan((i as number) - 1);
    expect(lin.lanes[up]).toBe("networkd");
    const back = parseScenario(lin.yaml, "cex.yaml");
    expect(back.ok && back.scenario).toEqual(lin.doc);
  });

  it("should hold every expectation of the export on the model", () => {
    const { lin } = exported();
    for (const settleSteps of [false, true]) {
      const rec = runScenario(lin.doc, { kernel: "6.1", settleSteps });
      expect(
        rec.expectations.filter((e) => !e.ok),
        `settleSteps ${settleSteps}`,
      ).toEqual([]);
      expect(rec.expectations.length).toBe(lin.doc.expect?.length);
      const failed = rec.steps.filter((s) => s.errno === "EBUSY").map((s) => s.index);
      expect(failed).toEqual(ebusySteps(lin));
    }
  });

  it.skipIf(reason !== null)(
    `should prepare the guest kernel and initramfs${skipped}`,
    () => {
      const p = prepare((l) => console.log(`[qemu prepare] ${l}`));
      expect(p.kver).toMatch(/^6\.1\./);
    },
    900_000,
  );

  it.skipIf(reason !== null)(
    `should hold every expectation of the export on the real 6.1 kernel (the rename gets EBUSY there too)${skipped}`,
    async () => {
      const { lin } = exported();
      const backend = new QemuBackend();
      expect(backend.refuses(lin.doc)).toBeNull();
      expect(backend.kernelVersion({})).toBe("6.1");
      const rec = (await backend.run(lin.doc, {})) as QemuRunRecord;
      console.log(
        `explore-qemu: ${rec.kernel}, guest up ${rec.bootMs} ms, run ${rec.wallMs} ms; steps: ${rec.steps
          .map((s) => `${s.index} ${s.step} → ${s.ok ? "ok" : s.errno}`)
          .join("; ")}`,
      );
      expect(rec.kernel).toMatch(/^6\.1\./);
      const failed = rec.steps.filter((s) => s.errno === "EBUSY").map((s) => s.index);
      expect(failed).toEqual(ebusySteps(lin));
      const checks = checkBackendExpectations(lin.doc, rec);
      expect(checks.every((c) => c.checked)).toBe(true);
      expect(checks.filter((c) => !c.ok)).toEqual([]);
    },
    120_000,
  );
});
