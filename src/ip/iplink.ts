// iproute2 6.1 ip/iplink.c (iplink_parse, iplink_modify, iplink_prop), ip/link_veth.c and the
// `ip link show` half of ip/ipaddress.c (ipaddr_list_flush_or_save, iplink_get).

import {
  IFF,
  isNegErrno,
  type Kernel,
  type LinkAttrs,
  type LinkRequest,
  type LinkSnapshot,
  NLM_F,
  type RtnlResult,
  rtnlDellink,
  rtnlDumpLinks,
  rtnlGetlink,
  rtnlLinkprop,
  rtnlNewlink,
} from "../kernel/index.ts";
import { JsonWriter } from "./json-writer.ts";
import type { LlMap } from "./ll-map.ts";
import {
  formatLinkText,
  type IpOptions,
  type LinkPrintContext,
  writeLinkJson,
} from "./print-link.ts";
import { strerror } from "./strerror.ts";
import {
  checkAltifname,
  checkIfname,
  duparg,
  duparg2,
  getInteger,
  IpExit,
  type IpIo,
  incompleteCommand,
  invarg,
  llAddrA2n,
  llAddrN2a,
  matches,
  strtolFull,
} from "./utils.ts";

/** What one `ip link` command runs against: the kernel, the process cache, options, output. */
export interface IpLinkContext extends IpIo {
  readonly k: Kernel;
  readonly cache: LlMap;
  readonly opts: IpOptions;
}

/**
 * Request attributes `ip` sends (IFLA_IFNAME, IFLA_ADDRESS, IFLA_MTU, IFLA_TXQLEN, IFLA_BROADCAST,
 * IFLA_NUM_TX/RX_QUEUES).
 */
export interface IpLinkAttrs extends LinkAttrs {
  ifname?: string;
  address?: string;
  mtu?: number;
  txqlen?: number;
  broadcast?: string;
  numTxQueues?: number;
  numRxQueues?: number;
  master?: number;
  ifalias?: string;
  group?: number;
  carrier?: boolean;
  protoDown?: boolean;
}

type Mutable<T> = { -readonly [P in keyof T]: T[P] };

interface Req {
  ifindex: number;
  ifiFlags: number;
  ifiChange: number;
  attrs: IpLinkAttrs;
}

function newReq(): Req {
  return { ifindex: 0, ifiFlags: 0, ifiChange: 0, attrs: {} };
}

