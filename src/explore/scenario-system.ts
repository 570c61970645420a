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
import { clonePlain, sameData, sameKeys } from "../sim/clone.ts";
import { globMatch } from "../userspace/bringup.ts";
import { changedFields } from "./field-scan.ts";
import {
  addInto,
  compareHash,
  fingerprintKey,
  type Hash64,
  HashCache,
  mixInto,
} from "./fingerprint.ts";
import { clockReads, DEFAULT_VIEW, type StateView, timerHolders, timerKey } from "./state-view.ts";
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
  /** The devices' field digests the snapshot's `digests` were made from (`#resources`). */
  readonly devCache: ReadonlyMap<string, DevDigest>;
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
const RES = /^(dev|udevdb|networkd):(\d+)(?:\.(.*))?$/;

/**
 * A resource as a canonical item: its only pair (its text then says `§S§` for it) or -1, the
 * text, the text's hash, and whether the text still names pairs (`§n§`: relabelled per state).
 */
type CanonItem = readonly [number, string, Hash64, boolean];

/** component → resource → digest (`ScenarioSystem.#resources`). */
type Digests = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** A device's field digests, with the values they were made from (`fieldValue`). */
interface DevDigest {
  readonly keys: readonly string[];
  /** The field values themselves: a frozen object that is still the same one is unchanged. */
  readonly raws: readonly unknown[];
  readonly vals: readonly unknown[];
  /**
   * For a field holding an object that is not frozen, a copy of the value its text was made
   * from (`sameData`: still the same, so still the same text); undefined for the others.
   */
  readonly copies: readonly unknown[];
  readonly fields: ReadonlyMap<string, string>;
}

/** A copy of `v` to compare it with later (`DevDigest.copies`), or undefined when it needs none. */
function copyOf(v: unknown): unknown {
  return v !== null && typeof v === "object" && !Object.isFrozen(v) ? clonePlain(v) : undefined;
}

/** A field's value as compared between steps: a primitive itself, an object its JSON text. */
function fieldValue(v: unknown): unknown {
  return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
}

/** `changedFields`'s output, reused (one scan at a time). */
const CHANGED: number[] = [];

/** Resources the key leaves to its own, relative forms (timers, workers). */
const NOT_KEYED = (r: string): boolean =>
  r === "kwork" || r === "linkwatch" || r.startsWith("udev:w") || r.startsWith("kwork:");

/** A component's fingerprint contribution under symmetry, for one set of token tables. */
interface CompSym {
  readonly tables: SymTables;
  readonly local: ReadonlyMap<number, Hash64>;
  readonly global: Hash64;
  readonly named: readonly string[];
}

/** The token tables of a symmetric key. */
interface SymTables {
  readonly sig: string;
  readonly idxTok: (i: number) => string | number;
  readonly canon: (v: unknown, key: string) => unknown;
  readonly subst: (s: string) => string;
}

