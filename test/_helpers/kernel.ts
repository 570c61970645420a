// Helpers for kernel tests: boot a kernel for a version, add a test notifier that records and
// vetoes, create generic NICs / veth / ifb, and project trace slices to compact strings.

import { expect } from "vitest";
import {
  createKernel,
  devGetByName,
  genericEthCreate,
  isNegErrno,
  type Kernel,
  type KernelEvent,
  type NegErrno,
  type NetDevice,
  type NetdevEvent,
  NOTIFY_DONE,
  type NotifierFn,
  type NotifierInfo,
  notifierFromErrno,
  registerNetdeviceNotifier,
  rtnlNewlink,
  runDueWork,
  settleWork,
} from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";

/** Era representatives used throughout the kernel tests (spec §A). */
export const E0 = "5.0";
export const E1 = "6.1";
export const E2 = "6.18";

/** Boots a kernel of `version` on a fresh virtual clock and a fixed-seed RNG. */
export function boot(version: string, seed = 1): Kernel & { clock: VirtualClock } {
  const clock = new VirtualClock();
  return createKernel({ kernel: version, clock, rng: new Rng(seed) }) as Kernel & {
    clock: VirtualClock;
  };
}

/** One call a recorder notifier saw. */
export interface RecordedCall {
  readonly event: NetdevEvent;
  readonly dev: string;
  readonly ifindex: number;
  readonly info: NotifierInfo;
}

/** A test notifier block: records every call and vetoes when `veto` says so. */
export interface Recorder {
  readonly name: string;
  readonly calls: RecordedCall[];
  /**
   * Returns the NOTIFY_* value to answer with, or undefined for NOTIFY_DONE. Set it to veto:
   * `rec.veto = (ev) => ev === "NETDEV_CHANGENAME" ? notifierFromErrno(err("EPERM")) : undefined`.
   */
  veto: ((event: NetdevEvent, dev: NetDevice, info: NotifierInfo) => number | undefined) | null;
  /** The recorded calls as "EVENT dev" strings. */
  lines(): string[];
}

let recorderSeq = 0;

/**
 * Registers a recording (and optionally vetoing) netdev notifier after the ones already there
 * (priority 0 unless given), like a module loaded after boot. Returns it and the N5 replay result.
 */
export function addRecorder(
  k: Kernel,
  o: { name?: string; priority?: number; extra?: NotifierFn } = {},
): Recorder & { registerRet: number } {
  const name = o.name ?? `test-${recorderSeq++}`;
  const rec: Recorder & { registerRet: number } = {
    name,
    calls: [],
    veto: null,
    registerRet: 0,
    lines() {
      return this.calls.map((c) => `${c.event} ${c.dev}`);
    },
  };
  const fn: NotifierFn = (kk, event, dev, info) => {
    rec.calls.push({ event, dev: dev.name, ifindex: dev.ifindex, info });
    const extra = o.extra ? o.extra(kk, event, dev, info) : NOTIFY_DONE;
    const v = rec.veto ? rec.veto(event, dev, info) : undefined;
    return v ?? extra;
  };
  rec.registerRet = registerNetdeviceNotifier(k, { name, priority: o.priority ?? 0 }, fn);
  return rec;
}

/** A veto function answering `notifier_from_errno(e)` for one event (optionally one device). */
export function vetoOn(
  event: NetdevEvent,
  e: NegErrno,
  devName?: string,
): (ev: NetdevEvent, dev: NetDevice) => number | undefined {
  return (ev, dev) =>
    ev === event && (devName === undefined || dev.name === devName)
      ? notifierFromErrno(e)
      : undefined;
}

let macSeq = 1;

/** A fresh locally administered unicast MAC. */
export function nextMac(): string {
  const n = macSeq++;
  return `02:00:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, "0")}:${(n & 0xff).toString(16).padStart(2, "0")}`;
}

