// include/linux/netdevice.h, include/uapi/linux/if.h, include/uapi/linux/netdevice.h:
// the net_device record and its constants.

import { sharedConstant } from "../sim/clone.ts";

/** Public device flags (`dev->flags`, `ifi_flags`), include/uapi/linux/if.h. */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/** Private flags (`dev->priv_flags`), never visible to userspace. Mainline bit values. */
export const IFF_PRIV = {
  IFF_XMIT_DST_RELEASE: 1 << 5,
  IFF_TX_SKB_SHARING: 1 << 11,
  IFF_UNICAST_FLT: 1 << 12,
  IFF_LIVE_ADDR_CHANGE: 1 << 15,
  IFF_NO_QUEUE: 1 << 21,
  IFF_NO_RX_HANDLER: 1 << 26,
  IFF_FAILOVER: 1 << 27,
  IFF_FAILOVER_SLAVE: 1 << 28,
  IFF_L3MDEV_RX_HANDLER: 1 << 29,
  /** E1 only (v5.1 .. v6.1). */
  IFF_LIVE_RENAME_OK: 1 << 30,
  /** E2 (v6.2+) re-uses bit 30; modelled as its own bit so the two can never be confused. */
  IFF_NO_ADDRCONF: 2 ** 31,
} as const;

/** `name_assign_type`, include/uapi/linux/netdevice.h. */
export const NET_NAME = { UNKNOWN: 0, ENUM: 1, PREDICTABLE: 2, USER: 3, RENAMED: 4 } as const;
export type NameAssignType = (typeof NET_NAME)[keyof typeof NET_NAME];

/** `addr_assign_type`. */
export const NET_ADDR = { PERM: 0, RANDOM: 1, STOLEN: 2, SET: 3 } as const;
export type AddrAssignType = (typeof NET_ADDR)[keyof typeof NET_ADDR];

/** RFC 2863 operstate, include/uapi/linux/if.h `IF_OPER_*`. */
export const IF_OPER = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;
export type OperState = (typeof IF_OPER)[keyof typeof IF_OPER];

/** ARPHRD_* device types used by the model. */
export const ARPHRD = { ETHER: 1, LOOPBACK: 772 } as const;

/** Registration state (`dev->reg_state`). */
export type RegState = "UNINITIALIZED" | "REGISTERED" | "UNREGISTERING" | "UNREGISTERED";

/** IFNAMSIZ: names are at most 15 bytes plus the NUL. */
export const IFNAMSIZ = 16;
/** ALTIFNAMSIZ: altnames are at most 127 bytes plus the NUL. */
export const ALTIFNAMSIZ = 128;

/** A device's parent in the driver model (the `struct device` its netdev hangs off). */
export interface ParentDevice {
  /** Identity of the parent object (STANDBY-TEST compares these), e.g. "virtio0", "0000:00:04.0". */
  readonly id: string;
  /** Bus name, e.g. "pci", "virtio". */
  readonly bus: string;
  /** Name of the driver bound to the parent, used in log prefixes ("virtio_net", "e1000e"). */
  readonly driver: string;
  /** sysfs path of the parent under /sys, e.g. "/devices/pci0000:00/0000:00:03.0/virtio0". */
  readonly devpath: string;
}

/** An upper/lower adjacency (U1): `master` marks the master link. */
export interface Adjacency {
  readonly ifindex: number;
  readonly master: boolean;
}

/**
 * The model's `struct net_device`: plain data only (no closures), so that the explorer can
 * clone, serialise and hash it. Behaviour lives in the driver registry, keyed by `driver`.
 */
