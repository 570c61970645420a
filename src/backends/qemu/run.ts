// Runs a scenario in a real Linux guest under QEMU: one boot per scenario, the steps one by one,
// and the final state, as the run record of docs/scenario-format.md.
//
// When a step ends (the settle rule): every step ends when the guest is quiescent, as the model's
// steps do under `settleSteps` (what `ifsim conform` compares with), so that a step's events are
// all the `ip monitor link` records it caused, deferred kernel work (linkwatch, the e1000e
// watchdog, virtio config work) included. Quiescence: no new monitor record for QUIET_MS (1.2 s:
// linkwatch batches non-urgent events up to 1 s apart), the monitor has nothing queued (its
// socket's Rmem is 0 and it waits in recvmsg), no e1000e is up without carrier while its
// backend link is on (the watchdog reports the link ~2.5 s after open, ~1.2 s after set_link
// on), and no up link's carrier and operstate disagree (linkwatch has yet to run and print the
// change: measured once on a loaded 5.10 guest, after the watchdog's carrier); at most
// SETTLE_MAX_MS. The steps:
// - `ip …`: /usr/sbin/ip (by full path: busybox's shell would run its own `ip` applet) in the
//   guest; ok = exit status 0, message = the first line of stderr, errno from that message;
// - `plug X`: QMP device_add (set_link off first thing when X has `link: false`), then until X's
//   netdevs are registered in the guest (2 for a virtio standby: master and standby);
// - `unplug X`: QMP device_del, the DEVICE_DELETED event (the guest ejected X), X's netdevs gone;
// - `set_link`: QMP set_link;
// - `sleep D`: D in the guest;
// - `settle`: nothing more than the settle every step ends with.
// Before step 1 the guest has booted, every device present at boot has its netdevs (QEMU plugs
// a paired primary only once the guest negotiated STANDBY) and the guest is quiescent, as the
// model's steps start by default (`script_starts: quiescent`: once the kernel has no deferred
// work pending). A scenario that races boot (`script_starts: boot`) is refused. The steps'
// `ip monitor link` is started afresh then (the model's starts with step 1 too).

import { dirname } from "node:path";
import type { ErrnoName } from "../../kernel/index.ts";
import type { LinkRecord } from "../../scenario/run.ts";
import { DHCP_DECISION, durationMs, splitArgs, stepText } from "../../scenario/run.ts";
import type { ScenarioDoc, StepDoc } from "../../scenario/schema.ts";
import { udevGuestFiles } from "../../scenario/udev.ts";
import { errnoFromIpError } from "../errno-text.ts";
import { BackendRefusal } from "../refusal.ts";
import type { BackendRunOptions, BackendRunRecord, BackendStepRecord } from "../types.ts";
import { HostView } from "./hv.ts";
import { layoutProblem, pciAddrMap, qemuLayout } from "./layout.ts";
import { cacheDir, type Prepared, prepare, SCENARIO_MODULES } from "./prepare.ts";
import { type QemuRelease, releaseKernels, releaseOf } from "./release.ts";
import { realUdevProblem, scenarioLinkFile, type UdevRename, udevRenames } from "./udev.ts";
import { initrdWithFiles } from "./udev-files.ts";
import { type PreparedUdev, prepareUdev, udevInitrd } from "./udev-prepare.ts";
import { qemuVersion, Vm, type VmOptions } from "./vm.ts";

/** Quiet time that ends a settle, ms. */
export const QUIET_MS = 1200;
/**
 * Time between two boot modules as the guest's init loads them (insmod after insmod; udevd,
 * started first, runs in between), ms. Measured with Debian's 6.1 under TCG: virtio_net
 * registers its netdevs at 9.16 s, udevd renames them at 9.35 s and 9.40 s, e1000e's init
 * starts at 9.36 s and it registers at 9.53 s (eth0, free again); the five boot modules take
 * ≈1.1 s. The model is told (RunOptions.moduleGapUs) so that its udevd renames in between too.
 */
