// The `net_id` builtin (systemd src/udev/udev-builtin-net_id.c) as pure functions: from what udev
// read about a device (NetFacts) to the ID_NET_NAME_* candidates. It renames nothing.
//
// Covered: the en/ib/sl prefix, stacked-device skip, names_mac, and names_pci's onboard (eno),
// slot (ens) and path (enp) names with the P<domain>, f<fn> and n<phys_port_name> / d<dev_port> /
// r<vf> (representor) rules, the hotplug-slot walk up parent bridges and the bridge rules of the
// naming schemes. Not covered (no such devices in the model): SR-IOV `v<N>` VF names, NPAR/ARI,
// onboard labels, USB, BCMA, CCW, VIO, platform, devicetree, netdevsim and Xen names.

import { type NamingScheme, namingSchemeHas } from "./naming-scheme.ts";
import type { NetFacts, PciFacts } from "./sysfs-facts.ts";

/** The properties net_id exports. Absent keys: that name could not be formed. */
export interface NetIdNames {
  readonly ID_NET_NAMING_SCHEME?: string;
  readonly ID_NET_NAME_MAC?: string;
  readonly ID_NET_NAME_ONBOARD?: string;
  readonly ID_NET_NAME_SLOT?: string;
  readonly ID_NET_NAME_PATH?: string;
}

/** How to run net_id. */
export interface NetIdOptions {
  readonly scheme: NamingScheme;
  /**
   * The ID_NET_NAME_ALLOW filter (udev v256): false for a net class attribute net_id must not read
   * (lower-case sysfs name, e.g. "phys_port_name"). Default: everything allowed.
   */
  readonly allow?: (attr: string) => boolean;
  /**
   * Look for a hotplug slot on the parent bridges when the function has none (systemd since v239;
   * 2013 udev only looked at the function itself). Default true.
   */
  readonly parentSlots?: boolean;
}

const ARPHRD_ETHER = 1;
const ARPHRD_SLIP = 256;
const ARPHRD_INFINIBAND = 32;
const NET_ADDR_PERM = 0;
const ONBOARD_14BIT_INDEX_MAX = (1 << 14) - 1;
const ONBOARD_16BIT_INDEX_MAX = (1 << 16) - 1;

/** The two-letter prefix for a device type, or null when net_id names nothing for it. */
export function netIdPrefix(type: number, scheme: NamingScheme): string | null {
  if (type === ARPHRD_ETHER) return "en";
  if (type === ARPHRD_INFINIBAND) return namingSchemeHas(scheme, "INFINIBAND") ? "ib" : null;
  if (type === ARPHRD_SLIP) return "sl";
  return null;
}

function allowed(o: NetIdOptions, attr: string): boolean {
  return o.allow ? o.allow(attr) : true;
}

/**
 * get_port_specifier(): `n<phys_port_name>` when the driver reports a non-empty phys_port_name
 * (`r<vf>` for a `pf%uvf%d` representor from v254), else `d<dev_port>` when dev_port > 0, else "".
 */
export function portSpecifier(f: NetFacts, o: NetIdOptions): string {
  const ppn = allowed(o, "phys_port_name") ? f.physPortName : null;
  if (ppn !== null && ppn !== "") {
    if (namingSchemeHas(o.scheme, "SR_IOV_R")) {
      const m = /^pf\d+vf(-?\d+)/.exec(ppn);
      if (m && Number(m[1]) >= 0) return `r${Number(m[1])}`;
    }
    return `n${ppn}`;
  }
  const port = allowed(o, "dev_port") ? f.devPort : null;
  return port !== null && port > 0 ? `d${port}` : "";
}

/** names_mac(): `<prefix>x<12 hex digits>` for a permanent (addr_assign_type 0) MAC. */
export function macName(f: NetFacts, o: NetIdOptions, prefix: string): string | undefined {
  if (f.type === ARPHRD_INFINIBAND) return undefined;
  const aat = allowed(o, "addr_assign_type") ? f.addrAssignType : null;
  if (aat !== NET_ADDR_PERM) return undefined;
  const addr = allowed(o, "address") ? f.address : null;
  if (addr === null) return undefined;
  const hex = macHex(addr);
  return hex === null ? undefined : `${prefix}x${hex}`;
}

