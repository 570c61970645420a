// The model server's wire format: frames of a 4-byte big-endian length and that many bytes of
// UTF-8 JSON. One request frame, one response frame; a connection may carry several in turn.

/** Protocol version every request carries (`v`). */
export const PROTOCOL_VERSION = 1;

/** The largest frame either side accepts, bytes (a -batch file travels inside a request). */
export const MAX_FRAME = 16 * 1024 * 1024;

/** How a batch file named on an `ip` command line looked to the client. */
export type BatchInput =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "dir" }
  | { readonly kind: "error"; readonly text: string };

/** What a client asks the server. */
export type SessionRequest =
  | {
      readonly v: 1;
      readonly op: "ip";
      readonly argv: readonly string[];
      /** The client's working directory: a relative `-batch FILE` is read from there. */
      readonly cwd?: string;
      /** Standard input, sent when the command line reads it (`-batch -`). */
      readonly stdin?: string;
    }
  | { readonly v: 1; readonly op: "hv"; readonly argv: readonly string[] }
  | { readonly v: 1; readonly op: "ping" };

/** What the server answers: the output of the call, or why it refused the request. */
export type SessionResponse =
  | {
      readonly ok: true;
      readonly stdout: string;
      readonly stderr: string;
      readonly status: number;
      /** stdout (1) and stderr (2) writes in the order the command made them. */
      readonly chunks: readonly { readonly fd: 1 | 2; readonly text: string }[];
    }
  | { readonly ok: false; readonly error: string };

/** Encodes one value as a frame. @throws RangeError when it is larger than MAX_FRAME. */
export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  if (body.length > MAX_FRAME)
    throw new RangeError(`Cannot send a frame of ${body.length} bytes: the limit is ${MAX_FRAME}`);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** What FrameReader.push found: whole frames' values, or the error that ends the connection. */
export type FrameResult = { readonly frames: unknown[] } | { readonly error: string };

/**
 * Reassembles frames from a byte stream. A length above MAX_FRAME or a body that is not JSON is
 * an error (the connection cannot be resynchronised after it); a partial frame waits for more.
 */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  /** Bytes received that do not yet make a whole frame. */
  get pending(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): FrameResult {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: unknown[] = [];
    for (;;) {
      if (this.#buf.length < 4) return { frames };
      const len = this.#buf.readUInt32BE(0);
      if (len > MAX_FRAME)
        return { error: `frame of ${len} bytes announced: the limit is ${MAX_FRAME}` };
      if (this.#buf.length < 4 + len) return { frames };
      const body = this.#buf.subarray(4, 4 + len);
      this.#buf = this.#buf.subarray(4 + len);
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      } catch (e) {
        return { error: `frame is not UTF-8 JSON: ${(e as Error).message}` };
      }
      frames.push(value);
    }
  }
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === "string");
}

/** Checks a decoded frame's shape: the request, or why it is not one. */
export function parseRequest(x: unknown): SessionRequest | { error: string } {
  if (typeof x !== "object" || x === null || Array.isArray(x))
    return { error: "request is not a JSON object" };
  const o = x as Record<string, unknown>;
  if (o.v !== PROTOCOL_VERSION)
    return { error: `request has protocol version ${JSON.stringify(o.v)}, expected 1` };
  const keys = Object.keys(o);
  const allow = (names: string[]): { error: string } | null => {
    const extra = keys.filter((k) => !names.includes(k));
    return extra.length > 0 ? { error: `request has unknown field "${extra[0]}"` } : null;
  };
  if (o.op === "ping") return allow(["v", "op"]) ?? { v: 1, op: "ping" };
  if (o.op !== "ip" && o.op !== "hv")
    return { error: `request has unknown op ${JSON.stringify(o.op)} (known: ip, hv, ping)` };
  if (!isStringArray(o.argv)) return { error: "request argv is not a list of strings" };
  if (o.argv.some((a) => a.includes("\0")))
    return { error: "request argv holds a NUL byte, which no command line can" };
  if (o.op === "hv") return allow(["v", "op", "argv"]) ?? { v: 1, op: "hv", argv: o.argv };
  const bad = allow(["v", "op", "argv", "cwd", "stdin"]);
  if (bad) return bad;
  if (o.cwd !== undefined && typeof o.cwd !== "string")
    return { error: "request cwd is not a string" };
  if (o.stdin !== undefined && typeof o.stdin !== "string")
    return { error: "request stdin is not a string" };
  return {
    v: 1,
    op: "ip",
    argv: o.argv,
    ...(o.cwd !== undefined ? { cwd: o.cwd as string } : {}),
    ...(o.stdin !== undefined ? { stdin: o.stdin as string } : {}),
  };
}
