// Every examples/scenarios/*.yaml: its expectations hold on the kernel it names, and its output
// is pinned. Goldens under test/golden/scenarios/ (UPDATE_GOLDEN=1 rewrites them; review the
// diff):
//   NAME.txt          `ifsim run FILE --monitor` (timeline, steps with ip monitor lines, links)
//   NAME.json         `ifsim run FILE --json` (the run record)
//   NAME.kernels.txt  `ifsim run FILE --kernel 5.0 --kernel 6.1 --kernel 6.18` (race examples)
//   NAME.stderr.txt   what `ifsim run FILE` prints for an example that documents a refusal
// An example that documents a refusal carries a comment line "# ifsim run refuses: MESSAGE".

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { profileFor } from "../../src/kernel/index.ts";
import { kernelSelected } from "../../src/scenario/kernel-select.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { type RunRecord, runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const DIR = "examples/scenarios";
const GOLDEN_DIR = "test/golden/scenarios";

/** Examples whose outcome depends on the kernel: also pinned on 5.0, 6.1 and 6.18. */
const KERNEL_SWEEP = new Set(["01-seed-race", "02-boot-race", "03-migration"]);
const SWEEP_KERNELS = ["5.0", "6.1", "6.18"];

const names = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.slice(0, -".yaml".length))
  .sort();

const pathOf = (name: string): string => `${DIR}/${name}.yaml`;
const textOf = (name: string): string => readFileSync(pathOf(name), "utf8");

/** The documented refusal of an example, or null if it is meant to run. */
function refusalOf(name: string): string | null {
  const m = /^# ifsim run refuses: (.+)$/m.exec(textOf(name));
  return m ? (m[1] as string) : null;
}

const runnable = names.filter((n) => refusalOf(n) === null);
const refused = names.filter((n) => refusalOf(n) !== null);

/** A unified-style line diff (LCS; only computed on a mismatch), at most 80 lines. */
function lineDiff(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      (lcs[i] as Uint32Array)[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as Uint32Array)[j + 1] as number) + 1
          : Math.max(
              (lcs[i + 1] as Uint32Array)[j] as number,
              (lcs[i] as Uint32Array)[j + 1] as number,
            );
  const ops: { op: " " | "-" | "+"; line: string; at: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: " ", line: a[i] as string, at: i + 1 });
      i++;
      j++;
    } else if (
      i < n &&
      (j >= m ||
        ((lcs[i + 1] as Uint32Array)[j] as number) >= ((lcs[i] as Uint32Array)[j + 1] as number))
    ) {
      ops.push({ op: "-", line: a[i] as string, at: i + 1 });
      i++;
    } else {
      ops.push({ op: "+", line: b[j] as string, at: i + 1 });
      j++;
    }
  }
  const keep = ops.map((_, k) => ops.slice(Math.max(0, k - 2), k + 3).some((o) => o.op !== " "));
  const out: string[] = [];
  let prev = -2;
  ops.forEach((o, k) => {
    if (!keep[k]) return;
    if (k !== prev + 1) out.push(`@@ expected line ${o.at} @@`);
    out.push(`${o.op} ${o.line}`);
    prev = k;
  });
  return (out.length > 80 ? [...out.slice(0, 80), "… (diff truncated)"] : out).join("\n");
}

/** Compares with the golden file, or rewrites it under UPDATE_GOLDEN=1. */
function golden(file: string, actual: string): void {
  const path = join(GOLDEN_DIR, file);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(path, "utf8");
  } catch {
    throw new Error(`Missing golden "${path}": run with UPDATE_GOLDEN=1 and review it`);
  }
  if (actual !== expected)
    throw new Error(
      `${path} differs (UPDATE_GOLDEN=1 rewrites it; review the diff):\n${lineDiff(expected, actual)}`,
    );
}

