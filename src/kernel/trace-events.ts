// The kernel's trace events: what dmesg, udev, notifier listeners and netlink listeners see.

import type { NetdevEvent } from "./kernel.ts";
import type { LinkSnapshot } from "./rtnl-msg.ts";

/** A kernel log (dmesg) line, without the timestamp. */
export interface KlogEvent {
  readonly type: "kernel.log";
  readonly level: "info" | "err" | "warn";
  readonly text: string;
}

/** A WARN_ON that fired: the explorer treats it as a violation. */
export interface WarnEvent {
  readonly type: "kernel.warn";
  readonly text: string;
}

/** A kobject uevent for a net class device (lib/kobject_uevent.c). */
export interface UeventEvent {
  readonly type: "kernel.uevent";
  readonly action: "add" | "move" | "remove";
  readonly devpath: string;
  /** DEVPATH_OLD for "move". */
  readonly devpathOld?: string;
  readonly interface: string;
  readonly ifindex: number;
}

/** One notifier chain call (the event and the device it is about). */
export interface NotifyEvent {
  readonly type: "kernel.notify";
  readonly event: NetdevEvent;
  readonly ifindex: number;
  readonly dev: string;
}

/** An rtnetlink multicast to RTNLGRP_LINK carrying a snapshot taken at emission time. */
export interface RtnlEvent {
  readonly type: "kernel.rtnl";
  readonly msg: "RTM_NEWLINK" | "RTM_DELLINK";
  /** ifi_change. */
  readonly change: number;
  /** IFLA_EVENT name when present (e.g. "FEATURES"), else null. */
  readonly event: string | null;
  readonly link: LinkSnapshot;
}

/** A traffic step (frames sent or received) and where the frames ended. */
export interface TrafficEvent {
  readonly type: "kernel.traffic";
  readonly dir: "tx" | "rx";
  readonly dev: string;
  readonly frames: number;
  /** Device that sent (tx) or whose stack received (rx) the frames, or null. */
  readonly to: string | null;
  readonly dropped: number;
  readonly droppedBy: string | null;
}

/** Every event the kernel model records. */
export type KernelEvent =
  | KlogEvent
  | WarnEvent
  | UeventEvent
  | NotifyEvent
  | RtnlEvent
  | TrafficEvent;
