// Replay tokens: everything needed to replay a counterexample (the scenario text, the
// configuration, the forced choices) as one JSON payload. This module is pure: the command line
// compresses the JSON and wraps it (`ifsim1.` + base64url(deflate-raw(JSON))), so a token is
// self-contained and `ifsim replay TOKEN` needs no file.
//
// Lanes in `choices` are compacted (kernel → k, udev/wN → uN, networkd → n, cloud-init → c,
// qemu → q, script → s, anything else → =lane) and runs of one lane are written `k*3`.

import { UdevGeneration } from "../scenario/schema.ts";
import type { ExploreConfig } from "./explore.ts";
import { INVARIANTS, type InvariantName, TIMINGS, type Timing } from "./scenario-system.ts";

/** The longest scenario a token may carry (characters), as for a scenario file (1 MiB). */
export const MAX_TOKEN_SCENARIO = 1024 * 1024;

/**
 * The most forced choices a token may carry: the work a replay does is one step per choice, and
 * a search never goes deeper than its --max-depth (default 2000).
 */
export const MAX_TOKEN_CHOICES = 100_000;

/** What every replay token starts with (the format version is part of it). */
export const TOKEN_PREFIX = "ifsim1.";

/** What a replay token carries. */
export interface ReplayPayload {
  /** Payload format version. */
  readonly v: 1;
  /** The scenario file's name as given on the command line (for messages only). */
  readonly file: string;
  /** The scenario file's text (YAML), parsed again on replay. */
  readonly scenario: string;
  /** The configuration the counterexample was found under (kernel, udev generation, …). */
  readonly config: ExploreConfig;
  /** The forced choices (full lane names), replayed by `replay()`. */
  readonly choices: readonly string[];
}

/** The outcome of reading a payload: the payload, or why it is not one. */
export type PayloadResult =
  | { readonly ok: true; readonly payload: ReplayPayload }
  | { readonly ok: false; readonly error: string };

const LANE_CODES: Readonly<Record<string, string>> = {
  kernel: "k",
  networkd: "n",
  "cloud-init": "c",
  qemu: "q",
  script: "s",
};
const CODE_LANES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(LANE_CODES).map(([l, c]) => [c, l]),
);

/** The short code of a lane (`udev/w3` → `u3`, `kernel` → `k`; an unknown lane → `=lane`). */
export function compactLane(lane: string): string {
  const code = LANE_CODES[lane];
  if (code !== undefined) return code;
  const m = /^udev\/w(\d+)$/.exec(lane);
  if (m) return `u${m[1]}`;
  return `=${lane}`;
}

/** The lane of a short code, or null when the code is not one `compactLane` writes. */
export function expandLane(code: string): string | null {
  const lane = CODE_LANES[code];
  if (lane !== undefined) return lane;
  const m = /^u(\d+)$/.exec(code);
  if (m) return `udev/w${m[1]}`;
  if (code.startsWith("=") && code.length > 1 && !code.includes("*")) return code.slice(1);
  return null;
}

/** Compacts choices: short lane codes, a run of n > 1 equal lanes as `code*n`. */
export function compactChoices(choices: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < choices.length; ) {
    const lane = choices[i] as string;
    let j = i + 1;
    while (j < choices.length && choices[j] === lane) j++;
    const code = compactLane(lane);
    out.push(j - i > 1 ? `${code}*${j - i}` : code);
    i = j;
  }
  return out;
}

/** Expands what `compactChoices` wrote, or returns null when an entry is not valid. */
export function expandChoices(codes: readonly string[]): string[] | null {
  const out: string[] = [];
  for (const c of codes) {
    const m = /^(.+?)(?:\*(\d+))?$/.exec(c);
    if (!m) return null;
    const lane = expandLane(m[1] as string);
    const n = m[2] === undefined ? 1 : Number(m[2]);
    if (lane === null || !Number.isSafeInteger(n) || n < 1 || out.length + n > MAX_TOKEN_CHOICES)
      return null;
    for (let i = 0; i < n; i++) out.push(lane);
  }
  return out;
}

