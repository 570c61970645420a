// The actor that runs a scenario's steps (`steps:`), one per scheduler step, each ended by the
// runner's settle or the step's own wait. Split from run.ts.

import type { IpMonitor } from "../ip/index.ts";
import { type ErrnoName, errnoName } from "../kernel/index.ts";
import type { Actor } from "../sim/index.ts";
import { ipFailureCause } from "../userspace/cause.ts";
import type { StampedEvent, World } from "../userspace/world.ts";
import type { QemuMigration } from "./qemu-migration.ts";
import type { StepDoc } from "./schema.ts";
import {
  BOOT_QUIESCENCE_MAX_US,
  bootQuiescent,
  durationMs,
  type StepRecord,
  splitArgs,
  stepText,
} from "./steps.ts";
import type { UdevActorLike } from "./udev-actor.ts";

/**
 * The actor that runs a scenario's steps (`PreparedRun.script`): one step starts per scheduler
 * step; with `settleSteps` a step ends when the runner reports that every actor is idle.
 * Under `script_starts: quiescent` (the default) it is not ready before boot is quiescent: the
 * first step waits until the kernel has no deferred work pending (see `bootQuiescent`), or at
 * most until BOOT_QUIESCENCE_MAX_US of virtual time.
 */
export interface ScenarioScript extends Actor {
  /** Every step has started and ended. */
  readonly done: boolean;
  /** The first step has started (boot was quiescent, or the scenario races boot). */
  readonly started: boolean;
  /** The current step waits for every other actor to be idle (the runner then calls `settled`). */
  readonly waitingForSettle: boolean;
  /** Index (0-based) of the next step to start. */
  readonly stepIndex: number;
  /** The records of the steps that ended, in order. */
  readonly records: readonly StepRecord[];
  /** The runner calls this when every other actor is idle. */
  settled(): void;
  /** What an explorer keys of the script besides its step index (times absolute). */
  explorerView?(): ScriptExplorerView;
}

/** The script as an explorer keys it (`ScenarioScript.explorerView`). */
export interface ScriptExplorerView {
  readonly started: boolean;
  /** What the current step waits for; `until` is absolute (the caller makes it relative). */
  readonly wait: { readonly kind: string; readonly until: number | null } | null;
  /**
   * The index of the step in progress. (Its timeline cursor is history: a settle's quiet time
   * counts from the last record after it, which no key holds; see docs/performance.md.)
   */
  readonly pending: number | null;
  /** The outcome held until every actor is idle (settle steps). */
  readonly outcome: { readonly ok: boolean; readonly errno: string | null } | null;
  /** When the current settle began (absolute), while the script waits in one with a quiet time. */
  readonly settleSince: number | null;
  /** Every ended step's result: what `expect: step` checks. */
  readonly results: readonly (readonly [boolean, string | null])[];
}

type ScriptWait =
  | { kind: "settle" | "migrate" }
  | { kind: "sleep" | "quiet"; until: number }
  | null;
type ScriptPending = { index: number; text: string; t: number; cursor: number } | null;
type ScriptOutcome = {
  ok: boolean;
  errno: ErrnoName | null;
  message: string | null;
  result: string;
  cause?: string;
} | null;

/** What ScriptActor saves: its position, what it waits for, and the records so far. */
export interface ScriptSnapshot {
  readonly started: boolean;
  readonly settleSince: number;
  readonly i: number;
  readonly wait: ScriptWait;
  readonly pending: ScriptPending;
  readonly outcome: ScriptOutcome;
  readonly records: readonly StepRecord[];
  readonly udevStarted: boolean;
}

/** Executes the scenario's steps in order, one per scheduler step. */
export class ScriptActor implements ScenarioScript {
  readonly name = "script";
  readonly records: StepRecord[] = [];
  readonly #w: World;
  readonly #steps: readonly StepDoc[];
  readonly #monitor: IpMonitor;
  readonly #qemu: QemuMigration;
  #i = 0;
  /** The first step has started. */
  #started = false;
  /** "quiescent": the first step waits for boot quiescence; "boot": it races boot. */
  readonly #starts: "quiescent" | "boot";
  /** What the current step waits for. */
  #wait: ScriptWait = null;
  #pending: ScriptPending = null;
  readonly #settleSteps: boolean;
  /** settleSteps: the quiet time that ends a settle, µs (0: none). */
  readonly #quietUs: number;
  /** When the current settle began (its quiet time counts from here at the earliest), µs. */
  #settleSince = 0;
  /** settleSteps: the outcome of the current step, held until every actor is idle. */
  #outcome: ScriptOutcome = null;
  /** The udev actor `udevadm trigger` steps talk to, or null. */
  udev: UdevActorLike | null = null;
  /** A late udevd (`udev.start: late`) was started: once, when boot is quiescent. */
  #udevStarted = false;