export interface NetDevice {
  ifindex: number;
  name: string;
  /** Alternative names (a new device shares NO_NAMES; writers replace the list). */
  altnames: readonly string[];
  /** IFLA_IFALIAS (`ip link set … alias`), absent when unset or cleared. */
  ifalias?: string;
  nameAssignType: NameAssignType;
  type: number;
  /** Key into the kernel's driver registry (the model's `netdev_ops`). */
  driver: string;
  /** `rtnl_link_ops->kind` for devices created through rtnetlink ("veth", "ifb"), else null. */
  kind: string | null;
  /** RTNL_LINK_INITIALIZED once rtnl_configure_link ran (devices without rtnl_link_ops: always). */
  rtnlLinkInitialized: boolean;
  devAddr: string;
  permAddr: string | null;
  addrAssignType: AddrAssignType;
  broadcast: string;
  parent: ParentDevice | null;
  /** Public flags as stored (`dev->flags`). */
  flags: number;
  /** Flags the user asked for (`dev->gflags`: PROMISC, ALLMULTI). */
  gflags: number;
  /** `dev->promiscuity` / `dev->allmulti`: how many asked for IFF_PROMISC / IFF_ALLMULTI. */
  promiscuity: number;
  allmulti: number;
  privFlags: number;
  /** `__LINK_STATE_START`: netif_running(). */
  running: boolean;
  /** Carrier bit (`!__LINK_STATE_NOCARRIER`). */
  carrier: boolean;
  /** `__LINK_STATE_PRESENT`: netif_device_present(). */
  present: boolean;
  dormant: boolean;
  /** `dev->operstate`, as last computed by linkwatch. */
  operstate: OperState;
  /** `__LINK_STATE_LINKWATCH_PENDING`. */
  linkwatchPending: boolean;
  regState: RegState;
  mtu: number;
  minMtu: number;
  maxMtu: number;
  txQueueLen: number;
  numTxQueues: number;
  numRxQueues: number;
  /**
   * IFLA_TSO_MAX_SIZE: TSO_LEGACY_MAX_SIZE (65536) unless the driver raised it with
   * netif_set_tso_max_size (lo, veth, ifb: GSO_MAX_SIZE 524280).
   */
  tsoMaxSize: number;
  group: number;
  /**
   * Root qdisc kind: "noop" until the first activation (dev_activate → attach_default_qdiscs),
   * then kept across down/up; back to "noop" at unregistration (dev_shutdown).
   */
  qdisc: string;
  /**
   * The tx queues point at the root qdisc (`dev_queue->qdisc == qdisc_sleeping`): set by
   * dev_activate when the carrier is on, cleared by dev_deactivate (close, carrier loss).
   * While the root qdisc is attached but the queues are not active, qdisc_tx_changing() is
   * true and a carrier event is urgent for linkwatch.
   */
  txActive: boolean;
  /**
   * Driver-counted interface statistics (`rtnl_link_stats64`, the modelled fields). A new device
   * shares ZERO_STATS; count through `statsOf(dev)`, which gives it its own copy first.
   */
  stats: Readonly<LinkStats>;
  /**
   * `dev->core_stats`: drops the core counts on top of the driver's statistics (ZERO_CORE_STATS
   * until the first count; count through `coreStatsOf(dev)`).
   */
  coreStats: Readonly<CoreStats>;
  /** Upper devices (at most one with master: true), in link order; writers replace the list. */
  uppers: readonly Adjacency[];
  lowers: readonly Adjacency[];
  /** Name of the installed rx handler in the code registry, or null (U3). */
  rxHandler: string | null;
  /** ifindex of the rx handler's data device (e.g. the failover master), or null. */
  rxHandlerData: number | null;
  carrierUpCount: number;
  carrierDownCount: number;
  /**
   * Driver-private state (`netdev_priv`), plain data. A new device shares NO_PRIV (frozen);
   * write through `privOf(dev)`, which gives it its own object first.
   */
  priv: Readonly<Record<string, unknown>>;
}

/** `dev->core_stats`, the modelled fields. */
export interface CoreStats {
  rxDropped: number;
  txDropped: number;
  rxNohandler: number;
}

/**
 * `struct rtnl_link_stats64`, in the kernel's field order (net_failover folds them field by
 * field). Values are exact integers below 2^53.
 */
export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
  rxMissedErrors: number;
  txCarrierErrors: number;
  rxNohandler: number;
}

/** The stats fields in kernel order. */
export const LINK_STATS_FIELDS: readonly (keyof LinkStats)[] = [
  "rxPackets",
  "txPackets",
  "rxBytes",
  "txBytes",
  "rxErrors",
  "txErrors",
  "rxDropped",
  "txDropped",
  "multicast",
  "collisions",
  "rxMissedErrors",
  "txCarrierErrors",
  "rxNohandler",
];

/** All-zero statistics. */
export function zeroStats(): LinkStats {
  return {
    rxPackets: 0,
    txPackets: 0,
    rxBytes: 0,
    txBytes: 0,
    rxErrors: 0,
    txErrors: 0,
    rxDropped: 0,
    txDropped: 0,
    multicast: 0,
    collisions: 0,
    rxMissedErrors: 0,
    txCarrierErrors: 0,
    rxNohandler: 0,
  };
}

// ─── shared starting values (copy on write) ─────────────────────────────────────────────
// Most devices never get an altname, an adjacency, a counted packet or driver-private state:
// they share these frozen constants (`sharedConstant`: snapshots keep them by reference) instead
// of carrying ~330 bytes of empty lists and zero counters each. The JSON of a device, and so its
// state key, is the same as with fresh empty values.

/** The statistics of a device that has counted nothing. */
export const ZERO_STATS: Readonly<LinkStats> = sharedConstant(zeroStats());
/** The core statistics of a device that has counted nothing. */
export const ZERO_CORE_STATS: Readonly<CoreStats> = sharedConstant({
  rxDropped: 0,
  txDropped: 0,
  rxNohandler: 0,
});
/** No altnames. */
export const NO_NAMES: readonly string[] = sharedConstant<string[]>([]);
/** No upper or lower devices. */
export const NO_ADJACENCY: readonly Adjacency[] = sharedConstant<Adjacency[]>([]);
/** No driver-private state. */
export const NO_PRIV: Readonly<Record<string, unknown>> = sharedConstant({});

/** `dev.stats` to count into: the device's own copy (made from the shared zeros at the first count). */
export function statsOf(dev: NetDevice): LinkStats {
  if (dev.stats === ZERO_STATS) dev.stats = zeroStats();
  return dev.stats as LinkStats;
}

/** `dev.coreStats` to count into: the device's own copy (made at the first count). */
export function coreStatsOf(dev: NetDevice): CoreStats {
  if (dev.coreStats === ZERO_CORE_STATS)
    dev.coreStats = { rxDropped: 0, txDropped: 0, rxNohandler: 0 };
  return dev.coreStats as CoreStats;
}

/** `dev.priv` to write into: the device's own object (made at the first write). */
export function privOf(dev: NetDevice): Record<string, unknown> {
  if (dev.priv === NO_PRIV) dev.priv = {};
  return dev.priv as Record<string, unknown>;
}
