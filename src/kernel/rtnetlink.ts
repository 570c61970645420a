// net/core/rtnetlink.c: the rtnetlink request path for links (RTM_NEWLINK / RTM_SETLINK /
// RTM_DELLINK / RTM_GETLINK / RTM_NEWLINKPROP / RTM_DELLINKPROP), rules RT1–RT9.

import { utf8Length } from "../sim/utf8.ts";
import {
  devChangeFlags,
  devChangeFlagsCore,
  devChangeName,
  devGetByIndex,
  devGetByName,
  devNotifyFlags,
  devSetMacAddress,
  devSetMtu,
  devValidateMtu,
  netdevLog,
  netdevMasterUpperDevGet,
  netdevNameNodeAltCreate,
  netdevNameNodeAltDestroy,
  registerNetdevice,
  unregisterNetdeviceMany,
} from "./dev.ts";
import { err, type KRet, type NegErrno } from "./errno.ts";
import type { ExtAck, Kernel, LinkAttrs, NewLinkRequest } from "./kernel.ts";
import { driverOf, klog } from "./kernel.ts";
import { linkwatchSyncDev } from "./link-watch.ts";
import { IFF, type NameAssignType, NET_ADDR, NET_NAME, type NetDevice } from "./netdevice.ts";
import { callNetdeviceNotifiers, notifierToErrno } from "./notifier.ts";
import { devGetFlags, type LinkSnapshot, netdevStateChange, rtnlFillIfinfo } from "./rtnl-msg.ts";
import { devGetStats } from "./xmit.ts";

