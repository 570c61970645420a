// drivers/net/virtio_net.c (spec §B10): the virtio network driver, with and without
// VIRTIO_NET_F_STANDBY. With STANDBY the probe creates the net_failover master before the
// virtio netdev registers, so the master gets the lower ethN and the virtio netdev becomes its
// standby.

import { allocNetdev, registerNetdevice, unregisterNetdevice } from "../dev.ts";
import { err, type KRet } from "../errno.ts";
import type { FailoverInstance } from "../failover.ts";
import { type Kernel, type NetDriver, queueWork } from "../kernel.ts";
import { netifCarrierOff, netifCarrierOn } from "../link-watch.ts";
import { IFF_PRIV, NET_NAME, type NetDevice } from "../netdevice.ts";
import type { PciFunction } from "../pci.ts";
import {
  registerVirtioDriver,
  type VirtioDevice,
  type VirtioDriver,
  virtioParent,
  virtioPciInit,
} from "../virtio.ts";
import { netFailoverCreate, netFailoverDestroy, netFailoverInit } from "./net-failover.ts";

/** Driver name (ethtool -i, log prefixes). */
export const VIRTIO_NET = "virtio_net";
/** The config-change work (`vi->config_work`). */
export const VIRTNET_CONFIG_WORK = "virtnet_config_changed_work";
/** MIN_MTU / MAX_MTU without VIRTIO_NET_F_MTU. */
export const VIRTIO_NET_MIN_MTU = 68;
export const VIRTIO_NET_MAX_MTU = 65535;

/** Per-netdev private data. */
interface VirtnetPriv {
  /** Negotiated VIRTIO_NET_F_STANDBY. */
  standby: boolean;
  /** PCI address of the function (for the config work). */
  addr: string;
}

function virtnetPriv(dev: NetDevice): VirtnetPriv {
  return dev.priv.virtnet as VirtnetPriv;
}

/**
 * VN4: "sby" with STANDBY negotiated, else -EOPNOTSUPP.
 * @kernel virtnet_get_phys_port_name()
 */
function virtnetGetPhysPortName(_k: Kernel, dev: NetDevice): string | ReturnType<typeof err> {
  return virtnetPriv(dev).standby ? "sby" : err("EOPNOTSUPP");
}

/** The virtio netdev's `net_device_ops`. */
export const VIRTIO_NET_DRIVER: NetDriver = {
  name: VIRTIO_NET,
  ops: {
    ethValidateAddr: true,
    ndoGetPhysPortName: virtnetGetPhysPortName,
    /**
     * @kernel virtnet_set_mac_address(): -EOPNOTSUPP with STANDBY; otherwise a live change
     * (IFF_LIVE_ADDR_CHANGE) of a valid unicast address
     */
    ndoSetMacAddress(_k: Kernel, dev: NetDevice, mac: string): KRet {
      if (virtnetPriv(dev).standby) return err("EOPNOTSUPP");
      const first = Number.parseInt(mac.slice(0, 2), 16);
      if (mac === "00:00:00:00:00:00" || first & 1) return err("EADDRNOTAVAIL");
      dev.devAddr = mac;
      return 0;
    },
  },
};

function netdevOf(k: Kernel, vdev: VirtioDevice): NetDevice | undefined {
  const i = vdev.priv.ifindex;
  return typeof i === "number" ? k.state.devices.get(i) : undefined;
}

/**
 * The config work: reads the link status and sets the carrier.
 * @kernel virtnet_config_changed_work()
 */
function virtnetConfigChangedWork(k: Kernel, arg?: string): void {
  const dev = k.state.devices.get(Number(arg));
  if (!dev || dev.driver !== VIRTIO_NET) return;
  const fnLink = dev.priv.linkUp === true;
  if (fnLink) netifCarrierOn(k, dev);
  else netifCarrierOff(k, dev);
}

function scheduleConfigWork(k: Kernel, dev: NetDevice, fn: PciFunction): void {
  dev.priv.linkUp = fn.link;
  queueWork(k, VIRTNET_CONFIG_WORK, k.clock.now(), String(dev.ifindex));
}

/**
 * VN2: probe. Allocates "eth%d" with the MAC from config space, creates the failover master
 * first when STANDBY was negotiated, registers the netdev (FO-SR makes it the standby), then
 * turns the carrier off and lets the config work report the link.
 * @kernel virtnet_probe(): 0, net_failover_create's error, or register_netdevice's
 */
function virtnetProbe(k: Kernel, vdev: VirtioDevice, fn: PciFunction): number {
  const standby = vdev.negotiated.includes("VIRTIO_NET_F_STANDBY");
  const dev = allocNetdev(k, {
    name: "eth%d",
    nameAssignType: k.profile.etherdevNameEnum ? NET_NAME.ENUM : NET_NAME.UNKNOWN,
    driver: VIRTIO_NET,
    parent: virtioParent(vdev, fn, VIRTIO_NET),
  });
  dev.privFlags |= IFF_PRIV.IFF_UNICAST_FLT | IFF_PRIV.IFF_LIVE_ADDR_CHANGE;
  dev.devAddr = fn.spec.mac ?? "00:00:00:00:00:00";
  dev.minMtu = VIRTIO_NET_MIN_MTU;
  dev.maxMtu = VIRTIO_NET_MAX_MTU;
  const priv: VirtnetPriv = { standby, addr: fn.spec.addr };
  dev.priv.virtnet = priv;
  let failover: FailoverInstance | null = null;
  if (standby) {
    const f = netFailoverCreate(k, dev);
    if (typeof f === "number") return f;
    failover = f;
  }
  const ret = registerNetdevice(k, dev);
  if (ret) {
    netFailoverDestroy(k, failover);
    return ret;
  }
  vdev.priv.ifindex = dev.ifindex;
  vdev.priv.failover = failover;
  netifCarrierOff(k, dev);
  scheduleConfigWork(k, dev, fn);
  return 0;
}

/**
 * VN3: remove. Unregisters the netdev (FO-SU detaches the standby), then destroys the master.
 * @kernel virtnet_remove()
 */
function virtnetRemove(k: Kernel, vdev: VirtioDevice): void {
  const dev = netdevOf(k, vdev);
  if (dev) unregisterNetdevice(k, dev);
  netFailoverDestroy(k, (vdev.priv.failover as FailoverInstance | null) ?? null);
  vdev.priv = {};
}

/** The virtio driver table entry. VIRTIO_NET_F_STANDBY is in the feature table since v4.18 (VN1). */
export const VIRTIO_NET_VIRTIO_DRIVER: VirtioDriver = {
  name: VIRTIO_NET,
  deviceType: "net",
  features: ["VIRTIO_NET_F_MAC", "VIRTIO_NET_F_STATUS", "VIRTIO_NET_F_STANDBY"],
  probe: virtnetProbe,
  remove: (k, vdev) => virtnetRemove(k, vdev),
  configChanged(k, vdev, fn) {
    const dev = netdevOf(k, vdev);
    if (dev) scheduleConfigWork(k, dev, fn);
  },
};

/**
 * Loads virtio_net (and failover, net_failover, virtio_pci it depends on); probes every
 * unbound virtio-net device.
 */
export function virtioNetInit(k: Kernel): void {
  netFailoverInit(k);
  k.registry.drivers.set(VIRTIO_NET, VIRTIO_NET_DRIVER);
  k.registry.work.set(VIRTNET_CONFIG_WORK, virtnetConfigChangedWork);
  virtioPciInit(k);
  registerVirtioDriver(k, VIRTIO_NET_VIRTIO_DRIVER);
}
