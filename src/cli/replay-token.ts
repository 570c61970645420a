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
