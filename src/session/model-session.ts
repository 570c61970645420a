// One booted model that answers `ip` and hypervisor calls in turn: the state behind
// `ifsim exec` and `ifsim serve`. Each call is atomic (RTNL-like: the model is synchronous and
// the server hands it one call at a time) and ends when every actor is idle again.

import { IpMonitor, IpProcess, type IpResult, parseIpGlobalArgs } from "../ip/index.ts";
import { MachineError, type MachineSpec } from "../machine/index.ts";
import {
  finishRun,
  type PreparedRun,
  prepareRun,
  type RunRecord,
  runToQuiescence,
} from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { hvFail, parseHv } from "./hv.ts";
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
  /**
   * `ifsim serve --backend qemu`: the session is a QEMU guest (qemu-serve.ts), not the model.
   * Absent for the model, so a model session's saved config is as before.
   */
  readonly backend?: "qemu";
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
    const a = parseHv(argv);
    if ("output" in a) return a.output;
    const m = this.run.machine;
    try {
      switch (a.verb) {
        case "plug":
        case "unplug": {
          if (!m.spec.devices.some((d) => d.id === a.id))
            return hvFail(
              `the machine has no device "${a.id}" (its devices: ${m.spec.devices.flatMap((d) => (d.id === undefined ? [] : [d.id])).join(", ") || "none"})`,
            );
          let out = "";
          if (a.verb === "plug") {
            const r = m.plug(a.id);
            if (r === "hidden") out = `${a.id}: hidden (failover pair not negotiated)\n`;
          } else m.unplug(a.id);
          this.#settle();
          return result(out, "", 0);
        }
        case "set-link":
          m.setLink(a.id, a.up);
          this.#settle();
          return result("", "", 0);
        case "sleep":
          this.run.clock.advanceTo(this.now() + a.ms * 1000);
          this.#settle();
          return result("", "", 0);
        case "settle":
          this.#settle();
          return result("", "", 0);
      }
    } catch (e) {
      if (e instanceof MachineError || e instanceof RangeError) return hvFail(e.message);
      if (e instanceof Error && e.name === "PciAddressError") return hvFail(e.message);
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

function result(stdout: string, stderr: string, status: number): IpResult {
  const chunks: IpResult["chunks"] = [];
  if (stdout) chunks.push({ fd: 1, text: stdout });
  if (stderr) chunks.push({ fd: 2, text: stderr });
  return { stdout, stderr, status, chunks };
}
