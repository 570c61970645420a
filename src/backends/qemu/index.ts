// The qemu backend: a real Linux guest (Debian's kernel: bullseye 5.10, bookworm 6.1 by default,
// trixie 6.12; release.ts) under QEMU q35, driven over QMP and a serial channel; a scenario's
// `udev:` actor runs as that release's real systemd-udevd in the guest (udev.ts, udev-prepare.ts). See run.ts for the step semantics and layout.ts for the machine
// mapping.

import type { ScenarioDoc } from "../../scenario/schema.ts";
import type { Backend, BackendRunOptions } from "../types.ts";
import { prepareProblem } from "./prepare.ts";
import { DEFAULT_RELEASE, releaseOf } from "./release.ts";
import {
  BOOT_MODULE_GAP_MS,
  type QemuRunRecord,
  QUIET_MS,
  qemuRefuses,
  qemuRelease,
  runOnQemu,
} from "./run.ts";

export { compareLogs, formatLogDifference, MODELLED_LOG, modelledLog } from "./compare.ts";
export { pciAddrMap, type QemuLayout, qemuLayout } from "./layout.ts";
export { cacheDir, kernelCached, type Prepared, prepare } from "./prepare.ts";
export {
  DEFAULT_RELEASE,
  QEMU_RELEASES,
  type QemuRelease,
  releaseKernels,
  releaseOf,
} from "./release.ts";
export {
  BOOT_MODULE_GAP_MS,
  type QemuRunRecord,
  QUIET_MS,
  qemuRefuses,
  qemuRelease,
  runOnQemu,
} from "./run.ts";

import { REAL_UDEV_GENERATION } from "./udev.ts";

type UdevGenerationName = NonNullable<
  Exclude<ScenarioDoc["udev"], "none" | undefined>["generation"]
>;

export {
  REAL_UDEV_GENERATION,
  realUdevProblem,
  scenarioLinkFile,
  type UdevRename,
  udevRenames,
} from "./udev.ts";
export { type PreparedUdev, prepareUdev, udevInitrd } from "./udev-prepare.ts";
export { pickAccel } from "./vm.ts";

/** Why this machine cannot run the qemu backend (QEMU missing, no way to get the kernel…), or null. */
export function qemuUnavailableReason(): string | null {
  return prepareProblem();
}

/** The qemu backend. */
export class QemuBackend implements Backend {
  readonly name = "qemu";
  readonly settleQuietMs = QUIET_MS;
  readonly bootModuleGapMs = BOOT_MODULE_GAP_MS;

  unavailableReason(): string | null {
    return qemuUnavailableReason();
  }

  refuses(sc: ScenarioDoc, o: BackendRunOptions = {}): string | null {
    return qemuRefuses(sc, o.kernel);
  }

  /**
   * The scenario the model runs to face the same guest: the release's default qdisc, and the
   * generation its real udev behaves as (REAL_UDEV_GENERATION) when the scenario names none.
   */
  modelScenario(sc: ScenarioDoc, o: BackendRunOptions = {}): ScenarioDoc {
    const r = releaseOf(o.kernel) ?? DEFAULT_RELEASE;
    const u = sc.udev;
    const gen = REAL_UDEV_GENERATION[r.udevMajor] as UdevGenerationName | undefined;
    return {
      ...sc,
      default_qdisc: sc.default_qdisc ?? r.defaultQdisc,
      ...(u !== undefined && u !== "none" && u.generation === undefined && gen !== undefined
        ? { udev: { ...u, generation: gen } }
        : {}),
    };
  }

  kernelVersion(o: BackendRunOptions): string {
    return qemuRelease(o.kernel).kernel;
  }

  run(sc: ScenarioDoc, o: BackendRunOptions): Promise<QemuRunRecord> {
    return runOnQemu(sc, o);
  }
}
export { type GuestBatch, type GuestIpResult, type GuestStepResult, LiveGuest } from "./live.ts";