/** ip/iplink.c iplink_usage(), as iproute2 6.1.0 prints it. */
export const IPLINK_USAGE = `Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME
\t\t    [ txqueuelen PACKETS ]
\t\t    [ address LLADDR ]
\t\t    [ broadcast LLADDR ]
\t\t    [ mtu MTU ] [index IDX ]
\t\t    [ numtxqueues QUEUE_COUNT ]
\t\t    [ numrxqueues QUEUE_COUNT ]
\t\t    [ netns { PID | NAME } ]
\t\t    type TYPE [ ARGS ]

\tip link delete { DEVICE | dev DEVICE | group DEVGROUP } type TYPE [ ARGS ]

\tip link set { DEVICE | dev DEVICE | group DEVGROUP }
\t\t\t[ { up | down } ]
\t\t\t[ type TYPE ARGS ]
\t\t[ arp { on | off } ]
\t\t[ dynamic { on | off } ]
\t\t[ multicast { on | off } ]
\t\t[ allmulticast { on | off } ]
\t\t[ promisc { on | off } ]
\t\t[ trailers { on | off } ]
\t\t[ carrier { on | off } ]
\t\t[ txqueuelen PACKETS ]
\t\t[ name NEWNAME ]
\t\t[ address LLADDR ]
\t\t[ broadcast LLADDR ]
\t\t[ mtu MTU ]
\t\t[ netns { PID | NAME } ]
\t\t[ link-netns NAME | link-netnsid ID ]
\t\t[ alias NAME ]
\t\t[ vf NUM [ mac LLADDR ]
\t\t\t [ vlan VLANID [ qos VLAN-QOS ] [ proto VLAN-PROTO ] ]
\t\t\t [ rate TXRATE ]
\t\t\t [ max_tx_rate TXRATE ]
\t\t\t [ min_tx_rate TXRATE ]
\t\t\t [ spoofchk { on | off} ]
\t\t\t [ query_rss { on | off} ]
\t\t\t [ state { auto | enable | disable} ]
\t\t\t [ trust { on | off} ]
\t\t\t [ node_guid EUI64 ]
\t\t\t [ port_guid EUI64 ] ]
\t\t[ { xdp | xdpgeneric | xdpdrv | xdpoffload } { off |
\t\t\t  object FILE [ { section | program } NAME ] [ verbose ] |
\t\t\t  pinned FILE } ]
\t\t[ master DEVICE ][ vrf NAME ]
\t\t[ nomaster ]
\t\t[ addrgenmode { eui64 | none | stable_secret | random } ]
\t\t[ protodown { on | off } ]
\t\t[ protodown_reason PREASON { on | off } ]
\t\t[ gso_max_size BYTES ] | [ gso_max_segs PACKETS ]
\t\t[ gro_max_size BYTES ]

\tip link show [ DEVICE | group GROUP ] [up] [master DEV] [vrf NAME] [type TYPE]
\t\t[nomaster]

\tip link xstats type TYPE [ ARGS ]

\tip link afstats [ dev DEVICE ]
\tip link property add dev DEVICE [ altname NAME .. ]
\tip link property del dev DEVICE [ altname NAME .. ]

\tip link help [ TYPE ]

TYPE := { amt | bareudp | bond | bond_slave | bridge | bridge_slave |
          dsa | dummy | erspan | geneve | gre | gretap | gtp | ifb |
          ip6erspan | ip6gre | ip6gretap | ip6tnl |
          ipip | ipoib | ipvlan | ipvtap |
          macsec | macvlan | macvtap |
          netdevsim | nlmon | rmnet | sit | team | team_slave |
          vcan | veth | vlan | vrf | vti | vxcan | vxlan | wwan |
          xfrm | virt_wifi }
`;

/** usage(): prints the usage text and exits 255. */
export function iplinkUsage(io: IpIo): never {
  io.err(IPLINK_USAGE);
  throw new IpExit(255);
}

/** rtnl_talk()'s error report: the extack message, else `RTNETLINK answers: strerror`. */
export function talkError(io: IpIo, r: RtnlResult): void {
  io.kernelError?.(r.ret);
  if (r.extack) io.err(`Error: ${r.extack}${r.extack.endsWith(".") ? "" : "."}\n`);
  else io.err(`RTNETLINK answers: ${strerror(r.ret)}\n`);
}

/** A C `char *` stand-in: iplink_parse compares name/dev pointers, not strings. */
interface Ptr {
  readonly s: string;
}

interface Parsed {
  consumed: number;
  type: string | null;
}

/**
 * Keywords that take an "on"/"off" value and toggle an ifi flag. A Map, not an object: `word in
 * object` with a word just cut from a line first looks the word up in V8's string table, and
 * every `ip link` line's words reach this test.
 */
const ONOFF_FLAGS: ReadonlyMap<string, { readonly bit: number; readonly onSets: boolean }> =
  new Map([
    ["multicast", { bit: IFF.MULTICAST, onSets: true }],
    ["allmulticast", { bit: IFF.ALLMULTI, onSets: true }],
    ["promisc", { bit: IFF.PROMISC, onSets: true }],
    ["trailers", { bit: IFF.NOTRAILERS, onSets: false }],
    ["arp", { bit: IFF.NOARP, onSets: false }],
  ]);

/**
 * Keywords (strcmp) of attributes the model does not model: rather than accept and ignore them
 * (a success the kernel may not give, a state it would not have), `ifsim ip` says so and stops
 * with EXIT_UNMODELLED_KIND, as for a link kind it does not model.
 */