export const BOOT_MODULE_GAP_MS = 200;
/** Longest settle, ms. */
export const SETTLE_MAX_MS = 15_000;
/** Longest wait for a device's netdevs to appear or go, ms. */
const DEV_WAIT_MS = 30_000;

/** The qemu backend's run record: the contract's fields plus what was measured. */
export interface QemuRunRecord extends BackendRunRecord {
  readonly backend: "qemu";
  /** ms from QEMU start to the agent's hello (kernel boot + module load). */
  readonly bootMs: number;
  /** Boots of this run that crashed in the emulator before the agent answered (retried). */
  readonly bootFailures: string[];
  /** ms from QEMU start until every device present at boot had its netdevs and all was quiet. */
  readonly readyMs: number;
  /** Wall time of each step, ms. */
  readonly stepMs: number[];
  /** Kernel log lines of each step (no timestamps). */
  readonly stepDmesg: string[][];
  /** `ip monitor link` lines after the last step ended (quiescent): normally none. */
  readonly trailing: string[];
  /** `ip -d link` of the final state. */
  readonly ip_link: string;
  readonly qemu: { readonly version: string; readonly accel: string; readonly argv: string[] };
  readonly kernelPackage: string;
  /** Guest PCI address → the model's, where they differ (pci-nics behind root ports). */
  readonly pciAddrs: Readonly<Record<string, string>>;
  readonly iproute2: string;
  /** The bring-up actor's log (boot first, then each step's), when the scenario has `bringup:`. */
  readonly bringup?: { readonly bootLog: string[]; readonly stepLog: string[][] };
  /** The real udevd's part, when the scenario has a `udev:` actor. */
  readonly udev?: {
    /** Debian's udev package version. */
    readonly version: string;
    readonly packages: string[];
    /** The .link file given to it (null: 99-default.link). */
    readonly linkFile: string | null;
    /** The scenario's udev.files put into the guest (netplan YAML as its generated files). */
    readonly files?: Readonly<Record<string, string>>;
    /** udevd's debug log before step 1 (boot: trigger, module load, settle). */
    readonly bootLog: string[];
    /** udevd's debug log of each step. */
    readonly stepLog: string[][];
    /** The renames udevd tried (boot first, then the steps'), with their results. */
    readonly renames: UdevRename[];
    /** `udevadm info` of every netdev at the end. */
    readonly info: string;
  };
}

/** The release that boots `kernel` (null: the default, 6.1); a kernel no release ships is refused. */
export function qemuRelease(kernel: string | null | undefined): QemuRelease {
  const r = releaseOf(kernel);
  if (!r)
    throw new BackendRefusal(
      `the qemu backend boots Debian's Linux ${releaseKernels()} (asked for ${kernel})`,
    );
  return r;
}

/** Why the qemu backend cannot run `sc` on the release of `kernel` (default 6.1), or null. */
export function qemuRefuses(sc: ScenarioDoc, kernel?: string | null): string | null {
  const r = releaseOf(kernel);
  if (!r) return `the qemu backend boots Debian's Linux ${releaseKernels()} (asked for ${kernel})`;
  const lp = layoutProblem(sc);
  if (lp) return lp;
  const up = realUdevProblem(sc, r.udevMajor);
  if (up) return up;
  const bp = bringupProblem(sc);
  if (bp) return bp;
  if (sc.cloud_init !== undefined && sc.cloud_init !== "none")
    return "the guest runs no cloud-init: set cloud_init: none";
  if (sc.uek_takeover_delay_ms !== undefined)
    return `uek_takeover_delay_ms describes Oracle's UEK kernel; the guest runs Debian's ${r.kernel}`;
  if (sc.script_starts === "boot")
    return "script_starts: boot: the guest's steps start once it has booted and is quiescent; they cannot race its boot";
  if (sc.default_qdisc !== undefined && sc.default_qdisc !== r.defaultQdisc)
    return `default_qdisc ${sc.default_qdisc}: the guest keeps its kernel's default, ${r.defaultQdisc} (Debian ${r.suite}'s ${r.kernel})`;
  for (const [i, s] of sc.steps.entries()) {
    if (typeof s !== "object") continue;
    if ("migrate" in s)
      return `step ${i + 1} (migrate): live migration needs a second QEMU; not supported by the qemu backend`;
  }
  if (
    (sc.udev === undefined || sc.udev === "none") &&
    sc.steps.some((s) => typeof s === "object" && "udevadm" in s)
  )
    return "a udevadm step needs the udev: actor (the guest runs udevd only for it)";
  const ids = new Set((sc.devices ?? []).map((d) => d.id));
  for (const [i, s] of sc.steps.entries()) {
    if (typeof s !== "object") continue;
    const id =
      "plug" in s ? s.plug : "unplug" in s ? s.unplug : "set_link" in s ? s.set_link.device : null;
    if (id !== null && !ids.has(id)) return `step ${i + 1} names no device "${id}"`;
  }
  return null;
}

