// Headless Chromium for the HTML report's tests and screenshots: Debian's `chromium` package,
// driven by playwright-core (which never downloads a browser of its own here). Launched as the
// brief for root requires: no sandbox, no GPU, no network services, a fresh profile.

import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** The Chromium binary: $IFSIM_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.IFSIM_CHROMIUM ?? "/usr/bin/chromium";
}

/** Why headless Chromium cannot run here, or null. */
export function chromiumMissing(): string | null {
  const p = chromiumPath();
  try {
    accessSync(p, constants.X_OK);
    return null;
  } catch {
    return `no Chromium at ${p} (apt-get install chromium, or set IFSIM_CHROMIUM)`;
  }
}

/** The flags every launch uses (root: no sandbox; nothing that talks to the network). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A report opened in a fresh headless Chromium. */
export interface OpenedReport {
  readonly page: Page;
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: string[];
  /** Every URL the page requested (the report itself only, when it is self-contained). */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Opens `file` (an HTML report) in a fresh headless Chromium with its own profile directory. */
export async function openReport(
  file: string,
  viewport: { width: number; height: number } = { width: 1400, height: 900 },
): Promise<OpenedReport> {
  const profile = mkdtempSync(join(tmpdir(), "ifsim-chromium-"));
  let ctx: BrowserContext;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return {
    page,
    errors,
    requests,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
