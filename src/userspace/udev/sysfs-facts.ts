// What udev reads about a network device before it names it: the net class attributes (through
// sysfs, so the errors the kernel returns are the ones udev sees), the ethtool driver name
// (the `net_driver` builtin's ID_NET_DRIVER) and the PCI function the netdev hangs off, found the
// way net_id's device_skip_virtio() finds it: walk up past the virtio bus to the PCI parent.
//
// Firmware facts the model has no hardware for are derived or configured:
// - hotplug slots: the slot the machine gave the function (PciFunctionSpec.hotplugSlot, by machine
//   type: i440fx's ACPI slots give bus-0 slot N its N, "ens3"; q35 has none on its root bus and
//   slot 0 under its root ports, so "enp0s3", "enp1s0"); slot 0 never counts (net_id skips
//   `slots/0`). `hotplugSlots` overrides this per address.
// - acpi_index (ACPI _DSM, ID_NET_NAME_ONBOARD): none unless configured per PCI address.
// - the multifunction bit of the config header: always clear (QEMU sets it only for
//   `multifunction=on`, which the machine specs never use).

import {
  ARPHRD,
  devGetByIndex,
  type Kernel,
  type NetDevice,
  netSysfsRead,
  parsePciAddr,
  pciGetFunction,
} from "../../kernel/index.ts";

/** One PCI function as net_id sees it. */
export interface PciFacts {
  /** "0000:00:03.0". */
  readonly addr: string;
  readonly domain: number;
  readonly bus: number;
  readonly slot: number;
  readonly func: number;
  /** PCI_HEADER_TYPE bit 7. */
  readonly multifunction: boolean;
  /** A PCI bridge (a root port), whose slot net_id may refuse (NAMING_BRIDGE_NO_SLOT). */
  readonly bridge: boolean;
  /** The /sys/bus/pci/slots/<N> whose address matches this function's dddd:bb:ss, or null. */
  readonly hotplugSlot: number | null;
  /** `acpi_index` (or SMBIOS `index`), or null when the firmware gives none. */
  readonly acpiIndex: number | null;
}

/** Everything udev reads about one net device. Unreadable attributes are null. */
export interface NetFacts {
  readonly ifindex: number;
  /** `iflink`: differs from ifindex for stacked devices (VLANs, veth peers). */
  readonly iflink: number;
  /** The current kernel name (sysname). */
  readonly name: string;
  /** ARPHRD_* (`type`). */
  readonly type: number;
  readonly address: string | null;
  readonly addrAssignType: number | null;
  /** `name_assign_type`; null when the read fails (NET_NAME_UNKNOWN gives -EINVAL). */
  readonly nameAssignType: number | null;
  readonly devPort: number | null;
  /** `phys_port_name`; null when the driver has no ndo_get_phys_port_name (-EOPNOTSUPP). */
  readonly physPortName: string | null;
  /** `flags` (IFF_*), as udev's rtnl_get_link_info sees them. */
  readonly flags: number;
  /** The permanent address (ETHTOOL_GPERMADDR), or null when the device has none. */
  readonly permAddress?: string | null;
  /** rtnl_link_ops->kind ("veth"), or null. */
  readonly kind?: string | null;
  /** ID_NET_DRIVER: the ethtool driver name ("net_failover", "virtio_net", "e1000e"), or null. */
  readonly driver: string | null;
  /** The class device's sysfs path, "/devices/…/net/<name>". */
  readonly devpath: string;
  /**
   * The PCI function the device sits on (virtio skipped) followed by the bridges above it, nearest
   * first; empty when the device is not on PCI (virtual devices, lo).
   */
  readonly pci: readonly PciFacts[];
}

/** Firmware facts the model cannot derive: per PCI address. */
export interface FirmwareConfig {
  /** ACPI index per PCI address ("0000:00:03.0": 1 gives "eno1"). */
  readonly acpiIndex?: Readonly<Record<string, number>>;
  /** Hotplug slot per PCI address, overriding the bus-0 rule (null: no slot). */
  readonly hotplugSlots?: Readonly<Record<string, number | null>>;
}

const PCI_ADDR_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

/**
 * The hotplug slot of a PCI function: the configured override, else the slot the machine gave it
 * (/sys/bus/pci/slots/<N> with its address), else none.
 */
export function hotplugSlotOf(k: Kernel, addr: string, fw: FirmwareConfig = {}): number | null {
  const o = fw.hotplugSlots?.[addr];
  if (o !== undefined) return o;
  return pciGetFunction(k, addr)?.spec.hotplugSlot ?? null;
}

/** A PCI address on a device path, parsed (`pciPathAddrs`). */
interface PathAddr {
  readonly addr: string;
  readonly domain: number;
  readonly bus: number;
  readonly slot: number;
  readonly func: number;
}

