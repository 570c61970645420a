// The kernel instance: state (plain data), code registries, injected clock/RNG and the trace.

import type { RngState } from "../sim/rng.ts";
import type { Trace } from "../sim/trace.ts";
import type { KRet, NegErrno } from "./errno.ts";
import type { UnitSet } from "./name-units.ts";
import type { LinkStats, NetDevice } from "./netdevice.ts";
import type { KernelProfile } from "./profile.ts";
import type { KernelEvent } from "./trace-events.ts";

/** The clock the kernel reads (the scheduler advances it). Times are integer microseconds. */
export interface ClockLike {
  now(): number;
}

/**
 * The randomness the kernel draws from (random MACs). A generator that also has `saveState` and
 * `loadState` (the sim's `Rng` does) is saved and restored with the kernel by `saveKernel`.
 */
export interface RngLike {
  nextU32(): number;
  saveState?(): RngState;
  loadState?(s: RngState): void;
}

/** Netlink extended ack: the message a failing request attaches (`NL_SET_ERR_MSG`). */
export interface ExtAck {
  msg: string | null;
}

/** A notifier block as recorded in state: only its name and priority (N3). */
export interface NotifierBlock {
  readonly name: string;
  readonly priority: number;
}

/** Extra data passed with some notifier events (`netdev_notifier_*_info`). */
export interface NotifierInfo {
  /** CHANGEUPPER / PRECHANGEUPPER: the upper device and whether it is being linked. */
  readonly upper?: number;
  readonly linking?: boolean;
  readonly master?: boolean;
  /** CHANGEMTU: the MTU before the change. */
  readonly oldMtu?: number;
  /** CHANGE: the flags that changed. */
  readonly flagsChanged?: number;
  /** CHANGELOWERSTATE: the LAG lower state (`netdev_lag_lower_state_info`). */
  readonly lowerState?: { readonly linkUp: boolean; readonly txEnabled: boolean };
}

/** A notifier callback: returns a NOTIFY_* value (notifier_from_errno for a veto). */
export type NotifierFn = (
  k: Kernel,
  event: NetdevEvent,
  dev: NetDevice,
  info: NotifierInfo,
) => number;

/** Netdevice notifier events (include/linux/netdevice.h `enum netdev_cmd`). */
export type NetdevEvent =
  | "NETDEV_UP"
  | "NETDEV_DOWN"
  | "NETDEV_REBOOT"
  | "NETDEV_CHANGE"
  | "NETDEV_REGISTER"
  | "NETDEV_UNREGISTER"
  | "NETDEV_CHANGEMTU"
  | "NETDEV_CHANGEADDR"
  | "NETDEV_PRE_CHANGEADDR"
  | "NETDEV_GOING_DOWN"
  | "NETDEV_CHANGENAME"
  | "NETDEV_FEAT_CHANGE"
  | "NETDEV_BONDING_FAILOVER"
  | "NETDEV_PRE_UP"
  | "NETDEV_POST_INIT"
  | "NETDEV_PRE_UNINIT"
  | "NETDEV_RELEASE"
  | "NETDEV_NOTIFY_PEERS"
  | "NETDEV_JOIN"
  | "NETDEV_CHANGEUPPER"
  | "NETDEV_RESEND_IGMP"
  | "NETDEV_PRECHANGEMTU"
  | "NETDEV_CHANGEINFODATA"
  | "NETDEV_PRECHANGEUPPER"
  | "NETDEV_CHANGELOWERSTATE"
  | "NETDEV_CHANGE_TX_QUEUE_LEN";

