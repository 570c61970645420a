// net/core/dev.c: the device registry, names, rename, open/close, flags, MTU and address,
// registration, upper/lower links and rx handlers. The core never names a driver: drivers
// and subsystems hook in through the registry and the notifier chain.

import { sharedConstant } from "../sim/clone.ts";
import { isAscii, utf8Length } from "../sim/utf8.ts";
import { err, type KRet, type NegErrno } from "./errno.ts";
import { bugOn, driverOf, type ExtAck, type Kernel, KernelBug, klog, warnOn } from "./kernel.ts";
import { uevent } from "./kobject-uevent.ts";
import { linkwatchForgetDev, linkwatchInitDev } from "./link-watch.ts";
import { UnitSet } from "./name-units.ts";
import {
  ALTIFNAMSIZ,
  ARPHRD,
  IF_OPER,
  IFF,
  IFF_PRIV,
  IFNAMSIZ,
  type NameAssignType,
  NET_ADDR,
  NET_NAME,
  type NetDevice,
  NO_ADJACENCY,
  NO_NAMES,
  NO_PRIV,
  ZERO_CORE_STATS,
  ZERO_STATS,
} from "./netdevice.ts";
import { callNetdeviceNotifiers, notifierToErrno } from "./notifier.ts";
import { rtmsgIfinfo, rtnlFillForNotify } from "./rtnl-msg.ts";
import { devActivate, devDeactivate } from "./sch-generic.ts";

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: false });

/** TSO_LEGACY_MAX_SIZE: the default tso_max_size. */
export const TSO_LEGACY_MAX_SIZE = 65536;
/** GSO_MAX_SIZE (v5.19+ BIG TCP): what virtual drivers raise tso_max_size to. */
export const GSO_MAX_SIZE = 524280;

/** Number of `%d` units the allocator considers (8 × PAGE_SIZE bits). */
export const MAX_NETDEVICES = 32768;

function byteLength(s: string): number {
  return utf8Length(s);
}

function truncateName(s: string): string {
  if (s.length <= (IFNAMSIZ - 1) / 3 || utf8Length(s) <= IFNAMSIZ - 1) return s;
  return utf8d.decode(utf8.encode(s).subarray(0, IFNAMSIZ - 1));
}

// ─── lookups ────────────────────────────────────────────────────────────────────────────

/**
 * Finds a device by name; v5.5+ altnames resolve too.
 * @kernel __dev_get_by_name() in net/core/dev.c (netdev_name_node_lookup from v5.5)
 */
export function devGetByName(k: Kernel, name: string): NetDevice | undefined {
  const idx = k.state.names.get(name);
  return idx === undefined ? undefined : k.state.devices.get(idx);
}

/**
 * A device a driver still holds a reference to: listed, or unlisted while it unregisters.
 * (Not a kernel lookup: drivers keep pointers; the model keeps ifindexes.)
 */
export function netdevByRef(k: Kernel, ifindex: number): NetDevice | undefined {
  return k.state.devices.get(ifindex) ?? k.state.unlisted.get(ifindex);
}

/** @kernel __dev_get_by_index() in net/core/dev.c */
export function devGetByIndex(k: Kernel, ifindex: number): NetDevice | undefined {
  return k.state.devices.get(ifindex);
}

/** True if `name` is any device's primary name or (v5.5+) altname. @kernel netdev_name_in_use() */
export function netdevNameInUse(k: Kernel, name: string): boolean {
  return k.state.names.has(name);
}

/** The device a device is enslaved to, if any. @kernel netdev_master_upper_dev_get() */
export function netdevMasterUpperDevGet(k: Kernel, dev: NetDevice): NetDevice | undefined {
  const m = dev.uppers.find((u) => u.master);
  return m ? k.state.devices.get(m.ifindex) : undefined;
}

// ─── name hash and the %d template cache ──────────────────────────────────────────────────

interface Template {
  readonly prefix: string;
  readonly suffix: string;
  /** The first '%' is the "%d" (so `tmpl.replace("%d", …)` formats prefix + unit + suffix). */
  readonly simple: boolean;
}

/** splitTemplate's answers for the templates in use (a handful; cleared past 64). */
const splitMemo = new Map<string, Template>();

function splitTemplate(tmpl: string): Template {
  let t = splitMemo.get(tmpl);
  if (t === undefined) {
    const p = tmpl.indexOf("%");
    t = { prefix: tmpl.slice(0, p), suffix: tmpl.slice(p + 2), simple: tmpl[p + 1] === "d" };
    if (splitMemo.size >= 64) splitMemo.clear();
    splitMemo.set(tmpl, t);
  }
  return t;
}

/**
 * The unit a name occupies for a template (sscanf + snprintf round trip), or -1.
 * @kernel __dev_alloc_name() in net/core/dev.c (its sscanf/snprintf test per name)
 */