/** The payload as JSON (choices compacted), with a fixed key order. */
export function payloadToJson(p: ReplayPayload): string {
  const c = p.config;
  const config: Record<string, unknown> = {};
  if (c.kernel !== undefined) config.kernel = c.kernel;
  if (c.udev !== undefined) config.udev = c.udev;
  if (c.seed !== undefined) config.seed = c.seed;
  if (c.invariants !== undefined) config.invariants = [...c.invariants];
  if (c.timing !== undefined) config.timing = c.timing;
  // Coarse steps are the default: a token says so only when they were off.
  if (c.atomic === false) config.atomic = false;
  return JSON.stringify({
    v: p.v,
    file: p.file,
    scenario: p.scenario,
    config,
    choices: compactChoices(p.choices),
  });
}

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** Reads a payload written by `payloadToJson`; never throws on bad input. */
export function payloadFromJson(text: string): PayloadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: "the payload is not JSON" };
  }
  if (!isObj(raw)) return { ok: false, error: "the payload is not a JSON object" };
  if (raw.v !== 1)
    return {
      ok: false,
      error: `unsupported payload version "${String(raw.v)}" (this ifsim reads 1)`,
    };
  if (typeof raw.file !== "string") return { ok: false, error: "the payload has no file name" };
  if (typeof raw.scenario !== "string") return { ok: false, error: "the payload has no scenario" };
  if (raw.scenario.length > MAX_TOKEN_SCENARIO)
    return {
      ok: false,
      error: `the payload's scenario is longer than ${MAX_TOKEN_SCENARIO} characters (the limit for a scenario)`,
    };
  if (!Array.isArray(raw.choices) || !raw.choices.every((x) => typeof x === "string"))
    return { ok: false, error: "the payload's choices are not a list of lanes" };
  const choices = expandChoices(raw.choices as string[]);
  if (choices === null)
    return {
      ok: false,
      error: `the payload's choices name unknown lanes or are more than ${MAX_TOKEN_CHOICES}`,
    };
  const c = raw.config;
  if (!isObj(c)) return { ok: false, error: "the payload has no configuration" };
  const config: {
    kernel?: string;
    udev?: string;
    seed?: number;
    invariants?: InvariantName[];
    timing?: Timing;
    atomic?: boolean;
  } = {};
  if (c.kernel !== undefined) {
    if (typeof c.kernel !== "string") return { ok: false, error: "config.kernel is not a string" };
    config.kernel = c.kernel;
  }
  if (c.udev !== undefined) {
    if (typeof c.udev !== "string") return { ok: false, error: "config.udev is not a string" };
    if (!(UdevGeneration.options as readonly string[]).includes(c.udev))
      return {
        ok: false,
        error: `unknown udev generation "${c.udev}" in config.udev (known: ${UdevGeneration.options.join(", ")})`,
      };
    config.udev = c.udev;
  }
  if (c.seed !== undefined) {
    if (typeof c.seed !== "number" || !Number.isSafeInteger(c.seed) || c.seed < 0)
      return { ok: false, error: "config.seed is not a non-negative integer" };
    config.seed = c.seed;
  }
  if (c.invariants !== undefined) {
    if (!Array.isArray(c.invariants))
      return { ok: false, error: "config.invariants is not a list" };
    const bad = c.invariants.find((x) => typeof x !== "string" || !Object.hasOwn(INVARIANTS, x));
    if (bad !== undefined) return { ok: false, error: `unknown invariant "${String(bad)}"` };
    config.invariants = c.invariants as InvariantName[];
  }
  if (c.timing !== undefined) {
    if (!TIMINGS.includes(c.timing as Timing))
      return { ok: false, error: 'config.timing is not "any", "strict" or "free"' };
    config.timing = c.timing as Timing;
  }
  if (c.atomic !== undefined) {
    if (typeof c.atomic !== "boolean")
      return { ok: false, error: "config.atomic is not a boolean" };
    config.atomic = c.atomic;
  }
  return { ok: true, payload: { v: 1, file: raw.file, scenario: raw.scenario, config, choices } };
}
