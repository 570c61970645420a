// iproute2 6.1 ip/ip.c: global options, do_cmd() and -batch, as an in-process `ip`.

import { type Kernel, runDueWork } from "../kernel/index.ts";
import { doIplink, type IpLinkContext } from "./iplink.ts";
import { LlMap } from "./ll-map.ts";
import type { IpOptions } from "./print-link.ts";
import { IpExit, type IpIo, matches } from "./utils.ts";

/** What one `ip` invocation printed and its exit status. */
export interface IpResult {
  stdout: string;
  stderr: string;
  status: number;
  /** stdout (1) and stderr (2) writes in the order ip made them, for a terminal transcript. */
  chunks: { fd: 1 | 2; text: string }[];
  /** The last error the kernel answered a request with (negative errno), or null. */
  errno?: number | null;
}

function newResult(): { r: IpResult; io: IpIo } {
  const r: IpResult = { stdout: "", stderr: "", status: 0, chunks: [] };
  const io: IpIo = {
    out: (s) => {
      r.stdout += s;
      r.chunks.push({ fd: 1, text: s });
    },
    err: (s) => {
      r.stderr += s;
      r.chunks.push({ fd: 2, text: s });
    },
    kernelError: (ret) => {
      r.errno = ret;
    },
  };
  return { r, io };
}

/** IpOptions plus the hook that lets the kernel's deferred work run after each command. */
export interface IpProcessOptions extends IpOptions {
  /**
   * Called after every command (like the workqueue running once RTNL is released). Default:
   * run the work that is due at the current virtual time.
   */
  settle?: () => void;
  /**
   * ifsim extension: a batch line `#ifsim: TEXT` (a comment to the real `ip`) is handed to this
   * hook (hypervisor actions such as hot-plug). It returns null, or an error message that ends
   * the batch like a failed command.
   */
  directive?: (text: string) => string | null;
}

/** The prefix of an ifsim directive line in a batch file. */
export const DIRECTIVE_PREFIX = "#ifsim:";

/** ip.c's object table, in its order (matches() picks the first prefix match). */
export const IP_OBJECTS: readonly string[] = [
  "address",
  "addrlabel",
  "maddress",
  "route",
  "rule",
  "neighbor",
  "neighbour",
  "ntable",
  "ntbl",
  "link",
  "l2tp",
  "fou",
  "ila",
  "macsec",
  "tunnel",
  "tunl",
  "tuntap",
  "tap",
  "token",
  "tcpmetrics",
  "tcp_metrics",
  "monitor",
  "xfrm",
  "mroute",
  "mrule",
  "netns",
  "netconf",
  "vrf",
  "sr",
  "nexthop",
  "mptcp",
  "ioam",
  "stats",
  "help",
];

/**
 * One `ip` process. It keeps iproute2's ll_map cache (ifindex → name/flags) for its lifetime,
 * which matters across the commands of a `-batch` file.
 */
export class IpProcess {
  readonly #k: Kernel;
  readonly #opts: IpOptions;
  readonly #settle: () => void;
  readonly #directive: ((text: string) => string | null) | null;
  readonly #cache: LlMap;

  constructor(k: Kernel, opts: IpProcessOptions = {}) {
    this.#k = k;
    const { settle, directive, ...rest } = opts;
    this.#opts = rest;
    this.#directive = directive ?? null;
    this.#settle =
      settle ??
      (() => {
        while (runDueWork(k)) {}
      });
    this.#cache = new LlMap(k);
  }

  /** The context of the last `io` (one per run or batch): built once, not per command. */
  #last: { readonly io: IpIo; readonly ctx: IpLinkContext } | null = null;

  #ctx(io: IpIo): IpLinkContext {
    if (this.#last?.io === io) return this.#last.ctx;
    const ctx: IpLinkContext = {
      k: this.#k,
      cache: this.#cache,
      opts: this.#opts,
      out: io.out,
      err: io.err,
    };
    const full = io.kernelError ? { ...ctx, kernelError: io.kernelError } : ctx;
    this.#last = { io, ctx: full };
    return full;
  }

  /** do_cmd(): the value main()/batch() see (0 = success). */
  #doCmd(io: IpIo, argv: readonly string[]): number {
    const obj = argv[0] ?? "";
    const hit = ipObject(obj);
    if (hit === undefined) {
      io.err(`Object "${obj}" is unknown, try "ip help".\n`);
      return 1;
    }
    if (hit === "help") {
      // do_help() → usage(): the usage text and exit(-1).
      io.err(IP_USAGE);
      throw new IpExit(255);
    }
    if (hit !== "link") {
      io.err(`ifsim: "ip ${hit}" is not modelled\n`);
      return 1;
    }
    try {
      return -doIplink(this.#ctx(io), argv.slice(1));
    } finally {
      this.#settle();
    }
  }

