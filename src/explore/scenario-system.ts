// A scenario run as an explorable system: the scheduler's actors become lanes (the kernel's
// deferred work, each udev worker, bring-up, cloud-init, QEMU's migration logic, the script),
// a step's footprint is what it changed (found by diffing per-resource digests) plus what it
// declares it read, and the state key is a digest of the whole model state, canonicalised under
// permutations of identical failover pairs and of udev workers when asked.
//
// Timing: by default every ready lane may go next whatever its virtual time ("any": latencies
// are unknown, so every order of the actors is possible; each lane's own steps keep their
// order, the clock never moves back). `timing: "strict"` keeps the virtual-time order and only
// explores ties. `timing: "free"` goes further than "any": no decision of the model depends on
// the clock (see `Timing`).

import type { z } from "zod";
import {
  firstWorkOfKind,
  type Kernel,
  LINKWATCH_WORK,
  linkwatchRun,
  linkwatchRunsDiffer,
  linkwatchScheduleWork,
  type NetDevice,
  runWorkOfKind,
} from "../kernel/index.ts";
import { finishRun, type PreparedRun, prepareRun, type RunRecord } from "../scenario/run.ts";
import { InvariantNameDoc, type ScenarioDoc } from "../scenario/schema.ts";
import { type DevDigest, DigestMaker, type Digests, type TextOf } from "./digests.ts";
import { StateKeys, workerLane } from "./state-key.ts";
import { clockReads, DEFAULT_VIEW, type StateView, timerHolders } from "./state-view.ts";
import type { ExplorableSystem, StateKey, Violation } from "./system.ts";

/** Invariants the explorer knows by name. */
export const INVARIANTS: Readonly<Record<InvariantName, string>> = {
  "unique-names": "every registered device has a name no other device has (state)",
  "unique-ifindexes": "every registered device has an ifindex no other device has (state)",
  "no-ebusy-to-udev": "no rename udevd issued returned EBUSY (state)",
  "failover-named":
    "at quiescence every failover slave has its predictable name and every failover master is up with a slave (quiescence; needs udev)",
  "no-duplicate-mac-crash": "no config tool crashed on a duplicate MAC (cloud-init) (state)",
  "no-kernel-warning": "the kernel hit no WARN_ON (state)",
  expect: "the scenario's own expect: list holds (quiescence)",
};

/** An invariant name (the scenario schema's `explore.invariants` names). */
export type InvariantName = z.infer<typeof InvariantNameDoc>;

/** The built-in invariants checked when none are named: every one but `expect`. */
export const DEFAULT_INVARIANTS: readonly InvariantName[] = InvariantNameDoc.options.filter(
  (n) => n !== "expect",
);

/**
 * How the explorer treats time. "any" (the default): every ready lane may go next whatever its
 * due time, but the kernel runs its deferred work in due order and linkwatch and bring-up decide
 * by the clock. "strict": virtual-time order, ties explored. "free": no decision depends on a
 * time, so a verdict holds for every latency, not only the model's:
 * - each kind of kernel work is a lane (`kernel/<name>`) that runs that kind's first item (items
 *   of one kind keep their order: the kernel's own order for them), whatever else is pending;
 * - the linkwatch work's run is urgent-only (`kernel/linkwatch_event!urgent`) or full, a choice
 *   offered when the two differ (`linkwatchRunsDiffer`);
 * - bring-up may act on any pending link first (`networkd/<ifindex>`);
 * - the script's first step waits for boot's kernel work, never for a deadline;
 * - the key keeps no time (state view "free").
 * Every "any" execution is one of these (tested: test/explore/free-timing.test.ts, a random walk
 * under "any" followed step by step under "free"). QEMU's migration job and cloud-init need
 * nothing: their steps decide by their stage, never by the clock.
 */
export type Timing = "any" | "strict" | "free";

/** The timings `ifsim explore --timing` takes. */
export const TIMINGS: readonly Timing[] = ["any", "strict", "free"];

/** Options of a scenario system. */
export interface ScenarioSystemOptions {
  readonly kernel?: string;
  /** Overrides `udev.generation`. */
  readonly udev?: string;
  readonly seed?: number;
  readonly invariants?: readonly InvariantName[];
  /** "any" (default): every ready lane may go next; "strict": virtual-time order; "free": `Timing`. */
  readonly timing?: Timing;
  /** Which state view the key uses (state-view.ts). Default "coarse". */
  readonly view?: StateView;
  /**
   * Coarse atomic steps (default true): a step no other lane can observe runs together with its
   * lane's next step, as one step with the union footprint (see `ScenarioSystem.fire`).
   */
  readonly atomic?: boolean;
  /**
   * Clock reads in footprints (default: on under the "exact" view, off under "coarse"): a step
   * that sets a timer from the clock (`timerHolders`) or runs kernel work reads `clock`, so it
   * is dependent on every step that moves the clock (`?clock`). Needed for DPOR to be sound
   * with a key that keeps timers exactly (see docs/performance.md).
   */
  readonly clockFootprint?: boolean;
  /**
   * The rest of a machine as an environment (free timing only; src/explore/environment.ts):
   * lanes `env/…` that queue another device's udev event (`env/udev`, at most `udev` of them
   * queued or held at once), end one a worker holds (`env/udev-release/w<i>`), and queue the
   * linkwatch work as another device's urgent or ordinary event would (`env/linkwatch!urgent`,
   * `env/linkwatch`).
   */
  readonly environment?: EnvironmentOptions;
  /**
   * Which lanes an exhaustive enumeration takes (`lanesToTake`): "all", or "reduced", which
   * leaves out those that show the every-N check nothing new (a family's script, `scriptHidden`;
   * with an environment, lanes its urgent linkwatch move covers, `coveringMove`). Default: the
   * environment's `lanes`, else "all".
   */
  readonly lanes?: "reduced" | "all";
}