/** `struct net_device_ops` (the subset the model uses). Every hook is optional. */
export interface NetDeviceOps {
  /** ndo_init: 0 or a negative errno (a positive value becomes -EIO, G1 step 2). */
  ndoInit?(k: Kernel, dev: NetDevice): number;
  ndoUninit?(k: Kernel, dev: NetDevice): void;
  ndoOpen?(k: Kernel, dev: NetDevice): KRet;
  ndoStop?(k: Kernel, dev: NetDevice): void;
  /** ndo_validate_addr = eth_validate_addr: refuse to open with an invalid unicast MAC. */
  readonly ethValidateAddr?: boolean;
  /** ndo_set_mac_address; eth_mac_addr when absent but `ethMacAddr` is true. */
  ndoSetMacAddress?(k: Kernel, dev: NetDevice, mac: string): KRet;
  readonly ethMacAddr?: boolean;
  ndoChangeMtu?(k: Kernel, dev: NetDevice, mtu: number): KRet;
  /** ndo_get_iflink: the ifindex reported as IFLA_LINK (default: the device's own). */
  ndoGetIflink?(k: Kernel, dev: NetDevice): number;
  /** ndo_add_slave / ndo_del_slave (bonding, bridge, team…): absent means -EOPNOTSUPP. */
  ndoAddSlave?(k: Kernel, master: NetDevice, slave: NetDevice, extack: ExtAck): KRet;
  ndoDelSlave?(k: Kernel, master: NetDevice, slave: NetDevice): KRet;
  /** ndo_get_phys_port_name: the name, or a negative errno (-EOPNOTSUPP when absent). */
  ndoGetPhysPortName?(k: Kernel, dev: NetDevice): string | NegErrno;
  /**
   * ndo_start_xmit for a batch of frames (the queues are active). Absent: a leaf NIC that puts
   * the frames on the wire and counts them.
   */
  ndoStartXmit?(k: Kernel, dev: NetDevice, batch: FrameBatch): XmitOutcome;
  /** ndo_get_stats64: absent means the device's own counters. May update driver state. */
  ndoGetStats64?(k: Kernel, dev: NetDevice): LinkStats;
}

/** A batch of identical frames (the traffic model counts, it does not carry payloads). */
export interface FrameBatch {
  readonly frames: number;
  /** Bytes per frame. */
  readonly size: number;
}

/** Where a transmitted batch went. */
export interface XmitOutcome {
  /** ifindex of the device that put the frames on the wire, or null when they were dropped. */
  readonly sentOn: number | null;
  /** Frames dropped, and by whom ("qdisc" of a down/inactive device, or the driver). */
  readonly dropped: number;
  readonly droppedBy: string | null;
}

/** What an rx handler decided (`rx_handler_result_t`). */
export type RxHandlerResult =
  | { readonly result: "CONSUMED" }
  | { readonly result: "ANOTHER"; readonly dev: number }
  | { readonly result: "EXACT" }
  | { readonly result: "PASS" };

/** An rx handler: sees a frame batch that arrived on `dev`; `data` is the handler's data device. */
export type RxHandlerFn = (k: Kernel, dev: NetDevice, data: number | null) => RxHandlerResult;

/** A netdev driver: its name (ethtool driver name) and its ops. */
export interface NetDriver {
  readonly name: string;
  readonly ops: NetDeviceOps;
}

/** `struct rtnl_link_ops` (the subset the model uses). */
export interface RtnlLinkOps {
  readonly kind: string;
  /** Validates the request's attributes before anything is created. */
  validate?(k: Kernel, attrs: LinkAttrs, extack: ExtAck): KRet;
  /**
   * Creates and registers the device(s); `dev` was built by rtnl_create_link but is not
   * registered. Returns 0 or a negative errno (the caller then frees `dev`).
   */
  newlink(k: Kernel, dev: NetDevice, req: NewLinkRequest, extack: ExtAck): KRet;
  /** Queues the device (and anything tied to it) for unregistration. */
  dellink?(k: Kernel, dev: NetDevice, kill: NetDevice[]): void;
  /** Allocates and sets up an unregistered device record (alloc_netdev + ops->setup). */
  setup(k: Kernel, name: string, nameAssignType: NetDevice["nameAssignType"]): NetDevice;
}

