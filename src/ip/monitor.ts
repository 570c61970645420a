// iproute2 6.1 ip/ipmonitor.c: `ip monitor link` over the kernel's rtnetlink trace events.

import { type Kernel, type KernelEvent, rtnlDumpLinks } from "../kernel/index.ts";
import { LlMap, type LlMapSnapshot } from "./ll-map.ts";
import { formatLinkText, type LinkPrintContext } from "./print-link.ts";

/** What `IpMonitor.save` returns: its ll_map cache (a deep copy). */
export interface IpMonitorSnapshot {
  readonly cache: LlMapSnapshot;
}

/**
 * An `ip monitor link` process. Its ll_map starts from a link dump (ll_init_map) and is then
 * updated from every message before the message prints, so peer names stay as first seen
 * (iproute2 6.1 bug) while peer flags (M-DOWN) follow.
 */
export class IpMonitor {
  readonly #cache: LlMap;

  constructor(k: Kernel) {
    this.#cache = new LlMap(k);
    for (const s of rtnlDumpLinks(k)) this.#cache.remember("RTM_NEWLINK", s);
  }

  /**
   * Starts the process afresh: an empty ll_map filled from a link dump of now (what a new
   * `ip monitor link` started at this moment knows).
   */
  restart(k: Kernel): void {
    this.#cache.load({ byIndex: new Map(), buckets: new Map() });
    for (const s of rtnlDumpLinks(k)) this.#cache.remember("RTM_NEWLINK", s);
  }

  /** Saves the monitor's ll_map cache. */
  save(): IpMonitorSnapshot {
    return { cache: this.#cache.save() };
  }

  /** Restores what `save` returned, in place. */
  load(s: IpMonitorSnapshot): void {
    this.#cache.load(s.cache);
  }

  /**
   * Formats the RTM_NEWLINK / RTM_DELLINK events among `events` as monitor records.
   * @iproute2 accept_msg() in ip/ipmonitor.c → ll_remember_index(), print_linkinfo()
   */
  feed(events: readonly KernelEvent[]): string {
    let out = "";
    for (const e of events) {
      if (e.type !== "kernel.rtnl") continue;
      this.#cache.remember(e.msg, e.link);
      const ctx: LinkPrintContext = { msg: e.msg, event: e.event, cache: this.#cache, show: false };
      out += formatLinkText(e.link, ctx, {});
    }
    return out;
  }
}
