// A networkd/NetworkManager-like bring-up actor: brings configured links up when they appear,
// optionally only once udev has initialized them. This is what makes the boot-time race
// exist: the failover master brought up before udev renamed the standby.

import { IFF } from "../kernel/index.ts";
import type { Actor } from "../sim/index.ts";
import { globMatches } from "./glob.ts";
import type { World } from "./world.ts";

/** Bring-up configuration. */
export interface BringupConfig {
  /** Link names it manages (glob patterns with `*`). */
  readonly links: readonly string[];
  /**
   * Wait until udev is done with the link, as networkd does (link_check_initialized): its
   * database entry exists and has no ID_RENAMING (the runner passes Udevd.isReady).
   */
  readonly waitForUdev?: boolean;
  /** Reaction time from seeing the link to acting, µs. */
  readonly latencyUs?: number;
  /**
   * Also start a DHCPv4 client on each link it brings up, as NetworkManager's default "Wired
   * connection" profile does on every Ethernet link it manages (also on one with a master: the
   * VF of azure-vm-utils#106), unless udev marked the link unmanaged: `NM_UNMANAGED=1`, or
   * `ID_NET_MANAGED_BY` naming another manager. A DHCP server leases per client MAC, so two
   * clients on one MAC are one client twice (the record says so).
   */
  readonly dhcp?: boolean;
}

/** The manager ID_NET_MANAGED_BY names for this actor (systemd 255's property). */
export const BRINGUP_MANAGED_BY = "org.freedesktop.NetworkManager";
const MANAGED_BY_US = BRINGUP_MANAGED_BY;

/** A device's udev properties (its database entry), or null when udev has none. */
export type UdevProperties = (ifindex: number) => Readonly<Record<string, string>> | null;

/** Asks whether udev has finished with a device (initialized and not being renamed). */
export type UdevInitialized = (ifindex: number) => boolean;

/** True when `name` matches a link pattern (`*` matches any run of characters). */
export function globMatch(pattern: string, name: string): boolean {
  return globMatches(pattern, name, "star");
}

/** What `BringupActor.save` returns (copies). */
export interface BringupSnapshot {
  /** [ifindex, first seen at] in the order seen. */
  readonly seen: readonly (readonly [number, number])[];
  readonly done: readonly number[];
  /** [ifindex, MAC] of each running DHCP client (absent: none). */
  readonly dhcp?: readonly (readonly [number, string])[];
}

/** The bring-up actor's state for hashing (no times): ifindexes in seen order, done sorted. */
export interface BringupView {
  readonly seen: number[];
  readonly done: number[];
}

/** Brings up managed links once each (a link that goes away and comes back is handled again). */
export class BringupActor implements Actor {
  readonly name = "networkd";
  readonly #w: World;
  readonly #cfg: BringupConfig;
  readonly #initialized: UdevInitialized | null;
  /** ifindex → time the link was first seen. */
  readonly #seen = new Map<number, number>();
  readonly #done = new Set<number>();
  /** ifindex → the MAC its DHCP client sends (chaddr), for each running client. */
  readonly #dhcp = new Map<number, string>();
  readonly #props: UdevProperties | null;

