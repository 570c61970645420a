// What every real-kernel backend produces: the run record of docs/scenario-format.md
// (the contract's fields), so that `ifsim conform` can compare it with the model's field by field.

import type { LinkRecord, StepRecord } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";

/**
 * A step as a real backend records it (no virtual times). `errno` is widened to any errno name:
 * a real kernel may answer with errnos the model never returns (ENOBUFS, EAFNOSUPPORT, …).
 */
export type BackendStepRecord = Omit<
  Pick<StepRecord, "index" | "step" | "ok" | "errno" | "message" | "events">,
  "errno"
> & { readonly errno: string | null };

/** The record a backend returns for one scenario run. */
export interface BackendRunRecord {
  readonly scenario: string;
  readonly backend: string;
  /** The kernel that ran it: `uname -r` of the host or the guest. */
  readonly kernel: string;
  readonly steps: BackendStepRecord[];
  readonly links: LinkRecord[];
  /** Kernel log lines the run produced (without timestamps), when the backend can read them. */
  readonly dmesg?: string[];
  /** Wall time of the run, ms (boot included for VMs). */
  readonly wallMs?: number;
  /** The renames a real udevd tried (from, to, null or the errno name), when it ran one. */
  readonly udevRenames?: {
    readonly from: string;
    readonly to: string;
    readonly errno: string | null;
  }[];
  /**
   * With `bringup.dhcp`: the bring-up actor's DHCP decisions in order, "NAME: DHCPv4 client
   * started" or "NAME: no DHCP, unmanaged", as the model's RunRecord.dhcp.
   */
  readonly dhcp?: string[];
}

/** Options of a backend run. */
export interface BackendRunOptions {
  /** The kernel version asked for (a VM backend picks its image by it); null = the backend's own. */
  readonly kernel?: string | null;
  /** Progress lines for a human (stderr), or nothing. */
  readonly log?: (line: string) => void;
}

/** A real-kernel backend. */
export interface Backend {
  /** "netns", "qemu". */
  readonly name: string;
  /** Why this machine cannot run the backend (missing root, QEMU, …), or null when it can. */
  unavailableReason(): string | null;
  /**
   * Why this backend cannot run this scenario (a device it cannot build, a step it cannot do)
   * with these options (a VM backend's kernel), or null. A backend never silently skips part of a scenario.
   */
  refuses(sc: ScenarioDoc, o?: BackendRunOptions): string | null;
  /** The kernel version (major.minor) the backend runs, for picking the model's profile. */
  kernelVersion(o: BackendRunOptions): string;
  run(sc: ScenarioDoc, o: BackendRunOptions): Promise<BackendRunRecord>;
  /**
   * How long the backend waits without an `ip monitor link` record before a step ends, ms
   * (absent: it ends as soon as the machine is quiet). The model's steps end the same way.
   */
  readonly settleQuietMs?: number;
  /**
   * The guest's init loads its boot modules one after another, this long apart, ms (absent:
   * the model's default, every module at power-on). The model boots the same way.
   */
  readonly bootModuleGapMs?: number;
}
