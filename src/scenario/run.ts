// Runs a scenario on the model: builds the machine, starts the actors (kernel work, the step
// script, QEMU's migration logic, udev, bring-up, cloud-init) on one scheduler, and produces the
// run record of docs/scenario-format.md plus a timeline.

import { IpMonitor, type IpMonitorSnapshot, IpProcess } from "../ip/index.ts";
import { linkFlagWords } from "../ip/print-link.ts";
import {
  createKernel,
  errnoName,
  IFF,
  type Kernel,
  type KernelPartsSame,
  type KernelProfile,
  type KernelSnapshot,
  type LinkSnapshot,
  loadKernel,
  profileFor,
  rtnlDumpLinks,
  rtnlNewlink,
  saveKernel,
} from "../kernel/index.ts";
import { Machine, type MachineSnapshot, type MachineSpec } from "../machine/index.ts";
import { type Actor, Rng, type Strategy, VirtualClock } from "../sim/index.ts";
import { BringupActor, type BringupSnapshot } from "../userspace/bringup.ts";
import { CloudInitProbe, type CloudInitSnapshot } from "../userspace/cloud-init.ts";
import { KernelWorkActor } from "../userspace/kernel-actor.ts";
import type { UdevdSnapshot } from "../userspace/udev/index.ts";
import {
  type StampedEvent,
  type TimelineEntry,
  World,
  type WorldSnapshot,
} from "../userspace/world.ts";
import { kernelSelected, selectorLabel } from "./kernel-select.ts";
import { compileLogPattern, logPatternTest } from "./log-pattern.ts";
import { QemuMigration, type QemuSnapshot } from "./qemu-migration.ts";
import type { DeviceDoc, ExpectDoc, ScenarioDoc } from "./schema.ts";
import { type ScenarioScript, ScriptActor, type ScriptSnapshot } from "./script.ts";
import { RunError, RunStopped, type StepRecord } from "./steps.ts";
import { scenarioUdev, udevFilesReport } from "./udev.ts";
import type { UdevActorLike, UdevFactory } from "./udev-actor.ts";

export type { ScenarioScript, ScriptExplorerView } from "./script.ts";
export {
  BOOT_QUIESCENCE_MAX_US,
  bootQuiescent,
  durationMs,
  RunError,
  RunStopped,
  type StepRecord,
  splitArgs,
  stepText,
} from "./steps.ts";
export type { UdevActorLike, UdevFactory } from "./udev-actor.ts";

/** Options of one run. */
export interface RunOptions {
  /** Overrides the scenario's kernel. */
  readonly kernel?: string;
  /** Overrides the scenario's seed (default 1). */
  readonly seed?: number;
  /** The scheduling strategy (default: earliest virtual time, seeded ties). */
  readonly strategy?: Strategy;
  /** Creates the udev actor (default: the udevd model configured from `udev:`). */
  readonly udev?: UdevFactory;
  /**
   * Each step ends only when every actor is idle, as on a real-kernel backend (which waits for
   * quiescence after each step): the records of the work a step left behind (linkwatch) are
   * among its events, and the next step starts on a settled machine. Default false: steps
   * follow each other at once and race the kernel's deferred work.
   */
  readonly settleSteps?: boolean;
  /**
   * With settleSteps: a step ends only once no `ip monitor link` record has come for this long
   * (virtual µs) since the later of its last record and the start of its settle, and the first
   * step waits the same way after boot (every actor idle, then this quiet time) — the settle rule
   * of the backend compared with (qemu: QUIET_MS). The time matters to the kernel: linkwatch
   * runs a non-urgent event at once when its last run is more than a second ago, so whether
   * the next step's carrier change is reported at once or a second later depends on it.
   * Default 0 (a step ends as soon as every actor is idle).
   */
  readonly settleQuietUs?: number;
  /**
   * The guest's init loads the boot modules one after another, this long apart (virtual µs),
   * instead of all at once at power-on: actors started before them (udevd) run in between, so
   * the virtio NIC can be renamed before e1000e registers (and e1000e then gets eth0). A fact
   * of the machine a backend tells the model (qemu: BOOT_MODULE_GAP_MS). Default 0.
   */
  readonly moduleGapUs?: number;
  /**
   * Polled before every scheduler step of runScenario; true stops the run with RunStopped (how
   * `ifsim run --time-limit` bounds its work). Never called by the model for anything else.
   */
  readonly shouldStop?: () => boolean;
  /**
   * Also keep `ip -d link show` of the final state in the record (`ip_link_details`): what a
   * comparison with a real guest's `ip -d link` needs (`ifsim conform`). Default false.
   */
  readonly ipDetails?: boolean;
  /**
   * Boots this machine instead of the one the scenario's `devices:` describe (`ifsim exec
   * --machine M`: a built-in or a machine file, with the scenario's actors).
   */
  readonly machine?: MachineSpec;
}