const UNMODELLED_WITH_VALUE = new Set([
  "carrier",
  "protodown",
  "netns",
  "vrf",
  "mode",
  "state",
  "gso_max_size",
  "gso_max_segs",
  "gro_max_size",
  "parentdev",
  "xdp",
  "xdpgeneric",
  "xdpdrv",
  "xdpoffload",
  "vf",
]);

/** Stops `ifsim ip` on an attribute it does not model (see UNMODELLED_WITH_VALUE). */
function unmodelledAttr(ctx: IpLinkContext, word: string): never {
  ctx.err(`ifsim: ifsim does not model "ip link ${word}"; exit status ${EXIT_UNMODELLED_KIND}\n`);
  throw new IpExit(EXIT_UNMODELLED_KIND);
}

function onOff(io: IpIo, msg: string, val: string): -1 {
  io.err(`Error: argument of "${msg}" must be "on" or "off", not "${val}"\n`);
  return -1;
}

/** NEXT_ARG(): the word at `i` (the caller has advanced), or "Command line is not complete". */
function nextArg(io: IpIo, args: readonly string[], i: number): string {
  if (i >= args.length) incompleteCommand(io);
  return args[i] as string;
}

/**
 * iplink_parse(): fills `req` from `args`; returns the words consumed and the `type`, or -1
 * after printing an error. exit()-style errors throw IpExit.
 */
