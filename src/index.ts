// The ifsim library: what `import … from "ifsim"` gives. Four things, each usable from a test
// suite: run a scenario on the model, explore every interleaving of its actors, drive iproute2's
// `ip link` on a model kernel, and read a run record that `ifsim run --json` wrote (model or a
// real-kernel backend). docs/library.md shows a worked vitest example.

import { readFileSync } from "node:fs";
import { z } from "zod";
import type { BackendRunRecord } from "./backends/types.ts";
import {
  type ExploreConfig,
  type ExploreOptions,
  type ExploreResult,
  exploreScenario,
} from "./explore/explore.ts";
import { IpMonitor, IpProcess, type IpResult, parseIpGlobalArgs } from "./ip/index.ts";
import {
  createKernel,
  type Kernel,
  nextWorkDue,
  profileFor,
  runDueWork,
  settleWork,
} from "./kernel/index.ts";
import { BUILTIN_MACHINES, Machine, type MachineSpec } from "./machine/index.ts";
import { parseScenario, ScenarioError } from "./scenario/parse.ts";
import {
  type LinkRecord,
  type RunOptions,
  type RunRecord,
  runScenario,
  splitArgs,
} from "./scenario/run.ts";
import type { ScenarioDoc } from "./scenario/schema.ts";
import { Rng, VirtualClock } from "./sim/index.ts";

export type { BackendRunRecord, BackendStepRecord } from "./backends/types.ts";
export {
  type CexStep,
  type Counterexample,
  type ExploreConfig,
  type ExploreOptions,
  type ExploreResult,
  type ReplayResult,
  replay,
} from "./explore/explore.ts";
export {
  DEFAULT_INVARIANTS,
  INVARIANTS,
  type InvariantName,
} from "./explore/scenario-system.ts";
export type { Violation } from "./explore/system.ts";
export type { IpResult } from "./ip/index.ts";
export { SUPPORTED_KERNELS, UnknownKernelError } from "./kernel/index.ts";
export { BUILTIN_MACHINES, type MachineSpec } from "./machine/index.ts";
export {
  formatIssue,
  type ParseResult,
  parseScenario,
  ScenarioError,
  type ScenarioIssue,
} from "./scenario/parse.ts";
export {
  type ExpectRecord,
  type LinkRecord,
  RunError,
  type RunOptions,
  type RunRecord,
  runScenario,
  type StepRecord,
} from "./scenario/run.ts";
export {
  type DeviceDoc,
  type ExpectDoc,
  type ScenarioDoc,
  type StepDoc,
  scenarioJsonSchema,
} from "./scenario/schema.ts";
export type { TimelineEntry } from "./userspace/world.ts";

/**
 * Parses scenario YAML (the format of docs/scenario-format.md) and validates it.
 * @param text the YAML text
 * @param file the name used in error positions (default "<scenario>")
 * @returns the scenario
 * @throws ScenarioError with every problem, each as "file:line:col: path: what was expected"
 * @example
 * const sc = loadScenario('ifsim: 1\nname: up\nkernel: "6.1"\nsteps: []\n');
 */
export function loadScenario(text: string, file = "<scenario>"): ScenarioDoc {
  const r = parseScenario(text, file);
  if (!r.ok) throw new ScenarioError(r.issues);
  return r.scenario;
}

/**
 * Reads and validates a scenario file.
 * @throws ScenarioError for a bad file; Node's error when it cannot be read
 * @example const sc = readScenarioFile("examples/scenarios/01-seed-race.yaml");
 */
export function readScenarioFile(path: string): ScenarioDoc {
  return loadScenario(readFileSync(path, "utf8"), path);
}

const asDoc = (scenario: ScenarioDoc | string): ScenarioDoc =>
  typeof scenario === "string" ? loadScenario(scenario) : scenario;

/**
 * Runs a scenario on the model, as `ifsim run FILE --json` does: one virtual clock, the kernel's
 * deferred work, udev, bring-up, cloud-init and the steps as actors.
 * @param scenario a parsed scenario or its YAML text
 * @param options kernel and seed overrides (the scenario's own when absent)
 * @returns the run record: steps, timeline, expectations (`ok` when all hold), final links
 * @throws ScenarioError for bad YAML, RunError for a scenario the model cannot run (no kernel),
 *   UnknownKernelError for a kernel version without a profile
 * @example
 * const rec = run(readScenarioFile("examples/scenarios/01-seed-race.yaml"), { kernel: "5.0" });
 * rec.steps[3]?.errno; // "EBUSY"
 */
