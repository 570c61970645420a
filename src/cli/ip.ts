// `ifsim ip`: iproute2's `ip` on a fresh simulated kernel.

import { accessSync, constants, statSync } from "node:fs";
import { IP_OBJECTS, IpMonitor, IpProcess, parseIpGlobalArgs } from "../ip/index.ts";
import {
  createKernel,
  devGetByName,
  type Kernel,
  type KernelEvent,
  nextWorkDue,
  profileFor,
  receiveFrames,
  runDueWork,
  sendFrames,
  settleWork,
  UnknownKernelError,
} from "../kernel/index.ts";
import { Machine, MachineError, type MachineSpec } from "../machine/index.ts";
import { Rng, VirtualClock } from "../sim/index.ts";
import {
  checkWritable,
  EXIT_IOERR,
  errnoText,
  OutputStream,
  outputClash,
  readInput,
  sameFile,
} from "./io.ts";
import { loadMachine } from "./machines.ts";
import type { CliResult } from "./main.ts";
import { kernelValue, seedValue } from "./option-values.ts";

/** Runs every work item that falls due, advancing the virtual clock as far as needed. */
export function settleKernel(k: Kernel, clock: VirtualClock): void {
  settleWork(k, (t) => clock.advanceTo(t));
}

function usage(msg: string): CliResult {
  return { stdout: "", stderr: `ifsim ip: ${msg}\n`, status: 2 };
}

/**
 * Why `value` cannot be the file of an output option (`--monitor`, `--dmesg`): a word `ip` would
 * take as its object (`link`, `l`, `addr`, …) or an option. `ifsim ip --monitor link show` would
 * otherwise write a file named "link" and run `show`. Returns null for a usable name.
 */
export function outputFileProblem(option: string, value: string | undefined): string | null {
  if (value === undefined) return `${option} needs a file name (or - for stderr)`;
  if (value === "-") return null;
  const looksLikeObject =
    !/[./]/.test(value) && IP_OBJECTS.some((o) => o.startsWith(value) && value.length > 0);
  if (value.startsWith("-") || looksLikeObject)
    return `${option} needs a file name (or - for stderr), got "${value}", which ip would read as ${value.startsWith("-") ? "an option" : "its object"}: write ${option} - for stderr, or ${option} ./${value.replace(/^-+/, "")} for a file`;
  return null;
}