function iplinkParse(
  ctx: IpLinkContext,
  args: readonly string[],
  req: Req,
  create: boolean,
): Parsed | -1 {
  let name: Ptr | null = null;
  let dev: Ptr | null = null;
  let link: string | null = null;
  let type: string | null = null;
  let index = 0;
  let addrLen = 0;
  // iproute2 starts these at -1 and checks "!= -1" for a duplicate: a first value of -1 is
  // not one.
  let qlen: number | null = null;
  let mtu: number | null = null;
  let numtx: number | null = null;
  let numrx: number | null = null;
  let group: number | null = null;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "up") {
      req.ifiChange |= IFF.UP;
      req.ifiFlags |= IFF.UP;
    } else if (a === "down") {
      req.ifiChange |= IFF.UP;
      req.ifiFlags &= ~IFF.UP;
    } else if (a === "name") {
      const v = nextArg(ctx, args, ++i);
      if (name) duparg(ctx, "name", v);
      if (!checkIfname(v)) invarg(ctx, '"name" not a valid ifname', v);
      name = { s: v };
      if (!dev) dev = name;
    } else if (a === "index") {
      const v = nextArg(ctx, args, ++i);
      if (index) duparg(ctx, "index", v);
      index = atoi(v);
      if (index <= 0) invarg(ctx, 'Invalid "index" value', v);
    } else if (matches(a, "link")) {
      link = nextArg(ctx, args, ++i);
    } else if (matches(a, "address")) {
      const b = llAddrA2n(ctx, nextArg(ctx, args, ++i));
      if (!b) return -1;
      addrLen = b.length;
      req.attrs.address = llAddrN2a(b);
    } else if (matches(a, "broadcast") || a === "brd") {
      const b = llAddrA2n(ctx, nextArg(ctx, args, ++i));
      if (!b) return -1;
      req.attrs.broadcast = llAddrN2a(b);
    } else if (matches(a, "txqueuelen") || a === "qlen" || matches(a, "txqlen")) {
      const v = nextArg(ctx, args, ++i);
      if (qlen !== null && qlen !== -1) duparg(ctx, "txqueuelen", v);
      qlen = getInteger(v);
      if (qlen === null) invarg(ctx, 'Invalid "txqueuelen" value\n', v);
      req.attrs.txqlen = qlen >>> 0;
    } else if (a === "mtu") {
      const v = nextArg(ctx, args, ++i);
      if (mtu !== null && mtu !== -1) duparg(ctx, "mtu", v);
      mtu = getInteger(v);
      if (mtu === null) invarg(ctx, 'Invalid "mtu" value\n', v);
      req.attrs.mtu = mtu;
    } else if (ONOFF_FLAGS.has(a)) {
      const f = ONOFF_FLAGS.get(a) as { bit: number; onSets: boolean };
      const v = nextArg(ctx, args, ++i);
      req.ifiChange |= f.bit;
      if (v === "on" || v === "off") {
        if ((v === "on") === f.onSets) req.ifiFlags |= f.bit;
        else req.ifiFlags &= ~f.bit;
      } else {
        return onOff(ctx, a, v);
      }
    } else if (a === "group") {
      const v = nextArg(ctx, args, ++i);
      if (group !== null) duparg(ctx, "group", v);
      group = groupA2n(v);
      if (group === null) invarg(ctx, 'Invalid "group" value\n', v);
      req.attrs.group = group;
    } else if ((a === "carrier" || a === "protodown") && !create) {
      const v = nextArg(ctx, args, ++i);
      if (v !== "on" && v !== "off") {
        // parse_on_off() (lib/utils.c), not the flags' own message.
        ctx.err(`Error: argument of "${a}" must be one of "off", "on", not "${v}"\n`);
        return -1;
      }
      if (a === "carrier") req.attrs.carrier = v === "on";
      else req.attrs.protoDown = v === "on";
    } else if (UNMODELLED_WITH_VALUE.has(a)) {
      unmodelledAttr(ctx, a);
    } else if (matches(a, "master")) {
      const v = nextArg(ctx, args, ++i);
      const idx = ctx.cache.nameToIndex(v);
      if (!idx) invarg(ctx, "Device does not exist\n", v);
      req.attrs.master = idx;
    } else if (matches(a, "nomaster")) {
      req.attrs.master = 0;
    } else if (matches(a, "dynamic")) {
      const v = nextArg(ctx, args, ++i);
      req.ifiChange |= IFF.DYNAMIC;
      if (v === "on") req.ifiFlags |= IFF.DYNAMIC;
      else if (v === "off") req.ifiFlags &= ~IFF.DYNAMIC;
      else return onOff(ctx, "dynamic", v);
    } else if (matches(a, "type")) {
      type = nextArg(ctx, args, ++i);
      i++;
      break;
    } else if (matches(a, "alias")) {
      const v = nextArg(ctx, args, ++i);
      if (new TextEncoder().encode(v).length >= 256) invarg(ctx, "alias too long\n", v);
      req.attrs.ifalias = v;
    } else if (matches(a, "numtxqueues")) {
      const v = nextArg(ctx, args, ++i);
      if (numtx !== null && numtx !== -1) duparg(ctx, "numtxqueues", v);
      numtx = getInteger(v);
      if (numtx === null) invarg(ctx, 'Invalid "numtxqueues" value\n', v);
      req.attrs.numTxQueues = numtx;
    } else if (matches(a, "numrxqueues")) {
      const v = nextArg(ctx, args, ++i);
      if (numrx !== null && numrx !== -1) duparg(ctx, "numrxqueues", v);
      numrx = getInteger(v);
      if (numrx === null) invarg(ctx, 'Invalid "numrxqueues" value\n', v);
      req.attrs.numRxQueues = numrx;
    } else if (matches(a, "addrgenmode")) {
      unmodelledAttr(ctx, "addrgenmode");
    } else if (matches(a, "link-netns") || matches(a, "link-netnsid")) {
      unmodelledAttr(ctx, a);
    } else {
      let v = a;
      if (matches(a, "help")) iplinkUsage(ctx);
      if (a === "dev") v = nextArg(ctx, args, ++i);
      if (dev !== name) duparg2(ctx, "dev", v);
      if (!checkAltifname(v)) invarg(ctx, '"dev" not a valid ifname', v);
      dev = { s: v };
    }
  }
  const consumed = i;
  if (!name) name = dev;
  else if (!dev) dev = name;
  else if (name.s === dev.s) name = dev;

  if (dev && addrLen && !create) {
    const g = rtnlGetlink(ctx.k, { ifindex: 0, ifname: dev.s });
    if (!(typeof g === "number" && isNegErrno(g))) {
      const halen = (g as LinkSnapshot).address.split(":").length;
      if (halen !== addrLen) {
        ctx.err(`Invalid address length ${addrLen} - must be ${halen} bytes\n`);
        return -1;
      }
    }
  }
  if (!create && index) {
    ctx.err("index can be used only when creating devices.\n");
    throw new IpExit(255);
  }
  // `ip link set|delete group N …` without a device: the request goes to index 0 with
  // IFLA_GROUP, and the kernel applies it to every device of the group.
  if (group !== null && !dev) {
    if (consumed < args.length) {
      ctx.err(`Garbage instead of arguments "${args[consumed]} ...". Try "ip link help".\n`);
      throw new IpExit(255);
    }
    if (create) {
      ctx.err("group cannot be used when creating devices.\n");
      throw new IpExit(255);
    }
    req.ifindex = 0;
    return { consumed, type: null };
  }
  if (!create) {
    if (!dev) {
      ctx.err('Not enough information: "dev" argument is required.\n');
      throw new IpExit(255);
    }
    req.ifindex = ctx.cache.nameToIndex(dev.s);
    if (!req.ifindex) {
      ctx.err(`Cannot find device "${dev.s}"\n`);
      return -1;
    }
    if (name === dev) name = null;
  } else {
    if (name !== dev) {
      ctx.err('both "name" and "dev" cannot be used when creating devices.\n');
      throw new IpExit(255);
    }
    if (link !== null && !ctx.cache.nameToIndex(link)) {
      ctx.err(`Cannot find device "${link}"\n`);
      return -1;
    }
    req.ifindex = index;
  }
  if (name) req.attrs.ifname = name.s;
  return { consumed, type };
}