/** IFLA attributes of an RTM_NEWLINK / RTM_SETLINK request (the modelled subset). */
export interface LinkAttrs {
  readonly ifname?: string;
  readonly address?: string;
  readonly mtu?: number;
  /** IFLA_TXQLEN (u32). */
  readonly txqlen?: number;
  /** IFLA_BROADCAST. */
  readonly broadcast?: string;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES (creation only). */
  readonly numTxQueues?: number;
  readonly numRxQueues?: number;
  /** IFLA_MASTER: the ifindex of the new master, 0 = leave the current one. */
  readonly master?: number;
  /** IFLA_IFALIAS (do_setlink only; creation ignores it). */
  readonly ifalias?: string;
  /** IFLA_GROUP (u32): the device group (`ip link set … group N`). */
  readonly group?: number;
  /** IFLA_CARRIER (do_setlink): dev_change_carrier, which needs ndo_change_carrier. */
  readonly carrier?: boolean;
  /** IFLA_PROTO_DOWN (do_setlink): needs ndo_change_proto_down. */
  readonly protoDown?: boolean;
}

/** An RTM_NEWLINK request that creates a device. */
export interface NewLinkRequest {
  readonly attrs: LinkAttrs;
  readonly kind: string;
  /** Peer attributes for veth (`VETH_INFO_PEER`). */
  readonly peer?: LinkAttrs;
  /** The peer ifinfomsg's ifi_index (0 = allocate). */
  readonly peerIfindex?: number;
  /** The peer ifinfomsg's ifi_flags / ifi_change (`peer … up`). */
  readonly peerIfiFlags?: number;
  readonly peerIfiChange?: number;
}

/** Deferred work on the virtual clock (workqueue items). */
export interface WorkItem {
  readonly due: number;
  readonly name: string;
  readonly seq: number;
  /** The work's context (the `container_of` of a per-device work_struct): an ifindex, a key. */
  readonly arg?: string;
}

/** A deferred-work handler in the code registry; `arg` is the item's context, if any. */
export type WorkFn = (k: Kernel, arg?: string) => void;

/** Linkwatch bookkeeping (net/core/link_watch.c). */
export interface LinkwatchState {
  /** `lweventlist`: ifindexes with a pending event, in arrival order. */
  list: number[];
  /** `linkwatch_nextevent` (µs). */
  nextEvent: number;
  /** `LW_URGENT`. */
  urgent: boolean;
}

/** All mutable kernel state: plain data, cloneable with clonePlain (and structuredClone). */
export interface KernelState {
  /** The netns device list (`dev_base_head`), in registration order, keyed by ifindex. */
  devices: Map<number, NetDevice>;
  /**
   * Devices being unregistered: already unlisted (not in `devices`, names free) but still
   * referenced by drivers until NETDEV_UNREGISTER has run (the kernel's pointers stay valid).
   */
  unlisted: Map<number, NetDevice>;
  /** Name hash (primary names and, v5.5+, altnames) → ifindex. */
  names: Map<string, number>;
  /** `net->ifindex`: the last allocated ifindex. */
  lastIfindex: number;
  /** The netdev notifier chain (N3), sorted by descending priority. */
  notifiers: NotifierBlock[];
  linkwatch: LinkwatchState;
  work: WorkItem[];
  workSeq: number;
  /** Subsystem state keyed by subsystem name (failover list, …), plain data. */
  subsys: Record<string, unknown>;
}

/** Code the state refers to by name: notifier callbacks, drivers, link ops, work handlers. */
export interface CodeRegistry {
  readonly notifiers: Map<string, NotifierFn>;
  readonly drivers: Map<string, NetDriver>;
  readonly linkOps: Map<string, RtnlLinkOps>;
  readonly work: Map<string, WorkFn>;
  /** rx handlers by name (`dev->rx_handler`), U3. */
  readonly rxHandlers: Map<string, RxHandlerFn>;
  /** Code owned by optional subsystems (failover ops tables, bus drivers), keyed by subsystem. */
  readonly modules: Map<string, unknown>;
  /** Fault injection for tests: a non-zero result makes device_rename (sysfs) fail. */
  deviceRenameFault: ((k: Kernel, dev: NetDevice, newName: string) => KRet) | null;
  /**
   * Scheduler hook: called as an rtnetlink request from user space is about to take RTNL — the
   * point where a workqueue item (linkwatch) that was waiting for RTNL may run first. Null: the
   * caller settles work itself (the default everywhere but the schedule search of ip batches).
   */
  beforeRtnl: ((k: Kernel) => void) | null;
}

