// systemd-udevd as an actor: it receives the kernel's net uevents, queues each one for a
// delivery latency, hands it to a worker that processes it after a processing latency (one event
// per step; events for the same device strictly in order), runs net_id + net_setup_link on `add`
// and renames the device over rtnetlink, and keeps a small udev database per ifindex that other
// actors (a networkd-like bring-up) consult.
//
// Behaviour generations (`generation`), for the rename step only:
// - legacy (udev ≤ 2013, and Debian's re-applied hack): SIOCSIFNAME; on EEXIST rename to
//   `<name>_rename`, then retry the target at 20 Hz (every 50 ms of virtual time) for up to 90 s;
//   any other error (EBUSY included) is logged and never retried. The event always completes and
//   the database is always written. No ID_RENAMING. ("renamed network interface %s to %s" went to
//   /dev/kmsg in that udev; the model keeps it in udevd's log.)
// - v249: one attempt; any error is logged at error ("Failed to rename network interface %i from
//   '%s' to '%s': %m") and the worker logs "Failed to process device, ignoring: %m". The database
//   is written only when processing succeeds, so a device whose rename failed stays uninitialized.
// - v250 (PR #21109): as v249, but an interface that is IFF_UP is not renamed at all (info "Network
//   interface '%s' is already up, refusing to rename to '%s'."), which is not an error.
// - v253 (commit 53584e7b61 + PR #25980): always try; EBUSY is logged at info ("Network interface
//   '%s' is already up, cannot rename to '%s'.") and is not an error. ID_RENAMING is saved to the
//   database before the rtnetlink call (so the device is initialized and renaming from then on)
//   and reverted if the call fails; other errors are logged as in v249.
// - v256: v253 plus the hwdb ID_NET_NAME_ALLOW list (`nameAllow`), keyed by ID_NET_DRIVER.
// Which generation writes the database when is inferred from the udev-event.c history (systemd
// #13685, #24975, PR #25980), not measured.
//
// Boot and coldplug: udevd subscribes to uevents in its constructor. The World's cursor starts
// where the trace was when the World was built, so if the World (and udevd) exist before
// `machine.boot()`, the next `w.dispatch()` hands udevd every boot uevent, which it then processes
// as an initramfs udevd would (late, at the time of that dispatch). If udevd is created after boot
// (or a second pass is wanted), `coldplug()` replays an `add` for every registered net device, as
// `udevadm trigger --action=add` does; the model synthesizes those events inside udevd instead of
// asking the kernel to emit them, so they appear in udevd's queue but not in the kernel trace.
// A late udevd (`startLate`, a scenario's `udev.start: late`) exists from power-on but drops every
// uevent until `start()` (nobody listens before systemd-udevd.service), which then coldplugs.
//
// Simplifications: events are ordered per ifindex (udevd orders by DEVPATH and its parents);
// attributes are read through the device's current name (udevd reads through the event's
// syspath, which a concurrent rename makes stale); the IFF_UP check of v250 and the rename happen
// in the same atomic step (no window between them); alternative names (AlternativeNamesPolicy=)
// are set by the v249, v253 and v256 generations only (measured on udev 247, 252 and 257, see
// #applyAltnames).

import { STRERROR } from "../../ip/index.ts";
import {
  devGetByIndex,
  type ErrnoName,
  errnoName,
  IFF,
  type NetDevice,
  netSysfsRead,
  pciGetFunction,
  rtnlLinkprop,
  rtnlSetlink,
} from "../../kernel/index.ts";
import { sameData, sharedConstant } from "../../sim/clone.ts";
import type { Actor, Rng, RngState } from "../../sim/index.ts";
import { renameBusyCause } from "../cause.ts";
import type { Uevent, World } from "../world.ts";
import {
  chooseName,
  DEFAULT_LINK_FILE,
  databaseName,
  idPath,
  type LinkFile,
  matchLinkFile,
  type NameDatabase,
} from "./link-policy.ts";
import { hwdbNameAllow, type NameAllowDb, namingSysattrAllowed } from "./name-allow.ts";
import { isNamingScheme, type NamingScheme } from "./naming-scheme.ts";
import { netId } from "./net-id.ts";
import { applyRules, type RuleContext, type RulesFile } from "./rules.ts";
import { type FirmwareConfig, type NetFacts, netDevpath, readNetFacts } from "./sysfs-facts.ts";

/** What `Udevd.explorerView` returned last, and the state it read (see `#viewStillFrom`). */
interface ViewCache {
  readonly queue: readonly QueuedEvent[];
  readonly jobs: readonly (QueuedEvent | null)[];
  readonly tries: readonly (number | null)[];
  readonly db: readonly DbEntry[];
  readonly view: UdevdView;
}

/** The udev behaviour generations. */
export const UDEV_GENERATIONS = ["legacy", "v249", "v250", "v253", "v256"] as const;
export type UdevGeneration = (typeof UDEV_GENERATIONS)[number];

/** syslog levels udevd logs at, most severe first. */
export type UdevLogLevel = "err" | "warning" | "info" | "debug";
const LEVEL_RANK: Readonly<Record<UdevLogLevel, number>> = {
  err: 3,
  warning: 4,
  info: 6,
  debug: 7,
};

/** The naming scheme each generation uses by default. */
export const DEFAULT_NAMING_SCHEME: Readonly<Record<UdevGeneration, NamingScheme>> = {
  legacy: "v238",
  v249: "v249",
  v250: "v250",
  v253: "v253",
  v256: "v256",
};

/** Legacy udev's retry loop: 20 Hz for 90 s. */
export const LEGACY_RETRY_INTERVAL_US = 50_000;
export const LEGACY_RETRY_TRIES = 90 * 20;

/** udevd's configuration. Every field is optional. */
export interface UdevdConfig {
  /** Behaviour generation. Default "v256". */
  readonly generation?: UdevGeneration;
  /** net.naming-scheme=. Default: the generation's own scheme (legacy: v238). */
  readonly namingScheme?: NamingScheme;
  /** From the kernel sending a uevent to udevd's queue, µs. Default 1000. */
  readonly deliveryLatencyUs?: number;
  /** From a worker taking an event to the event being processed, µs. Default 10000. */
  readonly processingLatencyUs?: number;
  /** Extra random delay (0..jitterUs) on delivery and on processing, drawn from a fork of w.rng. Default 0. */
  readonly jitterUs?: number;
  /**
   * Workers that process events for different devices in parallel. Default 8 (udevd's
   * children_max is larger; the model has few devices).
   */
  readonly workers?: number;
  /** .link files in priority order; the first match applies. Default: [99-default.link]. */
  readonly links?: readonly LinkFile[];
  /**
   * Rules files in the order udevd runs them (udev-files.ts). When given, the name comes from
   * the rules' NAME= (80-net-setup-link.rules copies ID_NET_NAME into it, and its
   * IMPORT{builtin}="net_setup_link" runs the .link match); when absent, net_setup_link runs
   * alone and its ID_NET_NAME is the name.
   */
  readonly rules?: readonly RulesFile[];
  /** The `database` policy's name table. */
  readonly database?: NameDatabase;
  /** ACPI index (ID_NET_NAME_ONBOARD, "eno<N>") per PCI address. */
  readonly acpiIndex?: Readonly<Record<string, number>>;
  /** Hotplug slot overrides per PCI address (null: no slot). Default: bus 0 slot N → N. */
  readonly hotplugSlots?: Readonly<Record<string, number | null>>;
  /** hwdb ID_NET_NAME_ALLOW entries (used from v256 on). */
  readonly nameAllow?: NameAllowDb;
  /** net.ifnames=0 disables NamePolicy= (Name= still applies). Default true. */
  readonly netIfnames?: boolean;
  /** Lines below this level are not logged. Default "info" (udevd's default). */
  readonly logLevel?: UdevLogLevel;
  /**
   * udevd is not running yet (a scenario's `udev.start: late`): uevents the kernel sends until
   * `start()` are lost, as before systemd-udevd.service listens on its netlink socket. Default
   * false (listening from power-on).
   */
  readonly startLate?: boolean;
}

