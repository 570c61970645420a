// Helpers for failover tests: boot a kernel with a machine (PCI devices + modules) on a
// virtual clock, and small builders for machine specs.

import { createKernel, type Kernel, profileFor } from "../../src/kernel/index.ts";
import { FAILOVER_VM, Machine, type MachineSpec } from "../../src/machine/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";

/** A booted machine with its kernel and clock. */
export interface Booted {
  readonly k: Kernel;
  readonly clock: VirtualClock;
  readonly m: Machine;
}

/** Options for bootMachine. */
export interface BootOptions {
  /** Oracle UEK5 takeover_delay in ms (null = mainline). */
  readonly takeoverDelayMs?: number | null;
  readonly seed?: number;
  /** Do not boot (only build kernel + machine). */
  readonly noBoot?: boolean;
}

/** Boots `spec` (default: the measured failover VM) on a kernel of `version`. */
export function bootMachine(
  version: string,
  spec: MachineSpec = FAILOVER_VM,
  o: BootOptions = {},
): Booted {
  const clock = new VirtualClock();
  const k = createKernel({
    kernel: profileFor(version, { takeoverDelayMs: o.takeoverDelayMs ?? null }),
    clock,
    rng: new Rng(o.seed ?? 1),
    cpus: spec.cpus,
    defaultQdisc: spec.defaultQdisc,
  });
  const m = new Machine(k, spec, (t) => clock.advanceTo(t));
  if (!o.noBoot) m.boot();
  return { k, clock, m };
}

/**
 * The failover VM plus extra devices (e.g. a second VF "vf2" with the same MAC on bus 1, or a
 * VF with a different MAC). Extra devices with `failoverPairId` are QEMU-hidden until plugged.
 */
export function failoverVmWith(
  extra: MachineSpec["devices"],
  patch: Partial<MachineSpec> = {},
): MachineSpec {
  return {
    ...FAILOVER_VM,
    name: "failover-vm+",
    ...patch,
    devices: [...FAILOVER_VM.devices, ...extra],
  };
}