function unitOf(t: Template, tmpl: string, name: string): number {
  if (!name.startsWith(t.prefix)) return -1;
  // sscanf's "%d" here: an optional sign and at least one ASCII digit (scanned in place).
  const start = t.prefix.length;
  let end = start;
  const c0 = name.charCodeAt(end);
  if (c0 === 0x2b || c0 === 0x2d) end++;
  const digits = end;
  // The digits' value, counted up to MAX_NETDEVICES (anything above is no unit either way).
  let v = 0;
  for (let c = name.charCodeAt(end); end < name.length && isDigit(c); c = name.charCodeAt(++end))
    if (v < MAX_NETDEVICES) v = v * 10 + (c - 0x30);
  if (end === digits) return -1;
  if (digits === start && v >= MAX_NETDEVICES) return -1;
  const i = digits === start ? v : Number(name.slice(start, end));
  if (!Number.isSafeInteger(i) || i < 0 || i >= MAX_NETDEVICES) return -1;
  // The common case without building the formatted name: digits as snprintf writes them (no
  // sign, no leading zero), then exactly the suffix, and a name short enough not to be cut.
  if (
    t.simple &&
    digits === start &&
    (c0 !== 0x30 || end === start + 1) &&
    name.length - end === t.suffix.length &&
    name.endsWith(t.suffix) &&
    (name.length <= (IFNAMSIZ - 1) / 3 || utf8Length(name) <= IFNAMSIZ - 1)
  )
    return i;
  return truncateName(tmpl.replace("%d", String(i))) === name ? i : -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function scansName(k: Kernel, name: string): boolean {
  // Before ~v6.7 the scan walks primary names only; later it walks altnames too.
  if (k.profile.allocNameReturnsZero) return true;
  const idx = k.state.names.get(name);
  return idx !== undefined && k.state.devices.get(idx)?.name === name;
}

function cacheNameAdded(k: Kernel, name: string): void {
  for (const [tmpl, c] of k.cache.templates) {
    const u = unitOf(splitTemplate(tmpl), tmpl, name);
    if (u >= 0 && scansName(k, name)) c.add(u);
  }
}

function cacheNameRemoved(k: Kernel, name: string): void {
  for (const [tmpl, c] of k.cache.templates) {
    const u = unitOf(splitTemplate(tmpl), tmpl, name);
    if (u >= 0) c.delete(u);
  }
}

function hashName(k: Kernel, name: string, ifindex: number): void {
  if (k.state.names.has(name)) throw new KernelBug(`name "${name}" hashed twice`);
  k.state.names.set(name, ifindex);
  cacheNameAdded(k, name);
}

function unhashName(k: Kernel, name: string): void {
  // Remove first so that scansName sees the post-removal state consistently.
  cacheNameRemoved(k, name);
  k.state.names.delete(name);
}

function templateCache(k: Kernel, tmpl: string): UnitSet {
  let c = k.cache.templates.get(tmpl);
  if (!c) {
    const t = splitTemplate(tmpl);
    c = new UnitSet();
    for (const name of k.state.names.keys()) {
      const u = unitOf(t, tmpl, name);
      if (u >= 0 && scansName(k, name)) c.add(u);
    }
    k.cache.templates.set(tmpl, c);
  }
  return c;
}

// ─── V1–V3: name validation and allocation ──────────────────────────────────────────────────

/**
 * V1: a name is valid unless empty, 16 bytes or longer, "." or "..", or containing '/', ':'
 * or a whitespace byte (space, \t, \n, \v, \f, \r, 0xA0 — the kernel's ctype).
 * @kernel dev_valid_name() in net/core/dev.c
 */
export function devValidName(name: string): boolean {
  if (isAscii(name)) {
    // The same checks on the characters themselves (one byte each): no encoding needed.
    if (name.length === 0 || name.length >= IFNAMSIZ) return false;
    if (name === "." || name === "..") return false;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c === 0x2f || c === 0x3a || c === 0x20 || (c >= 0x09 && c <= 0x0d)) return false;
    }
    return true;
  }
  const b = utf8.encode(name);
  if (b.length === 0 || b.length >= IFNAMSIZ) return false;
  if (name === "." || name === "..") return false;
  for (const c of b) {
    if (c === 0x2f || c === 0x3a || c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0)
      return false;
  }
  return true;
}

/** Result of a name allocation: the unit number (≥ 0) and the name, or an errno. */
export type AllocResult =
  | { readonly unit: number; readonly name: string }
  | { readonly err: NegErrno };

/**
 * V2: allocates the lowest free unit for a `%d` template (32768 slots); a template without
 * '%' stands for itself.
 * @kernel __dev_alloc_name() in net/core/dev.c: -EINVAL (bad template), -ENFILE (taken)
 */
export function devAllocNameCore(k: Kernel, template: string): AllocResult {
  if (!devValidName(template)) return { err: err("EINVAL") };
  const p = template.indexOf("%");
  let unit = 0;
  let name = template;
  if (p >= 0) {
    if (template[p + 1] !== "d" || template.indexOf("%", p + 2) >= 0) return { err: err("EINVAL") };
    const c = templateCache(k, template);
    unit = c.lowestFree(MAX_NETDEVICES);
    if (unit >= MAX_NETDEVICES && k.profile.allocNameReturnsZero) return { err: err("ENFILE") };
    name = truncateName(template.replace("%d", String(unit)));
  }
  if (netdevNameInUse(k, name)) return { err: err("ENFILE") };
  return { unit, name };
}

/**
 * V3: validates `want` and, on success, stores the resulting name in `dev.name`.
 * Returns the `%d` unit number (E0/E1 … ~6.6) or 0 (~6.7+) on success.
 * @kernel dev_get_valid_name() / dev_prep_valid_name() in net/core/dev.c: -EINVAL, -EEXIST, -ENFILE
 */
export function devGetValidName(k: Kernel, dev: NetDevice, want: string): number {
  if (!devValidName(want)) return err("EINVAL");
  if (want.includes("%")) {
    const r = devAllocNameCore(k, want);
    if ("err" in r) return r.err;
    dev.name = r.name;
    return k.profile.allocNameReturnsZero ? 0 : r.unit;
  }
  if (netdevNameInUse(k, want)) return err("EEXIST");
  dev.name = want;
  return 0;
}

/**
 * Allocates a `%d` name for a device (not registered yet).
 * @kernel dev_alloc_name() in net/core/dev.c: the unit number or a negative errno
 */
