// net/core/rtnetlink.c (rtnl_fill_ifinfo, rtmsg_ifinfo) and net/core/dev.c (dev_get_flags,
// netdev_state_change): what an RTM_NEWLINK / RTM_DELLINK carries.

import { addrconfHasIdev } from "./addrconf.ts";
import type { Kernel } from "./kernel.ts";
import {
  IF_OPER,
  IFF,
  type LinkStats,
  type NetDevice,
  NO_NAMES,
  type OperState,
} from "./netdevice.ts";
import { callNetdeviceNotifiers } from "./notifier.ts";
import { devGetStats } from "./xmit.ts";

/**
 * What one RTM_NEWLINK / RTM_DELLINK (or RTM_GETLINK answer) says about a device: the
 * attributes iproute2 prints, taken at the moment the message was built.
 */
export interface LinkSnapshot {
  readonly ifindex: number;
  readonly ifname: string;
  /** ifi_flags (F1). */
  readonly flags: number;
  readonly mtu: number;
  readonly minMtu: number;
  readonly maxMtu: number;
  readonly qdisc: string;
  /** IFLA_MASTER. */
  readonly master: number | null;
  /** IFLA_LINK when it differs from the device itself (0 = peer gone), else null. */
  readonly link: number | null;
  /** IFLA_OPERSTATE as reported (DOWN whenever the device is not running). */
  readonly operstate: OperState;
  readonly linkmode: number;
  readonly group: number;
  readonly txqlen: number;
  readonly linkType: "ether" | "loopback";
  readonly address: string;
  readonly broadcast: string;
  /** IFLA_PERM_ADDRESS (v5.6+, when non-zero). */
  readonly permAddress: string | null;
  readonly altnames: readonly string[];
  /** IFLA_IFALIAS, null when unset. */
  readonly ifalias: string | null;
  /** IFLA_INFO_KIND. */
  readonly kind: string | null;
  readonly numTxQueues: number;
  readonly numRxQueues: number;
  /** IFLA_AF_SPEC carries AF_INET6 (IFLA_INET6_ADDR_GEN_MODE…): the device has an inet6_dev. */
  readonly inet6: boolean;
  /** IFLA_TSO_MAX_SIZE; null when the kernel sends neither it nor IFLA_GRO_MAX_SIZE (< v5.19). */
  readonly tsoMaxSize: number | null;
  readonly promiscuity: number;
  /** IFLA_ALLMULTI; null before v6.1, which did not send it. */
  readonly allmulti: number | null;
  /** IFLA_PARENT_DEV_BUS_NAME / IFLA_PARENT_DEV_NAME (v5.15+). */
  readonly parentBus: string | null;
  readonly parentDev: string | null;
  /** IFLA_PHYS_PORT_NAME. */
  readonly physPortName: string | null;
  readonly carrier: boolean;
  readonly carrierChanges: number;
  readonly carrierUpCount: number;
  readonly carrierDownCount: number;
  /** IFLA_STATS64 (rtnl_fill_stats → dev_get_stats, which may update driver state). */
  readonly stats: LinkStats;
  /** Not a netlink attribute: sysfs `name_assign_type`, carried for run records. */
  readonly nameAssignType: number;
  /** Not a netlink attribute: ethtool driver name. */
  readonly driver: string;
}

/**
 * F1: the flags userspace sees.
 * @kernel dev_get_flags() in net/core/dev.c
 */
export function devGetFlags(dev: NetDevice): number {
  let flags =
    (dev.flags & ~(IFF.PROMISC | IFF.ALLMULTI | IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT)) |
    (dev.gflags & (IFF.PROMISC | IFF.ALLMULTI));
  if (dev.running) {
    if (dev.operstate === IF_OPER.UP || dev.operstate === IF_OPER.UNKNOWN) flags |= IFF.RUNNING;
    if (dev.carrier) flags |= IFF.LOWER_UP;
    if (dev.dormant) flags |= IFF.DORMANT;
  }
  return flags;
}

/**
 * The ifindex a device reports as its link.
 * @kernel dev_get_iflink() in net/core/dev.c
 */
export function devGetIflink(k: Kernel, dev: NetDevice): number {
  const drv = k.registry.drivers.get(dev.driver);
  return drv?.ops.ndoGetIflink ? drv.ops.ndoGetIflink(k, dev) : dev.ifindex;
}

/**
 * Builds the snapshot an RTM_NEWLINK for `dev` carries right now.
 * @kernel rtnl_fill_ifinfo() in net/core/rtnetlink.c
 */
