// The verdict matrix of the known field bugs (examples/known-bugs/*.yaml): each scenario runs on
// the model for every kernel of KERNELS and, when it has a udev actor, every udev generation;
// a cell lists the generations where the bug's symptom (the scenario's expectations) shows.
// `npx tsx tools/known-bugs/verdicts.ts` prints the README table; `--check README.md` exits 1
// when the README's table (between the known-bugs markers) differs.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { UDEV_GENERATIONS } from "../../src/userspace/udev/index.ts";

/** The kernel columns: before the seed (5.0), the seed era, its last release, E2. */
export const KERNELS = ["5.0", "5.1", "5.10", "6.1", "6.2", "6.18"] as const;

/** The command that regenerates the table (printed next to it in the README). */
export const COMMAND = "npx tsx tools/known-bugs/verdicts.ts";

const BEGIN = "<!-- known-bugs:begin -->";
const END = "<!-- known-bugs:end -->";

/** One scenario's row: the symptom's presence per kernel. */
export interface BugRow {
  readonly file: string;
  readonly name: string;
  /** Per kernel: the udev generations where the symptom shows ("-" entries: no udev actor). */
  readonly cells: readonly (readonly string[])[];
  readonly udev: boolean;
}

function symptom(sc: ScenarioDoc, kernel: string): boolean {
  return runScenario(sc, { kernel }).ok;
}

/** Runs every scenario of `dir` over KERNELS × UDEV_GENERATIONS. */
export function knownBugRows(dir: string): BugRow[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  return files.map((f) => {
    const p = parseScenario(readFileSync(join(dir, f), "utf8"), f);
    if (!p.ok) throw new Error(`${f}: ${p.issues.map((i) => i.message).join("; ")}`);
    const sc = p.scenario;
    const u = sc.udev;
    const udev = u !== undefined && u !== "none";
    const cells = KERNELS.map((k) => {
      if (!udev) return symptom(sc, k) ? ["-"] : [];
      return UDEV_GENERATIONS.filter((g) =>
        symptom({ ...sc, udev: { ...(u as object), generation: g } }, k),
      );
    });
    return { file: f, name: sc.name.replace(/^(known bug|workaround): /, ""), cells, udev };
  });
}

function cellText(r: BugRow, c: readonly string[]): string {
  if (!r.udev) return c.length > 0 ? "**bug**" : "ok";
  if (c.length === 0) return "ok";
  if (c.length === UDEV_GENERATIONS.length) return "**bug** (every udev)";
  return `**bug** (${c.join(", ")})`;
}

/** The markdown table. */
export function knownBugTable(dir: string): string {
  const rows = knownBugRows(dir);
  let s = `| scenario | ${KERNELS.map((k) => `Linux ${k}`).join(" | ")} |\n`;
  s += `|---|${KERNELS.map(() => "---").join("|")}|\n`;
  for (const r of rows)
    s += `| [${r.file}](examples/known-bugs/${r.file}): ${r.name} | ${r.cells.map((c) => cellText(r, c)).join(" | ")} |\n`;
  return s;
}

/** The README block: markers, the command, the table. */
export function knownBugBlock(dir: string): string {
  return `${BEGIN}\n\n\`${COMMAND}\` (udev generations: ${UDEV_GENERATIONS.join(", ")}):\n\n${knownBugTable(dir)}\n${END}`;
}

/** The README's current block, or null. */
export function readmeBlock(readme: string): string | null {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  return a < 0 || b < a ? null : readme.slice(a, b + END.length);
}

const here = new URL("../../", import.meta.url).pathname;
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const dir = join(here, "examples/known-bugs");
  const i = process.argv.indexOf("--check");
  if (i >= 0) {
    const readme = readFileSync(process.argv[i + 1] ?? join(here, "README.md"), "utf8");
    const ok = readmeBlock(readme) === knownBugBlock(dir);
    process.stdout.write(
      ok
        ? "README known-bugs table is current\n"
        : "README known-bugs table is stale: run it without --check and paste\n",
    );
    process.exit(ok ? 0 : 1);
  }
  process.stdout.write(`${knownBugBlock(dir)}\n`);
}