export function run(scenario: ScenarioDoc | string, options: RunOptions = {}): RunRecord {
  return runScenario(asDoc(scenario), options);
}

/** What `explore` takes: the configuration (kernel, udev, invariants) and the search bounds. */
export type ExploreCall = ExploreConfig & ExploreOptions;

/**
 * Checks every interleaving of a scenario's actors against invariants, as `ifsim explore` does
 * on one thread: source-set DPOR with state hashing and symmetry, then a shortened and shrunk
 * counterexample.
 * @returns `verified`, `violated` (with the counterexample, replayable by `replay`) or `bounded`
 *   (a bound stopped the search: never a proof)
 * @example
 * const r = explore(sc, { kernel: "5.0", invariants: ["no-ebusy-to-udev"], maxStates: 50_000 });
 * if (r.verdict === "violated") console.log(r.counterexample.violation.detail);
 */
export function explore(scenario: ScenarioDoc | string, options: ExploreCall = {}): ExploreResult {
  const { kernel, udev, seed, invariants, timing, ...search } = options;
  const config: ExploreConfig = {
    ...(kernel !== undefined ? { kernel } : {}),
    ...(udev !== undefined ? { udev } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(invariants !== undefined ? { invariants } : {}),
    ...(timing !== undefined ? { timing } : {}),
  };
  return exploreScenario(asDoc(scenario), config, search);
}

/** Options of a model for `ip`. */
export interface IpModelOptions {
  /** Kernel version profile (default "6.18"); see SUPPORTED_KERNELS. */
  readonly kernel?: string;
  /** A machine to boot first: a BUILTIN_MACHINES name or a spec (default: only `lo`). */
  readonly machine?: string | MachineSpec;
  /** Seed of the kernel's RNG (random veth/ifb MACs), default 1. */
  readonly seed?: number;
}

/**
 * A simulated kernel to drive with iproute2's `ip link`, as `ifsim ip` does: each command prints
 * exactly what iproute2 6.1 prints on that kernel version. The kernel persists across commands.
 * @example
 * const m = new IpModel({ kernel: "5.0", machine: "failover-vm" });
 * m.ip("link set dev eth0 up");
 * m.unplug("primary0"); // a live migration: the VF goes and comes back
 * m.plug("primary0");
 * m.ip("link set dev eth3 name ens4").stderr; // "RTNETLINK answers: Device or resource busy\n"
 */
export class IpModel {
  /** The model kernel (plain data; see src/kernel). */
  readonly kernel: Kernel;
  readonly #clock = new VirtualClock();
  readonly #machine: Machine | null;
  readonly #monitor: IpMonitor;
  #cursor: number;

  constructor(o: IpModelOptions = {}) {
    const spec =
      typeof o.machine === "string" ? (BUILTIN_MACHINES[o.machine] ?? null) : (o.machine ?? null);
    if (typeof o.machine === "string" && spec === null)
      throw new RangeError(
        `Unknown machine "${o.machine}": built-ins are ${Object.keys(BUILTIN_MACHINES).join(", ")}`,
      );
    this.kernel = createKernel({
      kernel: profileFor(o.kernel ?? "6.18"),
      clock: this.#clock,
      rng: new Rng(o.seed ?? 1),
      ...(spec ? { cpus: spec.cpus, defaultQdisc: spec.defaultQdisc } : {}),
    });
    this.#machine = spec ? new Machine(this.kernel, spec, (t) => this.#clock.advanceTo(t)) : null;
    this.#machine?.boot();
    this.#monitor = new IpMonitor(this.kernel);
    this.#cursor = this.kernel.trace.length;
  }

  /**
   * Runs one `ip` command line, global options included (`-j`, `-d`, `-br`, …).
   * @param command words, or one line split as a shell would ("link set dev eth0 up")
   * @returns stdout, stderr and exit status as iproute2's (255 usage, 2 kernel error, 1 failed)
   */
  ip(command: string | readonly string[]): IpResult {
    const argv = typeof command === "string" ? splitArgs(command) : [...command];
    const g = parseIpGlobalArgs(argv);
    if ("error" in g) return { stdout: "", stderr: g.error, status: 255, chunks: [] };
    const proc = new IpProcess(this.kernel, { ...g.opts, settle: () => this.settle() });
    if (g.batchFile !== null)
      throw new TypeError("IpModel.ip does not read -batch files: call ip() once per line");
    return proc.run(g.rest);
  }

  /** Lets the kernel's deferred work (linkwatch, driver watchdogs) run until nothing is due. */
  settle(): void {
    settleWork(this.kernel, (t) => this.#clock.advanceTo(t));
  }

  /** Moves the virtual clock `ms` forward, running the work that falls due on the way. */
  sleep(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`sleep needs whole ms, got ${ms}`);
    const until = this.#clock.now() + ms * 1000;
    for (;;) {
      while (runDueWork(this.kernel)) {}
      const due = nextWorkDue(this.kernel);
      if (due === null || due > until) break;
      this.#clock.advanceTo(Math.max(due, this.#clock.now()));
    }
    this.#clock.advanceTo(Math.max(until, this.#clock.now()));
  }

  /** Hot-plugs a device of the machine (QMP device_add), then settles. */
  plug(id: string): void {
    this.#needMachine("plug").plug(id);
    this.settle();
  }

  /** Hot-unplugs a device of the machine (device_del), then settles. */
  unplug(id: string): void {
    this.#needMachine("unplug").unplug(id);
    this.settle();
  }

  /** Sets a device's backend link (QEMU set_link), then settles. */
  setLink(id: string, up: boolean): void {
    this.#needMachine("setLink").setLink(id, up);
    this.settle();
  }

  /** The `ip monitor link` records since the model was made or monitor() last called. */
  monitor(): string {
    const text = this.#monitor.feed(this.kernel.trace.since(this.#cursor));
    this.#cursor = this.kernel.trace.length;
    return text;
  }

  /** The kernel log lines so far (boot included), without timestamps. */
  dmesg(): string[] {
    const out: string[] = [];
    for (const e of this.kernel.trace.since(0)) if (e.type === "kernel.log") out.push(e.text);
    return out;
  }

  #needMachine(what: string): Machine {
    if (!this.#machine) throw new TypeError(`${what} needs a machine (new IpModel({ machine }))`);
    return this.#machine;
  }
}

const LinkSchema = z.object({
  ifindex: z.number().int(),
  ifname: z.string(),
  flags: z.array(z.string()),
  mtu: z.number(),
  operstate: z.string(),
  address: z.string(),
  master: z.string().nullable(),
  portname: z.string().nullable(),
  name_assign_type: z.number().int(),
});

const RecordSchema = z.looseObject({
  scenario: z.string(),
  backend: z.string(),
  kernel: z.string(),
  steps: z.array(
    z.looseObject({
      index: z.number().int(),
      step: z.string(),
      ok: z.boolean(),
      errno: z.string().nullable(),
      message: z.string().nullable(),
      events: z.array(z.string()),
    }),
  ),
  links: z.array(LinkSchema),
  expectations: z
    .array(z.looseObject({ expect: z.string(), ok: z.boolean(), detail: z.string() }))
    .optional(),
});

/** A run record read back: the fields every backend writes, plus the model's when present. */
export type RecordedRun = BackendRunRecord & {
  readonly expectations?: readonly { expect: string; ok: boolean; detail: string }[];
} & Partial<Omit<RunRecord, keyof BackendRunRecord | "expectations">>;

/**
 * Reads what `ifsim run FILE --json` printed (one record; with several --kernel, a list), on the
 * model or on a backend (netns, qemu), and checks its shape.
 * @param json the JSON text
 * @returns the records, always as a list
 * @throws SyntaxError for text that is not JSON; TypeError naming the first bad field
 * @example
 * const [rec] = readRunRecords(readFileSync("run.json", "utf8"));
 * rec?.steps.find((s) => !s.ok)?.errno; // "EBUSY"
 */
export function readRunRecords(json: string): RecordedRun[] {
  const doc: unknown = JSON.parse(json);
  const list = Array.isArray(doc) ? doc : [doc];
  return list.map((d, i) => {
    const r = RecordSchema.safeParse(d);
    if (!r.success) {
      const iss = r.error.issues[0];
      const at = [Array.isArray(doc) ? `[${i}]` : "", ...(iss?.path ?? []).map(String)]
        .filter(Boolean)
        .join(".");
      throw new TypeError(
        `Not an ifsim run record: ${at || "(top)"}: ${iss?.message ?? "invalid"}`,
      );
    }
    return d as RecordedRun;
  });
}

/** The final link named `name` of a record, or undefined. */
export function linkNamed(rec: { readonly links: readonly LinkRecord[] }, name: string) {
  return rec.links.find((l) => l.ifname === name);
}
