// Why a step failed, in words, from the model's state and trace at the moment it failed: the
// cause chain a person needs to read a result in ten seconds. Only the failures whose cause the
// model can show are explained; others get no cause rather than a guess.

import {
  devGetByName,
  IFF,
  IFF_PRIV,
  type Kernel,
  type NetDevice,
  netdevMasterUpperDevGet,
} from "../kernel/index.ts";

/** Splits an ip command line like a shell (as run.ts's splitArgs, which imports this file). */
function splitArgs(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

/** Seconds of virtual time, as the timeline prints them ("2.400 s"). */
function secs(us: number): string {
  return `${(us / 1_000_000).toFixed(3)} s`;
}

/** The device name and new name of `link set [dev] DEV name NEW`, or null. */
export function renameTarget(ipLine: string): { dev: string; to: string } | null {
  const w = splitArgs(ipLine).filter((x) => !x.startsWith("-"));
  if (w[0] === undefined || !"link".startsWith(w[0]) || w[1] !== "set") return null;
  let i = 2;
  if (w[i] === "dev") i++;
  const dev = w[i];
  const n = w.indexOf("name", i + 1);
  const to = n > 0 ? w[n + 1] : undefined;
  return dev !== undefined && to !== undefined ? { dev, to } : null;
}

/**
 * How `dev` came to be UP: opened while it registered (net_failover opens a new slave of an UP
 * master), opened with its master (net_failover_open opens the slaves, then the master's
 * NETDEV_UP follows), or brought up at some time.
 */
function upStory(k: Kernel, ifindex: number, master: NetDevice | undefined): string | null {
  const ev = k.trace.events;
  let up = -1;
  for (let i = ev.length - 1; i >= 0; i--) {
    const e = ev[i];
    if (e?.type === "kernel.notify" && e.ifindex === ifindex && e.event === "NETDEV_UP") {
      up = i;
      break;
    }
  }
  if (up < 0) return null;
  const upEv = ev[up] as (typeof ev)[number];
  // Opened inside its own registration: going back from NETDEV_UP at the same instant, a
  // NETDEV_CHANGEUPPER (enslaved by a NETDEV_REGISTER listener such as net_failover's), then its
  // NETDEV_REGISTER, with no other open, close or registration of it between.
  let enslaved = false;
  for (let i = up - 1; i >= 0; i--) {
    const e = ev[i];
    if (e === undefined || e.t !== upEv.t) break;
    if (e.type !== "kernel.notify" || e.ifindex !== ifindex) continue;
    if (e.event === "NETDEV_CHANGEUPPER") enslaved = true;
    else if (e.event === "NETDEV_REGISTER") {
      if (enslaved) return `opened while it registered, ${secs(upEv.t)}`;
      break;
    } else if (e.event === "NETDEV_UP" || e.event === "NETDEV_DOWN") break;
  }
  if (master)
    for (let i = up + 1; i < ev.length; i++) {
      const e = ev[i];
      if (e === undefined || e.t !== upEv.t) break;
      if (e.type === "kernel.notify" && e.ifindex === master.ifindex && e.event === "NETDEV_UP")
        return `opened with its master ${master.name} (${master.driver}), ${secs(upEv.t)}`;
    }
  return `up since ${secs(upEv.t)}`;
}

/**
 * The cause of a rename's EBUSY: the device is UP, and this kernel refuses to rename an UP
 * device (5.0 and older), or one without IFF_LIVE_RENAME_OK (5.1–6.1: only failover slaves
 * carry it). Null when the state does not show that cause (the device is gone or down).
 * @kernel dev_change_name() in net/core/dev.c: the IFF_UP check, per KernelProfile.renameWhileUp
 * @example renameBusyCause(k, "eth2") // "eth2 is UP (opened by its failover master eth0 while it registered, 0.000 s) and Linux 5.0 renames no UP device (…)"
 */
export function renameBusyCause(k: Kernel, name: string): string | null {
  const dev = devGetByName(k, name);
  if (!dev || !(dev.flags & IFF.UP)) return null;
  const master = netdevMasterUpperDevGet(k, dev);
  let story = upStory(k, dev.ifindex, master);
  if (story?.startsWith("opened while") && master)
    story = `opened by its master ${master.name} (${master.driver}) ${story.slice("opened ".length)}`;
  // e.g. "opened with its master ens3 (net_failover), 0.011 s"
  const up = `${name} is UP${story ? ` (${story})` : ""}`;
  const v = k.profile.version;
  if (k.profile.renameWhileUp === "never")
    return `${up} and Linux ${v} renames no UP device (failover slaves may from 5.1 on: IFF_LIVE_RENAME_OK, commit 8065a779f17e)`;
  if (k.profile.renameWhileUp === "flag" && !(dev.privFlags & IFF_PRIV.IFF_LIVE_RENAME_OK))
    return `${up} and lacks IFF_LIVE_RENAME_OK, which Linux ${v} needs to rename an UP device (only failover slaves carry it; any device from 6.2 on, commit bd039b5ea2a9)`;
  return null;
}

/** The cause of a failed `ip` step, when the model can show it (see renameBusyCause). */
export function ipFailureCause(k: Kernel, ipLine: string, errno: string | null): string | null {
  if (errno !== "EBUSY") return null;
  const r = renameTarget(ipLine);
  return r ? renameBusyCause(k, r.dev) : null;
}
