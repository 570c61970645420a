// The simulated machine and its hypervisor: which PCI functions exist, which guest modules
// load in which order, and QEMU's side of virtio-net failover (a primary with
// failover_pair_id stays hidden until the guest negotiates VIRTIO_NET_F_STANDBY on its pair,
// then QEMU hot-plugs it).

import {
  comparePciAddr,
  type Kernel,
  type PciFunctionSpec,
  parsePciAddr,
  pciAddFunction,
  pciGetFunction,
  pciNicInit,
  pciRemoveFunction,
  pciSetLink,
  pciState,
  queueWork,
  settleWork,
  virtioDeviceOf,
  virtioNetInit,
  virtioPciInit,
} from "../kernel/index.ts";

/** Guest kernel modules the model can load, in `modprobe` terms. */
export type GuestModule = "virtio_pci" | "failover" | "net_failover" | "virtio_net" | "e1000e";

/**
 * The QEMU machine type, which decides the firmware's PCI hot-plug slots (what udev's net_id
 * reads in /sys/bus/pci/slots for ID_NET_NAME_SLOT):
 * - "q35": the root complex (pcie.0) has no hot-plug slots; a pcie-root-port has a PCIe slot
 *   whose Physical Slot Number is QEMU's `slot` property, 0 by default, and net_id skips slot 0.
 *   So no device gets a slot name: a NIC at 00:03.0 is `enp0s3`, one behind a port `enp1s0`.
 * - "i440fx": ACPI hot-plug (acpiphp) gives every bus-0 slot N > 0 its slot N: `ens3`.
 */
export type MachineType = "q35" | "i440fx";

/** The hot-plug slot `type` gives the function `d` of `devices`, or undefined (none). */
export function hotplugSlotFor(
  type: MachineType,
  d: PciFunctionSpec,
  devices: readonly PciFunctionSpec[],
): number | undefined {
  const [, bus, slot] = parsePciAddr(d.addr);
  if (type === "i440fx") return bus === 0 && slot > 0 ? slot : undefined;
  if (bus === 0) return undefined;
  const port = devices.find((p) => p.model === "pcie-root-port" && p.secondaryBus === bus);
  return port ? 0 : undefined;
}

/** Everything that describes a machine (a QEMU command line plus the guest's module order). */
export interface MachineSpec {
  readonly name: string;
  readonly description: string;
  /** The QEMU machine type (default "q35", what the qemu backend builds). */
  readonly machineType?: MachineType;
  /** The guest's sysctl net.core.default_qdisc (Debian's kernels: fq_codel). */
  readonly defaultQdisc: string;
  /** Possible CPUs of the guest. */
  readonly cpus: number;
  /** Modules loaded at boot, in order (after PCI enumeration). */
  readonly modules: readonly GuestModule[];
  /** PCI functions (root ports, NICs). A function with failoverPairId is QEMU-hidden at boot. */
  readonly devices: readonly PciFunctionSpec[];
}

/** Thrown for a machine request that cannot be met (bad input, not a model bug). */
export class MachineError extends Error {
  override readonly name = "MachineError";
}

/** Hypervisor state, plain data. */
export interface HypervisorState {
  /** QEMU ids of devices added to the VM but hidden from the guest (failover primaries). */
  hidden: string[];
  /** QEMU ids whose FAILOVER_NEGOTIATED event was sent. */
  negotiated: string[];
}

const MODULE_INIT: Readonly<Record<GuestModule, (k: Kernel) => void>> = {
  virtio_pci: virtioPciInit,
  // failover and net_failover have no devices of their own; virtio_net's init loads them.
  failover: () => {},
  net_failover: () => {},
  virtio_net: virtioNetInit,
  e1000e: pciNicInit,
};