/**
 * Why the guest's bring-up actor cannot play this scenario's `bringup:`, or null. It does what
 * the model's BringupActor does (src/backends/qemu/guest.ts bringup_loop): each link once, when
 * its name matches, udev initialized it (wait_for_udev, with the udev actor), latency_ms after it
 * appeared, `ip link set dev NAME up`, then with `dhcp` busybox's udhcpc on it unless udev left
 * it to another manager (as the model's). Its patterns are matched by the guest's shell, so only
 * `*` may be special in them.
 */
export function bringupProblem(sc: ScenarioDoc): string | null {
  const b = sc.bringup;
  if (b === undefined || b === "none") return null;
  const bad = b.links.find((l) => !/^[A-Za-z0-9_.:@*-]+$/.test(l));
  if (bad !== undefined)
    return `bringup.links "${bad}": the guest's bring-up matches with its shell, so a pattern may hold only letters, digits, _ . : @ - and *`;
  return null;
}

/**
 * The guest's bring-up configuration (kernel command line `ifsim.bringup=`, base64 of four
 * lines: the patterns "p1|p2|", 1 to wait for udev's database entry, the latency in ms, 1 to
 * start a DHCP client), or null.
 * As in the model, wait_for_udev waits only when the udev actor runs, and latency_ms defaults
 * to 10.
 */
export function bringupArg(sc: ScenarioDoc): string | null {
  const b = sc.bringup;
  if (b === undefined || b === "none") return null;
  const udev = sc.udev !== undefined && sc.udev !== "none";
  const text = [
    b.links.map((l) => `${l}|`).join(""),
    b.wait_for_udev === true && udev ? "1" : "0",
    String(b.latency_ms ?? 10),
    b.dhcp === true ? "1" : "0",
    "",
  ].join("\n");
  return `ifsim.bringup=${Buffer.from(text).toString("base64")}`;
}

/** The errno iproute2 reported in its message, or null (see errno-text.ts). */
export function errnoOfMessage(message: string): ErrnoName | null {
  return errnoFromIpError(message) as ErrnoName | null;
}

/** The non-empty lines of an agent field. */
export function lines(text: string | undefined): string[] {
  return (text ?? "").split("\n").filter((l) => l !== "");
}

/** Kernel log lines without their "[   1.234567] " stamps. */
export function dmesgLines(text: string | undefined): string[] {
  return lines(text).map((l) => l.replace(/^\[\s*\d+\.\d+\]\s?/, ""));
}

