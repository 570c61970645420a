// Built-in machines. "failover-vm" is the QEMU machine of docs/kernel-rules.md
// on which the real Debian 6.1 kernel was measured (test/fixtures/qemu-6.1).

import type { MachineSpec } from "./machine.ts";

/** The MAC shared by the failover pair. */
export const FAILOVER_MAC = "52:54:00:00:12:53";

/**
 * q35: virtio-net STANDBY (failover=on) at 00:03.0, a plain virtio-net at 00:04.0, two PCIe
 * root ports (00:05.0 → bus 1, 00:06.0 → bus 2) and an e1000e primary (failover_pair_id) on
 * bus 2 that QEMU plugs once the guest negotiates STANDBY. Debian's kernel: fq_codel.
 */
export const FAILOVER_VM: MachineSpec = {
  name: "failover-vm",
  description:
    "QEMU q35: virtio-net standby (00:03.0) + plain virtio-net (00:04.0) + e1000e primary (02:00.0, plugged after STANDBY negotiation)",
  defaultQdisc: "fq_codel",
  cpus: 1,
  modules: ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"],
  devices: [
    { addr: "0000:00:03.0", model: "virtio-net", id: "standby0", mac: FAILOVER_MAC, standby: true },
    { addr: "0000:00:04.0", model: "virtio-net", id: "net1", mac: "52:54:00:00:12:99" },
    { addr: "0000:00:05.0", model: "pcie-root-port", id: "rp1", secondaryBus: 1 },
    { addr: "0000:00:06.0", model: "pcie-root-port", id: "rp2", secondaryBus: 2 },
    {
      addr: "0000:02:00.0",
      model: "e1000e",
      id: "primary0",
      mac: FAILOVER_MAC,
      failoverPairId: "standby0",
    },
  ],
};

/** One virtio-net without STANDBY: the plain cloud guest. */
export const VIRTIO_VM: MachineSpec = {
  name: "virtio-vm",
  description: "QEMU q35 with one plain virtio-net at 00:03.0 (no failover)",
  defaultQdisc: "fq_codel",
  cpus: 1,
  modules: ["virtio_pci", "virtio_net"],
  devices: [{ addr: "0000:00:03.0", model: "virtio-net", id: "net0", mac: "52:54:00:00:12:53" }],
};

/** Built-in machines by name. */
export const BUILTIN_MACHINES: Readonly<Record<string, MachineSpec>> = {
  [FAILOVER_VM.name]: FAILOVER_VM,
  [VIRTIO_VM.name]: VIRTIO_VM,
};
