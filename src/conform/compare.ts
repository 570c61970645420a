// How a backend's run record and the model's are compared (`ifsim conform`): pure. The
// kernel is right where they differ; only what is listed here is normalised or tolerated.
//
// What is normalised, and why (nothing else is):
// - MAC addresses the kernel drew at random: a veth or ifb whose address the scenario did not
//   give gets eth_hw_addr_random()'s bytes on the host and the model's seeded RNG's in the
//   model. Any locally administered unicast MAC that appears in neither the scenario's devices
//   nor its steps becomes "<random MAC n>", n counting first appearances (events in step order,
//   then links by ifindex) — the same position in both records gets the same label, so a
//   device that ends up with another device's random address still shows as a difference.
// - Timestamps: the model's virtual step times (t, tEnd) and the backend's wall times are not
//   compared.
// With a `udev:` actor (qemu: Debian's real udevd), udevd's renames are compared too: each
// "from -> to: ok|ERRNO", boot included, sorted (udevd's workers handle different devices in
// parallel, so the order across devices is the scheduler's, not udev's). For the same reason a
// step's ip monitor records are compared device by device when udevd runs: each device's records
// in order, and the same records in all; only how different devices' records interleave may
// differ (measured: a `udevadm trigger` on a loaded machine printed idx 3's records before idx
// 2's on one run and after on another). Without udevd the order is compared as it is.
// Also with udevd: the `enx…` altname of a MAC that several final links share (a failover
// master, its standby and its VF) goes to whichever device's worker asks first; the others get
// EEXIST. Measured on udev 257 (01/02 of the qemu-udev corpus): the standby got it 5 times in 6,
// the master once, on the same scenario. So a step's records are also the same when they differ
// only in which one device of that MAC carries that altname (each side: at most one device per
// step).
// With a 6.12+ profile: virtio_net's config work turns the carrier on at open on another CPU,
// racing dev_open's records; a step whose records differ only in that carrier (a record
// `<NO-CARRIER,…,UP,LOWER_UP>` on one side, without LOWER_UP on the other) agrees and is listed
// as tolerated (withoutOpenCarrier).
// The backend's own instruments (netns: the marker device) never reach its record. Facts of
// the machine that the model must be told rather than normalised (netns: the host's default
// qdisc) are passed to the model's scenario by the backend (ModelAligning).

import { profileFor } from "../kernel/index.ts";
import type { LinkRecord } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { unifiedDiff } from "./line-diff.ts";

/** A step as both records have it. */
export interface ComparableStep {
  readonly index: number;
  readonly step: string;
  readonly ok: boolean;
  readonly errno: string | null;
  readonly message: string | null;
  readonly events: readonly string[];
}

/** What conform compares of a run record. */
export interface ComparableRecord {
  readonly steps: readonly ComparableStep[];
  readonly links: readonly LinkRecord[];
  /** The renames udevd tried, in order (a scenario with a `udev:` actor). */
  readonly udevRenames?: readonly {
    readonly from: string;
    readonly to: string;
    readonly errno: string | null;
  }[];
  /** The bring-up actor's DHCP decisions (a scenario with `bringup.dhcp`). */
  readonly dhcp?: readonly string[];
}

/** One difference: where (step N / link N), the field, and both values. */
export interface Difference {
  readonly where: string;
  readonly field: string;
  readonly model: string;
  readonly kernel: string;
  /**
   * For a list (a step's ip monitor records): the unified diff from the model's to the
   * kernel's ("- " only the model, "+ " only the kernel, "  " both).
   */
  readonly diff?: readonly string[];
}

const MAC_RE = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi;

/** True for a locally administered unicast MAC (what eth_random_addr() draws). */
function isRandomKind(mac: string): boolean {
  const b = Number.parseInt(mac.slice(0, 2), 16);
  return (b & 0x02) !== 0 && (b & 0x01) === 0;
}

/** The MACs a scenario gives: its devices' and any in its steps' text, lowercased. */
export function givenMacs(sc: ScenarioDoc): Set<string> {
  const out = new Set<string>();
  for (const d of sc.devices ?? []) if ("mac" in d && d.mac) out.add(d.mac.toLowerCase());
  for (const s of sc.steps)
    if (typeof s === "object" && "ip" in s)
      for (const m of s.ip.matchAll(MAC_RE)) out.add(m[0].toLowerCase());
  return out;
}

/**
 * A MAC → label function for one record: a random MAC not in `given` becomes "<random MAC n>",
 * n by first appearance; any other MAC is kept.
 */
function randomMacLabeller(given: ReadonlySet<string>): (mac: string) => string {
  const labels = new Map<string, string>();
  return (mac) => {
    const m = mac.toLowerCase();
    if (given.has(m) || !isRandomKind(m)) return mac;
    let l = labels.get(m);
    if (l === undefined) {
      l = `<random MAC ${labels.size + 1}>`;
      labels.set(m, l);
    }
    return l;
  };
}