export function devAllocName(k: Kernel, dev: NetDevice, template: string): number {
  const r = devAllocNameCore(k, template);
  if ("err" in r) return r.err;
  dev.name = r.name;
  return r.unit;
}

// ─── logging helpers ────────────────────────────────────────────────────────────────────

function netdevName(dev: NetDevice): string {
  return dev.name === "" || dev.name.includes("%") ? "(unnamed net_device)" : dev.name;
}

function netdevRegStateSuffix(dev: NetDevice): string {
  switch (dev.regState) {
    case "REGISTERED":
      return "";
    case "UNINITIALIZED":
      return " (uninitialized)";
    case "UNREGISTERING":
      return " (unregistering)";
    case "UNREGISTERED":
      return " (unregistered)";
  }
}

/** The prefix netdev_printk puts before a message: "<driver> <parent> <name>: " or "<name>: ". */
export function netdevPrefix(dev: NetDevice): string {
  const name = `${netdevName(dev)}${netdevRegStateSuffix(dev)}`;
  return dev.parent ? `${dev.parent.driver} ${dev.parent.id} ${name}: ` : `${name}: `;
}

/** netdev_info/netdev_err: a log line prefixed like the kernel's netdev_printk. */
export function netdevLog(
  k: Kernel,
  dev: NetDevice,
  level: "info" | "err" | "warn",
  msg: string,
): void {
  klog(k, level, `${netdevPrefix(dev)}${msg}`);
}

/** sysfs path of a net class device. */
export function netdevDevpath(dev: NetDevice, name = dev.name): string {
  return dev.parent ? `${dev.parent.devpath}/net/${name}` : `/devices/virtual/net/${name}`;
}

// ─── R1–R13: rename ─────────────────────────────────────────────────────────────────────

/** @kernel device_rename() in drivers/base/core.c: the sysfs rename and its "move" uevent */
function deviceRename(k: Kernel, dev: NetDevice, oldName: string): KRet {
  const fault = k.registry.deviceRenameFault;
  if (fault) {
    const r = fault(k, dev, dev.name);
    if (r) return r;
  }
  uevent(k, dev, "move", netdevDevpath(dev, oldName));
  return 0;
}

/**
 * Renames a device (R1–R13): the UP check per profile, same-name shortcut, V3 validation,
 * the "renamed from" log, sysfs "move" uevent, re-hash, NETDEV_CHANGENAME (→ RTM_NEWLINK) and
 * the rollback-once path when a listener vetoes.
 * @kernel dev_change_name() in net/core/dev.c (netif_change_name() in 2025+): returns 0 (or the
 * `%d` unit before ~6.7), -EBUSY (UP, per profile), -EINVAL, -EEXIST, -ENFILE, a sysfs error, or
 * the first notifier veto
 */
export function devChangeName(k: Kernel, dev: NetDevice, newname: string): number {
  if (dev.regState !== "REGISTERED")
    throw new KernelBug(`devChangeName on ${dev.name} in state ${dev.regState}`);
  // R1
  if (dev.flags & IFF.UP) {
    const mode = k.profile.renameWhileUp;
    if (mode === "never") return err("EBUSY");
    if (mode === "flag" && !(dev.privFlags & IFF_PRIV.IFF_LIVE_RENAME_OK)) return err("EBUSY");
  }
  // R3: compared over IFNAMSIZ bytes.
  if (truncateName(newname) === dev.name && byteLength(newname) < IFNAMSIZ + 1) {
    if (newname === dev.name) return 0;
  }
  // R4
  let oldname = dev.name;
  let errv = devGetValidName(k, dev, newname);
  if (errv < 0) return errv;
  const allocated = dev.name;
  // R5
  if (oldname !== "" && !oldname.includes("%")) {
    const whileUp = k.profile.renameLogWhileUp && dev.flags & IFF.UP ? " (while UP)" : "";
    netdevLog(k, dev, "info", `renamed from ${oldname}${whileUp}`);
  }
  // R6
  let oldAssignType: NameAssignType = dev.nameAssignType;
  dev.nameAssignType = NET_NAME.RENAMED;
  // The name hash still holds the old name until R9.
  let hashed = oldname;
  void allocated;
  for (;;) {
    // R7
    const ret = deviceRename(k, dev, hashed);
    if (ret) {
      dev.name = oldname;
      dev.nameAssignType = oldAssignType;
      if (hashed !== dev.name) {
        unhashName(k, hashed);
        hashName(k, dev.name, dev.ifindex);
      }
      return ret;
    }
    // R8 (adjacency symlinks are derived from names in the model), R9: re-hash.
    unhashName(k, hashed);
    hashName(k, dev.name, dev.ifindex);
    hashed = dev.name;
    // R10
    const nret = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_CHANGENAME", dev));
    if (!nret) break;
    // R11
    if (errv >= 0) {
      errv = nret;
      const cur = dev.name;
      dev.name = oldname;
      oldname = newname;
      void cur;
      dev.nameAssignType = oldAssignType;
      oldAssignType = NET_NAME.RENAMED;
      continue;
    }
    if (k.profile.rollbackLogPrErr)
      klog(k, "err", `${dev.name}: name change rollback failed: ${nret}`);
    else netdevLog(k, dev, "err", `name change rollback failed: ${nret}`);
    break;
  }
  return errv;
}

// ─── O1–O4: open, close, flags ─────────────────────────────────────────────────────────────

function isValidEtherAddr(mac: string): boolean {
  if (mac === "00:00:00:00:00:00") return false;
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 0;
}

/**
 * @kernel __dev_open() in net/core/dev.c: -ENODEV (not present), a PRE_UP veto,
 * -EADDRNOTAVAIL (eth_validate_addr) or the driver's ndo_open error
 */
