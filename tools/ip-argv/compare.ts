// Runs each argv case on the real `ip` (in a fresh namespace) and on the model; prints the
// differences. Root only. `--write` records the real answers as the fixture.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { main } from "../../src/cli/main.ts";
import { ARGV_CASES, OUTSIDE_SCOPE } from "./cases.ts";

interface Answer {
  status: number;
  stdout: string;
  stderr: string;
}
const ns = `ifsimargv${process.pid}`;
const real: Answer[] = [];
let same = 0;
let outside = 0;
try {
  for (const argv of ARGV_CASES) {
    // A fresh namespace for each case: a case may change lo.
    spawnSync("ip", ["netns", "add", ns]);
    const r = spawnSync("ip", ["netns", "exec", ns, "ip", ...argv], { encoding: "utf8" });
    spawnSync("ip", ["netns", "del", ns]);
    const a = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    real.push(a);
    const m = main(["ip", ...argv]);
    const diff = [
      m.status !== a.status ? `status ${m.status} vs ${a.status}` : "",
      m.stdout !== a.stdout ? "stdout" : "",
      m.stderr !== a.stderr ? "stderr" : "",
    ].filter((x) => x);
    if (diff.length === 0) same++;
    else if (OUTSIDE_SCOPE[JSON.stringify(argv)] !== undefined) outside++;
    else
      console.log(
        `DIFF ip ${JSON.stringify(argv)}: ${diff.join(", ")}\n  model: ${m.status} ${JSON.stringify(m.stdout.slice(0, 160))} ${JSON.stringify(m.stderr.slice(0, 200))}\n  real:  ${a.status} ${JSON.stringify(a.stdout.slice(0, 160))} ${JSON.stringify(a.stderr.slice(0, 200))}`,
      );
  }
} finally {
  spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
}
console.log(
  `${ARGV_CASES.length} compared: ${same} identical, ${outside} outside the modelled scope, ${ARGV_CASES.length - same - outside} different`,
);
if (process.argv.includes("--write"))
  writeFileSync(
    "test/fixtures/iproute2-6.1/argv/argv.json",
    `${JSON.stringify(
      ARGV_CASES.map((argv, i) => ({ argv, ...real[i] })),
      null,
      1,
    )}\n`,
  );