  constructor(
    w: World,
    cfg: BringupConfig,
    initialized: UdevInitialized | null,
    props: UdevProperties | null = null,
  ) {
    this.#w = w;
    this.#cfg = cfg;
    this.#initialized = initialized;
    this.#props = props;
    w.onNetlink((m) => {
      if (m.msg === "RTM_DELLINK") {
        this.#seen.delete(m.link.ifindex);
        this.#done.delete(m.link.ifindex);
        this.#dhcp.delete(m.link.ifindex);
      } else if (!this.#seen.has(m.link.ifindex)) this.#seen.set(m.link.ifindex, m.t);
    });
  }

  /** Saves the links seen (with their times) and the links handled. */
  save(): BringupSnapshot {
    return {
      seen: [...this.#seen],
      done: [...this.#done],
      ...(this.#dhcp.size > 0 ? { dhcp: [...this.#dhcp] } : {}),
    };
  }

  /** Restores what `save` returned, in place. */
  load(s: BringupSnapshot): void {
    this.#seen.clear();
    for (const [i, t] of s.seen) this.#seen.set(i, t);
    this.#done.clear();
    for (const i of s.done) this.#done.add(i);
    this.#dhcp.clear();
    for (const [i, mac] of s.dhcp ?? []) this.#dhcp.set(i, mac);
  }

  /** The state an explorer hashes: seen ifindexes in the order seen, handled ones sorted. */
  explorerView(): BringupView {
    return { seen: [...this.#seen.keys()], done: [...this.#done].sort((a, b) => a - b) };
  }

  /**
   * Every seen, unhandled link with the time it becomes due (seen + latency), for an explorer's
   * time view: `step` picks the earliest due pending link (ties: lower ifindex).
   */
  explorerTimes(): { ifindex: number; at: number }[] {
    const out: { ifindex: number; at: number }[] = [];
    const latency = this.#cfg.latencyUs ?? 0;
    // By key: a `for … of` over the entries makes a pair per link.
    for (const ifindex of this.#seen.keys())
      if (!this.#done.has(ifindex))
        out.push({ ifindex, at: (this.#seen.get(ifindex) as number) + latency });
    return out;
  }

  /**
   * Whether seen link `ifindex` is one it would act on now: not handled, matching by current
   * name, udev-ready. Asked for every seen link several times per step of an explorer (its
   * `readyAt`), so `readyAt` and `step` loop over the seen links with it instead of building
   * the `#pending` list.
   */
  #isPending(ifindex: number): boolean {
    if (this.#done.has(ifindex)) return false;
    const dev = this.#w.device(ifindex);
    if (!dev) return false;
    let managed = false;
    for (const p of this.#cfg.links)
      if (globMatch(p, dev.name)) {
        managed = true;
        break;
      }
    if (!managed) return false;
    return !(this.#cfg.waitForUdev && this.#initialized && !this.#initialized(ifindex));
  }

  /** Links it would act on now: seen, not handled, matching by current name, udev-ready. */
  #pending(): { ifindex: number; at: number }[] {
    const out: { ifindex: number; at: number }[] = [];
    const latency = this.#cfg.latencyUs ?? 0;
    for (const [ifindex, seenAt] of this.#seen)
      if (this.#isPending(ifindex)) out.push({ ifindex, at: seenAt + latency });
    return out;
  }

  readyAt(): number | null {
    // The earliest due time of the pending links, no earlier than now. (By key: a `for … of`
    // over the entries makes a pair per link.)
    const latency = this.#cfg.latencyUs ?? 0;
    let any = false;
    let min = Number.POSITIVE_INFINITY;
    for (const ifindex of this.#seen.keys()) {
      if (!this.#isPending(ifindex)) continue;
      any = true;
      min = Math.min(min, (this.#seen.get(ifindex) as number) + latency);
    }
    return any ? Math.max(this.#w.now(), min) : null;
  }

  step(): void {
    // The earliest due pending link, ties to the lower ifindex (each is seen once: no full ties).
    const latency = this.#cfg.latencyUs ?? 0;
    let pick: { ifindex: number; at: number } | null = null;
    for (const ifindex of this.#seen.keys()) {
      if (!this.#isPending(ifindex)) continue;
      const at = (this.#seen.get(ifindex) as number) + latency;
      if (pick === null || at < pick.at || (at === pick.at && ifindex < pick.ifindex))
        pick = { ifindex, at };
    }
    if (pick) this.#act(pick);
  }

  /**
   * The links `step` may act on now (seen, not handled, matching by current name, udev-ready),
   * with the time each becomes due, in the order seen. `step` takes the earliest due; the
   * explorer's free timing lets any of them go first (`stepLink`).
   */
  pendingLinks(): { ifindex: number; at: number }[] {
    return this.#pending();
  }

  /** Acts on pending link `ifindex` (`pendingLinks`), whatever its due time; throws otherwise. */
  stepLink(ifindex: number): void {
    const p = this.#pending().find((x) => x.ifindex === ifindex);
    if (!p) throw new Error(`bring-up: link ${ifindex} is not pending`);
    this.#act(p);
  }

  #act(p: { ifindex: number; at: number }): void {
    this.#done.add(p.ifindex);
    const dev = this.#w.device(p.ifindex);
    if (!dev) return;
    if (dev.flags & IFF.UP) {
      this.#w.record(this.name, `${dev.name}: already up`, "ok");
    } else {
      const r = this.#w.ip(["link", "set", "dev", dev.name, "up"], this.name);
      const err = r.stderr.trim();
      this.#w.record(
        this.name,
        `${dev.name}: bringing link up`,
        r.status === 0 ? "ok" : err,
        r.status === 0,
      );
      if (r.status !== 0) return;
    }
    if (this.#cfg.dhcp) this.#startDhcp(p.ifindex);
  }

  /** Starts a DHCPv4 client on the link unless udev marked it unmanaged. */
  #startDhcp(ifindex: number): void {
    const dev = this.#w.device(ifindex);
    if (!dev) return;
    const props = this.#props?.(ifindex) ?? {};
    const by = props.ID_NET_MANAGED_BY;
    if (props.NM_UNMANAGED === "1" || (by !== undefined && by !== MANAGED_BY_US)) {
      const why = props.NM_UNMANAGED === "1" ? "NM_UNMANAGED=1" : `ID_NET_MANAGED_BY=${by}`;
      this.#w.record(this.name, `${dev.name}: no DHCP, unmanaged`, `udev set ${why}`);
      return;
    }
    const mac = dev.devAddr;
    const others = [...this.#dhcp]
      .filter(([i, m]) => m === mac && i !== ifindex)
      .map(([i]) => this.#w.device(i)?.name ?? String(i));
    this.#dhcp.set(ifindex, mac);
    if (others.length === 0)
      this.#w.record(this.name, `${dev.name}: DHCPv4 client started`, `MAC ${mac}`);
    else
      this.#w.record(
        this.name,
        `${dev.name}: DHCPv4 client started`,
        `MAC ${mac} already has a DHCP client on ${others.join(", ")}: ${others.length + 1} clients, one MAC`,
        false,
      );
  }

  /** The links with a running DHCP client and their MAC, by ifindex. */
  dhcpClients(): ReadonlyMap<number, string> {
    return this.#dhcp;
  }
}
