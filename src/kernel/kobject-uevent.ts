// lib/kobject_uevent.c: uevents of net class devices (add / move / remove).

import type { Kernel } from "./kernel.ts";
import type { NetDevice } from "./netdevice.ts";

function devpathOf(dev: NetDevice): string {
  return dev.parent ? `${dev.parent.devpath}/net/${dev.name}` : `/devices/virtual/net/${dev.name}`;
}

/**
 * Sends a uevent for a net class device to userspace (queued in the trace; udev actors read
 * it from there).
 * @kernel kobject_uevent_env() in lib/kobject_uevent.c (DEVPATH, DEVPATH_OLD, INTERFACE, IFINDEX)
 */
export function uevent(
  k: Kernel,
  dev: NetDevice,
  action: "add" | "move" | "remove",
  devpathOld?: string,
): void {
  if (!k.trace.wants("kernel.uevent")) {
    k.trace.skip();
    return;
  }
  const base = {
    type: "kernel.uevent" as const,
    action,
    devpath: devpathOf(dev),
    interface: dev.name,
    ifindex: dev.ifindex,
  };
  k.trace.emit(devpathOld === undefined ? base : { ...base, devpathOld });
}