/** Shell-quotes one word for the agent's `eval`. */
function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The final links from `ip -j -d link` and the names' name_assign_type. */
export function linkRecords(json: string, nat: string): LinkRecord[] {
  const types = new Map<string, number>();
  for (const l of lines(nat)) {
    const [name, t] = l.split(" ");
    if (name) types.set(name, Number(t) || 0);
  }
  const arr = JSON.parse(json) as Record<string, unknown>[];
  return arr.map((o) => ({
    ifindex: o.ifindex as number,
    ifname: o.ifname as string,
    flags: (o.flags as string[]) ?? [],
    mtu: o.mtu as number,
    operstate: o.operstate as string,
    address: o.address as string,
    master: (o.master as string | undefined) ?? null,
    portname: (o.phys_port_name as string | undefined) ?? null,
    name_assign_type: types.get(o.ifname as string) ?? 0,
  }));
}

/** Waits until every PCI function has the netdevs `hv` expects, then for quiescence. */
export async function settleGuest(
  vm: Vm,
  hv: HostView,
  log: (l: string) => void,
): Promise<{ mon: string[]; dmesg: string[]; udev: string[]; bringup: string[] }> {
  const w = await vm.request(
    "waitdev",
    [String(DEV_WAIT_MS), ...hv.expected()],
    DEV_WAIT_MS + 30_000,
  );
  if ((w.waited ?? "").includes("timeout"))
    log(`the guest's netdevs are not ${hv.expected().join(" ")} after ${DEV_WAIT_MS} ms`);
  const q = await vm.request(
    "settle",
    [String(QUIET_MS), String(SETTLE_MAX_MS), ...hv.linkOffAddrs()],
    SETTLE_MAX_MS + 30_000,
  );
  if ((q.waited ?? "").includes("timeout")) log(`no quiescence after ${SETTLE_MAX_MS} ms`);
  return {
    mon: [...lines(w.mon), ...lines(q.mon)],
    dmesg: [...dmesgLines(w.dmesg), ...dmesgLines(q.dmesg)],
    udev: [...lines(w.udev), ...lines(q.udev)],
    bringup: [...lines(w.bringup), ...lines(q.bringup)],
  };
}

/**
 * Runs one step in the guest and waits until it is quiescent again (the settle rule above): the
 * step's outcome, the `ip monitor link` records, kernel log lines and udevd log it caused.
 */
export async function execStep(
  vm: Vm,
  hv: HostView,
  s: StepDoc,
  log: (l: string) => void,
): Promise<{
  rec: Omit<BackendStepRecord, "index" | "step">;
  dmesg: string[];
  udev: string[];
  bringup: string[];
}> {
  const done = async (
    r: Record<string, string>,
    ok: boolean,
    errno: ErrnoName | null,
    message: string | null,
  ) => {
    const q = await settleGuest(vm, hv, log);
    return {
      rec: { ok, errno, message, events: [...lines(r.mon), ...q.mon] },
      dmesg: [...dmesgLines(r.dmesg), ...q.dmesg],
      udev: [...lines(r.udev), ...q.udev],
      bringup: [...lines(r.bringup), ...q.bringup],
    };
  };
  if (typeof s === "string") return done({}, true, null, null);
  if ("ip" in s) {
    const line = `/usr/sbin/ip ${splitArgs(s.ip).map(shq).join(" ")}`;
    const r = await vm.request("exec", [Buffer.from(line).toString("base64")]);
    const rc = Number(r.rc);
    const message = rc === 0 ? null : (r.stderr ?? "").trim().split("\n")[0] || null;
    return done(r, rc === 0, message === null ? null : errnoOfMessage(message), message);
  }
  if ("sleep" in s) {
    const ms = durationMs(s.sleep);
    const r = await vm.request("sleep", [String(ms)], ms + 30_000);
    return done(r, true, null, null);
  }
  if ("udevadm" in s) {
    const line = "udevadm trigger --action=add --subsystem-match=net";
    const r = await vm.request("exec", [Buffer.from(line).toString("base64")]);
    const rc = Number(r.rc);
    return done(r, rc === 0, null, rc === 0 ? null : (r.stderr ?? "").trim() || `exit ${rc}`);
  }
  if ("modprobe" in s) {
    const r = await vm.request("modprobe", [s.modprobe]);
    const ok = Number(r.rc) === 0;
    if (ok) hv.load(s.modprobe);
    return done(r, ok, null, ok ? null : (r.stderr ?? "").trim().split("\n")[0] || null);
  }
  if ("plug" in s) {
    const nic = hv.nic(s.plug);
    const ret = await vm.qmp.cmd("device_add", { ...nic.props });
    if (ret.error) return done(await vm.request("drain"), false, null, ret.error.desc);
    if (!nic.link) await vm.qmp.ok("set_link", { name: nic.id, up: false });
    hv.plug(nic.id);
    return done(await vm.request("drain"), true, null, null);
  }
  if ("unplug" in s) {
    const nic = hv.nic(s.unplug);
    const deleted = vm.qmp.waitEvent(
      (e) => e.event === "DEVICE_DELETED" && e.data?.device === nic.id,
      DEV_WAIT_MS,
    );
    const ret = await vm.qmp.cmd("device_del", { id: nic.id });
    if (ret.error) return done(await vm.request("drain"), false, null, ret.error.desc);
    const ev = await deleted;
    hv.unplug(nic.id);
    const r = await vm.request("drain");
    if (!ev) return done(r, false, null, `no DEVICE_DELETED for ${nic.id} in ${DEV_WAIT_MS} ms`);
    return done(r, true, null, null);
  }
  if ("set_link" in s) {
    const { device, up } = s.set_link;
    const ret = await vm.qmp.cmd("set_link", { name: device, up });
    if (!ret.error) {
      if (up) hv.linkOff.delete(device);
      else hv.linkOff.add(device);
    }
    const r = await vm.request("drain");
    return done(r, !ret.error, null, ret.error ? ret.error.desc : null);
  }
  throw new BackendRefusal(`step ${stepText(s)}: not supported by the qemu backend`);
}

