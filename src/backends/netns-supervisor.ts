// The netns backend's supervisor: this process owns every namespace it creates and every child
// it starts for them, and leaves nothing behind however it ends.
//
// - Children (`ip monitor`, `ip -batch`, each `ip` step) start detached: each is the leader of
//   its own process group, so a Ctrl-C at the terminal reaches this process only, and cleanup
//   kills each child's whole group (a shell and the `ip` it started) with SIGKILL.
// - Every catchable terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, …) has an explicit
//   handler from the first moment a namespace may exist (the availability probe included): it
//   kills the children, kills whatever still runs inside the namespaces, deletes them and their
//   locks, then dies of the same signal (the shell sees 128+signo). As PID 1 — a container's
//   init, where the kernel drops a signal that has no handler and a re-raised one is dropped
//   too — it exits with 128+signo instead. The handlers stay installed for the life of the
//   process: a signal that arrives while a synchronous `ip` runs is delivered just after it,
//   and must still find a handler.
// - Slow work is asynchronous (device setup is one `ip -batch` child, steps are children), so
//   a signal is handled within one event-loop turn, never after setup ends. The few short
//   synchronous children (`ip netns add/del`, `flock`) stay in this process's group: when a
//   Ctrl-C kills one of them, the signal was this process's too, and the handler runs at once
//   (netns-lock.ts childSignal) rather than after the synchronous work went on with a wrong
//   result (a probe that reports "cannot create an ifb", a sweep that skips a lock).
// - SIGKILL cannot be caught: the namespace's lock (netns-lock.ts) dies with the process, and
//   the next run's first namespace sweeps the leftovers and reports them on stderr.

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import {
  childSignal,
  deleteNamespace,
  dropLock,
  type HeldLock,
  killInside,
  sweepDeadNamespaces,
  sweptText,
} from "./netns-lock.ts";

/** What one child did. */
export interface ChildRun {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit status, or 128+signo when a signal ended it. */
  readonly status: number;
}

/** The terminating signals a process can catch (SIGPROF is left to profilers, SIGUSR1 to Node). */
export const CLEANUP_SIGNALS = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGALRM",
  "SIGUSR2",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPWR",
] as const satisfies readonly NodeJS.Signals[];

/** Where the supervisor reports what it swept (stderr by default; tests may replace it). */
export const netnsNotices: { sink: (line: string) => void } = {
  sink: (line) => {
    process.stderr.write(`${line}\n`);
  },
};

const namespaces = new Map<string, HeldLock>();
const children = new Set<ChildProcess>();
let installed = false;
let swept = false;

/**
 * Makes this process the supervisor (once): installs the signal and exit handlers, then sweeps
 * the leftovers of dead runs (reported through netnsNotices). Call before creating a namespace.
 */
export function supervise(): void {
  if (!installed) {
    installed = true;
    process.on("exit", cleanupAll);
    for (const s of CLEANUP_SIGNALS) process.on(s, onSignal);
    childSignal.handler = (sig) => {
      if ((CLEANUP_SIGNALS as readonly string[]).includes(sig)) onSignal(sig);
    };
  }
  if (!swept) {
    swept = true;
    for (const s of sweepDeadNamespaces()) netnsNotices.sink(sweptText(s));
  }
}

/** Registers a namespace (its lock held) before `ip netns add` creates it. */
export function adoptNamespace(lock: HeldLock): void {
  namespaces.set(lock.name, lock);
}

/**
 * Removes a namespace this process owns: kills what still runs inside it, deletes it, drops its
 * lock. Returns false when the name could not be removed (the lock is then kept, so that a
 * later sweep retries).
 */
export function releaseNamespace(name: string): boolean {
  const lock = namespaces.get(name);
  if (lock === undefined) return true;
  killInside(name);
  if (!deleteNamespace(name)) return false;
  namespaces.delete(name);
  dropLock(lock);
  return true;
}

/** Kills every child's process group and removes every owned namespace (synchronous). */
export function cleanupAll(): void {
  for (const c of children) killGroup(c);
  children.clear();
  for (const name of [...namespaces.keys()]) releaseNamespace(name);
}

let dying = false;

function onSignal(sig: NodeJS.Signals): void {
  // A second signal (or a child killed by it) during the cleanup: the cleanup goes on.
  if (dying) return;
  dying = true;
  cleanupAll();
  for (const s of CLEANUP_SIGNALS) process.removeListener(s, onSignal);
  const code = 128 + (constants.signals[sig] ?? 0);
  // Without a listener Node restores the default action: the re-raised signal ends the
  // process before kill() returns. PID 1 ignores it; then exit with the shell's status.
  if (process.pid !== 1) process.kill(process.pid, sig);
  process.exit(code);
}

/**
 * SIGKILLs a live child's process group (it leads one: it was started detached). Only while the
 * child is tracked: once Node has reaped it, its number may name someone else's group.
 */
export function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || !children.has(c)) return;
  try {
    process.kill(-c.pid, "SIGKILL");
  } catch {
    // no such group: everything in it has exited
  }
}

/**
 * Starts a supervised child: detached (its own process group), tracked until it exits, killed
 * with its group by cleanupAll().
 */
export function spawnOwned(cmd: string, args: readonly string[]): ChildProcess {
  const c = spawn(cmd, args, { detached: true, stdio: ["pipe", "pipe", "pipe"] });
  children.add(c);
  c.on("exit", () => {
    children.delete(c);
  });
  c.on("error", () => {
    children.delete(c);
  });
  return c;
}

/** Runs a supervised child to its end, feeding `input` on stdin; resolves with its output. */
export function runOwned(cmd: string, args: readonly string[], input?: string): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const c = spawnOwned(cmd, args);
    let stdout = "";
    let stderr = "";
    c.stdout?.setEncoding("utf8");
    c.stderr?.setEncoding("utf8");
    c.stdout?.on("data", (s: string) => {
      stdout += s;
    });
    c.stderr?.on("data", (s: string) => {
      stderr += s;
    });
    c.on("error", reject);
    c.on("close", (code, signal) => {
      const status = code ?? 128 + (signal !== null ? (constants.signals[signal] ?? 0) : 0);
      resolve({ stdout, stderr, status });
    });
    c.stdin?.on("error", () => {
      // the child exited before reading all its input: its status says why
    });
    c.stdin?.end(input ?? "");
  });
}
