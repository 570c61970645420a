// drivers/net/net_failover.c: the 3-netdev failover master (spec §B9). It fills in the
// generic failover ops table and drives a primary (a PCI VF) and a standby (virtio-net).

import {
  allocNetdev,
  devClose,
  devOpen,
  devSetMtu,
  netdevByRef,
  netdevLog,
  registerNetdev,
  unregisterNetdevice,
} from "../dev.ts";
import { err, type KRet, type NegErrno } from "../errno.ts";
import {
  type FailoverInstance,
  type FailoverOps,
  failoverInit,
  failoverRegister,
  failoverRegisterOps,
  failoverSlaveUnregister,
  failoverUnregister,
} from "../failover.ts";
import {
  bugOn,
  cancelWork,
  type FrameBatch,
  type Kernel,
  klog,
  type NetDriver,
  queueWork,
  type RxHandlerFn,
  warnOnOnce,
  type XmitOutcome,
} from "../kernel.ts";
import { netifCarrierOff, netifCarrierOn } from "../link-watch.ts";
import {
  coreStatsOf,
  IFF_PRIV,
  LINK_STATS_FIELDS,
  type LinkStats,
  NET_NAME,
  type NetDevice,
  privOf,
  zeroStats,
} from "../netdevice.ts";
import { callNetdeviceNotifiers } from "../notifier.ts";
import { devGetStats, devQueueXmit } from "../xmit.ts";

/** Driver name (ethtool -i), `FAILOVER_NAME`. */
export const NET_FAILOVER = "net_failover";
/** `FAILOVER_VERSION`. */
export const NET_FAILOVER_VERSION = "0.1";
/** The rx handler installed on both slaves. */
export const NET_FAILOVER_RX_HANDLER = "net_failover_handle_frame";
/** UEK-only delayed primary open (`nfo_info->takeover`). */
export const NET_FAILOVER_TAKEOVER_WORK = "net_failover_takeover_primary";
/** Number of tx/rx queues of the master ("for now we are going with 16"). */
export const NET_FAILOVER_QUEUES = 16;

/** `struct net_failover_info`, kept in the master's `priv` as plain data. */
export interface NetFailoverInfo {
  primary: number | null;
  standby: number | null;
  primaryStats: LinkStats;
  standbyStats: LinkStats;
  failoverStats: LinkStats;
}

/** The master's private data. */
export function nfoInfo(master: NetDevice): NetFailoverInfo {
  const info = master.priv.nfo as NetFailoverInfo | undefined;
  bugOn(!info, `${master.name} is not a net_failover master`);
  return info as NetFailoverInfo;
}

/** The slave or master a pointer in `nfo_info` refers to (valid while it unregisters). */
function devOf(k: Kernel, ifindex: number | null): NetDevice | null {
  return ifindex === null ? null : (netdevByRef(k, ifindex) ?? null);
}

function primaryOf(k: Kernel, master: NetDevice): NetDevice | null {
  return devOf(k, nfoInfo(master).primary);
}

function standbyOf(k: Kernel, master: NetDevice): NetDevice | null {
  return devOf(k, nfoInfo(master).standby);
}

/** xmit_ready(d) = running and carrier on. @kernel net_failover_xmit_ready() */
export function netFailoverXmitReady(dev: NetDevice): boolean {
  return dev.running && dev.carrier;
}

/** STANDBY-TEST: the slave shares the master's parent device. */
export function slaveIsStandby(slave: NetDevice, master: NetDevice): boolean {
  // `slave_dev->dev.parent == failover_dev->dev.parent`: two NULL parents are equal too.
  return (slave.parent?.id ?? null) === (master.parent?.id ?? null);
}

/**
 * NF-STATS fold: adds each field's positive delta; a field whose old and new values both fit
 * in 32 bits uses 32-bit wrap-around arithmetic.
 * @kernel net_failover_fold_stats()
 */
export function foldStats(res: LinkStats, now: LinkStats, old: LinkStats): void {
  for (const f of LINK_STATS_FIELDS) {
    const nv = now[f];
    const ov = old[f];
    let delta = nv - ov;
    if (nv < 2 ** 32 && ov < 2 ** 32) delta = ((nv - ov) | 0) as number;
    if (delta > 0) res[f] += delta;
  }
}

