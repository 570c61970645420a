// drivers/net/virtio_net.c (spec §B10): the virtio network driver, with and without
// VIRTIO_NET_F_STANDBY. With STANDBY the probe creates the net_failover master before the
// virtio netdev registers, so the master gets the lower ethN and the virtio netdev becomes its
// standby.
//
// Carrier (VN5): the config work reads the link status from config space and sets the carrier
// when it changed. Before v6.12 the probe schedules it, so a virtio NIC has its carrier (and,
// once linkwatch ran, operstate UP) while it is still down. From v6.12
// (profile.virtioNetConfigAtOpen) config changes reach the driver only while the device is open:
// the probe leaves the carrier off and the change pending, ndo_open turns the carrier on from
// the last status read and runs the pending change, ndo_stop turns the carrier off.

import { allocNetdev, registerNetdevice, unregisterNetdevice } from "../dev.ts";
import { err, type KRet } from "../errno.ts";
import type { FailoverInstance } from "../failover.ts";
import { cancelWork, type Kernel, type NetDriver, queueWork } from "../kernel.ts";
import { netifCarrierOff, netifCarrierOn } from "../link-watch.ts";
import { IFF_PRIV, NET_NAME, type NetDevice, privOf } from "../netdevice.ts";
import { type PciFunction, pciGetFunction } from "../pci.ts";
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
  /** VIRTIO_NET_S_LINK_UP as the config work last read it (`vi->status`); null: never read. */
  status: boolean | null;
  /** v6.12+: config-change notifications reach the driver (virtio_config_driver_enable). */
  configEnabled: boolean;
  /** v6.12+: a config change came while they were off (`config_change_pending`). */
  configPending: boolean;
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
    ndoOpen: virtnetOpen,
    ndoStop: virtnetClose,
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
 * The config work: reads the link status (`fnLink`: the PCI function's link when the work was
 * queued) and, when it changed, sets the carrier.
 * @kernel virtnet_config_changed_work()
 */
function virtnetConfigChangedWork(k: Kernel, arg?: string): void {
  const dev = k.state.devices.get(Number(arg));
  if (!dev || dev.driver !== VIRTIO_NET) return;
  virtnetReadStatus(k, dev, dev.priv.linkUp === true);
}

/** The config work's body: VIRTIO_NET_S_LINK_UP into `status`, the carrier when it changed. */
function virtnetReadStatus(k: Kernel, dev: NetDevice, linkUp: boolean): void {
  const priv = virtnetPriv(dev);
  if (priv.status === linkUp) return;
  priv.status = linkUp;
  if (linkUp) netifCarrierOn(k, dev);
  else netifCarrierOff(k, dev);
}

function scheduleConfigWork(k: Kernel, dev: NetDevice, fn: PciFunction): void {
  privOf(dev).linkUp = fn.link;
  queueWork(k, VIRTNET_CONFIG_WORK, k.clock.now(), String(dev.ifindex));
}

/**
 * A config change interrupt: the config work, or (v6.12+, the device not open) a pending change.
 * @kernel virtio_config_changed() → virtnet_config_changed()
 */
function virtnetConfigChanged(k: Kernel, dev: NetDevice, fn: PciFunction): void {
  const priv = virtnetPriv(dev);
  if (k.profile.virtioNetConfigAtOpen && !priv.configEnabled) {
    priv.configPending = true;
    return;
  }
  scheduleConfigWork(k, dev, fn);
}

/**
 * v6.12+: the carrier from the last status read, then config changes enabled; a change that
 * came meanwhile runs the config work. That work runs on another CPU without RTNL while
 * dev_open goes on: measured on Debian's 6.12.118 (2 vCPUs, TCG), it had turned the carrier on
 * before dev_open's RTM_NEWLINK every time (8 runs of qemu-udev 01 and 05 and of an `ifsim
 * exec` script: `NO-CARRIER,…,UP,LOWER_UP … state DOWN`, operstate waiting for linkwatch), so
 * the model runs it here, inside ndo_open.
 * @kernel virtnet_open() (its VIRTIO_NET_F_STATUS part) and virtio_config_driver_enable()
 */
function virtnetOpen(k: Kernel, dev: NetDevice): KRet {
  if (!k.profile.virtioNetConfigAtOpen) return 0;
  const priv = virtnetPriv(dev);
  if (priv.status === true) netifCarrierOn(k, dev);
  priv.configEnabled = true;
  if (priv.configPending) {
    priv.configPending = false;
    const fn = pciGetFunction(k, priv.addr);
    if (fn) virtnetReadStatus(k, dev, fn.link);
  }
  return 0;
}

/**
 * v6.12+: config changes disabled, the config work cancelled, the carrier off.
 * @kernel virtnet_close() (virtio_config_driver_disable, cancel_work_sync, netif_carrier_off)
 */
function virtnetClose(k: Kernel, dev: NetDevice): void {
  if (!k.profile.virtioNetConfigAtOpen) return;
  virtnetPriv(dev).configEnabled = false;
  cancelWork(k, VIRTNET_CONFIG_WORK, String(dev.ifindex));
  netifCarrierOff(k, dev);
}

/**
 * VN2: probe. Allocates "eth%d" with the MAC from config space, creates the failover master
 * first when STANDBY was negotiated, registers the netdev (FO-SR makes it the standby), then
 * turns the carrier off and lets the config work report the link (v6.12+: at the first open).
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
  const priv: VirtnetPriv = {
    standby,
    addr: fn.spec.addr,
    status: null,
    configEnabled: false,
    configPending: false,
  };
  privOf(dev).virtnet = priv;
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
  // before v6.12: schedule_work(&vi->config_work); v6.12+: virtio_config_changed() with config
  // changes disabled since before virtio_device_ready() (be5dcaed694e; df28de7b0050 read the
  // status right here)
  virtnetConfigChanged(k, dev, fn);
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
    if (dev) virtnetConfigChanged(k, dev, fn);
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
