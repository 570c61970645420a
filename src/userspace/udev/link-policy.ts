// The `net_setup_link` builtin's name choice (systemd src/udev/net/link-config.c): the first
// matching .link file's NamePolicy= is walked in order and the first policy that yields a name
// becomes ID_NET_NAME; Name= is the fallback. It renames nothing itself: udevd renames on `add`.

import { globMatches } from "../glob.ts";
import { type NamingScheme, namingSchemeHas } from "./naming-scheme.ts";
import type { NetIdNames } from "./net-id.ts";
import { type NetMatch, netMatchConfig } from "./net-match.ts";
import type { NetFacts } from "./sysfs-facts.ts";

/** A NamePolicy= entry. */
export type NamePolicy = "keep" | "kernel" | "database" | "onboard" | "slot" | "path" | "mac";

/** An AlternativeNamesPolicy= entry. */
export type AltNamePolicy = "database" | "onboard" | "slot" | "path" | "mac";

/** 99-default.link's NamePolicy= in recent systemd. */
export const DEFAULT_NAME_POLICY: readonly NamePolicy[] = [
  "keep",
  "kernel",
  "database",
  "onboard",
  "slot",
  "path",
];

/** [Match] of a .link file. Every given key must match; globs as in fnmatch. */
export interface LinkMatch {
  /** OriginalName=: glob on the kernel name the device had when the event was sent. */
  readonly originalName?: string;
  /** MACAddress= (lower-case, colon-separated). */
  readonly macAddress?: string;
  /** Driver=: glob on ID_NET_DRIVER. */
  readonly driver?: string;
  /** Path=: glob on ID_PATH ("pci-0000:00:03.0"). */
  readonly path?: string;
}

/** One .link file. */
export interface LinkFile {
  /** File name, for logs ("99-default.link"). */
  readonly file: string;
  /** Where it lives ("/etc/systemd/network/10-lan.link"): ID_NET_LINK_FILE. Default: `file`. */
  readonly path?: string;
  /** The simple [Match] (one glob per key). */
  readonly match?: LinkMatch;
  /** The full [Match] as systemd parses it (link-config.ts); when given, `match` is not used. */
  readonly netMatch?: NetMatch;
  /** NamePolicy=; empty or absent: no policy. */
  readonly namePolicy?: readonly NamePolicy[];
  /** Name=. */
  readonly name?: string;
  /** AlternativeNamesPolicy=. */
  readonly alternativeNamesPolicy?: readonly AltNamePolicy[];
  /** AlternativeName=. */
  readonly alternativeNames?: readonly string[];
  /** MACAddressPolicy= (not modelled: no modelled NIC has a random address). */
  readonly macAddressPolicy?: string;
}

/** /usr/lib/systemd/network/99-default.link. */
export const DEFAULT_LINK_FILE: LinkFile = {
  file: "99-default.link",
  match: { originalName: "*" },
  namePolicy: DEFAULT_NAME_POLICY,
};

/** The `database` policy's source: names per permanent MAC or per ID_PATH / PCI address. */
export interface NameDatabase {
  /** "52:54:00:00:12:53" → name. */
  readonly byMac?: Readonly<Record<string, string>>;
  /** "pci-0000:00:03.0" or "0000:00:03.0" → name. */
  readonly byPath?: Readonly<Record<string, string>>;
}

/** ID_PATH from the `path_id` builtin: "pci-<addr>" for a device on PCI (virtio skipped). */
export function idPath(f: NetFacts): string | undefined {
  const pci = f.pci[0];
  return pci ? `pci-${pci.addr}` : undefined;
}

/** ID_NET_NAME_FROM_DATABASE for this device, if the database names it (MAC first). */
export function databaseName(db: NameDatabase, f: NetFacts): string | undefined {
  const mac = f.address?.toLowerCase();
  const byMac = mac !== undefined ? db.byMac?.[mac] : undefined;
  if (byMac !== undefined) return byMac;
  const pci = f.pci[0];
  if (!pci) return undefined;
  return db.byPath?.[`pci-${pci.addr}`] ?? db.byPath?.[pci.addr];
}

function glob(pattern: string, s: string | undefined): boolean {
  return s !== undefined && globMatches(pattern, s, "star");
}

/** link_get_type_string(): the [Match] Type= of a device ("ether", "loopback"). */
export function linkTypeString(type: number): string | null {
  if (type === 1) return "ether";
  if (type === 772) return "loopback";
  return null;
}

/**
 * The first .link file whose [Match] matches (files are given in lexical/priority order).
 * `properties` are the device's udev properties so far (Property=).
 */
