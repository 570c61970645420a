// The qemu guest behind `ifsim exec --backend qemu`: the same calls as a ModelSession (`ip` and
// `ifsim-hv`), answered by Debian's real 6.1 kernel in a QEMU q35 guest. The script runs on the
// host with the same shims; each `ip` call runs the guest's iproute2 with the caller's argv and
// each hypervisor action is a QMP command (backends/qemu/live.ts). Every call ends once the
// guest is quiescent, as every model call ends once its actors are idle (docs/exec.md).

import { LiveGuest } from "../backends/qemu/index.ts";
import { IP_OBJECTS, type IpResult, parseIpGlobalArgs } from "../ip/index.ts";
import type { MachineSpec } from "../machine/index.ts";
import { machineOf } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { hvFail, hvOutput, parseHv } from "./hv.ts";
import type { SessionCall } from "./model-session.ts";
import { scenarioWithMachine } from "./qemu-machine.ts";

/** The longest `ifsim-hv sleep` on the qemu backend, ms: it is real time there. */
export const QEMU_MAX_SLEEP_MS = 600_000;

/** One call in the guest session's log (wall time since the guest was ready, ms). */
export interface QemuCallRecord {
  readonly ms: number;
  readonly msEnd: number;
  readonly op: "ip" | "hv";
  readonly argv: readonly string[];
  readonly status: number;
}

/** Thrown for a boot request the qemu backend cannot meet (the user's to fix). */
export class QemuSessionError extends Error {
  override readonly name = "QemuSessionError";
}

/** What a qemu session boots. */
export interface QemuSessionConfig {
  readonly scenario: ScenarioDoc;
  readonly machine: MachineSpec | null;
  readonly kernel: string | null;
}

/** Why `ip ARGV…` cannot be run faithfully in the guest session, or null. */
export function qemuIpProblem(argv: readonly string[], batch: string | null): string | null {
  const g = parseIpGlobalArgs(argv);
  if ("error" in g) return null; // the guest's ip prints its own usage error
  const obj = g.rest[0];
  if (obj !== undefined && IP_OBJECTS.find((o) => o.startsWith(obj) && obj !== "") === "monitor")
    return '"ip monitor" runs until it is killed and the guest answers one call at a time: use ifsim exec --monitor (the monitor of the whole run)';
  if (batch !== null && /^[ \t]*#ifsim:/m.test(batch))
    return "a -batch file's #ifsim: lines are hypervisor calls of the model only (the guest's ip reads them as comments): call ifsim-hv between two ip -batch calls";
  return null;
}

/** A booted guest answering calls in turn; build it with `QemuSession.boot`. */
export class QemuSession {
  readonly guest: LiveGuest;
  readonly calls: QemuCallRecord[] = [];
  /** Device ids as the model's machine lists them (for the same "no device" message). */
  readonly #modelIds: string[];
  readonly #t0 = Date.now();

  private constructor(guest: LiveGuest, modelIds: string[]) {
    this.guest = guest;
    this.#modelIds = modelIds;
  }

  /**
   * Boots the guest (the scenario's steps run first) and waits until it is quiescent.
   * @throws QemuSessionError for a machine the guest cannot be built from, BackendRefusal for
   *   what the backend refuses (a kernel other than 6.1, a bring-up actor, …).
   */
  static async boot(
    cfg: QemuSessionConfig,
    log: (l: string) => void,
    vm: { readonly onSpawn?: (pid: number) => void } = {},
  ): Promise<QemuSession> {
    let sc = cfg.scenario;
    let modelIds: string[];
    if (cfg.machine !== null) {
      const m = scenarioWithMachine(sc, cfg.machine);
      if ("error" in m) throw new QemuSessionError(m.error);
      const udev = sc.udev !== undefined && sc.udev !== "none";
      if (udev && m.moved.length > 0)
        throw new QemuSessionError(
          `the guest cannot put ${m.moved.map((x) => `${x.id} at ${x.machine} (it would be at ${x.guest})`).join(", ")}: udev's path names would differ from the model's; give a scenario FILE.yaml instead`,
        );
      sc = m.scenario;
      modelIds = cfg.machine.devices.flatMap((d) => (d.id === undefined ? [] : [d.id]));
    } else modelIds = machineOf(sc).devices.flatMap((d) => (d.id === undefined ? [] : [d.id]));
    const { guest, steps } = await LiveGuest.start(sc, { kernel: cfg.kernel, log, vm });
    for (const [i, s] of steps.entries())
      if (!s.ok) log(`scenario step ${i + 1} failed: ${s.message ?? "?"}`);
    return new QemuSession(guest, modelIds);
  }

  /** Runs one call in the guest and logs it. */
  async call(c: SessionCall): Promise<IpResult> {
    const ms = Date.now() - this.#t0;
    const r = c.op === "ip" ? await this.#ip(c) : await this.#hv(c.argv);
    this.calls.push({
      ms,
      msEnd: Date.now() - this.#t0,
      op: c.op,
      argv: [...c.argv],
      status: r.status,
    });
    return r;
  }

  async #ip(c: Extract<SessionCall, { op: "ip" }>): Promise<IpResult> {
    const g = parseIpGlobalArgs(c.argv);
    const batchFile = "error" in g ? null : g.batchFile;
    const text = c.input?.kind === "text" ? c.input.text : null;
    const why = qemuIpProblem(c.argv, text);
    if (why !== null) return hvOutput("", `ip: not on the qemu backend: ${why}\n`, 2);
    const r = await this.guest.ip(c.argv, {
      cwd: "/tmp/ifsim-cwd",
      batch:
        batchFile !== null && batchFile !== "-" && c.input !== null
          ? { path: batchFile, input: c.input }
          : null,
      stdin: batchFile === "-" ? (text ?? "") : null,
    });
    // The agent captures the two streams apart: stdout's writes come first.
    return hvOutput(r.stdout, r.stderr, r.status);
  }

  async #hv(argv: readonly string[]): Promise<IpResult> {
    const a = parseHv(argv);
    if ("output" in a) return a.output;
    switch (a.verb) {
      case "plug":
      case "unplug":
      case "set-link": {
        if (!this.guest.deviceIds.includes(a.id))
          return hvFail(
            `the machine has no device "${a.id}" (its devices: ${this.#modelIds.join(", ") || "none"})`,
          );
        const r = await this.guest.step(
          a.verb === "set-link"
            ? { set_link: { device: a.id, up: a.up } }
            : a.verb === "plug"
              ? { plug: a.id }
              : { unplug: a.id },
        );
        if (!r.ok) return hvFail(r.message ?? `${a.verb} ${a.id} failed`);
        return hvOutput(r.hidden ? `${a.id}: hidden (failover pair not negotiated)\n` : "", "", 0);
      }
      case "sleep":
        if (a.ms > QEMU_MAX_SLEEP_MS)
          return hvFail(
            `sleep ${argv[1]}: on the qemu backend time is the guest's real time; at most ${QEMU_MAX_SLEEP_MS / 1000} s`,
            2,
          );
        await this.guest.step({ sleep: a.ms });
        return hvOutput("", "", 0);
      case "settle":
        await this.guest.step("settle");
        return hvOutput("", "", 0);
    }
  }

  /** `ip link show` of the guest now. */
  ipLink(): Promise<string> {
    return this.guest.linkShow();
  }

  /** Every `ip monitor link` line since the guest was ready (no timestamps). */
  monitorLog(): string {
    return this.guest.monitor.map((l) => `${l}\n`).join("");
  }

  /** Powers the guest off. */
  close(): Promise<void> {
    return this.guest.stop();
  }
}
