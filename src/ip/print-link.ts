// iproute2 6.1 ip/ipaddress.c: print_linkinfo() and print_linkinfo_brief(), text and JSON.

import { IFF, type LinkSnapshot, type LinkStats } from "../kernel/index.ts";
import type { JsonWriter } from "./json-writer.ts";
import type { LlMap } from "./ll-map.ts";

/** Global `ip` options (the command-line switches before the object). */
export interface IpOptions {
  json?: boolean;
  details?: boolean;
  brief?: boolean;
  oneline?: boolean;
  force?: boolean;
  stats?: boolean;
  /** `-s -s`: the error rows too (show_stats > 1). Absent = 1 when `stats` is set. */
  statsLevel?: number;
  pretty?: boolean;
}

/** What print_linkinfo needs besides the message: its type, the cache, and the caller. */
export interface LinkPrintContext {
  readonly msg: "RTM_NEWLINK" | "RTM_DELLINK";
  /** IFLA_EVENT name from the kernel ("FEATURES", …) or null. */
  readonly event?: string | null;
  /** The process's ll_map, used for `@peer`, M-DOWN and `master`. */
  readonly cache: LlMap;
  /** `do_link` and `filter.showqueue`: true for `ip link show`, false for `ip monitor`. */
  readonly show: boolean;
}

const OPER_STATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];

/** print_link_flags()'s order (iproute2 ip/ipaddress.c). */
const FLAG_ORDER: readonly (keyof typeof IFF)[] = [
  "LOOPBACK",
  "BROADCAST",
  "POINTOPOINT",
  "MULTICAST",
  "NOARP",
  "ALLMULTI",
  "PROMISC",
  "MASTER",
  "SLAVE",
  "DEBUG",
  "DYNAMIC",
  "AUTOMEDIA",
  "PORTSEL",
  "NOTRAILERS",
  "UP",
  "LOWER_UP",
  "DORMANT",
  "ECHO",
];

const EVENT_NAMES: Readonly<Record<string, string>> = {
  REBOOT: "REBOOT",
  FEATURES: "FEATURE CHANGE",
  BONDING_FAILOVER: "BONDING FAILOVER",
  NOTIFY_PEERS: "NOTIFY PEERS",
  IGMP_RESEND: "RESEND IGMP",
  BONDING_OPTIONS: "BONDING OPTION",
};

/**
 * The GSO/GRO/TSO size attributes the kernel sent, in print order (tso_max_size is per device;
 * before v5.19 only the two GSO ones).
 */
function gsoFields(snap: LinkSnapshot): [string, number][] {
  if (snap.tsoMaxSize === null)
    return [
      ["gso_max_size", 65536],
      ["gso_max_segs", 65535],
    ];
  return [
    ["gso_max_size", 65536],
    ["gso_max_segs", 65535],
    ["tso_max_size", snap.tsoMaxSize],
    ["tso_max_segs", 65535],
    ["gro_max_size", 65536],
  ];
}

/** The flag words in print_link_flags() order (RUNNING never printed). */
export function linkFlagWords(flags: number, mdown: boolean): string[] {
  const out: string[] = [];
  let f = flags >>> 0;
  if (f & IFF.UP && !(f & IFF.RUNNING)) out.push("NO-CARRIER");
  f &= ~IFF.RUNNING;
  for (const name of FLAG_ORDER) {
    if (f & IFF[name]) {
      f &= ~IFF[name];
      out.push(name);
    }
  }
  if (f) out.push((f >>> 0).toString(16));
  if (mdown) out.push("M-DOWN");
  return out;
}

/** flagsText's answers by flag word (a record's flags take few values): at most 256 kept. */
const FLAGS_TEXT = new Map<number, string>();

/** `<A,B,...> ` exactly as print_link_flags() prints it (M-DOWN always after a comma). */
function flagsText(flags: number, mdown: boolean): string {
  let inner = FLAGS_TEXT.get(flags);
  if (inner === undefined) {
    inner = linkFlagWords(flags, false).join(",");
    if (FLAGS_TEXT.size < 256) FLAGS_TEXT.set(flags, inner);
  }
  return mdown ? `<${inner},M-DOWN> ` : `<${inner}> `;
}

