// kernel/notifier.c, include/linux/notifier.h, and the netdev chain of net/core/dev.c.

import type { KRet, NegErrno } from "./errno.ts";
import {
  bugOn,
  type Kernel,
  KernelBug,
  type NetdevEvent,
  type NotifierBlock,
  type NotifierFn,
  type NotifierInfo,
} from "./kernel.ts";
import type { NetDevice } from "./netdevice.ts";

/** N1: notifier return codes. */
export const NOTIFY_DONE = 0x0000;
export const NOTIFY_OK = 0x0001;
export const NOTIFY_STOP_MASK = 0x8000;
export const NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002;
export const NOTIFY_STOP = NOTIFY_OK | NOTIFY_STOP_MASK;

/**
 * N2: encodes an errno as a notifier return value.
 * @kernel notifier_from_errno() in include/linux/notifier.h: 0 → NOTIFY_OK, -e → STOP_MASK | (1 + e)
 */
export function notifierFromErrno(e: number): number {
  if (e) return NOTIFY_STOP_MASK | (NOTIFY_OK - e);
  return NOTIFY_OK;
}

/**
 * N2: decodes a chain result back into 0 or a negative errno.
 * @kernel notifier_to_errno() in include/linux/notifier.h: DONE, OK and STOP → 0; BAD → -EPERM
 */
export function notifierToErrno(ret: number): KRet {
  const r = ret & ~NOTIFY_STOP_MASK;
  return (r > NOTIFY_OK ? NOTIFY_OK - r : 0) as KRet;
}

/**
 * Inserts a block into a chain kept in descending priority order, after blocks of equal
 * priority (N3).
 * @kernel notifier_chain_register() in kernel/notifier.c
 */
export function notifierChainRegister(chain: NotifierBlock[], nb: NotifierBlock): void {
  bugOn(
    chain.some((b) => b.name === nb.name),
    `notifier "${nb.name}" registered twice`,
  );
  let i = 0;
  while (i < chain.length && (chain[i] as NotifierBlock).priority >= nb.priority) i++;
  chain.splice(i, 0, nb);
}

/** The info of an event that carries none (shared, frozen: callbacks only read it). */
const NO_INFO: NotifierInfo = Object.freeze({});

function callOne(
  k: Kernel,
  nb: NotifierBlock,
  event: NetdevEvent,
  dev: NetDevice,
  info: NotifierInfo,
): number {
  const fn = k.registry.notifiers.get(nb.name);
  if (!fn) throw new KernelBug(`notifier "${nb.name}" has no callback in the registry`);
  return (fn as NotifierFn)(k, event, dev, info);
}

/**
 * Calls every block of the netdev chain in order, stopping after a result with
 * NOTIFY_STOP_MASK (N3). Records a `kernel.notify` event first. Returns the last result.
 * @kernel call_netdevice_notifiers_info() in net/core/dev.c (raw_notifier_call_chain)
 */
export function callNetdeviceNotifiers(
  k: Kernel,
  event: NetdevEvent,
  dev: NetDevice,
  info: NotifierInfo = NO_INFO,
): number {
  if (k.trace.wants("kernel.notify"))
    k.trace.emit({ type: "kernel.notify", event, ifindex: dev.ifindex, dev: dev.name });
  else k.trace.skip();
  let ret = NOTIFY_DONE;
  // A callback may (un)register blocks: the chain array is never changed in place (copy on
  // write), so this walk sees the chain as it was when the call began.
  for (const nb of k.state.notifiers) {
    ret = callOne(k, nb, event, dev, info);
    if (ret & NOTIFY_STOP_MASK) break;
  }
  return ret;
}

/** Calls one block only (the replays of N5 go to the new block, not to the chain). */
function callBlock(k: Kernel, nb: NotifierBlock, event: NetdevEvent, dev: NetDevice): number {
  return callOne(k, nb, event, dev, NO_INFO);
}

/**
 * N5: registers a netdev notifier and replays REGISTER (+ UP when up) for every existing
 * device to it. A failed REGISTER replay unwinds the replayed devices (E0: forward order,
 * newer: reverse), removes the block and returns the error.
 * @kernel register_netdevice_notifier() in net/core/dev.c: returns 0 or the replay's errno
 */
export function registerNetdeviceNotifier(k: Kernel, nb: NotifierBlock, fn: NotifierFn): KRet {
  const existing = k.registry.notifiers.get(nb.name);
  if (existing !== undefined && existing !== fn)
    throw new KernelBug(`notifier name "${nb.name}" already used`);
  k.registry.notifiers.set(nb.name, fn);
  const chain = [...k.state.notifiers]; // copy on write: a walk in progress keeps its array
  notifierChainRegister(chain, nb);
  k.state.notifiers = chain;
  const done: NetDevice[] = [];
  for (const dev of [...k.state.devices.values()]) {
    const err = notifierToErrno(callBlock(k, nb, "NETDEV_REGISTER", dev));
    if (err) {
      const order = k.profile.notifierReplayUnwindReverse ? [...done].reverse() : done;
      for (const d of order) {
        if (d.flags & 0x1) {
          callBlock(k, nb, "NETDEV_GOING_DOWN", d);
          callBlock(k, nb, "NETDEV_DOWN", d);
        }
        callBlock(k, nb, "NETDEV_UNREGISTER", d);
      }
      k.state.notifiers = k.state.notifiers.filter((b) => b.name !== nb.name);
      return err as NegErrno;
    }
    if (dev.flags & 0x1) callBlock(k, nb, "NETDEV_UP", dev);
    done.push(dev);
  }
  return 0;
}

/**
 * Removes a netdev notifier, synthesising GOING_DOWN, DOWN (if up) and UNREGISTER for every
 * device to that block only (N5).
 * @kernel unregister_netdevice_notifier() in net/core/dev.c: returns 0, or -ENOENT if unknown
 */
export function unregisterNetdeviceNotifier(k: Kernel, name: string): KRet {
  const nb = k.state.notifiers.find((b) => b.name === name);
  if (!nb) return -2 as NegErrno;
  k.state.notifiers = k.state.notifiers.filter((b) => b.name !== name);
  for (const dev of [...k.state.devices.values()]) {
    if (dev.flags & 0x1) {
      callBlock(k, nb, "NETDEV_GOING_DOWN", dev);
      callBlock(k, nb, "NETDEV_DOWN", dev);
    }
    callBlock(k, nb, "NETDEV_UNREGISTER", dev);
  }
  return 0;
}
