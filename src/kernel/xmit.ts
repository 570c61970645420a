// The traffic model: net/core/dev.c __dev_queue_xmit, __netif_receive_skb_core and
// dev_get_stats, for batches of identical frames. Frames are counted, never carried.

import type { FrameBatch, Kernel, XmitOutcome } from "./kernel.ts";
import { driverOf, KernelBug } from "./kernel.ts";
import {
  coreStatsOf,
  LINK_STATS_FIELDS,
  type LinkStats,
  type NetDevice,
  statsOf,
  ZERO_CORE_STATS,
  ZERO_STATS,
} from "./netdevice.ts";

function checkBatch(batch: FrameBatch): void {
  if (!Number.isSafeInteger(batch.frames) || batch.frames < 0)
    throw new RangeError(`frame count must be a non-negative integer, got ${batch.frames}`);
  if (!Number.isSafeInteger(batch.size) || batch.size < 1)
    throw new RangeError(`frame size must be a positive integer, got ${batch.size}`);
}

/**
 * Transmits a batch on `dev`. A device that is not running, or whose tx queues are not active
 * (no carrier: the queues still point at noop_qdisc), drops the batch in the qdisc layer
 * (nothing is counted in the device's statistics). Otherwise the driver's ndo_start_xmit
 * runs; a leaf NIC without one puts the frames on the wire and counts tx_packets/tx_bytes.
 * @kernel __dev_queue_xmit() in net/core/dev.c (noop_enqueue drops while deactivated)
 */
export function devQueueXmit(k: Kernel, dev: NetDevice, batch: FrameBatch): XmitOutcome {
  checkBatch(batch);
  if (dev.regState !== "REGISTERED")
    throw new KernelBug(`xmit on ${dev.name} in state ${dev.regState}`);
  let out: XmitOutcome;
  if (batch.frames === 0) out = { sentOn: null, dropped: 0, droppedBy: null };
  else if (!dev.running || !dev.txActive)
    out = { sentOn: null, dropped: batch.frames, droppedBy: `${dev.name} qdisc` };
  else {
    const ops = driverOf(k, dev).ops;
    if (ops.ndoStartXmit) out = ops.ndoStartXmit(k, dev, batch);
    else {
      const st = statsOf(dev);
      st.txPackets += batch.frames;
      st.txBytes += batch.frames * batch.size;
      out = { sentOn: dev.ifindex, dropped: 0, droppedBy: null };
    }
  }
  return out;
}

/** Where a received batch ended. */
export interface RxOutcome {
  /** ifindex whose protocol stack received the frames (after rx handlers), or null. */
  readonly deliveredTo: number | null;
  /** Frames nobody took (rx_nohandler or rx_dropped was counted), or dropped by the NIC. */
  readonly dropped: number;
  readonly droppedBy: string | null;
}

/**
 * Frames arrive from the wire on `dev`: a device that is not running does not receive; else
 * the driver counts rx_packets/rx_bytes and the stack runs rx handlers: ANOTHER re-targets the
 * frames (to the failover master, say) and goes round again, EXACT delivers only to handlers
 * bound exactly to the device (the model has none: rx_nohandler is counted), PASS delivers.
 * @kernel netif_receive_skb() / __netif_receive_skb_core() in net/core/dev.c
 */
export function netifReceive(k: Kernel, dev: NetDevice, batch: FrameBatch): RxOutcome {
  checkBatch(batch);
  if (dev.regState !== "REGISTERED")
    throw new KernelBug(`rx on ${dev.name} in state ${dev.regState}`);
  if (batch.frames === 0) return { deliveredTo: null, dropped: 0, droppedBy: null };
  if (!dev.running) return { deliveredTo: null, dropped: batch.frames, droppedBy: dev.name };
  const st = statsOf(dev);
  st.rxPackets += batch.frames;
  st.rxBytes += batch.frames * batch.size;
  let cur = dev;
  for (let hops = 0; ; hops++) {
    if (hops > 16) throw new KernelBug(`rx handler loop at ${cur.name}`);
    if (cur.rxHandler === null) return { deliveredTo: cur.ifindex, dropped: 0, droppedBy: null };
    const fn = k.registry.rxHandlers.get(cur.rxHandler);
    if (!fn) throw new KernelBug(`no rx handler "${cur.rxHandler}"`);
    const r = (fn as NonNullable<typeof fn>)(k, cur, cur.rxHandlerData);
    if (r.result === "CONSUMED") return { deliveredTo: null, dropped: 0, droppedBy: null };
    if (r.result === "PASS") return { deliveredTo: cur.ifindex, dropped: 0, droppedBy: null };
    if (r.result === "EXACT") {
      coreStatsOf(cur).rxNohandler += batch.frames;
      return { deliveredTo: null, dropped: batch.frames, droppedBy: `${cur.name} (exact only)` };
    }
    const next = k.state.devices.get(r.dev);
    if (!next)
      throw new KernelBug(`rx handler of ${cur.name} re-targeted to missing ifindex ${r.dev}`);
    cur = next as NetDevice;
  }
}

/**
 * The statistics userspace sees: the driver's (ndo_get_stats64, which may update driver
 * state, as net_failover's does) plus the core's drop counters.
 * @kernel dev_get_stats() in net/core/dev.c
 */
export function devGetStats(k: Kernel, dev: NetDevice): LinkStats {
  const ops = k.registry.drivers.get(dev.driver)?.ops;
  // Nothing counted yet (both shared, frozen zero blocks): the zero block itself, no copy.
  if (!ops?.ndoGetStats64 && dev.stats === ZERO_STATS && dev.coreStats === ZERO_CORE_STATS)
    return ZERO_STATS;
  const s: LinkStats = ops?.ndoGetStats64 ? ops.ndoGetStats64(k, dev) : { ...dev.stats };
  s.rxDropped += dev.coreStats.rxDropped;
  s.txDropped += dev.coreStats.txDropped;
  s.rxNohandler += dev.coreStats.rxNohandler;
  return s;
}

/** Copies stats field by field (plain data). */
export function copyStats(s: LinkStats): LinkStats {
  const out = { ...s };
  for (const f of LINK_STATS_FIELDS) out[f] = s[f];
  return out;
}

/** Records one traffic step as a `kernel.traffic` event. */
function traceTraffic(
  k: Kernel,
  dir: "tx" | "rx",
  dev: NetDevice,
  batch: FrameBatch,
  to: number | null,
  dropped: number,
  droppedBy: string | null,
): void {
  const toName = to === null ? null : (k.state.devices.get(to)?.name ?? null);
  k.trace.emit({
    type: "kernel.traffic",
    dir,
    dev: dev.name,
    frames: batch.frames,
    to: toName,
    dropped,
    droppedBy,
  });
}

/**
 * A traffic step as userspace (or the wire) drives it: transmits `batch` on `dev` and records a
 * `kernel.traffic` event with where the frames went.
 */
export function sendFrames(k: Kernel, dev: NetDevice, batch: FrameBatch): XmitOutcome {
  const out = devQueueXmit(k, dev, batch);
  traceTraffic(k, "tx", dev, batch, out.sentOn, out.dropped, out.droppedBy);
  return out;
}

/** Frames arrive on `dev` from the wire; records a `kernel.traffic` event. */
export function receiveFrames(k: Kernel, dev: NetDevice, batch: FrameBatch): RxOutcome {
  const out = netifReceive(k, dev, batch);
  traceTraffic(k, "rx", dev, batch, out.deliveredTo, out.dropped, out.droppedBy);
  return out;
}