function devOpenCore(k: Kernel, dev: NetDevice, extack: ExtAck | null): KRet {
  if (!dev.present) return err("ENODEV");
  const pre = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_PRE_UP", dev));
  if (pre) return pre;
  dev.running = true;
  const ops = driverOf(k, dev).ops;
  let ret: KRet = 0;
  if (ops.ethValidateAddr && !isValidEtherAddr(dev.devAddr)) ret = err("EADDRNOTAVAIL");
  if (!ret && ops.ndoOpen) ret = ops.ndoOpen(k, dev);
  if (ret) {
    dev.running = false;
    void extack;
    return ret;
  }
  dev.flags |= IFF.UP;
  devActivate(k, dev);
  return 0;
}

/** @kernel __dev_close_many() in net/core/dev.c: GOING_DOWN for all, then ndo_stop for all */
function devCloseManyCore(k: Kernel, devs: NetDevice[]): void {
  for (const dev of devs) {
    callNetdeviceNotifiers(k, "NETDEV_GOING_DOWN", dev);
    dev.running = false;
  }
  for (const dev of devs) devDeactivate(dev);
  for (const dev of devs) {
    const ops = driverOf(k, dev).ops;
    if (ops.ndoStop) ops.ndoStop(k, dev);
    dev.flags &= ~IFF.UP;
  }
}

/**
 * O1: opens a device; already up → 0 with no events.
 * @kernel dev_open() in net/core/dev.c: 0 or __dev_open's error; on success RTM_NEWLINK
 * (change IFF_UP|IFF_RUNNING) then NETDEV_UP
 */
export function devOpen(k: Kernel, dev: NetDevice, extack: ExtAck | null = null): KRet {
  if (dev.flags & IFF.UP) return 0;
  const ret = devOpenCore(k, dev, extack);
  if (ret < 0) return ret;
  rtmsgIfinfo(k, dev, IFF.UP | IFF.RUNNING);
  callNetdeviceNotifiers(k, "NETDEV_UP", dev);
  return 0;
}

/**
 * O2 for several devices: GOING_DOWN, stop, then per device RTM_NEWLINK and NETDEV_DOWN.
 * @kernel dev_close_many() in net/core/dev.c
 */
export function devCloseMany(k: Kernel, devs: NetDevice[]): void {
  const up = devs.filter((d) => d.flags & IFF.UP);
  if (up.length === 0) return;
  devCloseManyCore(k, up);
  for (const dev of up) {
    rtmsgIfinfo(k, dev, IFF.UP | IFF.RUNNING);
    callNetdeviceNotifiers(k, "NETDEV_DOWN", dev);
  }
}

/**
 * O2: closes a device; not up → nothing.
 * @kernel dev_close() in net/core/dev.c
 */
export function devClose(k: Kernel, dev: NetDevice): void {
  devCloseMany(k, [dev]);
}

const SETTABLE_FLAGS =
  IFF.DEBUG |
  IFF.NOTRAILERS |
  IFF.NOARP |
  IFF.DYNAMIC |
  IFF.MULTICAST |
  IFF.PORTSEL |
  IFF.AUTOMEDIA;
/** IFF_VOLATILE: flags the driver owns, never taken from a request. */
const IFF_VOLATILE =
  IFF.LOOPBACK |
  IFF.POINTOPOINT |
  IFF.BROADCAST |
  IFF.ECHO |
  IFF.MASTER |
  IFF.SLAVE |
  IFF.RUNNING |
  IFF.LOWER_UP |
  IFF.DORMANT;

/**
 * O3 part 1: applies flags and opens/closes on an IFF_UP change, without notifications.
 * @kernel __dev_change_flags() in net/core/dev.c
 */
export function devChangeFlagsCore(
  k: Kernel,
  dev: NetDevice,
  flags: number,
  extack: ExtAck | null,
): KRet {
  const oldFlags = dev.flags;
  dev.flags =
    (flags & SETTABLE_FLAGS) | (dev.flags & (IFF.UP | IFF_VOLATILE | IFF.PROMISC | IFF.ALLMULTI));
  let ret: KRet = 0;
  if ((oldFlags ^ flags) & IFF.UP) {
    if (oldFlags & IFF.UP) devCloseManyCore(k, [dev]);
    else ret = devOpenCore(k, dev, extack);
  }
  // What the user asks for is counted once (gflags), whatever the open did.
  if ((flags ^ dev.gflags) & IFF.PROMISC) {
    dev.gflags ^= IFF.PROMISC;
    devSetPromiscuity(k, dev, flags & IFF.PROMISC ? 1 : -1);
  }
  if ((flags ^ dev.gflags) & IFF.ALLMULTI) {
    dev.gflags ^= IFF.ALLMULTI;
    devSetAllmulti(k, dev, flags & IFF.ALLMULTI ? 1 : -1);
  }
  return ret;
}

/**
 * Counts one more (or one fewer) user of promiscuous mode; IFF_PROMISC follows the count and
 * its change is logged ("entered"/"left promiscuous mode": netdev_info from v5.16, before
 * pr_info "device %s …"). No notification here (dev_change_flags sends it).
 * @kernel __dev_set_promiscuity() in net/core/dev.c (notify = false)
 */
function devSetPromiscuity(k: Kernel, dev: NetDevice, inc: 1 | -1): void {
  const old = dev.flags;
  dev.flags |= IFF.PROMISC;
  dev.promiscuity += inc;
  if (dev.promiscuity === 0 && inc < 0) dev.flags &= ~IFF.PROMISC;
  if (dev.flags !== old) {
    const what = dev.flags & IFF.PROMISC ? "entered" : "left";
    if (k.profile.rollbackLogPrErr) klog(k, "info", `device ${dev.name} ${what} promiscuous mode`);
    else netdevLog(k, dev, "info", `${what} promiscuous mode`);
  }
}

