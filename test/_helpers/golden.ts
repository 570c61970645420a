// Shared pieces of the golden-scenario runners (golden.test.ts, golden-failover.test.ts):
// scenario line parsing and the fixed-key projection of kernel events.

import { errnoName, type KernelEvent } from "../../src/kernel/index.ts";

/** Splits a scenario line into words; "quoted strings" are JSON strings. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)) {
    out.push(m[0].startsWith('"') ? (JSON.parse(m[0]) as string) : m[0]);
  }
  return out;
}

/** Drops a `#` comment that is not inside a quoted string. */
export function stripComment(line: string): string {
  let inStr = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && inStr) i++;
    else if (c === '"') inStr = !inStr;
    else if (c === "#" && !inStr) return line.slice(0, i);
  }
  return line;
}

/** A kernel return value as goldens show it: "0", "2" or "-EBUSY". */
export function retText(r: number): string {
  if (r >= 0) return String(r);
  return `-${errnoName(r) ?? String(-r)}`;
}

/** How RTM messages are projected. */
export interface RtnlProjection {
  /** Show IFLA_MASTER as this (default: the ifindex). */
  readonly master?: (ifindex: number | null) => unknown;
  /** Include IFLA_EVENT. */
  readonly event?: boolean;
}

/** The golden projection of one kernel event: fixed key order, stable fields only. */
export function goldenEventLine(e: KernelEvent, o: RtnlProjection = {}): Record<string, unknown> {
  switch (e.type) {
    case "kernel.log":
      return { kind: "log", level: e.level, text: e.text };
    case "kernel.warn":
      return { kind: "warn", text: e.text };
    case "kernel.traffic":
      return {
        kind: "traffic",
        dir: e.dir,
        dev: e.dev,
        frames: e.frames,
        to: e.to,
        dropped: e.dropped,
      };
    case "kernel.uevent":
      return {
        kind: "uevent",
        action: e.action,
        ifname: e.interface,
        ifindex: e.ifindex,
        devpath: e.devpath,
        devpath_old: e.devpathOld ?? null,
      };
    case "kernel.notify":
      return { kind: "notify", event: e.event, ifname: e.dev, ifindex: e.ifindex };
    case "kernel.rtnl":
      return {
        kind: "rtnl",
        msg: e.msg,
        ifname: e.link.ifname,
        ifindex: e.link.ifindex,
        change: `0x${e.change.toString(16)}`,
        flags: `0x${e.link.flags.toString(16)}`,
        master: o.master ? o.master(e.link.master) : e.link.master,
        ...(o.event ? { event: e.event } : {}),
        name_assign_type: e.link.nameAssignType,
      };
  }
}