/** A final link in the run record (names as `ip -j -d link`). */
export interface LinkRecord {
  readonly ifindex: number;
  readonly ifname: string;
  readonly flags: string[];
  readonly mtu: number;
  readonly operstate: string;
  readonly address: string;
  readonly master: string | null;
  readonly portname: string | null;
  readonly name_assign_type: number;
}

/** One expectation's verdict. */
export interface ExpectRecord {
  readonly expect: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** A virtio-net or pci-nic at the end of the run, as QEMU's query-pci sees it. */
export interface DeviceRecord {
  readonly id: string;
  /** On the guest's PCI bus. */
  readonly present: boolean;
  /** Added to the VM but hidden by QEMU (a failover primary waiting for STANDBY). */
  readonly hidden: boolean;
}

/** The run record (the contract's fields first, then extensions). */
export interface RunRecord {
  readonly scenario: string;
  readonly backend: "model";
  readonly kernel: string;
  readonly steps: StepRecord[];
  readonly links: LinkRecord[];
  readonly seed: number;
  readonly timeline: TimelineEntry[];
  readonly expectations: ExpectRecord[];
  /** Kernel log lines (dmesg), with virtual time in µs. */
  readonly dmesg: { t: number; text: string }[];
  /** `ip link show` of the final state, as iproute2 6.1 prints it. */
  readonly ip_link: string;
  /** `ip -d link show` of the final state (with RunOptions.ipDetails only). */
  readonly ip_link_details?: string;
  /**
   * Every `ip monitor link` line of the run after boot, with its virtual time (µs): also the
   * records of deferred kernel work (linkwatch, carrier) that happen between steps and belong
   * to no step's `events`.
   */
  readonly monitor: { t: number; line: string }[];
  /** The scenario's PCI devices at the end (present, hidden by QEMU). */
  readonly devices: DeviceRecord[];
  /** Every rename the udev actor asked for, in order, with the kernel's answer (udev: only). */
  readonly udevRenames?: UdevRenameRecord[];
  /** udev's database at the end, per device (ifindex order): what `udevadm info` shows. */
  readonly udevDevices?: UdevDeviceRecord[];
  /** What the model did not take from `udev.files` ("file:line: level: message"). */
  readonly udevConfig?: string[];
  /**
   * With `bringup.dhcp`: the bring-up actor's DHCP decisions in order, "NAME: DHCPv4 client
   * started" or "NAME: no DHCP, unmanaged" (NAME: the link's name then).
   */
  readonly dhcp?: string[];
  readonly ok: boolean;
}

/** One device in udev's database at the end of a run. */
export interface UdevDeviceRecord {
  readonly ifindex: number;
  readonly name: string;
  /** udev has a database entry for it (sd_device_get_is_initialized). */
  readonly initialized: boolean;
  readonly properties: Readonly<Record<string, string>>;
}

/** A rename udevd tried: from, to, and null (renamed) or the errno name. */
export interface UdevRenameRecord {
  readonly from: string;
  readonly to: string;
  readonly errno: string | null;
}

const OPER = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];

/** The ids of the devices a scenario's steps plug or unplug (they need a hot-plug slot). */
export function hotpluggedIds(sc: ScenarioDoc): Set<string> {
  return new Set(
    sc.steps.flatMap((s) =>
      typeof s === "object" && "unplug" in s
        ? [s.unplug]
        : typeof s === "object" && "plug" in s
          ? [s.plug]
          : [],
    ),
  );
}