/**
 * The 12 lower-case hex digits of a MAC written `xx:xx:xx:xx:xx:xx` (either case), or null when
 * it is written otherwise or is all zeros. Six `:`-separated pairs of hex digits are exactly 17
 * characters with the colons at 2, 5, 8, 11 and 14, so one pass over the characters decides it
 * without splitting (net_id runs at every udev event and every name an explorer asks for).
 */
function macHex(addr: string): string | null {
  const a = addr.toLowerCase();
  if (a.length !== 17) return null;
  let zero = true;
  for (let i = 0; i < 17; i++) {
    const c = a.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 0x3a) return null; // ":"
    } else if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) {
      if (c !== 0x30) zero = false; // "0"
    } else return null;
  }
  return zero ? null : a.replaceAll(":", "");
}

function validOnboardIndex(idx: number, scheme: NamingScheme): boolean {
  if (idx === 0 && !namingSchemeHas(scheme, "ZERO_ACPI_INDEX")) return false;
  const max = namingSchemeHas(scheme, "16BIT_INDEX")
    ? ONBOARD_16BIT_INDEX_MAX
    : ONBOARD_14BIT_INDEX_MAX;
  return idx >= 0 && idx <= max;
}

/** names_pci_onboard(): `<prefix>o<index>[port]` from the function's acpi_index. */
export function onboardName(
  f: NetFacts,
  pci: PciFacts,
  o: NetIdOptions,
  prefix: string,
): string | undefined {
  if (pci.acpiIndex === null || !validOnboardIndex(pci.acpiIndex, o.scheme)) return undefined;
  return `${prefix}o${pci.acpiIndex}${portSpecifier(f, o)}`;
}

/** get_pci_slot_specifiers(): ["P<domain>" or "", "p<bus>s<slot>", "f<fn>" or ""]. */
export function pciSlotSpecifiers(pci: PciFacts): [string, string, string] {
  return [
    pci.domain > 0 ? `P${pci.domain}` : "",
    `p${pci.bus}s${pci.slot}`,
    pci.func > 0 || pci.multifunction ? `f${pci.func}` : "",
  ];
}

/**
 * pci_get_hotplug_slot(): the slot of the function, or (from v239) of the nearest parent bridge
 * that has one, unless the naming scheme refuses a bridge's slot (v247: never; v251..v254: only
 * for multifunction devices). Null: no slot name.
 */
export function hotplugSlot(chain: readonly PciFacts[], o: NetIdOptions): number | null {
  const leaf = chain[0];
  if (!leaf) return null;
  for (const [i, fn] of chain.entries()) {
    if (i > 0 && o.parentSlots === false) break;
    if (fn.hotplugSlot === null || fn.hotplugSlot <= 0) continue;
    if (namingSchemeHas(o.scheme, "BRIDGE_NO_SLOT") && fn.bridge) {
      if (!namingSchemeHas(o.scheme, "BRIDGE_MULTIFUNCTION_SLOT")) return null;
      if (!leaf.multifunction) return null;
    }
    return fn.hotplugSlot;
  }
  return null;
}

/**
 * The whole builtin: the properties `IMPORT{builtin}="net_id"` adds for this device. Stacked
 * devices (ifindex != iflink) and types without a prefix get nothing.
 */
export function netId(f: NetFacts, o: NetIdOptions): NetIdNames {
  if (f.ifindex !== f.iflink) return {};
  const prefix = netIdPrefix(f.type, o.scheme);
  if (prefix === null) return {};
  const out: {
    ID_NET_NAMING_SCHEME: string;
    ID_NET_NAME_MAC?: string;
    ID_NET_NAME_ONBOARD?: string;
    ID_NET_NAME_SLOT?: string;
    ID_NET_NAME_PATH?: string;
  } = { ID_NET_NAMING_SCHEME: o.scheme };
  const mac = macName(f, o, prefix);
  if (mac !== undefined) out.ID_NET_NAME_MAC = mac;
  const pci = f.pci[0];
  if (pci) {
    const onboard = onboardName(f, pci, o, prefix);
    if (onboard !== undefined) out.ID_NET_NAME_ONBOARD = onboard;
    const [domain, busSlot, func] = pciSlotSpecifiers(pci);
    const port = portSpecifier(f, o);
    out.ID_NET_NAME_PATH = `${prefix}${domain}${busSlot}${func}${port}`;
    const slot = hotplugSlot(f.pci, o);
    if (slot !== null) out.ID_NET_NAME_SLOT = `${prefix}${domain}s${slot}${func}${port}`;
  }
  return out;
}
