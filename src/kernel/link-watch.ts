// net/core/link_watch.c and net/sched/sch_generic.c (netif_carrier_on/off): O5, carrier and
// operstate as an asynchronous follow-up on the virtual clock.

import { type Kernel, queueWork } from "./kernel.ts";
import { IF_OPER, IFF, type NetDevice, type OperState } from "./netdevice.ts";
import { devGetIflink, netdevStateChange } from "./rtnl-msg.ts";
import { devActivate, devDeactivate, qdiscTxChanging } from "./sch-generic.ts";

/** HZ in the model's time unit (µs): linkwatch batches non-urgent events once per second. */
export const LINKWATCH_HZ = 1_000_000;

/** The work-queue item name of the linkwatch work. */
export const LINKWATCH_WORK = "linkwatch_event";

/**
 * @kernel default_operstate() in net/core/link_watch.c: DOWN without carrier, or
 * LOWERLAYERDOWN when the device stacks on a link that has no carrier either
 */
export function defaultOperstate(k: Kernel, dev: NetDevice): OperState {
  if (!dev.carrier) {
    const iflink =
      dev.regState === "UNINITIALIZED" || dev.regState === "REGISTERED"
        ? devGetIflink(k, dev)
        : dev.ifindex;
    if (iflink === dev.ifindex) return IF_OPER.DOWN;
    const peer = k.state.devices.get(iflink);
    if (!peer) return IF_OPER.DOWN;
    return peer.carrier ? IF_OPER.DOWN : IF_OPER.LOWERLAYERDOWN;
  }
  if (dev.dormant) return IF_OPER.DORMANT;
  return IF_OPER.UP;
}

/** @kernel rfc2863_policy() in net/core/link_watch.c (link_mode DEFAULT only) */
function rfc2863Policy(k: Kernel, dev: NetDevice): void {
  dev.operstate = defaultOperstate(k, dev);
}

/** @kernel linkwatch_init_dev() in net/core/link_watch.c: called at registration */
export function linkwatchInitDev(k: Kernel, dev: NetDevice): void {
  if (!dev.carrier || dev.dormant) rfc2863Policy(k, dev);
}

/** @kernel linkwatch_urgent_event() in net/core/link_watch.c */
function linkwatchUrgentEvent(k: Kernel, dev: NetDevice): boolean {
  if (!dev.running) return false;
  if (dev.ifindex !== devGetIflink(k, dev)) return true;
  // LAG ports/masters (bond, team) are urgent too; the model has none. A failover slave is not
  // a LAG port (netif_is_lag_port checks bonding and team only).
  return dev.carrier && qdiscTxChanging(dev);
}

/** @kernel linkwatch_schedule_work() in net/core/link_watch.c */
export function linkwatchScheduleWork(k: Kernel, urgent: boolean): void {
  const lw = k.state.linkwatch;
  const now = k.clock.now();
  if (lw.urgent) return;
  let delay = lw.nextEvent - now;
  if (urgent) {
    lw.urgent = true;
    delay = 0;
  }
  if (delay > LINKWATCH_HZ || delay < 0) delay = 0;
  const queued = k.state.work.find((w) => w.name === LINKWATCH_WORK);
  if (queued) {
    // mod_delayed_work for urgent (move it to now); queue_delayed_work is a no-op when queued.
    if (urgent && queued.due > now) {
      k.state.work = k.state.work.filter((w) => w !== queued);
      queueWork(k, LINKWATCH_WORK, now);
    }
    return;
  }
  queueWork(k, LINKWATCH_WORK, now + delay);
}

/**
 * Queues a link-state event for `dev`.
 * @kernel linkwatch_fire_event() in net/core/link_watch.c
 */
export function linkwatchFireEvent(k: Kernel, dev: NetDevice): void {
  const urgent = linkwatchUrgentEvent(k, dev);
  if (!dev.linkwatchPending) {
    dev.linkwatchPending = true;
    k.state.linkwatch.list.push(dev.ifindex);
  } else if (!urgent) {
    return;
  }
  linkwatchScheduleWork(k, urgent);
}

