// Runs one case on the model (in process, the code path of `ifsim ip`) and on the host kernel (a
// fresh network namespace, iproute2's `ip -force -batch`), and compares what they did.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Netns } from "../../src/backends/netns.ts";
import { settleKernel } from "../../src/cli/ip.ts";
import { IpMonitor, IpProcess, parseIpGlobalArgs } from "../../src/ip/index.ts";
import { findSchedule } from "../../src/ip/schedules.ts";
import { createKernel, profileFor } from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";
import { type Case, fixedAddresses } from "./generate.ts";

/** What one side did: `ip`'s exit status and output, the monitor records, the final links. */
export interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  monitor: string;
  /** `ip -d -j link show` after settling. */
  links: string;
}

/** The name the batch file has on both sides (it appears in "Command failed FILE:LINE"). */
export const BATCH_NAME = "case.batch";

/** The batch file's text. */
export function batchText(c: Case): string {
  return `${c.lines.join("\n")}\n`;
}

/** The `ip` arguments that run the case. */
export function ipArgs(c: Case, file: string): string[] {
  return [...c.global, "-force", "-batch", file];
}

/** Runs the case on the model (profile 6.18 unless told). */
export function runModel(c: Case, kernel = "6.18"): Outcome {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: profileFor(kernel), clock, rng: new Rng(1) });
  const mon = new IpMonitor(k);
  const cursor = k.trace.length;
  const g = parseIpGlobalArgs(ipArgs(c, BATCH_NAME));
  if ("error" in g) throw new TypeError(`runModel: bad global options ${c.global.join(" ")}`);
  const proc = new IpProcess(k, { ...g.opts, settle: () => settleKernel(k, clock) });
  const r = proc.batch(batchText(c), BATCH_NAME);
  settleKernel(k, clock);
  const monitor = mon.feed(k.trace.since(cursor));
  const links = new IpProcess(k, { details: true, json: true }).run(["link", "show"]).stdout;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, monitor, links };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function run(
  args: string[],
  cwd?: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    p.on("error", reject);
    p.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** Whether the monitor process has its rtnetlink socket bound to a multicast group yet. */
function monitorSubscribed(pid: number): boolean {
  try {
    const t = readFileSync(`/proc/${pid}/net/netlink`, "utf8");
    return t
      .split("\n")
      .slice(1)
      .some((l) => {
        const f = l.trim().split(/\s+/);
        return f[1] === "0" && f[2] === String(pid) && f[3] !== undefined && !/^0+$/.test(f[3]);
      });
  } catch {
    return false;
  }
}

/** How long the kernel may defer linkwatch work (one second, HZ) plus a margin. */
const SETTLE_MS = 1100;

/**
 * Runs the case on the host kernel in a fresh namespace. `want` (the model's outcome) lets an
 * agreeing run stop waiting as soon as it agrees; a disagreeing one waits the full settle time.
 */
export async function runReal(c: Case, want?: Outcome): Promise<Outcome> {
  const ns = new Netns("ifsim-adv");
  const dir = mkdtempSync(join(tmpdir(), "ifsim-adv-"));
  try {
    const mon = spawn("ip", ["-n", ns.name, "monitor", "link"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let monitor = "";
    mon.stdout.on("data", (d: Buffer) => {
      monitor += d.toString("utf8");
    });
    const closed = new Promise((res) => mon.once("close", res));
    for (let i = 0; i < 400 && !monitorSubscribed(mon.pid ?? -1); i++) await sleep(5);
    writeFileSync(join(dir, BATCH_NAME), batchText(c));
    const r = await run(["-n", ns.name, ...ipArgs(c, BATCH_NAME)], dir);
    let links = "";
    const start = Date.now();
    for (;;) {
      links = (await run(["-n", ns.name, "-d", "-j", "link", "show"])).stdout;
      const out: Outcome = { ...r, monitor, links };
      if (Date.now() - start >= SETTLE_MS) break;
      if (want && compare(want, out).length === 0) break;
      await sleep(50);
    }
    mon.kill();
    await closed;
    return { ...r, monitor, links };
  } finally {
    ns.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const MAC = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g;

/**
 * Replaces the random MACs (any 6-byte address the generator did not write) by placeholders
 * numbered in order of first appearance across the whole outcome.
 */
export function normalise(o: Outcome): Outcome {
  const mask = macMasker();
  return {
    status: o.status,
    stdout: mask(o.stdout),
    stderr: mask(o.stderr),
    monitor: mask(o.monitor),
    links: mask(o.links),
  };
}

/**
 * A function that masks random MACs (any the generator did not write) by `<mac0>`, `<mac1>`…,
 * numbered in order of first appearance across every text it is given.
 */
function macMasker(): (text: string) => string {
  const fixed = fixedAddresses();
  const seen = new Map<string, string>();
  return (text) =>
    text.replace(MAC, (m) => {
      if (fixed.has(m)) return m;
      let p = seen.get(m);
      if (!p) {
        p = `<mac${seen.size}>`;
        seen.set(m, p);
      }
      return p;
    });
}

/** The fields in which two outcomes differ (after normalising MACs). */
export function compare(model: Outcome, real: Outcome): (keyof Outcome)[] {
  const a = normalise(model);
  const b = normalise(real);
  const out: (keyof Outcome)[] = [];
  for (const f of ["status", "stdout", "stderr", "links", "monitor"] as const) {
    if (a[f] !== b[f]) out.push(f);
  }
  return out;
}

/** Masks the random MACs of one text (numbered by first appearance; the generator's stay). */
function maskText(text: string): string {
  return macMasker()(text);
}

/**
 * Whether the outcomes differ only in the timing of the kernel's deferred work: the kernel runs
 * linkwatch on a workqueue that waits for RTNL (and defers it up to a second when any namespace
 * on the host ran it recently: linkwatch_nextevent is global), so its records and the operstate
 * a `link show` prints may come later than in the model, which settles deferred work after
 * every command. True when the settled final links agree and some schedule of that work in the
 * model (src/ip/schedules.ts) gives the kernel's exit status, stdout, stderr and monitor records.
 */
export function timingOnly(c: Case, real: Outcome, fields: readonly string[]): boolean {
  if (fields.includes("links")) return false;
  const found = findSchedule(
    {
      kernel: "6.18",
      global: [...c.global, "-force"],
      text: batchText(c),
      fileName: BATCH_NAME,
      normalise: maskText,
      maxRuns: 5000,
    },
    real,
  );
  return found.schedule !== null;
}