/** True when `file` names a directory (not "-", which is standard input). */
function isDirectory(file: string): boolean {
  if (file === "-") return false;
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** Runs the work that falls due up to virtual time `until`, then moves the clock there. */
export function runUntil(k: Kernel, clock: VirtualClock, until: number): void {
  for (;;) {
    while (runDueWork(k)) {}
    const due = nextWorkDue(k);
    if (due === null || due > until) break;
    clock.advanceTo(Math.max(due, clock.now()));
  }
  clock.advanceTo(Math.max(until, clock.now()));
}

/** dmesg's "[    4.123456] " prefix for a virtual time in µs. */
export function dmesgLine(tUs: number, text: string): string {
  const sec = Math.floor(tUs / 1_000_000);
  const us = tUs % 1_000_000;
  return `[${String(sec).padStart(5)}.${String(us).padStart(6, "0")}] ${text}\n`;
}

/** The kernel log lines among `events`, dmesg-style. */
export function dmesgText(events: readonly (KernelEvent & { t: number })[]): string {
  let out = "";
  for (const e of events) if (e.type === "kernel.log") out += dmesgLine(e.t, e.text);
  return out;
}

/**
 * Runs one `#ifsim:` batch directive against the machine.
 * Verbs: plug ID, unplug ID, link ID up|down, sleep MS, settle, xmit/rx DEV FRAMES [SIZE].
 */
function runDirective(
  text: string,
  machine: Machine | null,
  k: Kernel,
  clock: VirtualClock,
): string | null {
  const [verb, ...args] = text.split(/\s+/).filter(Boolean);
  const need = (n: number, usage: string): string | null =>
    args.length === n ? null : `usage: #ifsim: ${usage}`;
  try {
    switch (verb) {
      case "plug":
      case "unplug":
      case "link": {
        if (!machine) return `"${verb}" needs a machine (--machine NAME)`;
        if (verb === "link") {
          const u = need(2, "link ID up|down");
          if (u) return u;
          if (args[1] !== "up" && args[1] !== "down") return "usage: #ifsim: link ID up|down";
          machine.setLink(args[0] as string, args[1] === "up");
        } else {
          const u = need(1, `${verb} ID`);
          if (u) return u;
          if (verb === "plug") machine.plug(args[0] as string);
          else machine.unplug(args[0] as string);
        }
        settleKernel(k, clock);
        return null;
      }
      case "sleep": {
        const u = need(1, "sleep MS");
        if (u) return u;
        if (!/^\d+$/.test(args[0] as string)) return `sleep needs milliseconds, got "${args[0]}"`;
        runUntil(k, clock, clock.now() + Number(args[0]) * 1000);
        return null;
      }
      case "settle":
        settleKernel(k, clock);
        return null;
      case "xmit":
      case "rx": {
        if (args.length < 2 || args.length > 3) return `usage: #ifsim: ${verb} DEV FRAMES [SIZE]`;
        const dev = devGetByName(k, args[0] as string);
        if (!dev) return `no device "${args[0]}"`;
        const nums = args.slice(1);
        if (!nums.every((x) => /^\d+$/.test(x))) return `${verb}: FRAMES and SIZE must be integers`;
        const batch = {
          frames: Number(nums[0]),
          size: nums[1] === undefined ? 1500 : Number(nums[1]),
        };
        if (batch.size < 1) return `${verb}: SIZE must be at least 1`;
        if (verb === "xmit") sendFrames(k, dev, batch);
        else receiveFrames(k, dev, batch);
        return null;
      }
      default:
        return `unknown directive "${verb ?? ""}" (known: plug, unplug, link, sleep, settle, xmit, rx)`;
    }
  } catch (e) {
    if (e instanceof MachineError || e instanceof RangeError) return e.message;
    if (e instanceof Error && e.name === "PciAddressError") return e.message;
    throw e;
  }
}

const IP_HELP = `Usage: ifsim ip [--kernel V] [--machine M] [--uek-takeover-delay MS] [--seed N]
                [--work now|late] [--monitor OUT] [--dmesg OUT] [ip options]
                OBJECT COMMAND | -batch FILE
       ifsim ip --state DIR [ip options] OBJECT COMMAND | -batch FILE
  --state DIR     one call on the persistent session ifsim serve --state DIR serves (its
                  kernel and machine; every call sees what the earlier ones did)
  --kernel V      kernel version profile (default 6.18; see ifsim kernels)
  --machine M     boot a machine first: a built-in (see ifsim machines) or FILE.json;
                  default: an empty namespace with only lo
  --uek-takeover-delay MS
                  Oracle UEK5 net_failover: open a hot-plugged primary MS ms later
  --seed N        seed of the model's RNG (random MACs), default 1
  --work now|late when the kernel's deferred work (linkwatch's carrier/operstate events) runs:
                  now (default) after every command, as on a quiet machine; late only when
                  ip has ended (or at an '#ifsim:' directive that waits or plugs), as on a
                  machine too busy to run its workqueue: from 6.8 a command that looks a
                  device up by name (ip link set dev X …) then runs X's pending event first
  --monitor OUT   write the 'ip monitor link' records of the run to OUT ('-' = stderr)
  --dmesg OUT     write the kernel log (boot included), dmesg-style, to OUT ('-' = stderr)
In a -batch file, lines '#ifsim: plug ID', '#ifsim: unplug ID', '#ifsim: link ID up|down',
'#ifsim: sleep MS', '#ifsim: settle', '#ifsim: xmit DEV FRAMES [SIZE]' (send through DEV)
and '#ifsim: rx DEV FRAMES [SIZE]' (frames arrive on DEV) act on the machine; the real ip skips
them as comments.
Exit status: as iproute2's ip (0, 1, 2, 255), and 3 when a command uses a link kind Linux has
but ifsim does not model (only veth and ifb are modelled; e.g. bridge, dummy, bond, vlan,
macvlan): ifsim prints 'ifsim: ifsim does not model link kind "KIND" …' and stops, even in a
-force batch. A kind Linux does not know gets the kernel's "Unknown device type". The same
exit status 3 ('ifsim: ifsim does not model "ip link WORD"') for a link attribute the model does
not have: netns, vrf, mode, state, gso_max_size, gso_max_segs, gro_max_size, parentdev, xdp…,
vf, addrgenmode, link-netns.
`;

/** `ifsim ip [--kernel V] [--machine M] [--seed N] [--monitor OUT] [--dmesg OUT] IP-ARGS…`. */
export function ipCommand(argv: readonly string[]): CliResult {
  let kernel = "6.18";
  let seed = 1;
  let monitor: string | null = null;
  let dmesg: string | null = null;
  let machineArg: string | null = null;
  let takeoverDelayMs: number | null = null;
  let late = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const val = (): string | null => {
      const v = argv[i + 1];
      i++;
      return v ?? null;
    };
    if (a === "--kernel") {
      const v = kernelValue(val());
      if (typeof v === "object") return usage(v.error);
      kernel = v;
    } else if (a === "--seed") {
      const v = seedValue(val());
      if (typeof v === "object") return usage(v.error);
      seed = v;
    } else if (a === "--monitor" || a === "--dmesg") {
      const v = val();
      const problem = outputFileProblem(a, v ?? undefined);
      if (problem !== null || v === null) return usage(problem ?? `${a} needs a file name`);
      if (a === "--monitor") monitor = v;
      else dmesg = v;
    } else if (a === "--machine") {
      const v = val();
      if (v === null) return usage("--machine needs a built-in name or a FILE.json");
      machineArg = v;
    } else if (a === "--uek-takeover-delay") {
      const v = val();
      if (v === null || !/^\d+$/.test(v))
        return usage(`--uek-takeover-delay needs milliseconds, got "${v ?? ""}"`);
      takeoverDelayMs = Number(v);
    } else if (a === "--work") {
      const v = val();
      if (v !== "now" && v !== "late") return usage(`--work needs now or late, got "${v ?? ""}"`);
      late = v === "late";
    } else if (a === "--help") {
      return { stdout: IP_HELP, stderr: "", status: 0 };
    } else {
      rest.push(a);
    }
  }
  // Fail before running anything rather than lose the output at the end; never write over an
  // input (the batch file, the machine file) or write both outputs to one file.
  const g0 = parseIpGlobalArgs(rest);
  const inputs = [
    ...("error" in g0 || g0.batchFile === null ? [] : [g0.batchFile]),
    ...(machineArg?.endsWith(".json") ? [machineArg] : []),
  ];
  for (const [option, file] of [
    ["--monitor", monitor],
    ["--dmesg", dmesg],
  ] as const) {
    if (file === null || file === "-") continue;
    const why = outputClash(file, inputs) ?? checkWritable(file);
    if (why) return usage(`${option}: ${why}`);
  }
  if (
    monitor !== null &&
    dmesg !== null &&
    monitor !== "-" &&
    (monitor === dmesg || sameFile(monitor, dmesg))
  )
    return usage(`will not write the monitor records and the kernel log both to "${dmesg}"`);
  let spec: MachineSpec | null = null;
  if (machineArg !== null) {
    const m = loadMachine(machineArg);
    if ("error" in m) return usage(m.error);
    spec = m;
  }
  const clock = new VirtualClock();
  let k: Kernel;
  try {
    k = createKernel({
      kernel: profileFor(kernel, { takeoverDelayMs }),
      clock,
      rng: new Rng(seed),
      ...(spec ? { cpus: spec.cpus, defaultQdisc: spec.defaultQdisc } : {}),
    });
  } catch (e) {
    if (e instanceof UnknownKernelError) return usage(e.message);
    throw e;
  }
  // Nothing reads the trace afterwards: keep no event, hear only what was asked for (the kernel
  // then builds no link message and no log line nobody reads, and memory follows the devices).
  // A file named by --monitor or --dmesg is written as the text comes (OutputStream: memory
  // holds one chunk; the file is put in place only once ip has ended); "-" gathers it for
  // standard error, after ip's own output.
  const log = new Sink(dmesg);
  const records = new Sink(monitor);
  try {
    return runIp();
  } finally {
    // An early return (bad machine, bad ip options, unreadable batch) writes neither file.
    log.abort();
    records.abort();
  }

  function runIp(): CliResult {
    if (dmesg !== null) log.add(dmesgText(k.trace.since(0)));
    k.trace.keep(false);
    if (dmesg !== null)
      k.trace.subscribe(["kernel.log"], (e) => {
        if (e.type === "kernel.log") log.add(dmesgLine(e.t, e.text));
      });
    let machine: Machine | null = null;
    if (spec) {
      machine = new Machine(k, spec, (t) => clock.advanceTo(t));
      try {
        machine.boot();
      } catch (e) {
        if (e instanceof MachineError || (e instanceof Error && e.name === "PciAddressError"))
          return usage(`machine "${spec.name}" does not boot: ${e.message}`);
        throw e;
      }
    }
    if (monitor !== null) {
      const mon = new IpMonitor(k);
      k.trace.subscribe(["kernel.rtnl"], (e) => {
        records.add(mon.feed([e]));
      });
    }
    const g = parseIpGlobalArgs(rest);
    if ("error" in g) {
      return { stdout: "", stderr: (g as { error: string }).error, status: 255 };
    }
    const proc = new IpProcess(k, {
      ...g.opts,
      settle: late ? () => {} : () => settleKernel(k, clock),
      directive: (text) => runDirective(text, machine, k, clock),
    });
    let r: CliResult;
    if (g.batchFile !== null) {
      // ip's fopen() opens a directory for reading; its first getline() fails with EISDIR,
      // which ip takes for the end of the file: nothing runs and ip exits 0.
      if (isDirectory(g.batchFile)) return { stdout: "", stderr: "", status: 0 };
      const code = openError(g.batchFile);
      if (code !== null)
        // iproute2's own message for a file it cannot open (ip.c, batch()).
        return {
          stdout: "",
          stderr: `Cannot open file "${g.batchFile}" for reading: ${code}\n`,
          status: 1,
        };
      const input = readInput(g.batchFile, { stdin: true, streams: true });
      if ("error" in input) return usage(input.error);
      r = proc.batch(input.text, g.batchFile);
    } else {
      r = proc.run(g.rest);
    }
    // --work late: what waited runs once ip has ended (a real `ip monitor` still sees it).
    if (late) settleKernel(k, clock);
    if (monitor !== null) r = records.finishInto(r);
    if (dmesg !== null) r = log.finishInto(r);
    return r;
  }
}