/** Replaces random MACs not in `given` by "<random MAC n>" (see the header). */
export function normaliseRandomMacs(
  rec: ComparableRecord,
  given: ReadonlySet<string>,
): ComparableRecord {
  const label = randomMacLabeller(given);
  const steps = rec.steps.map((s) => ({
    ...s,
    events: s.events.map((e) => e.replace(MAC_RE, label)),
  }));
  const links = [...rec.links]
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => ({ ...l, address: label(l.address) }));
  return {
    steps,
    links,
    ...(rec.udevRenames ? { udevRenames: rec.udevRenames } : {}),
    ...(rec.dhcp ? { dhcp: rec.dhcp } : {}),
  };
}

function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  if (v === null) return "null";
  if (Array.isArray(v)) return v.join(",");
  return String(v);
}

/** The ifindex a monitor record is about ("2: eth0: …", "Deleted 2: eth0: …"), or null. */
function recordIfindex(record: string): number | null {
  const m = /^(?:Deleted )?(\d+): /.exec(record);
  return m ? Number(m[1]) : null;
}

/** Monitor output lines as records: a line that starts a record and its indented lines. */
function monitorRecords(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (out.length > 0 && /^\s/.test(l)) out[out.length - 1] += `\n${l}`;
    else out.push(l);
  }
  return out;
}

/**
 * Whether two lists of monitor lines hold the same records, each device's in the same order,
 * and differ only in how different devices' records interleave (a record without an ifindex
 * stays put).
 */
export function sameUpToDeviceInterleaving(
  linesA: readonly string[],
  linesB: readonly string[],
): boolean {
  const a = monitorRecords(linesA);
  const b = monitorRecords(linesB);
  if (a.length !== b.length) return false;
  const perDevice = (l: readonly string[]): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    l.forEach((r, i) => {
      const idx = recordIfindex(r);
      const key = idx === null ? `@${i}` : String(idx);
      const list = m.get(key) ?? [];
      list.push(r);
      m.set(key, list);
    });
    return m;
  };
  const pa = perDevice(a);
  const pb = perDevice(b);
  if (pa.size !== pb.size) return false;
  for (const [k, la] of pa) {
    const lb = pb.get(k);
    if (!lb || lb.length !== la.length || la.some((r, i) => r !== lb[i])) return false;
  }
  return true;
}

/**
 * Monitor lines without the `altname enx<MAC>` line of each record whose own address is a MAC
 * in `shared`, and the ifindexes whose records carried it.
 */
export function withoutSharedMacAltnames(
  lines: readonly string[],
  shared: ReadonlySet<string>,
): { lines: string[]; holders: Map<string, Set<number>> } {
  const out: string[] = [];
  const holders = new Map<string, Set<number>>();
  for (const r of monitorRecords(lines)) {
    const parts = r.split("\n");
    const mac = parts.map((l) => /^\s+link\/ether ([0-9a-f:]{17})\b/.exec(l)?.[1]).find(Boolean);
    const alt = mac && shared.has(mac) ? `enx${mac.replace(/:/g, "")}` : null;
    const idx = recordIfindex(r);
    for (const l of parts) {
      if (alt !== null && l.trim() === `altname ${alt}`) {
        const set = holders.get(alt) ?? new Set<number>();
        if (idx !== null) set.add(idx);
        holders.set(alt, set);
        continue;
      }
      out.push(l);
    }
  }
  return { lines: out, holders };
}

/** MACs that two or more of the links carry. */
function sharedMacs(links: readonly LinkRecord[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const l of links) {
    if (seen.has(l.address)) shared.add(l.address);
    seen.add(l.address);
  }
  return shared;
}

/**
 * Whether two steps' records are the same up to the holder of a contested `enx…` altname (see
 * the header): equal (device interleaving aside) once those altname lines are dropped, and on
 * each side at most one device carries each such name.
 */
function sameUpToContestedAltname(
  a: readonly string[],
  b: readonly string[],
  shared: ReadonlySet<string>,
): boolean {
  if (shared.size === 0) return false;
  const sa = withoutSharedMacAltnames(a, shared);
  const sb = withoutSharedMacAltnames(b, shared);
  const single = (h: Map<string, Set<number>>): boolean =>
    [...h.values()].every((x) => x.size <= 1);
  return single(sa.holders) && single(sb.holders) && sameUpToDeviceInterleaving(sa.lines, sb.lines);
}

function sameEvents(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}

/** The measured race `openCarrierRace` tolerates (see withoutOpenCarrier). */
export const OPEN_CARRIER_RACE =
  "virtio_net's config work races dev_open's records on 6.12 and later";

