// net/sched/sch_generic.c: root qdisc attachment and tx queue (de)activation, as far as they
// are visible (the qdisc name in RTM_NEWLINK, linkwatch urgency).

import type { Kernel } from "./kernel.ts";
import { IFF_PRIV, type NetDevice } from "./netdevice.ts";

/**
 * Attaches the default root qdisc on first activation (noqueue for IFF_NO_QUEUE devices or a
 * zero txqueuelen, mq for multiqueue devices, else the machine's default_qdisc) and, when the
 * carrier is on, points the tx queues at it.
 * @kernel dev_activate() / attach_default_qdiscs() in net/sched/sch_generic.c
 */
export function devActivate(k: Kernel, dev: NetDevice): void {
  if (dev.qdisc === "noop") {
    if (dev.privFlags & IFF_PRIV.IFF_NO_QUEUE || dev.txQueueLen === 0) dev.qdisc = "noqueue";
    else if (dev.numTxQueues > 1) dev.qdisc = "mq";
    else dev.qdisc = k.machine.defaultQdisc;
    // pfifo_fast_init() cannot allocate rings longer than KMALLOC_MAX_SIZE / sizeof(void *)
    // (524288 on x86-64): the default qdisc fails and attach_default_qdiscs() falls back to
    // noqueue and sets IFF_NO_QUEUE (measured on 6.18: `ip link add … txqlen -1 up type ifb`
    // shows "qdisc noqueue"). The kernel also warns "default qdisc (pfifo_fast) fail, fallback
    // to noqueue"; the model does not log it.
    if (dev.qdisc === "pfifo_fast" && dev.txQueueLen > (1 << 22) / 8) {
      dev.privFlags |= IFF_PRIV.IFF_NO_QUEUE;
      dev.qdisc = "noqueue";
    }
  }
  // "Delay activation until next carrier-on event".
  if (!dev.carrier) return;
  dev.txActive = true;
}

/**
 * Points the tx queues back at noop_qdisc (the root qdisc stays attached).
 * @kernel dev_deactivate_many() in net/sched/sch_generic.c
 */
export function devDeactivate(dev: NetDevice): void {
  dev.txActive = false;
}

/**
 * True while a root qdisc is attached but the tx queues do not use it yet.
 * @kernel qdisc_tx_changing() in net/sched/sch_generic.c
 */
export function qdiscTxChanging(dev: NetDevice): boolean {
  return dev.qdisc !== "noop" && !dev.txActive;
}
