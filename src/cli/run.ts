// `ifsim run FILE…` and `ifsim schema`: scenarios on the model, human timeline or run record.

import { readFileSync } from "node:fs";
import {
  BackendRefusal,
  type BackendRunRecord,
  backendByName,
  backendNames,
} from "../backends/index.ts";
import { UnknownKernelError } from "../kernel/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import {
  checkLinkExpect,
  checkStepExpect,
  RunError,
  type RunRecord,
  runScenario,
} from "../scenario/run.ts";
import { type ExpectDoc, type ScenarioDoc, scenarioJsonSchema } from "../scenario/schema.ts";
import type { CliResult } from "./main.ts";

const RUN_HELP = `Usage: ifsim run FILE.yaml [--kernel V]... [--seed N] [--json] [--monitor]
       ifsim run FILE.yaml --backend netns|qemu [--kernel V] [--json]

Runs a scenario (see ../shared/spec/scenario-format.md, or ifsim schema) on the model: the
machine boots, the kernel's deferred work, udev, bring-up, cloud-init and the scenario's steps
run as actors on a virtual clock. The steps start once boot is quiescent (no kernel work
pending), unless the scenario says script_starts: boot (then they race boot from time 0).
  --kernel V   kernel profile (overrides the file's kernel:); give it twice or more to run each
               and see where the runs differ
  --seed N     seed of the scheduler and the kernel RNG (default: the file's seed:, else 1)
  --json       print the run record (one JSON object; an array with several --kernel)
  --monitor    also print the ip monitor link records each step caused
  --backend B  run it on a real kernel instead: netns (the host kernel in a fresh network
               namespace: veth and ifb, ip/settle/sleep steps) or qemu (a Linux guest); prints
               the backend's run record (steps with results and the ip monitor link records each
               caused, final links). model (the default) is the model.
Exit status: 0 all expectations hold, 1 an expectation failed, 2 bad file or usage (or a
scenario the backend refuses, or a backend not available here).
`;

/** "  1.234567" seconds from µs. */
function secs(us: number): string {
  return (us / 1_000_000).toFixed(6).padStart(11);
}

/** The human form of one run: timeline, step results, expectations, final links. */
export function formatRun(rec: RunRecord, monitor: boolean, linkTable: string): string {
  let s = `== ${rec.scenario} — kernel ${rec.kernel}, seed ${rec.seed}\n`;
  const width = Math.max(...rec.timeline.map((t) => t.actor.length), 6);
  for (const t of rec.timeline) {
    s += `${secs(t.t)}  ${t.actor.padEnd(width)}  ${t.what}  → ${t.result}\n`;
  }
  s += "\nsteps:\n";
  for (const st of rec.steps) {
    const res = st.ok ? "ok" : `${st.errno ?? "failed"}${st.message ? ` (${st.message})` : ""}`;
    s += `  ${String(st.index).padStart(2)}. ${st.step}  → ${res}\n`;
    if (monitor) for (const e of st.events) s += `        | ${e}\n`;
  }
  if (monitor && rec.monitor.length > 0) {
    s += "\nip monitor link (whole run, with the deferred kernel work between steps):\n";
    for (const m of rec.monitor) s += `${secs(m.t)}  ${m.line}\n`;
  }
  if (rec.expectations.length > 0) {
    s += "\nexpectations:\n";
    for (const e of rec.expectations) s += `  ${e.ok ? "PASS" : "FAIL"} ${e.expect}: ${e.detail}\n`;
  }
  s += `\nfinal links (ip link):\n${linkTable}`;
  return s;
}

/** Where two runs of the same scenario differ (steps and final links). */
export function diffRuns(a: RunRecord, b: RunRecord): string[] {
  const out: string[] = [];
  const n = Math.max(a.steps.length, b.steps.length);
  for (let i = 0; i < n; i++) {
    const x = a.steps[i];
    const y = b.steps[i];
    const rx = x ? (x.ok ? "ok" : (x.errno ?? "failed")) : "-";
    const ry = y ? (y.ok ? "ok" : (y.errno ?? "failed")) : "-";
    if (rx !== ry)
      out.push(`step ${i + 1} (${x?.step ?? y?.step}): ${a.kernel} ${rx}, ${b.kernel} ${ry}`);
  }
  const show = (r: RunRecord): Map<number, string> =>
    new Map(
      r.links.map((l) => [
        l.ifindex,
        `${l.ifname} <${l.flags.join(",")}>${l.master ? ` master ${l.master}` : ""}`,
      ]),
    );
  const la = show(a);
  const lb = show(b);
  for (const i of new Set([...la.keys(), ...lb.keys()])) {
    if (la.get(i) !== lb.get(i))
      out.push(
        `link ${i}: ${a.kernel} ${la.get(i) ?? "(absent)"}, ${b.kernel} ${lb.get(i) ?? "(absent)"}`,
      );
  }
  return out;
}