/**
 * Monitor lines with `,LOWER_UP` dropped from every record flagged `<NO-CARRIER,…,UP,LOWER_UP>`
 * (carrier on, operstate not yet up: linkwatch has not run), and how many records that changed.
 * From v6.12 virtio_net turns its carrier on at open from its config work, which runs on another
 * CPU without RTNL while dev_open goes on: dev_open's records (the device's, and its failover
 * master's, whose carrier follows it) show the carrier when that work won (the model's order;
 * 8 runs of 8 on Debian's 6.12.118, 2 vCPUs under TCG) and not when it lost (seen once, in CI,
 * on qemu-udev 05). Either way linkwatch's records that follow are the same. A record without
 * the flag pair is left as it is.
 */
export function withoutOpenCarrier(lines: readonly string[]): { lines: string[]; changed: number } {
  let changed = 0;
  const out = lines.map((l) => {
    const r = l.replace(/^((?:Deleted )?\d+: \S+: <NO-CARRIER,[^>]*,UP),LOWER_UP>/, "$1>");
    if (r !== l) changed++;
    return r;
  });
  return { lines: out, changed };
}

/**
 * Step by step and link by link, every field that differs. With `o.concurrentDevices` (udevd
 * runs: its workers handle devices in parallel) a step's records may interleave devices
 * differently, and a contested `enx…` altname may sit on another device of its MAC (see the
 * header).
 */
export function compareRecords(
  model: ComparableRecord,
  kernel: ComparableRecord,
  o: {
    readonly concurrentDevices?: boolean;
    /**
     * The model's profile has virtio_net's config work at open (v6.12+): a step whose records
     * differ only by the carrier at dev_open (withoutOpenCarrier) agrees, noted in `tolerated`.
     */
    readonly openCarrierRace?: boolean;
    /** Where a measured race was tolerated, one line each (appended to). */
    readonly tolerated?: string[];
  } = {},
): Difference[] {
  const out: Difference[] = [];
  const shared = o.concurrentDevices === true ? sharedMacs(kernel.links) : new Set<string>();
  const n = Math.max(model.steps.length, kernel.steps.length);
  for (let i = 0; i < n; i++) {
    const m = model.steps[i];
    const k = kernel.steps[i];
    const where = `step ${i + 1} (${m?.step ?? k?.step})`;
    if (!m || !k) {
      out.push({
        where,
        field: "step",
        model: m ? "run" : "(absent)",
        kernel: k ? "run" : "(absent)",
      });
      continue;
    }
    for (const f of ["ok", "errno", "message"] as const)
      if (m[f] !== k[f]) out.push({ where, field: f, model: show(m[f]), kernel: show(k[f]) });
    const agree = (a: readonly string[], b: readonly string[]): boolean =>
      sameEvents(a, b) ||
      (o.concurrentDevices === true &&
        (sameUpToDeviceInterleaving(a, b) || sameUpToContestedAltname(a, b, shared)));
    let diff: readonly string[] = [];
    if (!agree(m.events, k.events)) {
      const rm = o.openCarrierRace === true ? withoutOpenCarrier(m.events) : null;
      const rk = o.openCarrierRace === true ? withoutOpenCarrier(k.events) : null;
      if (rm && rk && rm.changed + rk.changed > 0 && agree(rm.lines, rk.lines))
        o.tolerated?.push(
          `${where}: ${Math.abs(rm.changed - rk.changed)} record${Math.abs(rm.changed - rk.changed) === 1 ? "" : "s"} with LOWER_UP in ${rm.changed > rk.changed ? "the model" : "the kernel"} only (${OPEN_CARRIER_RACE})`,
        );
      else diff = unifiedDiff(m.events, k.events);
    }
    if (diff.length > 0)
      out.push({
        where,
        field: "events",
        model: `${m.events.length} record${m.events.length === 1 ? "" : "s"}`,
        kernel: `${k.events.length} record${k.events.length === 1 ? "" : "s"}`,
        diff,
      });
  }
  const ml = new Map(model.links.map((l) => [l.ifindex, l]));
  const kl = new Map(kernel.links.map((l) => [l.ifindex, l]));
  const idx = [...new Set([...ml.keys(), ...kl.keys()])].sort((a, b) => a - b);
  for (const i of idx) {
    const m = ml.get(i);
    const k = kl.get(i);
    const where = `link ${i} (${m?.ifname ?? k?.ifname})`;
    if (!m || !k) {
      out.push({
        where,
        field: "link",
        model: m ? m.ifname : "(absent)",
        kernel: k ? k.ifname : "(absent)",
      });
      continue;
    }
    const fields = [
      "ifname",
      "flags",
      "mtu",
      "operstate",
      "address",
      "master",
      "portname",
      "name_assign_type",
    ] as const;
    for (const f of fields)
      if (show(m[f]) !== show(k[f]))
        out.push({ where, field: f, model: show(m[f]), kernel: show(k[f]) });
  }
  if (model.udevRenames !== undefined || kernel.udevRenames !== undefined) {
    const text = (r: { from: string; to: string; errno: string | null }): string =>
      `${r.from} -> ${r.to}: ${r.errno ?? "ok"}`;
    // udevd's workers run events of different devices in parallel: the order across devices
    // is not udev's decision, so both lists are compared sorted
    out.push(
      ...sortedDifferences(
        "udev",
        "rename",
        (model.udevRenames ?? []).map(text),
        (kernel.udevRenames ?? []).map(text),
      ),
    );
  }
  if (model.dhcp !== undefined || kernel.dhcp !== undefined)
    // which links got a DHCP client (or were left unmanaged), sorted: the bring-up actor takes
    // links as they become ready, an order the scheduler decides on a real machine
    out.push(...sortedDifferences("bringup", "dhcp", model.dhcp ?? [], kernel.dhcp ?? []));
  return out;
}

