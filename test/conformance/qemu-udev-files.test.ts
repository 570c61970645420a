// The udev configuration-file corpus (test/conformance/qemu-udev-files/*.yaml): a .link file and
// netplan's generated .link + .rules, put into the qemu guest where the scenario says, read by
// Debian's real systemd-udevd 252, against the model's udevd (generation v253) reading the same
// files. On the failover VM master, standby and VF share one MAC, so a file matching by MAC
// matches all three and asks them all for one name.
//
// What is asserted, per file:
// - 01-link-by-mac: a collision. Exactly one of the master and the standby gets the name, every
//   other device that asked for it (the other one of the pair, the VF) got EEXIST and keeps its
//   kernel name. WHICH of the pair wins is a race between two udev workers (measured on real udev 252:
//   the standby won two runs of three, its worker reaching the rename first although the
//   master's event was older, the master the third; the model's workers take events in order, so its master wins): the test
//   asserts the collision's shape on both sides and prints the winners, never which one wins.
// - every other file: agreement of the final links and udevd's renames (with their results),
//   through `ifsim conform`'s comparison, less the pinned differences of KNOWN:
//   02-netplan-set-name: the master keeps eth0 (its kernel name is the name asked for), the
//   standby's and the VF's renames to eth0 fail with EEXIST; 03-altname-blocks-rename: the
//   master's AlternativeNamesPolicy=mac altname enx525400123456 makes the VF's NamePolicy=mac
//   rename fail with EEXIST (systemd#33104's mechanism); 04-rules-name: rules before and after
//   80-net-setup-link.rules, DRIVERS==, ATTR{address}==, GOTO/LABEL name a NIC and the VF;
//   05-netplan-driver-list: a driver list goes into the .link as Driver=a b (any matches) and into
//   the rule tab-joined (never matches): only the e1000e NIC gets set-name.
//
// Skips (with the reason) when QEMU cannot run here; fails instead when IFSIM_REAL_KERNEL=1 or
// CI is set.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { QemuBackend, qemuUnavailableReason } from "../../src/backends/qemu/index.ts";
import type { BackendRunRecord } from "../../src/backends/types.ts";
import { conformScenario } from "../../src/conform/index.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { type RunRecord, runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = qemuUnavailableReason();
const dir = new URL("./qemu-udev-files/", import.meta.url);

/** The files whose decisions must agree (01 is a race: asserted by its shape below). */
const AGREE = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml") && f !== "01-link-by-mac.yaml")
  .sort();

/**
 * Pinned differences per file (none). 04 hot-plugs its second NIC: present at boot, its kernel
 * name raced udevd's renames of the failover pair (eth1 or eth2 on real udev in two runs).
 */
const KNOWN: Readonly<Record<string, string[]>> = {};

function load(f: string): ScenarioDoc {
  const parsed = parseScenario(readFileSync(new URL(f, dir), "utf8"), f);
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
  return parsed.scenario;
}

type Rec = Pick<RunRecord, "links" | "udevRenames"> | BackendRunRecord;

/** The collision's shape: which ifindex got `name`; throws with the reason when it is not one. */
function collision(r: Rec, name: string, pair: readonly number[], vf: number): number {
  const holders = r.links.filter((l) => l.ifname === name).map((l) => l.ifindex);
  expect(holders).toHaveLength(1);
  const winner = holders[0] as number;
  expect(pair).toContain(winner);
  const renames = (r.udevRenames ?? []).filter((x) => x.to === name);
  // every other device of the pair, and the VF, asked for the name and got EEXIST
  const losers = [...pair.filter((i) => i !== winner), vf];
  for (const i of losers) {
    const l = r.links.find((x) => x.ifindex === i);
    expect(l?.ifname).toMatch(/^eth[0-9]+$/);
    expect(renames.some((x) => x.from === l?.ifname && x.errno === "EEXIST")).toBe(true);
  }
  expect(renames.filter((x) => x.errno === null)).toHaveLength(1);
  return winner;
}

describe("qemu backend: real udevd 252 reads the scenario's .link, rules and netplan files", () => {
  it("should find a usable QEMU (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
    if (reason && required)
      throw new Error(`IFSIM_REAL_KERNEL=1 but the qemu backend cannot run: ${reason}`);
    if (reason) console.log(`qemu udev-files conformance skipped: ${reason}`);
    expect(reason === null || !required).toBe(true);
  });

  it.skipIf(reason !== null)(
    "01-link-by-mac.yaml: master, standby and VF all match MACAddress=; one of the pair gets lan0, the rest EEXIST",
    async () => {
      const sc = load("01-link-by-mac.yaml");
      const backend = new QemuBackend();
      const model = runScenario(sc, { kernel: "6.1", settleSteps: true });
      const real = await backend.run(sc, {});
      // ifindex 2 the master, 3 the standby, 4 the VF (plugged after boot) on both
      const m = collision(model, "lan0", [2, 3], 4);
      const k = collision(real, "lan0", [2, 3], 4);
      console.log(
        `01-link-by-mac: lan0 went to ifindex ${m} on the model, ${k} on real udev 252 (a worker race)`,
      );
    },
    600_000,
  );

  for (const f of AGREE) {
    it.skipIf(reason !== null)(
      `${f}: udevd's renames and the final links agree with the model`,
      async () => {
        const r = await conformScenario(f, load(f), new QemuBackend());
        if (r.verdict === "REFUSED" || r.verdict === "ERROR")
          throw new Error(`${r.verdict}: ${r.reason}`);
        const events = r.differences.filter((d) => d.where.startsWith("step "));
        const decisions = r.differences
          .filter((d) => !d.where.startsWith("step "))
          .map((d) => `${d.where} ${d.field}: model ${d.model}, kernel ${d.kernel}`);
        console.log(
          `${f}: ${r.verdict}; ${events.length} monitor-record differences (not asserted, see qemu-udev.test.ts)`,
        );
        expect(decisions).toEqual(KNOWN[f] ?? []);
      },
      600_000,
    );
  }
});
