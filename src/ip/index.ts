// Public entry of the `ip` front end: iproute2 6.1's `ip link` subset over the kernel model.

/**
 * One `ip` process over a kernel; `runIp` for a single command, `parseIpGlobalArgs` for the
 * options before the object.
 * @example
 * const p = new IpProcess(k, { json: true });
 * p.run(["link", "add", "name", "veth0", "type", "veth", "peer", "name", "veth1"]);
 */
export {
  IP_OBJECTS,
  type IpGlobalArgs,
  IpProcess,
  type IpProcessOptions,
  type IpResult,
  parseIpGlobalArgs,
  runIp,
} from "./ip.ts";
/**
 * Link kinds: the exit status for a kind Linux has but the model does not, and those kinds.
 * @example LINUX_KINDS.has("bridge") // true; EXIT_UNMODELLED_KIND // 3
 */
export { EXIT_UNMODELLED_KIND, LINUX_KINDS } from "./iplink.ts";
/** The ll_map cache. @example new LlMap(k).nameToIndex("lo") // 1 */
export { LlMap, type LlMapSnapshot } from "./ll-map.ts";
/**
 * `ip monitor link` over kernel trace events.
 * @example
 * const mon = new IpMonitor(k); const cur = k.trace.length; ...; mon.feed(k.trace.since(cur));
 */
export { IpMonitor, type IpMonitorSnapshot } from "./monitor.ts";
/**
 * print_linkinfo(): a link snapshot as `ip link show` / `ip monitor` text.
 * @example formatLinkText(snap, { msg: "RTM_NEWLINK", cache, show: true }, {})
 */
export {
  formatLinkText,
  type IpOptions,
  type LinkPrintContext,
  writeLinkJson,
} from "./print-link.ts";
/** glibc strerror texts. @example strerror(-17) // "File exists" */
export { STRERROR, strerror } from "./strerror.ts";
