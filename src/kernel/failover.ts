// net/core/failover.c: the generic failover module (spec §B8). One netdev notifier that
// auto-enslaves a device whose permanent MAC equals a registered master's and forwards slave
// events to the master's ops table. The core (dev.ts) never imports this file: failover hooks
// in through the notifier chain, as in Linux.

import {
  netdevLog,
  netdevMasterUpperDevLink,
  netdevRxHandlerRegister,
  netdevRxHandlerUnregister,
  netdevUpperDevUnlink,
} from "./dev.ts";
import { err, type KRet } from "./errno.ts";
import { bugOn, type Kernel, type NotifierFn } from "./kernel.ts";
import { ARPHRD, IFF_PRIV, type NetDevice } from "./netdevice.ts";
import { NOTIFY_DONE, NOTIFY_OK, registerNetdeviceNotifier } from "./notifier.ts";
import type { KernelProfile } from "./profile.ts";

/**
 * `struct failover_ops`: what a failover driver (net_failover) plugs in. Every callback
 * returns 0 or a negative errno, like the kernel's.
 */
export interface FailoverOps {
  slavePreRegister?(k: Kernel, slave: NetDevice, master: NetDevice): KRet;
  slaveRegister?(k: Kernel, slave: NetDevice, master: NetDevice): KRet;
  slavePreUnregister?(k: Kernel, slave: NetDevice, master: NetDevice): KRet;
  slaveUnregister?(k: Kernel, slave: NetDevice, master: NetDevice): KRet;
  slaveLinkChange?(k: Kernel, slave: NetDevice, master: NetDevice): KRet;
  slaveNameChange?(k: Kernel, slave: NetDevice, master: NetDevice): KRet;
  /** Name of the rx handler (in `k.registry.rxHandlers`) installed on each slave. */
  readonly slaveHandleFrame: string;
}

/** One registered failover instance (`struct failover`), plain data. */
export interface FailoverInstance {
  /** ifindex of the master netdev. */
  readonly master: number;
  /** Key of the ops table in the failover ops registry. */
  readonly ops: string;
}

/** The module's state in `k.state.subsys.failover`. */
export interface FailoverState {
  /** `failover_list`, in insertion order. */
  list: FailoverInstance[];
}

/** The notifier block's name in the chain. */
export const FAILOVER_NOTIFIER = "failover";

const SUBSYS = "failover";

function state(k: Kernel): FailoverState {
  let s = k.state.subsys[SUBSYS] as FailoverState | undefined;
  if (!s) {
    s = { list: [] };
    k.state.subsys[SUBSYS] = s;
  }
  return s;
}

function opsRegistry(k: Kernel): Map<string, FailoverOps> {
  let m = k.registry.modules.get(SUBSYS) as Map<string, FailoverOps> | undefined;
  if (!m) {
    m = new Map();
    k.registry.modules.set(SUBSYS, m);
  }
  return m;
}

/** Makes an ops table known under `name` (a driver does this once, at load). */
export function failoverRegisterOps(k: Kernel, name: string, ops: FailoverOps): void {
  opsRegistry(k).set(name, ops);
}

function opsOf(k: Kernel, inst: FailoverInstance): FailoverOps {
  const ops = opsRegistry(k).get(inst.ops);
  bugOn(!ops, `failover: no ops table "${inst.ops}"`);
  return ops as FailoverOps;
}

/** The instances currently registered (a copy). */
export function failoverInstances(k: Kernel): FailoverInstance[] {
  return [...state(k).list];
}

/**
 * The private flags a successful enslavement sets (FO-SR step 6, per era): E0
 * IFF_FAILOVER_SLAVE; E1 + IFF_LIVE_RENAME_OK (the seed patch); E2 + IFF_NO_ADDRCONF.
 */
export function failoverSlaveFlags(profile: KernelProfile): number {
  switch (profile.era) {
    case "E0":
      return IFF_PRIV.IFF_FAILOVER_SLAVE;
    case "E1":
      return IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_LIVE_RENAME_OK;
    case "E2":
      return IFF_PRIV.IFF_FAILOVER_SLAVE | IFF_PRIV.IFF_NO_ADDRCONF;
  }
}

