// net/ipv6/addrconf.c, the part that is visible in the model: the netdev notifier that marks
// an inet6 device ready when its link becomes usable, and its "link becomes ready" log line
// (pr_info before v6.5, pr_debug since "ipv6: lower "link become ready"'s level"), and the one
// packet IPv6 sends at once when such a link comes up: on a device without ARP (ifb, or any
// device with `arp off`) duplicate address detection ends at once, and the router solicitation
// follows on the device (70 bytes). Not modelled: the solicitation's retransmissions (4 s, then
// backing off), and on devices with ARP the detection's probes and MLD reports, which come after
// random delays of up to a second or more (docs/kernel-rules.md, "IPv6's own packets").

import { sharedConstant } from "../sim/clone.ts";
import { err } from "./errno.ts";
import type { Kernel, NotifierFn } from "./kernel.ts";
import { cancelWork, klog, queueWork } from "./kernel.ts";
import { ARPHRD, IF_OPER, IFF, IFF_PRIV, type NetDevice } from "./netdevice.ts";
import {
  NOTIFY_DONE,
  NOTIFY_OK,
  notifierFromErrno,
  registerNetdeviceNotifier,
} from "./notifier.ts";
import { devQueueXmit } from "./xmit.ts";

/** IPV6_MIN_MTU: below it a device gets no inet6_dev. */
export const IPV6_MIN_MTU = 1280;

/** Per-device inet6 state (`struct inet6_dev`, the IF_READY bit only), by ifindex. */
export interface AddrconfState {
  idev: Record<number, Idev>;
}

/** An inet6_dev: one of the two shared constants below (replaced, never written). */
type Idev = Readonly<{ ready: boolean }>;
/** Every device's inet6_dev is one of these two shared, frozen values (no object per device). */
const IDEV_NOT_READY: Idev = sharedConstant({ ready: false });
const IDEV_READY: Idev = sharedConstant({ ready: true });

function state(k: Kernel): AddrconfState {
  let s = k.state.subsys.addrconf as AddrconfState | undefined;
  if (!s) {
    s = { idev: {} };
    k.state.subsys.addrconf = s;
  }
  return s;
}

/**
 * "all" and "default" name the per-protocol sysctl directories (net.ipv4.conf.all, …), so no
 * device may have its own directory under those names.
 * @kernel sysctl_dev_name_is_allowed() in include/net/ip.h (older than every profile), used by
 * addrconf_sysctl_register() (net/ipv6/addrconf.c) and devinet_sysctl_register()
 * (net/ipv4/devinet.c)
 */
export function sysctlDevNameIsAllowed(name: string): boolean {
  return name !== "default" && name !== "all";
}