/** The machine spec a scenario's devices describe (PCI slots on bus 0, QEMU i440fx-like). */
export function machineOf(sc: ScenarioDoc): MachineSpec {
  const unpaired = new Set(unpairedPrimaries(sc).map((u) => u.id));
  const used = new Set<number>();
  for (const d of sc.devices ?? []) if ("slot" in d && d.slot !== undefined) used.add(d.slot);
  let next = 3;
  const slotFor = (d: { slot?: number | undefined }): number => {
    if (d.slot !== undefined) return d.slot;
    while (used.has(next)) next++;
    used.add(next);
    return next;
  };
  const type = sc.machine ?? "q35";
  const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
  const nics = (sc.devices ?? []).flatMap((d) =>
    d.type === "virtio-net" || d.type === "pci-nic" ? [{ d, slot: slotFor(d) }] : [],
  );
  // q35: a NIC that is hot-plugged (or unplugged) sits behind its own pcie-root-port at its slot
  // (pcie.0 refuses hot-plug), and so does every pci-nic not asked on pcie.0; the firmware
  // numbers the buses behind the ports 1, 2, … in slot order (as the qemu backend builds it).
  const hotplugged = hotpluggedIds(sc);
  const ported =
    type === "q35"
      ? nics
          .filter(({ d }) =>
            d.type === "pci-nic" ? d.bus !== "pcie.0" : d.plugged === false || hotplugged.has(d.id),
          )
          .sort((a, b) => a.slot - b.slot)
      : [];
  const busOf = new Map(ported.map(({ d }, i) => [d.id, i + 1]));
  const devices: MachineSpec["devices"][number][] = [];
  for (const { d, slot } of ported)
    devices.push({
      addr: `0000:00:${hex2(slot)}.0`,
      model: "pcie-root-port",
      id: `rp-${d.id}`,
      secondaryBus: busOf.get(d.id) as number,
    });
  for (const { d, slot } of nics) {
    const bus = busOf.get(d.id);
    const addr = bus !== undefined ? `0000:${hex2(bus)}:00.0` : `0000:00:${hex2(slot)}.0`;
    const base = {
      addr,
      id: d.id,
      mac: d.mac.toLowerCase(),
      ...(d.link !== undefined ? { link: d.link } : {}),
      ...(d.plugged === false ? { atBoot: false } : {}),
    };
    if (d.type === "virtio-net")
      devices.push({ ...base, model: "virtio-net", ...(d.standby ? { standby: true } : {}) });
    else
      devices.push({
        ...base,
        model: d.model ?? "e1000e",
        ...(d.failover_pair !== undefined && !unpaired.has(d.id)
          ? { failoverPairId: d.failover_pair }
          : {}),
        ...(d.link_up_delay_ms !== undefined ? { linkUpDelayMs: d.link_up_delay_ms } : {}),
      });
  }
  return {
    name: sc.name,
    description: sc.description ?? sc.name,
    machineType: type,
    defaultQdisc: sc.default_qdisc ?? "fq_codel",
    cpus: 1,
    modules: sc.modules ?? ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"],
    devices,
  };
}

/**
 * pci-nic devices whose failover_pair QEMU would not honour: it names no device, or a device
 * that is not a virtio-net with standby: true (failover=off). QEMU plugs them as ordinary NICs
 * (qtest params/on_mismatch, params/off).
 */
export function unpairedPrimaries(sc: ScenarioDoc): { id: string; pair: string; why: string }[] {
  const out: { id: string; pair: string; why: string }[] = [];
  const devices = sc.devices ?? [];
  for (const d of devices) {
    if (d.type !== "pci-nic" || d.failover_pair === undefined) continue;
    const p = devices.find((x) => x.id === d.failover_pair);
    if (!p) out.push({ id: d.id, pair: d.failover_pair, why: "names no device" });
    else if (p.type !== "virtio-net")
      out.push({ id: d.id, pair: p.id, why: "is not a virtio-net" });
    else if (!p.standby)
      out.push({ id: d.id, pair: p.id, why: "has failover off (standby: false)" });
  }
  return out;
}

