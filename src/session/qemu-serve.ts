// `ifsim serve --backend qemu --state DIR`: the persistent session on a booted QEMU guest (Debian's
// kernel and, with a udev scenario, its udevd). The socket, the shims, the lock and the journal are
// the model's (serve.ts): every call is journaled and synced before it runs. What differs is what a
// restart can promise. A real guest cannot be saved or replayed bit for bit: after the server is
// killed its guest is gone too (the next start kills the QEMU a killed server left, by the pid and
// start time DIR/qemu.pid recorded), and the next start boots a fresh guest and runs the journaled
// calls again, in order. The calls are the same; their answers are the new guest's (what a real
// race decided, a name udev gave, may differ from the first run). docs/exec.md says so.

import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QemuBackend, qemuUnavailableReason } from "../backends/qemu/index.ts";
import { BackendRefusal } from "../backends/refusal.ts";
import type { Journal } from "./journal.ts";
import type { SessionConfig } from "./model-session.ts";
import { QemuSession, QemuSessionError } from "./qemu-session.ts";
import { SessionServer } from "./server.ts";
import { writeShims } from "./shim.ts";

/** Where a qemu session records its QEMU: "PID STARTTIME" (/proc/PID/stat's 22nd field). */
export function qemuPidPath(dir: string): string {
  return join(dir, "qemu.pid");
}

/** /proc/PID/stat's start time (clock ticks since boot), or null when PID is gone. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) is in parentheses and may hold spaces: count after its ')'
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Kills the QEMU a killed server of DIR left running, if DIR/qemu.pid names a live process with
 * the recorded start time whose command is qemu-system-*; removes the record. The caller holds
 * DIR's server lock, so no live server owns that QEMU. Returns the pid killed, or null.
 */
export function sweepStaleQemu(dir: string): number | null {
  const p = qemuPidPath(dir);
  if (!existsSync(p)) return null;
  const [pidText, start] = readFileSync(p, "utf8").trim().split(" ");
  unlinkSync(p);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || start === undefined) return null;
  if (startTime(pid) !== start) return null; // gone, or the pid was reused
  let cmd = "";
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
  } catch {
    return null;
  }
  if (!/qemu-system-/.test(cmd)) return null;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return null;
  }
  return pid;
}

/** Why `cfg` cannot be a qemu session (the user's to fix), or null. */
export function qemuServeProblem(cfg: SessionConfig): string | null {
  if (cfg.seed !== null)
    return "--seed seeds the model; the real kernel in the qemu guest has none";
  try {
    new QemuBackend().kernelVersion({ kernel: cfg.kernel });
  } catch (e) {
    if (e instanceof BackendRefusal) return e.message;
    throw e;
  }
  const why = qemuUnavailableReason();
  return why === null ? null : `the qemu backend is not available: ${why}`;
}

/** What serveQemu needs from serve.ts: DIR's paths, its open journal, and how to stop. */
export interface QemuServeOptions {
  readonly dir: string;
  readonly socketPath: string;
  readonly binDir: string;
  readonly config: SessionConfig;
  readonly journal: Journal;
  readonly stop: Promise<void>;
  readonly log: (line: string) => void;
}

/**
 * Boots the guest, runs the journaled calls again, serves until `stop`, then stops the server
 * (removing the socket) and powers the guest off. A `stop` during the boot kills QEMU.
 * @throws QemuSessionError for a machine the guest cannot be built from; BackendRefusal for what
 *   the backend refuses.
 */
export async function serveQemu(
  o: QemuServeOptions,
): Promise<{ replayed: number; handled: number }> {
  const swept = sweepStaleQemu(o.dir);
  if (swept !== null) o.log(`killed the QEMU (pid ${swept}) a killed server of ${o.dir} left`);
  const pidFile = qemuPidPath(o.dir);
  let qemuPid: number | null = null;
  let stopped = false;
  let session: QemuSession | null = null;
  void o.stop.then(() => {
    stopped = true;
    // a stop while booting: the boot fails once its QEMU is gone
    if (qemuPid !== null && session === null) {
      try {
        process.kill(qemuPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  try {
    o.log("booting the qemu guest (a minute or more under TCG)");
    try {
      session = await QemuSession.boot(
        { scenario: o.config.scenario, machine: o.config.machine, kernel: o.config.kernel },
        o.log,
        {
          onSpawn: (pid) => {
            qemuPid = pid;
            const start = startTime(pid);
            if (start !== null) writeFileSync(pidFile, `${pid} ${start}\n`, { mode: 0o600 });
          },
        },
      );
    } catch (e) {
      if (stopped) return { replayed: 0, handled: 0 };
      throw e;
    }
    const calls = o.journal.replay();
    let failed = 0;
    for (const c of calls) {
      if (stopped) break;
      const r = await session.call(c);
      if (r.status !== 0) failed++;
    }
    if (calls.length > 0)
      o.log(
        `ran the ${calls.length} journaled calls again on the new guest (${failed} exited non-zero; a real guest's answers may differ from the first run's)`,
      );
    if (stopped) return { replayed: calls.length, handled: 0 };
    const server = await SessionServer.listen({
      socketPath: o.socketPath,
      session,
      journal: o.journal,
      onInternalError: (e) => o.log(`internal error: ${e instanceof Error ? e.stack : String(e)}`),
    });
    writeShims(o.binDir, o.socketPath);
    o.log(
      `serving ${o.dir} on ${o.socketPath} (qemu guest, Linux ${session.guest.kernel}, ${calls.length} journaled calls run again); ` +
        `PATH=${o.binDir}:$PATH puts its ip and ifsim-hv first`,
    );
    await o.stop;
    await server.close();
    return { replayed: calls.length, handled: server.handled };
  } finally {
    if (session !== null) await session.close();
    else if (qemuPid !== null)
      try {
        process.kill(qemuPid, "SIGKILL");
      } catch {
        // already gone
      }
    try {
      unlinkSync(pidFile);
    } catch {
      // never written, or swept
    }
  }
}

export { QemuSessionError };