/**
 * Counts one more (or one fewer) user of all-multicast mode; IFF_ALLMULTI follows the count.
 * From v5.16 the change is logged ("entered"/"left allmulticast mode").
 * @kernel __dev_set_allmulti() in net/core/dev.c (notify = false)
 */
function devSetAllmulti(k: Kernel, dev: NetDevice, inc: 1 | -1): void {
  const old = dev.flags;
  dev.flags |= IFF.ALLMULTI;
  dev.allmulti += inc;
  if (dev.allmulti === 0 && inc < 0) dev.flags &= ~IFF.ALLMULTI;
  if (dev.flags !== old && !k.profile.rollbackLogPrErr) {
    netdevLog(k, dev, "info", `${dev.flags & IFF.ALLMULTI ? "entered" : "left"} allmulticast mode`);
  }
}

/**
 * O3 part 2: RTM_NEWLINK(change) if anything changed, NETDEV_UP/DOWN on an IFF_UP change,
 * NETDEV_CHANGE for other changes of an up device.
 * @kernel __dev_notify_flags() in net/core/dev.c
 */
export function devNotifyFlags(
  k: Kernel,
  dev: NetDevice,
  oldFlags: number,
  gchanges: number,
): void {
  const changes = dev.flags ^ oldFlags;
  if (gchanges) rtmsgIfinfo(k, dev, gchanges);
  if (changes & IFF.UP) {
    callNetdeviceNotifiers(k, dev.flags & IFF.UP ? "NETDEV_UP" : "NETDEV_DOWN", dev);
  }
  if (dev.flags & IFF.UP && changes & ~(IFF.UP | IFF.PROMISC | IFF.ALLMULTI)) {
    callNetdeviceNotifiers(k, "NETDEV_CHANGE", dev, { flagsChanged: changes });
  }
}

/**
 * O3: changes device flags (up/down) the way rtnetlink and the ioctl do.
 * @kernel dev_change_flags() in net/core/dev.c: 0 or the open error (nothing emitted then)
 */
export function devChangeFlags(
  k: Kernel,
  dev: NetDevice,
  flags: number,
  extack: ExtAck | null = null,
): KRet {
  const oldFlags = dev.flags;
  const oldGflags = dev.gflags;
  const ret = devChangeFlagsCore(k, dev, flags, extack);
  if (ret < 0) return ret;
  devNotifyFlags(k, dev, oldFlags, (oldFlags ^ dev.flags) | (oldGflags ^ dev.gflags));
  return 0;
}

// ─── MTU and MAC address ────────────────────────────────────────────────────────────────

/**
 * @kernel dev_validate_mtu() in net/core/dev.c: -EINVAL with "mtu less than device minimum" /
 * "mtu greater than device maximum"
 */
export function devValidateMtu(dev: NetDevice, mtu: number, extack: ExtAck | null): KRet {
  if (mtu < 0 || mtu < dev.minMtu) {
    if (extack) extack.msg = "mtu less than device minimum";
    return err("EINVAL");
  }
  if (dev.maxMtu > 0 && mtu > dev.maxMtu) {
    if (extack) extack.msg = "mtu greater than device maximum";
    return err("EINVAL");
  }
  return 0;
}

/** @kernel __dev_set_mtu() in net/core/dev.c */
function devSetMtuCore(k: Kernel, dev: NetDevice, mtu: number): KRet {
  const ops = driverOf(k, dev).ops;
  if (ops.ndoChangeMtu) return ops.ndoChangeMtu(k, dev, mtu);
  dev.mtu = mtu;
  return 0;
}

/**
 * Changes the MTU: PRECHANGEMTU (vetoable), set, CHANGEMTU (→ RTM_NEWLINK); a CHANGEMTU veto
 * sets the old MTU back and notifies again.
 * @kernel dev_set_mtu_ext() in net/core/dev.c: 0, -EINVAL (range), -ENODEV, or a veto
 */
export function devSetMtu(
  k: Kernel,
  dev: NetDevice,
  mtu: number,
  extack: ExtAck | null = null,
): KRet {
  if (mtu === dev.mtu) return 0;
  const v = devValidateMtu(dev, mtu, extack);
  if (v) return v;
  if (!dev.present) return err("ENODEV");
  const pre = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_PRECHANGEMTU", dev));
  if (pre) return pre;
  const orig = dev.mtu;
  let ret = devSetMtuCore(k, dev, mtu);
  if (!ret) {
    ret = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_CHANGEMTU", dev, { oldMtu: orig }));
    if (ret) {
      devSetMtuCore(k, dev, orig);
      callNetdeviceNotifiers(k, "NETDEV_CHANGEMTU", dev, { oldMtu: mtu });
    }
  }
  return ret;
}

/**
 * Sets the hardware address: driver hook (eth_mac_addr: -EBUSY while running without
 * IFF_LIVE_ADDR_CHANGE, -EADDRNOTAVAIL for a non-unicast address), then NETDEV_CHANGEADDR.
 * @kernel dev_set_mac_address() in net/core/dev.c: 0, -EOPNOTSUPP, -ENODEV or the driver's error
 */