/** netif_is_failover(): the device is a registered failover master. */
export function netifIsFailover(dev: NetDevice): boolean {
  return (dev.privFlags & IFF_PRIV.IFF_FAILOVER) !== 0;
}

/** netif_is_failover_slave(). */
export function netifIsFailoverSlave(dev: NetDevice): boolean {
  return (dev.privFlags & IFF_PRIV.IFF_FAILOVER_SLAVE) !== 0;
}

/**
 * FO-M: the first instance whose master's perm_addr equals `mac`.
 * @kernel failover_get_bymac() in net/core/failover.c
 */
export function failoverGetByMac(
  k: Kernel,
  mac: string | null,
): { master: NetDevice; inst: FailoverInstance } | null {
  if (mac === null) return null;
  for (const inst of state(k).list) {
    const master = k.state.devices.get(inst.master);
    if (master && master.permAddr === mac) return { master, inst };
  }
  return null;
}

/**
 * FO-SR: tries to enslave `slave` to the failover master with its permanent MAC.
 * @kernel failover_slave_register() in net/core/failover.c: NOTIFY_OK when enslaved, else
 * NOTIFY_DONE (never a veto)
 */
export function failoverSlaveRegister(k: Kernel, slave: NetDevice): number {
  if (slave.type !== ARPHRD.ETHER) return NOTIFY_DONE;
  const found = failoverGetByMac(k, slave.permAddr);
  if (!found) return NOTIFY_DONE;
  const { master, inst } = found;
  const ops = opsOf(k, inst);
  if (ops.slavePreRegister?.(k, slave, master)) return NOTIFY_DONE;
  let e = netdevRxHandlerRegister(k, slave, ops.slaveHandleFrame, master.ifindex);
  if (e) {
    netdevLog(k, slave, "err", `can not register failover rx handler (err = ${e})`);
    return NOTIFY_DONE;
  }
  e = netdevMasterUpperDevLink(k, slave, master);
  if (e) {
    netdevLog(k, slave, "err", `can not set failover device ${master.name} (err = ${e})`);
    netdevRxHandlerUnregister(k, slave);
    return NOTIFY_DONE;
  }
  const flags = failoverSlaveFlags(k.profile);
  slave.privFlags |= flags;
  if (ops.slaveRegister && !ops.slaveRegister(k, slave, master)) return NOTIFY_OK;
  netdevUpperDevUnlink(k, slave, master);
  slave.privFlags &= ~flags;
  netdevRxHandlerUnregister(k, slave);
  return NOTIFY_DONE;
}

/**
 * FO-SU: detaches a failover slave (also called directly by net_failover_destroy).
 * @kernel failover_slave_unregister() in net/core/failover.c: NOTIFY_OK / NOTIFY_DONE
 */
export function failoverSlaveUnregister(k: Kernel, slave: NetDevice): number {
  if (!netifIsFailoverSlave(slave)) return NOTIFY_DONE;
  const found = failoverGetByMac(k, slave.permAddr);
  if (!found) return NOTIFY_DONE;
  const { master, inst } = found;
  const ops = opsOf(k, inst);
  if (ops.slavePreUnregister?.(k, slave, master)) return NOTIFY_DONE;
  netdevRxHandlerUnregister(k, slave);
  netdevUpperDevUnlink(k, slave, master);
  slave.privFlags &= ~failoverSlaveFlags(k.profile);
  if (ops.slaveUnregister && !ops.slaveUnregister(k, slave, master)) return NOTIFY_OK;
  return NOTIFY_DONE;
}

function slaveEvent(
  k: Kernel,
  slave: NetDevice,
  pick: (ops: FailoverOps) => FailoverOps["slaveLinkChange"],
): number {
  if (!netifIsFailoverSlave(slave)) return NOTIFY_DONE;
  const found = failoverGetByMac(k, slave.permAddr);
  if (!found) return NOTIFY_DONE;
  if (!found.master.running) return NOTIFY_DONE;
  const fn = pick(opsOf(k, found.inst));
  if (fn && !fn(k, slave, found.master)) return NOTIFY_OK;
  return NOTIFY_DONE;
}

