// The host kernel as a scenario backend: a fresh network namespace, the scenario's veth and ifb
// built with the host's iproute2, each `ip` step run in it, the `ip monitor link` records split
// per step, and the final `ip -j -d link` as the run record's links.
//
// Splitting the monitor per step. One `ip -n NS monitor link` runs for the whole scenario. The
// namespace holds one extra device, the marker: an ifb named `ifsim-mark` at ifindex 999999
// (kept down; a fixed high ifindex does not move the namespace's ifindex allocator, so the
// scenario's devices get the ifindexes they get without it). After a step, the backend
//   1. waits for quiescence: until no monitor output has arrived for `quietMs` (150 ms; 1 s for
//      a `settle` step) — the kernel's linkwatch runs asynchronously (at once for urgent events
//      such as a veth's carrier, up to 1 s later for others), and its records belong to the step
//      that caused them;
//   2. sets the marker's MTU to 100000 + n, which the kernel announces with one RTM_NEWLINK
//      (NETDEV_CHANGEMTU, even for a device that is down), and waits for that record: every
//      record before it — in the order the kernel sent them on the socket — belongs to the step.
// The marker's records and the marker itself never reach the run record. The marker sits in
// device group 999999, not the default group 0, so `ip link set group 0 …` (or `default`) never
// reaches it; its name, ifindex and group are reserved: a step that could address it (by name,
// by `if999999`, by the number in any spelling, by a group name mapped to it) is refused.
//
// Setup is one `ip -batch` child and every step a child of the supervisor (netns-supervisor.ts):
// a signal at any moment removes the namespace and every child, and the process then dies of it.

import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { IP_OBJECTS } from "../ip/index.ts";
import type { LinkRecord } from "../scenario/run.ts";
import { durationMs, splitArgs, stepText } from "../scenario/run.ts";
import type { DeviceDoc, ScenarioDoc, StepDoc } from "../scenario/schema.ts";
import { errnoFromIpError } from "./errno-text.ts";
import { type IpRun, Netns, netnsUnavailableReason } from "./netns.ts";
import { killGroup, spawnOwned } from "./netns-supervisor.ts";
import { BackendRefusal } from "./refusal.ts";
import type { Backend, BackendRunOptions, BackendRunRecord, BackendStepRecord } from "./types.ts";

/** The marker device's name, ifindex and device group (reserved). */
export const MARKER_NAME = "ifsim-mark";
export const MARKER_IFINDEX = 999999;
export const MARKER_GROUP = 999999;
const MARKER_MTU_BASE = 100000;
/** Creates the marker: down, out of group 0 (`ip link set group 0 …` must not reach it). */
const MARKER_ADD = [
  "link",
  "add",
  MARKER_NAME,
  "index",
  String(MARKER_IFINDEX),
  "group",
  String(MARKER_GROUP),
  "type",
  "ifb",
];

/** Tunables of the netns backend (tests shorten them). */
export interface NetnsBackendOptions {
  /** Quiet time that ends a step, ms (default 150). */
  readonly quietMs?: number;
  /** Quiet time that ends a `settle` step, ms (default 1000: a non-urgent linkwatch event). */
  readonly settleQuietMs?: number;
  /** Longest wait for quiescence or for a marker, ms (default 5000). */
  readonly maxWaitMs?: number;
  /** Longest real sleep of a `sleep` step, ms (default 10000). */
  readonly sleepCapMs?: number;
}

/** The host's net.core.default_qdisc (global: a namespace cannot have its own). */
export function hostDefaultQdisc(): string {
  try {
    return readFileSync("/proc/sys/net/core/default_qdisc", "utf8").trim();
  } catch {
    return "pfifo_fast";
  }
}

/** "6.18" from a `uname -r` like "6.18.44-fc-v445". */
export function majorMinor(rel: string): string {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? `${m[1]}.${m[2]}` : rel;
}

// ip.c's object table (IP_OBJECTS, in order): the first object `matches()` (a prefix) picks.
// Any prefix of "link" resolves to link (no earlier object starts with "l").

