// A PCIe Ethernet function (e1000e-like; a VF): perm_addr = its MAC, no phys_port_name,
// carrier a while after open (PHY autonegotiation + the driver's watchdog), via linkwatch.

import { allocNetdev, netdevLog, registerNetdev, unregisterNetdev } from "../dev.ts";
import { err } from "../errno.ts";
import { type Kernel, klog, type NetDriver, queueWork } from "../kernel.ts";
import { netifCarrierOff, netifCarrierOn } from "../link-watch.ts";
import { NET_NAME, type NetDevice, privOf } from "../netdevice.ts";
import { type PciDriver, type PciFunction, pciRegisterDriver } from "../pci.ts";

/** PCI models this driver family binds, and the driver name each gets. */
export const PCI_NIC_MODELS: Readonly<Record<string, string>> = {
  e1000e: "e1000e",
  igbvf: "igbvf",
  ixgbevf: "ixgbevf",
  iavf: "iavf",
};

/** The link-up work (the e1000e watchdog noticing the link). */
export const PCI_NIC_LINK_WORK = "pci_nic_watchdog";
/**
 * Default open → carrier delay, ms: measured on QEMU 7.2 e1000e under TCG with Debian's 6.1
 * (1.9–2.7 s over 11 opens, median ≈ 2.4 s; test/fixtures/qemu-6.1).
 */
export const PCI_NIC_LINK_UP_DELAY_MS = 2400;
/** Link partner back (QEMU set_link on) while open → carrier, ms (measured ≈ 1.2 s). */
export const PCI_NIC_RELINK_DELAY_MS = 1200;
/** e1000e 82574L (QEMU's e1000e): max frame 9234 − VLAN_ETH_HLEN − ETH_FCS_LEN. */
export const E1000E_MAX_MTU = 9212;

interface NicPriv {
  /** PCI address. */
  addr: string;
  /** Bumped at every open/stop: a pending link-up for an older open is stale. */
  gen: number;
  linkUpDelayUs: number;
  /** The link partner is there (QEMU `set_link`). */
  partner: boolean;
  /** ITR turned off for jumbo frames (e1000e log lines). */
  jumbo: boolean;
}

function nicPriv(dev: NetDevice): NicPriv {
  return dev.priv.nic as NicPriv;
}

function scheduleLinkUp(k: Kernel, dev: NetDevice, delayUs = nicPriv(dev).linkUpDelayUs): void {
  const p = nicPriv(dev);
  queueWork(k, PCI_NIC_LINK_WORK, k.clock.now() + delayUs, `${dev.ifindex}:${p.gen}`);
}

/** e1000e_down(): carrier off; the driver logs the loss when the link was up. */
function nicDown(k: Kernel, dev: NetDevice, logLoss: boolean): void {
  nicPriv(dev).gen++;
  if (logLoss && dev.carrier && dev.driver === "e1000e")
    netdevLog(k, dev, "info", "NIC Link is Down");
  netifCarrierOff(k, dev);
}

/** dev_info() on the PCI function: "<driver> <addr>: <msg>". */
function pciLog(k: Kernel, dev: NetDevice, msg: string): void {
  klog(k, "info", `${dev.driver} ${(dev.parent as NonNullable<NetDevice["parent"]>).id}: ${msg}`);
}

/** The watchdog sees the link come up. @kernel e1000_watchdog_task() */
function linkWork(k: Kernel, arg?: string): void {
  const [idx, gen] = (arg ?? "").split(":").map(Number);
  const dev = k.state.devices.get(idx as number);
  if (!dev || !(dev.driver in DRIVERS_BY_NAME)) return;
  const p = nicPriv(dev);
  if (p.gen !== gen || !dev.running || !p.partner || dev.carrier) return;
  if (dev.driver === "e1000e")
    netdevLog(k, dev, "info", "NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx");
  netifCarrierOn(k, dev);
}

function nicDriver(name: string): NetDriver {
  return {
    name,
    ops: {
      ethValidateAddr: true,
      /** @kernel e1000_set_mac(): any valid unicast address, also while the device is up */
      ndoSetMacAddress(_k, dev, mac) {
        const first = Number.parseInt(mac.slice(0, 2), 16);
        if (mac === "00:00:00:00:00:00" || first & 1) return err("EADDRNOTAVAIL");
        dev.devAddr = mac;
        return 0;
      },
      /** @kernel e1000e_open(): carrier off; the watchdog reports the link later */
      ndoOpen(k, dev) {
        netifCarrierOff(k, dev);
        nicPriv(dev).gen++;
        scheduleLinkUp(k, dev);
        return 0;
      },
      /** @kernel e1000e_close() → e1000e_down(): carrier off ("NIC Link is Down" if it was up) */
      ndoStop(k, dev) {
        nicDown(k, dev, true);
      },
      /**
       * @kernel e1000_change_mtu(): jumbo frames turn interrupt throttling off (and back on);
       * a running device is reset (carrier off without a log, link back after the usual delay)
       */
      ndoChangeMtu(k, dev, mtu) {
        const p = nicPriv(dev);
        if (dev.driver === "e1000e") {
          if (mtu > 1500 && !p.jumbo) {
            p.jumbo = true;
            pciLog(k, dev, "Interrupt Throttle Rate off");
            pciLog(k, dev, "Some CPU C-states have been disabled in order to enable jumbo frames");
          } else if (mtu <= 1500 && p.jumbo) {
            p.jumbo = false;
            pciLog(k, dev, "Interrupt Throttle Rate on");
          }
        }
        dev.mtu = mtu;
        if (dev.running) {
          nicDown(k, dev, false);
          scheduleLinkUp(k, dev);
        }
        return 0;
      },
    },
  };
}

