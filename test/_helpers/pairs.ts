// The per-pair projection of an N-pair boot race state, and the boot race's pair alone
// (test/explore/pair-cutoff.test.ts; see there).

import type { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

/** The boot race's pair `i` alone: its two devices on the same slots, its link for bring-up. */
export function pairAlone(sc: ScenarioDoc, i: number): ScenarioDoc {
  const net = `net${i}`;
  const devices = (sc.devices ?? []).filter(
    (d) => d.id === net || ("failover_pair" in d && d.failover_pair === net),
  );
  const bringup = sc.bringup;
  if (bringup === undefined || bringup === "none") throw new Error("no bring-up");
  return {
    ...sc,
    devices,
    bringup: { ...bringup, links: [bringup.links[i] as string] },
  };
}

/** Pair `i`'s MAC: its devices are the ones carrying it (every pair has its own). */
export function macOf(sc: ScenarioDoc, i: number): string {
  const d = (sc.devices ?? []).find((x) => x.id === `net${i}`);
  if (!d || !("mac" in d) || !d.mac) throw new Error(`no MAC for pair ${i}`);
  return d.mac;
}

/** Pair P's projection of a state (see the file's comment). */
export function projection(sys: ScenarioSystem, mac: string): string {
  const p = sys.p;
  const k = p.k;
  const mine = [...k.state.devices.values(), ...k.state.unlisted.values()].filter(
    (d) => d.permAddr === mac || d.devAddr === mac,
  );
  const role = new Map<number, string>(mine.map((d) => [d.ifindex, d.driver]));
  const ifx = (i: number): string => role.get(i) ?? "other";
  const nm = (n: string): string => n.replace(/^eth\d+$/, "eth#");
  const devs = mine
    .map((d) => ({
      ...d,
      ifindex: ifx(d.ifindex),
      name: nm(d.name),
      uppers: d.uppers.map((u) => ({ ...u, ifindex: ifx(u.ifindex) })),
      lowers: d.lowers.map((u) => ({ ...u, ifindex: ifx(u.ifindex) })),
      rxHandlerData: typeof d.rxHandlerData === "number" ? ifx(d.rxHandlerData) : d.rxHandlerData,
      priv: JSON.parse(
        JSON.stringify(d.priv, (key, v) =>
          typeof v === "number" && ["primary", "standby", "master", "ifindex"].includes(key)
            ? ifx(v)
            : v,
        ),
      ),
    }))
    .sort((a, b) => (a.ifindex < b.ifindex ? -1 : 1));
  const u = p.udev as unknown as {
    save(): {
      queue: { ifindex: number; action: string; ifname: string; order: number }[];
      workers: ({
        ev: { ifindex: number; action: string; ifname: string; order: number };
      } | null)[];
      db: {
        ifindex: number;
        initialized: boolean;
        renaming: boolean;
        name: string;
        properties?: Record<string, string>;
      }[];
      renames: { ifindex: number; from: string; to: string; errno: string | null }[];
    };
  };
  const us = u.save();
  const pending = [...us.queue, ...us.workers.flatMap((j) => (j ? [j.ev] : []))]
    .filter((e) => role.has(e.ifindex))
    .sort((a, b) => a.order - b.order)
    .map((e) => [ifx(e.ifindex), e.action, nm(e.ifname)]);
  const db = us.db
    .filter((e) => role.has(e.ifindex))
    .map((e) => ({
      ...e,
      ifindex: ifx(e.ifindex),
      name: nm(e.name),
      // udev's properties hold the ifindex and, in paths, the kernel name (eth<n>: see below)
      properties: e.properties && {
        ...e.properties,
        ...(e.properties.IFINDEX !== undefined
          ? { IFINDEX: ifx(Number(e.properties.IFINDEX)) }
          : {}),
      },
    }))
    .sort((a, b) => (a.ifindex < b.ifindex ? -1 : 1));
  const renames = us.renames
    .filter((r) => role.has(r.ifindex))
    .map((r) => [ifx(r.ifindex), nm(r.from), nm(r.to), r.errno]);
  const b = p.bringup?.explorerView();
  const bringup = b
    ? {
        seen: b.seen.filter((i) => role.has(i)).map(ifx),
        done: b.done
          .filter((i) => role.has(i))
          .map(ifx)
          .sort(),
      }
    : null;
  const work = k.state.work
    .filter((w) => w.arg !== undefined && role.has(Number.parseInt(w.arg, 10)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.due - b.due || a.seq - b.seq))
    .map((w) => [w.name, ifx(Number.parseInt(w.arg as string, 10))]);
  // The virtio bus index (virtio0, virtio1, …) and the kernel's eth<n> names are global
  // counters, like the ifindex.
  return JSON.stringify({
    devs,
    pending,
    db,
    renames,
    bringup,
    linkwatch: k.state.linkwatch.list.filter((i) => role.has(i)).map(ifx),
    work,
  })
    .replace(/virtio\d+/g, "virtio#")
    .replace(/\beth\d+\b/g, "eth#");
}

/** Where two texts first differ, with some context (for failure messages). */
export function firstDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `…${a.slice(Math.max(0, i - 150), i + 80)}… vs …${b.slice(Math.max(0, i - 150), i + 80)}…`;
}

/**
 * Fires the first step of `alone` whose projection is `want` (tried lane by lane) and returns its
 * lane, or returns null with `alone` unchanged.
 */
export function matchStep(alone: ScenarioSystem, mac: string, want: string): string | null {
  const here = alone.save();
  for (const lane of alone.enabled()) {
    alone.restore(here);
    alone.fire(lane);
    if (projection(alone, mac) === want) return lane;
  }
  alone.restore(here);
  return null;
}