/** One expectation checked on a backend's record (log/device ones cannot be: skipped). */
export interface BackendExpectRecord {
  readonly expect: string;
  readonly ok: boolean;
  readonly checked: boolean;
  readonly detail: string;
}

/** The scenario's step and link expectations, checked on a backend's record. */
export function checkBackendExpectations(
  sc: ScenarioDoc,
  rec: BackendRunRecord,
): BackendExpectRecord[] {
  return (sc.expect ?? []).map((e: ExpectDoc) => {
    if ("step" in e) return { ...checkStepExpect(e, rec.steps), checked: true };
    if ("link" in e) return { ...checkLinkExpect(e, rec.links), checked: true };
    const what =
      "device" in e ? `device ${e.device}` : "log" in e ? `log /${e.log}/` : `no log /${e.no_log}/`;
    return {
      expect: what,
      ok: true,
      checked: false,
      detail: `not observable on the ${rec.backend} backend`,
    };
  });
}

/** The human form of a backend's run: steps with results and events, expectations, links. */
export function formatBackendRun(rec: BackendRunRecord, expects: BackendExpectRecord[]): string {
  const wall = rec.wallMs !== undefined ? `, ${(rec.wallMs / 1000).toFixed(2)} s` : "";
  let s = `== ${rec.scenario} — ${rec.backend}, kernel ${rec.kernel}${wall}\n\nsteps:\n`;
  for (const st of rec.steps) {
    const res = st.ok ? "ok" : `${st.errno ?? "failed"}${st.message ? ` (${st.message})` : ""}`;
    s += `  ${String(st.index).padStart(2)}. ${st.step}  → ${res}\n`;
    for (const e of st.events) s += `        | ${e}\n`;
  }
  if (expects.length > 0) {
    s += "\nexpectations:\n";
    for (const e of expects)
      s += `  ${!e.checked ? "SKIP" : e.ok ? "PASS" : "FAIL"} ${e.expect}: ${e.detail}\n`;
  }
  s += "\nfinal links:\n";
  for (const l of rec.links) {
    s += `  ${l.ifindex}: ${l.ifname} <${l.flags.join(",")}> mtu ${l.mtu} state ${l.operstate} ${l.address}`;
    if (l.master !== null) s += ` master ${l.master}`;
    if (l.portname !== null) s += ` portname ${l.portname}`;
    s += ` name_assign_type ${l.name_assign_type}\n`;
  }
  return s;
}

/** `ifsim run FILE --backend B`: the scenario on a real kernel. */
async function runOnBackend(
  file: string,
  sc: ScenarioDoc,
  name: string,
  kernel: string | undefined,
  json: boolean,
): Promise<CliResult> {
  const usage = (msg: string): CliResult => ({
    stdout: "",
    stderr: `ifsim run: ${msg}\n`,
    status: 2,
  });
  const backend = backendByName(name);
  if (!backend)
    return usage(`unknown backend "${name}" (backends: model, ${backendNames().join(", ")})`);
  const why = backend.unavailableReason();
  if (why !== null) return usage(`the ${name} backend is not available here: ${why}`);
  const refusal = backend.refuses(sc);
  if (refusal !== null) return usage(`${file}: ${refusal}`);
  let rec: BackendRunRecord;
  try {
    rec = await backend.run(sc, kernel !== undefined ? { kernel } : {});
  } catch (e) {
    if (e instanceof BackendRefusal) return usage(`${file}: ${e.message}`);
    return usage(`${file}: the ${name} backend failed: ${(e as Error).message}`);
  }
  const expects = checkBackendExpectations(sc, rec);
  const status = expects.every((e) => e.ok) ? 0 : 1;
  if (json)
    return {
      stdout: `${JSON.stringify({ ...rec, expectations: expects }, null, 2)}\n`,
      stderr: "",
      status,
    };
  return { stdout: formatBackendRun(rec, expects), stderr: "", status };
}