/** Options of a guest boot (runOnQemu, and the guest behind `ifsim exec --backend qemu`). */
export type QemuRunOptions = BackendRunOptions & {
  readonly vm?: VmOptions;
  readonly prepared?: Prepared;
  /**
   * When udevd starts: before the boot modules load (a real boot) or after them (the
   * scenario's `udev.start: late`, its default here; absent there: early).
   */
  readonly udevStart?: "early" | "late";
  /** The NICs' network: none (each on its own hub; default) or QEMU's user network (layout.ts). */
  readonly network?: "none" | "user";
};

/** A booted guest, quiescent, with the steps' `ip monitor link` started (startGuest). */
export interface StartedGuest {
  readonly vm: Vm;
  readonly hv: HostView;
  readonly prepared: Prepared;
  readonly udev: PreparedUdev | null;
  readonly linkFile: string | null;
  readonly guestFiles: Readonly<Record<string, string>>;
  readonly layout: ReturnType<typeof qemuLayout>;
  /** Date.now() when QEMU started. */
  readonly t0: number;
  readonly readyMs: number;
  /** Kernel log lines and udevd's log of the boot. */
  readonly bootDmesg: string[];
  readonly bootUdev: string[];
  /** The bring-up actor's log of the boot. */
  readonly bootBringup: string[];
  /** Boots that crashed before this one (see BOOT_ATTEMPTS): one line each. */
  readonly bootFailures: string[];
}

/**
 * Boots `sc`'s machine in a fresh guest and waits until it is quiescent (every device present
 * at boot has its netdevs), then starts the steps' `ip monitor link`. The caller stops the VM.
 * @throws BackendRefusal when the backend cannot run `sc` or the kernel asked for.
 */
