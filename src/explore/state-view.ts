// The explorer's declared state view (issue 14, items 2 and 3): which parts of the model's time
// go into a state's key, and in which form.
//
// Under `--timing any` every ready lane may go next whatever its virtual time; firing a lane
// moves the clock to its due time when that is later than now. What the model's future then
// depends on (read from the code paths that compare times):
//
// - the kernel's work queue: the kernel lane runs the earliest due item (due, then queue
//   order); items are queued at now + a delay, so a future item's exact distance from now
//   decides where new items land relative to it. Items already due keep only their order.
// - linkwatch's next time (`linkwatch_nextevent`): compared with now (urgent-only run) and with
//   now + HZ; a delay below 0 is clamped to 0. Once it is not after now, every value behaves the
//   same (the clock never moves back): the view keeps max(0, next − now).
// - every actor's due time (each udev worker, bring-up, the script, QEMU, cloud-init): firing
//   the lane moves the clock there, which shifts every other timer relative to now. A due time
//   not after now moves nothing: kept as 0. udevd's queued events' delivery times bound when
//   their worker can start (max with now): same form. Its last delivery time holds back the
//   next event's delivery only when later than now + the delivery latency: kept as that excess.
// - bring-up picks the earliest due pending link (ties: lower ifindex) whether or not that time
//   has passed: the view keeps the order of those times (past ones as ranks, ties kept).
//
// Every future due time is at most now + the largest delay any step adds (linkwatch's 1 s, udev's
// latencies, a sleep, a driver's delay), because timers are only ever created at now + a
// delay and now never moves back: the relative values are bounded, and extrapolating past
// that constant (UPPAAL-style) is exactly the "not after now → 0 / rank" rule above.
//
// The absolute clock is in no key (in either view): it only shows in the trace and the
// timeline of a counterexample, which are replayed from the path, never from a merged state.
//
// Views:
// - "coarse": the key as before issue 14: work items relative to now, linkwatch's next time
//   relative to now even when past (so it tells apart states that behave the same), and no
//   actor due times at all (so it merges states whose actors are due at different times, whose
//   futures may differ: docs/performance.md has what the self-test finds).
// - "exact" (the default: see DEFAULT_VIEW): the form above.
// - "untimed" (measurement only: not accepted by `ifsim explore`): no time at all, only the
//   order of the pending kernel work. It merges states whose timers differ, so it is not sound
//   (the self-test finds equal keys with different footprints); a search under it counts the
//   states a perfect abstraction of time could leave at best, which tells how much of the
//   growth per failover pair time explains (docs/performance.md, "Without time").

import type { PreparedRun } from "../scenario/run.ts";

/**
 * Which state view the key uses. "free" is the view of the free timing (`timing: "free"`), set
 * with it and never on its own: no time at all, each kind of kernel work's items in the order
 * they will run (their kinds in name order), linkwatch's list and urgent flag.
 */
export type StateView = "coarse" | "exact" | "untimed" | "free";

/** The views `ifsim explore --view` takes. */
export const STATE_VIEWS: readonly StateView[] = ["coarse", "exact"];

/**
 * Every view, the measurement-only "untimed" included (tools/state-view/*); "free" there stands
 * for free timing, whose view it is.
 */
export const MEASUREMENT_VIEWS: readonly StateView[] = ["coarse", "exact", "untimed", "free"];

/**
 * The default view: "exact". "coarse" merges states whose futures differ (the self-test finds
 * such pairs on the boot race and the seed race), so a verdict under it is not a proof; "exact"
 * has none, and with the clock in DPOR's footprints every independent pair commutes under it.
 * It keeps 1.7x the states of "coarse" on the one-pair boot race, at about the same CPU.
 */
export const DEFAULT_VIEW: StateView = "exact";

/** The timers' part of a key: plain JSON (canonicalised under symmetry by the caller). */
export interface TimerKey {
  readonly work: unknown[];
  readonly linkwatch: unknown;
  /** The actors' due times ("exact" only; null in "coarse"). */
  readonly times: unknown;
  /** Per udev worker: its key text (the worker's job, with its due time under "exact"). */
  readonly workers: string[];
}

/** A due time relative to now, 0 when it is not after now, null when there is none. */
function rel(t: number | null | undefined, now: number): number | null {
  if (t === null || t === undefined) return null;
  return t > now ? t - now : 0;
}

/** The script's own state, times relative to now (see `timerKey`). */
function scriptState(p: PreparedRun, now: number): unknown {
  const v = p.script.explorerView?.();
  if (v === undefined) return null;
  return {
    ...v,
    wait: v.wait && { kind: v.wait.kind, until: rel(v.wait.until, now) },
    settleSince: v.settleSince === null ? null : v.settleSince - now,
  };
}

/**
 * The timers of the run's current state in the given view. `workerTexts`, when given, are the
 * udev workers' texts as the views but "exact" key them (`JSON.stringify` of each worker of
 * udevd's `explorerView()`, in order), made already by the caller.
 */
