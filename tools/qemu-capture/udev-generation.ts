// Measures which model udev generation a release's real systemd-udevd behaves as: runs each
// scenario once in the qemu guest of that release (its kernel and its udev; the scenario's
// `udev.generation` is dropped), then the model once per generation on the same kernel profile,
// and prints how many differences `ifsim conform` would report for each. The generation with
// none on every scenario is the one REAL_UDEV_GENERATION (src/backends/qemu/udev.ts) records.
// The guest's run records are written to DIR/<file>.<kernel>.json (default /tmp), and read back
// instead of booting again when --reuse is given.
// Run: npx tsx tools/qemu-capture/udev-generation.ts --kernel 5.10 [--out DIR] [--reuse] FILE.yaml…

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  BOOT_MODULE_GAP_MS,
  QemuBackend,
  type QemuRunRecord,
  QUIET_MS,
  qemuRelease,
  runOnQemu,
} from "../../src/backends/qemu/index.ts";
import { modelRunOptions, verdictOf } from "../../src/conform/index.ts";
import { formatIssue, parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { UDEV_GENERATIONS } from "../../src/userspace/udev/index.ts";

const args = process.argv.slice(2);
let kernel = "6.1";
let out = "/tmp";
let reuse = false;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === "--kernel") kernel = args[++i] ?? kernel;
  else if (a === "--out") out = args[++i] ?? out;
  else if (a === "--reuse") reuse = true;
  else files.push(a);
}
if (files.length === 0) {
  console.error(
    "usage: udev-generation.ts --kernel 5.10|6.1|6.12 [--out DIR] [--reuse] FILE.yaml…",
  );
  process.exit(2);
}
const release = qemuRelease(kernel);
const backend = { settleQuietMs: QUIET_MS, bootModuleGapMs: BOOT_MODULE_GAP_MS };
const totals = new Map<string, number>();
for (const f of files) {
  const parsed = parseScenario(readFileSync(f, "utf8"), f);
  if (!parsed.ok) {
    for (const i of parsed.issues) console.error(formatIssue(i));
    process.exit(2);
  }
  const sc = parsed.scenario;
  const u = sc.udev;
  if (u === undefined || u === "none") {
    console.error(`${f}: no udev: actor`);
    process.exit(2);
  }
  const { generation: _g, ...rest } = u;
  const real: ScenarioDoc = { ...sc, udev: rest };
  const json = join(out, `${basename(f)}.${release.kernel}.json`);
  let rec: QemuRunRecord;
  if (reuse && existsSync(json)) rec = JSON.parse(readFileSync(json, "utf8")) as QemuRunRecord;
  else {
    rec = await runOnQemu(real, { kernel: release.kernel, log: (l) => console.error(l) });
    writeFileSync(json, `${JSON.stringify(rec, null, 1)}\n`);
  }
  console.log(
    `${f} on ${rec.kernel}, udev ${rec.udev?.version} (${((rec.wallMs ?? 0) / 1000).toFixed(1)} s):`,
  );
  for (const x of rec.udev?.renames ?? [])
    console.log(`  real: ${x.from} -> ${x.to}: ${x.error ?? "ok"}`);
  for (const gen of UDEV_GENERATIONS) {
    // the release's default qdisc, as `ifsim conform` gives the model
    const msc = new QemuBackend().modelScenario(
      { ...sc, udev: { ...rest, generation: gen } },
      { kernel: release.kernel },
    );
    const model = runScenario(msc, modelRunOptions(backend, release.kernel));
    const d = verdictOf(msc, model, rec);
    totals.set(gen, (totals.get(gen) ?? 0) + d.length);
    console.log(`  ${gen}: ${d.length} difference${d.length === 1 ? "" : "s"}`);
    for (const x of d.slice(0, 6))
      console.log(
        `    ${x.where} ${x.field}: model ${x.model}, kernel ${x.kernel}${x.diff ? `\n      ${x.diff.join("\n      ")}` : ""}`,
      );
  }
}
console.log(
  `udev ${release.udevMajor} (${release.suite}) on ${release.kernel}, differences per generation:`,
);
for (const [g, n] of totals) console.log(`  ${g}: ${n}`);