/** Creates the virtual devices (veth, ifb) at boot, as `ip link add` would. */
function createVirtual(k: Kernel, d: DeviceDoc): void {
  if (d.type === "veth") {
    const r = rtnlNewlink(k, {
      ifindex: 0,
      nlFlags: 0x400 | 0x200,
      attrs: {
        ...(d.name ? { ifname: d.name } : {}),
        ...(d.mac ? { address: d.mac.toLowerCase() } : {}),
      },
      kind: "veth",
      peer: d.peer ? { ifname: d.peer } : {},
    });
    if (r.ret) throw new RunError(`devices: cannot create veth "${d.id}": ${errnoName(r.ret)}`);
  } else if (d.type === "ifb") {
    const r = rtnlNewlink(k, {
      ifindex: 0,
      nlFlags: 0x400 | 0x200,
      attrs: d.name ? { ifname: d.name } : {},
      kind: "ifb",
    });
    if (r.ret) throw new RunError(`devices: cannot create ifb "${d.id}": ${errnoName(r.ret)}`);
  }
}

/**
 * The links of `k` as the run record holds them (as `ip -j -d link` names them), by ifindex: the
 * final links of a run, and the state after each step of a counterexample.
 */
export function linkRecords(k: Kernel): LinkRecord[] {
  const names = new Map<number, string>();
  const flags = new Map<number, number>();
  const snaps: LinkSnapshot[] = rtnlDumpLinks(k);
  for (const s of snaps) {
    names.set(s.ifindex, s.ifname);
    flags.set(s.ifindex, s.flags);
  }
  return snaps.map((s) => ({
    ifindex: s.ifindex,
    ifname: s.ifname,
    // As `ip -j link` prints them: M-DOWN when the device has a link (a veth's peer) that is
    // not up (print_linkinfo() asks ll_index_to_flags(), 0 for a link it does not know).
    flags: flagWords(
      s.flags,
      s.link !== null && s.link > 0 && !((flags.get(s.link) ?? 0) & IFF.UP),
    ),
    mtu: s.mtu,
    operstate: OPER[s.operstate] ?? String(s.operstate),
    address: s.address,
    master: s.master === null ? null : (names.get(s.master) ?? `if${s.master}`),
    portname: s.physPortName,
    name_assign_type: s.nameAssignType,
  }));
}

/** The flag words `ip -j link` prints. */
function flagWords(flags: number, mdown: boolean): string[] {
  return linkFlagWords(flags, mdown);
}

function checkExpect(
  e: ExpectDoc,
  rec: { steps: StepRecord[]; links: LinkRecord[]; logs: string[]; devices: DeviceRecord[] },
): ExpectRecord {
  if ("device" in e) {
    const d = rec.devices.find((x) => x.id === e.device);
    const parts: string[] = [];
    let ok = d !== undefined;
    const want = (what: string, cond: boolean, got: string): void => {
      parts.push(`${what}${cond ? "" : ` (got ${got})`}`);
      if (!cond) ok = false;
    };
    if (d && e.present !== undefined)
      want(e.present ? "present" : "not present", d.present === e.present, String(d.present));
    if (d && e.hidden !== undefined)
      want(e.hidden ? "hidden" : "not hidden", d.hidden === e.hidden, String(d.hidden));
    return {
      expect: `device ${e.device}`,
      ok,
      detail: d ? parts.join(", ") || "known" : `no device ${e.device}`,
    };
  }
  if ("step" in e) return checkStepExpect(e, rec.steps);
  if ("log" in e || "no_log" in e) {
    const pat = "log" in e ? e.log : e.no_log;
    const re = compileLogPattern(pat);
    if ("error" in re)
      throw new RunError(`expect: "${pat}" is not a supported pattern: ${re.error}`);
    const hit = rec.logs.find((l) => logPatternTest(re, l));
    if ("log" in e)
      return { expect: `log /${pat}/`, ok: hit !== undefined, detail: hit ?? "no such line" };
    return { expect: `no log /${pat}/`, ok: hit === undefined, detail: hit ?? "none" };
  }
  return checkLinkExpect(e, rec.links);
}