/** What the environment's lanes may do (`ScenarioSystemOptions.environment`). */
export interface EnvironmentOptions {
  /** Other devices' udev events queued or held at once, at most (0: none). */
  readonly udev: number;
  /**
   * Queue the linkwatch work as another device's event would: while linkwatch's list holds a
   * device (each one the pair's: the system is one pair), or with `linkwatchAlways` at every step.
   */
  readonly linkwatch: boolean;
  /**
   * Offer the linkwatch moves at every step, also while the list is empty (the broad
   * environment; `--environment-linkwatch always`). Without it they wait for the list to hold a
   * device: until then a run changes nothing of the pair, and a move made earlier is the same as
   * the one made right after the pair's device is listed (docs/performance.md, "The environment's
   * linkwatch moves").
   */
  readonly linkwatchAlways?: boolean;
  /**
   * Which lanes an enumeration of the environment check takes (`ScenarioSystemOptions.lanes`):
   * "reduced" (the default) or "all" (docs/performance.md, "The urgent move first" and "The
   * script of a family").
   */
  readonly lanes?: "reduced" | "all";
}

/** A snapshot: the run's snapshot plus the system's own bookkeeping. */
export interface SystemSnapshot {
  readonly run: ReturnType<PreparedRun["save"]>;
  readonly digests: Digests;
  readonly violation: Violation | null;
  readonly renames: number;
  readonly warns: number;
  readonly driverOf: Map<number, string>;
  readonly coarse: Map<string, string>;
  /** The devices' field digests the snapshot's `digests` were made from (`DigestMaker`). */
  readonly devCache: ReadonlyMap<string, DevDigest>;
  /** The subsystems' texts they were made from (`DigestMaker.texts`). */
  readonly texts: ReadonlyMap<string, TextOf>;
}

/** The udev-generation override applied to a scenario document. */
export function withUdevGeneration(sc: ScenarioDoc, gen: string | undefined): ScenarioDoc {
  if (gen === undefined) return sc;
  const u = sc.udev;
  if (u === undefined || u === "none") return sc;
  return { ...sc, udev: { ...u, generation: gen as never } };
}

const WORKER = /^udev\/w(\d+)$/;

/** Free timing's lanes: a kind of kernel work (linkwatch's urgent-only run), a bring-up link. */
const KERNEL_LANE = /^kernel\/([^!]+)(!urgent)?$/;
const NETWORKD_LANE = /^networkd\/(\d+)$/;
/** The linkwatch work's urgent-only run under free timing. */
const LINKWATCH_URGENT_LANE = `kernel/${LINKWATCH_WORK}!urgent`;
const ENV_UDEV = "env/udev";
const ENV_UDEV_RELEASE = "env/udev-release/w";
const ENV_LINKWATCH = "env/linkwatch";
const ENV_LINKWATCH_URGENT = "env/linkwatch!urgent";
const SCRIPT_PRIVATE: ReadonlySet<string> = new Set(["script"]);
const NOTHING_PRIVATE: ReadonlySet<string> = new Set();

/** The scenario as an explorable system. */
export class ScenarioSystem implements ExplorableSystem<SystemSnapshot> {
  readonly sc: ScenarioDoc;
  readonly p: PreparedRun;
  readonly invariants: ReadonlySet<InvariantName>;
  readonly timing: Timing;
  readonly view: StateView;
  readonly atomic: boolean;
  readonly clockFootprint: boolean;
  readonly environment: EnvironmentOptions | null;
  /** `ScenarioSystemOptions.lanes`, resolved. */
  readonly lanes: "reduced" | "all";
  /** Steps fired inside a coarse step after its first (what `atomic` saved as scheduling points). */
  merged = 0;
  #digests: Digests;
  #violation: Violation | null = null;
  /** udev renames already checked / kernel warnings already seen (trace-derived). */
  #renames = 0;
  #warns = 0;
  #traceSeen = 0;
  readonly #digest: DigestMaker;
  readonly #keys: StateKeys;
  /**
   * ifindex → driver of every device seen on this path (an ifindex is not reused along a path,
   * but other paths may give it to another device): replaced, never changed, when a device is
   * added, and saved with the snapshot. `#coarse` caches `coarse` for this map.
   */
  #driverOf = new Map<number, string>();
  #coarse = new Map<string, string>();