/**
 * Where the text of --monitor or --dmesg goes: a file, streamed (`OutputStream`), or standard
 * error ("-"), gathered and added after ip's own output.
 */
class Sink {
  #text = "";
  readonly #stream: OutputStream | null;

  constructor(target: string | null) {
    this.#stream = target !== null && target !== "-" ? OutputStream.open(target) : null;
  }

  add(text: string): void {
    if (this.#stream) this.#stream.write(text);
    else this.#text += text;
  }

  /** `r` with the text on standard error, or with the file put in place (or its error). */
  finishInto(r: CliResult): CliResult {
    if (this.#stream) return withWriteError(r, this.#stream.finish());
    const text = this.#text;
    return { ...r, stderr: r.stderr + text, chunks: [...(r.chunks ?? []), { fd: 2, text }] };
  }

  /** Drops a file not finished (no-op once finished). */
  abort(): void {
    this.#stream?.abort();
  }
}

/** The result with a failed output write added: its message, exit 74 (EX_IOERR). */
function withWriteError(r: CliResult, error: string | null): CliResult {
  if (error === null) return r;
  const text = `ifsim ip: ${error}\n`;
  return {
    ...r,
    stderr: r.stderr + text,
    ...(r.chunks ? { chunks: [...r.chunks, { fd: 2 as const, text }] } : {}),
    status: EXIT_IOERR,
  };
}

/** strerror text when `file` cannot be opened for reading (ENOENT, EACCES …), else null. */
function openError(file: string): string | null {
  if (file === "-") return null;
  try {
    accessSync(file, constants.R_OK);
    return null;
  } catch (e) {
    return errnoText(e).replace(/^[A-Z]+ \((.*)\)$/, "$1");
  }
}