/** atoi(). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  return Number(BigInt.asIntN(32, BigInt(m[1] as string)));
}

/**
 * The exit status of `ifsim ip` when a command uses a link kind Linux has but the model does not
 * (documented in `ifsim ip --help` and the README). The batch stops there even with -force:
 * what follows would run against a state the kernel would not have.
 */
export const EXIT_UNMODELLED_KIND = 3;

/**
 * Link kinds Linux has (iproute2 6.1's `ip link help` TYPE list and a few more the kernel
 * registers). A kind outside this list and the model is unknown to both: the kernel answers
 * "Unknown device type" as the model does.
 */
export const LINUX_KINDS: ReadonlySet<string> = new Set([
  ...IPLINK_USAGE.slice(IPLINK_USAGE.indexOf("TYPE :=") + 7)
    .replace(/[{}|\s]+/g, " ")
    .trim()
    .split(" "),
  "wireguard",
  "hsr",
  "batadv",
  "ipvlan",
  "netkit",
  "team",
]);

/** Kinds whose link_util has no parse_opt (ip/iplink_ifb.c, iplink_dummy.c, …). */
const KINDS_WITHOUT_OPTS = new Set(["ifb", "dummy", "nlmon", "vcan"]);

/** veth_parse_opt(): `peer [options]`. Returns the peer request or -1. */
function vethParseOpt(ctx: IpLinkContext, args: readonly string[]): Req | -1 {
  if (args[0] !== "peer") {
    // usage() → print_usage(stdout) in ip/link_veth.c (measured: stdout, "ip link add help").
    ctx.out(
      "Usage: ip link <options> type veth [peer <options>]\nTo get <options> type 'ip link add help'\n",
    );
    return -1;
  }
  const peer = newReq();
  const r = iplinkParse(ctx, args.slice(1), peer, true);
  if (r === -1) return -1;
  if (r.type !== null) duparg(ctx, "type", args[r.consumed] ?? "(null)");
  return peer;
}

/**
 * iplink_modify(): `ip link add|set|replace|delete`. Returns do_cmd's value (0, -1, -2).
 * @iproute2 iplink_modify() in ip/iplink.c (6.1)
 */
