// Boot: one kernel instance with the core drivers, the rtnetlink notifier and `lo`.

import { Trace } from "../sim/trace.ts";
import { addrconfInit } from "./addrconf.ts";
import { GENERIC_ETH, GENERIC_ETH_DRIVER } from "./drivers/generic-eth.ts";
import { IFB_DRIVER, IFB_LINK_OPS } from "./drivers/ifb.ts";
import { loopbackNetInit } from "./drivers/loopback.ts";
import { VETH_DRIVER, VETH_LINK_OPS } from "./drivers/veth.ts";
import {
  type ClockLike,
  createCache,
  createRegistry,
  createState,
  type Kernel,
  type NetdevEvent,
  type NotifierFn,
  type RngLike,
} from "./kernel.ts";
import { LINKWATCH_WORK, linkwatchEvent } from "./link-watch.ts";
import { NOTIFY_DONE, registerNetdeviceNotifier } from "./notifier.ts";
import { type KernelProfile, profileFor } from "./profile.ts";
import { iflaEventFor, rtmsgIfinfo } from "./rtnl-msg.ts";
import type { KernelEvent } from "./trace-events.ts";

/** RT8: the events for which the rtnetlink notifier multicasts an RTM_NEWLINK. */
const RTNETLINK_EVENTS: ReadonlySet<NetdevEvent> = new Set<NetdevEvent>([
  "NETDEV_REBOOT",
  "NETDEV_CHANGEMTU",
  "NETDEV_CHANGEADDR",
  "NETDEV_CHANGENAME",
  "NETDEV_FEAT_CHANGE",
  "NETDEV_BONDING_FAILOVER",
  "NETDEV_NOTIFY_PEERS",
  "NETDEV_CHANGEUPPER",
  "NETDEV_RESEND_IGMP",
  "NETDEV_CHANGEINFODATA",
  "NETDEV_CHANGELOWERSTATE",
  "NETDEV_CHANGE_TX_QUEUE_LEN",
]);

/**
 * The rtnetlink notifier block (registered at boot, priority 0, so it runs before any
 * later-registered listener: N3).
 * @kernel rtnetlink_event() in net/core/rtnetlink.c
 */
export const rtnetlinkEvent: NotifierFn = (k, event, dev) => {
  if (RTNETLINK_EVENTS.has(event)) rtmsgIfinfo(k, dev, 0, iflaEventFor(event));
  return NOTIFY_DONE;
};

/** Options for `createKernel`. */
export interface KernelOptions {
  /** A kernel version string ("6.1") or a ready profile. */
  readonly kernel: string | KernelProfile;
  readonly clock: ClockLike;
  readonly rng: RngLike;
  /** Possible CPUs (default 2, this project's machines). */
  readonly cpus?: number;
  /** sysctl net.core.default_qdisc (default "pfifo_fast", the kernel's built-in default). */
  readonly defaultQdisc?: string;
}

/**
 * Boots a kernel: registers the core drivers and link kinds (veth, ifb), the linkwatch work,
 * the rtnetlink notifier, and creates `lo` (ifindex 1).
 * @example
 * const k = createKernel({ kernel: "6.1", clock: new VirtualClock(), rng: new Rng(1) });
 */
export function createKernel(o: KernelOptions): Kernel {
  const profile = typeof o.kernel === "string" ? profileFor(o.kernel) : o.kernel;
  const k: Kernel = {
    profile,
    clock: o.clock,
    rng: o.rng,
    trace: new Trace<KernelEvent>(() => o.clock.now()),
    registry: createRegistry(),
    state: createState(),
    machine: { cpus: o.cpus ?? 2, defaultQdisc: o.defaultQdisc ?? "pfifo_fast" },
    cache: createCache(),
  };
  k.registry.drivers.set("veth", VETH_DRIVER);
  k.registry.drivers.set("ifb", IFB_DRIVER);
  k.registry.drivers.set(GENERIC_ETH, GENERIC_ETH_DRIVER);
  k.registry.linkOps.set("veth", VETH_LINK_OPS);
  k.registry.linkOps.set("ifb", IFB_LINK_OPS);
  k.registry.work.set(LINKWATCH_WORK, linkwatchEvent);
  registerNetdeviceNotifier(k, { name: "rtnetlink", priority: 0 }, rtnetlinkEvent);
  loopbackNetInit(k);
  addrconfInit(k);
  return k;
}
