// `ifsim conform FILE… [--backend netns|qemu] [--json]`: each scenario on a real kernel and on
// the model (profile = the backend's kernel version, every step ending on a settled machine as
// the backend's do), then step by step and link by link: where they differ, the kernel is right.
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

import { performance } from "node:perf_hooks";
import {
  type Backend,
  BackendRefusal,
  type BackendRunRecord,
  backendByName,
  backendNames,
  isModelAligning,
} from "../backends/index.ts";
import { profileFor, UnknownKernelError } from "../kernel/index.ts";
import { conformReport, type RunInput, renderHtml } from "../report/index.ts";
import { runScenarioWithStates } from "../scenario/link-states.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import { type LinkRecord, RunError, runScenario } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { checkWritable, EXIT_IOERR, outputClash, readInput, writeOutput } from "./io.ts";
import { unifiedDiff } from "./line-diff.ts";
import type { CliResult } from "./main.ts";
import { kernelValue } from "./option-values.ts";
import { fitLines, outputWidth, terminal, verdictColour } from "./terminal.ts";

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

/** The verdict on one scenario. */
export interface ConformResult {
  readonly file: string;
  readonly scenario: string | null;
  readonly verdict: "AGREE" | "DIFFER" | "REFUSED" | "ERROR";
  /** Why REFUSED or ERROR. */
  readonly reason?: string;
  /** The backend's kernel (uname -r) and the model's profile. */
  readonly kernel?: string;
  readonly profile?: string;
  readonly differences: Difference[];
  /**
   * Where the records differed only by the outcome of a measured kernel race that the model
   * plays one way (the `enx` altname's holder and device interleaving with udevd are not listed):
   * one line each, with the race.
   */
  readonly tolerated?: readonly string[];
  readonly steps?: number;
  readonly links?: number;
  /** Wall time of the backend's run and of the model's, ms. */
  readonly wallMs?: number;
  readonly modelMs?: number;
  /** Both runs (with the model's link states), when asked for (`keep`: the HTML report). */
  readonly records?: { readonly model: RunInput; readonly kernel: BackendRunRecord };
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

/** Replaces random MACs not in `given` by "<random MAC n>" (see the header). */
export function normaliseRandomMacs(
  rec: ComparableRecord,
  given: ReadonlySet<string>,
): ComparableRecord {
  const labels = new Map<string, string>();
  const label = (mac: string): string => {
    const m = mac.toLowerCase();
    if (given.has(m) || !isRandomKind(m)) return mac;
    let l = labels.get(m);
    if (l === undefined) {
      l = `<random MAC ${labels.size + 1}>`;
      labels.set(m, l);
    }
    return l;
  };
  const steps = rec.steps.map((s) => ({
    ...s,
    events: s.events.map((e) => e.replace(MAC_RE, label)),
  }));
  const links = [...rec.links]
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => ({ ...l, address: label(l.address) }));
  return { steps, links, ...(rec.udevRenames ? { udevRenames: rec.udevRenames } : {}) };
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
    const text = (r: { from: string; to: string; errno: string | null } | undefined): string =>
      r ? `${r.from} -> ${r.to}: ${r.errno ?? "ok"}` : "(absent)";
    // udevd's workers run events of different devices in parallel: the order across devices
    // is not udev's decision, so both lists are compared sorted
    const mr = (model.udevRenames ?? []).map(text).sort();
    const kr = (kernel.udevRenames ?? []).map(text).sort();
    for (let j = 0; j < Math.max(mr.length, kr.length); j++)
      if (mr[j] !== kr[j])
        out.push({
          where: "udev",
          field: `rename[${j}]`,
          model: mr[j] ?? "(absent)",
          kernel: kr[j] ?? "(absent)",
        });
  }
  return out;
}

