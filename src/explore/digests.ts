// The digests of a scenario system's state, resource by resource: what each component of the
// model state (each device's fields, the name hash, the kernel's other state, udevd, networkd,
// the script) looks like after a step. Diffing two digests gives a step's footprint (what it
// changed); the state key is made from them (state-key.ts). Split from scenario-system.ts.

import type { NetDevice } from "../kernel/index.ts";
import type { PreparedRun } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { clonePlain, sameData, sameKeys } from "../sim/clone.ts";
import { globMatch } from "../userspace/bringup.ts";
import { changedFields } from "./field-scan.ts";

/** component → resource → digest (`DigestMaker.resources`). */
export type Digests = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** A device's field digests, with the values they were made from (`fieldValue`). */
export interface DevDigest {
  readonly keys: readonly string[];
  /** The field values themselves: a frozen object that is still the same one is unchanged. */
  readonly raws: readonly unknown[];
  readonly vals: readonly unknown[];
  /**
   * For a field holding an object that is not frozen, a copy of the value its text was made
   * from (`sameData`: still the same, so still the same text); undefined for the others.
   */
  readonly copies: readonly unknown[];
  readonly fields: ReadonlyMap<string, string>;
}

/** A copy of `v` to compare it with later (`DevDigest.copies`), or undefined when it needs none. */
function copyOf(v: unknown): unknown {
  return v !== null && typeof v === "object" && !Object.isFrozen(v) ? clonePlain(v) : undefined;
}

/** A field's value as compared between steps: a primitive itself, an object its JSON text. */
function fieldValue(v: unknown): unknown {
  return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
}

/** `changedFields`'s output, reused (one scan at a time). */
const CHANGED: number[] = [];

/**
 * Makes a scenario system's digests (`resources`), keeping what makes the next ones cheap: each
 * device's field digests with the values they were made from (`devCache`, saved and restored
 * with the system's snapshots) and the last text of each large piece of kernel state.
 */
export class DigestMaker {
  readonly #p: PreparedRun;
  readonly #sc: ScenarioDoc;
  /** Free timing: kernel work is keyed per kind, without due times. */
  readonly #free: boolean;
  /** Per device (`U` prefix: unlisted): its field digests and the values they were made from. */
  #devCache: ReadonlyMap<string, DevDigest> = new Map<string, DevDigest>();

  constructor(p: PreparedRun, sc: ScenarioDoc, free: boolean) {
    this.#p = p;
    this.#sc = sc;
    this.#free = free;
  }

  /** The devices' field digests the last digests were made from (a snapshot keeps them). */
  get devCache(): ReadonlyMap<string, DevDigest> {
    return this.#devCache;
  }

  set devCache(c: ReadonlyMap<string, DevDigest>) {
    this.#devCache = c;
  }