interface PairInfo {
  /** The pair's PCI addresses, virtio index, spec ids and MAC. */
  readonly addrs: string[];
  readonly ids: string[];
  readonly mac: string;
  /** Symmetry group: pairs with the same configuration. */
  readonly group: string;
}

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
  /** Per device (`U` prefix: unlisted): its whole JSON text and its field digests. */
  #devCache: ReadonlyMap<string, DevDigest> = new Map<string, DevDigest>();
  /** Per component map: its fingerprint contribution without symmetry. */
  #compHash = new WeakMap<ReadonlyMap<string, string>, Hash64>();
  /** Per component map: its contribution under symmetry (for one set of token tables). */
  #compSym = new WeakMap<ReadonlyMap<string, string>, CompSym>();
  /** Per resource: the last digest canonicalised and its item (digests are shared strings). */
  #lastItem = new Map<string, [string, CanonItem]>();
  /** Hashes of strings (digests, canonical texts) for fingerprints. */
  readonly #hashes = new HashCache();
  /** Per resource: the last digest fingerprinted and its item hash (no symmetry). */
  #lastHash = new Map<string, [string, Hash64]>();
  /** Canonical texts of raw JSON (workers, work, linkwatch) under the current token tables. */
  #canonText = new Map<string, string>();
  /**
   * Slot permutation → canonical text → hash of the relabelled text (two levels: a text is
   * often the same string as before, whose hash the engine keeps, while a joined key would be
   * a new string to hash every time).
   */
  #relabelled = new Map<string, Map<string, Hash64>>();
  #relabelledSize = 0;
  readonly #pairs: PairInfo[];
  /** PCI address → pair index. */
  readonly #pairOfAddr = new Map<string, number>();
  /**
   * Every name seen on a device of a failover pair → its token (`§pair§driver:shape`, shape =
   * the name with its digits as #; a second name of the same shape on that device gets `~n`).
   */
  readonly #nameTok = new Map<string, string>();
  readonly #tokNames = new Set<string>();
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
    this.#pairs = this.#findPairs();
    this.#digests = this.#resources(new Map());
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
      for (let i = 0; i < p.udev.workerCount; i++) add(`udev/w${i}`, p.udev.workerReadyAt(i));
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
  #afterStep(): string[] {
    const prev = this.#digests;
    const next = this.#resources(prev);
    const changed: string[] = [];
    for (const [c, m] of next) {
      const o = prev.get(c);
      if (o === m) continue;
      if (o === undefined) {
        for (const r of m.keys()) changed.push(r);
        continue;
      }
      for (const [r, d] of m) if (o.get(r) !== d) changed.push(r);
      for (const r of o.keys()) if (!m.has(r)) changed.push(r);
    }
    for (const [c, o] of prev) if (!next.has(c)) for (const r of o.keys()) changed.push(r);
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
    for (const d of this.p.k.state.devices.values()) {
      if (this.#nameTok.has(d.name)) continue;
      const pi = this.#pairOfDevice(d);
      if (pi === null) continue;
      const base = `§${pi}§${d.driver}:${d.name.replace(/\d+/g, "#")}`;
      let tok = base;
      for (let n = 1; this.#tokNames.has(tok); n++) tok = `${base}~${n}`;
      this.#tokNames.add(tok);
      this.#nameTok.set(d.name, tok);
    }
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

  // ---- resources and footprints ----

  /**
   * component → resource → digest of its state. Components (each device, the name hash, the
   * kernel's other state, udevd, networkd, the rest) whose digests did not change keep the Map
   * of `prev` (the same object), so diffs and fingerprints skip them.
   */
  /**
   * The JSON text of `v`, the state under `key` (a kernel subsystem's, QEMU's pairing): the last
   * text made for `key` while `v` is still equal to the copy kept with it (`sameData`), which
   * costs a fraction of writing the text again (the PCI bus's state is about 1 KB of text).
   */
  #textOf(key: string, v: unknown): string {
    const hit = this.#texts.get(key);
    if (hit !== undefined && sameData(v, hit.copy)) return hit.text;
    const text = JSON.stringify(v);
    this.#texts.set(key, { copy: clonePlain(v), text });
    return text;
  }

  /** `#textOf`'s last text per key, with a copy of the value it was made from. */
  readonly #texts = new Map<string, { readonly copy: unknown; readonly text: string }>();

  #resources(prev: Digests): Digests {
    const p = this.p;
    const k = p.k;
    const out = new Map<string, ReadonlyMap<string, string>>();
    /** The new component, or `prev`'s when its entries are the same. */
    const put = (c: string, m: Map<string, string>): void => {
      const o = prev.get(c);
      if (o !== undefined && o.size === m.size) {
        let same = true;
        for (const [r, d] of m)
          if (o.get(r) !== d) {
            same = false;
            break;
          }
        if (same) {
          out.set(c, o);
          return;
        }
      }
      out.set(c, m);
    };
    // One resource per device field: a rename and a carrier change of one device commute.
    // A device whose fields all compare equal to the last ones seen keeps its field digests (the
    // same Map): primitives compare as they are, objects by their JSON text.
    const devCache = new Map<string, DevDigest>();
    const addDev = (d: NetDevice, tag: string): void => {
      const ck = `${tag}${d.ifindex}`;
      const rec = d as unknown as Record<string, unknown>;
      const keys = Object.keys(rec);
      const old = this.#devCache.get(ck);
      let c: DevDigest;
      if (old === undefined || !sameKeys(old.keys, keys)) {
        const fields = new Map<string, string>();
        const vals: unknown[] = [];
        const raws: unknown[] = [];
        const copies: unknown[] = [];
        for (const f of keys) {
          const v = rec[f];
          raws.push(v);
          vals.push(fieldValue(v));
          copies.push(copyOf(v));
          fields.set(`dev:${d.ifindex}.${f}`, `${tag}${JSON.stringify(v)}`);
        }
        c = { keys, raws, vals, copies, fields };
      } else {
        let fields: Map<string, string> | null = null;
        let vals: unknown[] | null = null;
        let raws: unknown[] | null = null;
        let copies: unknown[] | null = null;
        // The same primitive, or the same frozen object (a shared constant: it cannot have
        // changed inside): unchanged without building its text. The others are checked below.
        const n = changedFields(old.keys, rec, old.raws, CHANGED);
        for (let j = 0; j < n; j++) {
          const i = CHANGED[j] as number;
          const f = keys[i] as string;
          const v = rec[f];
          // An object still equal to the copy its text was made from has that text.
          const same = old.copies[i] !== undefined && sameData(v, old.copies[i]);
          const t = same ? old.vals[i] : fieldValue(v);
          if (same || Object.is(t, old.vals[i])) {
            if (raws === null) raws = [...old.raws];
            raws[i] = v;
            continue;
          }
          if (fields === null || vals === null || copies === null) {
            fields = new Map(old.fields);
            vals = [...old.vals];
            copies = [...old.copies];
          }
          if (raws === null) raws = [...old.raws];
          raws[i] = v;
          vals[i] = t;
          copies[i] = copyOf(v);
          fields.set(`dev:${d.ifindex}.${f}`, `${tag}${JSON.stringify(v)}`);
        }
        c =
          fields === null || vals === null || copies === null
            ? raws === null
              ? old
              : { keys: old.keys, raws, vals: old.vals, copies: old.copies, fields: old.fields }
            : { keys: old.keys, raws: raws ?? old.raws, vals, copies, fields };
      }
      devCache.set(ck, c);
      out.set(`dev:${ck}`, c.fields);
    };
    for (const d of k.state.devices.values()) addDev(d, "");
    for (const d of k.state.unlisted.values()) addDev(d, "U");
    this.#devCache = devCache;
    const names = new Map<string, string>();
    for (const [n, i] of k.state.names) names.set(`name:${n}`, String(i));
    put("names", names);
    const kern = new Map<string, string>();
    if (this.timing === "free") {
      // One resource per kind of work: its items' contexts in the order they will run.
      const kinds = new Map<string, { due: number; seq: number; arg: string | null }[]>();
      for (const x of k.state.work) {
        const l = kinds.get(x.name) ?? [];
        l.push({ due: x.due, seq: x.seq, arg: x.arg ?? null });
        kinds.set(x.name, l);
      }
      for (const [name, l] of kinds)
        kern.set(
          `kwork:${name}`,
          JSON.stringify(l.sort((a, b) => a.due - b.due || a.seq - b.seq).map((x) => x.arg)),
        );
      const lw = k.state.linkwatch;
      kern.set("linkwatch", JSON.stringify({ list: lw.list, urgent: lw.urgent }));
    } else {
      kern.set("kwork", JSON.stringify(k.state.work));
      kern.set("linkwatch", JSON.stringify(k.state.linkwatch));
    }
    kern.set("ifindex", String(k.state.lastIfindex));
    for (const [s, v] of Object.entries(k.state.subsys))
      kern.set(s === "failover" ? "mac-pairing" : `subsys:${s}`, this.#textOf(`subsys:${s}`, v));
    kern.set("qemu:pairing", this.#textOf("qemu:pairing", p.machine.state));
    put("kernel", kern);
    if (p.udev) {
      const u = new Map<string, string>();
      const v = p.udev.explorerView();
      u.set("udev:queue", JSON.stringify(v.queue));
      v.workers.forEach((j, i) => {
        u.set(`udev:w${i}`, JSON.stringify(j));
      });
      for (const e of v.db) u.set(`udevdb:${e.ifindex}`, JSON.stringify(e));
      put("udev", u);
    }
    if (p.bringup) {
      const nd = new Map<string, string>();
      const b = p.bringup.explorerView();
      const done = new Set(b.done);
      const cfg = this.sc.bringup !== "none" ? this.sc.bringup : undefined;
      for (const i of b.seen) {
        nd.set(`networkd:${i}`, done.has(i) ? "done" : "seen");
        if (done.has(i) || !cfg) continue;
        const d = k.state.devices.get(i);
        const eligible =
          d !== undefined &&
          cfg.links.some((g) => globMatch(g, d.name)) &&
          (!cfg.wait_for_udev || !p.udev || p.udev.isReady(i));
        // What it would do to an eligible link depends on whether it is up already.
        nd.set(`networkd-eligible:${i}`, eligible ? `yes/${(d?.flags ?? 0) & 1}` : "no");
      }
      put("networkd", nd);
    }
    const misc = new Map<string, string>();
    misc.set(
      "script",
      `${p.script.stepIndex}/${p.script.waitingForSettle}/${p.script.readyAt() === null}`,
    );
    misc.set("qemu:job", JSON.stringify(p.qemu.readyAt() === null));
    if (p.probe) misc.set("cloud-init", String(p.probe.readyAt() === null));
    put("misc", misc);
    return out;
  }

  /**
   * The field digests of a device of the current state (`dev:<ifindex>.<field>` → its JSON
   * text, with a "U" before it for an unlisted device), or undefined. The same Map object comes
   * back for as long as none of the device's fields changes: a cache keyed by it holds anything
   * made from the device's fields (the projection's device text, pair.ts).
   */
  deviceFields(d: NetDevice, unlisted: boolean): ReadonlyMap<string, string> | undefined {
    return this.#devCache.get(`${unlisted ? "U" : ""}${d.ifindex}`)?.fields;
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
    return WORKER.test(lane) ? "udev/w*" : NETWORKD_LANE.test(lane) ? "networkd/*" : lane;
  }

  /** Free timing's bring-up lanes of this state under a symmetry's relabelling of pairs. */
  #networkdLanes(laneMap: Map<string, string>, relabel: (s: string) => string): void {
    if (this.timing !== "free" || !this.p.bringup) return;
    const { idxTok } = this.#symTables();
    for (const x of this.p.bringup.pendingLinks())
      laneMap.set(`networkd/${x.ifindex}`, `networkd/${relabel(String(idxTok(x.ifindex)))}`);
  }

  // ---- snapshots ----

  save(): SystemSnapshot {
    return {
      run: this.p.save(),
      digests: this.#digests,
      violation: this.#violation,
      renames: this.#renames,
      warns: this.#warns,
      driverOf: this.#driverOf,
      coarse: this.#coarse,
      devCache: this.#devCache,
    };
  }

  /**
   * Restores `s`. With `last` the run takes the saved kernel state itself rather than a copy,
   * and `s` cannot be restored again (for a search's last branch from a state).
   */
  restore(s: SystemSnapshot, last = false): void {
    // A device whose field digests are the snapshot's (the same Map: no field changed since,
    // `#resources`) keeps its record instead of a copy of the saved one.
    const now = this.#digests;
    const saved = s.digests;
    this.p.load(s.run, last, (ifindex, unlisted) => {
      const c = `dev:${unlisted ? "U" : ""}${ifindex}`;
      const m = saved.get(c);
      return m !== undefined && now.get(c) === m;
    });
    this.#digests = s.digests;
    this.#violation = s.violation;
    this.#renames = s.renames;
    this.#warns = s.warns;
    this.#driverOf = s.driverOf;
    this.#coarse = s.coarse;
    // The next step's digests are compared with this state's, not with the last branch's: an
    // unchanged device keeps its field Map (`deviceFields`).
    this.#devCache = s.devCache;
    this.#traceSeen = this.p.k.trace.length;
  }

  // ---- state keys ----

  key(symmetric: boolean): StateKey {
    const { work, linkwatch, times, workers } = timerKey(this.p, this.view, this.#workerTexts());
    const parts: [string, unknown][] = [];
    for (const m of this.#digests.values())
      for (const [r, d] of m) {
        if (NOT_KEYED(r)) continue;
        parts.push([r, d]);
      }
    if (!symmetric) {
      const s = JSON.stringify([
        [...parts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
        work,
        linkwatch,
        workers,
        this.#violation?.invariant ?? null,
        times,
      ]);
      return { key: s, lane: (l) => l };
    }
    return this.#symmetricKey(parts, work, linkwatch, workers, times);
  }

  /**
   * The state's 64-bit fingerprint: the same state view as `key` (equal keys ⇒ equal
   * fingerprints), hashed item by item with cached per-item hashes and combined order-free, so
   * no text of the whole state is built. Under symmetry the pairs are ordered by the hash of
   * their own items instead of their text (any fixed order of the pairs gives a sound key).
   */
  fingerprint(symmetric: boolean): StateKey {
    const { work, linkwatch, times, workers } = timerKey(this.p, this.view, this.#workerTexts());
    const out: [number, number] = [0x2545f491, 0x6a09e667];
    if (!symmetric) {
      const acc: [number, number] = [0, 0];
      for (const m of this.#digests.values()) {
        let h = this.#compHash.get(m);
        if (h === undefined) {
          const c: [number, number] = [0, 0];
          for (const [r, d] of m) if (!NOT_KEYED(r)) addInto(c, this.#itemHash(r, d));
          h = c;
          this.#compHash.set(m, h);
        }
        addInto(acc, h);
      }
      mixInto(out, acc);
      mixInto(out, this.#hashes.get(JSON.stringify(work)));
      mixInto(out, this.#hashes.get(JSON.stringify(linkwatch)));
      for (const w of workers) mixInto(out, this.#hashes.get(w));
      mixInto(out, this.#hashes.get(this.#violation?.invariant ?? ""));
      if (times !== null) mixInto(out, this.#hashes.get(JSON.stringify(times)));
      return { key: fingerprintKey(out), lane: (l) => l };
    }
    const tables = this.#symTables();
    const { canon } = tables;
    const local = this.#pairs.map((): [number, number] => [0, 0]);
    const global: [number, number] = [0, 0];
    const named: string[] = [];
    for (const m of this.#digests.values()) {
      let cs = this.#compSym.get(m);
      if (cs === undefined || cs.tables !== tables) {
        const loc = new Map<number, [number, number]>();
        const glob: [number, number] = [0, 0];
        const nm: string[] = [];
        for (const [r, d] of m) {
          if (NOT_KEYED(r)) continue;
          const [owner, text, h, tok] = this.#canonItem(r, d);
          if (owner >= 0) {
            let a = loc.get(owner);
            if (a === undefined) {
              a = [0, 0];
              loc.set(owner, a);
            }
            addInto(a, h);
          } else if (tok) nm.push(text);
          else addInto(glob, h);
        }
        cs = { tables, local: loc, global: glob, named: nm };
        this.#compSym.set(m, cs);
      }
      for (const [owner, h] of cs.local) addInto(local[owner] as [number, number], h);
      addInto(global, cs.global);
      for (const t of cs.named) named.push(t);
    }
    // Within each symmetry group, canonical slots go to the pairs in local-hash order.
    const slot = new Map<number, number>();
    for (const members of this.#groups()) {
      const sorted = [...members].sort(
        (a, b) => compareHash(local[a] as Hash64, local[b] as Hash64) || a - b,
      );
      members.forEach((orig, j) => {
        slot.set(sorted[j] as number, orig);
      });
    }
    const perm = this.#pairs.map((_, i) => slot.get(i) ?? i).join(",");
    let byText = this.#relabelled.get(perm);
    if (byText === undefined) {
      byText = new Map();
      this.#relabelled.set(perm, byText);
    }
    const relabel = (text: string): Hash64 => {
      let h = (byText as Map<string, Hash64>).get(text);
      if (h === undefined) {
        h = this.#hashes.get(text.replace(/§(\d+)§/g, (_, n) => `§${slot.get(Number(n))}§`));
        if (++this.#relabelledSize > 500_000) {
          this.#relabelled = new Map([[perm, new Map()]]);
          this.#relabelledSize = 1;
          byText = this.#relabelled.get(perm) as Map<string, Hash64>;
        }
        (byText as Map<string, Hash64>).set(text, h);
      }
      return h;
    };
    const canonText = (raw: string): string => {
      let t = this.#canonText.get(raw);
      if (t === undefined) {
        t = JSON.stringify(canon(JSON.parse(raw), ""));
        if (this.#canonText.size > 500_000) this.#canonText.clear();
        this.#canonText.set(raw, t);
      }
      return t;
    };
    const bySlot: Hash64[] = [];
    for (const [i, label] of slot) bySlot[label] = local[i] as Hash64;
    for (let i = 0; i < this.#pairs.length; i++) mixInto(out, bySlot[i] ?? (local[i] as Hash64));
    for (const t of named) addInto(global, relabel(t));
    mixInto(out, global);
    mixInto(out, relabel(canonText(JSON.stringify(work))));
    mixInto(out, relabel(canonText(JSON.stringify(linkwatch))));
    const wh = workers.map((w) => relabel(canonText(w)));
    const order = wh
      .map((_, i) => i)
      .sort((a, b) => compareHash(wh[a] as Hash64, wh[b] as Hash64) || a - b);
    for (const i of order) mixInto(out, wh[i] as Hash64);
    mixInto(out, this.#hashes.get(this.#violation?.invariant ?? ""));
    if (times !== null) mixInto(out, relabel(canonText(JSON.stringify(times))));
    const laneMap = new Map<string, string>();
    order.forEach((orig, pos) => {
      laneMap.set(`udev/w${orig}`, `udev/w${pos}`);
    });
    this.#networkdLanes(laneMap, (t) =>
      t.replace(/§(\d+)§/g, (_, n) => `§${slot.get(Number(n))}§`),
    );
    const pairs = this.#pairs;
    return {
      key: fingerprintKey(out),
      lane: (l) => laneMap.get(l) ?? l,
      pairSlot: (mac) => {
        const i = pairs.findIndex((p) => p.mac === mac);
        return i < 0 ? undefined : (slot.get(i) ?? i);
      },
    };
  }

  /**
   * The udev workers' texts of the current state's digests (`udev:w<i>`, in order: each the
   * JSON of the worker's job in udevd's `explorerView()`), for `timerKey`.
   */
  #workerTexts(): string[] | undefined {
    if (!this.p.udev) return undefined;
    const out: string[] = [];
    for (const [r, d] of this.#digests.get("udev") ?? []) if (r.startsWith("udev:w")) out.push(d);
    return out;
  }

  /** A resource's item hash without symmetry (cached per resource while its digest stays). */
  #itemHash(r: string, d: string): Hash64 {
    const last = this.#lastHash.get(r);
    if (last !== undefined && last[0] === d) return last[1];
    const h: [number, number] = [...this.#hashes.get(r)];
    mixInto(h, this.#hashes.get(d));
    this.#lastHash.set(r, [d, h]);
    return h;
  }

  /** The pairs of each symmetry group (pair indices), groups in first-member order. */
  #groupList: number[][] | null = null;
  #groups(): number[][] {
    if (this.#groupList) return this.#groupList;
    const byGroup = new Map<string, number[]>();
    this.#pairs.forEach((pi, i) => {
      const g = byGroup.get(pi.group) ?? [];
      g.push(i);
      byGroup.set(pi.group, g);
    });
    this.#groupList = [...byGroup.values()];
    return this.#groupList;
  }

  /** The failover pairs (virtio-net standby + its paired pci-nic) and their symmetry groups. */
  #findPairs(): PairInfo[] {
    const spec = this.p.spec;
    const out: PairInfo[] = [];
    for (const d of spec.devices) {
      if (d.model !== "virtio-net" || !("standby" in d && d.standby)) continue;
      const prim = spec.devices.filter((x) => "failoverPairId" in x && x.failoverPairId === d.id);
      const strip = (x: object): string => {
        const {
          addr: _a,
          id: _i,
          mac: _m,
          failoverPairId: _f,
          ...rest
        } = x as Record<string, unknown>;
        return JSON.stringify(rest);
      };
      out.push({
        addrs: [d.addr, ...prim.map((x) => x.addr)],
        ids: [d.id ?? "", ...prim.map((x) => x.id ?? "")],
        mac: d.mac ?? "",
        group: `${strip(d)}+${prim.map(strip).join("+")}`,
      });
    }
    out.forEach((pi, i) => {
      for (const a of pi.addrs) this.#pairOfAddr.set(a, i);
    });
    return out;
  }

  #pairOfDevice(d: NetDevice): number | null {
    const path = d.parent?.devpath ?? "";
    for (const [a, i] of this.#pairOfAddr) if (path.includes(a)) return i;
    return null;
  }

  /** Token tables of the symmetric key, rebuilt when devices or name tokens change. */
  #tables: SymTables | null = null;
  /** (resource, digest) → [pair or -1, canonical item]: items of one pair use `§S§`. */
  #itemCache = new Map<string, CanonItem>();

  #symTables(): SymTables {
    const k = this.p.k;
    const sig = `${k.state.lastIfindex}/${k.state.devices.size}/${k.state.unlisted.size}/${this.#nameTok.size}`;
    if (this.#tables?.sig === sig) return this.#tables;
    this.#itemCache = new Map();
    this.#lastItem = new Map();
    this.#canonText = new Map();
    this.#relabelled = new Map();
    this.#relabelledSize = 0;
    // Which pair (and role) every device belongs to.
    const devPair = new Map<number, { pair: number; role: string }>();
    const strTok = new Map<string, string>();
    const virtioIdx = new Map<number, string>();
    for (const d of [...k.state.devices.values(), ...k.state.unlisted.values()]) {
      const pi = this.#pairOfDevice(d);
      if (pi === null) continue;
      devPair.set(d.ifindex, { pair: pi, role: d.driver });
      const vid = /^virtio(\d+)$/.exec(d.parent?.id ?? "");
      if (vid) {
        strTok.set(vid[0], `§${pi}§virtio`);
        virtioIdx.set(Number(vid[1]), `§${pi}§vidx`);
      }
    }
    // Tokens for every identifier of a pair, with the pair index as a placeholder `§n§`.
    this.#pairs.forEach((pi, i) => {
      pi.addrs.forEach((a, j) => {
        strTok.set(a, `§${i}§a${j}`);
      });
      pi.ids.forEach((a, j) => {
        strTok.set(a, `§${i}§id${j}`);
      });
      strTok.set(pi.mac, `§${i}§mac`);
    });
    for (const [name, tok] of this.#nameTok) strTok.set(name, tok);
    const idxTok = (i: number): string | number => {
      const dp = devPair.get(i);
      return dp ? `§${dp.pair}§${dp.role}` : i;
    };
    // Paths embed PCI addresses and virtio ids as whole components.
    const PATH = /(?<=\/|^)(\d{4}:\d{2}:\d{2}\.\d|virtio\d+)(?=\/|$)/g;
    const subst = (s: string): string => {
      const t = strTok.get(s);
      if (t !== undefined) return t;
      if (!s.includes("/")) return s;
      return s.replace(PATH, (m) => strTok.get(m) ?? m);
    };
    const IFX = new Set(["ifindex", "master", "primary", "standby", "rxHandlerData", "link"]);
    const canon = (v: unknown, key: string): unknown => {
      if (typeof v === "number") {
        if (IFX.has(key)) return idxTok(v);
        if (key === "index") return virtioIdx.get(v) ?? v;
        return v;
      }
      if (typeof v === "string") return subst(v);
      if (Array.isArray(v)) return v.map((x) => canon(x, key));
      if (v && typeof v === "object") {
        const o: Record<string, unknown> = {};
        for (const [kk, vv] of Object.entries(v)) {
          const ck = key === "idev" && /^\d+$/.test(kk) ? String(idxTok(Number(kk))) : subst(kk);
          o[ck] = canon(vv, kk);
        }
        return o;
      }
      return v;
    };
    this.#tables = { sig, idxTok, canon, subst };
    return this.#tables;
  }

  /** One resource as a canonical item: [its only pair (then `§S§` for it), or -1; text]. */
  #canonItem(r: string, raw: string): CanonItem {
    const last = this.#lastItem.get(r);
    if (last !== undefined && last[0] === raw) return last[1];
    const ck = `${r}\u0000${raw}`;
    const hit = this.#itemCache.get(ck);
    if (hit) {
      this.#lastItem.set(r, [raw, hit]);
      return hit;
    }
    const { idxTok, canon, subst } = this.#symTables();
    const m = RES.exec(r);
    let res = r;
    if (m) res = `${m[1]}:${idxTok(Number(m[2]))}${m[3] !== undefined ? `.${m[3]}` : ""}`;
    else if (r.startsWith("name:")) res = `name:${subst(r.slice(5))}`;
    let v: unknown;
    let tag = "";
    if (r.startsWith("name:")) v = idxTok(Number(raw));
    else if (m && m[1] === "dev") {
      tag = raw.startsWith("U") ? "U" : "";
      v = canon(JSON.parse(tag ? raw.slice(1) : raw), m[3] ?? "");
    } else {
      try {
        v = canon(JSON.parse(raw), "");
      } catch {
        v = canon(raw, "");
      }
    }
    let text = `${res}=${tag}${JSON.stringify(v)}`;
    const pairs = new Set<number>();
    for (const x of text.matchAll(/§(\d+)§/g)) pairs.add(Number(x[1]));
    let owner = -1;
    if (pairs.size === 1) {
      owner = [...pairs][0] as number;
      text = text.split(`§${owner}§`).join("§S§");
    }
    const out: CanonItem = [owner, text, this.#hashes.get(text), text.includes("§")];
    if (this.#itemCache.size > 500_000) this.#itemCache.clear();
    this.#itemCache.set(ck, out);
    this.#lastItem.set(r, [raw, out]);
    return out;
  }

  #symmetricKey(
    parts: [string, unknown][],
    work: unknown[],
    linkwatch: unknown,
    workers: string[],
    times: unknown,
  ): StateKey {
    const { canon } = this.#symTables();
    // Items of one pair form its local signature; the rest are global.
    const local = this.#pairs.map(() => [] as string[]);
    const global: string[] = [];
    for (const [r, d] of parts) {
      const [owner, text] = this.#canonItem(r, String(d));
      if (owner >= 0) (local[owner] as string[]).push(text);
      else global.push(text);
    }
    const sigs = local.map((ls) => ls.sort().join("\n"));
    // Within each symmetry group, canonical slots go to the pairs in signature order.
    const slot = new Map<number, number>();
    const byGroup = new Map<string, number[]>();
    this.#pairs.forEach((pi, i) => {
      const g = byGroup.get(pi.group) ?? [];
      g.push(i);
      byGroup.set(pi.group, g);
    });
    for (const members of byGroup.values()) {
      const sorted = [...members].sort((a, b) => {
        const la = sigs[a] as string;
        const lb = sigs[b] as string;
        return la < lb ? -1 : la > lb ? 1 : a - b;
      });
      members.forEach((orig, j) => {
        slot.set(sorted[j] as number, orig);
      });
    }
    const relabel = (s: string): string =>
      s.includes("§") ? s.replace(/§(\d+)§/g, (_, n) => `§${slot.get(Number(n))}§`) : s;
    const pairPart = this.#pairs.map((_, i) => sigs[[...slot].find(([, o]) => o === i)?.[0] ?? i]);
    const workerKeys = workers.map((w) => relabel(JSON.stringify(canon(JSON.parse(w), ""))));
    const workerOrder = workerKeys
      .map((_, i) => i)
      .sort((a, b) => {
        const wa = workerKeys[a] as string;
        const wb = workerKeys[b] as string;
        return wa < wb ? -1 : wa > wb ? 1 : a - b;
      });
    const key = JSON.stringify([
      pairPart,
      global.map(relabel).sort(),
      relabel(JSON.stringify(canon(work, ""))),
      relabel(JSON.stringify(canon(linkwatch, ""))),
      workerOrder.map((i) => workerKeys[i]),
      this.#violation?.invariant ?? null,
      times === null ? null : relabel(JSON.stringify(canon(times, ""))),
    ]);
    const laneMap = new Map<string, string>();
    workerOrder.forEach((orig, pos) => {
      laneMap.set(`udev/w${orig}`, `udev/w${pos}`);
    });
    this.#networkdLanes(laneMap, relabel);
    return { key, lane: (l) => laneMap.get(l) ?? l };
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