/**
 * NF-STATS: aggregate = previous aggregate + positive deltas of primary and standby since their
 * last snapshot; the snapshots are updated (reading the master's stats changes driver state).
 * @kernel net_failover_get_stats()
 */
function netFailoverGetStats(k: Kernel, master: NetDevice): LinkStats {
  const info = nfoInfo(master);
  const stats = { ...info.failoverStats };
  const primary = primaryOf(k, master);
  if (primary) {
    const now = devGetStats(k, primary);
    foldStats(stats, now, info.primaryStats);
    info.primaryStats = now;
  }
  const standby = standbyOf(k, master);
  if (standby) {
    const now = devGetStats(k, standby);
    foldStats(stats, now, info.standbyStats);
    info.standbyStats = now;
  }
  info.failoverStats = { ...stats };
  return stats;
}

/**
 * `dev_get_stats(failover_dev, &nfo_info->failover_stats)`: dev_get_stats zeroes its storage
 * before calling ndo_get_stats64, and the storage here *is* the aggregate, so the aggregate
 * restarts from the deltas since the last read; the core drops are then added into it. This is
 * what the kernel does (NF-UNREG step 3, NF-LC when no slave is ready): the master's counters
 * drop back at those moments.
 */
function snapshotMasterStats(k: Kernel, master: NetDevice): void {
  const info = nfoInfo(master);
  info.failoverStats = zeroStats();
  info.failoverStats = devGetStats(k, master);
}

/**
 * NF-LS: announces the slave's LAG lower state (NETDEV_CHANGELOWERSTATE → RTM_NEWLINK).
 * @kernel net_failover_lower_state_changed()
 */
function lowerStateChanged(
  k: Kernel,
  slave: NetDevice,
  primary: NetDevice | null,
  standby: NetDevice | null,
): void {
  const linkUp = slave.carrier;
  let txEnabled: boolean;
  if (slave === primary) txEnabled = slave.running;
  else txEnabled = !(primary?.running || !(standby as NetDevice).running);
  callNetdeviceNotifiers(k, "NETDEV_CHANGELOWERSTATE", slave, {
    lowerState: { linkUp, txEnabled },
  });
}

/**
 * Recomputes the master's features from its slaves and announces them: always one
 * NETDEV_FEAT_CHANGE (→ RTM_NEWLINK with IFLA_EVENT FEATURES, "event FEATURE CHANGE").
 * @kernel net_failover_compute_features() → netdev_change_features()
 */
function computeFeatures(k: Kernel, master: NetDevice): void {
  callNetdeviceNotifiers(k, "NETDEV_FEAT_CHANGE", master);
}

// ─── master ndo ops ───────────────────────────────────────────────────────────────────────

/**
 * NF-OPEN: open the primary, then the standby; carrier on if either is xmit-ready.
 * @kernel net_failover_open(): 0 or the slave's open error (the primary is closed again when
 * the standby fails; v5.8+ only when there is a primary — the model has no NULL deref)
 */
function netFailoverOpen(k: Kernel, master: NetDevice): KRet {
  const primary = primaryOf(k, master);
  if (primary) {
    const e = devOpen(k, primary);
    if (e) return e;
  }
  const standby = standbyOf(k, master);
  if (standby) {
    const e = devOpen(k, standby);
    if (e) {
      if (primary) devClose(k, primary);
      return e;
    }
  }
  if ((primary && netFailoverXmitReady(primary)) || (standby && netFailoverXmitReady(standby))) {
    netifCarrierOn(k, master);
  }
  return 0;
}

/** NF-STOP: close the primary, then the standby. @kernel net_failover_close() */
function netFailoverClose(k: Kernel, master: NetDevice): void {
  const primary = primaryOf(k, master);
  if (primary) devClose(k, primary);
  const standby = standbyOf(k, master);
  if (standby) devClose(k, standby);
}

/**
 * NF-XMIT: via the primary if xmit-ready, else the standby if xmit-ready, else drop (the
 * master's core tx_dropped counts it).
 * @kernel net_failover_start_xmit()
 */