const U32 = 2n ** 32n;
const ULONG_MAX = 2n ** 64n - 1n;

/**
 * The value C's strtoul(s, &end, base) gives with the whole string consumed (leading blanks and
 * a sign allowed, base 0: 0x hex, 0 octal, else decimal; overflow saturates; a minus negates
 * modulo 2^64), cut to 32 bits as iproute2 stores it — or null when it is no number.
 */
export function cNumberU32(s: string, base: 0 | 10 = 0): number | null {
  const m = (
    base === 10
      ? /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/
      : /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/
  ).exec(s);
  if (!m) return null;
  const body = m[2] as string;
  let v: bigint;
  if (base === 0 && /^0[xX]/.test(body)) v = BigInt(body);
  else if (base === 0 && body.length > 1 && body.startsWith("0")) v = BigInt(`0o${body.slice(1)}`);
  else v = BigInt(body);
  if (v > ULONG_MAX) v = ULONG_MAX;
  if (m[1] === "-") v = (ULONG_MAX + 1n - v) % (ULONG_MAX + 1n);
  return Number(v % U32);
}

/** Device group names of iproute2's group files (rtnl_group_a2n), name → number. */
function groupNames(): Map<string, number> {
  const out = new Map<string, number>([["default", 0]]);
  for (const f of ["/usr/share/iproute2/group", "/etc/iproute2/group"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const m = /^\s*(\S+)\s+(\S+)/.exec(line);
      if (!m || (m[1] as string).startsWith("#")) continue;
      const id = cNumberU32(m[1] as string);
      if (id !== null) out.set(m[2] as string, id);
    }
  }
  return out;
}

/**
 * True when an `ip` argument could address the marker: its name; a number equal to its ifindex
 * or group in any spelling strtoul/strtol accept (`0xf423f`, `+999999`, …); iproute2's
 * `if<N>` device spelling (ll_idx_a2n: sscanf "if%u", trailing text ignored); a group name
 * that the host's group file maps to the marker's group.
 */
function addressesMarker(a: string): boolean {
  if (a === MARKER_NAME) return true;
  const n = cNumberU32(a);
  if (n === MARKER_IFINDEX || n === MARKER_GROUP) return true;
  const ifn = /^if([ \t\n\v\f\r]*[+-]?[0-9]+)/.exec(a);
  if (ifn && cNumberU32(ifn[1] as string, 10) === MARKER_IFINDEX) return true;
  return groupNames().get(a) === MARKER_GROUP;
}

/** Why an `ip` step cannot run in the namespace (it would reach beyond it), or null. */
export function ipStepRefusal(line: string): string | null {
  const argv = splitArgs(line);
  const first = argv[0] ?? "";
  if (first.startsWith("-"))
    return `global ip options ("${first}") are not part of a step (the model takes none either)`;
  const obj = IP_OBJECTS.find((o) => first !== "" && o.startsWith(first));
  if (obj !== undefined && obj !== "link" && obj !== "help")
    return `"ip ${obj}" is not modelled, and on the host it could reach beyond the namespace`;
  for (const a of argv) {
    if (a === "netns" || a === "link-netns" || a === "link-netnsid")
      return `"${a}" would move a device out of the namespace`;
    if (addressesMarker(a)) return `"${a}" is reserved for the backend's marker device`;
  }
  return null;
}

/** Why a device cannot be built in a namespace, or null. */
function deviceRefusal(d: DeviceDoc): string | null {
  if (d.type === "virtio-net" || d.type === "pci-nic")
    return `device "${d.id}" is a ${d.type}: a namespace has no PCI bus (the netns backend builds veth and ifb; use --backend qemu)`;
  for (const n of [d.name, d.type === "veth" ? d.peer : undefined])
    if (n === MARKER_NAME) return `device "${d.id}": the name ${n} is reserved for the marker`;
  return null;
}

