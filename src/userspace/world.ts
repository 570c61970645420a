// The world userspace actors live in: one kernel (with its machine), the virtual clock, the
// seeded RNG, the scheduler, the event bus that carries uevents and rtnetlink multicasts to
// subscribed actors, and the timeline every actor writes what it did to.

import { IpProcess, type IpResult } from "../ip/index.ts";
import {
  errnoName,
  type Kernel,
  type KernelEvent,
  type NetDevice,
  netSysfsRead,
  type SysfsRead,
} from "../kernel/index.ts";
import type { Machine } from "../machine/index.ts";
import {
  type Rng,
  type RngState,
  Scheduler,
  type SchedulerSnapshot,
  type Strategy,
  type VirtualClock,
} from "../sim/index.ts";

/** A kernel event as the trace stamps it. */
export type StampedEvent = KernelEvent & { readonly seq: number; readonly t: number };
/** A uevent delivered to userspace. */
export type Uevent = Extract<StampedEvent, { type: "kernel.uevent" }>;
/** An rtnetlink multicast delivered to userspace. */
export type NetlinkMsg = Extract<StampedEvent, { type: "kernel.rtnl" }>;

/** One `ip` command run through World.ip. */
export interface IpLogEntry {
  readonly actor: string;
  readonly argv: readonly string[];
  readonly status: number;
  /** The errno name of a failed request, or null. */
  readonly errno: string | null;
}

/** One line of the run's timeline: who did what, when, with what result. */
export interface TimelineEntry {
  /** Virtual time, µs. */
  readonly t: number;
  readonly actor: string;
  readonly what: string;
  /** "ok", an errno name, or a short outcome. */
  readonly result: string;
  readonly ok: boolean;
  /** Why it failed, when the model can show it (e.g. the cause of an EBUSY). */
  readonly cause?: string;
}

/** Options for a world. */
export interface WorldOptions {
  readonly kernel: Kernel;
  readonly machine: Machine;
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly strategy?: Strategy;
}

/**
 * What `World.save` returns: the timeline's length (and its last entry, to tell whether the
 * timeline still holds it), the dispatch cursor, the world's generator and the scheduler's state.
 */
export interface WorldSnapshot {
  readonly timeline: number;
  /** Length of `ipLog`. */
  readonly ipLog: number;
  readonly timelineLast: TimelineEntry | null;
  readonly cursor: number;
  readonly rng: RngState;
  readonly sched: SchedulerSnapshot;
}

/** The shared runtime of a scenario run. */
export class World {
  readonly k: Kernel;
  readonly machine: Machine;
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly sched: Scheduler;
  readonly timeline: TimelineEntry[] = [];
  /** Every `ip` command an actor ran through `ip()`, with its outcome (for explorer exports). */
  readonly ipLog: IpLogEntry[] = [];
  /**
   * The explorer's free timing (`ifsim explore --timing free`): no actor decides anything by
   * comparing the clock with a deadline; where one would, the explorer offers every outcome as
   * a choice. Set once, before the first step; the clock still moves, for the log's times.
   */
  freeTiming = false;
  readonly #ueventSubs: ((e: Uevent) => void)[] = [];
  readonly #netlinkSubs: ((e: NetlinkMsg) => void)[] = [];
  #cursor: number;

  constructor(o: WorldOptions) {
    this.k = o.kernel;
    this.machine = o.machine;
    this.clock = o.clock;
    this.rng = o.rng;
    this.sched = new Scheduler(o.clock, o.rng.fork("scheduler"), o.strategy);
    this.#cursor = o.kernel.trace.length;
  }

  /**
   * Saves the world's own mutable data: the timeline's length, the dispatch cursor, its generator
   * and the scheduler (step count, tie-break generator). The kernel, the machine, the clock and
   * the actors are saved by their owners; subscriptions never change and are kept as they are.
   */
  save(): WorldSnapshot {
    return {
      timeline: this.timeline.length,
      ipLog: this.ipLog.length,
      timelineLast: this.timeline[this.timeline.length - 1] ?? null,
      cursor: this.#cursor,
      rng: this.rng.saveState(),
      sched: this.sched.save(),
    };
  }

  /**
   * Restores what `save` returned, in place: cuts the timeline back, resets the cursor and
   * the generators.
   *
   * @throws RangeError if the timeline no longer holds the snapshot's entries (a snapshot of a
   *   branch a later load abandoned).
   */
  load(s: WorldSnapshot): void {
    if (
      s.timeline > this.timeline.length ||
      (s.timeline > 0 && this.timeline[s.timeline - 1] !== s.timelineLast)
    ) {
      throw new RangeError(
        `Cannot load the world snapshot: the timeline no longer holds its first "${s.timeline}" entries`,
      );
    }
    this.timeline.length = s.timeline;
    this.ipLog.length = Math.min(this.ipLog.length, s.ipLog);
    this.#cursor = s.cursor;
    this.rng.loadState(s.rng);
    this.sched.load(s.sched);
  }

  /** Virtual now, µs. */
  now(): number {
    return this.clock.now();
  }

  /** Appends a timeline line (with the cause of a failure, when known). */
  record(actor: string, what: string, result: string, ok = true, cause?: string): void {
    const t = this.clock.now();
    this.timeline.push(
      cause === undefined ? { t, actor, what, result, ok } : { t, actor, what, result, ok, cause },
    );
  }

  /** Receive every uevent the kernel sends from now on (a udev netlink socket). */
  onUevent(fn: (e: Uevent) => void): void {
    this.#ueventSubs.push(fn);
  }

  /** Receive every RTNLGRP_LINK multicast from now on (an rtnetlink socket). */
  onNetlink(fn: (e: NetlinkMsg) => void): void {
    this.#netlinkSubs.push(fn);
  }

  /**
   * Hands the kernel events produced since the last call to the subscribers, in order. The
   * runner calls it after every actor step, so delivery never skips or reorders events.
   */
  dispatch(): void {
    const evs = this.k.trace.since(this.#cursor) as StampedEvent[];
    this.#cursor = this.k.trace.length;
    for (const e of evs) {
      if (e.type === "kernel.uevent") for (const f of this.#ueventSubs) f(e);
      else if (e.type === "kernel.rtnl") for (const f of this.#netlinkSubs) f(e);
    }
  }

  /**
   * Runs one iproute2 command as a process of its own (fresh ll_map) and returns what it
   * printed. Deferred kernel work is left to the kernel actor.
   */
  ip(argv: readonly string[], actor = "script"): IpResult {
    const r = new IpProcess(this.k, { settle: () => {} }).run(argv);
    this.ipLog.push({
      actor,
      argv: [...argv],
      status: r.status,
      errno: r.errno ? (errnoName(r.errno) ?? null) : null,
    });
    return r;
  }

  /** Reads /sys/class/net/<ifname>/<attr>. */
  sysfs(ifname: string, attr: string): SysfsRead {
    return netSysfsRead(this.k, ifname, attr);
  }

  /** The device with this ifindex, if registered. */
  device(ifindex: number): NetDevice | undefined {
    return this.k.state.devices.get(ifindex);
  }
}
