// The HTML reports in a real headless Chromium (Debian's package, driven by playwright-core):
// each page — run, explore, replay, conform — loads without a console error and without any
// request but its own file, has its swim lanes, and clicking a line shows the ip link state
// after it. Skipped with the reason when Chromium is missing; CI installs it (.ci/run), and
// there a missing Chromium fails the test. conform on the real kernel needs the netns backend
// (root, ip netns): skipped with the reason without it, required in CI like every real-kernel test.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NetnsBackend } from "../../src/backends/netns-backend.ts";
import { main } from "../../src/cli/main.ts";
import { verdictOf } from "../../src/conform/index.ts";
import { conformReport, renderHtml } from "../../src/report/index.ts";
import { runScenarioWithStates } from "../../src/scenario/link-states.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { chromiumMissing, openReport } from "../../tools/report/browser.ts";

const ci = (process.env.CI ?? "") !== "" || process.env.IFSIM_REAL_KERNEL === "1";
const missing = chromiumMissing();
const netnsWhy = new NetnsBackend().unavailableReason();
// Made by the first test that runs (none when all are skipped), removed after the last.
let made: string | null = null;
const workDir = (): string => {
  made ??= mkdtempSync(join(tmpdir(), "ifsim-html-"));
  return made;
};
afterAll(() => {
  if (made !== null) rmSync(made, { recursive: true, force: true });
});

/** Runs the CLI and returns the report it wrote (and its stdout). */
async function report(argv: string[], out: string): Promise<string> {
  const file = join(workDir(), out);
  const r = await main([...argv, "--html", file]);
  expect(r.stderr).toContain(`wrote the HTML report to ${file}`);
  return file;
}