function nameAndLink(
  snap: LinkSnapshot,
  ctx: LinkPrintContext,
): { text: string; link: string | null | undefined; mdown: boolean } {
  if (snap.link === null) return { text: snap.ifname, link: undefined, mdown: false };
  if (snap.link === 0) return { text: `${snap.ifname}@NONE`, link: null, mdown: false };
  const peer = ctx.cache.indexToName(snap.link);
  const mdown = !(ctx.cache.indexToFlags(snap.link) & IFF.UP);
  return { text: `${snap.ifname}@${peer}`, link: peer, mdown };
}

function padBytes(s: string, width: number): string {
  const len = new TextEncoder().encode(s).length;
  return len >= width ? s : s + " ".repeat(width - len);
}

function signed32(n: number): number {
  return n | 0;
}

/** print_num(): "%*s " of the plain number. */
function num(width: number, n: number): string {
  return `${String(n).padStart(width)} `;
}

/** size_columns(): widen each column to the digits of its value. */
function sizeColumns(cols: number[], values: readonly number[]): void {
  values.forEach((v, i) => {
    const len = String(v).length;
    if (len > (cols[i] as number)) cols[i] = len;
  });
}

/**
 * The `-s` block of one link, text form (`show_stats == 1`).
 * @iproute2 print_stats64() in ip/ipaddress.c (6.1)
 */
function statsText(st: LinkStats, sl: string, level: number, carrierChanges: number): string {
  // strlen("*X errors:"), "packets", "errors", "dropped", "heartbt", "overrun", "compressed", "otherhost"
  const cols = [10, 7, 6, 7, 7, 7, 10, 9];
  sizeColumns(cols, [
    st.rxBytes,
    st.rxPackets,
    st.rxErrors,
    st.rxDropped,
    st.rxMissedErrors,
    st.multicast,
    0,
    0,
  ]);
  sizeColumns(cols, [
    st.txBytes,
    st.txPackets,
    st.txErrors,
    st.txDropped,
    st.txCarrierErrors,
    st.collisions,
    0,
    0,
  ]);
  const c = (i: number): number => cols[i] as number;
  const h = (i: number, t: string): string => t.padStart(c(i));
  let s = `    RX: ${h(0, "bytes").slice(4)} ${h(1, "packets")} ${h(2, "errors")} ${h(3, "dropped")} ${h(4, "missed")} ${h(5, "mcast")} ${"".padStart(c(6))}${sl}`;
  s += `    ${num(c(0), st.rxBytes)}${num(c(1), st.rxPackets)}${num(c(2), st.rxErrors)}${num(c(3), st.rxDropped)}${num(c(4), st.rxMissedErrors)}${num(c(5), st.multicast)}${sl}`;
  if (level > 1) {
    const nohandler = st.rxNohandler ? ` ${"nohandler".padStart(c(6))}` : "";
    s += `    RX errors:${"".padStart(c(0) - 10)} ${h(1, "length")} ${h(2, "crc")} ${h(3, "frame")} ${h(4, "fifo")} ${h(5, "overrun")}${nohandler}${sl}`;
    s += `    ${"".padStart(c(0) + 1)}${num(c(1), 0)}${num(c(2), 0)}${num(c(3), 0)}${num(c(4), 0)}${num(c(5), 0)}${st.rxNohandler ? num(c(6), st.rxNohandler) : ""}${sl}`;
  }
  s += `    TX: ${h(0, "bytes").slice(4)} ${h(1, "packets")} ${h(2, "errors")} ${h(3, "dropped")} ${h(4, "carrier")} ${h(5, "collsns")} ${"".padStart(c(6))}${sl}`;
  s += `    ${num(c(0), st.txBytes)}${num(c(1), st.txPackets)}${num(c(2), st.txErrors)}${num(c(3), st.txDropped)}${num(c(4), st.txCarrierErrors)}${num(c(5), st.collisions)}`;
  if (level > 1) {
    s += `${sl}    TX errors:${"".padStart(c(0) - 10)} ${h(1, "aborted")} ${h(2, "fifo")} ${h(3, "window")} ${h(4, "heartbt")} ${h(5, "transns")}${sl}`;
    s += `    ${"".padStart(c(0) + 1)}${num(c(1), 0)}${num(c(2), 0)}${num(c(3), 0)}${num(c(4), 0)}${num(c(5), carrierChanges)}`;
  }
  return s;
}