export function iplinkModify(
  ctx: IpLinkContext,
  cmd: "add" | "set" | "replace" | "del",
  args: readonly string[],
): number {
  const create = cmd === "add" || cmd === "replace";
  const req = newReq();
  const p = iplinkParse(ctx, args, req, create);
  if (p === -1) return -1;
  let peer: Req | null = null;
  if (p.type !== null && !ctx.k.registry.linkOps.has(p.type) && LINUX_KINDS.has(p.type)) {
    ctx.err(
      `ifsim: ifsim does not model link kind "${p.type}" (modelled: ${[...ctx.k.registry.linkOps.keys()].sort().join(", ")}); exit status ${EXIT_UNMODELLED_KIND}\n`,
    );
    throw new IpExit(EXIT_UNMODELLED_KIND);
  }
  if (p.type !== null) {
    const rest = args.slice(p.consumed);
    const hasUtil = p.type === "veth" || KINDS_WITHOUT_OPTS.has(p.type);
    if (hasUtil && rest.length > 0) {
      if (p.type === "veth") {
        const r = vethParseOpt(ctx, rest);
        if (r === -1) return -1;
        peer = r;
      }
    } else if (rest.length > 0) {
      if (matches(rest[0] as string, "help")) iplinkUsage(ctx);
      ctx.err(`Garbage instead of arguments "${rest[0]} ...". Try "ip link help".\n`);
      return -1;
    }
  } else if (create) {
    ctx.err('Not enough information: "type" argument is required\n');
    return -1;
  }
  let r: RtnlResult;
  if (cmd === "del") {
    r =
      req.ifindex === 0 && req.attrs.group !== undefined
        ? rtnlDellink(ctx.k, { ifindex: 0, group: req.attrs.group })
        : rtnlDellink(ctx.k, { ifindex: req.ifindex });
  } else {
    const nlFlags =
      cmd === "add"
        ? NLM_F.CREATE | NLM_F.EXCL
        : cmd === "replace"
          ? NLM_F.CREATE | NLM_F.REPLACE
          : 0;
    // The request's optional members are present only when set (no object spreads: this runs
    // once per command).
    const lr: Mutable<LinkRequest> = {
      ifindex: req.ifindex,
      nlFlags,
      ifiFlags: req.ifiFlags,
      ifiChange: req.ifiChange,
      attrs: req.attrs,
    };
    if (p.type !== null) lr.kind = p.type;
    if (peer) {
      lr.peer = peer.attrs;
      lr.peerIfindex = peer.ifindex;
      lr.peerIfiFlags = peer.ifiFlags;
      lr.peerIfiChange = peer.ifiChange;
    }
    r = rtnlNewlink(ctx.k, lr);
  }
  if (r.ret < 0) {
    talkError(ctx, r);
    return -2;
  }
  ctx.cache.drop(req.ifindex);
  return 0;
}

/**
 * `ip link property add|del dev X altname A…`.
 * @iproute2 iplink_prop() / iplink_prop_mod() in ip/iplink.c (6.1)
 */