export function matchLinkFile(
  files: readonly LinkFile[],
  f: NetFacts,
  originalName: string,
  properties: Readonly<Record<string, string>> = {},
): LinkFile | null {
  for (const file of files) {
    if (file.netMatch) {
      const ok = netMatchConfig(file.netMatch, {
        name: originalName,
        mac: f.address,
        permanentMac: f.permAddress ?? null,
        path: idPath(f),
        driver: f.driver,
        type: linkTypeString(f.type),
        kind: f.kind ?? null,
        properties,
      });
      if (ok) return file;
      continue;
    }
    const m = file.match ?? {};
    if (m.originalName !== undefined && !glob(m.originalName, originalName)) continue;
    if (m.macAddress !== undefined && m.macAddress.toLowerCase() !== f.address?.toLowerCase())
      continue;
    if (m.driver !== undefined && !glob(m.driver, f.driver ?? undefined)) continue;
    if (m.path !== undefined && !glob(m.path, idPath(f))) continue;
    return file;
  }
  return null;
}

/**
 * ifname_valid(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace, not all digits.
 */
export function ifnameValid(name: string): boolean {
  if (name.length === 0 || name.length > 15) return false;
  if (name === "." || name === "..") return false;
  if (/[/:\s]/.test(name)) return false;
  if (/^[0-9]+$/.test(name)) return false;
  return true;
}

/** What the policy walk decided. */
export interface NameChoice {
  /** The name to rename to (ID_NET_NAME), or null: leave the device alone. */
  readonly name: string | null;
  /** The policy that gave (or refused) the name; "Name=" for the fallback; null if none. */
  readonly policy: NamePolicy | "Name=" | null;
  /** udev's debug lines for the walk. */
  readonly log: readonly string[];
}

/** Inputs to the policy walk. */
export interface ChooseNameInput {
  readonly link: LinkFile;
  readonly names: NetIdNames;
  /** ID_NET_NAME_FROM_DATABASE. */
  readonly database?: string | undefined;
  /** name_assign_type, or null when unreadable (NET_NAME_UNKNOWN). */
  readonly nameAssignType: number | null;
  readonly scheme: NamingScheme;
  /** net.ifnames=0 turns NamePolicy= off (Name= still applies). Default true. */
  readonly enableNamePolicy?: boolean;
}

const NET_NAME_PREDICTABLE = 2;
const NET_NAME_USER = 3;
const NET_NAME_RENAMED = 4;

function candidate(p: NamePolicy, i: ChooseNameInput): string | undefined {
  switch (p) {
    case "database":
      return i.database;
    case "onboard":
      return i.names.ID_NET_NAME_ONBOARD;
    case "slot":
      return i.names.ID_NET_NAME_SLOT;
    case "path":
      return i.names.ID_NET_NAME_PATH;
    case "mac":
      return i.names.ID_NET_NAME_MAC;
    default:
      return undefined;
  }
}

/**
 * The NamePolicy= walk (link_generate_new_name). From naming scheme v240 (ALLOW_RERENAMES) it
 * is ordered: `kernel` keeps a NET_NAME_PREDICTABLE name, `keep` keeps a NET_NAME_USER /
 * NET_NAME_RENAMED one, the others yield their ID_NET_NAME_* (names that fail ifname_valid are
 * skipped). Before v240 (should_rename()): a userspace-named device is never renamed, and
 * `kernel` anywhere in the list keeps a predictable kernel name.
 */
export function chooseName(i: ChooseNameInput): NameChoice {
  const log: string[] = [];
  const policies = i.link.namePolicy ?? [];
  const nat = i.nameAssignType;
  const fallback = (): NameChoice => {
    if (i.link.name !== undefined) {
      log.push(`Policies didn't yield a name, using specified Name=${i.link.name}.`);
      return { name: i.link.name, policy: "Name=", log };
    }
    log.push("Policies didn't yield a name and Name= is not given, not renaming.");
    return { name: null, policy: null, log };
  };
  if (!namingSchemeHas(i.scheme, "ALLOW_RERENAMES")) {
    if (nat === NET_NAME_USER || nat === NET_NAME_RENAMED) {
      log.push("Device already has a name given by userspace, not renaming.");
      return { name: null, policy: null, log };
    }
    if (nat === NET_NAME_PREDICTABLE && policies.includes("kernel")) {
      log.push("Policy *kernel*: keeping predictable kernel name");
      return { name: null, policy: "kernel", log };
    }
  }
  if (i.enableNamePolicy === false) return fallback();
  const rerenames = namingSchemeHas(i.scheme, "ALLOW_RERENAMES");
  for (const p of policies) {
    if (p === "kernel") {
      if (!rerenames || nat !== NET_NAME_PREDICTABLE) continue;
      log.push("Policy *kernel*: keeping predictable kernel name");
      return { name: null, policy: "kernel", log };
    }
    if (p === "keep") {
      if (!rerenames || (nat !== NET_NAME_USER && nat !== NET_NAME_RENAMED)) continue;
      log.push("Policy *keep*: keeping existing userspace name");
      return { name: null, policy: "keep", log };
    }
    const name = candidate(p, i);
    if (name === undefined) continue;
    if (!ifnameValid(name)) {
      log.push(`Policy *${p}* yields invalid name "${name}", ignoring.`);
      continue;
    }
    log.push(`Policy *${p}* yields "${name}".`);
    return { name, policy: p, log };
  }
  return fallback();
}