/**
 * One record of `ip link show` / `ip monitor link` in text form, including its final newline.
 * @iproute2 print_linkinfo() / print_linkinfo_brief() in ip/ipaddress.c (6.1)
 */
export function formatLinkText(snap: LinkSnapshot, ctx: LinkPrintContext, opts: IpOptions): string {
  const sl = opts.oneline ? "\\" : "\n";
  const nl = nameAndLink(snap, ctx);
  let s = ctx.msg === "RTM_DELLINK" ? "Deleted " : "";
  if (opts.brief) {
    s += `${padBytes(nl.text, 16)} `;
    s += `${padBytes(OPER_STATES[snap.operstate] ?? String(snap.operstate), 14)} `;
    s += `${snap.address} `;
    s += flagsText(snap.flags, nl.mdown);
    return `${s}\n`;
  }
  // One template for the line every record has (fewer intermediate strings than one += per word).
  const master = snap.master !== null ? `master ${ctx.cache.indexToName(snap.master)} ` : "";
  const mode = ctx.show ? `mode ${snap.linkmode === 1 ? "DORMANT" : "DEFAULT"} ` : "";
  const qlen = ctx.show && snap.txqlen !== 0 ? `qlen ${signed32(snap.txqlen)}` : "";
  const ev = ctx.event ? EVENT_NAMES[ctx.event] : undefined;
  const perm =
    snap.permAddress !== null && snap.permAddress !== snap.address
      ? ` permaddr ${snap.permAddress}`
      : "";
  s += `${snap.ifindex}: ${nl.text}: ${flagsText(snap.flags, nl.mdown)}mtu ${snap.mtu} qdisc ${snap.qdisc} ${master}state ${OPER_STATES[snap.operstate] ?? String(snap.operstate)} ${mode}group ${snap.group === 0 ? "default" : String(snap.group)} ${qlen}${ev ? `event ${ev} ` : ""}${sl}    link/${snap.linkType} ${snap.address} brd ${snap.broadcast}${perm}`;
  if (opts.details) {
    s += ` promiscuity ${snap.promiscuity} `;
    if (snap.allmulti !== null) s += ` allmulti ${snap.allmulti} `;
    s += `minmtu ${snap.minMtu} `;
    s += `maxmtu ${snap.maxMtu} `;
    if (snap.kind !== null) s += `${sl}    ${snap.kind} `;
    if (ctx.show && snap.inet6) s += "addrgenmode eui64 ";
    s += `numtxqueues ${snap.numTxQueues} `;
    s += `numrxqueues ${snap.numRxQueues} `;
    for (const [k, v] of gsoFields(snap)) s += `${k} ${v} `;
    if (snap.physPortName !== null) s += `portname ${snap.physPortName} `;
    if (snap.parentBus !== null) s += `parentbus ${snap.parentBus} `;
    if (snap.parentDev !== null) s += `parentdev ${snap.parentDev} `;
  }
  if ((ctx.show || opts.details) && snap.ifalias !== null) s += `${sl}    alias ${snap.ifalias}`;
  if (ctx.show && opts.stats)
    s += sl + statsText(snap.stats, sl, opts.statsLevel ?? 1, snap.carrierChanges);
  for (const a of snap.altnames) s += `${sl}    altname ${a}`;
  return `${s}\n`;
}

/**
 * One record as a JSON object written into `w` (the caller opens and closes the array).
 * @iproute2 print_linkinfo() in JSON context
 */
