// A small QMP client (QEMU Machine Protocol: one JSON object per line over a unix socket).

import type { Socket } from "node:net";

/** A QMP event. */
export interface QmpEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
  readonly timestamp?: { seconds: number; microseconds: number };
}

/** A reply: `return` or `error`. */
export interface QmpReply {
  readonly return?: unknown;
  readonly error?: { class: string; desc: string };
}

/** One line of the transcript (for diagnostics). */
export interface QmpLogEntry {
  readonly ms: number;
  readonly dir: "send" | "reply" | "event";
  readonly msg: unknown;
}

export class Qmp {
  readonly #sock: Socket;
  readonly #t0: number;
  #buf = "";
  readonly #pending: ((r: QmpReply) => void)[] = [];
  readonly #waiters: { match: (e: QmpEvent) => boolean; resolve: (e: QmpEvent | null) => void }[] =
    [];
  /** Every event so far. */
  readonly events: QmpEvent[] = [];
  readonly log: QmpLogEntry[] = [];

  constructor(sock: Socket, t0: number) {
    this.#sock = sock;
    this.#t0 = t0;
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      this.#buf += d;
      for (let i = this.#buf.indexOf("\n"); i >= 0; i = this.#buf.indexOf("\n")) {
        const line = this.#buf.slice(0, i).trim();
        this.#buf = this.#buf.slice(i + 1);
        if (line) this.#onLine(line);
      }
    });
  }

  #onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if ("QMP" in msg) return;
    const ms = Date.now() - this.#t0;
    if (typeof msg.event === "string") {
      const ev = msg as unknown as QmpEvent;
      this.events.push(ev);
      this.log.push({ ms, dir: "event", msg });
      for (const w of [...this.#waiters])
        if (w.match(ev)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(ev);
        }
      return;
    }
    this.log.push({ ms, dir: "reply", msg });
    this.#pending.shift()?.(msg as QmpReply);
  }

  /** Sends a command; resolves with its reply. */
  cmd(execute: string, args?: Record<string, unknown>): Promise<QmpReply> {
    const m = args ? { execute, arguments: args } : { execute };
    this.log.push({ ms: Date.now() - this.#t0, dir: "send", msg: m });
    return new Promise((resolve) => {
      this.#pending.push(resolve);
      this.#sock.write(`${JSON.stringify(m)}\n`);
    });
  }

  /** Sends a command and throws on an error reply. */
  async ok(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const r = await this.cmd(execute, args);
    if (r.error) throw new Error(`QMP ${execute}: ${r.error.desc}`);
    return r.return;
  }

  /**
   * Resolves with the first event (from now on, or already seen when `past`) that matches, or
   * null after `ms`.
   */
  waitEvent(match: (e: QmpEvent) => boolean, ms: number, past = false): Promise<QmpEvent | null> {
    if (past) {
      const seen = this.events.find(match);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve) => {
      const w = { match, resolve };
      this.#waiters.push(w);
      setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          resolve(null);
        }
      }, ms).unref();
    });
  }

  close(): void {
    this.#sock.destroy();
  }
}