function netFailoverStartXmit(k: Kernel, master: NetDevice, batch: FrameBatch): XmitOutcome {
  let xmit = primaryOf(k, master);
  if (!xmit || !netFailoverXmitReady(xmit)) {
    xmit = standbyOf(k, master);
    if (!xmit || !netFailoverXmitReady(xmit)) {
      coreStatsOf(master).txDropped += batch.frames;
      return { sentOn: null, dropped: batch.frames, droppedBy: master.name };
    }
  }
  return devQueueXmit(k, xmit, batch);
}

/**
 * NF-MTU: primary, then standby (a standby failure puts the primary back), then the master.
 * @kernel net_failover_change_mtu()
 */
function netFailoverChangeMtu(k: Kernel, master: NetDevice, mtu: number): KRet {
  const primary = primaryOf(k, master);
  if (primary) {
    const e = devSetMtu(k, primary, mtu);
    if (e) return e;
  }
  const standby = standbyOf(k, master);
  if (standby) {
    const e = devSetMtu(k, standby, mtu);
    if (e) {
      if (primary) devSetMtu(k, primary, master.mtu);
      return e;
    }
  }
  master.mtu = mtu;
  return 0;
}

/**
 * NF-RX: a frame on the standby while a primary exists is only for handlers bound exactly to
 * the standby; everything else is re-targeted to the master.
 * @kernel net_failover_handle_frame()
 */
export const netFailoverHandleFrame: RxHandlerFn = (k, dev, data) => {
  const master = devOf(k, data);
  bugOn(!master, `net_failover rx handler on ${dev.name} without a master`);
  const m = master as NetDevice;
  const info = nfoInfo(m);
  if (info.primary !== null && dev.ifindex === info.standby) return { result: "EXACT" };
  return { result: "ANOTHER", dev: m.ifindex };
};

/** The master's `net_device_ops` (no ndo_set_mac_address: address changes are refused). */
export const NET_FAILOVER_DRIVER: NetDriver = {
  name: NET_FAILOVER,
  ops: {
    ethValidateAddr: true,
    ndoOpen: netFailoverOpen,
    ndoStop: netFailoverClose,
    ndoStartXmit: netFailoverStartXmit,
    ndoGetStats64: netFailoverGetStats,
    ndoChangeMtu: netFailoverChangeMtu,
  },
};

// ─── failover ops ─────────────────────────────────────────────────────────────────────────

/** NF-PRE. @kernel net_failover_slave_pre_register(): 0 or -EINVAL */
function slavePreRegister(k: Kernel, slave: NetDevice, master: NetDevice): KRet {
  const standby = slaveIsStandby(slave, master);
  const info = nfoInfo(master);
  if (standby ? info.standby !== null : info.primary !== null) {
    netdevLog(
      k,
      master,
      "err",
      `${slave.name} attempting to register as slave dev when ${standby ? "standby" : "primary"} already present`,
    );
    return err("EINVAL");
  }
  if (!standby && (slave.parent === null || slave.parent.bus !== "pci")) return err("EINVAL");
  // Step 3 (VLAN-challenged master with VLANs) cannot arise: the model has no VLANs.
  return 0;
}

/** NF-REG. @kernel net_failover_slave_register(): 0, the MTU error, or a non-EBUSY open error */
function slaveRegister(k: Kernel, slave: NetDevice, master: NetDevice): KRet {
  const origMtu = slave.mtu;
  let e = devSetMtu(k, slave, master.mtu);
  if (e) {
    netdevLog(
      k,
      master,
      "err",
      `unable to change mtu of ${slave.name} to ${master.mtu} register failed`,
    );
    return e;
  }
  const standby = slaveIsStandby(slave, master);
  const delay = k.profile.takeoverDelayMs;
  if (master.running) {
    if (delay !== null && delay > 0 && !standby) {
      // UEK5 only: schedule_delayed_work(&nfo_info->takeover, takeover_delay).
      queueWork(
        k,
        NET_FAILOVER_TAKEOVER_WORK,
        k.clock.now() + delay * 1000,
        String(master.ifindex),
      );
    } else {
      e = devOpen(k, slave);
      if (e && e !== err("EBUSY")) {
        netdevLog(k, master, "err", `Opening slave ${slave.name} failed err:${e}`);
        devSetMtu(k, slave, origMtu);
        return e;
      }
    }
  }
  // Address-list sync and VLAN ids: nothing to copy in the model (no VLANs, no extra addresses).
  const info = nfoInfo(master);
  if (standby) {
    info.standby = slave.ifindex;
    info.standbyStats = devGetStats(k, slave);
  } else {
    info.primary = slave.ifindex;
    info.primaryStats = devGetStats(k, slave);
    master.minMtu = slave.minMtu;
    master.maxMtu = slave.maxMtu;
  }
  lowerStateChanged(k, slave, primaryOf(k, master), standbyOf(k, master));
  computeFeatures(k, master);
  callNetdeviceNotifiers(k, "NETDEV_JOIN", slave);
  netdevLog(
    k,
    master,
    "info",
    `failover ${standby ? "standby" : "primary"} slave:${slave.name} registered`,
  );
  return 0;
}