  constructor(sc: ScenarioDoc, o: ScenarioSystemOptions = {}) {
    this.sc = withUdevGeneration(sc, o.udev);
    this.p = prepareRun(this.sc, {
      ...(o.kernel !== undefined ? { kernel: o.kernel } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    });
    this.invariants = new Set(o.invariants ?? DEFAULT_INVARIANTS);
    this.timing = o.timing ?? "any";
    if (this.timing === "free") {
      if (o.view !== undefined && o.view !== "free")
        throw new RangeError(
          `explore: timing "free" keys no time: view "${o.view}" does not apply`,
        );
      this.p.w.freeTiming = true;
    } else if (o.view === "free") throw new RangeError('explore: view "free" needs timing "free"');
    this.view = this.timing === "free" ? "free" : (o.view ?? DEFAULT_VIEW);
    this.atomic = o.atomic ?? true;
    this.clockFootprint = this.timing !== "free" && (o.clockFootprint ?? this.view === "exact");
    this.environment = o.environment ?? null;
    if (this.environment !== null) {
      if (this.timing !== "free")
        throw new RangeError('explore: an environment needs timing "free"');
      if (!Number.isSafeInteger(this.environment.udev) || this.environment.udev < 0)
        throw new RangeError(
          `explore: environment udev must be a count, not ${this.environment.udev}`,
        );
      if (this.environment.udev > 0 && !this.p.udev)
        throw new RangeError("explore: an environment with udev events needs a scenario with udev");
    }
    this.lanes = o.lanes ?? this.environment?.lanes ?? (this.environment ? "reduced" : "all");
    this.#scriptHidden =
      this.lanes === "reduced" &&
      this.timing === "free" &&
      JSON.stringify(sc.steps) === JSON.stringify(["settle"]) &&
      !this.invariants.has("expect") &&
      (this.p.udev === null || this.p.udev.running !== false);
    this.#digest = new DigestMaker(this.p, this.sc, this.timing === "free");
    this.#keys = new StateKeys(this.p, this.view, this.timing === "free");
    this.#digests = this.#digest.resources(new Map());
    this.#traceSeen = this.p.k.trace.length;
    this.#noteNames();
  }

  get kernel(): Kernel {
    return this.p.k;
  }

  // ---- lanes ----

  /** Every lane with a step ready, with its time. */
  #ready(): { lane: string; at: number }[] {
    const p = this.p;
    const out: { lane: string; at: number }[] = [];
    const add = (lane: string, at: number | null): void => {
      if (at !== null) out.push({ lane, at });
    };
    if (this.timing === "free") {
      const k = p.k;
      const kinds = [...new Set(k.state.work.map((x) => x.name))].sort();
      for (const name of kinds) {
        add(`kernel/${name}`, firstWorkOfKind(k, name)?.due ?? null);
        if (name === LINKWATCH_WORK && linkwatchRunsDiffer(k))
          add(LINKWATCH_URGENT_LANE, firstWorkOfKind(k, name)?.due ?? null);
      }
    } else add("kernel", p.kernelActor.readyAt());
    if (p.udev)
      for (let i = 0; i < p.udev.workerCount; i++) add(workerLane(i), p.udev.workerReadyAt(i));
    if (p.bringup && this.timing === "free") {
      for (const x of p.bringup.pendingLinks()) add(`networkd/${x.ifindex}`, x.at);
    } else if (p.bringup) add("networkd", p.bringup.readyAt());
    if (p.probe) add("cloud-init", p.probe.readyAt());
    add("qemu", p.qemu.readyAt());
    add("script", p.script.readyAt());
    return out;
  }

