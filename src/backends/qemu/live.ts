// A guest that stays up and answers one call at a time: the real kernel behind
// `ifsim exec --backend qemu`. Each `ip` call runs the guest's iproute2 (the same 6.1 build as
// the model's `ip`) with the caller's argv, and each hypervisor action is the scenario step the
// qemu backend already runs (QMP device_add / device_del / set_link, a sleep in the guest). Every
// call ends when the guest is quiescent again, by the settle rule of run.ts.

import { posix } from "node:path";
import type { ScenarioDoc, StepDoc } from "../../scenario/schema.ts";
import {
  dmesgLines,
  execStep,
  lines,
  type QemuRunOptions,
  type StartedGuest,
  settleGuest,
  startGuest,
} from "./run.ts";

/** What a batch file named on an `ip` command line was on the caller's side. */
export type GuestBatch =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "dir" }
  | { readonly kind: "error"; readonly text: string };

/** One `ip` call as the guest's iproute2 ran it. */
export interface GuestIpResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

/** One hypervisor step's outcome. */
export interface GuestStepResult {
  readonly ok: boolean;
  /** QEMU's or the guest's reason when it failed. */
  readonly message: string | null;
  /** Whether a plugged failover primary stays hidden (its standby has not negotiated). */
  readonly hidden: boolean;
}

/** Shell-quotes one word for the agent's `eval` (busybox ash). */
function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A running guest; `start` boots it, `stop` powers it off. */
export class LiveGuest {
  readonly #g: StartedGuest;
  readonly #log: (l: string) => void;
  /** Every `ip monitor link` line since the calls started. */
  readonly monitor: string[] = [];
  /** Every kernel log line (boot first). */
  readonly dmesg: string[];
  #stopped = false;

  private constructor(g: StartedGuest, log: (l: string) => void) {
    this.#g = g;
    this.#log = log;
    this.dmesg = [...g.bootDmesg];
  }

  /**
   * Boots `sc`'s machine (refused as runOnQemu refuses it) and runs its steps; the guest is
   * quiescent when this resolves. The steps' outcomes are in `steps`.
   * @throws BackendRefusal for what the backend cannot run.
   */
  static async start(
    sc: ScenarioDoc,
    o: QemuRunOptions = {},
  ): Promise<{ guest: LiveGuest; steps: GuestStepResult[] }> {
    const log = o.log ?? (() => {});
    const g = await startGuest(sc, o);
    const guest = new LiveGuest(g, log);
    try {
      const steps: GuestStepResult[] = [];
      for (const s of sc.steps) steps.push(await guest.step(s));
      return { guest, steps };
    } catch (e) {
      await guest.stop();
      throw e;
    }
  }

  /** The guest's `uname -r`. */
  get kernel(): string {
    return this.#g.prepared.kver;
  }

  /** ms from QEMU start until the guest was quiescent after boot. */
  get readyMs(): number {
    return this.#g.readyMs;
  }

  /** The machine's device ids. */
  get deviceIds(): string[] {
    return this.#g.layout.nics.map((n) => n.id);
  }

  /**
   * `ip ARGV…` in the guest with the caller's working directory (created in the guest's
   * tmpfs), a batch file (recreated at the same path) and standard input; then settles.
   */
  async ip(
    argv: readonly string[],
    o: { cwd: string; batch?: { path: string; input: GuestBatch } | null; stdin?: string | null },
  ): Promise<GuestIpResult> {
    const b64 = (t: string): string => Buffer.from(t, "utf8").toString("base64");
    const pre: string[] = [`mkdir -p ${shq(o.cwd)}`, `cd ${shq(o.cwd)}`];
    const post: string[] = [];
    const batch = o.batch ?? null;
    if (batch !== null && batch.path !== "-") {
      const abs = posix.resolve(o.cwd, batch.path);
      if (batch.input.kind === "dir") pre.push(`mkdir -p ${shq(abs)}`);
      else if (batch.input.kind === "text") {
        pre.push(`mkdir -p ${shq(posix.dirname(abs))}`);
        pre.push(`echo ${b64(batch.input.text) || "''"} | base64 -d > ${shq(abs)}`);
        post.push(`rm -f ${shq(abs)}`);
      }
    }
    const stdin =
      o.stdin !== undefined && o.stdin !== null
        ? `echo ${b64(o.stdin) || "''"} | base64 -d | `
        : "";
    const redirect = stdin === "" ? " < /dev/null" : "";
    const line = [
      ...pre,
      `${stdin}/usr/sbin/ip ${argv.map(shq).join(" ")}${redirect}`,
      "rc=$?",
      ...post,
      "cd /",
      "(exit $rc)",
    ].join("\n");
    // The agent's request line carries base64 (one word, no newline).
    const r = await this.#g.vm.request("exec", [b64(line)]);
    this.#take(r);
    await this.#settle();
    return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: Number(r.rc) };
  }

  /** A hypervisor action or a sleep: the scenario step, run as the qemu backend runs it. */
  async step(s: StepDoc): Promise<GuestStepResult> {
    const { rec, dmesg } = await execStep(this.#g.vm, this.#g.hv, s, this.#log);
    this.monitor.push(...rec.events);
    this.dmesg.push(...dmesg);
    const id = typeof s === "object" && "plug" in s ? s.plug : null;
    return {
      ok: rec.ok,
      message: rec.message,
      hidden: id !== null && rec.ok && this.#g.hv.hidden.has(id),
    };
  }

  /**
   * A shell command line in the guest (busybox ash, as root); no settle afterwards. For tools
   * that measure the guest (tools/qemu-capture/dhcp-leases.ts), not for the session's calls.
   */
  async sh(line: string): Promise<GuestIpResult> {
    const r = await this.#g.vm.request("exec", [Buffer.from(line).toString("base64")]);
    this.#take(r);
    return { stdout: r.stdout ?? "", stderr: r.stderr ?? "", status: Number(r.rc) };
  }

  /** `ip link show` of the guest now (iproute2's text). */
  async linkShow(): Promise<string> {
    const line = "/usr/sbin/ip link show < /dev/null";
    const r = await this.#g.vm.request("exec", [Buffer.from(line).toString("base64")]);
    this.#take(r);
    return r.stdout ?? "";
  }

  async #settle(): Promise<void> {
    const q = await settleGuest(this.#g.vm, this.#g.hv, this.#log);
    this.monitor.push(...q.mon);
    this.dmesg.push(...q.dmesg);
  }

  #take(r: Record<string, string>): void {
    this.monitor.push(...lines(r.mon));
    this.dmesg.push(...dmesgLines(r.dmesg));
  }

  /** Powers the guest off (idempotent). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#g.vm.stop();
  }
}