/** The lane titles, the panels' titles and the state shown after clicking `row`. */
async function check(
  file: string,
  o: { panels: number; lanes: string[]; row: string; shows: string },
): Promise<void> {
  const r = await openReport(file);
  try {
    const page = r.page;
    await page.waitForSelector('#report[data-ready="1"]');
    expect(await page.locator(".panel").count()).toBe(o.panels);
    const lanes = await page.locator("table.lanes th.lane").allTextContents();
    for (const l of o.lanes) expect(lanes).toContain(l);
    const row = page.locator(o.row).first();
    await row.click();
    const panel = page.locator(".panel", { has: page.locator(o.row) }).first();
    const caption = panel.locator(".statebox .caption");
    const pinned = await caption.textContent();
    expect(pinned).toMatch(/^after #\d+/);
    const names = await panel.locator(".statebox table.links td:nth-child(2)").allTextContents();
    expect(names).toContain(o.shows);
    expect(await row.getAttribute("class")).toContain("selected");
    // Hovering another line shows its state; leaving it shows the pinned one again.
    await page.evaluate("window.scrollTo(0, 0)");
    await panel.locator("tr.row[data-state]").first().hover();
    expect(await caption.textContent()).toMatch(/^after #1 /);
    await page.mouse.move(0, 0);
    expect(await caption.textContent()).toBe(pinned);
    expect(r.errors).toEqual([]);
    expect(r.requests).toEqual([`file://${file}`]);
  } finally {
    await r.close();
  }
}

describe("HTML reports in headless Chromium", () => {
  if (missing !== null && ci) {
    it("should have Chromium", () => {
      throw new Error(`The HTML report test must run here but cannot: ${missing}`);
    });
    return;
  }
  const itC = it.skipIf(missing !== null);
  const suffix = missing ? ` (skipped: ${missing})` : "";

  itC(`should show a run on two kernels side by side${suffix}`, async () => {
    const file = await report(
      ["run", "examples/scenarios/01-seed-race.yaml", "--kernel", "5.0", "--kernel", "6.1"],
      "run.html",
    );
    // The failing rename on 5.0 (the last line): eth2 kept its name.
    await check(file, {
      panels: 2,
      lanes: ["kernel", "qemu", "script"],
      row: "tr.row:has(.cause)",
      shows: "eth2",
    });
  });

  itC(`should show an exploration matrix and its counterexample${suffix}`, async () => {
    const file = await report(
      ["explore", "examples/explore/seed-race.yaml", "--kernel", "5.0,6.1", "--jobs", "1"],
      "explore.html",
    );
    await check(file, {
      panels: 2,
      lanes: ["udev/w0", "udev/w1"],
      row: "tr.row.failing",
      shows: "eth1",
    });
  });

  itC(`should show a replay${suffix}`, async () => {
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
    const file = await report(["replay", token], "replay.html");
    await check(file, { panels: 1, lanes: ["udev/w1"], row: "tr.row.failing", shows: "ens3" });
  });

  itC(`should escape hostile names (a scenario name and a device name)${suffix}`, async () => {
    const sc = join(workDir(), "hostile.yaml");
    const name = `</script><img src=x onerror=alert(1)> & "quotes"`;
    writeFileSync(
      sc,
      [
        "ifsim: 1",
        `name: ${JSON.stringify(name)}`,
        'kernel: "6.18"',
        "devices:",
        "  - { id: a, type: veth, name: veth0, peer: veth1 }",
        "steps:",
        `  - ip: 'link set dev veth0 name "<b>&x"'`,
        "",
      ].join("\n"),
    );
    const file = await report(["run", sc], "hostile.html");
    await check(file, {
      panels: 1,
      lanes: ["script"],
      row: 'tr.row[data-lane="script"]:last-child',
      shows: "<b>&x",
    });
    const r = await openReport(file);
    try {
      expect(await r.page.locator("h1").textContent()).toBe(name);
      expect(await r.page.locator("img").count()).toBe(0);
      expect(r.errors).toEqual([]);
    } finally {
      await r.close();
    }
  });

  itC(`should draw conform's differences as a unified diff${suffix}`, async () => {
    // Not a real kernel: the model on 6.1 stands in for one, to get differences to draw (the
    // real conform page is the next test).
    const sc = parseScenario(
      readFileSync("examples/scenarios/01-seed-race.yaml", "utf8"),
      "01-seed-race.yaml",
    );
    if (!sc.ok) throw new Error("01-seed-race.yaml does not parse");
    const model = runScenarioWithStates(sc.scenario, { kernel: "5.0", settleSteps: true });
    const other = runScenario(sc.scenario, { kernel: "6.1", settleSteps: true });
    const kernel = {
      scenario: other.scenario,
      backend: "stand-in",
      kernel: "6.1 (the model)",
      steps: other.steps.map(({ t: _t, tEnd: _e, cause: _c, ...st }) => st),
      links: other.links,
    };
    const differences = verdictOf(sc.scenario, model.record, kernel);
    expect(differences.some((d) => d.diff !== undefined)).toBe(true);
    const file = join(workDir(), "conform-differ.html");
    writeFileSync(
      file,
      renderHtml(
        conformReport({
          backend: "stand-in",
          results: [
            {
              file: "01-seed-race.yaml",
              scenario: sc.scenario.name,
              verdict: "DIFFER",
              differences,
              model,
              kernel,
            },
          ],
        }),
      ),
    );
    const r = await openReport(file);
    try {
      expect(await r.page.locator(".panel").count()).toBe(2);
      expect(await r.page.locator(".diffs .where").count()).toBeGreaterThan(0);
      expect(await r.page.locator(".diffs .minus").count()).toBeGreaterThan(0);
      expect(await r.page.locator(".diffs .plus").count()).toBeGreaterThan(0);
      expect(await r.page.locator(".verdict.fail").count()).toBeGreaterThan(0);
      expect(r.errors).toEqual([]);
    } finally {
      await r.close();
    }
  });

  const needNetns = netnsWhy !== null && !ci;
  it.skipIf(missing !== null || needNetns)(
    `should show conform's model and kernel side by side${suffix}${needNetns ? ` (skipped: ${netnsWhy})` : ""}`,
    async () => {
      const file = await report(
        ["conform", "test/conformance/netns/05-rename-up.yaml"],
        "conform.html",
      );
      await check(file, {
        panels: 2,
        lanes: ["kernel", "script"],
        row: "tr.row:has(.bad)",
        shows: "up0",
      });
      const r = await openReport(file);
      try {
        expect(await r.page.locator("h4", { hasText: "model vs kernel" }).count()).toBe(1);
      } finally {
        await r.close();
      }
    },
    60_000,
  );
}, 120_000);