/** One simulated kernel (one network namespace). */
export interface Kernel {
  readonly profile: KernelProfile;
  readonly clock: ClockLike;
  readonly rng: RngLike;
  readonly trace: Trace<KernelEvent>;
  readonly registry: CodeRegistry;
  state: KernelState;
  /** Machine facts that shape defaults (possible CPUs, sysctl net.core.default_qdisc). */
  readonly machine: MachineConfig;
  /** Derived indexes (rebuilt on demand; never part of the state's identity). */
  cache: KernelCache;
}

/** Facts about the simulated machine that kernels derive defaults from. */
export interface MachineConfig {
  /** num_possible_cpus(): veth creates one queue per possible CPU. */
  readonly cpus: number;
  /** sysctl net.core.default_qdisc. */
  readonly defaultQdisc: string;
}

/** Derived data kept for speed only. */
export interface KernelCache {
  /** `%d` templates → the units in use and the smallest free one (name-units.ts). */
  templates: Map<string, UnitSet>;
}

/** A model invariant broke: the kernel's BUG_ON / ASSERT_RTNL. The explorer reports it. */
export class KernelBug extends Error {
  override readonly name = "KernelBug";
}

/** BUG_ON(cond): throws KernelBug. */
export function bugOn(cond: boolean, msg: string): void {
  if (cond) throw new KernelBug(msg);
}

/** WARN_ON_ONCE(cond): like warnOn, but only the first time for `key`. Returns cond. */
export function warnOnOnce(k: Kernel, key: string, cond: boolean, msg: string): boolean {
  if (!cond) return false;
  if (!k.state.subsys.warnOnce) k.state.subsys.warnOnce = [];
  const seen = k.state.subsys.warnOnce as string[];
  if (!seen.includes(key)) {
    seen.push(key);
    k.trace.emit({ type: "kernel.warn", text: msg });
  }
  return true;
}

/** WARN_ON(cond): records a `kernel.warn` event and returns cond, like the macro. */
export function warnOn(k: Kernel, cond: boolean, msg: string): boolean {
  if (cond) k.trace.emit({ type: "kernel.warn", text: msg });
  return cond;
}

/** Appends a kernel log (dmesg) line. */
export function klog(k: Kernel, level: "info" | "err" | "warn", text: string): void {
  if (k.trace.wants("kernel.log")) k.trace.emit({ type: "kernel.log", level, text });
  else k.trace.skip();
}

/**
 * Queues deferred work `name` (with context `arg`) to run at virtual time `due`. Like
 * queue_delayed_work, queuing an item that is already pending (same name and arg) does nothing
 * and returns false.
 */
export function queueWork(k: Kernel, name: string, due: number, arg?: string): boolean {
  if (!k.registry.work.has(name)) throw new KernelBug(`queueWork: no work handler "${name}"`);
  if (arg !== undefined && k.state.work.some((w) => w.name === name && w.arg === arg)) return false;
  k.state.work.push(
    arg === undefined
      ? { due, name, seq: k.state.workSeq++ }
      : { due, name, seq: k.state.workSeq++, arg },
  );
  return true;
}

/** Removes a pending work item (cancel_delayed_work); true if one was pending. */
export function cancelWork(k: Kernel, name: string, arg?: string): boolean {
  const before = k.state.work.length;
  k.state.work = k.state.work.filter((w) => !(w.name === name && w.arg === arg));
  return k.state.work.length !== before;
}

/** Time of the earliest pending work item, or null when there is none. */
export function nextWorkDue(k: Kernel): number | null {
  let best: number | null = null;
  for (const w of k.state.work) if (best === null || w.due < best) best = w.due;
  return best;
}

/**
 * Runs the earliest pending work item whose due time is ≤ now (each item runs under RTNL,
 * atomically). Returns false when nothing is due.
 */