/** netlink message flags used by link requests. */
export const NLM_F = { REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;

/** An RTM_NEWLINK / RTM_SETLINK request as iproute2 builds it. */
export interface LinkRequest {
  /** ifi_index (0 = select by IFLA_IFNAME). */
  readonly ifindex: number;
  /** nlmsg_flags (NLM_F_CREATE, NLM_F_EXCL, …). */
  readonly nlFlags?: number;
  /** ifi_flags / ifi_change. */
  readonly ifiFlags?: number;
  readonly ifiChange?: number;
  readonly attrs: LinkAttrs;
  /** IFLA_LINKINFO / IFLA_INFO_KIND. */
  readonly kind?: string;
  readonly peer?: LinkAttrs;
  /** ifi_index of the peer's ifinfomsg (veth `peer ... index N`). */
  readonly peerIfindex?: number;
  /** ifi_flags / ifi_change of the peer's ifinfomsg (veth `peer ... up`). */
  readonly peerIfiFlags?: number;
  readonly peerIfiChange?: number;
  /** Whether the caller has CAP_NET_ADMIN (RT1); default true. */
  readonly capNetAdmin?: boolean;
}

/** The outcome of a request: 0 or a negative errno, plus the extack message if one was set. */
export interface RtnlResult {
  readonly ret: KRet;
  readonly extack: string | null;
}

function result(ret: number, extack: ExtAck): RtnlResult {
  return { ret: (ret < 0 ? ret : 0) as KRet, extack: ret < 0 ? extack.msg : null };
}

/** Options for `rtnlCreateLink`. */
export interface CreateLinkOptions {
  readonly kind: string;
  readonly name: string;
  readonly nameAssignType: NameAssignType;
  readonly attrs: LinkAttrs;
  readonly extack: ExtAck;
}

/**
 * Allocates an unregistered device of a link kind and applies the queue counts, IFLA_MTU,
 * IFLA_ADDRESS, IFLA_BROADCAST and IFLA_TXQLEN.
 * @kernel rtnl_create_link() in net/core/rtnetlink.c: the device, or -EINVAL with "Invalid
 * number of transmit queues" / "Invalid number of receive queues" (1..4096) or an MTU range error
 */
export function rtnlCreateLink(k: Kernel, o: CreateLinkOptions): NetDevice | NegErrno {
  const ops = k.registry.linkOps.get(o.kind);
  if (!ops) throw new TypeError(`rtnlCreateLink: unknown kind "${o.kind}"`);
  const { numTxQueues: tx, numRxQueues: rx } = o.attrs;
  if (tx !== undefined && (tx < 1 || tx > 4096)) {
    o.extack.msg = "Invalid number of transmit queues";
    return err("EINVAL");
  }
  if (rx !== undefined && (rx < 1 || rx > 4096)) {
    o.extack.msg = "Invalid number of receive queues";
    return err("EINVAL");
  }
  const dev = ops.setup(k, truncName(o.name), o.nameAssignType);
  const v = validateLinkmsg(dev, o.attrs);
  if (v) return v;
  if (tx !== undefined) dev.numTxQueues = tx;
  if (rx !== undefined) dev.numRxQueues = rx;
  dev.rtnlLinkInitialized = false;
  if (o.attrs.mtu !== undefined) {
    const r = devValidateMtu(dev, o.attrs.mtu, o.extack);
    if (r) return r;
    dev.mtu = o.attrs.mtu;
  }
  if (o.attrs.address !== undefined) {
    dev.devAddr = o.attrs.address;
    dev.addrAssignType = NET_ADDR.SET;
  }
  // memcpy of the attribute's length (validate_linkmsg refused a shorter one): only the first
  // addr_len bytes show.
  if (o.attrs.broadcast !== undefined) dev.broadcast = cutAddr(o.attrs.broadcast, dev.broadcast);
  if (o.attrs.txqlen !== undefined) dev.txQueueLen = o.attrs.txqlen >>> 0;
  if (o.attrs.group !== undefined) dev.group = o.attrs.group >>> 0;
  return dev;
}

/** The number of bytes in a colon-separated hardware address. */
export function addrLen(addr: string): number {
  if (addr === "") return 0;
  let n = 1;
  for (let i = addr.indexOf(":"); i >= 0; i = addr.indexOf(":", i + 1)) n++;
  return n;
}

/** `addr` cut to the length of `like` (the device's addr_len bytes). */
function cutAddr(addr: string, like: string): string {
  return addr.split(":").slice(0, addrLen(like)).join(":");
}

/**
 * IFLA_ADDRESS / IFLA_BROADCAST shorter than the device's addr_len: -EINVAL (no extack). Called
 * by do_setlink and, since "rtnetlink: call validate_linkmsg in rtnl_create_link" (v6.4, a
 * Fixes: commit taken into the 6.1 stable series), by rtnl_create_link for the new device.
 * @kernel validate_linkmsg() in net/core/rtnetlink.c
 */
export function validateLinkmsg(dev: NetDevice, a: LinkAttrs): NegErrno | 0 {
  const len = addrLen(dev.devAddr);
  if (a.address !== undefined && addrLen(a.address) < len) return err("EINVAL");
  if (a.broadcast !== undefined && addrLen(a.broadcast) < len) return err("EINVAL");
  return 0;
}

function truncName(name: string): string {
  if (utf8Length(name) <= 15) return name;
  return new TextDecoder().decode(new TextEncoder().encode(name).subarray(0, 15));
}

/** rtnl_dev_combine_flags(): the request's bits where ifi_change says so, else dev_get_flags(). */
function combineFlags(dev: NetDevice, ifiFlags: number, ifiChange: number): number {
  return ifiChange ? (ifiFlags & ifiChange) | (devGetFlags(dev) & ~ifiChange) : ifiFlags;
}

/**
 * Applies the creating request's flags (`ip link add … up`), marks an rtnl-created device
 * initialised and announces it (RTM_NEWLINK change ~0, then NETDEV_UP if it came up).
 * @kernel rtnl_configure_link() in net/core/rtnetlink.c: 0 or the open error
 */
export function rtnlConfigureLink(
  k: Kernel,
  dev: NetDevice,
  ifm: { readonly ifiFlags?: number; readonly ifiChange?: number } = {},
): KRet {
  const oldFlags = dev.flags;
  const flags = ifm.ifiFlags ?? 0;
  const change = ifm.ifiChange ?? 0;
  if (flags || change) {
    const ret = devChangeFlagsCore(k, dev, combineFlags(dev, flags, change), null);
    if (ret < 0) return ret;
  }
  dev.rtnlLinkInitialized = true;
  devNotifyFlags(k, dev, oldFlags, ~0 >>> 0);
  return 0;
}

/** NLA_STRING policy of IFLA_IFNAME (len IFNAMSIZ - 1): a longer name fails validation. */
function policyCheckIfname(attrs: LinkAttrs | undefined, extack: ExtAck): KRet {
  if (attrs?.ifname !== undefined && utf8Length(attrs.ifname) > 15) {
    extack.msg = "Attribute failed policy validation";
    return err("ERANGE");
  }
  return 0;
}

/** RT3: the device a request names, or an errno. @kernel rtnl_dev_get() */
function lookup(
  k: Kernel,
  req: { ifindex: number; attrs: LinkAttrs },
): NetDevice | null | NegErrno {
  if (req.ifindex > 0) return devGetByIndex(k, req.ifindex) ?? null;
  if (req.ifindex < 0) return err("EINVAL");
  if (req.attrs.ifname !== undefined) return devGetByName(k, req.attrs.ifname) ?? null;
  return null;
}

/** do_setlink()'s errout: the warning when some changes were committed already, then `r`. */
function setlinkFail(k: Kernel, dev: NetDevice, modified: boolean, r: number): KRet {
  if (modified) {
    klog(
      k,
      "warn",
      `A link change request failed with some changes committed already. Interface ${dev.name} may have been left with an inconsistent configuration, please check.`,
    );
  }
  return r as KRet;
}

/**
 * RT5–RT6: applies a change request to an existing device in do_setlink order — address,
 * MTU, group, name (only when selected by index), alias, broadcast, flags, master, txqlen. The first failure stops; earlier steps
 * stay applied (and the kernel logs that).
 * @kernel do_setlink() in net/core/rtnetlink.c
 */
export function doSetlink(k: Kernel, dev: NetDevice, req: LinkRequest, extack: ExtAck): KRet {
  let modified = false;
  let ret: number = 0;
  const a = req.attrs;
  const v = validateLinkmsg(dev, a);
  if (v) return v;
  if (a.address !== undefined) {
    ret = devSetMacAddress(k, dev, a.address, extack);
    if (ret < 0) return setlinkFail(k, dev, modified, ret);
    modified = true;
  }
  if (a.mtu !== undefined) {
    ret = devSetMtu(k, dev, a.mtu, extack);
    if (ret < 0) return setlinkFail(k, dev, modified, ret);
    modified = true;
  }
  let notify = false;
  if (a.group !== undefined) {
    // netdev_set_group(), and DO_SETLINK_NOTIFY.
    dev.group = a.group >>> 0;
    notify = true;
    modified = true;
  }
  if (req.ifindex > 0 && a.ifname !== undefined && a.ifname !== "") {
    ret = devChangeName(k, dev, truncName(a.ifname));
    if (ret < 0) return setlinkFail(k, dev, modified, ret);
    modified = true;
  }
  if (a.ifalias !== undefined) {
    // dev_set_alias(): an empty alias removes it; DO_SETLINK_NOTIFY either way.
    if (a.ifalias === "") delete dev.ifalias;
    else dev.ifalias = a.ifalias;
    notify = true;
    modified = true;
  }
  if (a.broadcast !== undefined) {
    // IFLA_BROADCAST: copied in, then NETDEV_CHANGEADDR (→ RTM_NEWLINK).
    // nla_memcpy() of addr_len bytes: a longer broadcast is cut.
    dev.broadcast = cutAddr(a.broadcast, dev.broadcast);
    callNetdeviceNotifiers(k, "NETDEV_CHANGEADDR", dev);
    modified = true;
  }
  if (req.ifiFlags || req.ifiChange) {
    const change = req.ifiChange ?? 0;
    const combined = combineFlags(dev, req.ifiFlags ?? 0, change);
    ret = devChangeFlags(k, dev, combined, extack);
    if (ret < 0) return setlinkFail(k, dev, modified, ret);
  }
  if (a.master !== undefined) {
    ret = doSetMaster(k, dev, a.master, extack);
    if (ret < 0) return setlinkFail(k, dev, modified, ret);
    modified = true;
  }
  if (a.carrier !== undefined) {
    // dev_change_carrier(): no driver of the model has ndo_change_carrier (veth, ifb, virtio_net,
    // net_failover and e1000e have none; dummy has it but is not modelled).
    return setlinkFail(k, dev, modified, err("EOPNOTSUPP"));
  }
  if (a.txqlen !== undefined) {
    ret = devChangeTxQueueLen(k, dev, a.txqlen);
    if (ret < 0) return setlinkFail(k, dev, modified, ret);
    modified = true;
  }
  if (a.protoDown !== undefined) {
    // do_set_proto_down(): no driver of the model has ndo_change_proto_down.
    extack.msg = "Protodown not supported by device";
    return setlinkFail(k, dev, modified, err("EOPNOTSUPP"));
  }
  // DO_SETLINK_NOTIFY (set by IFLA_IFALIAS): one netdev_state_change at the end.
  if (notify) netdevStateChange(k, dev);
  return 0;
}

/**
 * IFLA_MASTER: leave the current master (its ndo_del_slave) unless it is already `ifindex`,
 * then join the new one (its ndo_add_slave). A failover master has neither op, so enslaving to
 * it or releasing one of its slaves by hand is -EOPNOTSUPP.
 * @kernel do_set_master() in net/core/rtnetlink.c: 0, -EINVAL (no such master), -EOPNOTSUPP
 */
export function doSetMaster(k: Kernel, dev: NetDevice, ifindex: number, extack: ExtAck): KRet {
  const upper = netdevMasterUpperDevGet(k, dev);
  if (upper) {
    if (upper.ifindex === ifindex) return 0;
    const del = driverOf(k, upper).ops.ndoDelSlave;
    if (!del) return err("EOPNOTSUPP");
    const r = del(k, upper, dev);
    if (r) return r;
  }
  if (ifindex) {
    const m = k.state.devices.get(ifindex);
    if (!m) return err("EINVAL");
    const add = driverOf(k, m).ops.ndoAddSlave;
    if (!add) return err("EOPNOTSUPP");
    return add(k, m, dev, extack);
  }
  return 0;
}

/** KMALLOC_MAX_SIZE / sizeof(void *) on x86-64 (MAX_PAGE_ORDER 10, 4 KiB pages). */
const PTR_RING_MAX_ENTRIES = (1 << 22) / 8;

/**
 * Changes the tx queue length: NETDEV_CHANGE_TX_QUEUE_LEN (→ RTM_NEWLINK); a veto restores the
 * old value and logs "refused to change device tx_queue_len".
 * @kernel dev_change_tx_queue_len() in net/core/dev.c: 0, -ERANGE (not a u32), the veto, or
 * -ENOMEM from pfifo_fast_change_tx_queue_len() (net/sched/sch_generic.c)
 */
export function devChangeTxQueueLen(k: Kernel, dev: NetDevice, len: number): KRet {
  if (!Number.isInteger(len) || len < 0 || len > 0xffffffff) return err("ERANGE");
  const orig = dev.txQueueLen;
  if (len === orig) return 0;
  dev.txQueueLen = len;
  let r = notifierToErrno(callNetdeviceNotifiers(k, "NETDEV_CHANGE_TX_QUEUE_LEN", dev));
  // dev_qdisc_change_tx_queue_len(): pfifo_fast resizes its three skb_arrays to the new length;
  // __ptr_ring_init_queue_alloc() refuses more than KMALLOC_MAX_SIZE / sizeof(void *) entries
  // (4 MiB / 8 on x86-64) with -ENOMEM. Modelled while the device is up (pfifo_fast attached);
  // a device that was up and is down again keeps its sleeping pfifo_fast in the kernel, which
  // the model does not track.
  if (!r && dev.qdisc === "pfifo_fast" && len > PTR_RING_MAX_ENTRIES) r = err("ENOMEM");
  if (r) {
    netdevLog(k, dev, "err", "refused to change device tx_queue_len");
    dev.txQueueLen = orig;
    return r;
  }
  return 0;
}

/**
 * RTM_NEWLINK: changes an existing device (flags 0) or creates one (NLM_F_CREATE with a kind).
 * @kernel rtnl_newlink() in net/core/rtnetlink.c: -EPERM, -ERANGE (IFLA_IFNAME over 15 bytes, policy),
 * -EEXIST (NLM_F_EXCL on an existing
 * device), -EOPNOTSUPP (NLM_F_REPLACE, unknown kind), -ENODEV, or the failing step's errno
 */
export function rtnlNewlink(k: Kernel, req: LinkRequest): RtnlResult {
  k.registry.beforeRtnl?.(k);
  const extack: ExtAck = { msg: null };
  if (req.capNetAdmin === false) return result(err("EPERM"), extack);
  // The peer's attributes are nested (IFLA_LINKINFO/IFLA_INFO_DATA/VETH_INFO_PEER): with the
  // profile's rtnl_get_peer_net() they are parsed after the device's validate, below.
  const early = k.profile.rtnlValidatesPeer ? 0 : policyCheckIfname(req.peer, extack);
  const pol = policyCheckIfname(req.attrs, extack) || early;
  if (pol) return result(pol, extack);
  const found = lookup(k, req);
  if (typeof found === "number") return result(found, extack);
  const ops = req.kind !== undefined ? k.registry.linkOps.get(req.kind) : undefined;
  if (ops?.validate) {
    const v = ops.validate(k, req.attrs, extack);
    if (v) return result(v, extack);
    // rtnl_get_peer_net(): the peer's attributes through the same validate (profile).
    if (req.peer && k.profile.rtnlValidatesPeer) {
      const pv = policyCheckIfname(req.peer, extack) || ops.validate(k, req.peer, extack);
      if (pv) return result(pv, extack);
    }
  }
  const flags = req.nlFlags ?? 0;
  if (found) {
    if (flags & NLM_F.EXCL) return result(err("EEXIST"), extack);
    if (flags & NLM_F.REPLACE) return result(err("EOPNOTSUPP"), extack);
    return result(doSetlink(k, found, req, extack), extack);
  }
  if (!(flags & NLM_F.CREATE)) {
    if (req.ifindex === 0 && req.attrs.group !== undefined)
      return result(rtnlGroupChangelink(k, req.attrs.group >>> 0, req, extack), extack);
    return result(err("ENODEV"), extack);
  }
  if (req.kind === undefined) return result(err("EOPNOTSUPP"), extack);
  if (!ops) {
    extack.msg = "Unknown device type";
    return result(err("EOPNOTSUPP"), extack);
  }
  const named = req.attrs.ifname !== undefined;
  const dev = rtnlCreateLink(k, {
    kind: ops.kind,
    name: named ? (req.attrs.ifname as string) : `${ops.kind}%d`,
    nameAssignType: named ? NET_NAME.USER : NET_NAME.ENUM,
    attrs: req.attrs,
    extack,
  });
  if (typeof dev === "number") return result(dev, extack);
  // __rtnl_newlink() sets dev->ifindex = ifm->ifi_index before ->newlink/register_netdevice,
  // so `ip link add ... index N` creates index N (G1 step 3; OBSERVATIONS [10]).
  if (req.ifindex > 0) dev.ifindex = req.ifindex;
  const nl: NewLinkRequest = req.peer
    ? {
        attrs: req.attrs,
        kind: ops.kind,
        peer: req.peer,
        peerIfindex: req.peerIfindex ?? 0,
        peerIfiFlags: req.peerIfiFlags ?? 0,
        peerIfiChange: req.peerIfiChange ?? 0,
      }
    : { attrs: req.attrs, kind: ops.kind };
  const ret = ops.newlink(k, dev, nl, extack);
  if (ret) return result(ret, extack);
  const cfg = rtnlConfigureLink(k, dev, req);
  if (cfg) {
    // out_unregister: the new device (and, for veth, its peer) goes away again.
    const kill: NetDevice[] = [];
    if (ops.dellink) ops.dellink(k, dev, kill);
    else kill.push(dev);
    unregisterNetdeviceMany(k, kill);
    return result(cfg, extack);
  }
  return result(0, extack);
}

/**
 * `ip link set group N …` (no device): do_setlink on every device of group N, in the order of
 * the device list, with the request's other attributes; the first failure ends it.
 * @kernel rtnl_group_changelink() in net/core/rtnetlink.c: 0 (also when no device is in the
 * group) or the failing device's errno
 */
function rtnlGroupChangelink(k: Kernel, group: number, req: LinkRequest, extack: ExtAck): KRet {
  // for_each_netdev_safe: k.state.devices keeps registration order (the dev_base list's).
  for (const dev of [...k.state.devices.values()]) {
    if (dev.group !== group) continue;
    const r = doSetlink(k, dev, req, extack);
    if (r < 0) return r;
  }
  return 0;
}

/**
 * RTM_SETLINK: like RTM_NEWLINK on an existing device (RT2/RT3).
 * @kernel rtnl_setlink() in net/core/rtnetlink.c: -ENODEV, -EINVAL or do_setlink's errno
 */
export function rtnlSetlink(k: Kernel, req: LinkRequest): RtnlResult {
  k.registry.beforeRtnl?.(k);
  const extack: ExtAck = { msg: null };
  if (req.capNetAdmin === false) return result(err("EPERM"), extack);
  const pol = policyCheckIfname(req.attrs, extack);
  if (pol) return result(pol, extack);
  const found = lookup(k, req);
  if (typeof found === "number") return result(found, extack);
  if (!found) {
    if (req.ifindex === 0 && req.attrs.ifname === undefined) return result(err("EINVAL"), extack);
    return result(err("ENODEV"), extack);
  }
  return result(doSetlink(k, found, req, extack), extack);
}

/**
 * RTM_DELLINK: deletes a device through its link ops (veth takes its peer along).
 * @kernel rtnl_dellink() / rtnl_delete_link() in net/core/rtnetlink.c: -ENODEV, -EINVAL (no
 * selector), -EOPNOTSUPP (no dellink, e.g. lo)
 */
export function rtnlDellink(
  k: Kernel,
  req: { ifindex: number; ifname?: string; group?: number; capNetAdmin?: boolean },
): RtnlResult {
  k.registry.beforeRtnl?.(k);
  const extack: ExtAck = { msg: null };
  if (req.capNetAdmin === false) return result(err("EPERM"), extack);
  const attrs: LinkAttrs = req.ifname !== undefined ? { ifname: req.ifname } : {};
  const found = lookup(k, { ifindex: req.ifindex, attrs });
  if (typeof found === "number") return result(found, extack);
  if (!found) {
    if (req.ifindex === 0 && req.ifname === undefined && req.group !== undefined)
      return result(rtnlGroupDellink(k, req.group >>> 0), extack);
    if (req.ifindex === 0 && req.ifname === undefined) return result(err("EINVAL"), extack);
    return result(err("ENODEV"), extack);
  }
  const ops = found.kind !== null ? k.registry.linkOps.get(found.kind) : undefined;
  if (!ops) return result(err("EOPNOTSUPP"), extack);
  const kill: NetDevice[] = [];
  // rtnl_link_register() gives a kind with setup but no dellink the default
  // unregister_netdevice_queue, so `ip link del` of an ifb works (OBSERVATIONS [05], [12]:
  // "Deleted x: ..."); only devices without rtnl_link_ops (lo, a NIC) get -EOPNOTSUPP.
  if (ops.dellink) ops.dellink(k, found, kill);
  else kill.push(found);
  unregisterNetdeviceMany(k, kill);
  return result(0, extack);
}

/**
 * `ip link delete group N`: every device of group N goes, each through its kind's dellink (a
 * veth takes its peer along, whatever the peer's group), in one unregister_netdevice_many.
 * Measured on 6.18: group 0 -EPERM, an empty group -ENODEV, a device without rtnl_link_ops
 * (lo) in the group -EOPNOTSUPP before anything is deleted.
 * @kernel rtnl_group_dellink() in net/core/rtnetlink.c
 */
function rtnlGroupDellink(k: Kernel, group: number): KRet {
  if (group === 0) return err("EPERM");
  const members = [...k.state.devices.values()].filter((d) => d.group === group);
  if (members.length === 0) return err("ENODEV");
  for (const d of members)
    if (d.kind === null || !k.registry.linkOps.has(d.kind)) return err("EOPNOTSUPP");
  const kill: NetDevice[] = [];
  for (const d of members) {
    const at = kill.indexOf(d);
    if (at >= 0) {
      // Queued already as a veth's peer, whose dellink cleared the peer pointers: this dellink
      // only moves it to the tail of the list (list_move_tail).
      kill.splice(at, 1);
      kill.push(d);
      continue;
    }
    const ops = k.registry.linkOps.get(d.kind as string);
    if (ops?.dellink) ops.dellink(k, d, kill);
    else kill.push(d);
  }
  unregisterNetdeviceMany(k, kill);
  return 0;
}

/**
 * RTM_GETLINK for one device (v6.8+: after running the device's pending linkwatch event).
 * @kernel rtnl_getlink() in net/core/rtnetlink.c: the snapshot or -ENODEV / -EINVAL
 */
export function rtnlGetlink(
  k: Kernel,
  req: { ifindex: number; ifname?: string },
): LinkSnapshot | NegErrno {
  k.registry.beforeRtnl?.(k);
  const attrs: LinkAttrs = req.ifname !== undefined ? { ifname: req.ifname } : {};
  const found = lookup(k, { ifindex: req.ifindex, attrs });
  if (typeof found === "number") return found;
  if (!found) return req.ifindex === 0 && req.ifname === undefined ? err("EINVAL") : err("ENODEV");
  if (k.profile.linkwatchSyncOnQuery) linkwatchSyncDev(k, found);
  return rtnlFillIfinfo(k, found);
}

/** What a caller that reads only ifi_index, IFLA_IFNAME and ifi_flags takes from an answer. */
export interface LinkBrief {
  readonly ifindex: number;
  readonly ifname: string;
  /** ifi_flags (F1). */
  readonly flags: number;
}

/**
 * RTM_GETLINK for one device, for a caller that reads only the index, name and flags of the
 * answer (iproute2's ll_map): the same lookup, errors and side effect (building the answer
 * calls the driver's ndo_get_stats64) as rtnlGetlink, without building the rest.
 * @kernel rtnl_getlink() in net/core/rtnetlink.c: -ENODEV / -EINVAL
 */
export function rtnlGetlinkBrief(
  k: Kernel,
  req: { ifindex: number; ifname?: string },
): LinkBrief | NegErrno {
  k.registry.beforeRtnl?.(k);
  const attrs: LinkAttrs = req.ifname !== undefined ? { ifname: req.ifname } : {};
  const found = lookup(k, { ifindex: req.ifindex, attrs });
  if (typeof found === "number") return found;
  if (!found) return req.ifindex === 0 && req.ifname === undefined ? err("EINVAL") : err("ENODEV");
  if (k.profile.linkwatchSyncOnQuery) linkwatchSyncDev(k, found);
  if (k.registry.drivers.get(found.driver)?.ops.ndoGetStats64) devGetStats(k, found);
  return { ifindex: found.ifindex, ifname: found.name, flags: devGetFlags(found) };
}

/** The dump request's filter attributes: IFLA_MASTER and IFLA_LINKINFO/IFLA_INFO_KIND. */
export interface LinkDumpFilter {
  readonly master?: number;
  readonly kind?: string;
}

/**
 * RTM_GETLINK dump: every device in ifindex order, less those the request's filter drops: a
 * device whose master is not `master`, and (when the kernel knows the kind; an unknown kind
 * filters nothing) a device of another kind.
 * @kernel rtnl_dump_ifinfo() / link_dump_filtered() / linkinfo_to_kind_ops() in
 * net/core/rtnetlink.c
 */
export function rtnlDumpLinks(k: Kernel, filter: LinkDumpFilter = {}): LinkSnapshot[] {
  k.registry.beforeRtnl?.(k);
  const kindOps = filter.kind !== undefined ? k.registry.linkOps.get(filter.kind) : undefined;
  return [...k.state.devices.values()]
    .sort((a, b) => a.ifindex - b.ifindex)
    .filter((d) => {
      if (filter.master) {
        const m = netdevMasterUpperDevGet(k, d);
        if (!m || m.ifindex !== filter.master) return false;
      }
      return !(kindOps && d.kind !== kindOps.kind);
    })
    .map((d) => rtnlFillIfinfo(k, d));
}

/**
 * RTM_NEWLINKPROP / RTM_DELLINKPROP with one IFLA_ALT_IFNAME (RT9); on success
 * netdev_state_change (an RTM_NEWLINK only if the device is up).
 * @kernel rtnl_linkprop() / rtnl_alt_ifname() in net/core/rtnetlink.c: -EOPNOTSUPP before v5.5,
 * -ERANGE (an altname over 127 bytes, policy), -ENODEV, -EEXIST,
 * -ENOENT, -EINVAL
 */
export function rtnlLinkprop(
  k: Kernel,
  req: { op: "add" | "del"; ifindex: number; ifname?: string; altname: string | readonly string[] },
): RtnlResult {
  k.registry.beforeRtnl?.(k);
  const extack: ExtAck = { msg: null };
  if (!k.profile.altnames) return result(err("EOPNOTSUPP"), extack);
  const attrs: LinkAttrs = req.ifname !== undefined ? { ifname: req.ifname } : {};
  const found = lookup(k, { ifindex: req.ifindex, attrs });
  if (typeof found === "number") return result(found, extack);
  if (!found) return result(err("ENODEV"), extack);
  // Every IFLA_ALT_IFNAME of the request in order; the first error stops the rest, and one
  // netdev_state_change covers all names, only when every one succeeded.
  const names = typeof req.altname === "string" ? [req.altname] : req.altname;
  let ret: KRet = 0;
  let changed = false;
  for (const name of names) {
    // rtnl_alt_ifname() validates each IFLA_ALT_IFNAME against ifla_policy (NLA_STRING, at
    // most ALTIFNAMSIZ - 1 = 127 bytes) just before using it.
    if (utf8Length(name) > 127) {
      extack.msg = "Attribute failed policy validation";
      ret = err("ERANGE");
      break;
    }
    ret =
      req.op === "add"
        ? netdevNameNodeAltCreate(k, found, name)
        : netdevNameNodeAltDestroy(k, found, name);
    if (ret) break;
    changed = true;
  }
  // rtnl_linkprop() returns at the first failing name: the names before it stay, but no
  // netdev_state_change announces them (measured on 6.18: no RTM_NEWLINK).
  if (changed && !ret) netdevStateChange(k, found);
  return result(ret, extack);
}

/** Registers a device created outside rtnetlink. Re-exported for drivers. */
export { registerNetdevice };

void IFF;
