// A cloud-init-like probe (docs/scenario-format.md, cloud_init): the netfail
// master/primary/standby predicates over sysfs facts, and the "duplicate mac found" failure of
// get_interfaces_by_mac when failover slaves are not filtered out.

import { pciState, virtioDeviceOf } from "../kernel/index.ts";
import { clonePlain } from "../sim/clone.ts";
import type { Actor } from "../sim/index.ts";
import type { World } from "./world.ts";

/** What cloud-init reads of one interface. */
export interface NetFacts {
  readonly name: string;
  readonly mac: string;
  /** basename of /sys/class/net/X/device/driver (virtio_net for the master too), or null. */
  readonly driver: string | null;
  /** /sys/class/net/X/master exists: the master's name. */
  readonly master: string | null;
  /** device/features has bit 62 (VIRTIO_NET_F_STANDBY). */
  readonly standbyFeature: boolean;
}

/** Reads the facts of every interface but lo. */
export function netFacts(w: World): NetFacts[] {
  const out: NetFacts[] = [];
  for (const dev of w.k.state.devices.values()) {
    if (dev.name === "lo") continue;
    let driver: string | null = null;
    let standby = false;
    if (dev.parent) {
      driver = dev.parent.driver;
      if (dev.parent.bus === "virtio") {
        const fn = pciState(w.k).functions.find((f) => dev.parent?.devpath.startsWith(f.devpath));
        const vdev = fn ? virtioDeviceOf(fn) : undefined;
        standby = vdev?.negotiated.includes("VIRTIO_NET_F_STANDBY") ?? false;
      }
    }
    const m = dev.uppers.find((u) => u.master);
    out.push({
      name: dev.name,
      mac: dev.devAddr,
      driver,
      master: m ? (w.device(m.ifindex)?.name ?? null) : null,
      standbyFeature: standby,
    });
  }
  return out;
}

/** is_netfail_master(): no master, driver virtio_net, STANDBY feature. */
export function isNetfailMaster(f: NetFacts): boolean {
  return f.master === null && f.driver === "virtio_net" && f.standbyFeature;
}

/** is_netfail_standby(): has a master, driver virtio_net, STANDBY feature. */
export function isNetfailStandby(f: NetFacts): boolean {
  return f.master !== null && f.driver === "virtio_net" && f.standbyFeature;
}

/** is_netfail_primary(): has a master whose driver is virtio_net with STANDBY; own driver is not virtio_net. */
export function isNetfailPrimary(f: NetFacts, all: readonly NetFacts[]): boolean {
  if (f.master === null || f.driver === "virtio_net") return false;
  const m = all.find((x) => x.name === f.master);
  return m !== undefined && m.driver === "virtio_net" && m.standbyFeature;
}

/** Probe configuration. */
export interface CloudInitConfig {
  /** When it runs, µs after start. */
  readonly atUs: number;
  /** Skip failover slaves (is_netfailover). */
  readonly filterFailover: boolean;
}

/** The probe's outcome. */
export interface CloudInitResult {
  readonly ok: boolean;
  /** Interface name → MAC, as get_interfaces_by_mac would return. */
  readonly byMac: Record<string, string>;
  readonly error: string | null;
}

/** What `CloudInitProbe.save` returns. */
export interface CloudInitSnapshot {
  readonly done: boolean;
  readonly result: CloudInitResult | null;
}

/** Runs once at its time: enumerates interfaces by MAC like get_interfaces_by_mac_on_linux. */
export class CloudInitProbe implements Actor {
  readonly name = "cloud-init";
  readonly #w: World;
  readonly #cfg: CloudInitConfig;
  #done = false;
  result: CloudInitResult | null = null;

  constructor(w: World, cfg: CloudInitConfig) {
    this.#w = w;
    this.#cfg = cfg;
  }

  /** Saves whether it ran and its result (a copy). */
  save(): CloudInitSnapshot {
    return { done: this.#done, result: this.result === null ? null : clonePlain(this.result) };
  }

  /** Restores what `save` returned, in place. */
  load(s: CloudInitSnapshot): void {
    this.#done = s.done;
    this.result = s.result === null ? null : clonePlain(s.result);
  }

  readyAt(): number | null {
    return this.#done ? null : Math.max(this.#cfg.atUs, this.#w.now());
  }

  step(): void {
    this.#done = true;
    const all = netFacts(this.#w);
    const byMac: Record<string, string> = {};
    for (const f of all) {
      if (this.#cfg.filterFailover && (isNetfailPrimary(f, all) || isNetfailStandby(f))) {
        this.#w.record(this.name, `Ignoring failover interface ${f.name}`, "skipped");
        continue;
      }
      const prev = byMac[f.mac];
      if (prev !== undefined) {
        const error = `duplicate mac found! both '${f.name}' and '${prev}' have mac '${f.mac}'`;
        this.result = { ok: false, byMac, error };
        this.#w.record(this.name, "get_interfaces_by_mac", `RuntimeError: ${error}`, false);
        return;
      }
      byMac[f.mac] = f.name;
    }
    this.result = { ok: true, byMac, error: null };
    const list = Object.entries(byMac)
      .map(([mac, n]) => `${n}=${mac}`)
      .join(" ");
    this.#w.record(this.name, "get_interfaces_by_mac", list || "(none)");
  }
}