/** A step expectation against step records (any backend's). */
export function checkStepExpect(
  e: Extract<ExpectDoc, { step: number }>,
  steps: readonly { index: number; ok: boolean; errno: string | null; message: string | null }[],
): ExpectRecord {
  const s = steps.find((x) => x.index === e.step);
  const got = !s ? "not run" : s.ok ? "ok" : (s.errno ?? s.message ?? "failed");
  return { expect: `step ${e.step} → ${e.error}`, ok: got === e.error, detail: `got ${got}` };
}

/** A link expectation against final link records (any backend's). */
export function checkLinkExpect(
  e: Extract<ExpectDoc, { link: string }>,
  links: readonly LinkRecord[],
): ExpectRecord {
  const l = links.find((x) => x.ifname === e.link);
  const parts: string[] = [];
  let ok = true;
  const want = (what: string, cond: boolean, got: string): void => {
    parts.push(`${what}${cond ? "" : ` (got ${got})`}`);
    if (!cond) ok = false;
  };
  const exists = e.exists ?? true;
  if (!exists) {
    want(`link ${e.link} absent`, !l, "present");
    return { expect: `link ${e.link} absent`, ok, detail: parts.join(", ") };
  }
  if (!l) return { expect: `link ${e.link}`, ok: false, detail: `no link named ${e.link}` };
  if (e.master !== undefined)
    want(`master ${e.master ?? "none"}`, l.master === e.master, String(l.master));
  if (e.up !== undefined)
    want(e.up ? "up" : "down", l.flags.includes("UP") === e.up, l.flags.join(","));
  if (e.carrier !== undefined)
    want(
      e.carrier ? "carrier" : "no carrier",
      l.flags.includes("LOWER_UP") === e.carrier,
      l.flags.join(","),
    );
  if (e.name_assign_type !== undefined)
    want(
      `name_assign_type ${e.name_assign_type}`,
      l.name_assign_type === e.name_assign_type,
      String(l.name_assign_type),
    );
  return { expect: `link ${e.link}`, ok, detail: parts.join(", ") || "exists" };
}

/**
 * Everything a run's state consists of (`PreparedRun.save`). It shares code and closures with
 * the run (registry entries, a migration's completion callback), so it lives in memory only and
 * belongs to the run that saved it.
 */
export interface RunSnapshot {
  /** Virtual time, µs. */
  readonly clock: number;
  readonly kernel: KernelSnapshot;
  readonly world: WorldSnapshot;
  readonly machine: MachineSnapshot;
  readonly script: ScriptSnapshot;
  readonly qemu: QemuSnapshot;
  readonly udev: UdevdSnapshot | null;
  readonly bringup: BringupSnapshot | null;
  readonly probe: CloudInitSnapshot | null;
  /** The ll_map caches of the per-step and the whole-run `ip monitor`. */
  readonly monitors: { readonly steps: IpMonitorSnapshot; readonly run: IpMonitorSnapshot };
}

/**
 * A booted run, ready for its main loop (`prepareRun`): its world, kernel, machine and actors, the
 * boot's uevents already dispatched. Drive it with `stepRun` or `runToQuiescence`, or pick actors
 * (and udevd's workers) yourself; `finishRun` builds the record. `save` and `load` snapshot and
 * restore all of it in place: every object stays the same, so closures and subscriptions stay
 * valid.
 */