export function iplinkProp(ctx: IpLinkContext, args: readonly string[]): number {
  if (args.length === 0) iplinkUsage(ctx);
  const op0 = args[0] as string;
  let op: "add" | "del";
  if (matches(op0, "add")) op = "add";
  else if (matches(op0, "del")) op = "del";
  else if (matches(op0, "help")) iplinkUsage(ctx);
  else {
    ctx.err("Operator required\n");
    throw new IpExit(255);
  }
  const alts: string[] = [];
  let dev: string | null = null;
  for (let i = 1; i < args.length; i++) {
    const a = args[i] as string;
    const next = (): string => {
      i++;
      if (i >= args.length) incompleteCommand(ctx);
      return args[i] as string;
    };
    if (matches(a, "altname")) {
      const v = next();
      if (!checkAltifname(v)) invarg(ctx, "not a valid altname", v);
      alts.push(v);
    } else if (matches(a, "help")) {
      iplinkUsage(ctx);
    } else {
      const v = a === "dev" ? next() : a;
      if (dev !== null) duparg2(ctx, "dev", v);
      if (!checkAltifname(v)) invarg(ctx, '"dev" not a valid ifname', v);
      dev = v;
    }
  }
  if (dev === null) {
    ctx.err('Not enough of information: "dev" argument is required.\n');
    throw new IpExit(255);
  }
  const ifindex = ctx.cache.nameToIndex(dev);
  if (!ifindex) {
    ctx.err(`Cannot find device "${dev}"\n`);
    return -1;
  }
  // One RTM_NEWLINKPROP / RTM_DELLINKPROP carrying every IFLA_ALT_IFNAME.
  const r = rtnlLinkprop(ctx.k, { op, ifindex, altname: alts });
  if (r.ret < 0) {
    talkError(ctx, r);
    return -2;
  }
  return 0;
}

/** Address-filter words get_filter() takes before a device name (ip/ipaddress.c). */
const ADDR_FILTER_WORDS = new Set([
  "dynamic",
  "permanent",
  "primary",
  "secondary",
  "temporary",
  "nodad",
  "optimistic",
  "dadfailed",
  "home",
  "deprecated",
  "tentative",
  "mngtmpaddr",
  "noprefixroute",
  "autojoin",
  "stable-privacy",
]);

interface LinkFilter {
  up: boolean;
  kind: string | null;
  slaveKind: string | null;
  ifindex: number;
  /** `master DEV`: only links enslaved to this ifindex (0 = no filter). */
  master: number;
  /** `group G`: only links in this device group (null = no filter). */
  group: number | null;
}

/**
 * rtnl_group_a2n(): a group name from /etc/iproute2/group (only "default" here) or a number
 * strtol(…, 0) reads whole (clamped to a long), kept in an int: a negative int is refused, so
 * 4294967295 and -1 are invalid while 4294967296 is group 0. Returns the group or null.
 * @iproute2 rtnl_group_a2n() in lib/rt_names.c
 */
export function groupA2n(arg: string): number | null {
  if (arg === "default") return 0;
  const v = strtolFull(arg);
  if (v === null) return null;
  const LONG_MAX = (1n << 63n) - 1n;
  const clamped = v > LONG_MAX ? LONG_MAX : v < -LONG_MAX - 1n ? -LONG_MAX - 1n : v;
  const i = Number(BigInt.asIntN(32, clamped));
  return i < 0 ? null : i;
}

function passes(f: LinkFilter, s: LinkSnapshot): boolean {
  if (f.ifindex && s.ifindex !== f.ifindex) return false;
  if (f.master && s.master !== f.master) return false;
  if (f.group !== null && s.group !== f.group) return false;
  if (f.up && !(s.flags & IFF.UP)) return false;
  if (f.kind !== null && s.kind !== f.kind) return false;
  if (f.slaveKind !== null) return false;
  return true;
}

/**
 * `ip link show [dev] X [up] [type KIND]` and bare `ip link`.
 * @iproute2 ipaddr_list_flush_or_save() / iplink_get() in ip/ipaddress.c, ip/iplink.c (6.1)
 */
