// drivers/virtio: virtio_pci binds a virtio PCI function and registers a virtio device
// ("virtio<N>", N from an IDA: the lowest free index) on the virtio bus; a virtio driver
// (virtio_net) then probes it.

import { sharedConstant } from "../sim/clone.ts";
import { bugOn, type Kernel } from "./kernel.ts";
import type { ParentDevice } from "./netdevice.ts";
import { type PciDriver, type PciFunction, pciRegisterDriver, pciState } from "./pci.ts";

/** A virtio device on the virtio bus, kept in its PCI function's drvdata. */
export interface VirtioDevice {
  /** N of "virtio<N>". */
  readonly index: number;
  /** "net". */
  readonly deviceType: string;
  /** Feature bits the device offers, by name ("VIRTIO_NET_F_STANDBY", …). */
  readonly offered: readonly string[];
  /** Features the driver accepted (empty until a driver probed). */
  negotiated: readonly string[];
  /** Name of the virtio driver bound to it, or null. */
  driver: string | null;
  /** The virtio driver's data, plain. */
  priv: Record<string, unknown>;
}

/** A virtio driver (virtio_net): the device type it serves, the features it knows, probe/remove. */
export interface VirtioDriver {
  readonly name: string;
  readonly deviceType: string;
  readonly features: readonly string[];
  probe(k: Kernel, vdev: VirtioDevice, fn: PciFunction): number;
  remove(k: Kernel, vdev: VirtioDevice, fn: PciFunction): void;
  configChanged?(k: Kernel, vdev: VirtioDevice, fn: PciFunction): void;
}

const SUBSYS = "virtio";

/** No features negotiated (before a driver binds, or after its probe failed). */
const NO_FEATURES: readonly string[] = sharedConstant([] as string[]);

/** PCI models virtio_pci binds to, with the virtio device type and the features offered. */
const VIRTIO_MODELS: Readonly<
  Record<string, { type: string; features: (fn: PciFunction) => string[] }>
> = {
  "virtio-net": {
    type: "net",
    features: (fn) => [
      "VIRTIO_NET_F_MAC",
      "VIRTIO_NET_F_STATUS",
      ...(fn.spec.standby ? ["VIRTIO_NET_F_STANDBY"] : []),
    ],
  },
};

function drivers(k: Kernel): Map<string, VirtioDriver> {
  let m = k.registry.modules.get(SUBSYS) as Map<string, VirtioDriver> | undefined;
  if (!m) {
    m = new Map();
    k.registry.modules.set(SUBSYS, m);
  }
  return m;
}

/** The virtio device on a PCI function bound to virtio_pci, if any. */
export function virtioDeviceOf(fn: PciFunction): VirtioDevice | undefined {
  return fn.drvdata.vdev as VirtioDevice | undefined;
}

/** The parent device (`vdev->dev`) a virtio driver hangs its netdev off. */
export function virtioParent(vdev: VirtioDevice, fn: PciFunction, driver: string): ParentDevice {
  return {
    id: `virtio${vdev.index}`,
    bus: "virtio",
    driver,
    devpath: `${fn.devpath}/virtio${vdev.index}`,
  };
}

function lowestFreeIndex(k: Kernel): number {
  const used = new Set<number>();
  for (const f of pciState(k).functions) {
    const v = virtioDeviceOf(f);
    if (v) used.add(v.index);
  }
  let i = 0;
  while (used.has(i)) i++;
  return i;
}

function bindVirtioDriver(k: Kernel, vdev: VirtioDevice, fn: PciFunction): void {
  for (const drv of drivers(k).values()) {
    if (drv.deviceType !== vdev.deviceType) continue;
    vdev.driver = drv.name;
    // Feature lists are replaced, never changed: frozen and shared by snapshots.
    vdev.negotiated = sharedConstant(vdev.offered.filter((f) => drv.features.includes(f)));
    const ret = drv.probe(k, vdev, fn);
    if (ret) {
      vdev.driver = null;
      vdev.negotiated = NO_FEATURES;
      vdev.priv = {};
    }
    return;
  }
}

/**
 * virtio_pci: registers virtio<N> for the function and binds a loaded virtio driver.
 * @kernel virtio_pci_probe() → register_virtio_device()
 */
export const VIRTIO_PCI_DRIVER: PciDriver = {
  name: "virtio-pci",
  models: Object.keys(VIRTIO_MODELS),
  probe(k, fn) {
    const model = VIRTIO_MODELS[fn.spec.model];
    bugOn(!model, `virtio-pci: no virtio model for ${fn.spec.model}`);
    const m = model as (typeof VIRTIO_MODELS)[string];
    const vdev: VirtioDevice = {
      index: lowestFreeIndex(k),
      deviceType: m.type,
      offered: sharedConstant([...m.features(fn)]),
      negotiated: NO_FEATURES,
      driver: null,
      priv: {},
    };
    fn.drvdata.vdev = vdev;
    bindVirtioDriver(k, vdev, fn);
    return 0;
  },
  remove(k, fn) {
    const vdev = virtioDeviceOf(fn);
    if (vdev?.driver) drivers(k).get(vdev.driver)?.remove(k, vdev, fn);
    delete fn.drvdata.vdev;
  },
  linkChanged(k, fn) {
    const vdev = virtioDeviceOf(fn);
    if (vdev?.driver) drivers(k).get(vdev.driver)?.configChanged?.(k, vdev, fn);
  },
};

/** Loads virtio_pci (binds every virtio PCI function). Idempotent. */
export function virtioPciInit(k: Kernel): void {
  pciRegisterDriver(k, VIRTIO_PCI_DRIVER);
}

/**
 * Registers a virtio driver (module load) and probes the unbound virtio devices of its type,
 * in index order.
 * @kernel register_virtio_driver()
 */
export function registerVirtioDriver(k: Kernel, drv: VirtioDriver): void {
  const m = drivers(k);
  if (m.has(drv.name)) return;
  m.set(drv.name, drv);
  const devs = pciState(k)
    .functions.map((fn) => ({ fn, vdev: virtioDeviceOf(fn) }))
    .filter((x): x is { fn: PciFunction; vdev: VirtioDevice } => !!x.vdev && !x.vdev.driver)
    .sort((a, b) => a.vdev.index - b.vdev.index);
  for (const { fn, vdev } of devs)
    if (vdev.deviceType === drv.deviceType) bindVirtioDriver(k, vdev, fn);
}
