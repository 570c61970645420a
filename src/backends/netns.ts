// The host kernel as a backend: a fresh network namespace driven with iproute2. This is the
// only layer that spawns processes.
//
// Every namespace is named PREFIX-PID-RANDOM, locked (netns-lock.ts) before it exists, and
// owned by this process's supervisor (netns-supervisor.ts), which removes it on close(), on
// exit and on every catchable signal; a later run sweeps what a SIGKILL left.

import { spawnSync } from "node:child_process";
import { checkChildSignal, NETNS_RUN_DIR, takeLock } from "./netns-lock.ts";
import {
  adoptNamespace,
  type ChildRun,
  releaseNamespace,
  runOwned,
  supervise,
} from "./netns-supervisor.ts";

/** What one `ip` invocation did. */
export type IpRun = ChildRun;

/**
 * Why the host cannot run netns tests, or null when it can. The probe creates a namespace (and
 * runs `inside` in it, when given: a further check that returns why it failed, or null).
 */
export function netnsUnavailableReason(inside?: (ns: Netns) => string | null): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "the netns backend needs root (ip netns add); run as root";
  }
  let ns: Netns;
  try {
    ns = new Netns("ifsim-probe");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" && err.path === "ip")
      return "iproute2 (`ip`) is not installed: apt-get install iproute2";
    if (err.code === "ENOENT" && err.path === "flock")
      return "util-linux `flock` is missing (the netns backend locks its namespaces with it): apt-get install util-linux";
    return err.message;
  }
  try {
    return inside ? inside(ns) : null;
  } finally {
    ns.close();
  }
}

/**
 * A fresh network namespace on the host kernel, owned by this process's supervisor. Always
 * `close()` it (the supervisor also removes it on exit and on every catchable signal).
 */
export class Netns {
  readonly name: string;
  #closed = false;

  constructor(prefix = "ifsim") {
    supervise();
    const lock = takeLock(prefix);
    this.name = lock.name;
    adoptNamespace(lock);
    const r = spawnSync("ip", ["netns", "add", this.name], { encoding: "utf8" });
    if (r.error) {
      releaseNamespace(this.name);
      throw r.error;
    }
    if (r.status !== 0) {
      releaseNamespace(this.name);
      checkChildSignal(r);
      throw new Error(`ip netns add failed: ${r.stderr.trim() || `exit ${r.status}`}`);
    }
  }

  /**
   * Runs `ip ARGS…` inside the namespace (global options such as -j go first in `args`),
   * synchronously: a signal is handled when it returns.
   */
  ip(args: readonly string[], input?: string): IpRun {
    if (this.#closed) throw new Error(`Namespace "${this.name}" is closed`);
    const r = spawnSync("ip", ["-n", this.name, ...args], {
      encoding: "utf8",
      ...(input !== undefined ? { input } : {}),
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    checkChildSignal(r);
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
  }

  /** Runs `ip ARGS…` inside the namespace as a supervised child (signals are handled meanwhile). */
  ipAsync(args: readonly string[], input?: string): Promise<IpRun> {
    if (this.#closed) throw new Error(`Namespace "${this.name}" is closed`);
    return runOwned("ip", ["-n", this.name, ...args], input);
  }

  /** Runs a command inside the namespace (`ip netns exec`) as a supervised child. */
  exec(argv: readonly string[]): Promise<IpRun> {
    if (this.#closed) throw new Error(`Namespace "${this.name}" is closed`);
    return runOwned("ip", ["netns", "exec", this.name, ...argv]);
  }

  /** Deletes the namespace, killing anything still inside it (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!releaseNamespace(this.name)) {
      throw new Error(
        `Network namespace "${this.name}" could not be removed (${NETNS_RUN_DIR}/${this.name})`,
      );
    }
  }
}