export interface PreparedRun {
  readonly scenario: ScenarioDoc;
  readonly seed: number;
  readonly profile: KernelProfile;
  readonly spec: MachineSpec;
  readonly clock: VirtualClock;
  readonly w: World;
  readonly k: Kernel;
  readonly machine: Machine;
  readonly script: ScenarioScript;
  readonly udev: UdevActorLike | null;
  readonly bringup: BringupActor | null;
  readonly probe: CloudInitProbe | null;
  /** QEMU's migration logic (`explorerView`: its job as the explorer keys it). */
  readonly qemu: Actor & { explorerView?(): unknown };
  /** The kernel's deferred work (linkwatch, driver work). */
  readonly kernelActor: KernelWorkActor;
  /**
   * Saves the whole run: clock, kernel, world (generators, scheduler), machine, every actor,
   * monitors. With `base`, the kernel's parts `base.same` names as unchanged since snapshot
   * `base.snap` share its copies (`saveKernel`).
   */
  save(base?: { readonly snap: RunSnapshot; readonly same: KernelPartsSame }): RunSnapshot;
  /**
   * Restores `s` in place. Only a snapshot of this run, taken on the current branch or an
   * ancestor of it, can be loaded (any number of times); after a throw the run is unusable.
   *
   * With `last`, the kernel takes the saved state itself instead of a copy, and `s` cannot be
   * loaded again (a search's last branch from a state). `keep` names the kernel's device records
   * (and subsystem states) that are equal to the saved ones, which stay instead of copies
   * (`loadKernel`).
   *
   * @throws RangeError if the trace or timeline no longer holds the snapshot's entries.
   * @throws TypeError if `s` was loaded with `last` before.
   */
  load(s: RunSnapshot, last?: boolean, keep?: KernelPartsSame): void;
}

/** What finishRun needs besides the public fields. */
interface RunInternals {
  readonly wholeRun: IpMonitor;
  readonly monitorFrom: number;
  readonly ipDetails: boolean;
}

const internals = new WeakMap<PreparedRun, RunInternals>();

/**
 * Builds and boots a scenario's run: kernel, machine, world and actors, the virtual devices, the
 * monitors, and a first `w.dispatch()` of the boot's events. Nothing has been scheduled yet.
 *
 * @throws RunError if the scenario names no kernel (and `o.kernel` is not set) or a virtual
 *   device cannot be created.
 */