export function runDueWork(k: Kernel): boolean {
  const now = k.clock.now();
  let idx = -1;
  for (let i = 0; i < k.state.work.length; i++) {
    const w = k.state.work[i] as WorkItem;
    if (w.due > now) continue;
    const best = idx < 0 ? undefined : (k.state.work[idx] as WorkItem);
    if (!best || w.due < best.due || (w.due === best.due && w.seq < best.seq)) idx = i;
  }
  if (idx < 0) return false;
  const [item] = k.state.work.splice(idx, 1);
  const fn = k.registry.work.get((item as WorkItem).name);
  if (!fn) throw new KernelBug(`runDueWork: no work handler "${(item as WorkItem).name}"`);
  (fn as WorkFn)(k, (item as WorkItem).arg);
  return true;
}

/**
 * The pending item of kind `name` a workqueue would run first: the earliest due (ties: queue
 * order), or undefined when none is pending. Items of one kind always run in this order,
 * whatever else is pending (the kernel lane runs the earliest due item of all).
 */
export function firstWorkOfKind(k: Kernel, name: string): WorkItem | undefined {
  let best: WorkItem | undefined;
  for (const w of k.state.work)
    if (w.name === name && (!best || w.due < best.due || (w.due === best.due && w.seq < best.seq)))
      best = w;
  return best;
}

/**
 * Runs the first pending item of kind `name` (`firstWorkOfKind`) now, whatever its due time and
 * whatever else is pending, with `handler` instead of the registered one when given: the
 * explorer's free timing, in which a work item may be delayed by any amount relative to other
 * kinds of work (each item still runs under RTNL, atomically). Not a kernel function: the
 * scheduling decision a workqueue's timers make. Throws when nothing of that kind is pending.
 */
export function runWorkOfKind(k: Kernel, name: string, handler?: WorkFn): WorkItem {
  const item = firstWorkOfKind(k, name);
  if (!item) throw new KernelBug(`runWorkOfKind: no pending "${name}" work`);
  k.state.work = k.state.work.filter((w) => w !== item);
  const fn = handler ?? k.registry.work.get(name);
  if (!fn) throw new KernelBug(`runWorkOfKind: no work handler "${name}"`);
  fn(k, item.arg);
  return item;
}

/**
 * Runs pending work until none is left, moving time forward to each item's due time through
 * `advanceTo` (the scheduler's clock). Returns the number of items run. A system that keeps
 * rescheduling work forever is a model bug.
 */
export function settleWork(
  k: Kernel,
  advanceTo: (t: number) => void,
  maxItems = 1_000_000,
): number {
  let n = 0;
  for (;;) {
    while (runDueWork(k)) {
      if (++n > maxItems) throw new KernelBug(`settleWork: more than ${maxItems} work items`);
    }
    const due = nextWorkDue(k);
    if (due === null) return n;
    advanceTo(Math.max(due, k.clock.now()));
  }
}

/** Creates an empty registry. */
export function createRegistry(): CodeRegistry {
  return {
    notifiers: new Map(),
    drivers: new Map(),
    linkOps: new Map(),
    work: new Map(),
    rxHandlers: new Map(),
    modules: new Map(),
    deviceRenameFault: null,
    beforeRtnl: null,
  };
}

/** Creates empty kernel state (no devices; `lo` is added by boot). */
export function createState(): KernelState {
  return {
    devices: new Map(),
    unlisted: new Map(),
    names: new Map(),
    lastIfindex: 0,
    notifiers: [],
    linkwatch: { list: [], nextEvent: 0, urgent: false },
    work: [],
    workSeq: 0,
    subsys: {},
  };
}

/** Creates an empty derived cache (it refills from `k.state` on demand). */
export function createCache(): KernelCache {
  return { templates: new Map() };
}

/** Looks a driver up; a missing driver is a model bug. */
export function driverOf(k: Kernel, dev: NetDevice): NetDriver {
  const d = k.registry.drivers.get(dev.driver);
  if (!d) throw new KernelBug(`device ${dev.name} has unknown driver "${dev.driver}"`);
  return d;
}