  enabled(): string[] {
    const r = this.#ready();
    if (r.length === 0)
      return [...(this.p.script.waitingForSettle ? ["script"] : []), ...this.#envReady()];
    if (this.environment !== null) return [...r.map((x) => x.lane), ...this.#envReady()];
    if (this.timing === "strict") {
      const min = Math.min(...r.map((x) => x.at));
      return r.filter((x) => x.at === min).map((x) => x.lane);
    }
    return r.map((x) => x.lane);
  }

  /** The lane the default scheduler would run next: earliest time, ties in lane order. */
  nextByTime(): string | null {
    const r = this.#ready();
    if (r.length === 0) return this.p.script.waitingForSettle ? "script" : null;
    let best = r[0] as { lane: string; at: number };
    for (const x of r) if (x.at < best.at) best = x;
    return best.lane;
  }

  /**
   * Runs one step of `lane` and returns its footprint. With `atomic` (Lipton's reduction; SPIN's
   * `d_step`), a step whose footprint lies within its lane's private resources (`#privateTo`)
   * is followed at once by the lane's next step, while the lane is still enabled, and the two
   * are one step of the search with the union of their footprints; repeated while the last step
   * fired is private.
   *
   * Why this loses no behaviour. Let s be a private step of lane L and t its next step. No other
   * lane's step reads or writes what s touches (its resources are private to L), so s commutes
   * with every step u of another lane in both directions (s·u and u·s reach the same state with
   * the same footprints: s is a right and a left mover), and s neither enables nor disables u
   * (enabledness is part of what u reads). So every execution in which other steps come between
   * s and t is equivalent to one in which they come after t, and the one in which t never comes
   * (an execution cut at a state where L is still enabled) reaches no state that the coarse
   * step misses up to the position of s: the states between s and t differ from the state before
   * s only in L's private resources. No invariant reads those (`#privateTo` lists only
   * resources no invariant reads), so an invariant broken between s and t was already broken
   * before s, where it is checked; quiescence cannot fall between s and t (L is enabled there),
   * so quiescence checks see the same states. The same argument repeats for a chain of private
   * steps. A step that moves the clock (`?clock`) is never private: every timed lane reads it.
   */
  fire(lane: string): readonly string[] {
    const first = this.#fireOne(lane);
    if (!this.atomic || this.timing === "strict" || !this.#isPrivate(lane, first)) return first;
    const all = new Set(first);
    let last = first;
    while (this.#isPrivate(lane, last) && this.#violation === null && this.#ownReady(lane)) {
      last = this.#fireOne(lane);
      this.merged++;
      for (const r of last) all.add(r);
    }
    return [...all];
  }

  /**
   * Whether `lane` has a step of its own ready, whatever the other lanes do: under `--timing any`
   * a lane's readiness is its own (its next due time), except the script's end of a settle,
   * which waits for every other lane to be idle. A coarse step continues only on such a step, so
   * how far it goes never depends on another lane's state: measured by the commutation test
   * (test/explore/soundness.test.ts), where continuing into the settle's end made `udev/wN ∥
   * script` reach different states in the two orders. Under `--timing strict` readiness compares
   * due times with the other lanes', so no step is merged there.
   */
  #ownReady(lane: string): boolean {
    return this.#ready().some((x) => x.lane === lane);
  }

  /**
   * Resources only `lane` reads or writes, that no other lane's readiness depends on and that
   * no invariant reads. Today: the script's own position (`script`: which step, whether it waits),
   * written only by the script's steps and read by nothing else (the settle the script waits for
   * is detected from the other lanes' readiness, not from this resource). The other lanes' own
   * state is shared: a udev worker's job (`udev:wN`) is handed out by whichever step frees a
   * worker, networkd's link sets are changed by udev's steps, the kernel's work list by everyone.
   */
  #privateTo(lane: string): ReadonlySet<string> {
    return lane === "script" ? SCRIPT_PRIVATE : NOTHING_PRIVATE;
  }

  /** True when every resource of `fp` is private to `lane`. */
  #isPrivate(lane: string, fp: readonly string[]): boolean {
    const own = this.#privateTo(lane);
    if (own.size === 0 || fp.length === 0) return false;
    for (const r of fp) if (!own.has(r)) return false;
    return true;
  }