export function prepareRun(sc: ScenarioDoc, o: RunOptions = {}): PreparedRun {
  const kernel = o.kernel ?? sc.kernel;
  if (kernel === undefined)
    throw new RunError("no kernel: set kernel: in the scenario or pass --kernel");
  const seed = o.seed ?? sc.seed ?? 1;
  const profile = profileFor(kernel, { takeoverDelayMs: sc.uek_takeover_delay_ms ?? null });
  const clock = new VirtualClock();
  const rng = new Rng(seed);
  const spec = o.machine ?? machineOf(sc);
  const k = createKernel({
    kernel: profile,
    clock,
    rng: rng.fork("kernel"),
    cpus: spec.cpus,
    defaultQdisc: spec.defaultQdisc,
  });
  const machine = new Machine(k, spec, (t) => clock.advanceTo(t));
  const w = new World({
    kernel: k,
    machine,
    clock,
    rng: rng.fork("userspace"),
    ...(o.strategy ? { strategy: o.strategy } : {}),
  });
  const kernelActor = new KernelWorkActor(w);
  w.sched.add(kernelActor);
  let udev: UdevActorLike | null = null;
  if (sc.udev !== undefined && sc.udev !== "none") {
    udev = (o.udev ?? scenarioUdev)(w, sc.udev);
    w.sched.add(udev);
  }
  let bringup: BringupActor | null = null;
  if (sc.bringup !== undefined && sc.bringup !== "none") {
    const b = sc.bringup;
    bringup = new BringupActor(
      w,
      {
        links: b.links,
        ...(b.wait_for_udev !== undefined ? { waitForUdev: b.wait_for_udev } : {}),
        latencyUs: (b.latency_ms ?? 10) * 1000,
        ...(b.dhcp !== undefined ? { dhcp: b.dhcp } : {}),
      },
      udev ? (i) => (udev as UdevActorLike).isReady(i) : null,
      udev?.entries
        ? (i) => udev?.entries?.().find((e) => e.ifindex === i)?.properties ?? null
        : null,
    );
    w.sched.add(bringup);
  }
  let probe: CloudInitProbe | null = null;
  if (sc.cloud_init !== undefined && sc.cloud_init !== "none") {
    probe = new CloudInitProbe(w, {
      atUs: (sc.cloud_init.at_ms ?? 2000) * 1000,
      filterFailover: sc.cloud_init.filter_failover ?? true,
    });
    w.sched.add(probe);
  }
  const qemu = new QemuMigration(w);
  w.sched.add(qemu);
  w.record(
    "kernel",
    `boot: Linux ${profile.version} (${profile.era}), machine with ${spec.devices.length} PCI devices`,
    "ok",
  );
  machine.onEvent = (what) =>
    w.record("qemu", what, what.startsWith("warning:") ? "warning" : "event");
  for (const u of unpairedPrimaries(sc))
    w.record(
      "qemu",
      `${u.id}: failover_pair ${u.pair} ${u.why}: an ordinary NIC, never hidden`,
      "event",
    );
  // Boot: PCI probe and drivers now; deferred work and userspace race from here.
  machine.boot({ settle: false, moduleGapUs: o.moduleGapUs ?? 0 });
  for (const d of sc.devices ?? []) createVirtual(k, d);
  const monitor = new IpMonitor(k);
  const wholeRun = new IpMonitor(k);
  const monitorFrom = k.trace.length;
  const script = new ScriptActor(
    w,
    sc.steps,
    monitor,
    qemu,
    o.settleSteps ?? false,
    sc.script_starts ?? "quiescent",
    o.settleQuietUs ?? 0,
  );
  script.udev = udev;
  w.sched.add(script);
  w.dispatch();
  const p: PreparedRun = {
    scenario: sc,
    seed,
    profile,
    spec,
    clock,
    w,
    k,
    machine,
    script,
    udev,
    bringup,
    probe,
    qemu,
    kernelActor,
    save: (base) => ({
      clock: clock.now(),
      kernel: saveKernel(
        k,
        base === undefined ? undefined : { snap: base.snap.kernel, same: base.same },
      ),
      world: w.save(),
      machine: machine.save(),
      script: script.save(),
      qemu: qemu.save(),
      udev: udev ? udev.save() : null,
      bringup: bringup ? bringup.save() : null,
      probe: probe ? probe.save() : null,
      monitors: { steps: monitor.save(), run: wholeRun.save() },
    }),
    load: (s, last = false, keep) => {
      loadKernel(k, s.kernel, last, keep);
      w.load(s.world);
      clock.restore(s.clock);
      machine.load(s.machine);
      script.load(s.script);
      qemu.load(s.qemu);
      if (udev && s.udev) udev.load(s.udev);
      if (bringup && s.bringup) bringup.load(s.bringup);
      if (probe && s.probe) probe.load(s.probe);
      monitor.load(s.monitors.steps);
      wholeRun.load(s.monitors.run);
    },
  };
  internals.set(p, { wholeRun, monitorFrom, ipDetails: o.ipDetails === true });
  return p;
}

/**
 * One turn of the main loop: the scheduler runs one step and its events are dispatched; when
 * every actor is idle and the script waits for that (a `settle` step, or any step under
 * settleSteps), the script is told instead. Returns false once the run is quiescent (nothing ran and nobody waited to settle).
 */
export function stepRun(p: PreparedRun): boolean {
  const ran = p.w.sched.runOne();
  p.w.dispatch();
  if (ran !== null) return true;
  if (p.script.waitingForSettle) {
    p.script.settled();
    return true;
  }
  return false;
}

/**
 * Runs `stepRun` until the run is quiescent.
 *
 * @throws RunError when it is not quiescent after a million turns (a model that never settles).
 */
export function runToQuiescence(p: PreparedRun, shouldStop?: () => boolean): void {
  const MAX = 1_000_000;
  for (let n = 0; ; n++) {
    if (n > MAX) throw new RunError(`no quiescence after ${MAX} steps`);
    if (shouldStop?.()) throw new RunStopped(n, p.w.now());
    if (!stepRun(p)) break;
  }
}

/**
 * Builds the run record of a run that reached quiescence: final links, dmesg, expectations,
 * `ip link show`, the whole run's monitor lines. It leaves the run as it was, so it can be
 * called again after a `load` and another `runToQuiescence`. The record's arrays are copies.
 */