export async function startGuest(sc: ScenarioDoc, o: QemuRunOptions = {}): Promise<StartedGuest> {
  const log = o.log ?? (() => {});
  const release = qemuRelease(o.kernel);
  const refused = qemuRefuses(sc, release.kernel);
  if (refused) throw new BackendRefusal(refused);
  const base = o.prepared ?? prepare(log, release);
  const withUdev = sc.udev !== undefined && sc.udev !== "none";
  const u: PreparedUdev | null = withUdev ? prepareUdev(cacheDir(), log, release) : null;
  const guestFiles = udevGuestFiles(sc.udev);
  const withFiles = Object.keys(guestFiles).length > 0;
  const p = u
    ? {
        ...base,
        initrd: withFiles
          ? initrdWithFiles(udevInitrd(base.initrd, u), guestFiles, dirname(u.cpio))
          : udevInitrd(base.initrd, u),
      }
    : base;
  const linkFile = withFiles ? null : scenarioLinkFile(sc, u?.alternativeNamesPolicy);
  const bu = bringupArg(sc);
  const append = [
    ...(u
      ? [
          `ifsim.udev=${o.udevStart ?? (typeof sc.udev === "object" && sc.udev.start === "late" ? "late" : "early")}`,
          ...(linkFile ? [`ifsim.link=${Buffer.from(linkFile).toString("base64")}`] : []),
        ]
      : []),
    ...(bu ? [bu] : []),
  ];
  const layout = qemuLayout(sc, { network: o.network ?? "none" });
  const t0 = Date.now();
  const modules = sc.modules ?? [...SCENARIO_MODULES];
  const bootFailures: string[] = [];
  let vm: Vm;
  for (;;) {
    try {
      vm = await Vm.start(p, layout, {
        ...o.vm,
        modules,
        log,
        append,
        ...(u ? { bootTimeoutMs: Math.max(o.vm?.bootTimeoutMs ?? 0, 240_000) } : {}),
      });
      break;
    } catch (e) {
      const why = bootCrash(e);
      if (why === null || bootFailures.length + 1 >= BOOT_ATTEMPTS) throw e;
      bootFailures.push(why);
      log(`qemu: the guest crashed while booting (${why}); booting it again`);
    }
  }
  log(`qemu: guest up in ${vm.bootMs} ms (${vm.accel})`);
  try {
    const hv = new HostView(layout, modules);
    const boot = await settleGuest(vm, hv, log);
    // udevd processes the boot trigger's `add` events (every release logs "Processing device" at
    // debug): none means it never ran (a library missing from the guest, …)
    if (u && !boot.udev.some((l) => l.includes("Processing device")))
      throw new Error(
        `udevd ${u.version} did not run in the guest: ${boot.udev.slice(0, 3).join(" | ") || "no log"}`,
      );
    const dmesg = boot.dmesg;
    // The steps' `ip monitor link` starts now, as the model's does at step 1: a monitor that
    // saw a device before udevd renamed it prints it (as a master) by its first name forever
    // (iproute2 6.1's ll_map), and when the first monitor started during boot raced udevd.
    const remon = await vm.request("remon");
    dmesg.push(...dmesgLines(remon.dmesg));
    boot.udev.push(...lines(remon.udev));
    boot.bringup.push(...lines(remon.bringup));
    const readyMs = Date.now() - t0;
    log(`qemu: ready in ${readyMs} ms`);
    return {
      vm,
      hv,
      prepared: p,
      udev: u,
      linkFile,
      guestFiles,
      layout,
      t0,
      readyMs,
      bootDmesg: dmesg,
      bootFailures,
      bootUdev: boot.udev,
      bootBringup: boot.bringup,
    };
  } catch (e) {
    await vm.stop();
    throw e;
  }
}

/**
 * Boots a guest gets this many tries when it crashes before the agent answers. Under TCG a
 * Debian kernel now and then oopses in early boot, before any scenario step (CI run 19: 6.12,
 * `sched_clock_cpu` in `rcu_gp_kthread`, "Fatal exception in interrupt"): that is the emulator,
 * not the system under test, and the record lists each crash (`bootFailures`). A boot that
 * times out is not retried.
 */
export const BOOT_ATTEMPTS = 3;