/**
 * The PCI addresses on a device path, leaf first, parsed: a function of the path text alone, so
 * it is kept per path (`PATH_ADDRS`) instead of splitting and matching the path again at every
 * read (udevd reads a device's facts at every event and whenever an explorer asks it for the
 * name it would give).
 */
function pciPathAddrs(path: string): readonly PathAddr[] {
  let out = PATH_ADDRS.get(path);
  if (out === undefined) {
    out = path
      .split("/")
      .filter((s) => PCI_ADDR_RE.test(s))
      .reverse()
      .map((addr) => {
        const [domain, bus, slot, func] = parsePciAddr(addr);
        return { addr, domain, bus, slot, func };
      });
    if (PATH_ADDRS.size >= 256) PATH_ADDRS.clear();
    PATH_ADDRS.set(path, out);
  }
  return out;
}

/**
 * `pciPathAddrs`'s parses by path. A parse is never changed (its callers only read it). A machine
 * has a few PCI paths; cleared past 256 all the same.
 */
const PATH_ADDRS = new Map<string, readonly PathAddr[]>();

/** The PCI functions on a device path, leaf first ("/devices/pci0000:00/0000:00:06.0/0000:02:00.0"). */
export function pciChainOf(k: Kernel, parentDevpath: string, fw: FirmwareConfig = {}): PciFacts[] {
  return pciPathAddrs(parentDevpath).map(({ addr, domain, bus, slot, func }) => {
    const fn = pciGetFunction(k, addr);
    const o = fw.hotplugSlots?.[addr];
    return {
      addr,
      domain,
      bus,
      slot,
      func,
      multifunction: false,
      bridge:
        fn !== undefined &&
        (fn.spec.secondaryBus !== undefined || fn.spec.model === "pcie-root-port"),
      // hotplugSlotOf(k, addr, fw), with the function already looked up
      hotplugSlot: o !== undefined ? o : (fn?.spec.hotplugSlot ?? null),
      acpiIndex: fw.acpiIndex?.[addr] ?? null,
    };
  });
}

/** The sysfs path of a net class device (what the kernel puts in DEVPATH). */
export function netDevpath(dev: NetDevice): string {
  return dev.parent ? `${dev.parent.devpath}/net/${dev.name}` : `/devices/virtual/net/${dev.name}`;
}

function readText(k: Kernel, name: string, attr: string): string | null {
  const r = netSysfsRead(k, name, attr);
  if (!("text" in r)) return null;
  // The attribute's one trailing newline off (as `replace(/\n$/, "")`, without the regex).
  const t = r.text;
  return t.endsWith("\n") ? t.slice(0, -1) : t;
}

function readInt(k: Kernel, name: string, attr: string): number | null {
  const t = readText(k, name, attr);
  if (t === null) return null;
  const v = t.startsWith("0x") ? Number.parseInt(t, 16) : Number.parseInt(t, 10);
  return Number.isNaN(v) ? null : v;
}

/**
 * The ethtool driver name (ETHTOOL_GDRVINFO), which the `net_driver` builtin exports as
 * ID_NET_DRIVER. lo has no ethtool driver info.
 */
export function ethtoolDriver(k: Kernel, dev: NetDevice): string | null {
  if (dev.type === ARPHRD.LOOPBACK) return null;
  return k.registry.drivers.get(dev.driver)?.name ?? dev.driver;
}

/** Reads what udev reads about the device with this ifindex, or null if it is gone. */
export function readNetFacts(k: Kernel, ifindex: number, fw: FirmwareConfig = {}): NetFacts | null {
  const dev = devGetByIndex(k, ifindex);
  if (!dev) return null;
  const name = dev.name;
  let pci: PciFacts[] = [];
  if (dev.parent) {
    // device_skip_virtio(): the virtio device is transparent; its parent is the PCI function.
    let path = dev.parent.devpath;
    if (dev.parent.bus === "virtio") path = path.slice(0, path.lastIndexOf("/"));
    const leaf = path.slice(path.lastIndexOf("/") + 1);
    // get_matching_parent(dev, "pci"): only a PCI parent gives PCI names.
    if (PCI_ADDR_RE.test(leaf)) pci = pciChainOf(k, path, fw);
  }
  return {
    ifindex,
    iflink: readInt(k, name, "iflink") ?? ifindex,
    name,
    type: readInt(k, name, "type") ?? dev.type,
    address: readText(k, name, "address"),
    addrAssignType: readInt(k, name, "addr_assign_type"),
    nameAssignType: readInt(k, name, "name_assign_type"),
    devPort: readInt(k, name, "dev_port"),
    physPortName: readText(k, name, "phys_port_name"),
    flags: readInt(k, name, "flags") ?? 0,
    driver: ethtoolDriver(k, dev),
    permAddress: dev.permAddr,
    kind: dev.kind,
    devpath: netDevpath(dev),
    pci,
  };
}
