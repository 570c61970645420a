// Signal injection into the netns backend (issue 16): a driver process (test/_helpers/
// netns-driver.ts: the availability probe, then one run, as `ifsim run --backend netns` does)
// gets SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGKILL at a seeded random moment — during the probe,
// during the setup of 200 veth pairs, during the steps, or anywhere — and afterwards
// `ip netns list`, the lock directory and the process table must hold nothing of it. A SIGKILL
// cannot be caught: what it leaves must be swept, and reported, by the next run that gets past
// its probe. Also: a run as PID 1 (a container's init) stops on SIGTERM and SIGINT.
//
// The driver is bundled once with esbuild (it comes with tsx) so that each run starts in a
// fraction of a second. Every process of a run carries IFSIM_SIGTEST=<tag> in its environment
// (children inherit it): the process-table check reads /proc/*/environ for it.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsUnavailableReason } from "../../src/backends/netns.ts";
import { LOCK_DIR, NETNS_RUN_DIR } from "../../src/backends/netns-lock.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { chooser } from "../_helpers/explore.ts";
import { testSeed } from "../_helpers/seed.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = netnsUnavailableReason();
const SEED = testSeed();
const RUNS = 100;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGKILL"] as const;
type Sig = (typeof SIGNALS)[number];
/** Where a run's signal is aimed: after which stderr line, and the largest extra delay (ms). */
const AIMS = {
  probe: { after: "phase probe", maxMs: 30 },
  setup: { after: "netns: building", maxMs: 200 },
  steps: { after: "netns: step 1 ", maxMs: 200 },
  anywhere: { after: null, maxMs: 1200 },
} as const;
type Aim = keyof typeof AIMS;
const AIM_ORDER: readonly Aim[] = ["probe", "setup", "steps", "anywhere"];

const base = {
  ifsim: 1,
  kernel: "6.18",
  udev: "none",
  bringup: "none",
  cloud_init: "none",
} as const;
const SMALL: ScenarioDoc = {
  ...base,
  name: "signals small",
  devices: [{ id: "a", type: "veth", name: "v0", peer: "v1" }],
  steps: [
    { ip: "link set dev v0 up" },
    { ip: "link set dev v1 up" },
    { ip: "link set group 0 mtu 1400" },
    "settle",
    // Longer than any aim's delay: every run is still running when its signal comes.
    { sleep: "3s" },
  ],
};
const MANY: ScenarioDoc = {
  ...base,
  name: "signals many veths",
  devices: Array.from({ length: 200 }, (_, i) => ({
    id: `d${i}`,
    type: "veth" as const,
    name: `a${i}`,
    peer: `b${i}`,
  })),
  steps: [{ ip: "link set dev a0 up" }],
};
const OPTS = { quietMs: 20, settleQuietMs: 50 };

let dir = "";
let driver = "";

/** The phase a run was in, from the last line it printed. */
function phaseOf(lines: readonly string[]): string {
  const last = [...lines].reverse().find((l) => /^(phase |netns: )/.test(l)) ?? "";
  if (last === "") return "startup";
  if (last.startsWith("phase probe")) return "probe";
  if (last.startsWith("netns: building")) return "setup";
  if (last.startsWith("netns: step")) return "steps";
  if (last.startsWith("phase done")) return "done";
  return "namespace";
}

interface Started {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a line starting with `prefix` arrives (or the child exits). */
  waitLine(prefix: string): Promise<void>;
}

function start(argv: readonly string[], tag: string): Started {
  // Detached: the driver leads its own process group, which a run may signal whole (as a
  // terminal's Ctrl-C does) without reaching this test.
  const child = spawn("sh", ["-c", 'ulimit -c 0; exec "$@"', "sh", ...argv], {
    cwd: dir,
    detached: true,
    env: { ...process.env, IFSIM_SIGTEST: tag },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: () => void }[] = [];
  let partial = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    const parts = (partial + s).split("\n");
    partial = parts.pop() ?? "";
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.filter((w) => l.startsWith(w.prefix))) w.resolve();
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      if (partial !== "") lines.push(partial);
      for (const w of waiters) w.resolve();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    lines,
    exit,
    waitLine: (prefix) =>
      lines.some((l) => l.startsWith(prefix)) || child.exitCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ prefix, resolve })),
  };
}