export function finishRun(p: PreparedRun): RunRecord {
  const inner = internals.get(p);
  if (!inner) throw new TypeError("finishRun: not a run from prepareRun");
  const { k, w, machine, spec, script, scenario: sc } = p;
  const links = linkRecords(k);
  const dmesg = (k.trace.since(0) as StampedEvent[]).flatMap((e) =>
    e.type === "kernel.log" ? [{ t: e.t, text: e.text }] : [],
  );
  const logs = [
    ...dmesg.map((d) => d.text),
    ...w.timeline.map((t) => `${t.actor}: ${t.what}: ${t.result}`),
  ];
  const devices: DeviceRecord[] = spec.devices.flatMap((d) =>
    d.id === undefined
      ? []
      : [
          {
            id: d.id,
            present: machine.isPresent(d.id),
            hidden: machine.state.hidden.includes(d.id),
          },
        ],
  );
  const steps = script.records.slice();
  const expectations = (sc.expect ?? [])
    .filter((e) => kernelSelected(e.kernels, k.profile))
    .map((e) => {
      const r = checkExpect(e, { steps, links, logs, devices });
      return e.kernels === undefined
        ? r
        : { ...r, expect: `${r.expect} ${selectorLabel(e.kernels)}` };
    });
  const ipLink = new IpProcess(k, { settle: () => {} }).run(["link", "show"]).stdout;
  const ipLinkDetails = inner.ipDetails
    ? new IpProcess(k, { settle: () => {}, details: true }).run(["link", "show"]).stdout
    : undefined;
  // The whole-run monitor formats the trace now; its ll_map is put back afterwards.
  const wholeRun = inner.wholeRun.save();
  const monitor = (k.trace.since(inner.monitorFrom) as StampedEvent[]).flatMap((e) =>
    e.type === "kernel.rtnl"
      ? inner.wholeRun
          .feed([e])
          .split("\n")
          .filter((l) => l !== "")
          .map((line) => ({ t: e.t, line }))
      : [],
  );
  inner.wholeRun.load(wholeRun);
  return {
    scenario: sc.name,
    backend: "model",
    kernel: p.profile.version,
    steps,
    links,
    seed: p.seed,
    timeline: w.timeline.slice(),
    expectations,
    dmesg,
    ip_link: ipLink,
    ...(ipLinkDetails !== undefined ? { ip_link_details: ipLinkDetails } : {}),
    monitor,
    devices,
    ...(p.udev
      ? { udevRenames: p.udev.renames.map((r) => ({ from: r.from, to: r.to, errno: r.errno })) }
      : {}),
    ...(typeof sc.bringup === "object" && sc.bringup.dhcp === true
      ? { dhcp: dhcpDecisions(w.timeline, p.bringup?.name ?? "") }
      : {}),
    ...(p.udev?.entries
      ? {
          udevDevices: p.udev.entries().map((e) => ({
            ifindex: e.ifindex,
            name: e.name,
            initialized: e.initialized,
            properties: e.properties,
          })),
        }
      : {}),
    ...(sc.udev !== undefined && sc.udev !== "none" && sc.udev.files !== undefined
      ? { udevConfig: udevFilesReport(sc.udev) }
      : {}),
    ok: expectations.every((e) => e.ok),
  };
}

/** Runs one scenario on the model. Deterministic: same scenario, kernel and seed → same record. */
export function runScenario(sc: ScenarioDoc, o: RunOptions = {}): RunRecord {
  const p = prepareRun(sc, o);
  runToQuiescence(p, o.shouldStop);
  return finishRun(p);
}

/** The bring-up actor's DHCP decisions in a timeline (RunRecord.dhcp). */
export function dhcpDecisions(timeline: readonly TimelineEntry[], actor: string): string[] {
  return timeline.filter((e) => e.actor === actor && DHCP_DECISION.test(e.what)).map((e) => e.what);
}

/** What a bring-up actor logs when it decides about DHCP on a link. */
export const DHCP_DECISION = /: (?:DHCPv4 client started|no DHCP, unmanaged)$/;