  /** Runs one command line (the words after the global options), e.g. `["link","show"]`. */
  run(argv: readonly string[]): IpResult {
    const { r, io } = newResult();
    if (argv.length === 0) {
      io.err(IP_USAGE);
      r.status = 255;
      return r;
    }
    try {
      r.status = this.#doCmd(io, argv) & 0xff;
    } catch (e) {
      if (!(e instanceof IpExit)) throw e;
      r.status = e.status;
    }
    return r;
  }

  /**
   * `ip [-force] -batch FILE` over the file's text: comments, blank lines, `\` continuation,
   * quotes; `Command failed FILE:LINE` after a failing command (stop unless -force); an
   * exit()-style error ends the batch at once with its status.
   * @iproute2 batch() in ip/ip.c, getcmdline() / makeargs() in lib/utils.c
   */
  batch(text: string, fileName: string): IpResult {
    const { r, io } = newResult();
    // getline(): each line keeps its "\n"; a last line without one is still a line (cut as
    // read, not all at once: a batch's lines would otherwise all stay alive until its end).
    let pos = 0;
    let lineno = 0;
    const getline = (): string | null => {
      if (pos >= text.length) return null;
      const i = text.indexOf("\n", pos);
      const end = i < 0 ? text.length : i + 1;
      const line = text.slice(pos, end);
      pos = end;
      return line;
    };
    try {
      for (;;) {
        let line = getline();
        if (line === null) break;
        lineno++;
        const trimmed = line.trimStart();
        if (this.#directive && trimmed.startsWith(DIRECTIVE_PREFIX)) {
          const msg = this.#directive(trimmed.slice(DIRECTIVE_PREFIX.length).trim());
          if (msg !== null) {
            io.err(`ifsim: ${fileName}:${lineno}: ${msg}\n`);
            r.status = 1;
            if (!this.#opts.force) break;
          }
          continue;
        }
        line = cutComment(line);
        let eof = false;
        for (let cp = line.indexOf("\\\n"); cp >= 0; cp = line.indexOf("\\\n")) {
          const l1 = getline();
          if (l1 === null) {
            io.err("Missing continuation line\n");
            eof = true;
            break;
          }
          lineno++;
          line = line.slice(0, cp) + cutComment(l1);
        }
        if (eof) break;
        const argv = makeargs(io, line);
        if (argv.length === 0) continue;
        if (this.#doCmd(io, argv) !== 0) {
          io.err(`Command failed ${fileName}:${lineno}\n`);
          r.status = 1;
          if (!this.#opts.force) break;
        }
      }
    } catch (e) {
      if (!(e instanceof IpExit)) throw e;
      r.status = e.status;
    }
    return r;
  }
}

/** ipObject's answers (a pure function of the word; the words a batch uses are few). */
const objectMemo = new Map<string, string | undefined>();

/** The first of IP_OBJECTS that `word` is a prefix of (do_cmd's walk over its table), memoised. */
function ipObject(word: string): string | undefined {
  if (objectMemo.has(word)) return objectMemo.get(word);
  const hit = IP_OBJECTS.find((o) => matches(word, o));
  if (objectMemo.size >= 256) objectMemo.clear();
  objectMemo.set(word, hit);
  return hit;
}

function cutComment(line: string): string {
  const i = line.indexOf("#");
  return i >= 0 ? line.slice(0, i) : line;
}

/** makeargs()'s separators: space, \t, \r, \n. */
function isArgSep(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** makeargs(): splits on " \t\r\n"; a word starting with a quote runs to the same quote. */
function makeargs(io: IpIo, line: string): string[] {
  const argv: string[] = [];
  const len = line.length;
  let i = 0;
  while (i < len) {
    while (i < len && isArgSep(line.charCodeAt(i))) i++;
    if (i >= len) break;
    if (argv.length >= 99) {
      io.err("Too many arguments to command\n");
      throw new IpExit(1);
    }
    const c = line.charCodeAt(i);
    if (c === 0x27 || c === 0x22) {
      const end = line.indexOf(c === 0x27 ? "'" : '"', i + 1);
      if (end < 0) {
        io.err("Unterminated quoted string\n");
        throw new IpExit(1);
      }
      argv.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < len && !isArgSep(line.charCodeAt(end))) end++;
      argv.push(line.slice(i, end));
      if (end >= len) break;
      i = end + 1;
    }
  }
  return argv;
}

/** ip.c usage(). */
const IP_USAGE = `Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
`;

/**
 * Convenience: a fresh `ip` process for one command line.
 * @example runIp(k, ["link", "show"], { json: true })
 */
export function runIp(k: Kernel, argv: readonly string[], opts: IpProcessOptions = {}): IpResult {
  return new IpProcess(k, opts).run(argv);
}

/** Global options understood by the model, by the name main() matches them against. */
const GLOBAL_OPTIONS: readonly {
  opt: string;
  set?: Exclude<keyof IpOptions, "statsLevel">;
  batch?: true;
}[] = [
  { opt: "-stats", set: "stats" },
  { opt: "-statistics", set: "stats" },
  { opt: "-details", set: "details" },
  { opt: "-oneline", set: "oneline" },
  { opt: "-force", set: "force" },
  { opt: "-batch", batch: true },
  { opt: "-brief", set: "brief" },
  { opt: "-json", set: "json" },
  { opt: "-pretty", set: "pretty" },
];

/** Options main() knows but the model does not implement (they come earlier in its list). */
const UNMODELLED_BEFORE = ["-loops", "-family", "-human", "-human-readable", "-iec"];

/** The result of `parseIpGlobalArgs`: the options, or main()'s error for a bad option. */
export type IpGlobalArgs =
  | { opts: IpOptions; batchFile: string | null; rest: string[] }
  | { error: string; status: number };

/**
 * main()'s option loop: `-j/-json`, `-d/-details`, `-br/-brief`, `-o/-oneline`, `-force`,
 * `-s/-stats`, `-p/-pretty`, `-batch FILE` (prefixes as ip matches them).
 * @iproute2 main() in ip/ip.c (6.1)
 */
export function parseIpGlobalArgs(argv: readonly string[]): IpGlobalArgs {
  const opts: IpOptions = {};
  let batchFile: string | null = null;
  let i = 0;
  for (; i < argv.length; i++) {
    let opt = argv[i] as string;
    if (opt === "--") {
      i++;
      break;
    }
    if (!opt.startsWith("-")) break;
    if (opt[1] === "-") opt = opt.slice(1);
    // "-" is a prefix of -loops, which needs a value: alone, it is usage().
    if (opt === "-" && i === argv.length - 1) return { error: IP_USAGE, status: 255 };
    // -r[esolve] (names for addresses: nothing on link lines), -a[ll] (only with -netns) and
    // -c[olor]=never|auto (the model's output is never a terminal) change nothing the model
    // prints; -c[olor] and -color=always would colour it, -N[umeric] print numbers: not modelled.
    const color = /^(-[^=]*)(?:=(.*))?$/.exec(opt);
    const colorHit =
      color !== null && matches(color[1] as string, "-color") && !matches(opt, "-batch");
    if (colorHit && (color[2] === "never" || color[2] === "auto")) continue;
    if (colorHit && (color[2] === undefined || color[2] === "always"))
      return { error: `ifsim: ip option "${opt}" is not modelled\n`, status: 255 };
    if (matches(opt, "-resolve") || (matches(opt, "-all") && !matches(opt, "-batch"))) continue;
    if (matches(opt, "-help") && !matches(opt, "-human")) return { error: IP_USAGE, status: 255 };
    if (matches(opt, "-Numeric"))
      return { error: `ifsim: ip option "${opt}" is not modelled\n`, status: 255 };
    if (
      UNMODELLED_BEFORE.some((o) => matches(opt, o)) ||
      ["-4", "-6", "-0", "-M", "-B"].includes(opt)
    ) {
      return { error: `ifsim: ip option "${opt}" is not modelled\n`, status: 255 };
    }
    const hit = GLOBAL_OPTIONS.find((o) => matches(opt, o.opt));
    if (hit === undefined || opt === "-") {
      if (opt === "-echo" || matches(opt, "-Version") || matches(opt, "-timestamp")) {
        return { error: `ifsim: ip option "${opt}" is not modelled\n`, status: 255 };
      }
      return { error: `Option "${opt}" is unknown, try "ip -help".\n`, status: 255 };
    }
    if (hit.batch) {
      i++;
      if (i >= argv.length) return { error: IP_USAGE, status: 255 };
      batchFile = argv[i] as string;
    } else if (hit.set === "stats" && opts.stats) {
      // ++show_stats: a second -s adds the error rows.
      opts.statsLevel = (opts.statsLevel ?? 1) + 1;
    } else if (hit.set) {
      opts[hit.set] = true;
    }
  }
  return { opts, batchFile, rest: argv.slice(i) };
}
