// A machine (`--machine M`: a built-in or a machine file) as the scenario devices the qemu
// backend builds its q35 guest from. Pure. QEMU's layout puts every hot-pluggable NIC behind its
// own pcie-root-port at the NIC's slot (backends/qemu/layout.ts), so a machine whose ports are
// laid out otherwise (failover-vm: an empty rp1 at 00:05.0, the e1000e behind rp2 on bus 2)
// comes out with other bus numbers: those differences are returned, and the caller refuses them
// when udev runs (its path names enpBsS read the bus).

import type { MachineSpec } from "../machine/index.ts";
import { machineOf } from "../scenario/run.ts";
import type { DeviceDoc, ScenarioDoc } from "../scenario/schema.ts";

/** The scenario to boot on QEMU, and the PCI addresses that differ from the machine's. */
export interface QemuMachine {
  readonly scenario: ScenarioDoc;
  /** Device id → [the machine's address, the guest's], for each device that moves. */
  readonly moved: readonly { id: string; machine: string; guest: string }[];
}

const E1000E_LIKE = new Set(["e1000e", "igbvf", "ixgbevf", "iavf"]);

/**
 * `sc` with the machine's NICs as its devices (and its modules and default qdisc).
 * @returns an error when a device cannot be described (a model the scenario format lacks).
 */
export function scenarioWithMachine(
  sc: ScenarioDoc,
  spec: MachineSpec,
): QemuMachine | { error: string } {
  const bus0Slot = new Map<number, number>();
  for (const d of spec.devices)
    if (d.model === "pcie-root-port" && d.secondaryBus !== undefined)
      bus0Slot.set(d.secondaryBus, slotOf(d.addr));
  const devices: DeviceDoc[] = [];
  for (const d of spec.devices) {
    if (d.model === "pcie-root-port") continue;
    const [bus, slot] = [busOf(d.addr), slotOf(d.addr)];
    const where = `machine "${spec.name}" device ${d.id ?? d.addr}`;
    if (d.id === undefined) return { error: `${where}: the qemu backend needs an id` };
    if (d.mac === undefined) return { error: `${where}: the qemu backend needs a mac` };
    const at = bus === 0 ? slot : bus0Slot.get(bus);
    if (at === undefined)
      return { error: `${where}: bus ${bus} is behind no pcie-root-port of the machine` };
    const common = {
      id: d.id,
      mac: d.mac,
      slot: at,
      ...(d.atBoot === false ? { plugged: false } : {}),
      ...(d.link === false ? { link: false } : {}),
    };
    if (d.model === "virtio-net")
      devices.push({
        ...common,
        type: "virtio-net",
        ...(d.standby ? { standby: true } : {}),
      });
    else if (E1000E_LIKE.has(d.model))
      devices.push({
        ...common,
        type: "pci-nic",
        ...(d.model !== "e1000e" ? { model: d.model as "igbvf" } : {}),
        ...(bus === 0 ? { bus: "pcie.0" as const } : {}),
        ...(d.failoverPairId !== undefined ? { failover_pair: d.failoverPairId } : {}),
        ...(d.linkUpDelayMs !== undefined ? { link_up_delay_ms: d.linkUpDelayMs } : {}),
      });
    else return { error: `${where}: model ${d.model} has no QEMU device here` };
  }
  const scenario: ScenarioDoc = {
    ...sc,
    devices,
    modules: [...spec.modules],
    default_qdisc: spec.defaultQdisc,
    ...(spec.machineType !== undefined ? { machine: spec.machineType } : {}),
  };
  const built = new Map(machineOf(scenario).devices.map((f) => [f.id, f.addr]));
  const moved = spec.devices.flatMap((d) => {
    if (d.model === "pcie-root-port" || d.id === undefined) return [];
    const guest = built.get(d.id);
    return guest !== undefined && guest !== d.addr ? [{ id: d.id, machine: d.addr, guest }] : [];
  });
  return { scenario, moved };
}

function busOf(addr: string): number {
  return Number.parseInt(addr.slice(5, 7), 16);
}

function slotOf(addr: string): number {
  return Number.parseInt(addr.slice(8, 10), 16);
}