function scenario(name: string): ScenarioDoc {
  const r = parseScenario(textOf(name), pathOf(name));
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.issues)}`);
  return r.scenario;
}

/** The time of the first timeline entry whose "actor: what" matches. */
function tOf(rec: RunRecord, re: RegExp): number {
  const e = rec.timeline.find((t) => re.test(`${t.actor}: ${t.what}`));
  if (!e) throw new Error(`no timeline entry matches ${re}`);
  return e.t;
}

describe("examples/scenarios", () => {
  it("should hold the eight examples and the 17 qtest cases", () => {
    expect(names.filter((n) => !n.startsWith("qtest-"))).toEqual([
      "01-seed-race",
      "02-boot-race",
      "03-migration",
      "04-two-pairs",
      "05-cloud-init-duplicate-mac",
      "06-udev-seed-race",
      "07-udev-boot-race",
      "08-v256-hwdb-collision",
    ]);
    expect(names.filter((n) => n.startsWith("qtest-")).sort()).toEqual(
      [
        "params-error-id",
        "params-error-pcie",
        "params-on",
        "params-on-mismatch",
        "params-off",
        "params-enabled",
        "hotplug-1",
        "hotplug-1-reverse",
        "hotplug-2",
        "hotplug-2-reverse",
        "migrate-on-out",
        "migrate-on-in",
        "migrate-abort-wait-unplug",
        "migrate-abort-active",
        "migrate-abort-timeout",
        "migrate-multi-out",
        "migrate-multi-in",
      ]
        .map((n) => `qtest-${n}`)
        .sort(),
    );
    expect(refused).toEqual(["qtest-params-error-id", "qtest-params-error-pcie"]);
  });

  it.each(runnable)("%s should name its kernel and have expectations", (name) => {
    const sc = scenario(name);
    expect(sc.kernel).toBeDefined();
    expect(sc.expect?.length ?? 0).toBeGreaterThan(0);
  });

  it.each(runnable)("%s should meet its expectations on its own kernels", (name) => {
    const sc = scenario(name);
    for (const kernel of sc.kernels ?? [undefined]) {
      const rec = runScenario(sc, kernel !== undefined ? { kernel } : {});
      const failed = rec.expectations.filter((e) => !e.ok);
      expect(failed).toEqual([]);
      expect(rec.ok).toBe(true);
      const meant = (sc.expect ?? []).filter((e) =>
        kernelSelected(e.kernels, profileFor(rec.kernel)),
      );
      expect(rec.expectations.length).toBe(meant.length);
    }
  });

  it.each(runnable)("%s should match its human and JSON goldens", (name) => {
    const human = main(["run", pathOf(name), "--monitor"]);
    expect(human.stderr).toBe("");
    expect(human.status).toBe(0);
    golden(`${name}.txt`, human.stdout);
    const json = main(["run", pathOf(name), "--json"]);
    expect(json.status).toBe(0);
    const recs = JSON.parse(json.stdout) as RunRecord | RunRecord[];
    expect((Array.isArray(recs) ? recs : [recs]).every((r) => r.ok)).toBe(true);
    golden(`${name}.json`, json.stdout);
  });

  it.each([...KERNEL_SWEEP])("%s should match its golden on 5.0, 6.1 and 6.18", (name) => {
    const r = main(["run", pathOf(name), ...SWEEP_KERNELS.flatMap((k) => ["--kernel", k])]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("\ndifferences:\n");
    golden(`${name}.kernels.txt`, r.stdout);
  });

  it.each(refused)("%s should be refused by ifsim run with exit 2, as documented", (name) => {
    const r = main(["run", pathOf(name)]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${pathOf(name)}:\\d+:\\d+: `));
    expect(lines[0]?.replace(/^[^:]+:\d+:\d+: /, "")).toBe(refusalOf(name));
    golden(`${name}.stderr.txt`, r.stderr);
  });

  it.each(runnable)("%s should give byte-identical output when run twice", (name) => {
    for (const extra of [[], ["--seed", "7"]]) {
      const a = main(["run", pathOf(name), "--monitor", ...extra]);
      const b = main(["run", pathOf(name), "--monitor", ...extra]);
      expect(b.stdout).toBe(a.stdout);
      const ja = main(["run", pathOf(name), "--json", ...extra]);
      const jb = main(["run", pathOf(name), "--json", ...extra]);
      expect(jb.stdout).toBe(ja.stdout);
    }
  });
});

describe("what the examples' comments claim", () => {
  it("01: 5.0 refuses the rename of the up VF (EBUSY), 5.1+ renames it", () => {
    const sc = scenario("01-seed-race");
    const rename = (k: string) => runScenario(sc, { kernel: k }).steps[3];
    expect(rename("5.0")).toMatchObject({ ok: false, errno: "EBUSY" });
    for (const k of ["5.1", "6.1", "6.18"]) expect(rename(k)).toMatchObject({ ok: true });
    const on61 = runScenario(sc, { kernel: "6.1" });
    expect(on61.links.find((l) => l.ifname === "enp1s0")?.master).toBe("eth0");
  });

  it("02: with bring-up slower than the rename, 5.0 renames the standby too", () => {
    const sc = scenario("02-boot-race");
    const slow: ScenarioDoc = {
      ...sc,
      bringup: { links: ["eth0"], latency_ms: 100 },
    };
    expect(runScenario(slow, { kernel: "5.0" }).steps[1]).toMatchObject({ ok: true });
    expect(runScenario(sc, { kernel: "6.1" }).steps[1]).toMatchObject({ ok: true });
  });

  it("03: on 5.0 only the rename after the migration fails", () => {
    const rec = runScenario(scenario("03-migration"), { kernel: "5.0" });
    expect(rec.steps.map((s) => (s.ok ? "ok" : s.errno))).toEqual([
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "EBUSY",
    ]);
  });

  it("04: listing the primaries the other way round swaps their new names", () => {
    const sc = scenario("04-two-pairs");
    const swapped: ScenarioDoc = {
      ...sc,
      steps: sc.steps.map((s) =>
        typeof s === "object" && "migrate" in s
          ? { migrate: { ...s.migrate, primary: ["vf1", "vf0"] } }
          : s,
      ),
    };
    const rec = runScenario(swapped);
    const master = (n: string) => rec.links.find((l) => l.ifname === n)?.master;
    expect([master("eth4"), master("eth5")]).toEqual(["eth2", "eth0"]);
    expect(tOf(rec, /UNPLUG_PRIMARY vf1/)).toBeLessThanOrEqual(tOf(rec, /UNPLUG_PRIMARY vf0/));
    expect(
      rec.timeline.findIndex((t) => t.what === "UNPLUG_PRIMARY vf1") <
        rec.timeline.findIndex((t) => t.what === "UNPLUG_PRIMARY vf0"),
    ).toBe(true);
  });

  it("05: with the failover filter cloud-init ignores both slaves and succeeds", () => {
    const sc = scenario("05-cloud-init-duplicate-mac");
    const rec = runScenario({ ...sc, cloud_init: { at_ms: 3000, filter_failover: true } });
    const lines = rec.timeline.filter((t) => t.actor === "cloud-init").map((t) => t.what);
    expect(lines).toEqual([
      "Ignoring failover interface eth1",
      "Ignoring failover interface eth3",
      "get_interfaces_by_mac",
    ]);
    expect(rec.timeline.at(-2)?.result).toBe("eth0=52:54:00:12:34:56 eth2=52:54:00:00:00:02");
  });
});