  /** One step of `lane` (the unit of `fire`), and its footprint. */
  #fireOne(lane: string): readonly string[] {
    if (lane.startsWith("env/")) return this.#fireEnv(lane);
    const p = this.p;
    const w = p.w;
    const ready = this.#ready();
    const me = ready.find((x) => x.lane === lane);
    const reads: string[] = [];
    if (!me) {
      if (lane === "script" && ready.length === 0 && p.script.waitingForSettle) {
        p.script.settled();
        w.dispatch();
        this.#afterStep();
        return ["*"];
      }
      throw new Error(`explore: lane "${lane}" is not enabled`);
    }
    // Moving the clock is a write of it; queuing timed work (below) reads it.
    const timersBefore = this.clockFootprint ? timerHolders(p) : null;
    // Under free timing nothing reads the clock: it moves only for the log's times.
    if (me.at > w.now()) {
      w.clock.advanceTo(me.at);
      if (this.timing !== "free") reads.push("?clock");
    }
    const m = WORKER.exec(lane);
    const km = this.timing === "free" ? KERNEL_LANE.exec(lane) : null;
    const nm = this.timing === "free" ? NETWORKD_LANE.exec(lane) : null;
    if (m) {
      const i = Number(m[1]);
      const job = p.udev?.explorerView().workers[i];
      const target = job ? p.udev?.predictableName(job.ifindex, job.ifname) : null;
      // The rename target is looked up in the name hash even when the rename fails (EEXIST).
      if (target) reads.push(`name:${target}`);
      if (job)
        reads.push(
          `dev:${job.ifindex}.name`,
          `dev:${job.ifindex}.flags`,
          `dev:${job.ifindex}.nameAssignType`,
          `dev:${job.ifindex}.regState`,
          `udevdb:${job.ifindex}`,
        );
      // An altname change announces NETDEV_CHANGE (rtnl_linkprop → netdev_state_change), and
      // for a failover slave that runs net_failover_slave_link_change, which reads every
      // slave's running and carrier state (net_failover_xmit_ready), written or not.
      const dev = job ? p.k.state.devices.get(job.ifindex) : undefined;
      const master = dev?.uppers.find((u) => u.master);
      if (master) {
        const m = p.k.state.devices.get(master.ifindex);
        for (const x of [master.ifindex, ...(m?.lowers ?? []).map((l) => l.ifindex)])
          reads.push(`dev:${x}.running`, `dev:${x}.carrier`);
      }
      p.udev?.stepWorker(i);
    } else if (km) {
      const name = km[1] as string;
      reads.push(`kwork:${name}`);
      if (name === LINKWATCH_WORK) {
        // Either run reads every listed device's link state (urgent or not, present or not).
        reads.push("linkwatch");
        for (const i of p.k.state.linkwatch.list)
          for (const f of [
            "running",
            "carrier",
            "present",
            "txActive",
            "qdisc",
            "flags",
            "operstate",
          ])
            reads.push(`dev:${i}.${f}`);
      }
      const urgentOnly = km[2] !== undefined;
      const item = runWorkOfKind(
        p.k,
        name,
        name === LINKWATCH_WORK ? (k) => linkwatchRun(k, urgentOnly) : undefined,
      );
      w.record("kernel", `work ${item.name}${urgentOnly ? " (urgent only)" : ""}`, "ok");
    } else if (nm) {
      const i = Number(nm[1]);
      reads.push(`networkd-eligible:${i}`, `networkd:${i}`);
      p.bringup?.stepLink(i);
    } else if (lane === "kernel") {
      reads.push("kwork");
      p.kernelActor.step();
    } else if (lane === "networkd") {
      const b = p.bringup?.explorerView();
      // networkd's pick depends on which links are eligible (name matches, udev done), not on
      // the names themselves: a rename that changes no eligibility commutes with it.
      if (b) {
        const done = new Set(b.done);
        for (const i of b.seen)
          if (!done.has(i)) reads.push(`networkd-eligible:${i}`, `networkd:${i}`);
      }
      p.bringup?.step();
    } else if (lane === "cloud-init") {
      reads.push("*");
      p.probe?.step();
    } else if (lane === "qemu") {
      reads.push("*");
      p.qemu.step();
    } else if (lane === "script") {
      // Starting a settle or a sleep (or ending a sleep) touches only the script; the other
      // steps act on the machine and are treated as touching everything.
      const next = this.sc.steps[p.script.stepIndex];
      const waits = p.script.readyAt() !== null && this.#scriptWaitsOnly(next);
      if (!p.script.started) {
        // Its first step under `script_starts: quiescent` was enabled by boot's quiescence
        // (the kernel's work list, or the clock passing BOOT_QUIESCENCE_MAX_US); with udev
        // late it starts udevd and triggers an event for every device (reads every device).
        if (this.sc.script_starts !== "boot") reads.push("kwork", "clock");
        if (p.udev && !p.udev.running) reads.push("*");
      }
      reads.push(waits ? "script" : "*");
      p.script.step();
    } else throw new Error(`explore: unknown lane "${lane}"`);
    w.dispatch();
    const before = this.#digests;
    const changed = this.#afterStep();
    if (this.timing === "free") {
      // no clock reads
    } else if (changed.includes("kwork") || changed.includes("linkwatch")) reads.push("clock");
    else if (timersBefore !== null && clockReads(timersBefore, timerHolders(p)))
      reads.push("clock");
    if (lane === "networkd" || nm) {
      // Opening a master reads its slaves' (and its own) link state, written or not.
      for (const r of changed) {
        const m = /^networkd:(\d+)$/.exec(r);
        if (!m || before.get("networkd")?.get(r) === "done") continue;
        const d = p.k.state.devices.get(Number(m[1]));
        if (!d) continue;
        for (const x of [d.ifindex, ...d.lowers.map((l) => l.ifindex)])
          for (const f of ["carrier", "operstate", "flags", "running", "linkwatchPending"])
            reads.push(`dev:${x}.${f}`);
      }
    }
    return [...new Set([...changed, ...reads])];
  }

  // ---- the environment (src/explore/environment.ts) ----

  /** The environment's lanes that would change the state now (none without an environment). */
  #envReady(): string[] {
    const e = this.environment;
    if (e === null) return [];
    const out: string[] = [];
    const u = this.p.udev;
    if (u && e.udev > 0) {
      if (!u.others) throw new TypeError("explore: the udev actor takes no other devices' events");
      const o = u.others();
      if (o.queued + o.held.length < e.udev) out.push(ENV_UDEV);
      for (const i of o.held) out.push(`${ENV_UDEV_RELEASE}${i}`);
    }
    if (e.linkwatch) {
      const k = this.p.k;
      const lw = k.state.linkwatch;
      // An urgent event of another device sets the urgent mark and queues the work now; an
      // ordinary one queues the work when none is queued. Each does nothing once urgent is set.
      // With an empty list they wait (unless `linkwatchAlways`): a run then changes nothing of the
      // pair, and nothing but a run and the moves reads the mark or the queued work before a
      // device is listed, so a move made earlier is the same as one made right after that.
      if (!lw.urgent && (e.linkwatchAlways === true || lw.list.length > 0)) {
        out.push(ENV_LINKWATCH_URGENT);
        if (!k.state.work.some((x) => x.name === LINKWATCH_WORK)) out.push(ENV_LINKWATCH);
      }
    }
    return out;
  }

  /**
   * The lanes of `en` (this state's `enabled()`) an exhaustive enumeration takes: the covering
   * move alone where there is one (`coveringMove`), else every lane but the script when it is
   * hidden (`scriptHidden`).
   */
  lanesToTake(en: string[]): string[] {
    const c = this.coveringMove(en);
    if (c !== null) return [c];
    return this.scriptHidden ? en.filter((l) => l !== "script") : en;
  }

  /**
   * With the reduced lanes (under free timing), an enumeration leaves the script's lane out:
   * the script is one `settle`, udevd runs from boot (the script's start starts nothing) and no
   * `expect` invariant reads the run's records. Such a script writes only its own position,
   * which no other lane, no invariant and no projection reads: its start and the end of its
   * settle change nothing the check looks at. A caller that leaves it out counts a state where
   * only the script is enabled as quiescent (`environment.ts`, `pairGraph`): with every lane,
   * the script would end its settle there, in a state that differs only in the script's
   * position, and the quiescent invariants would be checked there. `test/explore/
   * projection-renames.test.ts` and `environment.test.ts` compare both enumerations.
   */
  get scriptHidden(): boolean {
    return this.#scriptHidden;
  }

  readonly #scriptHidden: boolean;

  /**
   * The environment's move that covers every other lane of this state (`en`: its `enabled()`),
   * or null: with the reduced lanes (the default) and no `expect` invariant, the urgent linkwatch
   * move where it is enabled and the linkwatch work is queued already. An exhaustive enumeration
   * (`enumerate`) takes it alone there, as part of the step that led there.
   *
   * Why that loses nothing the environment check looks at. Let a be such a state and b the state
   * after the move: b is a with linkwatch's urgent mark set and the work due now. Relate two
   * states x R y when they have the same key under free timing (times, due times and the work's
   * queue numbers aside) but for x's urgent mark being clear and y's set, and both have the
   * linkwatch work queued. Then every step of x is matched from y:
   * - a run of the work clears the mark in both and leaves the same state (times aside);
   * - an urgent event of a device sets the mark in x (and moves the work) and is a no-op for the
   *   mark in y: the same state after; an ordinary one leaves both marks as they were (the work
   *   is queued: no new work in x, none in y): R again;
   * - `linkwatchSyncDev` and `linkwatchForgetDev` change the list alike, and the work stays;
   * - the environment's urgent move in x gives y itself (y takes no step); its ordinary move is
   *   not offered in x (the work is queued);
   * - every other step reads neither the mark nor the work's due time (free timing reads no
   *   clock: its key drops the times already), so it does the same in both: R again.
   * y may do more (an urgent-only run, offered only while the mark is set). Nothing the check
   * reads tells x from y: the pair's projection keeps no mark and no due time of the linkwatch
   * work (which is no device's work), the invariants other than `expect` read neither, and
   * neither state is stopped (the work's lane is enabled in both). So every path from a is
   * matched by a path from b through R-related states with the same projections, the same steps
   * between them and the same invariant results, and b is expanded in full (its mark is set, so
   * the move is not offered there). By induction on the path's length, whatever the full
   * enumeration meets from a the reduced one meets from b; and a itself shows the check what b
   * does, so it need not be a state of its own. `test/explore/environment.test.ts` compares both
   * enumerations.
   */
  coveringMove(en: readonly string[]): string | null {
    const e = this.environment;
    if (e === null || this.lanes === "all" || !en.includes(ENV_LINKWATCH_URGENT)) return null;
    if (this.invariants.has("expect")) return null;
    if (!this.p.k.state.work.some((x) => x.name === LINKWATCH_WORK)) return null;
    return ENV_LINKWATCH_URGENT;
  }

  /** Whether `lane` is one of the environment's lanes that adds work (not one that ends it). */
  static isEnvironmentMove(lane: string): boolean {
    return lane === ENV_UDEV || lane === ENV_LINKWATCH || lane === ENV_LINKWATCH_URGENT;
  }

  /** One step of an environment lane; its footprint is everything (no reduction uses it). */
  #fireEnv(lane: string): readonly string[] {
    if (!this.#envReady().includes(lane)) throw new Error(`explore: lane "${lane}" is not enabled`);
    const p = this.p;
    const u = p.udev;
    if (lane === ENV_UDEV) {
      u?.otherQueue?.();
      p.w.record("udev", "another device's event is queued", "ok");
    } else if (lane.startsWith(ENV_UDEV_RELEASE)) {
      const i = Number(lane.slice(ENV_UDEV_RELEASE.length));
      u?.otherRelease?.(i);
      p.w.record("udev", `worker ${i} ends another device's event`, "ok");
    } else {
      const urgent = lane === ENV_LINKWATCH_URGENT;
      linkwatchScheduleWork(p.k, urgent);
      p.w.record(
        "kernel",
        `linkwatch work queued by another device's ${urgent ? "urgent " : ""}event`,
        "ok",
      );
    }
    p.w.dispatch();
    this.#afterStep();
    return ["*"];
  }

  /** True when the script's next action only starts or ends a wait (settle, sleep). */
  #scriptWaitsOnly(next: ScenarioDoc["steps"][number] | undefined): boolean {
    if (this.p.script.stepIndex > 0 && !this.p.script.waitingForSettle) {
      // Mid-sleep: the step ends the sleep.
      const cur = this.sc.steps[this.p.script.stepIndex - 1];
      if (cur !== undefined && typeof cur === "object" && "sleep" in cur && !this.#stepEnded())
        return true;
    }
    return next === "settle" || (typeof next === "object" && next !== null && "sleep" in next);
  }

  /** The current step has its record (it ended). */
  #stepEnded(): boolean {
    return this.p.script.records.length >= this.p.script.stepIndex;
  }

  /** Digests the new state, returns the changed resources, checks per-step invariants. */
  #afterStep(): readonly string[] {
    const next = this.#digest.resources(this.#digests);
    const changed = this.#digest.changed;
    this.#digests = next;
    this.#noteNames();
    this.#scanTrace();
    return changed;
  }

  #noteNames(): void {
    const k = this.p.k;
    for (const m of [k.state.devices, k.state.unlisted])
      for (const d of m.values())
        if (!this.#driverOf.has(d.ifindex)) {
          this.#driverOf = new Map(this.#driverOf).set(d.ifindex, d.driver);
          this.#coarse = new Map();
        }
    this.#keys.noteNames();
  }

  /** Kernel warnings and udev's renames since the last step → sticky violations. */
  #scanTrace(): void {
    const k = this.p.k;
    const evs = k.trace.events;
    for (let i = this.#traceSeen; i < evs.length; i++) {
      const e = evs[i];
      if (e?.type === "kernel.warn") {
        this.#warns++;
        if (this.invariants.has("no-kernel-warning") && !this.#violation)
          this.#violation = { invariant: "no-kernel-warning", detail: `WARN: ${e.text}` };
      }
    }
    this.#traceSeen = evs.length;
    const u = this.p.udev;
    if (!u) return;
    const renames = u.renames;
    for (let i = this.#renames; i < renames.length; i++) {
      const r = renames[i];
      if (r && r.errno === "EBUSY" && this.invariants.has("no-ebusy-to-udev") && !this.#violation)
        this.#violation = {
          invariant: "no-ebusy-to-udev",
          detail: `udevd's rename of ${r.from} to ${r.to} returned EBUSY`,
        };
    }
    this.#renames = renames.length;
  }

  coarse(r: string): string {
    const hit = this.#coarse.get(r);
    if (hit !== undefined) return hit;
    let out = r;
    const m = /^(dev|udevdb|networkd):(\d+)(\..*)?$/.exec(r);
    if (m) {
      // An ifindex is not reused along a path: its driver is fixed once the device was seen.
      const drv = this.#driverOf.get(Number(m[2]));
      out = `${m[1]}:${drv ?? "?"}${m[3] ?? ""}`;
      if (drv === undefined) return out;
    } else if (r.startsWith("name:")) out = "name";
    else if (r.startsWith("udev:w")) out = "udev:w";
    this.#coarse.set(r, out);
    return out;
  }

  laneClass(lane: string): string {
    let c = this.#laneClass.get(lane);
    if (c === undefined) {
      c = WORKER.test(lane) ? "udev/w*" : NETWORKD_LANE.test(lane) ? "networkd/*" : lane;
      this.#laneClass.set(lane, c);
    }
    return c;
  }

  /** `laneClass`'s answers (a search asks dozens of times per step; lanes are few). */
  readonly #laneClass = new Map<string, string>();

  /**
   * A token of a device's field digests in the current state, or undefined: the same object
   * comes back for as long as none of the device's fields changes, so a cache keyed by it can
   * hold anything made from the device's fields (the projection's device text, pair.ts).
   */
  deviceFields(d: NetDevice, unlisted: boolean): object | undefined {
    return this.#digest.deviceFields(d, unlisted);
  }

  // ---- snapshots ----

  /**
   * Saves the current state. The kernel's parts that did not change since the last snapshot
   * saved (a device whose field digests are the same, a subsystem whose state compared equal to
   * the same copy: `DigestMaker.sameAs`) share that snapshot's copies instead of new ones.
   */
  save(): SystemSnapshot {
    const base = this.#lastSaved;
    const snap: SystemSnapshot = {
      run: this.p.save(
        base === null ? undefined : { snap: base.run, same: this.#digest.sameAs(base) },
      ),
      digests: this.#digests,
      violation: this.#violation,
      renames: this.#renames,
      warns: this.#warns,
      driverOf: this.#driverOf,
      coarse: this.#coarse,
      devCache: this.#digest.devCache,
      texts: this.#digest.texts,
    };
    this.#lastSaved = snap;
    return snap;
  }

  /** The last snapshot `save` made (the base of the next one). */
  #lastSaved: SystemSnapshot | null = null;

  /**
   * Restores `s`. With `last` the run takes the saved kernel state itself rather than a copy,
   * and `s` cannot be restored again (for a search's last branch from a state).
   */
  restore(s: SystemSnapshot, last = false): void {
    // A device whose field digests are the snapshot's (no field changed since: the same token,
    // `DigestMaker.deviceFields`), or a subsystem whose state compares equal to the same copy,
    // keeps its record instead of a copy of the saved one.
    this.p.load(s.run, last, this.#digest.sameAs(s));
    this.#digests = s.digests;
    this.#violation = s.violation;
    this.#renames = s.renames;
    this.#warns = s.warns;
    this.#driverOf = s.driverOf;
    this.#coarse = s.coarse;
    // The next step's digests are compared with this state's, not with the last branch's: an
    // unchanged device keeps its field digests (`deviceFields`).
    this.#digest.devCache = s.devCache;
    this.#digest.texts = s.texts;
    this.#traceSeen = this.p.k.trace.length;
  }

  // ---- state keys (state-key.ts) ----

  key(symmetric: boolean): StateKey {
    return this.#keys.key(symmetric, this.#digests, this.#violation?.invariant ?? null);
  }

  /**
   * The state's 64-bit fingerprint: the same state view as `key` (equal keys ⇒ equal
   * fingerprints), hashed item by item with cached per-item hashes and combined order-free.
   */
  fingerprint(symmetric: boolean): StateKey {
    return this.#keys.fingerprint(symmetric, this.#digests, this.#violation?.invariant ?? null);
  }

  // ---- invariants ----

  check(quiescent: boolean): Violation | null {
    if (this.#violation) return this.#violation;
    const k = this.p.k;
    const inv = this.invariants;
    if (inv.has("unique-names")) {
      const seen = new Map<string, number>();
      for (const d of k.state.devices.values()) {
        const o = seen.get(d.name);
        if (o !== undefined)
          return {
            invariant: "unique-names",
            detail: `ifindex ${o} and ${d.ifindex} are both named ${d.name}`,
          };
        seen.set(d.name, d.ifindex);
        if (k.state.names.get(d.name) !== d.ifindex)
          return {
            invariant: "unique-names",
            detail: `the name hash does not map ${d.name} to ${d.ifindex}`,
          };
      }
    }
    if (inv.has("unique-ifindexes")) {
      for (const [i, d] of k.state.devices)
        if (d.ifindex !== i || k.state.unlisted.has(i))
          return { invariant: "unique-ifindexes", detail: `ifindex ${i} is used twice` };
    }
    if (inv.has("no-duplicate-mac-crash") && this.p.probe?.result && !this.p.probe.result.ok)
      return {
        invariant: "no-duplicate-mac-crash",
        detail: `cloud-init: ${this.p.probe.result.error ?? "crashed"}`,
      };
    if (!quiescent) return null;
    if (inv.has("failover-named") && this.p.udev) {
      const bad = this.#failoverNamed();
      if (bad) return { invariant: "failover-named", detail: bad };
    }
    if (inv.has("expect") && (this.sc.expect ?? []).length > 0) {
      const rec = this.record();
      const f = rec.expectations.find((e) => !e.ok);
      if (f) return { invariant: "expect", detail: `${f.expect}: ${f.detail}` };
    }
    return null;
  }

  /** The failover-named invariant: null when it holds, else what is wrong. */
  #failoverNamed(): string | null {
    const k = this.p.k;
    const u = this.p.udev;
    if (!u) return null;
    for (const d of k.state.devices.values()) {
      if (d.driver !== "net_failover") continue;
      const slaves = d.lowers
        .map((l) => k.state.devices.get(l.ifindex))
        .filter((x) => x !== undefined);
      if (!(d.flags & 1)) return `failover master ${d.name} is down`;
      if (slaves.length === 0) return `failover master ${d.name} has no slave`;
      for (const s of slaves) {
        const want = u.predictableName(s.ifindex);
        if (want !== null && s.name !== want)
          return `failover slave ${s.name} (ifindex ${s.ifindex}) is not named ${want}`;
      }
    }
    return null;
  }

  /** The run record of the current (quiescent) state. */
  record(): RunRecord {
    return finishRun(this.p);
  }
}