/** NF-PREU. @kernel net_failover_slave_pre_unregister(): 0 or -ENODEV */
function slavePreUnregister(k: Kernel, slave: NetDevice, master: NetDevice): KRet {
  void k;
  const info = nfoInfo(master);
  if (slave.ifindex !== info.primary && slave.ifindex !== info.standby) return err("ENODEV");
  return 0;
}

/** NF-UNREG. @kernel net_failover_slave_unregister(): 0 or -ENODEV (with a one-time WARN) */
function slaveUnregister(k: Kernel, slave: NetDevice, master: NetDevice): KRet {
  const info = nfoInfo(master);
  if (
    warnOnOnce(
      k,
      "net_failover_slave_unregister",
      slave.ifindex !== info.primary && slave.ifindex !== info.standby,
      `net_failover_slave_unregister: ${slave.name} is neither primary nor standby`,
    )
  ) {
    return err("ENODEV");
  }
  const standbyDev = standbyOf(k, master);
  devClose(k, slave);
  snapshotMasterStats(k, master);
  const standby = slaveIsStandby(slave, master);
  if (standby) info.standby = null;
  else {
    info.primary = null;
    if (standbyDev) {
      master.minMtu = standbyDev.minMtu;
      master.maxMtu = standbyDev.maxMtu;
    }
  }
  computeFeatures(k, master);
  netdevLog(
    k,
    master,
    "info",
    `failover ${standby ? "standby" : "primary"} slave:${slave.name} unregistered`,
  );
  return 0;
}

/** NF-LC. @kernel net_failover_slave_link_change(): 0 or -ENODEV */
function slaveLinkChange(k: Kernel, slave: NetDevice, master: NetDevice): KRet {
  const info = nfoInfo(master);
  if (slave.ifindex !== info.primary && slave.ifindex !== info.standby) return err("ENODEV");
  const primary = primaryOf(k, master);
  const standby = standbyOf(k, master);
  if ((primary && netFailoverXmitReady(primary)) || (standby && netFailoverXmitReady(standby))) {
    netifCarrierOn(k, master);
  } else {
    snapshotMasterStats(k, master);
    netifCarrierOff(k, master);
  }
  lowerStateChanged(k, slave, primary, standby);
  return 0;
}

/**
 * NF-NC: open the renamed slave (it may have failed to open with -EBUSY at registration).
 * UEK variant: open only while the master runs (always true here), then announce the lower
 * state.
 * @kernel net_failover_slave_name_change(): 0 or -ENODEV
 */
function slaveNameChange(k: Kernel, slave: NetDevice, master: NetDevice): KRet {
  const info = nfoInfo(master);
  if (slave.ifindex !== info.primary && slave.ifindex !== info.standby) return err("ENODEV");
  devOpen(k, slave);
  if (k.profile.takeoverDelayMs !== null && master.running) {
    lowerStateChanged(k, slave, primaryOf(k, master), standbyOf(k, master));
  }
  return 0;
}

/** The failover ops table net_failover registers (`net_failover_ops`). */
export const NET_FAILOVER_OPS: FailoverOps = {
  slavePreRegister,
  slaveRegister,
  slavePreUnregister,
  slaveUnregister,
  slaveLinkChange,
  slaveNameChange,
  slaveHandleFrame: NET_FAILOVER_RX_HANDLER,
};

/**
 * UEK5 only: the delayed open of a newly registered primary.
 * @kernel net_failover_takeover_primary() in oracle/linux-uek (0922f5a05d50)
 */