/** The one-line cause of a boot that crashed (QEMU exited before the agent answered), or null. */
export function bootCrash(e: unknown): string | null {
  if (!(e instanceof Error) || !e.message.startsWith("the guest did not boot: QEMU exited"))
    return null;
  const panic = /Kernel panic - not syncing: [^\n]*/.exec(e.message)?.[0];
  const rip = /RIP: 0010:([^\s]+)/.exec(e.message)?.[1];
  return [panic ?? "QEMU exited", rip ? `RIP ${rip}` : null].filter((x) => x !== null).join(", ");
}

/** Runs `sc` in a fresh guest. */
export async function runOnQemu(sc: ScenarioDoc, o: QemuRunOptions = {}): Promise<QemuRunRecord> {
  const log = o.log ?? (() => {});
  const g = await startGuest(sc, o);
  const { vm, hv, prepared: p, udev: u, linkFile, guestFiles, layout, t0, readyMs } = g;
  const withFiles = Object.keys(guestFiles).length > 0;
  const dmesg = g.bootDmesg;
  const boot = { udev: g.bootUdev };
  try {
    const steps: BackendStepRecord[] = [];
    const stepMs: number[] = [];
    const stepDmesg: string[][] = [];
    const stepUdev: string[][] = [];
    const stepBringup: string[][] = [];
    for (const [i, s] of sc.steps.entries()) {
      const ts = Date.now();
      const { rec, dmesg: dm, udev: ul, bringup: bl } = await execStep(vm, hv, s, log);
      stepUdev.push(ul);
      stepBringup.push(bl);
      steps.push({ index: i + 1, step: stepText(s), ...rec });
      stepMs.push(Date.now() - ts);
      stepDmesg.push(dm);
      dmesg.push(...dm);
      log(
        `step ${i + 1} ${stepText(s)}: ${rec.ok ? "ok" : (rec.errno ?? rec.message)} (${Date.now() - ts} ms)`,
      );
    }
    // every step ended quiescent: what comes now is late (should be nothing)
    const tr = await vm.request("drain");
    dmesg.push(...dmesgLines(tr.dmesg));
    const f = await vm.request("final");
    dmesg.push(...dmesgLines(f.dmesg));
    const links = linkRecords(f.link ?? "[]", f.nat ?? "");
    return {
      scenario: sc.name,
      backend: "qemu",
      kernel: p.kver,
      steps,
      links,
      dmesg,
      wallMs: Date.now() - t0,
      bootMs: vm.bootMs,
      bootFailures: g.bootFailures,
      readyMs,
      stepMs,
      stepDmesg,
      trailing: lines(tr.mon).concat(lines(f.mon)),
      ip_link: f.text ?? "",
      qemu: { version: qemuVersion(), accel: vm.accel, argv: ["qemu-system-x86_64", ...vm.argv] },
      kernelPackage: `${p.kpkg} ${p.pkgVersion}`,
      pciAddrs: Object.fromEntries(pciAddrMap(layout)),
      iproute2: p.ipVersion,
      ...(bringupArg(sc) ? { bringup: { bootLog: g.bootBringup, stepLog: stepBringup } } : {}),
      ...(typeof sc.bringup === "object" && sc.bringup.dhcp === true
        ? {
            dhcp: [...g.bootBringup, ...stepBringup.flat()].filter((l) => DHCP_DECISION.test(l)),
          }
        : {}),
      ...(u
        ? {
            udevRenames: udevRenames([...boot.udev, ...stepUdev.flat()]).map((x) => ({
              from: x.from,
              to: x.to,
              errno: x.errno,
            })),
            udev: {
              version: u.version,
              packages: u.packages,
              linkFile,
              ...(withFiles ? { files: guestFiles } : {}),
              bootLog: boot.udev,
              stepLog: stepUdev,
              renames: udevRenames([...boot.udev, ...stepUdev.flat()]),
              info: f.udevinfo ?? "",
            },
          }
        : {}),
    };
  } finally {
    await vm.stop();
  }
}
