// net/ipv6/addrconf.c, the part that is visible in the model: the netdev notifier that marks
// an inet6 device ready when its link becomes usable, and its "link becomes ready" log line
// (pr_info before v6.5, pr_debug since "ipv6: lower "link become ready"'s level").

import type { Kernel, NotifierFn } from "./kernel.ts";
import { klog } from "./kernel.ts";
import { IF_OPER, IFF_PRIV, type NetDevice } from "./netdevice.ts";
import { NOTIFY_DONE, NOTIFY_OK, registerNetdeviceNotifier } from "./notifier.ts";

/** IPV6_MIN_MTU: below it a device gets no inet6_dev. */
export const IPV6_MIN_MTU = 1280;

/** Per-device inet6 state (`struct inet6_dev`, the IF_READY bit only), by ifindex. */
export interface AddrconfState {
  idev: Record<number, { ready: boolean }>;
}

function state(k: Kernel): AddrconfState {
  let s = k.state.subsys.addrconf as AddrconfState | undefined;
  if (!s) {
    s = { idev: {} };
    k.state.subsys.addrconf = s;
  }
  return s;
}

/** True when the device has an inet6_dev marked IF_READY. */
export function addrconfReady(k: Kernel, dev: NetDevice): boolean {
  return state(k).idev[dev.ifindex]?.ready === true;
}

/**
 * Link usable for IPv6: operstate up (or unknown) and a real qdisc on the tx queues.
 * @kernel addrconf_link_ready(): netif_oper_up(dev) && !qdisc_tx_is_noop(dev)
 */
export function addrconfLinkReady(dev: NetDevice): boolean {
  const operUp = dev.operstate === IF_OPER.UP || dev.operstate === IF_OPER.UNKNOWN;
  return operUp && dev.txActive;
}

/**
 * The addrconf notifier (the link-readiness part).
 * @kernel addrconf_notify() in net/ipv6/addrconf.c: NETDEV_REGISTER/UP/CHANGE/DOWN/UNREGISTER
 */
export const addrconfNotify: NotifierFn = (k, event, dev) => {
  const s = state(k);
  switch (event) {
    case "NETDEV_REGISTER":
      if (!s.idev[dev.ifindex] && dev.mtu >= IPV6_MIN_MTU) s.idev[dev.ifindex] = { ready: false };
      return NOTIFY_OK;
    case "NETDEV_UP":
    case "NETDEV_CHANGE": {
      // Failover slaves (v6.2+) and other devices marked IFF_NO_ADDRCONF are left alone.
      if (dev.privFlags & IFF_PRIV.IFF_NO_ADDRCONF) return NOTIFY_OK;
      const idev = s.idev[dev.ifindex];
      if (event === "NETDEV_UP") {
        if (!addrconfLinkReady(dev)) return NOTIFY_OK;
        if (!idev && dev.mtu >= IPV6_MIN_MTU) s.idev[dev.ifindex] = { ready: true };
        else if (idev) idev.ready = true;
        return NOTIFY_OK;
      }
      if (!addrconfLinkReady(dev)) return NOTIFY_OK;
      if (idev) {
        if (idev.ready) return NOTIFY_OK;
        idev.ready = true;
      }
      if (k.profile.addrconfLinkReadyLog)
        klog(k, "info", `IPv6: ADDRCONF(NETDEV_CHANGE): ${dev.name}: link becomes ready`);
      return NOTIFY_OK;
    }
    case "NETDEV_DOWN": {
      const idev = s.idev[dev.ifindex];
      if (idev) idev.ready = false;
      return NOTIFY_OK;
    }
    case "NETDEV_UNREGISTER":
      delete s.idev[dev.ifindex];
      return NOTIFY_OK;
    case "NETDEV_CHANGEMTU": {
      if (dev.mtu < IPV6_MIN_MTU) delete s.idev[dev.ifindex];
      else if (!s.idev[dev.ifindex]) s.idev[dev.ifindex] = { ready: false };
      return NOTIFY_OK;
    }
    default:
      return NOTIFY_DONE;
  }
};

/** Registers the addrconf notifier (IPv6 is built into every modelled kernel). */
export function addrconfInit(k: Kernel): void {
  registerNetdeviceNotifier(k, { name: "addrconf", priority: 0 }, addrconfNotify);
}