/** Pids (with their command lines) of every process whose environment carries the tag. */
function tagged(tag: string): string[] {
  const needle = `IFSIM_SIGTEST=${tag}\0`;
  const out: string[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (!`${readFileSync(`/proc/${e}/environ`, "latin1")}\0`.includes(needle)) continue;
      out.push(`${e} ${readFileSync(`/proc/${e}/cmdline`, "latin1").replaceAll("\0", " ")}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function untilNoTagged(tag: string, ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = tagged(tag);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Names in `ip netns list` and lock files in LOCK_DIR made by the process `pid`. The names are
 * read from NETNS_RUN_DIR, which is what `ip netns list` lists: the command itself stops
 * listing ("Peer netns reference is invalid") when a namespace goes away while it asks for
 * the nsids, and would hide a leftover while other tests create and delete namespaces.
 */
function leftoversOf(pid: number): { namespaces: string[]; locks: string[] } {
  const mark = `-${pid}-`;
  const namespaces = readdirSync(NETNS_RUN_DIR).filter(
    (n) => n.startsWith("ifsim-") && n.includes(mark),
  );
  const locks = existsSync(LOCK_DIR)
    ? readdirSync(LOCK_DIR)
        .filter((f) => f.includes(mark))
        .map((f) => f.replace(/\.lock$/, ""))
    : [];
  return { namespaces, locks };
}

/** The names a run reported as swept ("ifsim: netns: removed … "NAME" …"). */
function sweptBy(lines: readonly string[]): string[] {
  return lines
    .filter((l) => l.startsWith("ifsim: netns: removed "))
    .map((l) => /"([^"]+)"/.exec(l)?.[1] ?? "");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`netns backend under signals (seed ${SEED})`, () => {
  if (reason !== null && required) {
    it("should have what the signal test needs", () => {
      throw new Error(`The netns signal test must run here but cannot: ${reason}`);
    });
    return;
  }
  const suffix = reason ? ` (skipped: ${reason})` : "";
  const itReal = it.skipIf(reason !== null);

  beforeAll(() => {
    if (reason !== null) return;
    dir = mkdtempSync(`${tmpdir()}/ifsim-sigtest-`);
    driver = `${dir}/netns-driver.mjs`;
    buildSync({
      entryPoints: [fileURLToPath(new URL("../_helpers/netns-driver.ts", import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: driver,
      // yaml is CommonJS and requires Node built-ins: give the ESM bundle a require() (as
      // tools/build/bundle.ts does for the binary).
      banner: {
        js: 'import { createRequire as __ifsimRequire } from "node:module"; const require = __ifsimRequire(import.meta.url);',
      },
      logLevel: "warning",
    });
  });
  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  itReal(
    `should leave no namespace and no process after ${RUNS} runs with SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGKILL at random moments, and sweep what SIGKILL left${suffix}`,
    async () => {
      const next = chooser(SEED);
      const t0 = Date.now();
      const tag = `${process.pid}-${SEED}`;
      /** SIGKILL leftovers not yet swept: name → the run that left it. */
      const pending = new Map<string, number>();
      const log: string[] = [];
      /** Every name a run reported as swept. */
      const reported = new Set<string>();
      const stats = {
        signalled: 0,
        finishedFirst: 0,
        phases: new Map<string, number>(),
        leakedNamespaces: [] as string[],
        leakedProcesses: [] as string[],
        killLeftovers: 0,
        sweptByNext: 0,
        sweptElsewhere: 0,
        badExits: [] as string[],
        notSweptByNext: [] as string[],
      };
      for (let i = 0; i < RUNS; i++) {
        const sig: Sig = SIGNALS[i % SIGNALS.length] as Sig;
        const aim = AIM_ORDER[Math.floor(i / SIGNALS.length) % AIM_ORDER.length] as Aim;
        const { after, maxMs } = AIMS[aim];
        const delay = next(maxMs + 1);
        // Blocks of 20 runs (each signal × each aim) alternate: to the driver's pid, or to its
        // whole process group as a terminal's Ctrl-C does (children spawned synchronously,
        // such as the probe's `ip netns add`, get it too).
        const target =
          Math.floor(i / (SIGNALS.length * AIM_ORDER.length)) % 2 === 0 ? "pid" : "group";
        const sc = aim === "setup" ? MANY : SMALL;
        const runTag = `${tag}-${i}`;
        const r = start(
          [process.execPath, driver, JSON.stringify(sc), JSON.stringify(OPTS)],
          runTag,
        );
        const pid = r.child.pid as number;
        if (after !== null) await r.waitLine(after);
        await sleep(delay);
        let phase = "exited";
        if (r.child.exitCode === null && r.child.signalCode === null) {
          phase = phaseOf(r.lines);
          process.kill(target === "pid" ? pid : -pid, sig);
          stats.signalled++;
        } else stats.finishedFirst++;
        stats.phases.set(phase, (stats.phases.get(phase) ?? 0) + 1);
        const killTimer = setTimeout(() => process.kill(-pid, "SIGKILL"), 30_000);
        const { code, signal } = await r.exit;
        clearTimeout(killTimer);
        log.push(
          `run ${i} ${sig} to the ${target}, aimed at ${aim} +${delay} ms, hit ${phase}: ${signal ?? `exit ${code}`}`,
        );
        const signo = constants.signals[sig];
        const exitOk =
          phase === "exited"
            ? code === 0
            : signal === sig || (sig !== "SIGKILL" && code === 128 + signo);
        if (!exitOk)
          stats.badExits.push(
            `run ${i} ${sig}: ${signal ?? `exit ${code}`}\n${r.lines.join("\n")}`,
          );

        // The process table first: a child still finishing (an ip netns add, an ip -batch)
        // may create or hold a namespace until it exits.
        const procs = await untilNoTagged(runTag, 3000);
        stats.leakedProcesses.push(...procs.map((p) => `run ${i} ${sig}: ${p}`));
        const left = leftoversOf(pid);
        const names = [...new Set([...left.namespaces, ...left.locks])];
        if (sig === "SIGKILL") {
          for (const n of names) pending.set(n, i);
          stats.killLeftovers += names.length;
        } else stats.leakedNamespaces.push(...names.map((n) => `run ${i} ${sig}: ${n}`));

        // Sweeping: a run that got past its probe has swept every dead run's leftovers (a sweep
        // cut short by a signal — one that also killed the sweep's own `flock` — ends the run
        // before "phase run"). Leftovers count as swept when a run reported removing them.
        for (const n of sweptBy(r.lines)) reported.add(n);
        if (r.lines.includes("phase run")) {
          for (const [n, from] of pending) {
            if (from === i) continue;
            const gone =
              !existsSync(`${NETNS_RUN_DIR}/${n}`) && !existsSync(`${LOCK_DIR}/${n}.lock`);
            if (reported.has(n) && gone) stats.sweptByNext++;
            else if (gone) stats.sweptElsewhere++;
            else
              stats.notSweptByNext.push(
                `${n} (left by run ${from}, not swept by run ${i}; namespace ${existsSync(`${NETNS_RUN_DIR}/${n}`)}, lock ${existsSync(`${LOCK_DIR}/${n}.lock`)}):\n${r.lines.join("\n")}`,
              );
            pending.delete(n);
          }
        }
      }

      // A last run without a signal sweeps whatever the last SIGKILLs left.
      const last = start(
        [process.execPath, driver, JSON.stringify(SMALL), JSON.stringify(OPTS)],
        `${tag}-last`,
      );
      const end = await last.exit;
      expect(end.code, last.lines.join("\n")).toBe(0);
      for (const n of sweptBy(last.lines)) reported.add(n);
      for (const [n, from] of pending) {
        const gone = !existsSync(`${NETNS_RUN_DIR}/${n}`) && !existsSync(`${LOCK_DIR}/${n}.lock`);
        if (reported.has(n) && gone) stats.sweptByNext++;
        else if (gone) stats.sweptElsewhere++;
        else stats.notSweptByNext.push(`${n} (left by run ${from}, not swept by the last run)`);
      }
      stats.leakedProcesses.push(...(await untilNoTagged(`${tag}-last`, 3000)));

      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(
        `${log.join("\n")}\nsignals (seed ${SEED}): ${RUNS} runs in ${secs} s, ${stats.signalled} signalled, ${stats.finishedFirst} finished first; hit ${[...stats.phases].map(([p, n]) => `${p} ${n}`).join(", ")}; leaked namespaces ${stats.leakedNamespaces.length}, leaked processes ${stats.leakedProcesses.length}; SIGKILL leftovers ${stats.killLeftovers}: swept by the next run ${stats.sweptByNext}, elsewhere ${stats.sweptElsewhere}, not swept ${stats.notSweptByNext.length}`,
      );
      for (const l of [
        ...stats.notSweptByNext,
        ...stats.leakedNamespaces,
        ...stats.leakedProcesses,
      ])
        console.log(`signals: ${l}`);
      expect(stats.badExits).toEqual([]);
      expect(stats.leakedNamespaces).toEqual([]);
      expect(stats.leakedProcesses).toEqual([]);
      expect(stats.notSweptByNext).toEqual([]);
      // The aims must have hit what they aimed at (a signal during the probe and during setup).
      expect(stats.phases.get("probe") ?? 0).toBeGreaterThan(0);
      expect(stats.phases.get("setup") ?? 0).toBeGreaterThan(0);
    },
    600_000,
  );

  const unshare =
    reason === null
      ? spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"], { encoding: "utf8" })
      : null;
  const pid1Reason =
    reason ??
    (unshare?.error
      ? `unshare (util-linux) is missing: ${unshare.error.message}`
      : unshare?.status !== 0
        ? `unshare --pid --fork --mount-proc fails here: ${unshare?.stderr.trim()}`
        : null);
  if (pid1Reason !== null && required) {
    it("should be able to run the driver as PID 1", () => {
      throw new Error(`The PID 1 signal test must run here but cannot: ${pid1Reason}`);
    });
    return;
  }

  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    it.skipIf(pid1Reason !== null)(
      `should stop a run as PID 1 on ${sig} and remove its namespace${pid1Reason ? ` (skipped: ${pid1Reason})` : ""}`,
      async () => {
        const sc: ScenarioDoc = {
          ...SMALL,
          steps: [{ ip: "link set dev v0 up" }, { sleep: "9s" }],
        };
        const runTag = `${process.pid}-pid1-${sig}`;
        const r = start(
          [
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            process.execPath,
            driver,
            JSON.stringify(sc),
            JSON.stringify(OPTS),
          ],
          runTag,
        );
        await r.waitLine("netns: step 1 ");
        expect(r.lines[0]).toBe("phase probe pid 1");
        const ns =
          /^netns: namespace (\S+)$/.exec(
            r.lines.find((l) => l.startsWith("netns: namespace")) ?? "",
          )?.[1] ?? "";
        expect(ns).toMatch(/^ifsim-run-1-[0-9a-f]+$/);
        // The driver is unshare's child (PID 1 inside, another pid here).
        const unsharePid = r.child.pid as number;
        const init = readdirSync("/proc")
          .filter((e) => /^\d+$/.test(e))
          .find((e) => {
            try {
              const st = readFileSync(`/proc/${e}/stat`, "utf8");
              return st.slice(st.lastIndexOf(")") + 2).split(" ")[1] === String(unsharePid);
            } catch {
              return false;
            }
          });
        expect(init).toBeDefined();
        process.kill(Number(init), sig);
        const { code } = await r.exit;
        expect(
          r.lines.some((l) => l.startsWith("phase done")),
          r.lines.join("\n"),
        ).toBe(false);
        expect(code).toBe(128 + constants.signals[sig]);
        expect(existsSync(`${NETNS_RUN_DIR}/${ns}`)).toBe(false);
        expect(existsSync(`${LOCK_DIR}/${ns}.lock`)).toBe(false);
        expect(await untilNoTagged(runTag, 3000)).toEqual([]);
      },
      60_000,
    );
  }
});
