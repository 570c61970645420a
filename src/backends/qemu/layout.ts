// A scenario's devices as a QEMU q35 machine: the command line, the devices added over QMP while
// the VM is still paused, and where each device shows up on the guest's PCI bus. Pure: no
// processes, no files (tested without QEMU).
//
// Mapping (scenario → QEMU 7.2 q35):
// - every device keeps the scenario's slot, and the model's machineOf() builds the same q35
//   machine (root ports included), so model and guest PCI addresses agree;
// - a `virtio-net` present at boot is a `virtio-net-pci` on pcie.0 at that slot (`failover=on`
//   when `standby`), so the guest sees it at 0000:00:N.0 exactly as the model does;
// - a `pci-nic` (bus pci.0, the default) is an `e1000e` behind its own `pcie-root-port`, and so is
//   a `virtio-net` with `plugged: false`: q35's root complex (pcie.0) refuses hot-plug, so a
//   device that is plugged or unplugged needs a port. The port sits at 0000:00:N.0 and the guest
//   numbers the buses behind the ports in slot order (1, 2, …), so the NIC is at 0000:0B:00.0,
//   where the model puts it too (and udev names it enpBs0).
// - a `pci-nic` with `bus: pcie.0` is an `e1000e` on pcie.0 at its slot (not hot-pluggable);
// - `failover_pair` → `failover_pair_id`; every pci-nic present at boot is added with QMP
//   `device_add` while the VM is paused (-S): a paired primary given on the command line could
//   not be re-plugged after `device_del` (docs/kernel-rules.md, QEMU);
// - `link: false` → QMP `set_link … off` right after the device is added;
// - each NIC has its own `-netdev hubport` (own hub): no traffic, carrier from the device model;
//   with `network: "user"` (the DHCP measurement, dhcp.ts) every NIC's hubport is on hub 0 with
//   QEMU's user network (slirp) instead.

import { hotpluggedIds, machineOf, unpairedPrimaries } from "../../scenario/run.ts";
import type { ScenarioDoc } from "../../scenario/schema.ts";

/** One NIC of the machine. */
export interface QemuNic {
  /** Scenario id = QEMU device id. */
  readonly id: string;
  readonly type: "virtio-net" | "pci-nic";
  readonly driver: "virtio-net-pci" | "e1000e";
  readonly slot: number;
  /** Where the model puts it (machineOf(): the guest's address on q35). */
  readonly modelAddr: string;
  /** Where the guest sees it. */
  readonly guestAddr: string;
  /** The pcie-root-port it sits behind, or null (on pcie.0). */
  readonly port: string | null;
  readonly netdev: string;
  readonly atBoot: boolean;
  /** QEMU device properties for device_add (or -device). */
  readonly props: Readonly<Record<string, string | boolean>>;
  /** Netdevs the guest creates for it: 2 for a virtio-net standby (master + standby), else 1. */
  readonly netdevs: number;
  /** The standby this primary pairs with (QEMU hides it until FAILOVER_NEGOTIATED), or null. */
  readonly pairedWith: string | null;
  readonly link: boolean;
}

/** The machine. */
export interface QemuLayout {
  /** QEMU arguments for the devices (after the fixed machine options). */
  readonly deviceArgs: string[];
  readonly nics: QemuNic[];
  /** Ids to `device_add` while paused, in order. */
  readonly pausedAdds: string[];
  /** Ids whose link is set off while paused. */
  readonly linkOffAtBoot: string[];
  /** Netdevs the guest has once booted (lo included). */
  readonly bootNetdevs: number;
}

/** Why the layout cannot be built for this scenario (null: it can). */
export function layoutProblem(sc: ScenarioDoc): string | null {
  if (sc.machine === "i440fx")
    return "machine: i440fx: the qemu backend builds a q35 machine only (use the model)";
  for (const d of sc.devices ?? []) {
    if (d.type === "veth" || d.type === "ifb")
      return `device "${d.id}" is a ${d.type}: the qemu backend builds only virtio-net and pci-nic devices (use the model or the netns backend)`;
    if (d.type === "pci-nic" && d.model !== undefined && d.model !== "e1000e")
      return `device "${d.id}" is a pci-nic with model ${d.model}: QEMU 7.2 has no ${d.model} device (only e1000e)`;
    if (d.bus === "pcie.0" && d.plugged === false)
      return `device "${d.id}" sits on pcie.0 and is plugged later: QEMU refuses it ("Bus 'pcie.0' does not support hotplugging")`;
  }
  for (const a of machineOf(sc).devices) {
    const slot = slotOf(a.addr);
    if (slot === 0x1f)
      return `device "${a.id}" uses slot 31: q35 has its LPC, SATA and SMBus functions there`;
  }
  // Drivers bind in bus order. The model has every device on bus 0 in slot order; the guest
  // has the devices behind root ports after those on pcie.0. Refuse when that changes the order
  // in which one driver probes the devices present at boot (kernel names would differ).
  const l = qemuLayout(sc);
  for (const driver of ["virtio-net-pci", "e1000e"]) {
    const boot = l.nics.filter((n) => n.driver === driver && n.atBoot && n.pairedWith === null);
    const model = [...boot].sort((a, b) => a.modelAddr.localeCompare(b.modelAddr)).map((n) => n.id);
    const guest = [...boot].sort((a, b) => a.guestAddr.localeCompare(b.guestAddr)).map((n) => n.id);
    if (model.join() !== guest.join())
      return `the guest would probe the ${driver} devices present at boot in another order than the model (${guest.join(", ")} instead of ${model.join(", ")}): devices behind a root port (pci-nic, hot-plugged virtio-net) come after those on pcie.0; change their slots`;
  }
  return null;
}