/** One udev database entry (/run/udev/data/n<ifindex>). */
export interface UdevDbEntry {
  readonly ifindex: number;
  /** A database entry exists: udev has processed (or, from v253, started renaming) the device. */
  readonly initialized: boolean;
  /** ID_RENAMING=1: a rename was issued and its `move` uevent is not processed yet. */
  readonly renaming: boolean;
  /** INTERFACE as udev last recorded it. */
  readonly name: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** One rename udevd asked the kernel for (RTM_SETLINK IFLA_IFNAME or SIOCSIFNAME). */
export interface UdevRename {
  /** Virtual time, µs. */
  readonly t: number;
  readonly ifindex: number;
  readonly from: string;
  readonly to: string;
  /** The kernel's answer: null for success, else the errno name. */
  readonly errno: ErrnoName | null;
}

/** One log line of udevd. */
export interface UdevLogLine {
  /** Virtual time, µs. */
  readonly t: number;
  readonly level: UdevLogLevel;
  /** The device name systemd prefixes the line with. */
  readonly ifname: string;
  readonly message: string;
  /** The errno behind a `%m`, if any. */
  readonly errno: ErrnoName | null;
  /** `<ifname>: <message>`, as the journal shows it. */
  readonly text: string;
}

/** What other actors are told after udevd processed an event (the libudev monitor broadcast). */
export interface UdevProcessed {
  readonly action: "add" | "move" | "remove";
  readonly ifindex: number;
  /** The device name after processing. */
  readonly ifname: string;
  /** False when the worker logged "Failed to process device". */
  readonly ok: boolean;
}

/** A pending event as `Udevd.peek` shows it. */
export interface UdevPendingEvent {
  readonly action: "add" | "move" | "remove";
  readonly ifindex: number;
  readonly ifname: string;
  /** Arrival order in udevd's queue. */
  readonly order: number;
}

/**
 * An event in udevd's queue or on a worker. Never changed once queued (frozen): the snapshots
 * share the events instead of copying them (`Udevd.save`).
 */
interface QueuedEvent {
  /** Kernel SEQNUM (trace sequence number), or null for a coldplug event. */
  readonly seqnum: number | null;
  readonly action: "add" | "move" | "remove";
  readonly devpath: string;
  readonly ifname: string;
  readonly ifindex: number;
  readonly deliverAt: number;
  /** Arrival order in udevd's queue (ties between workers go to the earlier event). */
  readonly order: number;
}

/** udevd's workers when the configuration does not say (`children_max` on a small machine). */
export const DEFAULT_UDEV_WORKERS = 8;

/** How many answers per ifindex `Udevd.#nameMemo` keeps. */
const NAME_MEMO_KEPT = 16;

/** The ifindex of every event of a device outside the explored system (`Udevd.otherQueue`). */
const OTHER_IFINDEX = -1;

/** An event of a device outside the explored system (`Udevd.otherQueue`). */
function isOther(e: QueuedEvent): boolean {
  return e.ifindex === OTHER_IFINDEX;
}

interface LegacyRetry {
  readonly from: string;
  readonly to: string;
  /** Tries left; 0 = the loop's final sleep is running. */
  triesLeft: number;
}

interface Job {
  readonly ev: QueuedEvent;
  readyAt: number;
  retry: LegacyRetry | null;
  /** Properties gathered for the database write at the end of a legacy retry loop. */
  props: Record<string, string>;
}

/**
 * A database entry. Replaced by every write, never changed in place (`#writeDb`): deep-frozen
 * and shared by the snapshots, which copy the database without copying its entries.
 */
interface DbEntry {
  readonly ifindex: number;
  readonly initialized: boolean;
  readonly renaming: boolean;
  readonly name: string;
  readonly properties: Readonly<Record<string, string>>;
}

/**
 * What `Udevd.save` returns: copies of the queue and the workers' jobs (the events in them are
 * frozen: shared, not copied), the database's entries (frozen: shared, not copied), the log lines
 * so far, the delivery clock, the arrival counter and the jitter generator's position.
 */
export interface UdevdSnapshot {
  readonly queue: readonly QueuedEvent[];
  readonly workers: readonly (Job | null)[];
  readonly db: readonly DbEntry[];
  readonly logs: readonly UdevLogLine[];
  readonly renames: readonly UdevRename[];
  readonly lastDeliverAt: number;
  readonly arrivals: number;
  readonly rng: RngState;
  readonly running: boolean;
}

/** An event as the explorer hashes it (no times, no sequence numbers). */
export interface UdevEventView {
  readonly action: "add" | "move" | "remove";
  readonly ifindex: number;
  readonly ifname: string;
}

/** A worker's job as the explorer hashes it: the event, and the legacy retry loop's tries left. */
export interface UdevJobView extends UdevEventView {
  readonly retryTriesLeft: number | null;
}

/** A database entry as the explorer hashes it (no properties). */
export interface UdevDbView {
  readonly ifindex: number;
  readonly initialized: boolean;
  readonly renaming: boolean;
  readonly name: string;
}

/** udevd's state for hashing: queue in order, workers by index, database sorted by ifindex. */
export interface UdevdView {
  readonly queue: UdevEventView[];
  readonly workers: (UdevJobView | null)[];
  readonly db: UdevDbView[];
}

function strerror(name: ErrnoName): string {
  return STRERROR[name];
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`udevd: ${name} must be a non-negative integer (µs), got ${v}`);
  return v;
}

/** The udevd actor. */
export class Udevd implements Actor {
  readonly name = "udevd";
  readonly generation: UdevGeneration;
  readonly scheme: NamingScheme;
  readonly #w: World;
  readonly #cfg: UdevdConfig;
  readonly #delivery: number;
  readonly #processing: number;
  readonly #jitter: number;
  readonly #links: readonly LinkFile[];
  /** The configuration's firmware facts (`acpiIndex`, `hotplugSlots`), as `readNetFacts` takes them. */
  readonly #fw: FirmwareConfig;
  readonly #level: number;
  readonly #rng: Rng;
  readonly #queue: QueuedEvent[] = [];
  readonly #workers: (Job | null)[];
  readonly #db = new Map<number, DbEntry>();
  /**
   * `predictableName`'s last answers per ifindex (the latest first, NAME_MEMO_KEPT at most) when
   * there are no rules files, each with the facts and the kernel name it was for. Then nothing
   * else goes into the answer: net_id, the database policy, the .link match and NamePolicy= read
   * only the facts, the kernel name and the configuration (never changed). An answer is taken
   * again only for facts equal to its own in every field (`sameData`: the same plain data, which
   * never says yes for different facts), so it holds in any state an explorer restores.
   */
  readonly #nameMemo = new Map<
    number,
    { facts: NetFacts; ifname: string; name: string | null }[]
  >();
  readonly #logs: UdevLogLine[] = [];
  readonly #renames: UdevRename[] = [];
  /**
   * v256: the alternative names net_setup_link chose for the `add` being processed
   * (`event->altnames`), assigned after the rename. Set and used within one #process step.
   */
  #eventAltnames: string[] = [];
  readonly #processedSubs: ((p: UdevProcessed) => void)[] = [];
  #lastDeliverAt = 0;
  #arrivals = 0;
  /** Listening for uevents (false until `start()` under `startLate`). */
  #running: boolean;
  /**
   * The last `explorerView` (deep-frozen: every caller gets the same one) with what it was made
   * from; an explorer asks for the view several times per state. Taken again only while
   * `#viewStillFrom` says the state it reads is the same, so no write needs to invalidate it.
   */
  #view: ViewCache | null = null;