export function devSetMacAddress(
  k: Kernel,
  dev: NetDevice,
  mac: string,
  extack: ExtAck | null = null,
): KRet {
  void extack;
  const ops = driverOf(k, dev).ops;
  if (!ops.ndoSetMacAddress && !ops.ethMacAddr) return err("EOPNOTSUPP");
  if (!dev.present) return err("ENODEV");
  const pre = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_PRE_CHANGEADDR", dev));
  if (pre) return pre;
  if (mac !== dev.devAddr) {
    if (ops.ndoSetMacAddress) {
      const r = ops.ndoSetMacAddress(k, dev, mac);
      if (r) return r;
    } else {
      if (!(dev.privFlags & IFF_PRIV.IFF_LIVE_ADDR_CHANGE) && dev.running) return err("EBUSY");
      if (!isValidEtherAddr(mac)) return err("EADDRNOTAVAIL");
      dev.devAddr = mac;
    }
  }
  dev.addrAssignType = NET_ADDR.SET;
  callNetdeviceNotifiers(k, "NETDEV_CHANGEADDR", dev);
  return 0;
}

// ─── allocation, G1–G3: register / unregister ─────────────────────────────────────────────

/** Options for `allocNetdev`. */
export interface AllocOptions {
  readonly name: string;
  readonly nameAssignType: NameAssignType;
  readonly driver: string;
  readonly kind?: string | null;
  readonly parent?: NetDevice["parent"];
  readonly numTxQueues?: number;
  readonly numRxQueues?: number;
}

/**
 * Allocates an unregistered Ethernet device record with ether_setup defaults (MTU 1500,
 * min 68, max 1500, BROADCAST|MULTICAST, txqueuelen 1000, all-zero address).
 * @kernel alloc_netdev_mqs() + ether_setup() in net/core/dev.c, net/ethernet/eth.c
 */
export function allocNetdev(k: Kernel, o: AllocOptions): NetDevice {
  if (!k.registry.drivers.has(o.driver))
    throw new KernelBug(`allocNetdev: unknown driver "${o.driver}"`);
  if (byteLength(o.name) >= IFNAMSIZ)
    throw new RangeError(`allocNetdev: name "${o.name}" too long`);
  return {
    ifindex: 0,
    name: o.name,
    altnames: NO_NAMES,
    nameAssignType: o.nameAssignType,
    type: ARPHRD.ETHER,
    driver: o.driver,
    kind: o.kind ?? null,
    rtnlLinkInitialized: o.kind === undefined || o.kind === null,
    devAddr: "00:00:00:00:00:00",
    permAddr: null,
    addrAssignType: NET_ADDR.PERM,
    broadcast: "ff:ff:ff:ff:ff:ff",
    // Never written after allocation: frozen and shared, so snapshots keep it by reference.
    parent: o.parent ? sharedConstant({ ...o.parent }) : null,
    flags: IFF.BROADCAST | IFF.MULTICAST,
    gflags: 0,
    promiscuity: 0,
    allmulti: 0,
    privFlags: 0,
    running: false,
    carrier: true,
    present: false,
    dormant: false,
    operstate: IF_OPER.UNKNOWN,
    linkwatchPending: false,
    regState: "UNINITIALIZED",
    mtu: 1500,
    minMtu: 68,
    maxMtu: 1500,
    txQueueLen: 1000,
    numTxQueues: o.numTxQueues ?? 1,
    numRxQueues: o.numRxQueues ?? 1,
    tsoMaxSize: TSO_LEGACY_MAX_SIZE,
    group: 0,
    qdisc: "noop",
    txActive: false,
    stats: ZERO_STATS,
    coreStats: ZERO_CORE_STATS,
    uppers: NO_ADJACENCY,
    lowers: NO_ADJACENCY,
    rxHandler: null,
    rxHandlerData: null,
    carrierUpCount: 0,
    carrierDownCount: 0,
    priv: NO_PRIV,
  };
}

/**
 * Random locally administered unicast MAC from the kernel's seeded RNG.
 * @kernel eth_hw_addr_random() in include/linux/etherdevice.h: sets NET_ADDR_RANDOM
 */
export function ethHwAddrRandom(k: Kernel, dev: NetDevice): void {
  // One flat string (a join), not a chain of concatenations kept alive with the device.
  const bytes: string[] = [HEX_BYTE[(k.rng.nextU32() & 0xfe) | 0x02] as string];
  for (let i = 1; i < 6; i++) bytes.push(HEX_BYTE[k.rng.nextU32() & 0xff] as string);
  dev.devAddr = bytes.join(":");
  dev.addrAssignType = NET_ADDR.RANDOM;
}

/** "00" … "ff". */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, "0"),
);

function devNewIndex(k: Kernel): number {
  let i = k.state.lastIfindex;
  for (;;) {
    i = i >= 0x7fffffff ? 1 : i + 1;
    if (!k.state.devices.has(i)) {
      k.state.lastIfindex = i;
      return i;
    }
  }
}

/**
 * G1: registers a device: name (V3), ndo_init, ifindex, POST_INIT, sysfs "add" uevent,
 * REGISTERED, perm_addr, NETDEV_REGISTER (a veto unregisters it again), then RTM_NEWLINK
 * (change ~0) unless an rtnl_link_ops device is still initialising.
 * @kernel register_netdevice() in net/core/dev.c: 0, -EINVAL, -EEXIST, -ENFILE, -EBUSY
 * (ifindex taken), an ndo_init error or a notifier veto
 */