/** Checks a spec for structural problems; returns the first problem or null. */
export function validateMachineSpec(spec: MachineSpec): string | null {
  const ids = new Set<string>();
  const addrs = new Set<string>();
  for (const [i, d] of spec.devices.entries()) {
    const where = `devices[${i}]`;
    try {
      parsePciAddr(d.addr);
    } catch (e) {
      return `${where}: ${(e as Error).message}`;
    }
    if (addrs.has(d.addr)) return `${where}: PCI address ${d.addr} used twice`;
    addrs.add(d.addr);
    if (d.id !== undefined) {
      if (ids.has(d.id)) return `${where}: device id "${d.id}" used twice`;
      ids.add(d.id);
    }
    if (d.failoverPairId !== undefined) {
      const pair = spec.devices.find((x) => x.id === d.failoverPairId);
      if (!pair) return `${where}: failoverPairId "${d.failoverPairId}" names no device`;
      if (pair.model !== "virtio-net" || !pair.standby)
        return `${where}: failoverPairId "${d.failoverPairId}" must name a virtio-net with standby: true`;
      if (d.id === undefined) return `${where}: a failover primary needs an id`;
    }
    if (d.atBoot === false && d.id === undefined)
      return `${where}: a device plugged later (atBoot: false) needs an id`;
    if (
      d.model !== "pcie-root-port" &&
      d.mac !== undefined &&
      !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(d.mac)
    )
      return `${where}: bad MAC "${d.mac}" (expected lower-case xx:xx:xx:xx:xx:xx)`;
  }
  return null;
}

/**
 * The deferred-work item that stands for the guest's init loading its next boot module (a
 * `boot({ moduleGapUs })`): the item's argument is the module's index in `spec.modules`.
 */
export const INIT_MODPROBE_WORK = "init_modprobe";

/** What `Machine.save` returns: the hypervisor's state and the guest's loaded modules, copied. */
export interface MachineSnapshot {
  readonly hidden: readonly string[];
  readonly negotiated: readonly string[];
  readonly announced: readonly string[];
  readonly loaded: readonly GuestModule[];
}

/**
 * What the hypervisor reports as it acts (QMP events, QEMU warnings, hide/plug decisions), as
 * one line of text each; a scenario run puts them on its timeline.
 */
export type HypervisorListener = (what: string) => void;

/** A booted machine: the guest kernel plus the hypervisor's controls (QMP-like). */
export class Machine {
  readonly state: HypervisorState = { hidden: [], negotiated: [] };
  readonly k: Kernel;
  readonly spec: MachineSpec;
  private readonly advanceTo: (t: number) => void;
  /** Receives the hypervisor's reports (none by default). */
  onEvent: HypervisorListener | null = null;
  /** Standbys whose FAILOVER_NEGOTIATED was reported (cleared when the standby is unplugged). */
  private readonly announced = new Set<string>();
  /** Guest modules loaded so far. */
  private readonly loaded = new Set<GuestModule>();

  /** `advanceTo` moves the virtual clock (the scheduler's) when deferred work falls due. */
  constructor(k: Kernel, spec: MachineSpec, advanceTo: (t: number) => void) {
    this.k = k;
    this.advanceTo = advanceTo;
    const problem = validateMachineSpec(spec);
    if (problem) throw new MachineError(`machine "${spec.name}": ${problem}`);
    const type = spec.machineType ?? "q35";
    this.spec = {
      ...spec,
      devices: spec.devices.map((d) => {
        const slot = d.hotplugSlot ?? hotplugSlotFor(type, d, spec.devices);
        return slot === undefined ? d : { ...d, hotplugSlot: slot };
      }),
    };
  }