describe("the qtest timing and ordering claims", () => {
  it("params/enabled: hidden, then FAILOVER_NEGOTIATED, then plugged", () => {
    const rec = runScenario(scenario("qtest-params-enabled"));
    const i = (re: RegExp) => rec.timeline.findIndex((t) => re.test(t.what));
    expect(i(/^primary0: hidden/)).toBeGreaterThanOrEqual(0);
    expect(i(/^primary0: hidden/)).toBeLessThan(i(/^FAILOVER_NEGOTIATED standby0$/));
    expect(i(/^FAILOVER_NEGOTIATED standby0$/)).toBeLessThan(i(/^primary0: plugged/));
  });

  it("migrate/on/out: nothing active or completed for the 5 s before the eject", () => {
    const rec = runScenario(scenario("qtest-migrate-on-out"));
    const wait = tOf(rec, /^qemu: migration status wait-unplug$/);
    const eject = tOf(rec, /^qemu: guest ejected primary0/);
    expect(eject - wait).toBeGreaterThanOrEqual(5_000_000);
    expect(tOf(rec, /^qemu: migration status active/)).toBe(eject);
    expect(tOf(rec, /^qemu: migration status completed/)).toBe(eject);
    const between = rec.timeline.filter((t) => t.actor === "qemu" && t.t > wait && t.t < eject);
    expect(between).toEqual([]);
  });

  it("migrate/multi/out: still wait-unplug after the first eject, completed after the second", () => {
    const rec = runScenario(scenario("qtest-migrate-multi-out"));
    const qemu = rec.timeline.filter((t) => t.actor === "qemu" && t.t > 500_000).map((t) => t.what);
    expect(qemu).toEqual([
      "UNPLUG_PRIMARY primary1",
      "UNPLUG_PRIMARY primary0",
      "migration status wait-unplug",
      "guest ejected primary1 (ACPI); DEVICE_DELETED",
      "migration status still wait-unplug: 1 primary to eject",
      "guest ejected primary0 (ACPI); DEVICE_DELETED",
      "migration status active",
      "migration status completed; STOP (source)",
    ]);
    const first = tOf(rec, /guest ejected primary1/);
    const second = tOf(rec, /guest ejected primary0/);
    expect(second - first).toBeGreaterThanOrEqual(5_000_000);
  });

  it("migrate/abort/timeout: cancelled more than 30 s after the cancel", () => {
    const rec = runScenario(scenario("qtest-migrate-abort-timeout"));
    const cancel = tOf(rec, /migrate_cancel; migration status cancelling/);
    const cancelled = tOf(rec, /unplug timeout/);
    expect(cancelled - cancel).toBeGreaterThanOrEqual(30_000_000);
  });

  it("migrate/multi/in: FAILOVER_NEGOTIATED for standby0, then standby1, then both primaries", () => {
    const rec = runScenario(scenario("qtest-migrate-multi-in"));
    const qemu = rec.timeline.filter((t) => t.actor === "qemu").map((t) => t.what);
    expect(qemu.filter((w) => /^(FAILOVER_NEGOTIATED|primary\d: plugged)/.test(w))).toEqual([
      "FAILOVER_NEGOTIATED standby0",
      "FAILOVER_NEGOTIATED standby1",
      "primary0: plugged (standby0 negotiated STANDBY)",
      "primary1: plugged (standby1 negotiated STANDBY)",
    ]);
  });

  it("migrate/abort/*: the primary is back and enslaved on every kernel era", () => {
    for (const name of ["qtest-migrate-abort-wait-unplug", "qtest-migrate-abort-active"]) {
      for (const k of ["5.0", "6.1", "6.18"]) {
        const rec = runScenario(scenario(name), { kernel: k });
        expect(rec.devices.find((d) => d.id === "primary0")).toEqual({
          id: "primary0",
          present: true,
          hidden: false,
        });
        expect(rec.links.find((l) => l.ifname === "eth2")?.master, `${name} ${k}`).toBe("eth0");
      }
    }
  });
});