export function registerNetdevice(k: Kernel, dev: NetDevice): KRet {
  if (dev.regState !== "UNINITIALIZED")
    throw new KernelBug(`registerNetdevice: ${dev.name} is ${dev.regState}`);
  const ops = driverOf(k, dev).ops;
  let ret = devGetValidName(k, dev, dev.name);
  if (ret < 0) return ret as NegErrno;
  if (ops.ndoInit) {
    ret = ops.ndoInit(k, dev);
    if (ret) return ret > 0 ? err("EIO") : (ret as NegErrno);
  }
  if (dev.ifindex === 0) dev.ifindex = devNewIndex(k);
  else if (k.state.devices.has(dev.ifindex)) {
    if (ops.ndoUninit) ops.ndoUninit(k, dev);
    return err("EBUSY");
  }
  const post = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_POST_INIT", dev));
  if (post) {
    if (ops.ndoUninit) ops.ndoUninit(k, dev);
    dev.ifindex = 0;
    return post;
  }
  uevent(k, dev, "add");
  dev.regState = "REGISTERED";
  dev.present = true;
  linkwatchInitDev(k, dev);
  k.state.devices.set(dev.ifindex, dev);
  hashName(k, dev.name, dev.ifindex);
  if (dev.addrAssignType === NET_ADDR.PERM) dev.permAddr = dev.devAddr;
  const reg = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_REGISTER", dev));
  if (reg) {
    unregisterNetdeviceMany(k, [dev]);
    return reg;
  }
  if (dev.kind === null || dev.rtnlLinkInitialized) rtmsgIfinfo(k, dev, ~0 >>> 0);
  return 0;
}

/**
 * G3 for a batch: close all, unlist all (UNREGISTERING), then per device NETDEV_UNREGISTER,
 * RTM_DELLINK (built after the notifier), ndo_uninit, "remove" uevent.
 * @kernel unregister_netdevice_many() in net/core/dev.c
 */
export function unregisterNetdeviceMany(k: Kernel, devs: NetDevice[]): void {
  for (const dev of devs)
    if (dev.regState !== "REGISTERED")
      throw new KernelBug(`unregister ${dev.name}: ${dev.regState}`);
  devCloseMany(k, devs);
  for (const dev of devs) {
    unhashName(k, dev.name);
    for (const a of dev.altnames) if (k.state.names.get(a) === dev.ifindex) unhashName(k, a);
    k.state.devices.delete(dev.ifindex);
    k.state.unlisted.set(dev.ifindex, dev);
    dev.regState = "UNREGISTERING";
    linkwatchForgetDev(k, dev);
    dev.qdisc = "noop"; // dev_shutdown()
    dev.txActive = false;
  }
  for (const dev of devs) {
    callNetdeviceNotifiers(k, "NETDEV_UNREGISTER", dev);
    const fill = dev.kind === null || dev.rtnlLinkInitialized;
    const del = fill ? rtnlFillForNotify(k, dev) : null;
    dev.altnames = NO_NAMES;
    const ops = driverOf(k, dev).ops;
    if (ops.ndoUninit) ops.ndoUninit(k, dev);
    if (del)
      k.trace.emit({
        type: "kernel.rtnl",
        msg: "RTM_DELLINK",
        change: ~0 >>> 0,
        event: null,
        link: del,
      });
    else if (fill) k.trace.skip();
    if (dev.uppers.length > 0)
      warnOn(k, true, `${dev.name}: upper devices left after NETDEV_UNREGISTER`);
    if (dev.lowers.length > 0)
      warnOn(k, true, `${dev.name}: lower devices left after NETDEV_UNREGISTER`);
    uevent(k, dev, "remove");
    k.state.unlisted.delete(dev.ifindex);
    dev.regState = "UNREGISTERED";
    dev.present = false;
  }
}

/**
 * G3 for one device.
 * @kernel unregister_netdevice() in net/core/dev.c
 */
export function unregisterNetdevice(k: Kernel, dev: NetDevice): void {
  unregisterNetdeviceMany(k, [dev]);
}

/**
 * G3 under RTNL (a driver's remove path).
 * @kernel unregister_netdev() in net/core/dev.c
 */
export function unregisterNetdev(k: Kernel, dev: NetDevice): void {
  unregisterNetdeviceMany(k, [dev]);
}

/**
 * G2: register_netdevice under RTNL. In the model every kernel operation already runs
 * atomically under RTNL; the scheduler is what makes other requests wait.
 * @kernel register_netdev() in net/core/dev.c
 */
export function registerNetdev(k: Kernel, dev: NetDevice): KRet {
  return registerNetdevice(k, dev);
}

// ─── U1–U2: upper/lower links ──────────────────────────────────────────────────────────

/** True if `upper` is an upper device of `dev`, directly or transitively. */
export function netdevHasUpperDev(k: Kernel, dev: NetDevice, upper: NetDevice): boolean {
  const seen = new Set<number>();
  const stack = [...dev.uppers.map((u) => u.ifindex)];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (i === upper.ifindex) return true;
    if (seen.has(i)) continue;
    seen.add(i);
    const d = k.state.devices.get(i);
    if (d) for (const u of d.uppers) stack.push(u.ifindex);
  }
  return false;
}

function nestLevel(k: Kernel, dev: NetDevice, dir: "uppers" | "lowers"): number {
  let max = 0;
  for (const a of dev[dir]) {
    const d = k.state.devices.get(a.ifindex);
    if (d) max = Math.max(max, nestLevel(k, d, dir));
  }
  return max + 1;
}

/** Maximum nesting depth of stacked devices (MAX_NEST_DEV, v5.5+). */
export const MAX_NEST_DEV = 8;