export function writeLinkJson(
  w: JsonWriter,
  snap: LinkSnapshot,
  ctx: LinkPrintContext,
  opts: IpOptions,
): void {
  w.startObject();
  if (ctx.msg === "RTM_DELLINK") w.field("deleted", true);
  const nl = nameAndLink(snap, ctx);
  if (!opts.brief) w.field("ifindex", snap.ifindex);
  if (nl.link !== undefined) w.field("link", nl.link);
  w.field("ifname", snap.ifname);
  const writeFlags = (): void => {
    w.name("flags");
    w.startArray();
    for (const f of linkFlagWords(snap.flags, nl.mdown)) w.value(f);
    w.endArray();
  };
  if (opts.brief) {
    w.field("operstate", OPER_STATES[snap.operstate] ?? String(snap.operstate));
    w.field("address", snap.address);
    writeFlags();
    w.endObject();
    return;
  }
  writeFlags();
  w.field("mtu", snap.mtu);
  w.field("qdisc", snap.qdisc);
  if (snap.master !== null) w.field("master", ctx.cache.indexToName(snap.master));
  w.field("operstate", OPER_STATES[snap.operstate] ?? String(snap.operstate));
  if (ctx.show) w.field("linkmode", snap.linkmode === 1 ? "DORMANT" : "DEFAULT");
  w.field("group", snap.group === 0 ? "default" : String(snap.group));
  if (ctx.show && snap.txqlen !== 0) w.field("txqlen", signed32(snap.txqlen));
  const ev = ctx.event ? EVENT_NAMES[ctx.event] : undefined;
  if (ev) w.field("event", ev);
  w.field("link_type", snap.linkType);
  w.field("address", snap.address);
  w.field("broadcast", snap.broadcast);
  if (snap.permAddress !== null && snap.permAddress !== snap.address) {
    w.field("permaddr", snap.permAddress);
  }
  if (opts.details) {
    w.field("promiscuity", snap.promiscuity);
    if (snap.allmulti !== null) w.field("allmulti", snap.allmulti);
    w.field("min_mtu", snap.minMtu);
    w.field("max_mtu", snap.maxMtu);
    if (snap.kind !== null) {
      w.name("linkinfo");
      w.startObject();
      w.field("info_kind", snap.kind);
      w.endObject();
    }
    if (ctx.show && snap.inet6) w.field("inet6_addr_gen_mode", "eui64");
    w.field("num_tx_queues", snap.numTxQueues);
    w.field("num_rx_queues", snap.numRxQueues);
    for (const [k, v] of gsoFields(snap)) w.field(k, v);
    if (snap.physPortName !== null) w.field("phys_port_name", snap.physPortName);
    if (snap.parentBus !== null) w.field("parentbus", snap.parentBus);
    if (snap.parentDev !== null) w.field("parentdev", snap.parentDev);
  }
  if ((ctx.show || opts.details) && snap.ifalias !== null) w.field("ifalias", snap.ifalias);
  if (ctx.show && opts.stats) {
    const st = snap.stats;
    w.name("stats64");
    w.startObject();
    w.name("rx");
    w.startObject();
    w.field("bytes", st.rxBytes);
    w.field("packets", st.rxPackets);
    w.field("errors", st.rxErrors);
    w.field("dropped", st.rxDropped);
    w.field("over_errors", 0);
    w.field("multicast", st.multicast);
    if ((opts.statsLevel ?? 1) > 1) {
      for (const f of ["length_errors", "crc_errors", "frame_errors", "fifo_errors"]) w.field(f, 0);
      w.field("missed_errors", st.rxMissedErrors);
      if (st.rxNohandler) w.field("nohandler", st.rxNohandler);
    }
    w.endObject();
    w.name("tx");
    w.startObject();
    w.field("bytes", st.txBytes);
    w.field("packets", st.txPackets);
    w.field("errors", st.txErrors);
    w.field("dropped", st.txDropped);
    w.field("carrier_errors", st.txCarrierErrors);
    w.field("collisions", st.collisions);
    if ((opts.statsLevel ?? 1) > 1) {
      for (const f of ["aborted_errors", "fifo_errors", "window_errors", "heartbeat_errors"])
        w.field(f, 0);
      w.field("carrier_changes", snap.carrierChanges);
    }
    w.endObject();
    w.endObject();
  }
  if (snap.altnames.length > 0) {
    w.name("altnames");
    w.startArray();
    for (const a of snap.altnames) w.value(a);
    w.endArray();
  }
  w.endObject();
}