/** Why a step cannot run in a namespace, or null. */
function stepRefusal(s: StepDoc): string | null {
  if (typeof s === "string" || "sleep" in s) return null;
  if ("ip" in s) return ipStepRefusal(s.ip);
  if ("plug" in s || "unplug" in s)
    return "hot-plug needs a VM (a namespace has no PCI bus; use --backend qemu)";
  if ("set_link" in s) return "set_link is QEMU's backend link (use --backend qemu)";
  if ("migrate" in s) return "migrate is QEMU's failover migration (use --backend qemu)";
  return "modprobe would load a module on the host (use --backend qemu)";
}

/** The commands that build a scenario device (as the model's createVirtual does). */
export function deviceCommand(d: DeviceDoc): string[] | null {
  if (d.type === "veth")
    return [
      "link",
      "add",
      ...(d.name !== undefined ? ["name", d.name] : []),
      ...(d.mac !== undefined ? ["address", d.mac.toLowerCase()] : []),
      "type",
      "veth",
      ...(d.peer !== undefined ? ["peer", "name", d.peer] : []),
    ];
  if (d.type === "ifb")
    return ["link", "add", ...(d.name !== undefined ? ["name", d.name] : []), "type", "ifb"];
  return null;
}

/**
 * `ip monitor link` output, split at the marker's records: segment n holds the lines that arrived
 * before marker n (and after marker n-1); the marker's own lines are dropped.
 */
export class MonitorSplitter {
  readonly #segments = new Map<number, string[]>();
  #current: string[] = [];
  #inMarker = false;
  #partial = "";

  /** Feeds raw output; returns the marker numbers completed by it. */
  feed(chunk: string): number[] {
    const text = this.#partial + chunk;
    const lines = text.split("\n");
    this.#partial = lines.pop() as string;
    const done: number[] = [];
    for (const line of lines) {
      const start = line !== "" && !/^\s/.test(line);
      if (start) {
        const m = new RegExp(`^${MARKER_IFINDEX}: ${MARKER_NAME}: .* mtu (\\d+) `).exec(line);
        if (m) {
          const n = Number(m[1]) - MARKER_MTU_BASE;
          this.#segments.set(n, this.#current);
          this.#current = [];
          this.#inMarker = true;
          done.push(n);
          continue;
        }
        this.#inMarker = false;
      }
      if (!this.#inMarker) this.#current.push(line);
    }
    return done;
  }

  /** The lines before marker n, or undefined when it has not arrived. */
  segment(n: number): string[] | undefined {
    return this.#segments.get(n);
  }

  /** Lines after the last marker (complete lines only). */
  get pending(): readonly string[] {
    return this.#current;
  }
}

/** `ip -n NS monitor link`, running in the background until stop(). */
class LinkMonitor {
  readonly #child: ChildProcess;
  readonly split = new MonitorSplitter();
  lastDataAt = performance.now();
  #stderr = "";
  #exited = false;
  #exit: Promise<void>;

