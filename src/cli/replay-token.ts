// Replay tokens on the command line: the payload is src/explore/token.ts; compression happens
// here (`ifsim1.` + base64url(deflate-raw(payload JSON))).

import { deflateRawSync, inflateRawSync } from "node:zlib";
import {
  MAX_TOKEN_SCENARIO,
  payloadFromJson,
  payloadToJson,
  type ReplayPayload,
  TOKEN_PREFIX,
} from "../explore/token.ts";

/** `ifsim1.` + base64url(deflate-raw(payload JSON)). */
export function encodeToken(p: ReplayPayload): string {
  return TOKEN_PREFIX + deflateRawSync(Buffer.from(payloadToJson(p), "utf8")).toString("base64url");
}

/** Reads a token; never throws on bad input. */
export function decodeToken(
  token: string,
): { ok: true; payload: ReplayPayload } | { ok: false; error: string } {
  const t = token.trim();
  if (!t.startsWith(TOKEN_PREFIX))
    return {
      ok: false,
      error: `"${t.length > 24 ? `${t.slice(0, 24)}…` : t}" is not a replay token (a token starts with "${TOKEN_PREFIX}")`,
    };
  const body = t.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body))
    return {
      ok: false,
      error: "the replay token is damaged: it is not base64url after the prefix",
    };
  let json: string;
  try {
    json = inflateRawSync(Buffer.from(body, "base64url"), {
      // The payload: a scenario of at most MAX_TOKEN_SCENARIO characters (JSON-escaped: up to
      // 6 bytes each) and its choices.
      maxOutputLength: 8 * MAX_TOKEN_SCENARIO,
    }).toString("utf8");
  } catch {
    return { ok: false, error: "the replay token is damaged: it does not decompress" };
  }
  const r = payloadFromJson(json);
  return r.ok ? r : { ok: false, error: `the replay token is damaged: ${r.error}` };
}

/** One counterexample in a trace file: its cell and its token. */
export interface TraceEntry {
  readonly kernel: string;
  /** "none" for a scenario without udev. */
  readonly udev: string;
  readonly what: string;
  readonly token: string;
}

/**
 * The text of a trace file (`ifsim explore --trace-out`): comment lines, then per counterexample
 * a `# kernel K, udev U: what` line and its token on the next line.
 */
export function formatTraceFile(
  head: { readonly scenario: string; readonly file: string; readonly path: string },
  entries: readonly TraceEntry[],
): string {
  let s = `# ifsim explore counterexamples: ${head.scenario} (${head.file})\n`;
  s += `# replay one with: ifsim replay ${head.path}${entries.length > 1 ? " --cell KERNEL/UDEV" : ""}\n`;
  for (const e of entries) s += `#\n# kernel ${e.kernel}, udev ${e.udev}: ${e.what}\n${e.token}\n`;
  return s;
}

/** Reads a trace file's entries (a bare token line without its comment counts, cell unknown). */
export function parseTraceFile(text: string): TraceEntry[] {
  const out: TraceEntry[] = [];
  let cell: { kernel: string; udev: string; what: string } | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const m = /^# kernel (\S+), udev (\S+): (.*)$/.exec(line);
    if (m) cell = { kernel: m[1] as string, udev: m[2] as string, what: m[3] as string };
    else if (line.startsWith(TOKEN_PREFIX)) {
      out.push({ ...(cell ?? { kernel: "?", udev: "?", what: "" }), token: line });
      cell = null;
    }
  }
  return out;
}