  /**
   * Boots: enumerates the visible functions (bus order; root ports first so the buses behind
   * them exist), loads the modules in order (each binds its devices), lets QEMU plug the
   * failover primaries whose pair negotiated STANDBY, and settles deferred work.
   * With `moduleGapUs` > 0 only the first module loads now; each next one is deferred work
   * (INIT_MODPROBE_WORK) due that long after the previous one, as an init that runs modprobe
   * after modprobe (QEMU plugs a paired primary as soon as its standby negotiated).
   */
  boot(o: { settle?: boolean; moduleGapUs?: number } = {}): void {
    const gap = o.moduleGapUs ?? 0;
    if (!Number.isSafeInteger(gap) || gap < 0)
      throw new RangeError(`boot: moduleGapUs must be a non-negative integer (µs), got ${gap}`);
    // QEMU hides a primary only if its standby exists when the primary is created
    // (failover_hide_primary_device is registered by the standby's realize).
    const hiddenAtBoot = (d: PciFunctionSpec): boolean =>
      d.failoverPairId !== undefined && this.pairAtBoot(d.failoverPairId);
    const visible = this.spec.devices.filter((d) => !hiddenAtBoot(d) && d.atBoot !== false);
    const ports = visible.filter((d) => d.model === "pcie-root-port");
    const rest = visible.filter((d) => d.model !== "pcie-root-port");
    // The firmware enumerates (and enables) what is there at boot; the rest is hot-plugged.
    for (const d of [...ports].sort((a, b) => comparePciAddr(a.addr, b.addr)))
      pciAddFunction(this.k, d, { firmware: true });
    for (const d of [...rest].sort((a, b) => comparePciAddr(a.addr, b.addr)))
      pciAddFunction(this.k, d, { firmware: true });
    if (gap === 0)
      for (const m of this.spec.modules) {
        MODULE_INIT[m](this.k);
        this.loaded.add(m);
      }
    for (const d of this.spec.devices) {
      if (hiddenAtBoot(d) && d.atBoot !== false) {
        this.state.hidden.push(d.id as string);
        this.report(
          `${d.id}: hidden until ${d.failoverPairId} negotiates VIRTIO_NET_F_STANDBY (failover_pair_id)`,
        );
      } else if (d.failoverPairId !== undefined && d.atBoot !== false)
        this.report(
          `${d.id}: ${d.failoverPairId} is not in the VM: plugged at once, not hidden (failover_pair_id)`,
        );
    }
    if (gap === 0) this.hypervisorStep();
    else if (this.spec.modules.length > 0) {
      this.k.registry.work.set(INIT_MODPROBE_WORK, (_k, arg) => this.bootModule(Number(arg), gap));
      this.bootModule(0, gap);
    }
    // A scenario leaves the deferred work (linkwatch, config work) to its kernel actor, so that
    // userspace started at boot races it.
    if (o.settle !== false) this.settle();
  }

  /**
   * Saves the machine's own mutable data: `state` (hidden primaries, negotiated standbys), the
   * standbys already announced and the modules loaded. The guest kernel is not included (save it
   * with `saveKernel`), nor `onEvent`.
   */
  save(): MachineSnapshot {
    return {
      hidden: [...this.state.hidden],
      negotiated: [...this.state.negotiated],
      announced: [...this.announced],
      loaded: [...this.loaded],
    };
  }

  /** Restores what `save` returned, in place (the same `state` object and sets). */
  load(s: MachineSnapshot): void {
    this.state.hidden = [...s.hidden];
    this.state.negotiated = [...s.negotiated];
    this.announced.clear();
    for (const id of s.announced) this.announced.add(id);
    this.loaded.clear();
    for (const m of s.loaded) this.loaded.add(m);
  }

  /** Loads boot module `i` (unless a step loaded it already) and queues the next one. */
  private bootModule(i: number, gap: number): void {
    const m = this.spec.modules[i];
    if (m === undefined) throw new RangeError(`boot: no boot module ${i}`);
    this.loadModule(m);
    if (i + 1 < this.spec.modules.length)
      queueWork(this.k, INIT_MODPROBE_WORK, this.k.clock.now() + gap, String(i + 1));
  }

  /** Runs deferred kernel work until none is left. */
  settle(): void {
    settleWork(this.k, this.advanceTo);
  }

  /** True if the device `id` is in the spec and present at boot. */
  private pairAtBoot(id: string): boolean {
    const p = this.spec.devices.find((x) => x.id === id);
    return p !== undefined && p.atBoot !== false;
  }

  private report(what: string): void {
    this.onEvent?.(what);
  }

  /**
   * QEMU's failover logic: FAILOVER_NEGOTIATED for every standby that newly negotiated STANDBY
   * (virtio_net_set_features; "Primary device not found" when no primary names it), then plug
   * every hidden primary whose standby negotiated.
   */
  private hypervisorStep(): void {
    for (const d of this.spec.devices) {
      if (d.model !== "virtio-net" || !d.standby || d.id === undefined) continue;
      if (this.announced.has(d.id)) continue;
      const fn = this.findFunction(d.id);
      const vdev = fn ? virtioDeviceOf(fn) : undefined;
      if (!vdev?.negotiated.includes("VIRTIO_NET_F_STANDBY")) continue;
      this.announced.add(d.id);
      this.report(`FAILOVER_NEGOTIATED ${d.id}`);
      const primary = this.spec.devices.find((x) => x.failoverPairId === d.id);
      const known =
        primary?.id !== undefined &&
        (this.isPresent(primary.id) || this.state.hidden.includes(primary.id));
      if (!known)
        this.report(
          `warning: Primary device not found (Virtio-net failover will not work. Make sure primary device has parameter failover_pair_id=${d.id})`,
        );
    }
    for (const id of [...this.state.hidden]) {
      const d = this.deviceSpec(id);
      const pair = this.findFunction(d.failoverPairId as string);
      const vdev = pair ? virtioDeviceOf(pair) : undefined;
      if (!vdev?.negotiated.includes("VIRTIO_NET_F_STANDBY")) continue;
      if (!this.state.negotiated.includes(d.failoverPairId as string))
        this.state.negotiated.push(d.failoverPairId as string);
      this.state.hidden = this.state.hidden.filter((h) => h !== id);
      pciAddFunction(this.k, d);
      this.report(`${id}: plugged (${d.failoverPairId} negotiated STANDBY)`);
    }
  }