/** The backend's record and the model's, normalised and compared. */
export function verdictOf(
  sc: ScenarioDoc,
  model: ComparableRecord,
  kernel: ComparableRecord,
  o: { readonly profile?: string; readonly tolerated?: string[] } = {},
): Difference[] {
  const given = givenMacs(sc);
  const udevd = sc.udev !== undefined && sc.udev !== "none";
  const openCarrierRace = o.profile !== undefined && profileFor(o.profile).virtioNetConfigAtOpen;
  return compareRecords(normaliseRandomMacs(model, given), normaliseRandomMacs(kernel, given), {
    concurrentDevices: udevd,
    openCarrierRace,
    ...(o.tolerated ? { tolerated: o.tolerated } : {}),
  });
}

/**
 * The model's run options for comparing with `backend` on `profile`: every step ends on a
 * settled machine, after the backend's quiet time; the boot modules load as the backend's
 * guest loads them.
 */
export function modelRunOptions(
  backend: Pick<Backend, "settleQuietMs" | "bootModuleGapMs">,
  profile: string,
): { kernel: string; settleSteps: true; settleQuietUs: number; moduleGapUs: number } {
  return {
    kernel: profile,
    settleSteps: true,
    settleQuietUs: (backend.settleQuietMs ?? 0) * 1000,
    moduleGapUs: (backend.bootModuleGapMs ?? 0) * 1000,
  };
}

