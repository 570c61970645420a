// One booted model that answers `ip` and hypervisor calls in turn: the state behind
// `ifsim exec` and `ifsim serve`. Each call is atomic (RTNL-like: the model is synchronous and
// the server hands it one call at a time) and ends when every actor is idle again.

import { IpMonitor, IpProcess, type IpResult, parseIpGlobalArgs } from "../ip/index.ts";
import { MachineError, type MachineSpec } from "../machine/index.ts";
import {
  durationMs,
  finishRun,
  type PreparedRun,
  prepareRun,
  RunError,
  type RunRecord,
  runToQuiescence,
} from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { BatchInput } from "./protocol.ts";

/** What a session boots: a scenario (its machine and actors), optionally another machine. */
export interface SessionConfig {
  /** The scenario whose machine, actors and steps boot first (steps run before any call). */
  readonly scenario: ScenarioDoc;
  /** Boots this machine instead of the scenario's `devices:` (a built-in or a machine file). */
  readonly machine: MachineSpec | null;
  /** Overrides the scenario's kernel (default: the scenario's, else 6.18). */
  readonly kernel: string | null;
  /** Overrides the scenario's seed. */
  readonly seed: number | null;
}

/** The kernel a session without --kernel and without a scenario kernel runs (ifsim ip's default). */
export const DEFAULT_SESSION_KERNEL = "6.18";

/** A call after it was resolved by the server: files read, so a replay needs nothing else. */
export type SessionCall =
  | { readonly op: "ip"; readonly argv: readonly string[]; readonly input: BatchInput | null }
  | { readonly op: "hv"; readonly argv: readonly string[] };

/** One call in the session's log. */
export interface CallRecord {
  /** Virtual time the call started and ended, µs. */
  readonly t: number;
  readonly tEnd: number;
  readonly op: "ip" | "hv";
  readonly argv: readonly string[];
  readonly status: number;
}

/** What `ifsim exec --json` prints besides the command's status: the run record and the calls. */
export interface SessionRecord {
  readonly record: RunRecord;
  readonly calls: readonly CallRecord[];
}

const HV_USAGE = `Usage: ifsim-hv plug ID | unplug ID | set-link ID up|down | sleep DURATION | settle
  plug ID        QMP device_add of the machine's device ID (a failover primary may stay hidden)
  unplug ID      QMP device_del of device ID
  set-link ID up|down
                 QMP set_link: the NIC's backend link goes up or down
  sleep DURATION let virtual time pass (500ms, 2s, or milliseconds)
  settle         run until every actor is idle (every call already ends so)
`;

/** A booted model answering calls; build it with `ModelSession.boot`. */
export class ModelSession {
  readonly run: PreparedRun;
  readonly calls: CallRecord[] = [];
  readonly #monitor: IpMonitor;
  readonly #monitorFrom: number;

  private constructor(run: PreparedRun) {
    this.run = run;
    this.#monitor = new IpMonitor(run.k);
    this.#monitorFrom = run.k.trace.length;
  }

  /**
   * Boots the config's machine with its actors and runs until quiescent (the scenario's steps
   * included). Same config → same state.
   *
   * @throws RunError, UnknownKernelError, MachineError for a config the model cannot boot.
   */
  static boot(cfg: SessionConfig): ModelSession {
    const run = prepareRun(cfg.scenario, {
      kernel: cfg.kernel ?? cfg.scenario.kernel ?? DEFAULT_SESSION_KERNEL,
      ...(cfg.seed !== null ? { seed: cfg.seed } : {}),
      ...(cfg.machine !== null ? { machine: cfg.machine } : {}),
    });
    runToQuiescence(run);
    return new ModelSession(run);
  }

  /** Virtual time, µs. */
  now(): number {
    return this.run.clock.now();
  }

