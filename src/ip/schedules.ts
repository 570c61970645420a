// The outcomes of one `ip -batch` run over the kernel model under every schedule of the kernel's
// deferred work (linkwatch), and a search for the schedule that gives an observed outcome.
//
// `ifsim ip` settles deferred work after each command: the outcome of a quiet machine. On a real
// kernel the linkwatch work runs on a workqueue and waits for RTNL, so on a loaded machine it
// runs later: between any two rtnetlink requests of the batch, or after it. The search replays
// the batch, branching wherever work is pending as a request is about to take RTNL (run it now,
// or leave it for later), and prunes a branch as soon as its `ip monitor link` records stop
// being a prefix of the observed ones.

import {
  createKernel,
  type Kernel,
  nextWorkDue,
  profileFor,
  runDueWork,
  settleWork,
} from "../kernel/index.ts";
import { Rng, VirtualClock } from "../sim/index.ts";
import { IpProcess, parseIpGlobalArgs } from "./ip.ts";
import { IpMonitor } from "./monitor.ts";

/** What one `ip -batch` run printed, and the `ip monitor link` records it caused. */
export interface BatchOutcome {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly monitor: string;
}

/** What to search. */
export interface BatchSearch {
  /** Kernel profile of the model (default 6.18, the host kernel of the differential tests). */
  readonly kernel?: string;
  /** `ip`'s global options before `-batch` (e.g. `["-force"]`). */
  readonly global: readonly string[];
  /** The batch file's text and the name it has in "Command failed FILE:LINE". */
  readonly text: string;
  readonly fileName: string;
  /**
   * Normalises an outcome's text fields before comparing (e.g. random MACs to placeholders by
   * first appearance; it must map a prefix of a text to a prefix of its image).
   */
  readonly normalise?: (text: string) => string;
  /** Replays at most this many runs (default 20 000). */
  readonly maxRuns?: number;
}

/** A schedule: at each choice point in order, the option taken (see CHOICES). */
export type Schedule = readonly Choice[];

/**
 * Options where deferred work is pending as a request is about to take RTNL: `run` settles it
 * (moving the virtual clock to a delayed item's due time, as `ifsim ip` does after a command),
 * `due` runs only what is due now (the once-a-second linkwatch batch still waits), `defer`
 * leaves it for later. The first schedule tried is `run` everywhere: `ifsim ip`'s outcome.
 */
export type Choice = "run" | "due" | "defer";

/** The result of a search. */
export interface ScheduleFound {
  /** The schedule that reproduces the observed outcome, or null. */
  readonly schedule: Schedule | null;
  /** Whether every schedule was tried (false: the run limit stopped the search). */
  readonly exhausted: boolean;
  /** Replays made. */
  readonly runs: number;
}

class Branch {
  readonly options: readonly Choice[];
  readonly monitor: string;
  constructor(options: readonly Choice[], monitor: string) {
    this.options = options;
    this.monitor = monitor;
  }
}

/** The options at a choice point (none when no work is pending). */
function optionsAt(k: Kernel): Choice[] {
  const next = nextWorkDue(k);
  if (next === null) return [];
  const now = k.clock.now();
  const due = k.state.work.some((w) => w.due <= now);
  const later = k.state.work.some((w) => w.due > now);
  if (due && later) return ["run", "due", "defer"];
  return ["run", "defer"];
}

/**
 * Replays the batch under `schedule`; at the first choice point past its end, throws a Branch
 * (or, with `after`, takes that option there and everywhere after).
 */
function replay(o: BatchSearch, schedule: Schedule, after: Choice | null): BatchOutcome | Branch {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: profileFor(o.kernel ?? "6.18"), clock, rng: new Rng(1) });
  const mon = new IpMonitor(k);
  let cursor = k.trace.length;
  let monitor = "";
  const feed = (): void => {
    monitor += mon.feed(k.trace.since(cursor));
    cursor = k.trace.length;
  };
  const settle = (): void => {
    settleWork(k, (t) => clock.advanceTo(t));
  };
  let point = 0;
  const hook = (kk: Kernel): void => {
    const options = optionsAt(kk);
    if (options.length === 0) return;
    let c: Choice;
    if (point < schedule.length) c = schedule[point] as Choice;
    else if (after !== null) c = after;
    else {
      feed();
      throw new Branch(options, monitor);
    }
    point++;
    // Run the work outside the hook: work that queries a device must not branch again.
    kk.registry.beforeRtnl = null;
    try {
      if (c === "run") settle();
      else if (c === "due") while (runDueWork(kk)) {}
    } finally {
      kk.registry.beforeRtnl = hook;
    }
  };
  k.registry.beforeRtnl = hook;
  const g = parseIpGlobalArgs([...o.global, "-batch", o.fileName]);
  if ("error" in g)
    throw new TypeError(`batch schedules: bad global options ${o.global.join(" ")}`);
  const proc = new IpProcess(k, { ...g.opts, settle: () => {} });
  try {
    const r = proc.batch(o.text, o.fileName);
    k.registry.beforeRtnl = null;
    settle();
    feed();
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, monitor };
  } catch (e) {
    if (e instanceof Branch) return e;
    throw e;
  }
}

/**
 * The outcome of the batch under `schedule`, taking `after` at every choice point past its end:
 * `batchOutcome(o)` is `ifsim ip`'s, `batchOutcome(o, [], "defer")` a machine whose workqueue
 * does not run until the batch has ended.
 */
export function batchOutcome(
  o: BatchSearch,
  schedule: Schedule = [],
  after: Choice = "run",
): BatchOutcome {
  return replay(o, schedule, after) as BatchOutcome;
}

/**
 * Searches the schedules of the batch's deferred work for one whose outcome is `want` (status,
 * stdout, stderr and monitor records, each normalised), depth first, `run` before `due` before
 * `defer` at each point.
 */
export function findSchedule(o: BatchSearch, want: BatchOutcome): ScheduleFound {
  const norm = o.normalise ?? ((t: string) => t);
  const target = {
    status: want.status,
    stdout: norm(want.stdout),
    stderr: norm(want.stderr),
    monitor: norm(want.monitor),
  };
  const max = o.maxRuns ?? 20_000;
  const stack: Schedule[] = [[]];
  let runs = 0;
  while (stack.length > 0) {
    if (runs >= max) return { schedule: null, exhausted: false, runs };
    const s = stack.pop() as Schedule;
    const r = replay(o, s, null);
    runs++;
    if (r instanceof Branch) {
      if (!target.monitor.startsWith(norm(r.monitor))) continue;
      for (let i = r.options.length - 1; i >= 0; i--) stack.push([...s, r.options[i] as Choice]);
      continue;
    }
    if (
      r.status === target.status &&
      norm(r.stdout) === target.stdout &&
      norm(r.stderr) === target.stderr &&
      norm(r.monitor) === target.monitor
    )
      return { schedule: s, exhausted: false, runs };
  }
  return { schedule: null, exhausted: true, runs };
}