/** Runs one scenario on the backend and on the model and compares. */
export async function conformScenario(
  file: string,
  sc: ScenarioDoc,
  backend: Backend,
  o: { kernel?: string | null; log?: (line: string) => void; keep?: boolean } = {},
): Promise<ConformResult> {
  const base = { file, scenario: sc.name, differences: [] as Difference[] };
  const ro = {
    ...(o.kernel != null ? { kernel: o.kernel } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  const refusal = backend.refuses(sc, ro);
  if (refusal !== null) return { ...base, verdict: "REFUSED", reason: refusal };
  let profile: string;
  try {
    profile = backend.kernelVersion(ro);
  } catch (e) {
    if (e instanceof BackendRefusal) return { ...base, verdict: "REFUSED", reason: e.message };
    return { ...base, verdict: "ERROR", reason: (e as Error).message };
  }
  const modelSc = isModelAligning(backend) ? backend.modelScenario(sc, ro) : sc;
  let model: ReturnType<typeof runScenario>;
  let modelRun: RunInput | undefined;
  const m0 = performance.now();
  try {
    if (o.keep) {
      // The same record as runScenario's, plus the link state after every line.
      modelRun = runScenarioWithStates(modelSc, modelRunOptions(backend, profile));
      model = modelRun.record;
    } else model = runScenario(modelSc, modelRunOptions(backend, profile));
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return { ...base, verdict: "ERROR", profile, reason: `model: ${e.message}` };
    throw e;
  }
  const modelMs = Math.round(performance.now() - m0);
  let kernel: BackendRunRecord;
  const k0 = performance.now();
  try {
    kernel = await backend.run(sc, ro);
  } catch (e) {
    if (e instanceof BackendRefusal) return { ...base, verdict: "REFUSED", reason: e.message };
    return {
      ...base,
      verdict: "ERROR",
      profile,
      reason: `${backend.name}: ${(e as Error).message}`,
    };
  }
  const wallMs = kernel.wallMs ?? Math.round(performance.now() - k0);
  const tolerated: string[] = [];
  const differences = verdictOf(sc, model, kernel, { profile, tolerated });
  return {
    ...base,
    verdict: differences.length === 0 ? "AGREE" : "DIFFER",
    kernel: kernel.kernel,
    profile,
    differences,
    ...(tolerated.length > 0 ? { tolerated } : {}),
    steps: kernel.steps.length,
    links: kernel.links.length,
    wallMs,
    modelMs,
    ...(modelRun ? { records: { model: modelRun, kernel } } : {}),
  };
}

/** Seconds with two decimals. */
function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** The human report: a verdict line per scenario, its differences, a summary. */
export function formatConform(results: readonly ConformResult[], backend: string): string {
  let s = "";
  for (const r of results) {
    // The verdict coloured on a terminal (AGREE green, anything else red).
    const word = verdictColour(r.verdict, r.verdict === "AGREE") + " ".repeat(7 - r.verdict.length);
    const head = `${word} ${r.file}${r.scenario ? ` — ${r.scenario}` : ""}`;
    if (r.verdict === "REFUSED" || r.verdict === "ERROR") {
      s += `${head}\n          ${r.reason}\n`;
      continue;
    }
    s += `${head} (${backend} ${r.kernel}, model ${r.profile}; ${r.steps} steps, ${r.links} links; ${secs(r.wallMs ?? 0)})\n`;
    for (const t of r.tolerated ?? []) s += `          tolerated: ${t}\n`;
    let where = "";
    for (const d of r.differences) {
      if (d.where !== where) {
        s += `          ${d.where}\n`;
        where = d.where;
      }
      if (d.diff) {
        s += `            ${d.field} (model ${d.model}, kernel ${d.kernel}; - model only, + kernel only)\n`;
        for (const l of d.diff) s += `              ${l}\n`;
      } else
        s += `            ${d.field}\n              model:  ${d.model}\n              kernel: ${d.kernel}\n`;
    }
  }
  const count = (v: ConformResult["verdict"]) => results.filter((r) => r.verdict === v).length;
  const parts = [
    `${count("AGREE")} agree`,
    `${count("DIFFER")} differ`,
    ...(count("REFUSED") > 0 ? [`${count("REFUSED")} refused`] : []),
    ...(count("ERROR") > 0 ? [`${count("ERROR")} failed`] : []),
  ];
  s += `\n${results.length} scenario${results.length === 1 ? "" : "s"} on ${backend}: ${parts.join(", ")}\n`;
  return s;
}

/** The exit status: 0 all agree, 1 a difference, 2 a scenario that could not be compared. */
export function conformStatus(results: readonly ConformResult[]): number {
  let st = 0;
  for (const r of results) {
    if (r.verdict === "DIFFER") st = Math.max(st, 1);
    else if (r.verdict !== "AGREE") st = 2;
  }
  return st;
}

/** Where progress lines go while scenarios run (the ifsim binary points it at stderr). */
export const conformProgress: { sink: ((line: string) => void) | null } = { sink: null };

const CONFORM_HELP = `Usage: ifsim conform FILE.yaml... [--backend netns|qemu] [--kernel V] [--json] [--html OUT]

Runs each scenario on a real kernel and on the model (the profile of the backend's kernel
version; each step ends when the machine is quiet, as on the backend), normalises what
legitimately differs (random MACs the scenario did not give; timestamps) and compares every
step (ok, errno, message, the ip monitor link records it caused) and every final link (ifname,
flags, mtu, operstate, address, master, portname, name_assign_type).
  --backend B  netns (default: the host kernel in a network namespace) or qemu
  --kernel V   the kernel the backend runs (qemu picks its image by it; netns: the host's only)
  --json       print the verdicts as JSON
  --html OUT   also write an HTML report to OUT: per scenario the model's run (swim lanes on the
               virtual clock, the ip link state after any line on click or hover) next to the
               real kernel's, and their differences (docs/html-report.md)
Per scenario: AGREE, DIFFER (with step/link, field, model, kernel), REFUSED (with the reason),
ERROR (a file that is not a valid scenario: its problems on stderr; the other files still run).
Exit status: 0 all agree, 1 a difference, 2 bad file, unavailable backend or refused scenario.
`;

/** `ifsim conform`. */
export async function conformCommand(argv: readonly string[]): Promise<CliResult> {
  let backendName = "netns";
  let kernel: string | null = null;
  let json = false;
  let html: string | undefined;
  const files: string[] = [];
  const usage = (msg: string): CliResult => ({
    stdout: "",
    stderr: `ifsim conform: ${msg}\n`,
    status: 2,
  });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return { stdout: CONFORM_HELP, stderr: "", status: 0 };
    if (a === "--backend") {
      const v = argv[++i];
      if (v === undefined) return usage(`--backend needs a name: ${backendNames().join(", ")}`);
      backendName = v;
    } else if (a === "--kernel") {
      const v = kernelValue(argv[++i]);
      if (typeof v === "object") return usage(v.error);
      kernel = v;
    } else if (a === "--html") {
      const v = argv[++i];
      if (v === undefined) return usage("--html needs an output file, e.g. --html report.html");
      html = v;
    } else if (a === "--json") json = true;
    else if (a.startsWith("-")) return usage(`unknown option "${a}" (see ifsim conform --help)`);
    else files.push(a);
  }
  if (files.length === 0)
    return usage("give one or more scenario files (see ifsim conform --help)");
  if (html !== undefined) {
    // Checked before any work: never over a scenario.
    const why = outputClash(html, files) ?? checkWritable(html);
    if (why) return usage(`--html: ${why}`);
  }
  const backend = backendByName(backendName);
  if (!backend)
    return usage(`unknown backend "${backendName}" (backends: ${backendNames().join(", ")})`);
  // A file that cannot be read or parsed is an ERROR of its own (its problems on stderr); the
  // others still run, so that a glob over a folder with a deliberately invalid example works.
  const docs: { file: string; sc: ScenarioDoc | null; reason: string }[] = [];
  const bad: string[] = [];
  for (const file of files) {
    const input = readInput(file);
    if ("error" in input) {
      bad.push(`ifsim conform: ${input.error}`);
      docs.push({ file, sc: null, reason: input.error });
      continue;
    }
    const text = input.text;
    const p = parseScenario(text, file);
    if (!p.ok) {
      bad.push(...p.issues.map(formatIssue));
      const n = p.issues.length;
      docs.push({
        file,
        sc: null,
        reason: `not a valid scenario (${n} problem${n === 1 ? "" : "s"}: on stderr)`,
      });
    } else docs.push({ file, sc: p.scenario, reason: "" });
  }
  const stderr = bad.length > 0 ? `${bad.join("\n")}\n` : "";
  if (docs.every((d) => d.sc === null)) return { stdout: "", stderr, status: 2 };
  const why = backend.unavailableReason();
  if (why !== null) return usage(`the ${backend.name} backend is not available here: ${why}`);
  const results: ConformResult[] = [];
  const progress = conformProgress.sink;
  for (const { file, sc, reason } of docs) {
    const r: ConformResult =
      sc === null
        ? { file, scenario: null, verdict: "ERROR", reason, differences: [] }
        : await conformScenario(file, sc, backend, {
            kernel,
            ...(progress ? { log: progress } : {}),
            ...(html !== undefined ? { keep: true } : {}),
          });
    results.push(r);
    progress?.(
      `conform: ${r.verdict} ${file}${r.wallMs !== undefined ? ` (${secs(r.wallMs)})` : ""}`,
    );
  }
  let status = conformStatus(results);
  let note = "";
  if (html !== undefined) {
    const doc = conformReport({
      backend: backend.name,
      results: results.map((r) => ({
        file: r.file,
        scenario: r.scenario,
        verdict: r.verdict,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        differences: r.differences,
        ...(r.records ? { model: r.records.model, kernel: r.records.kernel } : {}),
      })),
    });
    const err = writeOutput(html, renderHtml(doc));
    if (err !== null) {
      note = `ifsim conform: ${err}\n`;
      status = EXIT_IOERR;
    } else note = `ifsim conform: wrote the HTML report to ${html}\n`;
  }
  // The records are for the HTML report only.
  const plain = results.map(({ records: _r, ...r }) => r);
  if (json) {
    const out = { backend: backend.name, ok: status === 0, results: plain };
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: stderr + note, status };
  }
  // On a terminal, long lines wrap at its width.
  const text = formatConform(plain, backend.name);
  return {
    stdout: terminal.columns !== null ? fitLines(text, outputWidth(120)) : text,
    stderr: stderr + note,
    status,
  };
}