/** Two lists compared sorted: a difference at each position where they differ. */
function sortedDifferences(
  where: string,
  field: string,
  model: readonly string[],
  kernel: readonly string[],
): Difference[] {
  const m = [...model].sort();
  const k = [...kernel].sort();
  const out: Difference[] = [];
  for (let j = 0; j < Math.max(m.length, k.length); j++)
    if (m[j] !== k[j])
      out.push({
        where,
        field: `${field}[${j}]`,
        model: m[j] ?? "(absent)",
        kernel: k[j] ?? "(absent)",
      });
  return out;
}

/** The backend's record and the model's, normalised and compared. */
export function verdictOf(
  sc: ScenarioDoc,
  model: ComparableRecord,
  kernel: ComparableRecord,
  o: {
    readonly profile?: string;
    readonly tolerated?: string[];
    /** Both sides' `ip -d link` text of the final state, when the backend printed it. */
    readonly details?: IpDetails;
  } = {},
): Difference[] {
  const given = givenMacs(sc);
  const udevd = sc.udev !== undefined && sc.udev !== "none";
  const openCarrierRace = o.profile !== undefined && profileFor(o.profile).virtioNetConfigAtOpen;
  const out = compareRecords(
    normaliseRandomMacs(model, given),
    normaliseRandomMacs(kernel, given),
    {
      concurrentDevices: udevd,
      openCarrierRace,
      ...(o.tolerated ? { tolerated: o.tolerated } : {}),
    },
  );
  const d = o.details ? compareIpDetails(o.details, given, { altnames: !udevd }) : null;
  return d ? [...out, d] : out;
}

/** `ip -d link` of the final state on both sides, and where the guest's PCI addresses differ. */
export interface IpDetails {
  readonly model: string;
  readonly kernel: string;
  /** Guest PCI address → the model's (devices behind root ports; qemu's `pciAddrs`). */
  readonly pciAddrs?: ReadonlyMap<string, string>;
}

const ALTNAME_LINE = /^\s+altname /;
const PCI_ADDR_RE = /\b[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\b/g;

/**
 * The final `ip -d link` texts compared line by line: every attribute iproute2 prints
 * (promiscuity, allmulti, MTU range, queues, GSO/TSO/GRO sizes, parent device, port name,
 * altnames), which the link fields of the record do not all cover. The guest's PCI addresses
 * are mapped to the model's and random MACs labelled by first appearance on each side. With
 * `altnames: false` (a scenario with udevd) the `altname` lines are left out: udevd's workers may
 * give a shared MAC's enx… altname to either device of that MAC, which the steps' records
 * compare with that tolerance.
 */
export function compareIpDetails(
  d: IpDetails,
  given: ReadonlySet<string>,
  o: { readonly altnames?: boolean } = {},
): Difference | null {
  const keep = (l: string): boolean => l !== "" && (o.altnames !== false || !ALTNAME_LINE.test(l));
  const norm = (text: string, pci: ReadonlyMap<string, string> | undefined): string[] =>
    text
      .replace(PCI_ADDR_RE, (a) => pci?.get(a) ?? a)
      .replace(MAC_RE, randomMacLabeller(given))
      .split("\n")
      .filter(keep);
  const m = norm(d.model, undefined);
  const k = norm(d.kernel, d.pciAddrs);
  if (m.join("\n") === k.join("\n")) return null;
  const first = m.findIndex((l, i) => l !== k[i]);
  const at = first === -1 ? m.length : first;
  return {
    where: "final",
    field: "ip -d link",
    model: m[at] ?? "(no more lines)",
    kernel: k[at] ?? "(no more lines)",
    diff: unifiedDiff(m, k),
  };
}
