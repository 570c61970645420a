// Scenario families for benchmarks and tests: the boot race scaled to N failover pairs.

import type { ScenarioDoc } from "../scenario/schema.ts";

/**
 * The boot race with `n` failover pairs (virtio-net STANDBY + its VF, QEMU-paired), udevd with
 * `workers` workers naming everything, and a networkd-like actor that brings each master up
 * once udev has renamed and initialized it. On Linux 5.0 a master brought up before udev renamed
 * its standby makes that rename fail with EBUSY; from 5.1 on failover slaves may be renamed while
 * up, so every interleaving ends with all slaves named. The script (one `settle`) races boot
 * (`script_starts: boot`), as the actors do.
 */
export function bootRaceScenario(
  n: number,
  o: { kernel?: string; workers?: number; generation?: "v249" | "v250" | "v253" | "v256" } = {},
): ScenarioDoc {
  if (!Number.isInteger(n) || n < 1 || n > 14)
    throw new RangeError(`bootRaceScenario: n must be 1…14 (PCI slots), got ${n}`);
  const hex = (i: number): string => i.toString(16).padStart(2, "0");
  const devices: NonNullable<ScenarioDoc["devices"]> = [];
  for (let i = 0; i < n; i++)
    devices.push({
      id: `net${i}`,
      type: "virtio-net",
      mac: `52:54:00:00:01:${hex(i)}`,
      standby: true,
      slot: 3 + i,
    });
  for (let i = 0; i < n; i++)
    devices.push({
      id: `vf${i}`,
      type: "pci-nic",
      mac: `52:54:00:00:01:${hex(i)}`,
      slot: 3 + n + i,
      failover_pair: `net${i}`,
    });
  return {
    ifsim: 1,
    name: `Boot race with ${n} failover pair${n === 1 ? "" : "s"}`,
    kernel: o.kernel ?? "5.1",
    // i440fx: ACPI hot-plug slots, so udev names the masters ens3, ens4, … (on q35 it would be
    // enp0s3, … and the VFs would sit behind root ports)
    machine: "i440fx",
    devices,
    udev: { generation: o.generation ?? "v253", workers: o.workers ?? 2 },
    bringup: {
      links: Array.from({ length: n }, (_, i) => `ens${3 + i}`),
      wait_for_udev: true,
    },
    script_starts: "boot",
    steps: ["settle"],
  };
}