function slotOf(addr: string): number {
  return Number.parseInt(addr.slice(8, 10), 16);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** Builds the machine (call layoutProblem() first). */
export function qemuLayout(sc: ScenarioDoc, o: { network?: "none" | "user" } = {}): QemuLayout {
  const spec = machineOf(sc);
  const unpaired = new Set(unpairedPrimaries(sc).map((u) => u.id));
  const docs = sc.devices ?? [];
  const nicDocs = docs.filter((d) => d.type === "virtio-net" || d.type === "pci-nic");
  // Which devices need a root port (hot-pluggable, or an e1000e on pci.0), in slot order: the
  // guest numbers the buses behind them 1, 2, … in that order.
  const slotById = new Map<string, number>();
  const addrById = new Map<string, string>();
  for (const f of spec.devices) {
    if (f.id === undefined) continue;
    if (f.model === "pcie-root-port" && f.id.startsWith("rp-"))
      slotById.set(f.id.slice(3), slotOf(f.addr));
    else {
      addrById.set(f.id, f.addr);
      if (!slotById.has(f.id)) slotById.set(f.id, slotOf(f.addr));
    }
  }
  const hotplugged = hotpluggedIds(sc);
  const needsPort = (d: (typeof nicDocs)[number]): boolean =>
    d.type === "pci-nic" ? d.bus !== "pcie.0" : d.plugged === false || hotplugged.has(d.id);
  const ported = nicDocs
    .filter(needsPort)
    .map((d) => d.id)
    .sort((a, b) => (slotById.get(a) as number) - (slotById.get(b) as number));
  const busOf = new Map(ported.map((id, i) => [id, i + 1]));

  const args: string[] = [];
  const nics: QemuNic[] = [];
  const pausedAdds: string[] = [];
  const linkOffAtBoot: string[] = [];
  let bootNetdevs = 1;
  let hub = 0;
  if (o.network === "user")
    args.push("-netdev", "user,id=slirp0", "-netdev", "hubport,id=hp0,hubid=0,netdev=slirp0");
  // root ports first (bus numbering follows their slots), then the NICs
  for (const id of ported) {
    const slot = slotById.get(id) as number;
    args.push(
      "-device",
      `pcie-root-port,id=rp-${id},bus=pcie.0,addr=0x${hex2(slot)},chassis=${slot}`,
    );
  }
  for (const d of nicDocs) {
    if (d.type !== "virtio-net" && d.type !== "pci-nic") continue;
    const slot = slotById.get(d.id) as number;
    hub++;
    const netdev = `hp${hub}`;
    // network "user": every NIC on hub 0 with QEMU's user-mode network (slirp: its DHCP server
    // hands 10.0.2.15… out by client MAC), one L2 segment as a cloud's virtual switch
    args.push("-netdev", `hubport,id=${netdev},hubid=${o.network === "user" ? 0 : hub}`);
    const port = busOf.has(d.id) ? `rp-${d.id}` : null;
    const guestAddr = port
      ? `0000:${hex2(busOf.get(d.id) as number)}:00.0`
      : `0000:00:${hex2(slot)}.0`;
    const atBoot = d.plugged !== false;
    const mac = d.mac.toLowerCase();
    const props: Record<string, string | boolean> = {
      driver: d.type === "virtio-net" ? "virtio-net-pci" : "e1000e",
      id: d.id,
      mac,
      netdev,
      ...(port ? { bus: port } : { bus: "pcie.0", addr: `0x${hex2(slot)}` }),
    };
    let pairedWith: string | null = null;
    if (d.type === "virtio-net" && d.standby) props.failover = true;
    if (d.type === "pci-nic" && d.failover_pair !== undefined) {
      props.failover_pair_id = d.failover_pair;
      if (!unpaired.has(d.id)) pairedWith = d.failover_pair;
    }
    const netdevs = d.type === "virtio-net" && d.standby ? 2 : 1;
    const nic: QemuNic = {
      id: d.id,
      type: d.type,
      driver: props.driver as QemuNic["driver"],
      slot,
      modelAddr: addrById.get(d.id) ?? `0000:00:${hex2(slot)}.0`,
      guestAddr,
      port,
      netdev,
      atBoot,
      props,
      netdevs,
      pairedWith,
      link: d.link !== false,
    };
    nics.push(nic);
    if (atBoot) {
      bootNetdevs += netdevs;
      if (d.type === "pci-nic") pausedAdds.push(d.id);
      else args.push("-device", deviceArg(props));
      if (d.link === false) linkOffAtBoot.push(d.id);
    }
  }
  return { deviceArgs: args, nics, pausedAdds, linkOffAtBoot, bootNetdevs };
}

/** QEMU -device text for device properties. */
export function deviceArg(props: Readonly<Record<string, string | boolean>>): string {
  const { driver, ...rest } = props;
  return [
    String(driver),
    ...Object.entries(rest).map(
      ([k, v]) => `${k}=${typeof v === "boolean" ? (v ? "on" : "off") : v}`,
    ),
  ].join(",");
}

/**
 * Guest PCI address → the model's, for the devices whose addresses differ (behind a root port).
 * Used to compare kernel log lines ("e1000e 0000:01:00.0 eth2: NIC Link is Up …").
 */
export function pciAddrMap(l: QemuLayout): Map<string, string> {
  return new Map(l.nics.filter((n) => n.port !== null).map((n) => [n.guestAddr, n.modelAddr]));
}