  constructor(ns: string) {
    // A supervised child (its own process group, killed on a signal). The shell also ends
    // `ip monitor` when its stdin closes: on stop(), and when this process dies by SIGKILL.
    this.#child = spawnOwned("sh", [
      "-c",
      'ip -n "$1" monitor link & p=$!; read -r _; kill "$p" 2>/dev/null; wait "$p"',
      "sh",
      ns,
    ]);
    this.#child.stdout?.setEncoding("utf8");
    this.#child.stderr?.setEncoding("utf8");
    this.#child.stdout?.on("data", (s: string) => {
      this.lastDataAt = performance.now();
      this.split.feed(s);
    });
    this.#child.stderr?.on("data", (s: string) => {
      this.#stderr += s;
    });
    this.#exit = new Promise((resolve) => {
      this.#child.on("close", () => {
        this.#exited = true;
        resolve();
      });
    });
  }

  get failure(): string | null {
    return this.#exited ? `ip monitor exited: ${this.#stderr.trim() || "no output"}` : null;
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    this.#child.stdin?.end();
    const ac = new AbortController();
    await Promise.race([this.#exit, sleep(2000, undefined, { signal: ac.signal }).catch(() => {})]);
    ac.abort();
    if (!this.#exited) killGroup(this.#child);
  }
}

async function mustIp(ns: Netns, args: readonly string[], what: string): Promise<IpRun> {
  const r = await ns.ipAsync(args);
  if (r.status !== 0)
    throw new Error(`${what}: ip ${args.join(" ")}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r;
}

// An argument `ip -batch` reads back as the same argv (its reader splits at blanks and takes
// quotes and backslashes specially, and `#` starts a comment).
const BATCH_SAFE = /^[A-Za-z0-9_.:%@+=,/-]+$/;

/**
 * Builds the scenario's devices: one `ip -batch` child (a few ms per device, where one `ip` per
 * device costs a process each: 200 veth pairs in 0.4 s instead of 4 s), or one `ip` per device
 * when a name would not survive batch parsing. Either way a signal is handled meanwhile, and
 * the first failure names its device.
 */
async function buildDevices(ns: Netns, devices: readonly DeviceDoc[]): Promise<void> {
  const cmds: { d: DeviceDoc; argv: string[] }[] = [];
  for (const d of devices) {
    const argv = deviceCommand(d);
    if (argv) cmds.push({ d, argv });
  }
  const fail = (d: DeviceDoc, argv: readonly string[], why: string) =>
    new Error(`devices: cannot create ${d.type} "${d.id}": ip ${argv.join(" ")}: ${why}`);
  if (cmds.every((c) => c.argv.every((a) => BATCH_SAFE.test(a)))) {
    if (cmds.length === 0) return;
    const r = await ns.ipAsync(["-batch", "-"], cmds.map((c) => `${c.argv.join(" ")}\n`).join(""));
    if (r.status === 0) return;
    // iproute2 stops at the first failure and names its line: "Command failed -:N".
    const m = /Command failed -:(\d+)/.exec(r.stderr);
    const c = m ? cmds[Number(m[1]) - 1] : undefined;
    const why = r.stderr.replace(/Command failed -:\d+\s*/, "").trim() || `exit ${r.status}`;
    if (c) throw fail(c.d, c.argv, why);
    throw new Error(`devices: ip -batch: ${why}`);
  }
  for (const c of cmds) {
    const r = await ns.ipAsync(c.argv);
    if (r.status !== 0) throw fail(c.d, c.argv, r.stderr.trim() || `exit ${r.status}`);
  }
}

/** One object of `ip -j -d link`, the fields the run record needs. */
interface IpJsonLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  master?: string;
  phys_port_name?: string;
}

/**
 * `ip -j -d link` and the sysfs name_assign_type values as the run record's links (the marker
 * left out). name_assign_type: the value read, 0 when the read fails (the kernel refuses to
 * read NET_NAME_UNKNOWN with EINVAL) or the device is missing from the listing.
 */
export function linkRecordsFromIp(
  json: string,
  nameAssign: ReadonlyMap<string, number>,
): LinkRecord[] {
  const rows = JSON.parse(json) as IpJsonLink[];
  return rows
    .filter((l) => l.ifindex !== MARKER_IFINDEX)
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => ({
      ifindex: l.ifindex,
      ifname: l.ifname,
      flags: l.flags,
      mtu: l.mtu,
      operstate: l.operstate,
      address: l.address ?? "",
      master: l.master ?? null,
      portname: l.phys_port_name ?? null,
      name_assign_type: nameAssign.get(l.ifname) ?? 0,
    }));
}

/** Parses `NAME VALUE` lines (VALUE empty when the read failed). */
export function parseNameAssign(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\S+) ?(\d*)$/.exec(line.trim());
    if (m) out.set(m[1] as string, m[2] ? Number(m[2]) : 0);
  }
  return out;
}

/** The host kernel in a fresh network namespace. */
export class NetnsBackend implements Backend {
  readonly name = "netns";
  readonly #o: Required<NetnsBackendOptions>;
  #probe: string | null | undefined;

