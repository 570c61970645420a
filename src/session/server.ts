// The model server: one session (the model, or the qemu guest of `ifsim exec --backend qemu`)
// behind a private Unix socket. Frames are length-prefixed JSON (protocol.ts); a request is
// handled only once its whole frame has arrived, and one call runs whole before the next starts
// (one queue for all connections), so each call is atomic and calls are serialised in arrival
// order, as RTNL serialises them. Bad input gets an error answer and the connection is closed;
// the session is never touched by it.

import { chmodSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { resolve } from "node:path";
import { type IpResult, parseIpGlobalArgs } from "../ip/index.ts";
import type { Journal } from "./journal.ts";
import type { SessionCall } from "./model-session.ts";
import {
  type BatchInput,
  encodeFrame,
  FrameReader,
  parseRequest,
  type SessionRequest,
  type SessionResponse,
} from "./protocol.ts";

/** What a server serves: the model (answers at once) or a real guest (answers later). */
export interface CallTarget {
  call(c: SessionCall): IpResult | Promise<IpResult>;
}

/** Options of a SessionServer. */
export interface SessionServerOptions {
  /** Where to listen (its directory should be private: mode 0700). */
  readonly socketPath: string;
  readonly session: CallTarget;
  /** Where each call goes before it is answered (`ifsim serve --state`), or null. */
  readonly journal: Journal | null;
  /** Told about every failure that is not the client's (a bug in the model). */
  readonly onInternalError?: (e: unknown) => void;
}

/** The model server. `listen` starts it; `close` stops it and removes the socket. */
export class SessionServer {
  readonly #o: SessionServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Every answer waits for the one before it (of any connection): one call at a time. */
  #queue: Promise<void> = Promise.resolve();
  /** Calls answered (for tests and the exit summary). */
  handled = 0;

  private constructor(o: SessionServerOptions) {
    this.#o = o;
    this.#server = createServer((s) => this.#connection(s));
  }

  /** Starts listening; the socket is made mode 0600 before the promise resolves. */
  static listen(o: SessionServerOptions): Promise<SessionServer> {
    const srv = new SessionServer(o);
    return new Promise((res, rej) => {
      srv.#server.once("error", rej);
      srv.#server.listen(o.socketPath, () => {
        srv.#server.off("error", rej);
        chmodSync(o.socketPath, 0o600);
        res(srv);
      });
    });
  }

  /** Stops accepting, drops open connections, removes the socket file. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((res) => this.#server.close(() => res()));
  }

  #connection(sock: Socket): void {
    this.#sockets.add(sock);
    const reader = new FrameReader();
    let dead = false;
    sock.on("close", () => this.#sockets.delete(sock));
    // A client that dies mid-call: its partial frame is dropped, a finished call stays done.
    sock.on("error", () => {});
    sock.on("data", (chunk) => {
      if (dead) return;
      const r = reader.push(chunk);
      const frames = "error" in r ? [] : r.frames;
      for (const f of frames) {
        const req = parseRequest(f);
        if ("error" in req) {
          dead = true;
          this.#enqueue(() => {
            this.#send(sock, { ok: false, error: req.error });
            sock.end();
          });
          return;
        }
        this.#enqueue(async () => this.#send(sock, await this.#handle(req)));
      }
      if ("error" in r) {
        dead = true;
        this.#enqueue(() => {
          this.#send(sock, { ok: false, error: r.error });
          sock.end();
        });
      }
    });
  }

  /** Runs `job` after every job queued before it (a failing job does not stop the queue). */
  #enqueue(job: () => void | Promise<void>): void {
    this.#queue = this.#queue.then(job).catch((e: unknown) => this.#o.onInternalError?.(e));
  }

  /** Resolves once every call queued so far has been answered. */
  idle(): Promise<void> {
    return this.#queue;
  }

  #send(sock: Socket, resp: SessionResponse): void {
    if (sock.destroyed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(resp);
    } catch (e) {
      frame = encodeFrame({ ok: false, error: `the answer is too large: ${(e as Error).message}` });
    }
    sock.write(frame);
  }

  /**
   * Resolves, journals, runs and answers one call. The journal comes first (write-ahead): a call
   * that cannot be journaled is not run, so the model never holds a call a restart would lose.
   */
  async #handle(req: SessionRequest): Promise<SessionResponse> {
    if (req.op === "ping") return { ok: true, stdout: "", stderr: "", status: 0, chunks: [] };
    const call: SessionCall =
      req.op === "hv"
        ? { op: "hv", argv: req.argv }
        : { op: "ip", argv: req.argv, input: batchInput(req) };
    try {
      this.#o.journal?.append(call);
    } catch (e) {
      return {
        ok: false,
        error: `cannot journal the call, so it was not run: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      };
    }
    let r: IpResult;
    try {
      r = await this.#o.session.call(call);
    } catch (e) {
      // A bug in the model (or the guest failed). It stays journaled: a replay runs it again and
      // reaches the same state.
      this.#o.onInternalError?.(e);
      return {
        ok: false,
        error: `internal error in the session (a bug in ifsim, or the guest failed): ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    this.handled++;
    return { ok: true, stdout: r.stdout, stderr: r.stderr, status: r.status, chunks: r.chunks };
  }
}

/** glibc's strerror texts for what opening a batch file can fail with. */
const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  EIO: "Input/output error",
};

/** The batch file an `ip` call names, read where the client runs (its cwd), or null. */
function batchInput(req: Extract<SessionRequest, { op: "ip" }>): BatchInput | null {
  const g = parseIpGlobalArgs(req.argv);
  if ("error" in g || g.batchFile === null) return null;
  if (g.batchFile === "-") return { kind: "text", text: req.stdin ?? "" };
  const path = resolve(req.cwd ?? process.cwd(), g.batchFile);
  try {
    if (statSync(path).isDirectory()) return { kind: "dir" };
    return { kind: "text", text: readFileSync(path, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    return { kind: "error", text: FILE_ERRORS[code] ?? code };
  }
}

/** Replays a journal into a freshly booted session (outputs are dropped; a model bug is too). */
export function replayCalls(
  session: { call(c: SessionCall): IpResult },
  calls: readonly SessionCall[],
): void {
  for (const c of calls) {
    try {
      session.call(c);
    } catch {
      // it threw when it first ran too: the same state follows
    }
  }
}