/** @kernel linkwatch_do_dev() in net/core/link_watch.c */
function linkwatchDoDev(k: Kernel, dev: NetDevice): void {
  dev.linkwatchPending = false;
  rfc2863Policy(k, dev);
  if (dev.flags & IFF.UP) {
    if (dev.carrier) devActivate(k, dev);
    else devDeactivate(dev);
    netdevStateChange(k, dev);
  }
}

/**
 * The linkwatch work: processes pending devices (only urgent ones inside the once-a-second
 * limit), under RTNL.
 * @kernel linkwatch_event() / __linkwatch_run_queue() in net/core/link_watch.c
 */
export function linkwatchEvent(k: Kernel): void {
  linkwatchRun(k, k.state.linkwatch.nextEvent > k.clock.now());
}

/**
 * The linkwatch work's run with its mode given: `urgentOnly` when it runs inside the
 * once-a-second limit (what `linkwatchEvent` decides from the clock). The explorer's free
 * timing chooses the mode itself (see `linkwatchRunsDiffer`).
 * @kernel __linkwatch_run_queue(urgent_only) in net/core/link_watch.c
 */
export function linkwatchRun(k: Kernel, urgentOnly: boolean): void {
  const lw = k.state.linkwatch;
  const now = k.clock.now();
  if (!urgentOnly) lw.nextEvent = now + LINKWATCH_HZ;
  else if (lw.nextEvent > now + LINKWATCH_HZ) lw.nextEvent = now;
  lw.urgent = false;
  const wrk = lw.list;
  lw.list = [];
  for (const ifindex of wrk) {
    const dev = k.state.devices.get(ifindex);
    if (!dev) continue; // unregistered meanwhile (linkwatch_forget_dev)
    if (!dev.present || (urgentOnly && !linkwatchUrgentEvent(k, dev))) {
      lw.list.push(ifindex);
      continue;
    }
    linkwatchDoDev(k, dev);
  }
  if (lw.list.length > 0) linkwatchScheduleWork(k, false);
}

/**
 * Whether an urgent-only run of the pending linkwatch work would do something else than a full
 * run: the work was queued urgently (only then can it run inside the once-a-second limit) and a
 * present device on the list has no urgent event (a full run handles it, an urgent-only run
 * puts it back). Read by the explorer's free timing, which offers both runs then.
 */
export function linkwatchRunsDiffer(k: Kernel): boolean {
  const lw = k.state.linkwatch;
  if (!lw.urgent) return false;
  for (const ifindex of lw.list) {
    const dev = k.state.devices.get(ifindex);
    if (dev?.present && !linkwatchUrgentEvent(k, dev)) return true;
  }
  return false;
}

/**
 * Runs `dev`'s pending linkwatch event now, out of the work's order (v6.8+ callers: a query of
 * the device's carrier). Nothing happens when the device has no pending event.
 * @kernel linkwatch_sync_dev() in net/core/link_watch.c
 */
export function linkwatchSyncDev(k: Kernel, dev: NetDevice): void {
  if (!dev.linkwatchPending) return;
  k.state.linkwatch.list = k.state.linkwatch.list.filter((i) => i !== dev.ifindex);
  linkwatchDoDev(k, dev);
}

/** Drops a device being unregistered from the pending list. @kernel linkwatch_forget_dev() */
export function linkwatchForgetDev(k: Kernel, dev: NetDevice): void {
  if (!dev.linkwatchPending) return;
  dev.linkwatchPending = false;
  k.state.linkwatch.list = k.state.linkwatch.list.filter((i) => i !== dev.ifindex);
}

/**
 * Turns the carrier on; operstate follows later through linkwatch.
 * @kernel netif_carrier_on() in net/sched/sch_generic.c
 */
export function netifCarrierOn(k: Kernel, dev: NetDevice): void {
  if (dev.carrier) return;
  dev.carrier = true;
  if (dev.regState === "UNINITIALIZED") return;
  dev.carrierUpCount++;
  linkwatchFireEvent(k, dev);
}

/**
 * Turns the carrier off; operstate follows later through linkwatch.
 * @kernel netif_carrier_off() in net/sched/sch_generic.c
 */
export function netifCarrierOff(k: Kernel, dev: NetDevice): void {
  if (!dev.carrier) return;
  dev.carrier = false;
  if (dev.regState === "UNINITIALIZED") return;
  dev.carrierDownCount++;
  linkwatchFireEvent(k, dev);
}
