// A scenario's steps as the runner and its script see them: their text, their durations, their
// records, the errors of a run, and when boot is over for the script. Split from run.ts.

import { type ErrnoName, type Kernel, nextWorkDue } from "../kernel/index.ts";
import { durationStringMs, type StepDoc } from "./schema.ts";

/** One step's outcome in the run record. */
export interface StepRecord {
  readonly index: number;
  readonly step: string;
  readonly ok: boolean;
  readonly errno: ErrnoName | null;
  readonly message: string | null;
  /** The `ip monitor link` lines the step caused, in order. */
  readonly events: string[];
  /** Why it failed, when the model can show it (src/scenario/cause.ts); absent otherwise. */
  readonly cause?: string;
  /** Virtual time the step started and ended, µs. */
  readonly t: number;
  readonly tEnd: number;
}

/** Thrown for a scenario the model cannot run (bad input caught late, e.g. a kernel missing). */
export class RunError extends Error {
  override readonly name = "RunError";
}

/**
 * A run stopped because the caller's `shouldStop` said so (a time limit): no verdict. The model
 * never reads a clock itself; the caller decides.
 */
export class RunStopped extends Error {
  override readonly name = "RunStopped";
  /** Scheduler steps taken before the stop. */
  readonly steps: number;
  /** The virtual time reached, µs. */
  readonly virtualUs: number;
  constructor(steps: number, virtualUs: number) {
    super(`stopped after ${steps} scheduler steps at virtual time ${virtualUs / 1_000_000} s`);
    this.steps = steps;
    this.virtualUs = virtualUs;
  }
}

/** ms in a Duration ("250ms", "2s", 500). */
export function durationMs(d: number | string): number {
  if (typeof d === "number") return d;
  const ms = durationStringMs(d);
  if (ms === null) throw new RunError(`bad duration "${d}"`);
  return ms;
}

/** The step as text (for timelines and the record). */
export function stepText(s: StepDoc): string {
  if (typeof s === "string") return s;
  if ("ip" in s) return `ip ${s.ip}`;
  if ("plug" in s) return `plug ${s.plug}`;
  if ("unplug" in s) return `unplug ${s.unplug}`;
  if ("sleep" in s) return `sleep ${typeof s.sleep === "number" ? `${s.sleep}ms` : s.sleep}`;
  if ("set_link" in s) return `set_link ${s.set_link.device} ${s.set_link.up ? "up" : "down"}`;
  if ("modprobe" in s) return `modprobe ${s.modprobe}`;
  if ("udevadm" in s) return `udevadm ${s.udevadm}`;
  const m = s.migrate;
  const ps = typeof m.primary === "string" ? m.primary : m.primary.join(" ");
  const how = [
    ...(m.outcome && m.outcome !== "completed" ? [m.outcome] : []),
    ...(m.resume === false ? ["no resume"] : []),
  ];
  return `migrate ${ps}${how.length > 0 ? ` (${how.join(", ")})` : ""}`;
}

/** Splits an ip command line like a shell (whitespace, '…' and "…" quoting). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}

/**
 * The longest the script waits for boot quiescence, µs of virtual time: the qemu backend's
 * longest settle (SETTLE_MAX_MS, 15 s), far past the boot work of the modelled machines (1 s
 * without actors: linkwatch's second batch; an e1000e a bring-up actor opens at boot reports its
 * link ≈ 2.4 s after the open).
 */
export const BOOT_QUIESCENCE_MAX_US = 15_000_000;

/**
 * Boot is over for the script (`script_starts: quiescent`): the kernel has no deferred work
 * pending. At the end of boot that is the virtio config work every virtio-net probe schedules
 * (virtnet_probe → schedule_work(&vi->config_work)), the linkwatch runs the carrier changes
 * queue (linkwatch_fire_event; non-urgent events batched up to a second apart), and a driver's
 * link-up work after an open (the e1000e watchdog reporting the link). All of it is due within
 * bounded time, and each item runs once, so the wait ends: a real guest's init starts after
 * the probes, and a script runs well after that work. Actors that queue work during boot (a
 * bring-up actor's opens) delay the start until their work is done too. The model has no
 * periodic work (the e1000e watchdog is modelled only as the link-up report it makes once after
 * an open); should work keep coming (a periodic watchdog), the script starts anyway once
 * BOOT_QUIESCENCE_MAX_US of virtual time has passed (the clock moves with that work).
 */
export function bootQuiescent(k: Kernel): boolean {
  return nextWorkDue(k) === null;
}
