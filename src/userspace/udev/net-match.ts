// net_match_config() of systemd 252 (src/shared/net-condition.c): how a .link file's [Match]
// tests a device. Every non-empty list must match; a glob list matches when no `!` glob matches
// and, if it has positive globs, one of them does.

import { compileGlob, type Glob, type GlobError, globTest } from "../glob.ts";

/** [Match] as net_match_config() tests it: every non-empty list must match. */
export interface NetMatch {
  /** MACAddress=: the current address is one of these (lower-case). */
  readonly mac?: readonly string[];
  /** PermanentMACAddress=: the permanent address (ETHTOOL_GPERMADDR) is one of these. */
  readonly permanentMac?: readonly string[];
  /** OriginalName=: globs on the name the device has when the event is processed. */
  readonly originalName?: readonly string[];
  /** Path=: globs on ID_PATH. */
  readonly path?: readonly string[];
  /** Driver=: globs on ID_NET_DRIVER. */
  readonly driver?: readonly string[];
  /** Type=: globs on the link type ("ether", "loopback"). */
  readonly type?: readonly string[];
  /** Kind=: globs on the rtnl link kind ("veth"); devices without one never match a positive glob. */
  readonly kind?: readonly string[];
  /** Property=: "KEY=glob" on the device's udev properties. */
  readonly property?: readonly string[];
}

/** What a device offers to [Match]. */
export interface MatchSubject {
  readonly name: string;
  readonly mac: string | null;
  readonly permanentMac: string | null;
  readonly path: string | undefined;
  readonly driver: string | null;
  readonly type: string | null;
  readonly kind: string | null;
  readonly properties: Readonly<Record<string, string>>;
}

const globCache = new Map<string, Glob | GlobError>();
function fnmatch(pattern: string, s: string): boolean {
  let g = globCache.get(pattern);
  if (!g) {
    g = compileGlob(pattern);
    globCache.set(pattern, g);
  }
  return !("error" in g) && globTest(g, s);
}

/** net_condition_test_strv(): a `!` glob that matches refuses; else some positive glob must match. */
export function netConditionTestStrv(
  patterns: readonly string[] | undefined,
  s: string | null | undefined,
): boolean {
  if (!patterns || patterns.length === 0) return true;
  let match = false;
  let positive = false;
  for (const p of patterns) {
    const invert = p.startsWith("!");
    const q = invert ? p.slice(1) : p;
    if (!invert) positive = true;
    if (s !== null && s !== undefined && fnmatch(q, s)) {
      if (invert) return false;
      match = true;
    }
  }
  return positive ? match : true;
}

function macIn(list: readonly string[] | undefined, mac: string | null): boolean {
  if (!list || list.length === 0) return true;
  if (mac === null) return false;
  const m = mac.toLowerCase();
  return list.includes(m);
}

/** net_match_config() of systemd 252 for a .link [Match]. */
export function netMatchConfig(m: NetMatch, s: MatchSubject): boolean {
  if (!macIn(m.mac, s.mac)) return false;
  if (m.permanentMac && m.permanentMac.length > 0) {
    if (s.permanentMac === null || s.permanentMac === "00:00:00:00:00:00") return false;
    if (!macIn(m.permanentMac, s.permanentMac)) return false;
  }
  if (!netConditionTestStrv(m.path, s.path)) return false;
  if (!netConditionTestStrv(m.driver, s.driver)) return false;
  if (!netConditionTestStrv(m.type, s.type)) return false;
  if (!netConditionTestStrv(m.kind, s.kind)) return false;
  if (!netConditionTestStrv(m.originalName, s.name)) return false;
  for (const p of m.property ?? []) {
    const invert = p.startsWith("!");
    const body = invert ? p.slice(1) : p;
    const eq = body.indexOf("=");
    const v = s.properties[body.slice(0, eq)];
    const hit = v !== undefined && fnmatch(body.slice(eq + 1), v);
    if (invert ? hit : !hit) return false;
  }
  return true;
}