function upperDevLink(k: Kernel, dev: NetDevice, upper: NetDevice, master: boolean): KRet {
  if (dev === upper) return err("EBUSY");
  if (netdevHasUpperDev(k, upper, dev)) return err("EBUSY");
  if (
    k.profile.altnames &&
    nestLevel(k, dev, "lowers") + nestLevel(k, upper, "uppers") > MAX_NEST_DEV
  ) {
    return err("EMLINK");
  }
  if (!master) {
    // __netdev_has_upper_dev() walks every upper device, not only direct neighbours.
    if (netdevHasUpperDev(k, dev, upper)) return err("EEXIST");
  } else {
    const m = netdevMasterUpperDevGet(k, dev);
    if (m) return m === upper ? err("EEXIST") : err("EBUSY");
  }
  const info = { upper: upper.ifindex, linking: true, master };
  const pre = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_PRECHANGEUPPER", dev, info));
  if (pre) return pre;
  // New lists, never changed afterwards (a device may still share NO_ADJACENCY): frozen and
  // shared by snapshots, and a search's digests see that they are the same lists as before.
  const link = { ifindex: upper.ifindex, master };
  dev.uppers = sharedConstant(master ? [link, ...dev.uppers] : [...dev.uppers, link]);
  upper.lowers = sharedConstant([...upper.lowers, { ifindex: dev.ifindex, master }]);
  const ret = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_CHANGEUPPER", dev, info));
  if (ret) {
    adjacentUnlink(dev, upper);
    return ret;
  }
  return 0;
}

function adjacentUnlink(dev: NetDevice, upper: NetDevice): void {
  dev.uppers = sharedConstant(dev.uppers.filter((u) => u.ifindex !== upper.ifindex));
  upper.lowers = sharedConstant(upper.lowers.filter((l) => l.ifindex !== dev.ifindex));
}

/**
 * U1: makes `upper` the master of `dev`.
 * @kernel netdev_master_upper_dev_link() in net/core/dev.c: -EBUSY (self, loop, other master),
 * -EEXIST (same master), -EMLINK (v5.5+ depth), or a PRECHANGEUPPER/CHANGEUPPER veto
 */
export function netdevMasterUpperDevLink(k: Kernel, dev: NetDevice, upper: NetDevice): KRet {
  return upperDevLink(k, dev, upper, true);
}

/**
 * U1 without the master role.
 * @kernel netdev_upper_dev_link() in net/core/dev.c: -EBUSY (self, loop), -EEXIST (linked)
 */
export function netdevUpperDevLink(k: Kernel, dev: NetDevice, upper: NetDevice): KRet {
  return upperDevLink(k, dev, upper, false);
}

/**
 * U2: removes a link: PRECHANGEUPPER, unlink, CHANGEUPPER (→ RTM_NEWLINK unless `dev` is
 * unregistering). Cannot fail.
 * @kernel netdev_upper_dev_unlink() in net/core/dev.c
 */
export function netdevUpperDevUnlink(k: Kernel, dev: NetDevice, upper: NetDevice): void {
  const link = dev.uppers.find((u) => u.ifindex === upper.ifindex);
  if (!link) throw new KernelBug(`unlink: ${upper.name} is not an upper device of ${dev.name}`);
  const info = { upper: upper.ifindex, linking: false, master: link.master };
  callNetdeviceNotifiers(k, "NETDEV_PRECHANGEUPPER", dev, info);
  adjacentUnlink(dev, upper);
  callNetdeviceNotifiers(k, "NETDEV_CHANGEUPPER", dev, info);
}

// ─── U3: rx handlers ───────────────────────────────────────────────────────────────────

/**
 * U3: installs an rx handler (a name in the caller's code) with its data device.
 * @kernel netdev_rx_handler_register() in net/core/dev.c: -EBUSY (one installed), -EINVAL
 * (IFF_NO_RX_HANDLER)
 */
export function netdevRxHandlerRegister(
  k: Kernel,
  dev: NetDevice,
  handler: string,
  data: number | null,
): KRet {
  void k;
  if (dev.rxHandler !== null) return err("EBUSY");
  if (dev.privFlags & IFF_PRIV.IFF_NO_RX_HANDLER) return err("EINVAL");
  dev.rxHandler = handler;
  dev.rxHandlerData = data;
  return 0;
}

/** @kernel netdev_rx_handler_unregister() in net/core/dev.c */
export function netdevRxHandlerUnregister(k: Kernel, dev: NetDevice): void {
  void k;
  dev.rxHandler = null;
  dev.rxHandlerData = null;
}

// ─── altnames (v5.5+) ─────────────────────────────────────────────────────────────────

/**
 * RT9: adds an alternative name; not validated with V1 (length < 128 only).
 * @kernel netdev_name_node_alt_create() in net/core/dev.c: -EEXIST when in use, -EINVAL when
 * too long; the caller (rtnl_linkprop) then calls netdev_state_change
 */
export function netdevNameNodeAltCreate(k: Kernel, dev: NetDevice, name: string): KRet {
  bugOn(!k.profile.altnames, "altnames need a v5.5+ profile");
  if (byteLength(name) >= ALTIFNAMSIZ || name.length === 0) return err("EINVAL");
  if (netdevNameInUse(k, name)) return err("EEXIST");
  dev.altnames = [...dev.altnames, name];
  hashName(k, name, dev.ifindex);
  return 0;
}

/**
 * RT9: removes an alternative name.
 * @kernel netdev_name_node_alt_destroy() in net/core/dev.c: -ENOENT (unknown), -EINVAL (the
 * primary name or another device's)
 */
export function netdevNameNodeAltDestroy(k: Kernel, dev: NetDevice, name: string): KRet {
  bugOn(!k.profile.altnames, "altnames need a v5.5+ profile");
  const owner = k.state.names.get(name);
  if (owner === undefined) return err("ENOENT");
  if (owner !== dev.ifindex || dev.name === name) return err("EINVAL");
  dev.altnames = dev.altnames.filter((a) => a !== name);
  unhashName(k, name);
  return 0;
}