  private deviceSpec(id: string): PciFunctionSpec {
    const d = this.spec.devices.find((x) => x.id === id);
    if (!d) {
      const known = this.spec.devices.flatMap((x) => (x.id ? [x.id] : []));
      throw new MachineError(
        `no device "${id}" in machine "${this.spec.name}" (ids: ${known.join(", ")})`,
      );
    }
    return d;
  }

  private findFunction(id: string) {
    return pciState(this.k).functions.find((f) => f.spec.id === id);
  }

  /** True if the device with QEMU id `id` is present on the guest's PCI bus. */
  isPresent(id: string): boolean {
    return this.findFunction(id) !== undefined;
  }

  /**
   * QMP `device_add` of a device from the machine spec: a failover primary whose pair has not
   * negotiated STANDBY stays hidden; otherwise the guest sees a hot-plug at once.
   */
  plug(id: string): "plugged" | "hidden" {
    const d = this.deviceSpec(id);
    if (this.isPresent(id) || this.state.hidden.includes(id))
      throw new MachineError(
        `device "${id}" is already in the VM (Duplicate ID '${id}' for device)`,
      );
    if (pciGetFunction(this.k, d.addr)) throw new MachineError(`slot ${d.addr} is occupied`);
    if (d.failoverPairId !== undefined && this.isPresent(d.failoverPairId)) {
      this.state.hidden.push(id);
      this.hypervisorStep();
      if (this.state.hidden.includes(id))
        this.report(
          `${id}: hidden until ${d.failoverPairId} negotiates VIRTIO_NET_F_STANDBY (failover_pair_id)`,
        );
      return this.state.hidden.includes(id) ? "hidden" : "plugged";
    }
    // A primary whose standby is not in the VM is not hidden (the qtest's hotplug/2_reverse:
    // "XXX: sounds like a bug").
    if (d.failoverPairId !== undefined)
      this.report(
        `${id}: ${d.failoverPairId} is not in the VM: plugged at once, not hidden (failover_pair_id)`,
      );
    pciAddFunction(this.k, d);
    // A new standby negotiates STANDBY while it probes: QEMU then plugs its hidden primary.
    this.hypervisorStep();
    return "plugged";
  }

  /** QMP `device_del`: the guest's driver remove path runs (ACPI eject), then DEVICE_DELETED. */
  unplug(id: string): void {
    this.deviceSpec(id);
    if (this.state.hidden.includes(id)) {
      this.state.hidden = this.state.hidden.filter((h) => h !== id);
      return;
    }
    const fn = this.findFunction(id);
    if (!fn) throw new MachineError(`device "${id}" is not plugged`);
    pciRemoveFunction(this.k, fn.spec.addr);
    this.announced.delete(id);
  }

  /**
   * `modprobe MODULE` in the guest: loads a module the boot did not (its driver binds the
   * devices present), then QEMU reacts to any STANDBY negotiated. False if already loaded.
   */
  loadModule(m: GuestModule): boolean {
    if (this.loaded.has(m)) return false;
    MODULE_INIT[m](this.k);
    this.loaded.add(m);
    this.hypervisorStep();
    return true;
  }

  /** The QEMU id of the present function that is the failover primary paired with `standbyId`. */
  pairedPrimary(standbyId: string): string | null {
    const d = this.spec.devices.find((x) => x.failoverPairId === standbyId && x.id !== undefined);
    return d?.id ?? null;
  }

  /** QMP `set_link`: the backend link of a NIC goes up or down. */
  setLink(id: string, up: boolean): void {
    this.deviceSpec(id);
    const fn = this.findFunction(id);
    if (!fn) throw new MachineError(`device "${id}" is not plugged`);
    pciSetLink(this.k, fn.spec.addr, up);
  }
}