/** Creates and registers a generic NIC ("eth%d" unless named); fails the test on an errno. */
export function nic(
  k: Kernel,
  o: { name?: string; openError?: NegErrno; mac?: string } = {},
): NetDevice {
  const opts: Parameters<typeof genericEthCreate>[1] = {
    mac: o.mac ?? nextMac(),
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.openError !== undefined ? { openError: o.openError } : {}),
  };
  const dev = genericEthCreate(k, opts);
  if (typeof dev === "number") throw new Error(`genericEthCreate failed: ${dev}`);
  return dev;
}

/** Creates a veth pair through RTM_NEWLINK; returns [dev, peer] or throws. */
export function veth(k: Kernel, name?: string, peer?: string): [NetDevice, NetDevice] {
  const before = new Set(k.state.devices.keys());
  const r = rtnlNewlink(k, {
    ifindex: 0,
    nlFlags: 0x400 | 0x200,
    kind: "veth",
    attrs: name !== undefined ? { ifname: name } : {},
    peer: peer !== undefined ? { ifname: peer } : {},
  });
  if (r.ret !== 0) throw new Error(`veth create failed: ${r.ret}`);
  const fresh = [...k.state.devices.values()].filter((d) => !before.has(d.ifindex));
  // The peer registers first (lower ifindex); the main device second.
  const [p, d] = fresh.sort((a, b) => a.ifindex - b.ifindex);
  if (!p || !d) throw new Error("veth create made no pair");
  return [d, p];
}

/** Creates an ifb through RTM_NEWLINK ("ifb%d" unless named); returns it or throws. */
export function ifb(k: Kernel, name?: string): NetDevice {
  const before = new Set(k.state.devices.keys());
  const r = rtnlNewlink(k, {
    ifindex: 0,
    nlFlags: 0x400 | 0x200,
    kind: "ifb",
    attrs: name !== undefined ? { ifname: name } : {},
  });
  if (r.ret !== 0) throw new Error(`ifb create failed: ${r.ret}`);
  const d = [...k.state.devices.values()].find((x) => !before.has(x.ifindex));
  if (!d) throw new Error("ifb create made no device");
  return d;
}

/** Looks a device up by name, failing the test when missing. */
export function dev(k: Kernel, name: string): NetDevice {
  const d = devGetByName(k, name);
  expect(d, `device ${name}`).toBeDefined();
  return d as NetDevice;
}

/**
 * Projects one trace event to a compact string:
 * "notify NETDEV_UP eth0", "rtnl RTM_NEWLINK eth0", "uevent move eth0", "log <text>",
 * "warn <text>".
 */
export function project(e: KernelEvent): string {
  switch (e.type) {
    case "kernel.notify":
      return `notify ${e.event} ${e.dev}`;
    case "kernel.rtnl":
      return `rtnl ${e.msg} ${e.link.ifname}`;
    case "kernel.uevent":
      return `uevent ${e.action} ${e.interface}`;
    case "kernel.log":
      return `log ${e.text}`;
    case "kernel.warn":
      return `warn ${e.text}`;
    case "kernel.traffic":
      return `traffic ${e.dir} ${e.dev} ${e.frames} to=${e.to ?? "-"} dropped=${e.dropped}`;
  }
}

/** Runs `fn` and returns what it returned plus the projected events it produced. */
export function traced<T>(k: Kernel, fn: () => T): { ret: T; ev: string[] } {
  const cursor = k.trace.length;
  const ret = fn();
  return { ret, ev: k.trace.since(cursor).map(project) };
}

/** Just the projected events of `fn`. */
export function events(k: Kernel, fn: () => unknown): string[] {
  return traced(k, fn).ev;
}

/** The raw events of `fn`. */
export function rawEvents(k: Kernel, fn: () => unknown): KernelEvent[] {
  const cursor = k.trace.length;
  fn();
  return k.trace.since(cursor);
}

/** Runs all deferred work (linkwatch) that is due now, without moving the clock. */
export function runDueNow(k: Kernel): number {
  let n = 0;
  while (runDueWork(k)) n++;
  return n;
}

/** Advances the clock through every pending work item and runs it (linkwatch settles). */
export function settle(k: Kernel & { clock: VirtualClock }): number {
  return settleWork(k, (t) => k.clock.advanceTo(t));
}

/** True when `v` is a negative errno. */
export function isErr(v: number): boolean {
  return isNegErrno(v);
}
