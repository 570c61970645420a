// A persistent session's directory (`ifsim serve --state DIR`): the boot config, the journal of
// every call the model ran, the server's pid lock and its socket. A restart boots the config
// and replays the journal: the model is deterministic, so the state is the one acknowledged.

import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { SessionCall, SessionConfig } from "./model-session.ts";

/** The files of a state directory. */
export function statePaths(dir: string): {
  config: string;
  journal: string;
  pid: string;
  socket: string;
  bin: string;
} {
  return {
    config: join(dir, "config.json"),
    journal: join(dir, "journal.jsonl"),
    pid: join(dir, "server.pid"),
    socket: join(dir, "sock"),
    bin: join(dir, "bin"),
  };
}

/** Bad or conflicting state directory: the message says which file and why. */
export class StateError extends Error {
  override readonly name = "StateError";
}

const CONFIG_VERSION = 1;

/**
 * The session config of DIR: the saved one, or `cfg` (saved now) on a first start. A `cfg` that
 * differs from the saved one is refused rather than silently mixing two machines.
 */
export function loadOrSaveConfig(dir: string, cfg: SessionConfig | null): SessionConfig {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = statePaths(dir).config;
  if (!existsSync(p)) {
    if (cfg === null)
      throw new StateError(
        `"${dir}" holds no session yet: start it with ifsim serve --state ${dir} [--kernel V] [--machine M | FILE.yaml]`,
      );
    writeDurably(p, `${JSON.stringify({ version: CONFIG_VERSION, config: cfg })}\n`);
    return cfg;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new StateError(`cannot read the session config "${p}": ${(e as Error).message}`);
  }
  const d = doc as { version?: unknown; config?: SessionConfig };
  if (d?.version !== CONFIG_VERSION || typeof d.config !== "object" || d.config === null)
    throw new StateError(`"${p}" is not an ifsim session config (version ${CONFIG_VERSION})`);
  if (cfg !== null && JSON.stringify(cfg) !== JSON.stringify(d.config))
    throw new StateError(
      `"${dir}" holds a session booted with other options (${describe(d.config)}); start it without boot options to resume it, or use a new directory`,
    );
  return d.config;
}

function describe(c: SessionConfig): string {
  return [
    `kernel ${c.kernel ?? c.scenario.kernel ?? "default"}`,
    c.machine ? `machine ${c.machine.name}` : `scenario "${c.scenario.name}"`,
    ...(c.seed !== null ? [`seed ${c.seed}`] : []),
    ...(c.backend !== undefined ? [`backend ${c.backend}`] : []),
  ].join(", ");
}

function writeDurably(path: string, text: string): void {
  const fd = openSync(path, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The journal of DIR, open for appending: `replay` first, then `append` each call. */
export class Journal {
  readonly #fd: number;
  readonly path: string;
  /** Bytes of whole entries: where a failed append is cut back to. */
  #size: number;

  constructor(dir: string) {
    this.path = statePaths(dir).journal;
    this.#fd = openSync(this.path, "a+", 0o600);
    this.#size = statSync(this.path).size;
  }

  /**
   * The calls journaled so far. A last line without its newline (the server died while
   * writing it, before it answered) is cut off: that call was never acknowledged.
   * @throws StateError for a complete line that is not a call (a damaged journal).
   */
  replay(): SessionCall[] {
    const text = readFileSync(this.path, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    this.#size = Buffer.byteLength(text.slice(0, end));
    if (end < text.length) ftruncateSync(this.#fd, this.#size);
    const calls: SessionCall[] = [];
    const lines = text.slice(0, end).split("\n");
    lines.pop();
    lines.forEach((line, i) => {
      let c: unknown;
      try {
        c = JSON.parse(line);
      } catch (e) {
        throw new StateError(`${this.path}:${i + 1}: not a journal entry: ${(e as Error).message}`);
      }
      const call = c as SessionCall;
      if ((call?.op !== "ip" && call?.op !== "hv") || !Array.isArray(call.argv))
        throw new StateError(`${this.path}:${i + 1}: not a journal entry`);
      calls.push(call);
    });
    return calls;
  }

  /**
   * Appends one call and waits until it is on disk (the server does this before it runs the
   * call). A failed write (a full disk) is cut back off, so the journal stays whole entries.
   * @throws the write's error.
   */
  append(c: SessionCall): void {
    const line = Buffer.from(`${JSON.stringify(c)}\n`, "utf8");
    try {
      let off = 0;
      while (off < line.length) off += writeSync(this.#fd, line, off);
      fsyncSync(this.#fd);
      this.#size += line.length;
    } catch (e) {
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch {
        // the next start drops a torn last line anyway
      }
      throw e;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/**
 * Takes DIR's server lock (server.pid, created exclusively). A pid file whose process is gone is
 * a killed server's: it is removed, as is its socket. @throws StateError when a live server owns DIR.
 */
export function takeServerLock(dir: string): () => void {
  const { pid, socket } = statePaths(dir);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(pid, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      const owner = Number.parseInt(readFileSync(pid, "utf8"), 10);
      if (Number.isSafeInteger(owner) && owner > 0 && alive(owner))
        throw new StateError(`a server (pid ${owner}) already serves "${dir}"`);
      unlinkSync(pid);
    }
  }
  // The lock is ours: a socket left behind is a dead server's.
  if (existsSync(socket) && statSync(socket).isSocket()) unlinkSync(socket);
  return () => {
    for (const f of [socket, pid]) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Checks that a Unix socket can be made at `path`: at most 107 bytes (sun_path), and no file
 * that is not a socket in its place (a file the user put there is never replaced).
 * @throws StateError saying which.
 */
export function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path) > 107)
    throw new StateError(
      `the socket path "${path}" is ${Buffer.byteLength(path)} bytes: a Unix socket path has at most 107; use a shorter directory`,
    );
  if (existsSync(path) && !statSync(path).isSocket())
    throw new StateError(`"${path}" exists and is not a socket: will not replace it`);
}