  constructor(w: World, config: UdevdConfig = {}) {
    const gen = config.generation ?? "v256";
    if (!(UDEV_GENERATIONS as readonly string[]).includes(gen))
      throw new TypeError(
        `udevd: unknown generation "${gen}" (one of ${UDEV_GENERATIONS.join(", ")})`,
      );
    const scheme = config.namingScheme ?? DEFAULT_NAMING_SCHEME[gen];
    if (!isNamingScheme(scheme)) throw new TypeError(`udevd: unknown naming scheme "${scheme}"`);
    const workers = config.workers ?? DEFAULT_UDEV_WORKERS;
    if (!Number.isSafeInteger(workers) || workers < 1)
      throw new RangeError(`udevd: workers must be a positive integer, got ${workers}`);
    const level = config.logLevel ?? "info";
    if (!(level in LEVEL_RANK)) throw new TypeError(`udevd: unknown log level "${level}"`);
    this.#w = w;
    this.#cfg = config;
    this.generation = gen;
    this.scheme = scheme;
    this.#delivery = nonNegative("deliveryLatencyUs", config.deliveryLatencyUs, 1_000);
    this.#processing = nonNegative("processingLatencyUs", config.processingLatencyUs, 10_000);
    this.#jitter = nonNegative("jitterUs", config.jitterUs, 0);
    this.#links = config.links ?? [DEFAULT_LINK_FILE];
    this.#fw = {
      ...(config.acpiIndex ? { acpiIndex: config.acpiIndex } : {}),
      ...(config.hotplugSlots ? { hotplugSlots: config.hotplugSlots } : {}),
    };
    this.#level = LEVEL_RANK[level];
    this.#rng = w.rng.fork("udevd");
    this.#workers = Array.from({ length: workers }, () => null);
    this.#running = !(config.startLate ?? false);
    w.onUevent((e) => this.#onUevent(e));
  }

  // ---- what other actors ask ----

  /** True once udev has a database entry for the device (sd_device_get_is_initialized). */
  isInitialized(ifindex: number): boolean {
    return this.#db.get(ifindex)?.initialized ?? false;
  }

  /** True while ID_RENAMING is set (networkd waits: "Interface is being renamed"). */
  isRenaming(ifindex: number): boolean {
    return this.#db.get(ifindex)?.renaming ?? false;
  }

  /** Initialized and not being renamed: what networkd waits for before it manages a link. */
  isReady(ifindex: number): boolean {
    return this.isInitialized(ifindex) && !this.isRenaming(ifindex);
  }

  /** A copy of the database entry (`udevadm info`), if any. */
  entry(ifindex: number): UdevDbEntry | undefined {
    const e = this.#db.get(ifindex);
    return e ? { ...e, properties: { ...e.properties } } : undefined;
  }