export function timerKey(
  p: PreparedRun,
  view: StateView,
  workerTexts?: readonly string[],
): TimerKey {
  const now = p.w.now();
  const k = p.k;
  const lw = k.state.linkwatch;
  const texts = view !== "exact" && workerTexts !== undefined ? [...workerTexts] : undefined;
  const uv = texts === undefined ? p.udev?.explorerView() : undefined;
  if (view === "free") {
    // Per kind, the order its items run in (due, then queue order); across kinds no order.
    const byKind = [...k.state.work]
      .sort(
        (a, b) =>
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.due - b.due || a.seq - b.seq,
      )
      .map((x) => [x.name, x.arg ?? null]);
    const sv = p.script.explorerView?.();
    return {
      work: byKind,
      linkwatch: { list: lw.list, urgent: lw.urgent },
      // The script's own state without its times (a sleep in progress ends at any time), and
      // what QEMU's migration job's next steps read (its stage, the primaries ejected so far).
      times: {
        script: sv ? { ...sv, wait: sv.wait && { kind: sv.wait.kind }, settleSince: null } : null,
        qemuJob: p.qemu.explorerView?.() ?? null,
      },
      workers: texts ?? (uv ? uv.workers.map((j) => JSON.stringify(j)) : []),
    };
  }
  const work = [...k.state.work]
    .sort((a, b) => a.due - b.due || a.seq - b.seq)
    .map((x, i) => [x.name, x.arg ?? null, x.due <= now ? `o${i}` : x.due - now]);
  if (view === "untimed")
    return {
      work: work.map((x) => [x[0], x[1]]),
      linkwatch: { ...lw, nextEvent: null },
      times: null,
      workers: texts ?? (uv ? uv.workers.map((j) => JSON.stringify(j)) : []),
    };
  if (view === "coarse") {
    return {
      work,
      linkwatch: { ...lw, nextEvent: typeof lw.nextEvent === "number" ? lw.nextEvent - now : null },
      times: null,
      workers: texts ?? (uv ? uv.workers.map((j) => JSON.stringify(j)) : []),
    };
  }
  const linkwatch = { ...lw, nextEvent: rel(lw.nextEvent, now) };
  const workers = uv
    ? uv.workers.map((j, i) =>
        JSON.stringify(j === null ? null : { ...j, at: rel(p.udev?.workerReadyAt(i), now) }),
      )
    : [];
  const ut = p.udev?.explorerTimes?.();
  // Bring-up: pending links in pick order; past due times as dense ranks (ties kept).
  let bringup: unknown[] | null = null;
  if (p.bringup) {
    const seen = p.bringup.explorerTimes().sort((a, b) => a.at - b.at || a.ifindex - b.ifindex);
    let rank = -1;
    let last: number | null = null;
    bringup = seen.map((x) => {
      if (x.at > now) return { ifindex: x.ifindex, at: x.at - now };
      if (x.at !== last) rank++;
      last = x.at;
      return { ifindex: x.ifindex, at: `p${rank}` };
    });
  }
  const times = {
    udevQueue: ut ? ut.queue.map((t) => rel(t, now)) : null,
    // An event sent now is delivered at now + latency (+ jitter) or at the last delivery,
    // whichever is later (events are sent at the step's now: the clock moves only before a
    // step): a last delivery not after now + latency holds nothing back.
    udevLast: ut ? rel(ut.lastDeliverAt - ut.deliveryLatency, now) : null,
    bringup,
    script: rel(p.script.readyAt(), now),
    // Not only times: the script's wait (a sleep in progress and one that ended look alike in
    // the resources), its held outcome and its step results (what `expect: step` checks).
    // A settle's start stays exact relative to now (a quiet time counts from it).
    scriptState: scriptState(p, now),
    qemu: rel(p.qemu.readyAt(), now),
    // Not a time, but what QEMU's next steps read (stage, primaries ejected so far): the
    // resources key only whether its job is ready. Kept here, so the coarse key stays as it was.
    qemuJob: p.qemu.explorerView?.() ?? null,
    probe: p.probe ? rel(p.probe.readyAt(), now) : null,
  };
  return { work, linkwatch, times, workers };
}

/**
 * Every timer of the run by holder (a work item by its sequence number, linkwatch's next time,
 * each udev worker, each queued uevent by arrival, udevd's last delivery, each link bring-up has
 * seen, the script's wait and settle start), as absolute times. A step after which a holder is
 * new or holds another time computed it from the clock (timers are only ever set to now + a
 * delay, or to the max of now and another time): `clockReads` compares two of these.
 */
export function timerHolders(p: PreparedRun): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of p.k.state.work) out.set(`w${x.seq}`, x.due);
  out.set("lw", p.k.state.linkwatch.nextEvent);
  const u = p.udev;
  if (u)
    for (let i = 0; i < u.workerCount; i++) {
      const t = u.workerReadyAt(i);
      if (t !== null) out.set(`u${i}`, t);
    }
  const ut = u?.explorerTimes?.();
  if (ut) {
    // Queued events by delivery time (taking the first one off shifts the others' positions).
    const n = new Map<number, number>();
    for (const t of ut.queue) {
      const c = (n.get(t) ?? 0) + 1;
      n.set(t, c);
      out.set(`q${t}#${c}`, t);
    }
    out.set("ul", ut.lastDeliverAt);
  }
  if (p.bringup) for (const x of p.bringup.explorerTimes()) out.set(`b${x.ifindex}`, x.at);
  const s = p.script.explorerView?.();
  if (s?.wait?.until !== null && s?.wait?.until !== undefined) out.set("sw", s.wait.until);
  if (s?.settleSince !== null && s?.settleSince !== undefined) out.set("ss", s.settleSince);
  return out;
}

/** True when a holder of `after` is new or holds another time than in `before`. */
export function clockReads(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): boolean {
  for (const [h, t] of after) if (before.get(h) !== t) return true;
  return false;
}
