// drivers/pci: a PCI bus with functions at domain:bus:slot.fn addresses, drivers that bind to
// them (probe) and let go of them (remove), at boot and on hot-plug / hot-unplug.

import { sharedConstant } from "../sim/clone.ts";
import { bugOn, type Kernel, KernelBug, klog } from "./kernel.ts";

/** What sits in a PCI slot (the hardware side; QEMU's `-device` line). */
export interface PciFunctionSpec {
  /** "0000:00:03.0" (domain:bus:slot.function, lower-case hex). */
  readonly addr: string;
  /** Device model: "virtio-net", "e1000e", a VF model ("igbvf", "ixgbevf", "iavf"), "pcie-root-port". */
  readonly model: string;
  /** QEMU device id ("standby0", "primary0"); used by the hypervisor, not by the guest. */
  readonly id?: string;
  /** NICs: the MAC in the device's NVM / virtio config (the netdev's perm_addr). */
  readonly mac?: string;
  /** virtio-net: offer VIRTIO_NET_F_STANDBY (QEMU `failover=on`). */
  readonly standby?: boolean;
  /** QEMU `failover_pair_id`: this function is the primary of that standby's pair. */
  readonly failoverPairId?: string;
  /** Backend link state (virtio status LINK_UP, the PHY's link partner). Default true. */
  readonly link?: boolean;
  /** NICs: time from ndo_open to carrier (PHY autonegotiation + watchdog), ms. */
  readonly linkUpDelayMs?: number;
  /** NICs: the driver's max_mtu for this device. */
  readonly maxMtu?: number;
  /** Root ports: the bus number behind the port. */
  readonly secondaryBus?: number;
  /** Machine spec: false = not plugged at boot (the hypervisor plugs it later). Default true. */
  readonly atBoot?: boolean;
  /**
   * The number of the /sys/bus/pci/slots/<N> whose address is this function's dddd:bb:ss (the
   * firmware's hot-plug slot: acpiphp on i440fx, a PCIe slot capability's Physical Slot Number
   * under a root port, 0 for QEMU's), or absent when there is none. The machine sets it.
   */
  readonly hotplugSlot?: number;
}

/** A function present on the bus, plain data. */
export interface PciFunction {
  readonly spec: PciFunctionSpec;
  /** sysfs path, e.g. "/devices/pci0000:00/0000:00:06.0/0000:02:00.0". */
  readonly devpath: string;
  /** Name of the bound driver, or null. */
  driver: string | null;
  /** Driver data (`pci_set_drvdata`), plain. */
  drvdata: Record<string, unknown>;
  /** The backend link as the hypervisor currently sets it. */
  link: boolean;
  /**
   * Memory/IO decoding is on in the command register: the firmware turned it on for the
   * functions it enumerated at boot; a hot-plugged function starts with it off, and the driver's
   * pci_enable_device() logs "enabling device (0000 -> 0002)" when it turns it on.
   */
  enabled: boolean;
}

/** A PCI driver: the models it binds to, probe and remove. */
export interface PciDriver {
  readonly name: string;
  readonly models: readonly string[];
  /** 0 or a negative errno (the device stays unbound then). */
  probe(k: Kernel, fn: PciFunction): number;
  remove(k: Kernel, fn: PciFunction): void;
  /** The hypervisor changed the backend link (QEMU `set_link`). */
  linkChanged?(k: Kernel, fn: PciFunction): void;
}

/** The bus state in `k.state.subsys.pci`. */
export interface PciState {
  /** Present functions, in bus order. */
  functions: PciFunction[];
}

const SUBSYS = "pci";
const ADDR_RE = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;

/** Thrown for a malformed PCI address (bad input). */
export class PciAddressError extends Error {
  override readonly name = "PciAddressError";
}

/** Parses "0000:02:00.0" → [domain, bus, slot, fn]; throws PciAddressError when malformed. */
export function parsePciAddr(addr: string): [number, number, number, number] {
  const m = ADDR_RE.exec(addr);
  if (!m) {
    throw new PciAddressError(
      `bad PCI address "${addr}": expected dddd:bb:ss.f in lower-case hex (slot 00-1f, function 0-7), e.g. 0000:00:03.0`,
    );
  }
  return [
    Number.parseInt(m[1] as string, 16),
    Number.parseInt(m[2] as string, 16),
    Number.parseInt(m[3] as string, 16),
    Number(m[4]),
  ];
}

/** Bus order: bus 0 first (slot order), then the buses behind bridges, as pci_bus_add_devices. */
export function comparePciAddr(a: string, b: string): number {
  const x = parsePciAddr(a);
  const y = parsePciAddr(b);
  for (let i = 0; i < 4; i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d) return d;
  }
  return 0;
}

export function pciState(k: Kernel): PciState {
  let s = k.state.subsys[SUBSYS] as PciState | undefined;
  if (!s) {
    s = { functions: [] };
    k.state.subsys[SUBSYS] = s;
  }
  return s;
}

function drivers(k: Kernel): Map<string, PciDriver> {
  let m = k.registry.modules.get(SUBSYS) as Map<string, PciDriver> | undefined;
  if (!m) {
    m = new Map();
    k.registry.modules.set(SUBSYS, m);
  }
  return m;
}