  constructor(o: NetnsBackendOptions = {}) {
    this.#o = {
      quietMs: o.quietMs ?? 150,
      settleQuietMs: o.settleQuietMs ?? 1000,
      maxWaitMs: o.maxWaitMs ?? 5000,
      sleepCapMs: o.sleepCapMs ?? 10_000,
    };
  }

  unavailableReason(): string | null {
    if (this.#probe !== undefined) return this.#probe;
    // The marker is an ifb: the host must be able to create one.
    this.#probe = netnsUnavailableReason((ns) => {
      const r = ns.ip(["link", "add", "name", "ifsim-probe", "type", "ifb"]);
      return r.status === 0
        ? null
        : `cannot create an ifb device in a namespace (${r.stderr.trim()}): modprobe ifb`;
    });
    return this.#probe;
  }

  refuses(sc: ScenarioDoc): string | null {
    const why: string[] = [];
    for (const d of sc.devices ?? []) {
      const r = deviceRefusal(d);
      if (r) why.push(r);
    }
    sc.steps.forEach((s, i) => {
      const r = stepRefusal(s);
      if (r) why.push(`step ${i + 1} (${stepText(s)}): ${r}`);
    });
    for (const key of ["udev", "bringup", "cloud_init"] as const) {
      const v = sc[key];
      if (v !== undefined && v !== "none")
        why.push(`${key}: the model's ${key} actor does not exist on the host (use ${key}: none)`);
    }
    if (sc.modules !== undefined) why.push("modules: the host's modules are not the scenario's");
    if (sc.script_starts === "boot")
      why.push(
        "script_starts: boot: the steps start once the namespace's devices exist and are quiet",
      );
    if (sc.uek_takeover_delay_ms !== undefined)
      why.push("uek_takeover_delay_ms: the host does not run Oracle UEK5");
    if (sc.default_qdisc !== undefined && sc.default_qdisc !== hostDefaultQdisc())
      why.push(
        `default_qdisc: ${sc.default_qdisc}, but the host's net.core.default_qdisc (global, not per namespace) is ${hostDefaultQdisc()}`,
      );
    return why.length === 0
      ? null
      : `the netns backend cannot run this scenario: ${why.join("; ")}`;
  }

  /** The host's major.minor; asking for another kernel is refused (a namespace has no other). */
  kernelVersion(o: BackendRunOptions = {}): string {
    const host = majorMinor(release());
    if (o.kernel != null && majorMinor(o.kernel) !== host)
      throw new BackendRefusal(
        `the netns backend runs the host kernel (${host}), not ${o.kernel} (use --backend qemu)`,
      );
    return host;
  }

  /**
   * The scenario the model must run to face the same machine: the host's default qdisc (a
   * namespace inherits it; the scenario format's default is Debian's fq_codel).
   */
  modelScenario(sc: ScenarioDoc): ScenarioDoc {
    return sc.default_qdisc !== undefined ? sc : { ...sc, default_qdisc: hostDefaultQdisc() };
  }

  async run(sc: ScenarioDoc, o: BackendRunOptions = {}): Promise<BackendRunRecord> {
    const refusal = this.refuses(sc);
    if (refusal !== null) throw new BackendRefusal(refusal);
    this.kernelVersion(o);
    const log = o.log ?? (() => {});
    const t0 = performance.now();
    const ns = new Netns("ifsim-run");
    let mon: LinkMonitor | null = null;
    try {
      log(`netns: namespace ${ns.name}`);
      await mustIp(ns, MARKER_ADD, "marker");
      log(`netns: building ${(sc.devices ?? []).length} devices`);
      await buildDevices(ns, sc.devices ?? []);
      mon = new LinkMonitor(ns.name);
      let n = await this.#startMonitor(ns, mon);
      const steps: BackendStepRecord[] = [];
      for (const [i, s] of sc.steps.entries()) {
        const text = stepText(s);
        let res: { ok: boolean; errno: string | null; message: string | null };
        let quiet = this.#o.quietMs;
        if (typeof s === "string") {
          res = { ok: true, errno: null, message: null };
          quiet = this.#o.settleQuietMs;
        } else if ("sleep" in s) {
          await sleep(Math.min(durationMs(s.sleep), this.#o.sleepCapMs));
          res = { ok: true, errno: null, message: null };
        } else if ("ip" in s) {
          const r = await ns.ipAsync(splitArgs(s.ip));
          const message = r.status === 0 ? null : r.stderr.trim().split("\n")[0] || null;
          res = {
            ok: r.status === 0,
            errno: message === null ? null : errnoFromIpError(message),
            message,
          };
        } else throw new BackendRefusal(`step ${i + 1} (${text}): cannot run on netns`);
        await this.#quiesce(mon, quiet);
        n++;
        const events = await this.#mark(ns, mon, n);
        steps.push({ index: i + 1, step: text, ...res, events });
        log(`netns: step ${i + 1} ${text} → ${res.ok ? "ok" : (res.errno ?? res.message)}`);
      }
      const links = linkRecordsFromIp(
        (await mustIp(ns, ["-j", "-d", "link", "show"], "final links")).stdout,
        await this.#nameAssignTypes(ns),
      );
      return {
        scenario: sc.name,
        backend: this.name,
        kernel: release(),
        steps,
        links,
        wallMs: Math.round(performance.now() - t0),
      };
    } finally {
      await mon?.stop();
      ns.close();
    }
  }

  /** Waits until the monitor sees a marker, and returns the number of the last one sent. */
  async #startMonitor(ns: Netns, mon: LinkMonitor): Promise<number> {
    const deadline = performance.now() + this.#o.maxWaitMs;
    for (let n = 1; ; n++) {
      await mustIp(ns, ["link", "set", MARKER_NAME, "mtu", String(MARKER_MTU_BASE + n)], "marker");
      const until = Math.min(performance.now() + 100, deadline);
      while (performance.now() < until) {
        if (mon.split.segment(n) !== undefined) return n;
        if (mon.failure) throw new Error(mon.failure);
        await sleep(5);
      }
      if (performance.now() >= deadline)
        throw new Error(`ip monitor link did not start within ${this.#o.maxWaitMs} ms`);
    }
  }

  /** Waits until no monitor output arrived for `quietMs` (at most maxWaitMs). */
  async #quiesce(mon: LinkMonitor, quietMs: number): Promise<void> {
    const start = performance.now();
    // The step itself ran synchronously: its output may still be in the pipe.
    mon.lastDataAt = Math.max(mon.lastDataAt, start);
    for (;;) {
      const now = performance.now();
      const idle = now - mon.lastDataAt;
      if (idle >= quietMs || now - start >= this.#o.maxWaitMs) return;
      await sleep(Math.max(5, Math.min(quietMs - idle, 50)));
    }
  }

  /** Sends marker n and returns the records that came before it. */
  async #mark(ns: Netns, mon: LinkMonitor, n: number): Promise<string[]> {
    await mustIp(ns, ["link", "set", MARKER_NAME, "mtu", String(MARKER_MTU_BASE + n)], "marker");
    const deadline = performance.now() + this.#o.maxWaitMs;
    for (;;) {
      const seg = mon.split.segment(n);
      if (seg !== undefined) return seg;
      if (mon.failure) throw new Error(mon.failure);
      if (performance.now() > deadline)
        throw new Error(
          `ip monitor link did not report marker ${n} within ${this.#o.maxWaitMs} ms`,
        );
      await sleep(2);
    }
  }

  /** /sys/class/net/X/name_assign_type of every device, read inside the namespace. */
  async #nameAssignTypes(ns: Netns): Promise<Map<string, number>> {
    const r = await ns.exec([
      "sh",
      "-c",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'for d in /sys/class/net/*; do printf "%s %s\\n" "${d##*/}" "$(cat "$d/name_assign_type" 2>/dev/null)"; done',
    ]);
    if (r.status !== 0)
      throw new Error(`reading name_assign_type in ${ns.name}: ${r.stderr.trim()}`);
    return parseNameAssign(r.stdout);
  }
}