  /**
   * The JSON text of `v`, the state under `key` (a kernel subsystem's, QEMU's pairing): the last
   * text made for `key` while `v` is still equal to the copy kept with it (`sameData`), which
   * costs a fraction of writing the text again (the PCI bus's state is about 1 KB of text).
   */
  #textOf(key: string, v: unknown): string {
    const hit = this.#texts.get(key);
    if (hit !== undefined && sameData(v, hit.copy)) return hit.text;
    const text = JSON.stringify(v);
    this.#texts.set(key, { copy: clonePlain(v), text });
    return text;
  }

  /** `#textOf`'s last text per key, with a copy of the value it was made from. */
  readonly #texts = new Map<string, { readonly copy: unknown; readonly text: string }>();

  /**
   * component → resource → digest of its state. Components (each device, the name hash, the
   * kernel's other state, udevd, networkd, the rest) whose digests did not change keep the Map
   * of `prev` (the same object), so diffs and fingerprints skip them.
   */
  resources(prev: Digests): Digests {
    const p = this.#p;
    const k = p.k;
    const out = new Map<string, ReadonlyMap<string, string>>();
    /** The new component, or `prev`'s when its entries are the same. */
    const put = (c: string, m: Map<string, string>): void => {
      const o = prev.get(c);
      if (o !== undefined && o.size === m.size) {
        let same = true;
        for (const [r, d] of m)
          if (o.get(r) !== d) {
            same = false;
            break;
          }
        if (same) {
          out.set(c, o);
          return;
        }
      }
      out.set(c, m);
    };
    // One resource per device field: a rename and a carrier change of one device commute.
    // A device whose fields all compare equal to the last ones seen keeps its field digests (the
    // same Map): primitives compare as they are, objects by their JSON text.
    const devCache = new Map<string, DevDigest>();
    const addDev = (d: NetDevice, tag: string): void => {
      const ck = `${tag}${d.ifindex}`;
      const rec = d as unknown as Record<string, unknown>;
      const keys = Object.keys(rec);
      const old = this.#devCache.get(ck);
      let c: DevDigest;
      if (old === undefined || !sameKeys(old.keys, keys)) {
        const fields = new Map<string, string>();
        const vals: unknown[] = [];
        const raws: unknown[] = [];
        const copies: unknown[] = [];
        for (const f of keys) {
          const v = rec[f];
          raws.push(v);
          vals.push(fieldValue(v));
          copies.push(copyOf(v));
          fields.set(`dev:${d.ifindex}.${f}`, `${tag}${JSON.stringify(v)}`);
        }
        c = { keys, raws, vals, copies, fields };
      } else {
        let fields: Map<string, string> | null = null;
        let vals: unknown[] | null = null;
        let raws: unknown[] | null = null;
        let copies: unknown[] | null = null;
        // The same primitive, or the same frozen object (a shared constant: it cannot have
        // changed inside): unchanged without building its text. The others are checked below.
        const n = changedFields(old.keys, rec, old.raws, CHANGED);
        for (let j = 0; j < n; j++) {
          const i = CHANGED[j] as number;
          const f = keys[i] as string;
          const v = rec[f];
          // An object still equal to the copy its text was made from has that text.
          const same = old.copies[i] !== undefined && sameData(v, old.copies[i]);
          const t = same ? old.vals[i] : fieldValue(v);
          if (same || Object.is(t, old.vals[i])) {
            if (raws === null) raws = [...old.raws];
            raws[i] = v;
            continue;
          }
          if (fields === null || vals === null || copies === null) {
            fields = new Map(old.fields);
            vals = [...old.vals];
            copies = [...old.copies];
          }
          if (raws === null) raws = [...old.raws];
          raws[i] = v;
          vals[i] = t;
          copies[i] = copyOf(v);
          fields.set(`dev:${d.ifindex}.${f}`, `${tag}${JSON.stringify(v)}`);
        }
        c =
          fields === null || vals === null || copies === null
            ? raws === null
              ? old
              : { keys: old.keys, raws, vals: old.vals, copies: old.copies, fields: old.fields }
            : { keys: old.keys, raws: raws ?? old.raws, vals, copies, fields };
      }
      devCache.set(ck, c);
      out.set(`dev:${ck}`, c.fields);
    };
    for (const d of k.state.devices.values()) addDev(d, "");
    for (const d of k.state.unlisted.values()) addDev(d, "U");
    this.#devCache = devCache;
    const names = new Map<string, string>();
    for (const [n, i] of k.state.names) names.set(`name:${n}`, String(i));
    put("names", names);
    const kern = new Map<string, string>();
    if (this.#free) {
      // One resource per kind of work: its items' contexts in the order they will run.
      const kinds = new Map<string, { due: number; seq: number; arg: string | null }[]>();
      for (const x of k.state.work) {
        const l = kinds.get(x.name) ?? [];
        l.push({ due: x.due, seq: x.seq, arg: x.arg ?? null });
        kinds.set(x.name, l);
      }
      for (const [name, l] of kinds)
        kern.set(
          `kwork:${name}`,
          JSON.stringify(l.sort((a, b) => a.due - b.due || a.seq - b.seq).map((x) => x.arg)),
        );
      const lw = k.state.linkwatch;
      kern.set("linkwatch", JSON.stringify({ list: lw.list, urgent: lw.urgent }));
    } else {
      kern.set("kwork", JSON.stringify(k.state.work));
      kern.set("linkwatch", JSON.stringify(k.state.linkwatch));
    }
    kern.set("ifindex", String(k.state.lastIfindex));
    for (const [s, v] of Object.entries(k.state.subsys))
      kern.set(s === "failover" ? "mac-pairing" : `subsys:${s}`, this.#textOf(`subsys:${s}`, v));
    kern.set("qemu:pairing", this.#textOf("qemu:pairing", p.machine.state));
    put("kernel", kern);
    if (p.udev) {
      const u = new Map<string, string>();
      const v = p.udev.explorerView();
      u.set("udev:queue", JSON.stringify(v.queue));
      v.workers.forEach((j, i) => {
        u.set(`udev:w${i}`, JSON.stringify(j));
      });
      for (const e of v.db) u.set(`udevdb:${e.ifindex}`, JSON.stringify(e));
      put("udev", u);
    }
    if (p.bringup) {
      const nd = new Map<string, string>();
      const b = p.bringup.explorerView();
      const done = new Set(b.done);
      const cfg = this.#sc.bringup !== "none" ? this.#sc.bringup : undefined;
      for (const i of b.seen) {
        nd.set(`networkd:${i}`, done.has(i) ? "done" : "seen");
        if (done.has(i) || !cfg) continue;
        const d = k.state.devices.get(i);
        const eligible =
          d !== undefined &&
          cfg.links.some((g) => globMatch(g, d.name)) &&
          (!cfg.wait_for_udev || !p.udev || p.udev.isReady(i));
        // What it would do to an eligible link depends on whether it is up already.
        nd.set(`networkd-eligible:${i}`, eligible ? `yes/${(d?.flags ?? 0) & 1}` : "no");
      }
      put("networkd", nd);
    }
    const misc = new Map<string, string>();
    misc.set(
      "script",
      `${p.script.stepIndex}/${p.script.waitingForSettle}/${p.script.readyAt() === null}`,
    );
    misc.set("qemu:job", JSON.stringify(p.qemu.readyAt() === null));
    if (p.probe) misc.set("cloud-init", String(p.probe.readyAt() === null));
    put("misc", misc);
    return out;
  }

  /**
   * The field digests of a device of the current state (`dev:<ifindex>.<field>` → its JSON
   * text, with a "U" before it for an unlisted device), or undefined. The same Map object comes
   * back for as long as none of the device's fields changes: a cache keyed by it holds anything
   * made from the device's fields (the projection's device text, pair.ts).
   */
  deviceFields(d: NetDevice, unlisted: boolean): ReadonlyMap<string, string> | undefined {
    return this.#devCache.get(`${unlisted ? "U" : ""}${d.ifindex}`)?.fields;
  }
}