/**
 * FO-LC: a slave went up/down or changed state while its master is running.
 * @kernel failover_slave_link_change() in net/core/failover.c
 */
export function failoverSlaveLinkChange(k: Kernel, slave: NetDevice): number {
  return slaveEvent(k, slave, (ops) => ops.slaveLinkChange);
}

/**
 * FO-NC: a slave was renamed while its master is running. Never vetoes, so a rename is never
 * rolled back because of failover.
 * @kernel failover_slave_name_change() in net/core/failover.c
 */
export function failoverSlaveNameChange(k: Kernel, slave: NetDevice): number {
  return slaveEvent(k, slave, (ops) => ops.slaveNameChange);
}

/**
 * FO-EV: the notifier callback. Master events are skipped; only NOTIFY_OK / NOTIFY_DONE.
 * @kernel failover_event() in net/core/failover.c
 */
export const failoverEvent: NotifierFn = (k, event, dev) => {
  if (netifIsFailover(dev)) return NOTIFY_DONE;
  switch (event) {
    case "NETDEV_REGISTER":
      return failoverSlaveRegister(k, dev);
    case "NETDEV_UNREGISTER":
      return failoverSlaveUnregister(k, dev);
    case "NETDEV_UP":
    case "NETDEV_DOWN":
    case "NETDEV_CHANGE":
      return failoverSlaveLinkChange(k, dev);
    case "NETDEV_CHANGENAME":
      return failoverSlaveNameChange(k, dev);
    default:
      return NOTIFY_DONE;
  }
};

/**
 * Module init: registers the failover notifier (priority 0, after rtnetlink's). Idempotent,
 * like a module that is already loaded.
 * @kernel failover_init() in net/core/failover.c
 */
export function failoverInit(k: Kernel): void {
  if (k.state.notifiers.some((nb) => nb.name === FAILOVER_NOTIFIER)) return;
  registerNetdeviceNotifier(k, { name: FAILOVER_NOTIFIER, priority: 0 }, failoverEvent);
  state(k);
}

/**
 * FO-R: registers `master` as a failover master with ops table `ops`, then enslaves the
 * devices of its netns that already carry its permanent MAC.
 * @kernel failover_register() in net/core/failover.c: the instance, or -EINVAL (not Ethernet)
 */
export function failoverRegister(
  k: Kernel,
  master: NetDevice,
  ops: string,
): FailoverInstance | ReturnType<typeof err> {
  bugOn(!k.state.notifiers.some((nb) => nb.name === FAILOVER_NOTIFIER), "failover not loaded");
  bugOn(!opsRegistry(k).has(ops), `failoverRegister: unknown ops "${ops}"`);
  if (master.type !== ARPHRD.ETHER) return err("EINVAL");
  master.privFlags |= IFF_PRIV.IFF_FAILOVER;
  const inst: FailoverInstance = { master: master.ifindex, ops };
  state(k).list.push(inst);
  netdevLog(k, master, "info", `failover master:${master.name} registered`);
  // FO-R5: failover_existing_slave_register(), over the netns in list order.
  for (const dev of [...k.state.devices.values()]) {
    if (netifIsFailover(dev)) continue;
    if (dev.permAddr !== null && dev.permAddr === master.permAddr) failoverSlaveRegister(k, dev);
  }
  return inst;
}

/**
 * FO-U: removes the instance; does not touch slaves.
 * @kernel failover_unregister() in net/core/failover.c
 */
export function failoverUnregister(k: Kernel, inst: FailoverInstance): void {
  const s = state(k);
  const idx = s.list.findIndex((i) => i.master === inst.master && i.ops === inst.ops);
  bugOn(idx < 0, "failoverUnregister: instance not registered");
  const master = k.state.devices.get(inst.master);
  bugOn(!master, "failoverUnregister: master gone");
  const m = master as NetDevice;
  netdevLog(k, m, "info", `failover master:${m.name} unregistered`);
  m.privFlags &= ~IFF_PRIV.IFF_FAILOVER;
  s.list.splice(idx, 1);
}
