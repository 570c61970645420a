// The host kernel as a backend: a fresh network namespace driven with iproute2. This is the
// only layer that spawns processes.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** What one `ip` invocation did. */
export interface IpRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

/** Why the host cannot run netns tests, or null when it can. */
export function netnsUnavailableReason(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "the netns backend needs root (ip netns add); run as root";
  }
  const ip = spawnSync("ip", ["-V"], { encoding: "utf8" });
  if (ip.error || ip.status !== 0)
    return "iproute2 (`ip`) is not installed: apt-get install iproute2";
  const name = `ifsim-probe-${process.pid}`;
  const add = spawnSync("ip", ["netns", "add", name], { encoding: "utf8" });
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim() || `exit ${add.status}`}`;
  spawnSync("ip", ["netns", "del", name]);
  return null;
}

let counter = 0;
const live = new Set<string>();
let hooked = false;

function cleanupAll(): void {
  for (const ns of live) spawnSync("ip", ["netns", "del", ns]);
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanupAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      cleanupAll();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * A fresh network namespace on the host kernel. Always `close()` it (the process also removes
 * every namespace it created on exit, SIGINT and SIGTERM).
 */
export class Netns {
  readonly name: string;
  #closed = false;

  constructor(prefix = "ifsim") {
    hookExit();
    this.name = `${prefix}-${process.pid}-${counter++}`;
    const r = spawnSync("ip", ["netns", "add", this.name], { encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`Cannot create network namespace "${this.name}": ${r.stderr.trim()}`);
    }
    live.add(this.name);
  }

  /** Runs `ip ARGS…` inside the namespace (global options such as -j go first in `args`). */
  ip(args: readonly string[], input?: string): IpRun {
    if (this.#closed) throw new Error(`Namespace "${this.name}" is closed`);
    const r = spawnSync("ip", ["-n", this.name, ...args], {
      encoding: "utf8",
      ...(input !== undefined ? { input } : {}),
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
  }

  /** Deletes the namespace (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    spawnSync("ip", ["netns", "del", this.name]);
    live.delete(this.name);
    if (existsSync(`/run/netns/${this.name}`)) {
      throw new Error(`Network namespace "${this.name}" could not be removed`);
    }
  }
}