const DRIVERS_BY_NAME: Readonly<Record<string, NetDriver>> = Object.fromEntries(
  Object.values(PCI_NIC_MODELS).map((n) => [n, nicDriver(n)]),
);

function netdevOf(k: Kernel, fn: PciFunction): NetDevice | undefined {
  const i = fn.drvdata.ifindex;
  return typeof i === "number" ? k.state.devices.get(i) : undefined;
}

/**
 * Probe: "eth%d" with the NVM MAC, parent = the PCI function, register, carrier off.
 * @kernel e1000_probe(): 0, -EIO (invalid MAC) or register_netdev's error
 */
function probe(k: Kernel, fn: PciFunction): number {
  const name = PCI_NIC_MODELS[fn.spec.model] as string;
  const e1000e = name === "e1000e";
  // The netdev carries the PCI name until just before register_netdev (e1000_probe).
  const dev = allocNetdev(k, {
    name: fn.spec.addr,
    nameAssignType: k.profile.etherdevNameEnum ? NET_NAME.ENUM : NET_NAME.UNKNOWN,
    driver: name,
    parent: { id: fn.spec.addr, bus: "pci", driver: name, devpath: fn.devpath },
  });
  // pci_enable_device_mem(): logs only when it turns the memory decoding on, i.e. for a
  // hot-plugged function (the firmware enabled the ones it found at boot).
  if (e1000e && !fn.enabled) pciLog(k, dev, "enabling device (0000 -> 0002)");
  fn.enabled = true;
  if (e1000e)
    pciLog(k, dev, "Interrupt Throttling Rate (ints/sec) set to dynamic conservative mode");
  dev.devAddr = fn.spec.mac ?? "00:00:00:00:00:00";
  const first = Number.parseInt(dev.devAddr.slice(0, 2), 16);
  if (dev.devAddr === "00:00:00:00:00:00" || first & 1) {
    pciLog(k, dev, `Invalid MAC Address: ${dev.devAddr}`);
    return -5;
  }
  dev.maxMtu = fn.spec.maxMtu ?? E1000E_MAX_MTU;
  const p: NicPriv = {
    addr: fn.spec.addr,
    gen: 0,
    linkUpDelayUs: (fn.spec.linkUpDelayMs ?? PCI_NIC_LINK_UP_DELAY_MS) * 1000,
    partner: fn.link,
    jumbo: false,
  };
  privOf(dev).nic = p;
  if (e1000e) netdevLog(k, dev, "info", "registered PHC clock");
  dev.name = "eth%d";
  const ret = registerNetdev(k, dev);
  if (ret) return ret;
  fn.drvdata.ifindex = dev.ifindex;
  netifCarrierOff(k, dev);
  if (e1000e) {
    netdevLog(k, dev, "info", `(PCI Express:2.5GT/s:Width x1) ${dev.devAddr}`);
    netdevLog(k, dev, "info", "Intel(R) PRO/1000 Network Connection");
    netdevLog(k, dev, "info", "MAC: 3, PHY: 8, PBA No: 000000-000");
  }
  return 0;
}

/** The PCI driver of one NIC model (its name is the driver's: "e1000e", "ixgbevf", …). */
function pciNicDriver(model: string, name: string): PciDriver {
  return { ...PCI_NIC_DRIVER_OPS, name, models: [model] };
}

const PCI_NIC_DRIVER_OPS: Omit<PciDriver, "name" | "models"> = {
  probe,
  /** @kernel e1000_remove(): "removed PHC", then unregister_netdev() */
  remove(k, fn) {
    const dev = netdevOf(k, fn);
    if (!dev) return;
    if (dev.driver === "e1000e") netdevLog(k, dev, "info", "removed PHC");
    unregisterNetdev(k, dev);
  },
  /**
   * QEMU `set_link`. Measured with QEMU 7.2's e1000e: a partner lost while the device is open
   * goes unnoticed by the guest (carrier stays on until the next open); a partner back while
   * the device is open without carrier brings the carrier ≈ 1.2 s later.
   */
  linkChanged(k, fn) {
    const dev = netdevOf(k, fn);
    if (!dev) return;
    const p = nicPriv(dev);
    p.partner = fn.link;
    if (fn.link && dev.running && !dev.carrier)
      scheduleLinkUp(k, dev, PCI_NIC_RELINK_DELAY_MS * 1000);
  },
};

/** The PCI drivers for these NICs, one per model. */
export const PCI_NIC_DRIVERS: readonly PciDriver[] = Object.entries(PCI_NIC_MODELS).map(
  ([model, name]) => pciNicDriver(model, name),
);

/** Loads the NIC drivers and binds every matching function. Idempotent. */
export function pciNicInit(k: Kernel): void {
  if (!k.registry.drivers.has("e1000e")) {
    klog(k, "info", "e1000e: Intel(R) PRO/1000 Network Driver");
    klog(k, "info", "e1000e: Copyright(c) 1999 - 2015 Intel Corporation.");
  }
  for (const [n, d] of Object.entries(DRIVERS_BY_NAME)) k.registry.drivers.set(n, d);
  k.registry.work.set(PCI_NIC_LINK_WORK, linkWork);
  for (const d of PCI_NIC_DRIVERS) pciRegisterDriver(k, d);
}
