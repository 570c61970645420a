// Runs one scenario in the qemu guest with Debian's real udevd and writes the whole run record
// (udev's debug log, renames, monitor records, udevadm info) as JSON next to it: the measuring
// tool behind README "Real udev". Run: npx tsx tools/qemu-capture/udev-run.ts FILE.yaml [late]
// ("late": udevd starts after the boot modules registered their netdevs).

import { readFileSync, writeFileSync } from "node:fs";
import { runOnQemu } from "../../src/backends/qemu/index.ts";
import { formatIssue, parseScenario } from "../../src/scenario/parse.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: udev-run.ts FILE.yaml [late]");
  process.exit(2);
}
const parsed = parseScenario(readFileSync(file, "utf8"), file);
if (!parsed.ok) {
  for (const i of parsed.issues) console.error(formatIssue(i));
  process.exit(2);
}
const t0 = Date.now();
const r = await runOnQemu(parsed.scenario, {
  log: (l) => console.error(l),
  udevStart: process.argv[3] === "late" ? "late" : "early",
});
console.error(`wall ${Date.now() - t0} ms`);
writeFileSync(`${file}.json`, `${JSON.stringify(r, null, 1)}\n`);
for (const x of r.udev?.renames ?? []) console.log(`${x.from} -> ${x.to}: ${x.error ?? "ok"}`);