  /**
   * The pending events (queued, then those workers hold), the database and the renames as they
   * are, not copied: read-only, for a per-device projection of the state
   * (src/explore/cutoff.ts) that cannot pay a snapshot per state.
   */
  peek(): {
    readonly pending: readonly UdevPendingEvent[];
    readonly db: ReadonlyMap<number, UdevDbEntry>;
    readonly renames: readonly UdevRename[];
  } {
    const pending: QueuedEvent[] = [...this.#queue];
    for (const j of this.#workers) if (j) pending.push(j.ev);
    return { pending, db: this.#db, renames: this.#renames };
  }

  /** Every database entry, by ifindex. */
  entries(): UdevDbEntry[] {
    return [...this.#db.keys()].sort((a, b) => a - b).map((i) => this.entry(i) as UdevDbEntry);
  }

  /** Log lines at or above the configured level, in order. */
  get logs(): readonly UdevLogLine[] {
    return this.#logs;
  }

  /** The log lines as the journal prints them (`<ifname>: <message>`). */
  logText(): string[] {
    return this.#logs.map((l) => l.text);
  }

  /** Events received but not yet processed (queued or on a worker). 0: `udevadm settle` returns. */
  pending(): number {
    return this.#queue.length + this.#workers.filter((j) => j !== null).length;
  }

  /** True when nothing is queued or in progress. */
  isSettled(): boolean {
    return this.pending() === 0;
  }

  /**
   * Called after each processed event (udevd's broadcast to libudev listeners). Listeners should
   * queue what they learn and act in their own steps.
   */
  onProcessed(fn: (p: UdevProcessed) => void): void {
    this.#processedSubs.push(fn);
  }

  /**
   * `udevadm trigger --action=add` for the net subsystem: queues an `add` for every registered
   * net device (ifindex order). Returns how many were queued.
   */
  coldplug(): number {
    const devs = [...this.#w.k.state.devices.values()]
      .filter((d) => d.regState === "REGISTERED")
      .sort((a, b) => a.ifindex - b.ifindex);
    for (const d of devs) {
      this.#enqueue(
        {
          seqnum: null,
          action: "add",
          devpath: netDevpath(d),
          ifname: d.name,
          ifindex: d.ifindex,
        },
        this.#w.now(),
      );
    }
    return devs.length;
  }

  /** udevd listens for uevents (started at power-on, or by `start()`). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * A late udevd starts (systemd-udevd.service, then systemd-udev-trigger.service, as the qemu
   * guest's `ifsim.udev=late` does): from now on it receives uevents, and `udevadm trigger
   * --type=subsystems --action=add` then `--type=devices --action=add` replay an `add` for every
   * device. Only the net devices' matter here: `coldplug()`. An `add` for a device already
   * registered under its kernel name is processed as a hot-plug `add` is (net_setup_link, the
   * rename). Returns how many events were queued.
   *
   * @throws Error if udevd is already running.
   */
  start(): number {
    if (this.#running) throw new Error("udevd: start(): already running");
    this.#running = true;
    return this.coldplug();
  }

  // ---- snapshots and the explorer's view ----

  /**
   * Saves udevd's mutable state: deep copies, but for the events and the database's entries,
   * which are never changed (frozen: `#enqueue`, `otherQueue` and `#writeDb` make new ones) and
   * so are shared. Configuration and subscriptions never change.
   */
  save(): UdevdSnapshot {
    return {
      queue: this.#queue.slice(),
      workers: this.#workers.map(copyJob),
      db: [...this.#db.values()],
      logs: this.#logs.slice(),
      renames: this.#renames.slice(),
      lastDeliverAt: this.#lastDeliverAt,
      arrivals: this.#arrivals,
      rng: this.#rng.saveState(),
      running: this.#running,
    };
  }

  /**
   * Restores what `save` returned, in place: fresh copies of what can change, so a snapshot can
   * be loaded again.
   */
  load(s: UdevdSnapshot): void {
    if (s.workers.length !== this.#workers.length)
      throw new RangeError(
        `udevd: cannot load a snapshot of ${s.workers.length} workers into one of ${this.#workers.length}`,
      );
    // The events and the database's entries are frozen and shared; the jobs are copied.
    this.#queue.length = 0;
    this.#queue.push(...s.queue);
    for (let i = 0; i < s.workers.length; i++)
      this.#workers[i] = copyJob(s.workers[i] as Job | null);
    this.#db.clear();
    for (const e of s.db) this.#db.set(e.ifindex, e);
    this.#logs.length = 0;
    this.#logs.push(...s.logs);
    this.#renames.length = 0;
    this.#renames.push(...s.renames);
    this.#lastDeliverAt = s.lastDeliverAt;
    this.#arrivals = s.arrivals;
    this.#rng.loadState(s.rng);
    this.#running = s.running;
  }

  /**
   * The state an explorer hashes: events and database entries without times or properties.
   * Frozen, and the same object while that state is the same (`#view`).
   */
  explorerView(): UdevdView {
    const c = this.#view;
    if (c !== null && this.#viewStillFrom(c)) return c.view;
    // Plain loops, each view written out field by field (the keys in the order the views have
    // always had: their JSON is hashed).
    const queue: UdevEventView[] = [];
    for (const e of this.#queue)
      queue.push({ action: e.action, ifindex: e.ifindex, ifname: e.ifname });
    const workers: (UdevJobView | null)[] = [];
    for (const j of this.#workers)
      workers.push(
        j
          ? {
              action: j.ev.action,
              ifindex: j.ev.ifindex,
              ifname: j.ev.ifname,
              retryTriesLeft: j.retry?.triesLeft ?? null,
            }
          : null,
      );
    // By ifindex. The database's order is the order of first writes, mostly ifindex order
    // already: sorted only when it is not (ifindexes are unique, so any sort gives this order).
    const db: UdevDbView[] = [];
    let sorted = true;
    for (const e of this.#db.values()) {
      const last = db[db.length - 1];
      if (last !== undefined && last.ifindex > e.ifindex) sorted = false;
      db.push({
        ifindex: e.ifindex,
        initialized: e.initialized,
        renaming: e.renaming,
        name: e.name,
      });
    }
    if (!sorted) db.sort((a, b) => a.ifindex - b.ifindex);
    const view: UdevdView = { queue, workers, db };
    deepFreezeView(view);
    this.#view = {
      queue: this.#queue.slice(),
      jobs: this.#workers.map((j) => j?.ev ?? null),
      tries: this.#workers.map((j) => j?.retry?.triesLeft ?? null),
      db: [...this.#db.values()],
      view,
    };
    return view;
  }

  /**
   * Whether the state `explorerView` reads is still what `c` was made from: the same events
   * queued (by identity: frozen, so the same event has the same fields), the same event on each
   * worker with the same retry tries left, the same database entries (frozen too) in the same
   * order. A restored snapshot holds the very events and entries it saved, so a view made
   * before a `load` of equal state is taken again, and one of another state never is.
   */
  #viewStillFrom(c: ViewCache): boolean {
    const q = this.#queue;
    if (q.length !== c.queue.length) return false;
    for (let i = 0; i < q.length; i++) if (q[i] !== c.queue[i]) return false;
    const w = this.#workers;
    for (let i = 0; i < w.length; i++) {
      const j = w[i];
      if ((j?.ev ?? null) !== c.jobs[i] || (j?.retry?.triesLeft ?? null) !== c.tries[i])
        return false;
    }
    if (this.#db.size !== c.db.length) return false;
    let i = 0;
    for (const e of this.#db.values()) if (e !== c.db[i++]) return false;
    return true;
  }

  /**
   * The due times an explorer's time view keys (it makes them relative to now): each worker's
   * ready time (null: free), each queued event's delivery time (queue order), and the last
   * delivery time (the next event is delivered no earlier) with the delivery latency (an event
   * sent at t is delivered at t + latency or later, so a last delivery not after that is moot).
   */
  explorerTimes(): {
    workers: (number | null)[];
    queue: number[];
    lastDeliverAt: number;
    deliveryLatency: number;
  } {
    return {
      workers: this.#workers.map((j) => j?.readyAt ?? null),
      queue: this.#queue.map((e) => e.deliverAt),
      lastDeliverAt: this.#lastDeliverAt,
      deliveryLatency: this.#delivery,
    };
  }

  // ---- workers as lanes ----

  /** Number of workers (each one a lane an explorer can schedule with `stepWorker`). */
  get workerCount(): number {
    return this.#workers.length;
  }

  #checkWorker(i: number): void {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.#workers.length)
      throw new RangeError(`udevd: no worker ${i} (it has ${this.#workers.length})`);
  }

  /**
   * When worker `i`'s job can run (µs), or null while the worker is free.
   *
   * @throws RangeError if there is no worker `i`.
   */
  workerReadyAt(i: number): number | null {
    this.#checkWorker(i);
    const j = this.#workers[i];
    // Another device's event (the explorer's environment) is never run here: see `otherQueue`.
    return j && !isOther(j.ev) ? j.readyAt : null;
  }

  /**
   * Runs worker `i`'s job one step, exactly as `step()` does when it picks that worker: processes
   * the event (or one pass of a legacy retry loop), and when the job is done frees the worker
   * and hands queued events to free workers. The clock must have reached `workerReadyAt(i)`.
   *
   * @throws RangeError if there is no worker `i`, it is free, or its job is not ready yet.
   */
  stepWorker(i: number): void {
    this.#checkWorker(i);
    const job = this.#workers[i];
    if (!job) throw new RangeError(`udevd: worker ${i} is free`);
    if (isOther(job.ev))
      throw new RangeError(`udevd: worker ${i} holds another device's event (otherRelease)`);
    if (job.readyAt > this.#w.now())
      throw new RangeError(
        `udevd: worker ${i} is not ready until ${job.readyAt} (now ${this.#w.now()})`,
      );
    const done = job.retry ? this.#legacyRetry(job) : this.#process(job);
    if (done) {
      this.#workers[i] = null;
      this.#dispatchQueued();
    }
  }

  // ---- Actor ----

  readyAt(): number | null {
    let t: number | null = null;
    for (const j of this.#workers)
      if (j && !isOther(j.ev) && (t === null || j.readyAt < t)) t = j.readyAt;
    return t;
  }

  /** Runs the ready job that became ready first (ties: the earlier event) via `stepWorker`. */
  step(): void {
    const now = this.#w.now();
    let pick = -1;
    for (const [i, j] of this.#workers.entries()) {
      if (!j || isOther(j.ev) || j.readyAt > now) continue;
      const p = pick >= 0 ? (this.#workers[pick] as Job) : null;
      if (!p || j.readyAt < p.readyAt || (j.readyAt === p.readyAt && j.ev.order < p.ev.order))
        pick = i;
    }
    if (pick < 0) return;
    this.stepWorker(pick);
  }

  // ---- other devices' events (the explorer's environment) ----

  /**
   * Queues an event of a device outside the explored system (src/explore/environment.ts: the
   * other failover pairs of a machine, seen only as their use of udevd's queue and workers). It
   * takes its place in the FIFO like any event and a free worker when its turn comes, and holds
   * that worker until `otherRelease`: no worker lane ever runs it. Other devices' events are
   * alike (ifindex -1, which no real device has) and never wait for each other (each stands for
   * a different device). Explorer-only.
   */
  otherQueue(): void {
    const q: QueuedEvent = Object.freeze({
      seqnum: null,
      action: "add",
      devpath: "/devices/other/net/other",
      ifname: "other",
      ifindex: OTHER_IFINDEX,
      deliverAt: this.#w.now(),
      order: this.#arrivals++,
    });
    this.#queue.push(q);
    this.#dispatchQueued();
  }

  /**
   * Worker `i` ends the other device's event it holds (`otherQueue`) and, as at the end of any
   * job, queued events go to free workers.
   *
   * @throws RangeError if worker `i` does not hold another device's event.
   */
  otherRelease(i: number): void {
    this.#checkWorker(i);
    const j = this.#workers[i];
    if (!j || !isOther(j.ev))
      throw new RangeError(`udevd: worker ${i} holds no other device's event`);
    this.#workers[i] = null;
    this.#dispatchQueued();
  }

  /** Other devices' events (`otherQueue`): how many are queued, and the workers holding one. */
  others(): { queued: number; held: number[] } {
    const held: number[] = [];
    this.#workers.forEach((j, i) => {
      if (j && isOther(j.ev)) held.push(i);
    });
    return { queued: this.#queue.filter(isOther).length, held };
  }

  // ---- queue ----

  #onUevent(e: Uevent): void {
    // not started yet: nobody listens on the uevent socket, the event is lost
    if (!this.#running) return;
    if (!e.devpath.includes("/net/")) return;
    this.#enqueue(
      {
        seqnum: e.seq,
        action: e.action,
        devpath: e.devpath,
        ifname: e.interface,
        ifindex: e.ifindex,
      },
      e.t,
    );
  }

  #draw(): number {
    return this.#jitter > 0 ? this.#rng.nextInt(0, this.#jitter) : 0;
  }

  #enqueue(ev: Omit<QueuedEvent, "deliverAt" | "order">, sentAt: number): void {
    // The uevent socket delivers in order: jitter never reorders events.
    const deliverAt = Math.max(sentAt + this.#delivery + this.#draw(), this.#lastDeliverAt);
    this.#lastDeliverAt = deliverAt;
    const q: QueuedEvent = Object.freeze({ ...ev, deliverAt, order: this.#arrivals++ });
    this.#queue.push(q);
    this.#log("debug", ev.ifname, `Device (${seqText(q)}ACTION=${ev.action}) is queued`, null);
    this.#dispatchQueued();
  }

  /** Hands queued events to free workers: FIFO, skipping events whose device is busy. */
  #dispatchQueued(): void {
    const now = this.#w.now();
    for (let i = 0; i < this.#queue.length; ) {
      const free = this.#workers.indexOf(null);
      if (free < 0) return;
      const ev = this.#queue[i] as QueuedEvent;
      const busy =
        !isOther(ev) &&
        (this.#workers.some((j) => j?.ev.ifindex === ev.ifindex) ||
          this.#queue.slice(0, i).some((q) => q.ifindex === ev.ifindex));
      if (busy) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#workers[free] = {
        ev,
        readyAt: Math.max(ev.deliverAt, now) + this.#processing + this.#draw(),
        retry: null,
        props: {},
      };
    }
  }

  // ---- logging ----

  #log(
    level: UdevLogLevel,
    ifname: string,
    message: string,
    errno: ErrnoName | null,
    cause?: string,
  ): void {
    if (LEVEL_RANK[level] > this.#level) return;
    const text = `${ifname}: ${message}`;
    const line: UdevLogLine = { t: this.#w.now(), level, ifname, message, errno, text };
    this.#logs.push(line);
    this.#w.record(this.name, text, errno ?? level, level !== "err" && level !== "warning", cause);
  }

  /** A successful rename in the timeline (udevd logs it only at debug level). */
  #renamed(from: string, to: string): void {
    this.#w.record(this.name, `rename ${from} → ${to}`, "ok");
  }

  /** Why renaming `name` failed with `e`, when the model shows it (the UP check). */
  #cause(name: string, e: ErrnoName): string | undefined {
    return e === "EBUSY" ? (renameBusyCause(this.#w.k, name) ?? undefined) : undefined;
  }

  #broadcast(p: UdevProcessed): void {
    for (const f of this.#processedSubs) f(p);
  }

  // ---- database ----

  /**
   * device_update_db(): the entry exists from now on, so the device counts as initialized. A new
   * entry replaces the old one (same place in the database's order).
   */
  #writeDb(ev: QueuedEvent, name: string, props: Record<string, string>, renaming: boolean): void {
    const properties = { ...props };
    if (renaming) properties.ID_RENAMING = "1";
    else delete properties.ID_RENAMING;
    this.#db.set(
      ev.ifindex,
      sharedConstant({ ifindex: ev.ifindex, initialized: true, renaming, name, properties }),
    );
  }

  // ---- processing ----

  /** Processes one event. Returns false while a legacy retry loop keeps the worker busy. */
  #process(job: Job): boolean {
    const ev = job.ev;
    this.#log("debug", ev.ifname, `Processing device (${seqText(ev)}ACTION=${ev.action})`, null);
    if (ev.action === "remove") {
      this.#db.delete(ev.ifindex);
      return this.#finish(ev, ev.ifname, true);
    }
    const base: Record<string, string> = {
      ACTION: ev.action,
      DEVPATH: ev.devpath,
      SUBSYSTEM: "net",
      INTERFACE: ev.ifname,
      IFINDEX: String(ev.ifindex),
    };
    if (ev.action === "move") {
      // The move that follows a rename: ID_RENAMING is dropped, the entry follows the new name.
      const prev = this.#db.get(ev.ifindex)?.properties ?? {};
      // net_setup_link on `move`: Name=/NamePolicy= are skipped, alternative names applied
      // (systemd 247 and 252, measured; 257 applies none on `move`). Only the generations and
      // kernels #applyAltnames sets them for read what it needs (reading has no effects).
      const facts = this.#setsAltnames() ? this.#facts(ev.ifindex) : null;
      const link = facts ? matchLinkFile(this.#links, facts, ev.ifname, prev) : null;
      if (facts && link && this.generation !== "v256") {
        const props: Record<string, string> = {};
        const names = this.#netIdNames(facts, props);
        this.#applyAltnames(ev.ifindex, names, databaseName(this.#cfg.database ?? {}, facts), link);
      }
      this.#writeDb(ev, ev.ifname, { ...prev, ...base }, false);
      return this.#finish(ev, ev.ifname, true);
    }
    return this.#processAdd(job, base);
  }

  #finish(ev: QueuedEvent, ifname: string, ok: boolean): true {
    this.#log("debug", ifname, `Device (${seqText(ev)}ACTION=${ev.action}) processed`, null);
    this.#broadcast({ action: ev.action, ifindex: ev.ifindex, ifname, ok });
    return true;
  }

  #facts(ifindex: number): NetFacts | null {
    return readNetFacts(this.#w.k, ifindex, this.#fw);
  }

  /** The rules for an `add`: net_driver, hwdb, net_id, path_id, net_setup_link; then the rename. */
  #processAdd(job: Job, base: Record<string, string>): boolean {
    const ev = job.ev;
    const k = this.#w.k;
    this.#eventAltnames = [];
    const facts = this.#facts(ev.ifindex);
    if (!facts) {
      this.#log("debug", ev.ifname, "Device is gone, ignoring.", null);
      return this.#finish(ev, ev.ifname, true);
    }
    const props: Record<string, string> = { ...base };
    const names = this.#netIdNames(facts, props);
    Object.assign(props, names);
    const path = idPath(facts);
    if (path !== undefined) props.ID_PATH = path;
    const fromDb = databaseName(this.#cfg.database ?? {}, facts);
    if (fromDb !== undefined) props.ID_NET_NAME_FROM_DATABASE = fromDb;

    let target: string | null;
    if (this.#cfg.rules) target = this.#runRules(ev, facts, names, fromDb, props);
    else target = this.#netSetupLink(ev, facts, names, fromDb, props);

    if (target === null || target === ev.ifname) {
      // v256: rename_netif() had nothing to do (0), so assign_altnames()
      if (this.generation === "v256") this.#assignAltnamesV256(ev.ifindex, ev.ifname);
      this.#writeDb(ev, ev.ifname, props, false);
      return this.#finish(ev, ev.ifname, true);
    }
    const dev = devGetByIndex(k, ev.ifindex) as NetDevice;
    if (this.generation === "legacy") return this.#renameLegacy(job, props, target);
    return this.#renameSystemd(ev, dev, base, props, target);
  }

  /**
   * The `net_setup_link` builtin: the first matching .link file, its name choice into
   * ID_NET_NAME (returned), ID_NET_LINK_FILE, and its alternative names.
   */
  #netSetupLink(
    ev: QueuedEvent,
    facts: NetFacts,
    names: ReturnType<typeof netId>,
    fromDb: string | undefined,
    props: Record<string, string>,
  ): string | null {
    const link = matchLinkFile(this.#links, facts, ev.ifname, props);
    if (!link) {
      this.#log("debug", ev.ifname, "No matching link configuration found.", null);
      return null;
    }
    props.ID_NET_LINK_FILE = link.path ?? link.file;
    this.#log("debug", ev.ifname, `Config file ${link.path ?? link.file} is applied`, null);
    const choice = chooseName({
      link,
      names,
      database: fromDb,
      nameAssignType: facts.nameAssignType,
      scheme: this.scheme,
      enableNamePolicy: this.#cfg.netIfnames ?? true,
    });
    for (const l of choice.log) this.#log("debug", ev.ifname, l, null);
    if (choice.name !== null) props.ID_NET_NAME = choice.name;
    this.#applyAltnames(ev.ifindex, names, fromDb, link, choice.name);
    return choice.name;
  }

  /** The rules files on an `add`: NAME= as they leave it is the name (null: none). */
  #runRules(
    ev: QueuedEvent,
    facts: NetFacts,
    names: ReturnType<typeof netId>,
    fromDb: string | undefined,
    props: Record<string, string>,
  ): string | null {
    const r = this.#applyRulesTo(ev.action, ev.ifname, ev.ifindex, facts, props, (p) => {
      this.#netSetupLink(ev, facts, names, fromDb, p);
    });
    for (const f of r.fired) this.#log("debug", ev.ifname, `Rule ${f} matched`, null);
    if (r.name !== null && r.nameFrom !== null)
      this.#log("debug", ev.ifname, `NAME '${r.name}' ${r.nameFrom}`, null);
    return r.name;
  }

  /**
   * udev_rules_apply_to_event() of the configured rules files on one device: the parents'
   * subsystems and drivers for SUBSYSTEMS/DRIVERS, sysfs for ATTR{}, and `setupLink` for
   * IMPORT{builtin}="net_setup_link" (the other builtins' properties are already in `props`).
   */
  #applyRulesTo(
    action: "add" | "move" | "remove",
    ifname: string,
    ifindex: number,
    facts: NetFacts,
    props: Record<string, string>,
    setupLink: (p: Record<string, string>) => void,
  ): ReturnType<typeof applyRules> {
    const k = this.#w.k;
    const dev = devGetByIndex(k, ifindex);
    const subsystems = ["net"];
    const drivers: string[] = [];
    if (dev?.parent) {
      subsystems.push(dev.parent.bus);
      drivers.push(dev.parent.driver);
      for (const p of facts.pci) {
        if (dev.parent.bus === "pci" && p.addr === dev.parent.id) continue;
        subsystems.push("pci");
        const drv = pciGetFunction(k, p.addr)?.driver;
        if (drv) drivers.push(drv);
      }
    }
    const ctx: RuleContext = {
      action,
      kernel: ifname,
      subsystems,
      drivers,
      attr: (a) => {
        const r = netSysfsRead(k, facts.name, a);
        return "text" in r ? r.text.replace(/\n$/, "") : null;
      },
      builtin: (name, p) => {
        if (name === "net_setup_link") setupLink(p);
        // net_id, path_id, net_driver, hwdb: their properties are already in `p`
      },
    };
    return applyRules(this.#cfg.rules ?? [], ctx, props);
  }

  /** Whether #applyAltnames sets any: the generation sets altnames and the kernel has them. */
  #setsAltnames(): boolean {
    const gen = this.generation;
    return (gen === "v253" || gen === "v249" || gen === "v256") && this.#w.k.profile.altnames;
  }

  /**
   * 99-default.link's `AlternativeNamesPolicy=database onboard slot path` (link_apply_alternative_names()
   * of systemd 252, measured in the qemu guest): the names those policies yield, less the current
   * name and the altnames the device has, are added as altnames (one RTM_NEWLINK when the device
   * is up), on `add` and on `move`. v253 (systemd 252) keeps the name it is about to give among
   * them; v249 (systemd 247, Debian bullseye, measured in the qemu guest: link_config_apply())
   * leaves out `newName`, the name the event's rename will ask for. v256 (systemd 257, Debian
   * trixie, measured in the qemu guest) only collects them here, on `add` only (a user rename's
   * `move` adds none; its 99-default.link adds `mac` to the policy), and assigns them after the
   * rename (#assignAltnamesV256). legacy and v250 are not measured: they set none.
   */
  #applyAltnames(
    ifindex: number,
    names: ReturnType<typeof netId>,
    fromDb: string | undefined,
    link: LinkFile,
    newName: string | null = null,
  ): void {
    const gen = this.generation;
    if (!this.#setsAltnames()) return;
    const dev = devGetByIndex(this.#w.k, ifindex);
    if (!dev) return;
    const want: string[] = [];
    // A file parsed from disk says what it wants; the built-in LinkFile stands for 99-default.link.
    const policy =
      link.alternativeNamesPolicy ??
      (link.netMatch
        ? []
        : gen === "v256"
          ? (["database", "onboard", "slot", "path", "mac"] as const)
          : (["database", "onboard", "slot", "path"] as const));
    const byPolicy = {
      database: fromDb,
      onboard: names.ID_NET_NAME_ONBOARD,
      slot: names.ID_NET_NAME_SLOT,
      path: names.ID_NET_NAME_PATH,
      mac: names.ID_NET_NAME_MAC,
    };
    if (gen === "v256") {
      // link_generate_alternative_names(): AlternativeNames= first, then the policies' names;
      // udev-event.c assigns them after the rename (#assignAltnamesV256)
      this.#eventAltnames = [
        ...(link.alternativeNames ?? []),
        ...policy.flatMap((p) => (byPolicy[p] === undefined ? [] : [byPolicy[p]])),
      ];
      return;
    }
    const skip = gen === "v249" ? newName : null;
    for (const n of [...policy.map((p) => byPolicy[p]), ...(link.alternativeNames ?? [])])
      if (
        n !== undefined &&
        n !== dev.name &&
        n !== skip &&
        !want.includes(n) &&
        !dev.altnames.includes(n)
      )
        want.push(n);
    if (want.length > 0) rtnlLinkprop(this.#w.k, { op: "add", ifindex, altname: want });
  }

  /**
   * v256: assigns the event's alternative names (#eventAltnames) less `current` (the name the
   * device has now) and the altnames it has (`had`: as read before the rename), deduplicated,
   * sorted, in one RTM_NEWLINKPROP; when that fails with EEXIST (a name another device holds:
   * two devices that share a MAC both want its `enx…`), one by one, logging each failure.
   * Whichever of udevd's parallel workers gets there first wins the contested name: measured
   * on udev 257 (01 of the qemu-udev corpus, master and standby processed at once), the standby
   * 4 times in 5, the master once; the model's workers finish in event order (the master).
   * @systemd rtnl_set_link_name() (after the rename) and assign_altnames() in udev-event.c
   */
  #assignAltnamesV256(ifindex: number, current: string, had?: readonly string[]): void {
    if (!this.#w.k.profile.altnames) return;
    const dev = devGetByIndex(this.#w.k, ifindex);
    if (!dev) return;
    const existing = had ?? dev.altnames;
    const want: string[] = [];
    for (const n of this.#eventAltnames)
      if (n !== current && !existing.includes(n) && !want.includes(n)) want.push(n);
    want.sort();
    if (want.length === 0) return;
    const ret = rtnlLinkprop(this.#w.k, { op: "add", ifindex, altname: want }).ret;
    if (errnoName(ret) === "EEXIST") {
      for (const n of want) {
        const r = rtnlLinkprop(this.#w.k, { op: "add", ifindex, altname: n }).ret;
        if (r < 0) {
          const e = errnoName(r) ?? "EINVAL";
          this.#log(
            "debug",
            dev.name,
            `Failed to assign '${n}' as an alternative name on network interface ${ifindex}, ignoring: ${strerror(e)}`,
            null,
          );
        }
      }
    } else if (ret < 0) {
      const e = errnoName(ret) ?? "EINVAL";
      this.#log(
        "debug",
        dev.name,
        `Failed to assign alternative names on network interface ${ifindex}, ignoring: ${strerror(e)}`,
        null,
      );
    }
  }

  #setName(ifindex: number, name: string): number {
    const from = devGetByIndex(this.#w.k, ifindex)?.name ?? `if${ifindex}`;
    const ret = rtnlSetlink(this.#w.k, { ifindex, attrs: { ifname: name } }).ret;
    this.#renames.push({
      t: this.#w.now(),
      ifindex,
      from,
      to: name,
      errno: ret === 0 ? null : (errnoName(ret) ?? "EINVAL"),
    });
    return ret;
  }

  /** Every rename udevd asked for so far, in order, with the kernel's answer. */
  get renames(): readonly UdevRename[] {
    return this.#renames;
  }

  /** ID_NET_DRIVER and the v256 hwdb allow list into `props`, then net_id's names. */
  #netIdNames(facts: NetFacts, props: Record<string, string>): ReturnType<typeof netId> {
    if (facts.driver !== null) props.ID_NET_DRIVER = facts.driver;
    if (this.generation === "v256")
      Object.assign(props, hwdbNameAllow(this.#cfg.nameAllow ?? {}, facts.driver));
    return netId(facts, {
      scheme: this.scheme,
      parentSlots: this.generation !== "legacy",
      ...(this.generation === "v256"
        ? { allow: (attr: string) => namingSysattrAllowed(props, attr) }
        : {}),
    });
  }

  /**
   * What `udevadm test-builtin net_id` prints for the device now: ID_NET_NAMING_SCHEME and the
   * ID_NET_NAME_* names, or null when the
   * device is gone. Side-effect free.
   */
  netIdProperties(ifindex: number): Record<string, string> | null {
    const facts = this.#facts(ifindex);
    if (!facts) return null;
    const props: Record<string, string> = {};
    const names = this.#netIdNames(facts, props);
    return { ...names };
  }

  /**
   * The name udevd would give the device now, as if the kernel had named it (the `keep` policy
   * is not applied to an earlier rename), or null when nothing names it. Without rules files:
   * the first matching .link file's Name=/NamePolicy= (net_id, hwdb, database). With rules
   * files: NAME= as an `add` event's rules leave it (a rule's NAME= wins over the .link name
   * when it runs after 80-net-setup-link.rules; one before it stays, as udev-event.c does).
   * Side-effect free: no altnames, no log, no database. `kernelName` is the name the `add`
   * event carries (KERNEL==, OriginalName=); default: the device's current name.
   */
  predictableName(ifindex: number, kernelName?: string): string | null {
    const facts = this.#facts(ifindex);
    if (!facts) return null;
    const dev = devGetByIndex(this.#w.k, ifindex);
    const ifname = kernelName ?? dev?.name ?? "";
    // Without rules files the name is a function of the facts and the kernel name alone (and of
    // the configuration, which never changes): asked again for equal facts, the answer is the
    // one given then.
    if (!this.#cfg.rules) {
      const memo = this.#nameMemo.get(ifindex);
      if (memo)
        for (const m of memo) if (m.ifname === ifname && sameData(m.facts, facts)) return m.name;
      const name = this.#predictableName(facts, ifname);
      const list = memo ?? [];
      if (list.length >= NAME_MEMO_KEPT) list.pop();
      list.unshift({ facts, ifname, name });
      if (!memo) this.#nameMemo.set(ifindex, list);
      return name;
    }
    return this.#predictableName(facts, ifname);
  }

  /** `predictableName` for these facts and kernel name. */
  #predictableName(facts: NetFacts, ifname: string): string | null {
    const ifindex = facts.ifindex;
    const props: Record<string, string> = {};
    const names = this.#netIdNames(facts, props);
    const fromDb = databaseName(this.#cfg.database ?? {}, facts);
    const dev = devGetByIndex(this.#w.k, ifindex);
    // net_setup_link's choice without its effects (no altnames, no log): ID_NET_NAME and
    // ID_NET_LINK_FILE into `p`, the chosen name returned.
    const setupLink = (p: Record<string, string>): string | null => {
      const link = matchLinkFile(this.#links, facts, ifname, p);
      if (!link) return null;
      p.ID_NET_LINK_FILE = link.path ?? link.file;
      const name = chooseName({
        link,
        names,
        database: fromDb,
        nameAssignType: 0,
        scheme: this.scheme,
        enableNamePolicy: this.#cfg.netIfnames ?? true,
      }).name;
      if (name !== null) p.ID_NET_NAME = name;
      return name;
    };
    if (!this.#cfg.rules) return setupLink(props);
    // With rules files, the name is NAME= as an `add` event's rules leave it (udev-event.c's
    // rename_netif() takes event->name), as in #runRules.
    Object.assign(props, names, {
      ACTION: "add",
      ...(dev ? { DEVPATH: netDevpath(dev) } : {}),
      SUBSYSTEM: "net",
      INTERFACE: ifname,
      IFINDEX: String(ifindex),
    });
    const path = idPath(facts);
    if (path !== undefined) props.ID_PATH = path;
    if (fromDb !== undefined) props.ID_NET_NAME_FROM_DATABASE = fromDb;
    return this.#applyRulesTo("add", ifname, ifindex, facts, props, (p) => {
      setupLink(p);
    }).name;
  }

  /** rename_netif() of systemd v249 … v256. */
  #renameSystemd(
    ev: QueuedEvent,
    dev: NetDevice,
    base: Record<string, string>,
    props: Record<string, string>,
    target: string,
  ): boolean {
    const old = ev.ifname;
    const gen = this.generation;
    if (gen === "v250" && (dev.flags & IFF.UP) !== 0) {
      this.#log(
        "info",
        old,
        `Network interface '${old}' is already up, refusing to rename to '${target}'.`,
        null,
      );
      this.#writeDb(ev, old, props, false);
      return this.#finish(ev, old, true);
    }
    const prev = this.#db.get(ev.ifindex);
    // dev_db_clone: the database as it was before this event's rules ran.
    const snapshot = prev ? { ...prev.properties } : { ...base };
    const saveFirst = gen === "v253" || gen === "v256";
    // v253+: ID_RENAMING is saved to the database before the rtnetlink call.
    if (saveFirst) this.#writeDb(ev, old, snapshot, true);
    // v253 (systemd 252, measured): the new name is dropped from the altnames just before the
    // rename and given back when the rename fails. v249 (systemd 247, measured: its
    // rtnl_set_link_name()) drops it too and never gives it back.
    // v256 (systemd 257's rtnl_set_link_name()) drops and restores it like v253.
    const had = [...dev.altnames];
    const altDropped =
      (gen === "v253" || gen === "v249" || gen === "v256") && dev.altnames.includes(target)
        ? rtnlLinkprop(this.#w.k, { op: "del", ifindex: ev.ifindex, altname: target }).ret === 0
        : false;
    const ret = this.#setName(ev.ifindex, target);
    if (ret !== 0 && altDropped && (gen === "v253" || gen === "v256"))
      rtnlLinkprop(this.#w.k, { op: "add", ifindex: ev.ifindex, altname: target });
    if (ret === 0 && gen === "v256") this.#assignAltnamesV256(ev.ifindex, target, had);
    if (ret === 0) {
      this.#renamed(old, target);
      this.#log(
        "debug",
        target,
        `Network interface ${ev.ifindex} is renamed from '${old}' to '${target}'`,
        null,
      );
      this.#writeDb(ev, target, { ...props, INTERFACE_OLD: old, INTERFACE: target }, true);
      return this.#finish(ev, target, true);
    }
    const e = errnoName(ret) ?? "EINVAL";
    if (saveFirst) {
      // PR #25980: restore the database without ID_RENAMING.
      this.#writeDb(ev, old, snapshot, false);
      if (e === "EBUSY") {
        this.#log(
          "info",
          target,
          `Network interface '${old}' is already up, cannot rename to '${target}'.`,
          "EBUSY",
          this.#cause(old, "EBUSY"),
        );
        // v256: rename_netif() returns 0 after EBUSY, so assign_altnames() follows (the name
        // it failed to give among them)
        if (gen === "v256") this.#assignAltnamesV256(ev.ifindex, old);
        this.#writeDb(ev, old, props, false);
        return this.#finish(ev, old, true);
      }
    }
    this.#log(
      "err",
      target,
      `Failed to rename network interface ${ev.ifindex} from '${old}' to '${target}': ${strerror(e)}`,
      e,
      this.#cause(old, e),
    );
    this.#log("warning", old, `Failed to process device, ignoring: ${strerror(e)}`, e);
    return this.#finish(ev, old, false);
  }

  /** rename_netif() of 2012-2013 udev (SIOCSIFNAME, `_rename` and the 90 s loop). */
  #renameLegacy(job: Job, props: Record<string, string>, target: string): boolean {
    const ev = job.ev;
    const old = ev.ifname;
    this.#log("info", old, `changing net interface name from '${old}' to '${target}'`, null);
    let ret = this.#setName(ev.ifindex, target);
    if (ret === 0) {
      this.#renamed(old, target);
      this.#log("info", target, `renamed network interface ${old} to ${target}`, null);
      this.#writeDb(ev, target, { ...props, INTERFACE_OLD: old, INTERFACE: target }, false);
      return this.#finish(ev, target, true);
    }
    let e = errnoName(ret) ?? "EINVAL";
    if (e !== "EEXIST") {
      this.#log(
        "err",
        old,
        `error changing netif name ${old} to ${target}: ${strerror(e)}`,
        e,
        this.#cause(old, e),
      );
      this.#writeDb(ev, old, props, false);
      return this.#finish(ev, old, true);
    }
    // Free our own name, another process may wait for us.
    const temp = `${old}_rename`.slice(0, 15);
    ret = this.#setName(ev.ifindex, temp);
    if (ret !== 0) {
      e = errnoName(ret) ?? "EINVAL";
      this.#log("err", old, `error changing netif name ${old} to ${temp}: ${strerror(e)}`, e);
      this.#writeDb(ev, old, props, false);
      return this.#finish(ev, old, true);
    }
    job.retry = { from: temp, to: target, triesLeft: LEGACY_RETRY_TRIES };
    job.props = { ...props, INTERFACE: temp, INTERFACE_OLD: old };
    return this.#legacyRetry(job);
  }

  /** One pass of the legacy wait loop: try, and on EEXIST sleep 50 ms. */
  #legacyRetry(job: Job): boolean {
    const ev = job.ev;
    const r = job.retry as LegacyRetry;
    if (r.triesLeft === 0) {
      // The loop ran out: the device keeps its temporary name.
      this.#writeDb(ev, r.from, job.props, false);
      return this.#finish(ev, r.from, true);
    }
    const ret = this.#setName(ev.ifindex, r.to);
    if (ret === 0) {
      this.#renamed(r.from, r.to);
      this.#log("info", r.to, `renamed network interface ${r.from} to ${r.to}`, null);
      this.#writeDb(ev, r.to, { ...job.props, INTERFACE: r.to }, false);
      return this.#finish(ev, r.to, true);
    }
    const e = errnoName(ret) ?? "EINVAL";
    if (e !== "EEXIST") {
      this.#log(
        "err",
        r.from,
        `error changing net interface name ${r.from} to ${r.to}: ${strerror(e)}`,
        e,
      );
      this.#writeDb(ev, r.from, job.props, false);
      return this.#finish(ev, r.from, true);
    }
    r.triesLeft--;
    this.#log(
      "debug",
      r.from,
      `wait for netif '${r.to}' to become free, loop=${LEGACY_RETRY_TRIES - r.triesLeft}`,
      null,
    );
    job.readyAt = this.#w.now() + LEGACY_RETRY_INTERVAL_US;
    return false;
  }
}

/** Freezes a view and everything in it (`Udevd.explorerView` hands the same one to every caller). */
function deepFreezeView(v: UdevdView): void {
  for (const list of [v.queue, v.workers, v.db]) {
    for (const x of list) if (x !== null) Object.freeze(x);
    Object.freeze(list);
  }
  Object.freeze(v);
}

/**
 * A copy of a worker's job for a snapshot: its event shared (events are frozen), its retry loop
 * and properties copied (a job's `readyAt`, `retry` and `props` change while it runs). Jobs share
 * nothing with each other or with the database, so copying them one by one loses no aliasing.
 */
function copyJob(j: Job | null): Job | null {
  if (!j) return null;
  const r = j.retry;
  return {
    ev: j.ev,
    readyAt: j.readyAt,
    retry: r === null ? null : { from: r.from, to: r.to, triesLeft: r.triesLeft },
    props: { ...j.props },
  };
}

function seqText(ev: QueuedEvent): string {
  return ev.seqnum === null ? "" : `SEQNUM=${ev.seqnum}, `;
}