function takeoverPrimary(k: Kernel, arg?: string): void {
  const master = devOf(k, Number(arg));
  if (!master || master.driver !== NET_FAILOVER) return;
  const primary = primaryOf(k, master);
  const standby = standbyOf(k, master);
  if (primary && master.running) {
    const e = devOpen(k, primary);
    if (e) netdevLog(k, master, "err", `Opening primary ${primary.name} failed err:${e}`);
    else lowerStateChanged(k, primary, primary, standby);
  }
}

/** Loads the module (and the generic failover module it depends on). Idempotent. */
export function netFailoverInit(k: Kernel): void {
  failoverInit(k);
  k.registry.drivers.set(NET_FAILOVER, NET_FAILOVER_DRIVER);
  k.registry.rxHandlers.set(NET_FAILOVER_RX_HANDLER, netFailoverHandleFrame);
  k.registry.work.set(NET_FAILOVER_TAKEOVER_WORK, takeoverPrimary);
  failoverRegisterOps(k, NET_FAILOVER, NET_FAILOVER_OPS);
}

/** dev_err(): "<driver> <device>: <msg>" for a parent device. */
function parentLog(k: Kernel, dev: NetDevice, msg: string): void {
  klog(k, "err", dev.parent ? `${dev.parent.driver} ${dev.parent.id}: ${msg}` : msg);
}

/**
 * NF-CREATE: allocates ("eth%d", 16 queues, the standby's parent, MAC and MTU range),
 * registers the master, turns its carrier off and registers the failover instance.
 * @kernel net_failover_create(): the instance or register_netdev's / failover_register's error
 */
export function netFailoverCreate(k: Kernel, standby: NetDevice): FailoverInstance | NegErrno {
  netFailoverInit(k);
  const master = allocNetdev(k, {
    name: "eth%d",
    nameAssignType: k.profile.etherdevNameEnum ? NET_NAME.ENUM : NET_NAME.UNKNOWN,
    driver: NET_FAILOVER,
    parent: standby.parent,
    numTxQueues: NET_FAILOVER_QUEUES,
    numRxQueues: NET_FAILOVER_QUEUES,
  });
  master.privFlags |= IFF_PRIV.IFF_UNICAST_FLT | IFF_PRIV.IFF_NO_QUEUE;
  master.privFlags &= ~(IFF_PRIV.IFF_XMIT_DST_RELEASE | IFF_PRIV.IFF_TX_SKB_SHARING);
  master.devAddr = standby.devAddr;
  master.minMtu = standby.minMtu;
  master.maxMtu = standby.maxMtu;
  const info: NetFailoverInfo = {
    primary: null,
    standby: null,
    primaryStats: zeroStats(),
    standbyStats: zeroStats(),
    failoverStats: zeroStats(),
  };
  privOf(master).nfo = info;
  const e = registerNetdev(k, master);
  if (e) {
    parentLog(k, standby, "Unable to register failover_dev!");
    return e;
  }
  netifCarrierOff(k, master);
  const inst = failoverRegister(k, master, NET_FAILOVER);
  if (typeof inst === "number") {
    unregisterNetdevice(k, master);
    return inst;
  }
  return inst;
}

/**
 * NF-DESTROY: detach the master, unregister primary then standby from failover, drop the
 * instance and unregister the master. The former primary stays as an independent device.
 * @kernel net_failover_destroy()
 */
export function netFailoverDestroy(k: Kernel, inst: FailoverInstance | null): void {
  if (!inst) return;
  const master = devOf(k, inst.master);
  bugOn(!master, "netFailoverDestroy: master gone");
  const m = master as NetDevice;
  cancelWork(k, NET_FAILOVER_TAKEOVER_WORK, String(m.ifindex));
  m.present = false; // netif_device_detach()
  const primary = primaryOf(k, m);
  if (primary) failoverSlaveUnregister(k, primary);
  const standby = standbyOf(k, m);
  if (standby) failoverSlaveUnregister(k, standby);
  failoverUnregister(k, inst);
  unregisterNetdevice(k, m);
}

/** The master's slaves as names (for tools and invariants). */
export function netFailoverSlaves(
  k: Kernel,
  master: NetDevice,
): { primary: NetDevice | null; standby: NetDevice | null } {
  return { primary: primaryOf(k, master), standby: standbyOf(k, master) };
}
