// Replays a capture of the real Debian 6.1 kernel under QEMU (tools/qemu-capture, format in
// test/fixtures/qemu-6.1/capture.json) on the model, action by action, and lists every
// difference in stdout, stderr, exit status, `ip monitor link` records and kernel log lines.

import { IpMonitor, IpProcess, parseIpGlobalArgs } from "../../src/ip/index.ts";
import {
  devGetByName,
  errnoName,
  type Kernel,
  netSysfsRead,
  nextWorkDue,
  pciGetFunction,
  runDueWork,
} from "../../src/kernel/index.ts";
import { FAILOVER_VM } from "../../src/machine/index.ts";
import type { Booted } from "../_helpers/machine.ts";
import { bootMachine } from "../_helpers/machine.ts";

/** One captured action. */
export interface CapturedAction {
  readonly id: string;
  readonly kind: string;
  readonly cmdline: string;
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly monitor?: string;
  readonly dmesg?: string;
}

/** A capture file. */
export interface Capture {
  readonly steps: readonly { n: number; title: string; boot: number; actions: CapturedAction[] }[];
}

/** The outcome of replaying one capture. */
export interface ReplayReport {
  compared: number;
  skipped: string[];
  diffs: string[];
}

/** Kernel log lines the model produces (other subsystems' lines are not modelled). */
export const MODELLED_LOG = /^(virtio_net |e1000e |IPv6: ADDRCONF|net_failover|failover)/;

const STRERROR: Readonly<Record<string, string>> = {
  EINVAL: "Invalid argument",
  EOPNOTSUPP: "Operation not supported",
};

function dmesgLines(text: string | undefined): string[] {
  return (text ?? "")
    .split("\n")
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ""))
    .filter((l) => MODELLED_LOG.test(l));
}

/** busybox `cat FILE` on the model's sysfs. */
function cat(k: Kernel, path: string): { stdout: string; stderr: string; status: number } {
  const m = /^\/sys\/class\/net\/([^/]+)\/([^/]+)$/.exec(path);
  const r = m ? netSysfsRead(k, m[1] as string, m[2] as string) : null;
  if (!r || ("errno" in r && r.errno === -2)) {
    return {
      stdout: "",
      stderr: `cat: can't open '${path}': No such file or directory\n`,
      status: 1,
    };
  }
  if ("errno" in r) {
    const name = errnoName(r.errno) ?? String(r.errno);
    return { stdout: "", stderr: `cat: read error: ${STRERROR[name] ?? name}\n`, status: 1 };
  }
  return { stdout: r.text, stderr: "", status: 0 };
}

function netNames(k: Kernel): string[] {
  return [...k.state.devices.values()].map((d) => d.name).sort();
}

/** Runs one captured shell command on the model; null when it is not modelled. */
function runShell(
  b: Booted,
  cmd: string,
): { stdout: string; stderr: string; status: number } | null {
  const { k } = b;
  if (cmd.startsWith("/usr/sbin/ip ")) {
    const g = parseIpGlobalArgs(cmd.slice("/usr/sbin/ip ".length).split(/\s+/));
    if ("error" in g) return { stdout: "", stderr: g.error, status: g.status };
    const r = new IpProcess(k, { ...g.opts, settle: () => b.m.settle() }).run(g.rest);
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  }
  if (cmd === "ls /sys/class/net")
    return { stdout: `${netNames(k).join("\n")}\n`, stderr: "", status: 0 };
  let m = /^cat (\/sys\/class\/net\/\S+)$/.exec(cmd);
  if (m) return cat(k, m[1] as string);
  m = /^for f in \/sys\/class\/net\/\*\/(\w+); do printf "%s: " \$f; cat \$f 2>&1; done$/.exec(cmd);
  if (m) {
    let stdout = "";
    let status = 0;
    for (const n of netNames(k)) {
      const path = `/sys/class/net/${n}/${m[1]}`;
      const r = cat(k, path);
      stdout += `${path}: ${r.stdout}${r.stderr}`;
      status = r.status;
    }
    return { stdout, stderr: "", status };
  }
  m = /^grep \. \/sys\/class\/net\/\*\/(\w+)$/.exec(cmd);
  if (m) {
    let stdout = "";
    for (const n of netNames(k)) {
      const path = `/sys/class/net/${n}/${m[1]}`;
      const r = cat(k, path);
      if (r.status === 0) stdout += `${path}:${r.stdout}`;
    }
    return { stdout, stderr: "", status: 0 };
  }
  return null;
}