  constructor(
    w: World,
    steps: readonly StepDoc[],
    monitor: IpMonitor,
    qemu: QemuMigration,
    settleSteps = false,
    starts: "quiescent" | "boot" = "quiescent",
    quietUs = 0,
  ) {
    this.#w = w;
    this.#steps = steps;
    this.#monitor = monitor;
    this.#qemu = qemu;
    this.#settleSteps = settleSteps;
    this.#starts = starts;
    this.#quietUs = settleSteps ? quietUs : 0;
    // The backend's boot settle: every actor idle and the quiet time over before step 1.
    if (this.#quietUs > 0 && starts === "quiescent" && steps.length > 0)
      this.#wait = { kind: "settle" };
  }

  get started(): boolean {
    return this.#started;
  }

  /**
   * Boot is over: no kernel work pending, or the longest wait has passed. Under free timing
   * only the first: the model has no periodic work, so every pending item can run and the wait
   * always ends that way (see BOOT_QUIESCENCE_MAX_US).
   */
  #bootOver(): boolean {
    if (this.#w.freeTiming) return bootQuiescent(this.#w.k);
    return bootQuiescent(this.#w.k) || this.#w.now() >= BOOT_QUIESCENCE_MAX_US;
  }

  get done(): boolean {
    return this.#i >= this.#steps.length && this.#wait === null;
  }

  get waitingForSettle(): boolean {
    return this.#wait?.kind === "settle";
  }

  get stepIndex(): number {
    return this.#i;
  }

  save(): ScriptSnapshot {
    return {
      started: this.#started,
      settleSince: this.#settleSince,
      i: this.#i,
      wait: this.#wait === null ? null : { ...this.#wait },
      pending: this.#pending === null ? null : { ...this.#pending },
      outcome: this.#outcome === null ? null : { ...this.#outcome },
      records: this.records.slice(),
      udevStarted: this.#udevStarted,
    };
  }

  explorerView(): ScriptExplorerView {
    const w = this.#wait;
    return {
      started: this.#started,
      wait: w === null ? null : { kind: w.kind, until: "until" in w ? w.until : null },
      pending: this.#pending?.index ?? null,
      outcome: this.#outcome && { ok: this.#outcome.ok, errno: this.#outcome.errno },
      // Read only for a quiet time (settle steps with quiet_ms).
      settleSince:
        this.#quietUs > 0 && (w?.kind === "settle" || w?.kind === "quiet")
          ? this.#settleSince
          : null,
      results: this.records.map((r) => [r.ok, r.errno] as const),
    };
  }

  load(s: ScriptSnapshot): void {
    this.#started = s.started;
    this.#settleSince = s.settleSince;
    this.#i = s.i;
    this.#wait = s.wait === null ? null : { ...s.wait };
    this.#pending = s.pending === null ? null : { ...s.pending };
    this.#outcome = s.outcome === null ? null : { ...s.outcome };
    this.records.length = 0;
    this.records.push(...s.records);
    this.#udevStarted = s.udevStarted;
  }

  readyAt(): number | null {
    if (this.#wait === null) {
      if (this.#i >= this.#steps.length) return null;
      if (!this.#started && this.#starts === "quiescent" && !this.#bootOver()) return null;
      return this.#w.now();
    }
    if (this.#wait.kind === "sleep" || this.#wait.kind === "quiet")
      return Math.max(this.#wait.until, this.#w.now());
    return null;
  }

  /** The virtual time of the last `ip monitor link` record at or after trace cursor `from`. */
  #lastRecordAt(from: number): number {
    const evs = this.#w.k.trace.events;
    for (let i = evs.length - 1; i >= from; i--) {
      const e = evs[i] as StampedEvent;
      if (e.type === "kernel.rtnl") return e.t;
    }
    return -1;
  }

  #events(cursor: number): string[] {
    const evs = this.#w.k.trace.since(cursor) as StampedEvent[];
    return this.#monitor
      .feed(evs)
      .split("\n")
      .filter((l) => l !== "");
  }

  #finish(
    ok: boolean,
    errno: ErrnoName | null,
    message: string | null,
    result: string,
    cause: string | null = null,
  ): void {
    const p = this.#pending;
    if (!p) return;
    if (this.#settleSteps && this.#outcome === null) {
      this.#outcome = { ok, errno, message, result, ...(cause !== null ? { cause } : {}) };
      this.#wait = { kind: "settle" };
      this.#settleSince = this.#w.now();
      return;
    }
    this.#outcome = null;
    this.records.push({
      index: p.index,
      step: p.text,
      ok,
      errno,
      message,
      events: this.#events(p.cursor),
      t: p.t,
      tEnd: this.#w.now(),
      ...(cause !== null ? { cause } : {}),
    });
    this.#w.record(this.name, p.text, result, ok, cause ?? undefined);
    this.#pending = null;
    this.#wait = null;
  }

  /** The runner calls this when every other actor is idle. */
  settled(): void {
    if (this.#wait?.kind !== "settle") return;
    if (this.#quietUs > 0) {
      const from = this.#pending?.cursor ?? 0;
      const until = Math.max(this.#lastRecordAt(from), this.#settleSince) + this.#quietUs;
      if (this.#w.now() < until) {
        this.#wait = { kind: "quiet", until };
        return;
      }
    }
    if (this.#pending === null) {
      // the boot settle (or a late udevd's `udevadm settle`) is over: step 1 may start
      this.#wait = null;
      return;
    }
    const o = this.#outcome ?? { ok: true, errno: null, message: null, result: "ok" };
    this.#outcome = o;
    this.#finish(o.ok, o.errno, o.message, o.result, o.cause ?? null);
  }

  step(): void {
    const w = this.#w;
    if (this.#wait?.kind === "sleep") {
      this.#finish(true, null, null, "ok");
      return;
    }
    if (this.#wait?.kind === "quiet") {
      // the quiet time is over: settle again (done at once unless something new ran)
      this.#wait = { kind: "settle" };
      return;
    }
    if (!this.#started && !this.#udevStarted && this.udev?.running === false && this.udev.start) {
      // udev.start: late — boot is quiescent: systemd-udevd starts, `udevadm trigger
      // --action=add` replays every device, and the steps wait for `udevadm settle`
      this.#udevStarted = true;
      const n = this.udev.start();
      w.record(
        "udevd",
        `udevd starts after boot; udevadm trigger --action=add: ${n} net events`,
        "ok",
      );
      this.#wait = { kind: "settle" };
      this.#settleSince = w.now();
      return;
    }
    if (!this.#started) {
      this.#started = true;
      // the steps' `ip monitor link` starts now: its ll_map is a link dump of this moment
      this.#monitor.restart(w.k);
      if (this.#starts === "quiescent")
        w.record(
          this.name,
          bootQuiescent(w.k)
            ? "boot is quiescent (no kernel work pending): the steps start"
            : `boot is not quiescent after ${BOOT_QUIESCENCE_MAX_US / 1_000_000} s (kernel work keeps coming): the steps start`,
          "ok",
        );
    }
    const s = this.#steps[this.#i] as StepDoc;
    this.#i++;
    this.#pending = { index: this.#i, text: stepText(s), t: w.now(), cursor: w.k.trace.length };
    if (typeof s === "string") {
      this.#wait = { kind: "settle" };
      this.#settleSince = w.now();
      return;
    }
    if ("ip" in s) {
      const r = w.ip(splitArgs(s.ip));
      const errno = r.errno ? (errnoName(r.errno) ?? null) : null;
      const message = r.status === 0 ? null : r.stderr.trim().split("\n")[0] || null;
      this.#finish(
        r.status === 0,
        errno,
        message,
        r.status === 0 ? "ok" : (errno ?? message ?? `exit ${r.status}`),
        r.status === 0 ? null : ipFailureCause(w.k, s.ip, errno),
      );
      return;
    }
    if ("sleep" in s) {
      this.#wait = { kind: "sleep", until: w.now() + durationMs(s.sleep) * 1000 };
      return;
    }
    if ("udevadm" in s) {
      if (!this.udev) {
        this.#finish(false, null, "udevadm trigger: the scenario has no udev: actor", "failed");
        return;
      }
      const n = this.udev.coldplug();
      this.#finish(true, null, null, `ok (${n} events)`);
      return;
    }
    if ("migrate" in s) {
      this.#wait = { kind: "migrate" };
      this.#qemu.start(s.migrate, (status) =>
        this.#finish(status !== "failed", null, null, status),
      );
      return;
    }
    try {
      if ("plug" in s) {
        const r = w.machine.plug(s.plug);
        this.#finish(
          true,
          null,
          null,
          r === "hidden" ? "hidden (failover pair not negotiated)" : "ok",
        );
      } else if ("unplug" in s) {
        w.machine.unplug(s.unplug);
        this.#finish(true, null, null, "ok");
      } else if ("modprobe" in s) {
        const loaded = w.machine.loadModule(s.modprobe);
        this.#finish(true, null, null, loaded ? "ok" : "already loaded");
      } else {
        w.machine.setLink(s.set_link.device, s.set_link.up);
        this.#finish(true, null, null, "ok");
      }
    } catch (e) {
      this.#finish(false, null, (e as Error).message, "failed");
    }
  }
}
