// Regenerates the HTML report screenshots in docs/html-report/: one report per example
// (examples/scenarios/0*.yaml with `ifsim run`, examples/explore/*.yaml with `ifsim explore`),
// a replay and a conform on the netns backend (as root; skipped with a note otherwise). Each
// page is opened in headless Chromium, the most telling line (a failure with its cause, else
// the last step) is clicked so that its link state shows, and the viewport is saved as PNG.
//
//   npx tsx tools/report/screenshots.ts            (docs/html-report/*.png; as root for conform)
//   npx tsx tools/report/screenshots.ts OUT_DIR    (elsewhere)

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../../src/backends/netns-backend.ts";
import { main } from "../../src/cli/main.ts";
import { chromiumMissing, openReport } from "./browser.ts";

const out = process.argv[2] ?? "docs/html-report";
const work = mkdtempSync(join(tmpdir(), "ifsim-shots-"));

/** Writes the report of `argv` and saves its screenshot as OUT/NAME.png. */
async function shot(name: string, argv: readonly string[]): Promise<void> {
  const html = join(work, `${name}.html`);
  const r = await main([...argv, "--html", html]);
  if (!r.stderr.includes("wrote the HTML report"))
    throw new Error(`ifsim ${argv.join(" ")}: ${r.stderr}`);
  const page = await openReport(html, { width: 1360, height: 1200 });
  try {
    await page.page.waitForSelector('#report[data-ready="1"]');
    // A failing step, else a line with a cause, else a failed line, else the last script line.
    for (const sel of [
      "tr.row.failing",
      "tr.row[data-state]:has(.cause)",
      "tr.row[data-state]:has(.res.bad)",
      'tr.row[data-state][data-lane="script"]',
    ]) {
      const rows = page.page.locator(sel);
      const n = await rows.count();
      if (n === 0) continue;
      const row = sel.endsWith('"script"]') ? rows.nth(n - 1) : rows.first();
      await row.click();
      break;
    }
    // Back to the top: the title, the verdicts and each panel's state box (the clicked line's).
    await page.page.mouse.move(0, 0);
    await page.page.evaluate("window.scrollTo(0, 0)");
    const png = join(out, `${name}.png`);
    // The top of the page, at most 1200 pixels of it.
    const height = Number(await page.page.evaluate("document.documentElement.scrollHeight"));
    await page.page.screenshot({
      path: png,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1360, height: Math.min(1200, height) },
    });
    if (page.errors.length > 0)
      throw new Error(`${name}: console errors: ${page.errors.join("; ")}`);
    console.log(`wrote ${png}`);
  } finally {
    await page.close();
  }
}

async function run(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  mkdirSync(out, { recursive: true });
  const runs = readdirSync("examples/scenarios")
    .filter((f) => /^\d\d-.*\.yaml$/.test(f))
    .sort();
  for (const f of runs) await shot(`run-${f.slice(0, -5)}`, ["run", `examples/scenarios/${f}`]);
  await shot("explore-seed-race", [
    "explore",
    "examples/explore/seed-race.yaml",
    "--kernel",
    "5.0,6.1",
    "--jobs",
    "1",
  ]);
  await shot("explore-boot-race", [
    "explore",
    "examples/explore/boot-race.yaml",
    "--kernel",
    "5.1",
    "--jobs",
    "1",
  ]);
  const ex = await main([
    "explore",
    "examples/explore/seed-race.yaml",
    "--kernel",
    "5.0",
    "--jobs",
    "1",
    "--json",
  ]);
  const token = (JSON.parse(ex.stdout) as { counterexample: { token: string } }).counterexample
    .token;
  await shot("replay-seed-race", ["replay", token]);
  const why = new NetnsBackend().unavailableReason();
  if (why === null)
    await shot("conform-netns", ["conform", "test/conformance/netns/05-rename-up.yaml"]);
  else console.log(`conform-netns: not taken: ${why}`);
}

try {
  await run();
} finally {
  rmSync(work, { recursive: true, force: true });
}
