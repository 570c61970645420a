// iproute2 6.1 lib/utils.c helpers: keyword matching, number and lladdr parsing, name checks,
// and the exit()-style error helpers (invarg, duparg, incomplete_command).

import { utf8Length } from "../sim/utf8.ts";

/** Thrown where iproute2 calls exit(): ends the command (and a whole batch) with `status`. */
export class IpExit extends Error {
  override readonly name = "IpExit";
  readonly status: number;
  constructor(status: number) {
    super(`ip exited with status ${status}`);
    this.status = status;
  }
}

/** Where a command writes: stdout and stderr buffers of the `ip` process. */
export interface IpIo {
  out(s: string): void;
  err(s: string): void;
  /** The kernel answered a request with this negative errno (for run records). */
  kernelError?(ret: number): void;
}

/** matches(): true when `cmd` is a non-empty prefix of `pattern`. */
export function matches(cmd: string, pattern: string): boolean {
  // iproute2's matches() takes an empty word for no prefix at all: `ip link show ""` looks for
  // a device "" rather than meaning "help".
  return cmd !== "" && cmd.length <= pattern.length && pattern.startsWith(cmd);
}

/** invarg(): `Error: argument "ARG" is wrong: MSG` then exit(-1). */
export function invarg(io: IpIo, msg: string, arg: string): never {
  io.err(`Error: argument "${arg}" is wrong: ${msg}\n`);
  throw new IpExit(255);
}

/** duparg(). */
export function duparg(io: IpIo, key: string, arg: string): never {
  io.err(`Error: duplicate "${key}": "${arg}" is the second value.\n`);
  throw new IpExit(255);
}

/** duparg2(). */
export function duparg2(io: IpIo, key: string, arg: string): never {
  io.err(`Error: either "${key}" is duplicate, or "${arg}" is a garbage.\n`);
  throw new IpExit(255);
}

/** incomplete_command(). */
export function incompleteCommand(io: IpIo): never {
  io.err('Command line is not complete. Try option "help"\n');
  throw new IpExit(255);
}

const C_SPACE = new Set([" ", "\t", "\n", "\v", "\f", "\r"]);

/** isspace() in the C locale. */
export function isCSpace(ch: string): boolean {
  return C_SPACE.has(ch);
}

function checkIfnameChars(name: string): boolean {
  if (name === "") return false;
  // By UTF-16 unit: '/' and the C locale's spaces are ASCII, never part of a wider character.
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0x20 || (c >= 0x09 && c <= 0x0d)) return false;
  }
  return true;
}

/** check_ifname(): 0-OK as a boolean — non-empty, < IFNAMSIZ bytes, no '/' or whitespace. */
export function checkIfname(name: string): boolean {
  if (utf8Length(name) >= 16) return false;
  return checkIfnameChars(name);
}

/** check_altifname(): like check_ifname without the length limit. */
export function checkAltifname(name: string): boolean {
  return checkIfnameChars(name);
}

/** strtol(arg, &end, 0) over the whole string: the value, or null unless it is all consumed. */
export function strtolFull(arg: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:(0[xX])([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(arg);
  if (!m) return null;
  const neg = m[1] === "-";
  let v: bigint;
  if (m[3] !== undefined) v = BigInt(`0x${m[3]}`);
  else if (m[4] !== undefined) v = m[4].length > 1 ? BigInt(`0o${m[4].slice(1)}`) : 0n;
  else v = BigInt(m[5] as string);
  return neg ? -v : v;
}

/** get_integer(&val, arg, 0): a C int, or null when ip would reject it. */
export function getInteger(arg: string): number | null {
  if (arg === "") return null;
  const v = strtolFull(arg);
  if (v === null) return null;
  if (v < -2147483648n || v > 2147483647n) return null;
  return Number(v);
}

/** sscanf(seg, "%x"): the value or null when no hex digits could be read. */
function scanHex(seg: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/.exec(seg);
  if (!m) return null;
  const v = BigInt(`0x${m[2]}`);
  return m[1] === "-" ? -v : v;
}

/** strtoul(cp, &end, 0) prefix: value and the rest, or null when no digits. */
function strtoulPrefix(s: string): { v: bigint; rest: string } | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:(0[xX])([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))/.exec(s);
  if (!m) return null;
  let v: bigint;
  if (m[3] !== undefined) v = BigInt(`0x${m[3]}`);
  else if (m[4] !== undefined) v = m[4].length > 1 ? BigInt(`0o${m[4].slice(1)}`) : 0n;
  else v = BigInt(m[5] as string);
  if (m[1] === "-") v = (1n << 64n) - v;
  return { v, rest: s.slice(m[0].length) };
}

/** get_addr_ipv4(): four bytes, or null. */
function getAddrIpv4(cp: string): number[] | null {
  const out = [0, 0, 0, 0];
  let s = cp;
  for (let i = 0; i < 4; i++) {
    const r = strtoulPrefix(s);
    if (!r || r.v > 255n) return null;
    out[i] = Number(r.v);
    if (r.rest === "") break;
    if (i === 3 || r.rest[0] !== ".") return null;
    s = r.rest.slice(1);
  }
  return out;
}

/**
 * ll_addr_a2n(): parses a link-layer address ("aa:bb:…" hex bytes, or a dotted IPv4 form).
 * Prints `"SEG" is invalid lladdr.` and returns null on error.
 */
export function llAddrA2n(io: IpIo, arg: string, maxLen = 32): number[] | null {
  if (arg.includes(".")) {
    const b = getAddrIpv4(arg);
    if (!b) {
      io.err(`"${arg}" is invalid lladdr.\n`);
      return null;
    }
    return b;
  }
  const out: number[] = [];
  let rest = arg;
  for (let i = 0; i < maxLen; i++) {
    const c = rest.indexOf(":");
    const seg = c >= 0 ? rest.slice(0, c) : rest;
    const v = scanHex(seg);
    if (v === null || v < 0n || v > 255n) {
      io.err(`"${seg}" is invalid lladdr.\n`);
      return null;
    }
    out.push(Number(v));
    if (c < 0) break;
    rest = rest.slice(c + 1);
  }
  return out;
}

/** ll_addr_n2a() for Ethernet-style addresses: lower-case hex bytes joined by ':'. */
export function llAddrN2a(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}