/**
 * `ifsim run`. On the model (the default) it returns at once; with `--backend netns|qemu` it
 * returns a promise (a real kernel runs asynchronously).
 */
export function runCommand(argv: readonly string[]): CliResult | Promise<CliResult> {
  const kernels: string[] = [];
  let seed: number | undefined;
  let json = false;
  let monitor = false;
  let backend = "model";
  const files: string[] = [];
  const usage = (msg: string): CliResult => ({
    stdout: "",
    stderr: `ifsim run: ${msg}\n`,
    status: 2,
  });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return { stdout: RUN_HELP, stderr: "", status: 0 };
    if (a === "--kernel") {
      const v = argv[++i];
      if (v === undefined) return usage("--kernel needs a version, e.g. --kernel 6.1");
      kernels.push(v);
    } else if (a === "--seed") {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v))
        return usage(`--seed needs a non-negative integer, got "${v ?? ""}"`);
      seed = Number(v);
    } else if (a === "--backend") {
      const v = argv[++i];
      if (v === undefined)
        return usage(`--backend needs a name: model, ${backendNames().join(", ")}`);
      backend = v;
    } else if (a === "--json") json = true;
    else if (a === "--monitor") monitor = true;
    else if (a.startsWith("-")) return usage(`unknown option "${a}" (see ifsim run --help)`);
    else files.push(a);
  }
  if (files.length !== 1)
    return usage(
      files.length === 0 ? "give a scenario file (see ifsim run --help)" : "give one scenario file",
    );
  const file = files[0] as string;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return usage(`cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const parsed = parseScenario(text, file);
  if (!parsed.ok)
    return { stdout: "", stderr: `${parsed.issues.map(formatIssue).join("\n")}\n`, status: 2 };
  if (backend !== "model") {
    if (kernels.length > 1)
      return usage(`--backend ${backend} runs one kernel: give --kernel at most once`);
    if (seed !== undefined)
      return usage(`--seed is the model's: a real kernel has no seed (drop --seed or --backend)`);
    return runOnBackend(file, parsed.scenario, backend, kernels[0], json);
  }
  const runs: RunRecord[] = [];
  for (const kernel of kernels.length > 0 ? kernels : [undefined]) {
    try {
      runs.push(
        runScenario(parsed.scenario, {
          ...(kernel !== undefined ? { kernel } : {}),
          ...(seed !== undefined ? { seed } : {}),
        }),
      );
    } catch (e) {
      if (e instanceof RunError || e instanceof UnknownKernelError)
        return usage(`${file}: ${e.message}`);
      throw e;
    }
  }
  const ok = runs.every((r) => r.ok);
  if (json) {
    const out = runs.length === 1 ? runs[0] : runs;
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: "", status: ok ? 0 : 1 };
  }
  let out = runs.map((r) => formatRun(r, monitor, r.ip_link)).join("\n");
  if (runs.length > 1) {
    out += "\ndifferences:\n";
    for (let i = 1; i < runs.length; i++) {
      const d = diffRuns(runs[0] as RunRecord, runs[i] as RunRecord);
      out +=
        d.length === 0
          ? `  ${runs[0]?.kernel} and ${runs[i]?.kernel}: none\n`
          : d.map((x) => `  ${x}\n`).join("");
    }
  }
  return { stdout: out, stderr: "", status: ok ? 0 : 1 };
}

/** `ifsim schema`: the scenario JSON Schema. */
export function schemaCommand(argv: readonly string[]): CliResult {
  if (argv.length > 0 && argv[0] !== "--help")
    return { stdout: "", stderr: `ifsim schema: unexpected argument "${argv[0]}"\n`, status: 2 };
  if (argv[0] === "--help")
    return {
      stdout: "Usage: ifsim schema   print the scenario file JSON Schema (draft 2020-12)\n",
      stderr: "",
      status: 0,
    };
  return { stdout: `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`, stderr: "", status: 0 };
}