export function rtnlFillIfinfo(k: Kernel, dev: NetDevice): LinkSnapshot {
  const drv = k.registry.drivers.get(dev.driver);
  const iflink = devGetIflink(k, dev);
  let master: number | null = null;
  for (const u of dev.uppers)
    if (u.master) {
      master = u.ifindex;
      break;
    }
  let physPortName: string | null = null;
  if (drv?.ops.ndoGetPhysPortName) {
    const r = drv.ops.ndoGetPhysPortName(k, dev);
    if (typeof r === "string") physPortName = r;
  }
  const p = k.profile;
  const permNonZero = dev.permAddr !== null && dev.permAddr !== "00:00:00:00:00:00";
  return {
    ifindex: dev.ifindex,
    ifname: dev.name,
    flags: devGetFlags(dev),
    mtu: dev.mtu,
    minMtu: dev.minMtu,
    maxMtu: dev.maxMtu,
    qdisc: dev.qdisc,
    master,
    link: iflink !== dev.ifindex ? iflink : null,
    operstate: dev.running ? dev.operstate : IF_OPER.DOWN,
    linkmode: 0,
    group: dev.group,
    txqlen: dev.txQueueLen,
    linkType: dev.type === 772 ? "loopback" : "ether",
    address: dev.devAddr,
    broadcast: dev.broadcast,
    permAddress: p.permAddrAttr && permNonZero ? dev.permAddr : null,
    // Writers replace a device's list and never change it in place: the snapshot shares it.
    altnames: p.altnames ? dev.altnames : NO_NAMES,
    ifalias: dev.ifalias ?? null,
    kind: dev.kind,
    numTxQueues: dev.numTxQueues,
    numRxQueues: dev.numRxQueues,
    inet6: addrconfHasIdev(k, dev),
    tsoMaxSize: p.groTsoMaxAttrs ? dev.tsoMaxSize : null,
    promiscuity: dev.promiscuity,
    allmulti: p.allmultiAttr ? dev.allmulti : null,
    parentBus: p.parentDevAttr && dev.parent ? dev.parent.bus : null,
    parentDev: p.parentDevAttr && dev.parent ? dev.parent.id : null,
    physPortName,
    carrier: dev.carrier,
    carrierChanges: dev.carrierUpCount + dev.carrierDownCount,
    carrierUpCount: dev.carrierUpCount,
    carrierDownCount: dev.carrierDownCount,
    stats: devGetStats(k, dev),
    nameAssignType: dev.nameAssignType,
    driver: drv?.name ?? dev.driver,
  };
}

/**
 * rtnlFillIfinfo for a multicast: the snapshot, or null when nobody keeps or hears
 * `kernel.rtnl` events (then only the fill's side effect runs: the driver's ndo_get_stats64,
 * which the kernel calls whether or not anyone listens).
 */
export function rtnlFillForNotify(k: Kernel, dev: NetDevice): LinkSnapshot | null {
  if (k.trace.wants("kernel.rtnl")) return rtnlFillIfinfo(k, dev);
  if (k.registry.drivers.get(dev.driver)?.ops.ndoGetStats64) devGetStats(k, dev);
  return null;
}

/** IFLA_EVENT names per netdev event (RT8). */
const IFLA_EVENT: Partial<Record<string, string>> = {
  NETDEV_REBOOT: "REBOOT",
  NETDEV_FEAT_CHANGE: "FEATURES",
  NETDEV_BONDING_FAILOVER: "BONDING_FAILOVER",
  NETDEV_NOTIFY_PEERS: "NOTIFY_PEERS",
  NETDEV_RESEND_IGMP: "IGMP_RESEND",
  NETDEV_CHANGEINFODATA: "BONDING_OPTIONS",
};

/** The IFLA_EVENT value for a netdev event, or null. */
export function iflaEventFor(event: string): string | null {
  return IFLA_EVENT[event] ?? null;
}

/**
 * Multicasts an RTM_NEWLINK for `dev` to RTNLGRP_LINK; dropped unless the device is
 * REGISTERED (RT8).
 * @kernel rtmsg_ifinfo_event() in net/core/rtnetlink.c
 */
export function rtmsgIfinfo(
  k: Kernel,
  dev: NetDevice,
  change: number,
  event: string | null = null,
): void {
  if (dev.regState !== "REGISTERED") return;
  const link = rtnlFillForNotify(k, dev);
  if (link === null) k.trace.skip();
  else k.trace.emit({ type: "kernel.rtnl", msg: "RTM_NEWLINK", change, event, link });
}

/**
 * O4: if the device is up, NETDEV_CHANGE then RTM_NEWLINK; otherwise nothing.
 * @kernel netdev_state_change() in net/core/dev.c
 */
export function netdevStateChange(k: Kernel, dev: NetDevice): void {
  if (dev.flags & IFF.UP) {
    callNetdeviceNotifiers(k, "NETDEV_CHANGE", dev, { flagsChanged: 0 });
    rtmsgIfinfo(k, dev, 0);
  }
}