/** True when the device has an inet6_dev (it is left out below IPV6_MIN_MTU). */
export function addrconfHasIdev(k: Kernel, dev: NetDevice): boolean {
  return state(k).idev[dev.ifindex] !== undefined;
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

/** The work that runs duplicate address detection for a new link-local address (arg: ifindex). */
export const ADDRCONF_DAD_WORK = "addrconf_dad_work";

/**
 * An Ethernet router solicitation with the source link-layer address option: 14 bytes of
 * Ethernet header, 40 of IPv6 header, 8 of ICMPv6 and 8 of option (measured on 6.18: 70 bytes).
 */
export const RS_FRAME_BYTES = 70;

/**
 * A link usable for IPv6 gets its link-local address (addr_gen_mode eui64, the only mode the
 * model has), whose duplicate address detection is queued at once. Only a device without ARP is
 * queued: on the others the detection starts probes after a random delay, which the model does
 * not send, so the work would change nothing.
 * @kernel addrconf_dev_config() → addrconf_addr_gen() → addrconf_add_linklocal() →
 * addrconf_dad_start() (addrconf_mod_dad_work(ifp, 0)) in net/ipv6/addrconf.c
 */
function addrconfDevConfig(k: Kernel, dev: NetDevice): void {
  // Alas, only Ethernet (of the model's types) is autoconfigured; the loopback is not.
  if (dev.type !== ARPHRD.ETHER || !state(k).idev[dev.ifindex]) return;
  if (dev.flags & IFF.NOARP) queueWork(k, ADDRCONF_DAD_WORK, k.clock.now(), String(dev.ifindex));
}

/**
 * The detection's work on a device without ARP: the address needs no probes, so it is valid at
 * once, and as the link's only link-local address it starts router solicitation: the first one
 * is sent now (accept_ra 1, forwarding 0, rtr_solicits -1: the defaults).
 * @kernel addrconf_dad_work() → addrconf_dad_begin() (IFF_NOARP) → addrconf_dad_completed() →
 * ndisc_send_rs() in net/ipv6/addrconf.c and net/ipv6/ndisc.c
 */
function addrconfDadWork(k: Kernel, arg: string | undefined): void {
  const dev = k.state.devices.get(Number(arg));
  // The work is cancelled when the address goes (addrconf_ifdown); ARP turned on meanwhile means
  // probes first, which the model does not send.
  if (!dev || !(dev.flags & IFF.UP) || !(dev.flags & IFF.NOARP)) return;
  devQueueXmit(k, dev, { frames: 1, size: RS_FRAME_BYTES });
}

/** addrconf_ifdown(): the device's addresses go, and their detection work is cancelled. */
function addrconfIfdown(k: Kernel, dev: NetDevice): void {
  cancelWork(k, ADDRCONF_DAD_WORK, String(dev.ifindex));
}

/**
 * The addrconf notifier (the link-readiness part).
 * @kernel addrconf_notify() in net/ipv6/addrconf.c: NETDEV_REGISTER/UP/CHANGE/DOWN/UNREGISTER
 */
export const addrconfNotify: NotifierFn = (k, event, dev) => {
  const s = state(k);
  switch (event) {
    case "NETDEV_REGISTER":
      if (!s.idev[dev.ifindex] && dev.mtu >= IPV6_MIN_MTU) {
        // ipv6_add_dev() → addrconf_sysctl_register(): -EINVAL for "all"/"default".
        if (!sysctlDevNameIsAllowed(dev.name)) return notifierFromErrno(err("EINVAL"));
        s.idev[dev.ifindex] = IDEV_NOT_READY;
      }
      return NOTIFY_OK;
    case "NETDEV_CHANGENAME":
      // addrconf_sysctl_unregister() + addrconf_sysctl_register() under the new name: a
      // device without an inet6_dev (MTU below 1280) has no directory and is not refused.
      if (s.idev[dev.ifindex] && !sysctlDevNameIsAllowed(dev.name))
        return notifierFromErrno(err("EINVAL"));
      return NOTIFY_OK;
    case "NETDEV_UP":
    case "NETDEV_CHANGE": {
      // Failover slaves (v6.2+) and other devices marked IFF_NO_ADDRCONF are left alone.
      if (dev.privFlags & IFF_PRIV.IFF_NO_ADDRCONF) return NOTIFY_OK;
      const idev = s.idev[dev.ifindex];
      if (event === "NETDEV_UP") {
        if (!addrconfLinkReady(dev)) return NOTIFY_OK;
        if (idev || dev.mtu >= IPV6_MIN_MTU) s.idev[dev.ifindex] = IDEV_READY;
        addrconfDevConfig(k, dev);
        return NOTIFY_OK;
      }
      if (!addrconfLinkReady(dev)) return NOTIFY_OK;
      if (idev) {
        if (idev.ready) return NOTIFY_OK;
        s.idev[dev.ifindex] = IDEV_READY;
      }
      if (k.profile.addrconfLinkReadyLog)
        klog(k, "info", `IPv6: ADDRCONF(NETDEV_CHANGE): ${dev.name}: link becomes ready`);
      addrconfDevConfig(k, dev);
      return NOTIFY_OK;
    }
    case "NETDEV_DOWN": {
      const idev = s.idev[dev.ifindex];
      if (idev) s.idev[dev.ifindex] = IDEV_NOT_READY;
      addrconfIfdown(k, dev);
      return NOTIFY_OK;
    }
    case "NETDEV_UNREGISTER":
      delete s.idev[dev.ifindex];
      addrconfIfdown(k, dev);
      return NOTIFY_OK;
    case "NETDEV_CHANGEMTU": {
      // addrconf_ifdown(dev, dev != loopback_dev): the loopback keeps its inet6_dev.
      if (dev.mtu < IPV6_MIN_MTU) {
        if (!(dev.flags & IFF.LOOPBACK)) delete s.idev[dev.ifindex];
        addrconfIfdown(k, dev);
      } else if (!s.idev[dev.ifindex]) {
        // ipv6_add_dev() marks the new inet6_dev ready when the link is running and usable;
        // then the notifier goes on as for NETDEV_UP (the link-local address, its detection).
        const ready = dev.running && addrconfLinkReady(dev);
        s.idev[dev.ifindex] = ready ? IDEV_READY : IDEV_NOT_READY;
        if (ready) addrconfDevConfig(k, dev);
      }
      return NOTIFY_OK;
    }
    default:
      return NOTIFY_DONE;
  }
};

/**
 * The IPv4 side of the same rule: every device gets an in_device at NETDEV_REGISTER (any MTU),
 * and its sysctl directory refuses "all"/"default", which vetoes the registration. On
 * NETDEV_CHANGENAME devinet re-registers the directory but ignores the error (only IPv6 vetoes
 * a rename).
 * @kernel inetdev_event() / inetdev_init() / devinet_sysctl_register() in net/ipv4/devinet.c
 */
export const inetdevEvent: NotifierFn = (_k, event, dev) => {
  if (event !== "NETDEV_REGISTER") return NOTIFY_DONE;
  if (!sysctlDevNameIsAllowed(dev.name)) return notifierFromErrno(err("EINVAL"));
  return NOTIFY_OK;
};

/**
 * Registers the IPv4 (devinet) and addrconf notifiers (both are built into every modelled
 * kernel; IPv4's inet_init runs before inet6_init).
 */
export function addrconfInit(k: Kernel): void {
  registerNetdeviceNotifier(k, { name: "inetdev", priority: 0 }, inetdevEvent);
  registerNetdeviceNotifier(k, { name: "addrconf", priority: 0 }, addrconfNotify);
  k.registry.work.set(ADDRCONF_DAD_WORK, addrconfDadWork);
}