  /** Lets every actor run until all are idle: the end of every call. */
  #settle(): void {
    this.run.w.dispatch();
    runToQuiescence(this.run);
  }

  /** Runs one resolved call and logs it. */
  call(c: SessionCall): IpResult {
    const t = this.now();
    const r = c.op === "ip" ? this.#ip(c.argv, c.input) : this.#hv(c.argv);
    this.calls.push({ t, tEnd: this.now(), op: c.op, argv: [...c.argv], status: r.status });
    return r;
  }

  /**
   * `ip ARGV…` as iproute2 6.1 runs it on the model (a fresh process: its own ll_map); a
   * `-batch` file's text comes in `input`. Lines `#ifsim: VERB …` of a batch are hypervisor
   * calls, as in `ifsim ip`.
   */
  #ip(argv: readonly string[], input: BatchInput | null): IpResult {
    const g = parseIpGlobalArgs(argv);
    if ("error" in g) return result("", g.error, g.status);
    const proc = new IpProcess(this.run.k, {
      ...g.opts,
      settle: () => this.#settle(),
      directive: (text) => {
        const r = this.#hv(text.split(/\s+/).filter(Boolean));
        return r.status === 0 ? null : r.stderr.replace(/^ifsim-hv: /, "").trimEnd();
      },
    });
    if (g.batchFile === null) return proc.run(g.rest);
    if (input === null)
      throw new TypeError(`ip -batch "${g.batchFile}": the call carries no batch input`);
    // ip's fopen() opens a directory; its first getline() fails with EISDIR, which ip takes for
    // the end of the file: nothing runs and ip exits 0.
    if (input.kind === "dir") return result("", "", 0);
    if (input.kind === "error")
      return result("", `Cannot open file "${g.batchFile}" for reading: ${input.text}\n`, 1);
    return proc.batch(input.text, g.batchFile);
  }

  /** `ifsim-hv VERB …`: a hypervisor action or virtual time. */
  #hv(argv: readonly string[]): IpResult {
    const [verb, ...args] = argv;
    const fail = (msg: string, status = 1): IpResult => result("", `ifsim-hv: ${msg}\n`, status);
    const usage = (msg: string): IpResult => fail(`${msg}\n${HV_USAGE}`.trimEnd(), 2);
    const m = this.run.machine;
    try {
      switch (verb) {
        case "plug":
        case "unplug": {
          if (args.length !== 1) return usage(`${verb} needs one device id`);
          const id = args[0] as string;
          if (!m.spec.devices.some((d) => d.id === id))
            return fail(
              `the machine has no device "${id}" (its devices: ${m.spec.devices.flatMap((d) => (d.id === undefined ? [] : [d.id])).join(", ") || "none"})`,
            );
          let out = "";
          if (verb === "plug") {
            const r = m.plug(id);
            if (r === "hidden") out = `${id}: hidden (failover pair not negotiated)\n`;
          } else m.unplug(id);
          this.#settle();
          return result(out, "", 0);
        }
        case "set-link":
        case "link": {
          if (args.length !== 2 || (args[1] !== "up" && args[1] !== "down"))
            return usage(`${verb} needs a device id and up or down`);
          m.setLink(args[0] as string, args[1] === "up");
          this.#settle();
          return result("", "", 0);
        }
        case "sleep": {
          if (args.length !== 1) return usage("sleep needs a duration (500ms, 2s or milliseconds)");
          const a = args[0] as string;
          const ms = /^\d+$/.test(a) ? Number(a) : durationMsOrNull(a);
          if (ms === null || !Number.isSafeInteger(ms * 1000) || ms > 86_400_000)
            return usage(`sleep needs a duration of at most a day (500ms, 2s), got "${a}"`);
          this.run.clock.advanceTo(this.now() + ms * 1000);
          this.#settle();
          return result("", "", 0);
        }
        case "settle":
          if (args.length !== 0) return usage("settle takes no argument");
          this.#settle();
          return result("", "", 0);
        case undefined:
        case "help":
        case "--help":
          return result(
            verb === undefined ? "" : HV_USAGE,
            verb === undefined ? HV_USAGE : "",
            verb === undefined ? 2 : 0,
          );
        default:
          return usage(`unknown action "${verb}"`);
      }
    } catch (e) {
      if (e instanceof MachineError || e instanceof RangeError) return fail(e.message);
      if (e instanceof Error && e.name === "PciAddressError") return fail(e.message);
      throw e;
    }
  }

  /** `ip link show` of the current state, as iproute2 6.1 prints it. */
  ipLink(): string {
    return new IpProcess(this.run.k, { settle: () => {} }).run(["link", "show"]).stdout;
  }

  /** The `ip monitor link` lines of every call since boot, with their virtual time. */
  monitorLog(): string {
    const k = this.run.k;
    const saved = this.#monitor.save();
    let out = "";
    for (const e of k.trace.since(this.#monitorFrom)) out += this.#monitor.feed([e]);
    this.#monitor.load(saved);
    return out;
  }

  /** The run record (boot and every call) and the call log. */
  record(): SessionRecord {
    return { record: finishRun(this.run), calls: this.calls.slice() };
  }
}

function durationMsOrNull(a: string): number | null {
  try {
    return durationMs(a);
  } catch (e) {
    if (e instanceof RunError) return null;
    throw e;
  }
}

function result(stdout: string, stderr: string, status: number): IpResult {
  const chunks: IpResult["chunks"] = [];
  if (stdout) chunks.push({ fd: 1, text: stdout });
  if (stderr) chunks.push({ fd: 2, text: stderr });
  return { stdout, stderr, status, chunks };
}