export function iplinkList(ctx: IpLinkContext, args: readonly string[]): number {
  const f: LinkFilter = {
    up: false,
    kind: null,
    slaveKind: null,
    ifindex: 0,
    master: 0,
    group: null,
  };
  let filterDev: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const next = (): string => {
      i++;
      if (i >= args.length) incompleteCommand(ctx);
      return args[i] as string;
    };
    if (a === "group") {
      const g = groupA2n(next());
      if (g === null) invarg(ctx, 'Invalid "group" value\n', args[i] as string);
      f.group = g;
    } else if (a === "to" || a === "scope" || a === "label" || a === "vrf") {
      next();
    } else if (a === "master") {
      const v = next();
      f.master = ctx.cache.nameToIndex(v);
      if (!f.master) invarg(ctx, "Device does not exist\n", v);
    } else if (a === "up") {
      f.up = true;
    } else if (ADDR_FILTER_WORDS.has(a.startsWith("-") ? a.slice(1) : a)) {
      // address flag filters: they do not affect link lines.
    } else if (a === "nomaster") {
      // no masters in the model
    } else if (a === "type") {
      const v = next();
      if (v.endsWith("_slave") && v.length >= 6) f.slaveKind = v.slice(0, -6);
      else f.kind = v;
    } else {
      let v = a;
      if (a === "dev") v = next();
      else if (matches(a, "help")) iplinkUsage(ctx);
      if (filterDev !== null) duparg2(ctx, "dev", v);
      filterDev = v;
    }
  }
  if (filterDev !== null) {
    f.ifindex = ctx.cache.nameToIndex(filterDev);
    if (f.ifindex <= 0) {
      ctx.err(`Device "${filterDev}" does not exist.\n`);
      return -1;
    }
  }
  const w = ctx.opts.json ? new JsonWriter(ctx.opts.pretty ?? false) : null;
  w?.startArray();
  const pctx: LinkPrintContext = { msg: "RTM_NEWLINK", cache: ctx.cache, show: true };
  const print = (s: LinkSnapshot): void => {
    const ok = passes(f, s);
    if (w) {
      if (ok) writeLinkJson(w, s, pctx, ctx.opts);
      else {
        w.startObject();
        w.endObject();
      }
    } else if (ok) {
      ctx.out(formatLinkText(s, pctx, ctx.opts));
    }
  };
  // Only a lone `dev X` (no group filter) asks for one link (iplink_get).
  if (filterDev !== null && f.group === null) {
    const g = rtnlGetlink(ctx.k, { ifindex: 0, ifname: filterDev });
    if (typeof g === "number" && isNegErrno(g)) {
      ctx.err(`RTNETLINK answers: ${strerror(g)}\n`);
      ctx.err(`Cannot send link get request: ${strerror(g)}\n`);
      throw new IpExit(1);
    }
    print(g as LinkSnapshot);
  } else {
    // iplink_filter_req() puts `master` and `type` into the dump request, so the kernel leaves
    // those devices out (no `{}` for them in JSON); rtnl_dump_filter(store_nlmsg): every
    // answer is remembered before anything prints.
    const all = rtnlDumpLinks(ctx.k, {
      ...(f.master ? { master: f.master } : {}),
      ...(f.kind !== null ? { kind: f.kind } : {}),
    });
    for (const s of all) ctx.cache.remember("RTM_NEWLINK", s);
    // A device other than `dev X` is left out altogether (measured: no `{}` for it in JSON).
    for (const s of all) if (!f.ifindex || s.ifindex === f.ifindex) print(s);
  }
  if (w) {
    w.endArray();
    ctx.out(`${w.text}\n`);
  }
  return 0;
}

/**
 * do_iplink(): dispatches `ip link …`.
 * @iproute2 do_iplink() in ip/iplink.c (6.1)
 */
export function doIplink(ctx: IpLinkContext, args: readonly string[]): number {
  if (args.length < 1) return iplinkList(ctx, []);
  const a = args[0] as string;
  const rest = args.slice(1);
  if (matches(a, "add")) return iplinkModify(ctx, "add", rest);
  if (matches(a, "set") || matches(a, "change")) return iplinkModify(ctx, "set", rest);
  if (matches(a, "replace")) return iplinkModify(ctx, "replace", rest);
  if (matches(a, "delete")) return iplinkModify(ctx, "del", rest);
  if (matches(a, "show") || matches(a, "lst") || matches(a, "list")) return iplinkList(ctx, rest);
  if (matches(a, "property")) return iplinkProp(ctx, rest);
  if (matches(a, "help")) iplinkUsage(ctx);
  ctx.err(`Command "${a}" is unknown, try "ip link help".\n`);
  throw new IpExit(255);
}
