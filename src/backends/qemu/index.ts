// The qemu backend: a real Linux 6.1 guest (Debian's kernel) under QEMU q35, driven over QMP and
// a serial channel; a scenario's `udev:` actor runs as Debian's real systemd-udevd in the guest
// (udev.ts, udev-prepare.ts). See run.ts for the step semantics and layout.ts for the machine
// mapping.

import type { ScenarioDoc } from "../../scenario/schema.ts";
import { BackendRefusal } from "../refusal.ts";
import type { Backend, BackendRunOptions } from "../types.ts";
import { prepareProblem } from "./prepare.ts";
import { BOOT_MODULE_GAP_MS, type QemuRunRecord, QUIET_MS, qemuRefuses, runOnQemu } from "./run.ts";

export { compareLogs, formatLogDifference, MODELLED_LOG, modelledLog } from "./compare.ts";
export { pciAddrMap, type QemuLayout, qemuLayout } from "./layout.ts";
export { cacheDir, type Prepared, prepare } from "./prepare.ts";
export { type QemuRunRecord, qemuRefuses, REAL_UDEV_MAJOR, runOnQemu } from "./run.ts";
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

  refuses(sc: ScenarioDoc): string | null {
    return qemuRefuses(sc);
  }

  kernelVersion(o: BackendRunOptions): string {
    if (o.kernel != null && o.kernel !== "6.1" && !o.kernel.startsWith("6.1."))
      throw new BackendRefusal(
        `the qemu backend runs Debian's Linux 6.1 only (asked for ${o.kernel})`,
      );
    return "6.1";
  }

  run(sc: ScenarioDoc, o: BackendRunOptions): Promise<QemuRunRecord> {
    return runOnQemu(sc, o);
  }
}
export { type GuestBatch, type GuestIpResult, type GuestStepResult, LiveGuest } from "./live.ts";