/** The function at `addr`, if present. */
export function pciGetFunction(k: Kernel, addr: string): PciFunction | undefined {
  return pciState(k).functions.find((f) => f.spec.addr === addr);
}

function devpathOf(k: Kernel, spec: PciFunctionSpec): string {
  const [dom, bus] = parsePciAddr(spec.addr);
  const root = `/devices/pci${dom.toString(16).padStart(4, "0")}:00`;
  if (bus === 0) return `${root}/${spec.addr}`;
  const bridge = pciState(k).functions.find((f) => f.spec.secondaryBus === bus);
  if (!bridge) {
    throw new PciAddressError(
      `no bridge leads to bus ${bus.toString(16).padStart(2, "0")} for ${spec.addr}: add a pcie-root-port with secondaryBus ${bus}`,
    );
  }
  return `${bridge.devpath}/${spec.addr}`;
}

function tryProbe(k: Kernel, fn: PciFunction): void {
  for (const drv of drivers(k).values()) {
    if (!drv.models.includes(fn.spec.model)) continue;
    fn.driver = drv.name;
    const ret = drv.probe(k, fn);
    if (ret) {
      fn.driver = null;
      fn.drvdata = {};
      // call_driver_probe(): -ENODEV / -ENXIO are only debug messages.
      if (ret !== -19 && ret !== -6) {
        if (k.profile.probeFailDevErr) {
          klog(
            k,
            "err",
            `${drv.name} ${fn.spec.addr}: probe with driver ${drv.name} failed with error ${ret}`,
          );
        } else klog(k, "warn", `${drv.name}: probe of ${fn.spec.addr} failed with error ${ret}`);
      }
    }
    return;
  }
}

/**
 * Registers a PCI driver (module load) and probes every unbound function it matches, in bus
 * order.
 * @kernel pci_register_driver() → driver_attach()
 */
export function pciRegisterDriver(k: Kernel, drv: PciDriver): void {
  const m = drivers(k);
  if (m.has(drv.name)) return;
  m.set(drv.name, drv);
  for (const fn of [...pciState(k).functions]) {
    if (fn.driver === null && drv.models.includes(fn.spec.model)) tryProbe(k, fn);
  }
}

/**
 * Adds a function to the bus (enumeration at boot, or a hot-plug) and binds a loaded driver.
 * `firmware`: the function was there when the firmware enumerated the bus at boot (it enabled
 * its decoding); false for a hot-plug. Bad specs (malformed address, occupied slot, no bridge to
 * the bus) throw PciAddressError and change nothing.
 * @kernel pci_scan_slot() + pci_bus_add_device() (pciehp / acpiphp on hot-plug)
 */
export function pciAddFunction(
  k: Kernel,
  spec: PciFunctionSpec,
  o: { readonly firmware?: boolean } = {},
): PciFunction {
  parsePciAddr(spec.addr);
  if (pciGetFunction(k, spec.addr)) {
    throw new PciAddressError(`PCI slot ${spec.addr} is occupied`);
  }
  const fn: PciFunction = {
    // The function's description never changes: frozen and shared by snapshots.
    spec: sharedConstant({ ...spec }),
    devpath: devpathOf(k, spec),
    driver: null,
    drvdata: {},
    link: spec.link ?? true,
    enabled: o.firmware === true,
  };
  const s = pciState(k);
  s.functions.push(fn);
  s.functions.sort((a, b) => comparePciAddr(a.spec.addr, b.spec.addr));
  tryProbe(k, fn);
  return fn;
}

/**
 * Removes a function (hot-unplug, ACPI eject or surprise removal): the bound driver's remove
 * path runs first. A function with devices behind it (a root port) cannot be removed here.
 * @kernel pci_stop_and_remove_bus_device()
 */
export function pciRemoveFunction(k: Kernel, addr: string): void {
  const fn = pciGetFunction(k, addr);
  if (!fn) throw new PciAddressError(`no PCI function at ${addr}`);
  if (fn.spec.secondaryBus !== undefined) {
    const bus = fn.spec.secondaryBus;
    if (pciState(k).functions.some((f) => parsePciAddr(f.spec.addr)[1] === bus)) {
      throw new PciAddressError(`${addr} has devices behind it; remove them first`);
    }
  }
  if (fn.driver !== null) {
    const drv = drivers(k).get(fn.driver);
    bugOn(!drv, `bound to unknown driver ${fn.driver}`);
    (drv as PciDriver).remove(k, fn);
  }
  const s = pciState(k);
  s.functions = s.functions.filter((f) => f !== fn);
}

/** The hypervisor sets the backend link of a function (QEMU `set_link`). */
export function pciSetLink(k: Kernel, addr: string, up: boolean): void {
  const fn = pciGetFunction(k, addr);
  if (!fn) throw new PciAddressError(`no PCI function at ${addr}`);
  if (fn.link === up) return;
  fn.link = up;
  if (fn.driver === null) return;
  const drv = drivers(k).get(fn.driver);
  if (!drv) throw new KernelBug(`bound to unknown driver ${fn.driver}`);
  drv.linkChanged?.(k, fn);
}
