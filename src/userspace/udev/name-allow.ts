// udev v256's ID_NET_NAME_ALLOW / ID_NET_NAME_ALLOW_<ATTR> (systemd PR #30397): hwdb entries,
// looked up by the ethtool driver name, that allow or deny the sysfs attributes net_id may read.
// The man page's example denies PHYS_PORT_NAME for `net:naming:drvirtio_net:*`.
//
// The lookup key is modelled as `net:naming:dr<ID_NET_DRIVER>:` (inference: the exact key
// 75-net-description.rules builds was not checked; this one matches all published patterns:
// "net:naming:*", "net:naming:*:*" and "net:naming:drvirtio_net:*").

import { globMatches } from "../glob.ts";

/**
 * hwdb entries: pattern → properties. Property keys may be given in full
 * ("ID_NET_NAME_ALLOW_PHYS_PORT_NAME") or as the attribute alone ("PHYS_PORT_NAME");
 * "ID_NET_NAME_ALLOW" (or "ALLOW") sets the default for attributes not listed.
 */
export type NameAllowDb = Readonly<Record<string, Readonly<Record<string, boolean>>>>;

/** fnmatch(3) without flags: `*`, `?`, `[...]` (with `!` negation and ranges) and `\\` escapes. */
export function fnmatch(pattern: string, s: string): boolean {
  return globMatches(pattern, s, "fnmatch");
}

/** The hwdb key for a device's naming entries. */
export function nameAllowKey(driver: string): string {
  return `net:naming:dr${driver}:`;
}

/**
 * `IMPORT{builtin}="hwdb 'net:naming:dr$env{ID_NET_DRIVER}…'"`: the ID_NET_NAME_ALLOW*
 * properties of every matching entry, in entry order (later entries override earlier ones).
 */
export function hwdbNameAllow(db: NameAllowDb, driver: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (driver === null) return out;
  const key = nameAllowKey(driver);
  for (const [pattern, props] of Object.entries(db)) {
    if (!fnmatch(pattern, key)) continue;
    for (const [k, v] of Object.entries(props)) {
      const bare = k.replace(/^ID_NET_NAME_ALLOW_?/, "");
      const prop =
        bare === "" || bare === "ALLOW"
          ? "ID_NET_NAME_ALLOW"
          : `ID_NET_NAME_ALLOW_${bare.toUpperCase()}`;
      out[prop] = v ? "1" : "0";
    }
  }
  return out;
}

/**
 * naming_sysattr_allowed(): may net_id read this attribute, given the device's properties?
 * ID_NET_NAME_ALLOW_<ATTR> decides, else ID_NET_NAME_ALLOW, else yes.
 */
export function namingSysattrAllowed(
  props: Readonly<Record<string, string>>,
  attr: string,
): boolean {
  const own = props[`ID_NET_NAME_ALLOW_${attr.toUpperCase()}`];
  if (own !== undefined) return own === "1";
  const dflt = props.ID_NET_NAME_ALLOW;
  return dflt === undefined ? true : dflt === "1";
}