/**
 * Masks the RX/TX counter rows of `ip -s` output: the guest's IPv6 stack sends router
 * solicitations and MLD reports on every link that comes up, and the model generates no IPv6
 * traffic. The header rows and the error rows (with carrier_changes) stay compared.
 */
export function maskCounters(text: string): string {
  return text.replace(/^( {4}[RT]X: {2}bytes.*\n)^.*$/gm, "$1    <counters>");
}

/** Replays every action of `cap` (one boot) on the model with kernel profile `version`. */
export function replayCapture(cap: Capture, version = "6.1"): ReplayReport {
  const b = bootMachine(version, FAILOVER_VM);
  const rep: ReplayReport = { compared: 0, skipped: [], diffs: [] };
  const diff = (a: CapturedAction, what: string, want: unknown, got: unknown): void => {
    if (JSON.stringify(want) !== JSON.stringify(got))
      rep.diffs.push(
        `${a.id} \`${a.cmdline}\` ${what}:\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`,
      );
  };
  let prevStart: number | null = null;
  for (const step of cap.steps) {
    for (const a of step.actions) {
      // Real time passes between actions (the capture waits after each one): move the
      // model's clock by the same amount, running the work that falls due.
      const start = Number((a as { t_start?: string }).t_start);
      if (prevStart !== null && Number.isFinite(start) && start > prevStart) {
        const until = b.clock.now() + Math.round((start - prevStart) * 1e6);
        for (;;) {
          while (runDueWork(b.k)) {}
          const due = nextWorkDue(b.k);
          if (due === null || due > until) break;
          b.clock.advanceTo(Math.max(due, b.clock.now()));
        }
        b.clock.advanceTo(Math.max(until, b.clock.now()));
      }
      if (Number.isFinite(start)) prevStart = start;
      const mon = new IpMonitor(b.k);
      const cursor = b.k.trace.length;
      let out: { stdout: string; stderr: string; status: number } | null = null;
      const host = /^host: (\S+) ([\w-]+)(?: (on|off))?/.exec(a.cmdline);
      if (host) {
        const [, op, id, onoff] = host;
        if (op === "device_del") b.m.unplug(id as string);
        else if (op === "device_add") {
          b.m.plug(id as string);
          if (a.cmdline.includes("renames the new netdev to ens4")) {
            // The guest polls for the netdev: work already due (linkwatch) runs first.
            while (runDueWork(b.k)) {}
            const fn = pciGetFunction(b.k, "0000:02:00.0");
            const dev = b.k.state.devices.get(fn?.drvdata.ifindex as number);
            if (dev) new IpProcess(b.k).run(["link", "set", dev.name, "name", "ens4"]);
          }
        } else if (op === "set_link") b.m.setLink(id as string, onoff === "on");
        b.m.settle();
      } else if (a.cmdline === "dmesg") {
        // The kernel log since boot: compare the lines of the modelled subsystems, in order.
        const all = b.k.trace
          .since(0)
          .flatMap((e) => (e.type === "kernel.log" && MODELLED_LOG.test(e.text) ? [e.text] : []));
        diff(a, "boot dmesg", dmesgLines(a.stdout), all);
        rep.compared++;
        continue;
      } else {
        out = runShell(b, a.cmdline);
        if (out === null) {
          rep.skipped.push(`${a.id} ${a.cmdline}`);
          continue;
        }
        b.m.settle();
        diff(a, "exit", a.exit, out.status);
        const stats = /^\/usr\/sbin\/ip( -\w+)* -s /.test(a.cmdline);
        diff(
          a,
          "stdout",
          stats ? maskCounters(a.stdout) : a.stdout,
          stats ? maskCounters(out.stdout) : out.stdout,
        );
        diff(a, "stderr", a.stderr, out.stderr);
      }
      const events = b.k.trace.since(cursor);
      if (a.monitor !== undefined) diff(a, "monitor", a.monitor, mon.feed(events));
      const logs = events.flatMap((e) =>
        e.type === "kernel.log" && MODELLED_LOG.test(e.text) ? [e.text] : [],
      );
      diff(a, "dmesg", dmesgLines(a.dmesg), logs);
      rep.compared++;
    }
  }
  void devGetByName;
  return rep;
}
