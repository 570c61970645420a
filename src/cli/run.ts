// `ifsim run FILE…` and `ifsim schema`: scenarios on the model, human timeline or run record.

import type { BackendRunRecord } from "../backends/index.ts";
import { type KernelProfile, profileFor, UnknownKernelError } from "../kernel/index.ts";
import { backendRunReport, renderHtml, runReport } from "../report/index.ts";
import { kernelSelected, selectorLabel } from "../scenario/kernel-select.ts";
import { type LinkStates, runScenarioWithStates } from "../scenario/link-states.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import {
  checkLinkExpect,
  checkStepExpect,
  RunError,
  type RunRecord,
  RunStopped,
  runScenario,
} from "../scenario/run.ts";
import { type ExpectDoc, type ScenarioDoc, scenarioJsonSchema } from "../scenario/schema.ts";
import {
  checkWritable,
  EXIT_IOERR,
  outputClash,
  parseDuration,
  readInput,
  writeOutput,
} from "./io.ts";
import { formatLinks } from "./links.ts";
import type { CliResult } from "./main.ts";
import { kernelValue, seedValue } from "./option-values.ts";
import { wrapText } from "./swimlane.ts";
import { dim, outputWidth, terminal, verdictColour } from "./terminal.ts";
import {
  noUdevFlags,
  readUdevFlags,
  takeUdevFlag,
  UDEV_FLAGS_HELP,
  withUdevFiles,
} from "./udev-flags.ts";

const RUN_HELP = `Usage: ifsim run FILE.yaml [--kernel V]... [--seed N] [--json] [--monitor] [--html OUT] [--time-limit DUR]
                 [--link-dir DIR]... [--rules-dir DIR]... [--netplan FILE]...
       ifsim run FILE.yaml --backend netns|qemu [--kernel V] [--json] [--html OUT]

Runs a scenario (docs/scenario-format.md; ifsim schema) on the model: the machine boots, the
kernel's deferred work, udev, bring-up, cloud-init and the scenario's steps run as actors on a
virtual clock. The steps start once boot is quiescent (no kernel work pending), unless the
scenario says script_starts: boot (then they race boot from time 0). It prints the timeline (a
failed step with its cause), the step results, the expectations and the final links, then a
verdict line per kernel.
  --kernel V   kernel profile (overrides the file's kernels: and kernel:); give it twice or more
               to run each and see where the runs differ
  --seed N     seed of the scheduler and the kernel RNG (default: the file's seed:, else 1)
  --json       print the run record (one JSON object; an array with several --kernel)
  --monitor    also print the ip monitor link records each step caused
  --html OUT   also write an HTML report to OUT: one self-contained page (no network) with a
               swim lane per actor on the virtual clock, each line's result and cause, the
               ip link state after any line on click or hover, the kernels side by side
               (docs/html-report.md); with --backend, the real kernel's steps and final links
  --time-limit DUR
               stop the model's run after DUR of wall time (e.g. 5s, 500ms, 2m; counted from
               the start of the command, checked before every scheduler step): no verdict, exit 3
  --backend B  run it on a real kernel instead: netns (the host kernel in a fresh network
               namespace: veth and ifb, ip/settle/sleep steps) or qemu (a Linux guest); prints
               the backend's run record (steps with results and the ip monitor link records each
               caused, final links). model (the default) is the model.
${UDEV_FLAGS_HELP}Exit status: 0 all expectations hold, 1 an expectation failed, 2 bad file or usage (or a
scenario the backend refuses, or a backend not available here), 3 stopped by --time-limit.
`;

/** "  1.234567" seconds from µs. */
function secs(us: number): string {
  return (us / 1_000_000).toFixed(6).padStart(11);
}

/** "because CAUSE" wrapped to 100 columns, every line indented by `indent`. */
function because(cause: string, indent: number): string {
  const pad = " ".repeat(indent);
  return wrapText(`because ${cause}`, outputWidth(100) - indent)
    .map((l) => `${pad}${dim(l)}\n`)
    .join("");
}

/** The human form of one run: timeline, step results, expectations, final links. */
export function formatRun(rec: RunRecord, monitor: boolean): string {
  let s = `== ${rec.scenario} — kernel ${rec.kernel}, seed ${rec.seed}\n`;
  const width = Math.max(...rec.timeline.map((t) => t.actor.length), 6);
  for (const t of rec.timeline) {
    const line = `${t.what}  → ${t.result}`;
    const indent = 15 + width;
    // On a terminal, long entries wrap under their text instead of running past the edge.
    const parts = terminal.columns === null ? [line] : wrapText(line, outputWidth(100) - indent);
    s += `${secs(t.t)}  ${t.actor.padEnd(width)}  ${parts[0]}\n`;
    for (const p of parts.slice(1)) s += `${" ".repeat(indent)}${p}\n`;
    if (t.cause !== undefined) s += because(t.cause, 13 + width);
  }
  s += "\nsteps:\n";
  for (const st of rec.steps) {
    const res = st.ok ? "ok" : `${st.errno ?? "failed"}${st.message ? ` (${st.message})` : ""}`;
    s += `  ${String(st.index).padStart(2)}. ${st.step}  → ${res}\n`;
    if (st.cause !== undefined) s += because(st.cause, 6);
    if (monitor) for (const e of st.events) s += `        | ${e}\n`;
  }
  if (monitor && rec.monitor.length > 0) {
    s += "\nip monitor link (whole run, with the deferred kernel work between steps):\n";
    for (const m of rec.monitor) s += `${secs(m.t)}  ${m.line}\n`;
  }
  if (rec.expectations.length > 0) {
    s += "\nexpectations:\n";
    for (const e of rec.expectations)
      s += `  ${verdictColour(e.ok ? "PASS" : "FAIL", e.ok)} ${e.expect}: ${e.detail}\n`;
  }
  s += `\nfinal links:\n${formatLinks(rec.links)}`;
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
  let profile: KernelProfile | null = null;
  try {
    profile = profileFor(rec.kernel);
  } catch (e) {
    if (!(e instanceof UnknownKernelError)) throw e;
  }
  return (sc.expect ?? []).flatMap((e: ExpectDoc): BackendExpectRecord[] => {
    if (e.kernels !== undefined) {
      const label = selectorLabel(e.kernels);
      if (profile === null)
        return [
          {
            expect: `${expectText(e)} ${label}`,
            ok: true,
            checked: false,
            detail: `kernel ${rec.kernel} has no profile to match ${label} against`,
          },
        ];
      if (!kernelSelected(e.kernels, profile)) return [];
      return checkBackendExpectations({ ...sc, expect: [{ ...e, kernels: undefined }] }, rec).map(
        (r) => ({ ...r, expect: `${r.expect} ${label}` }),
      );
    }
    return [checkOne(e)];
  });
  function checkOne(e: ExpectDoc): BackendExpectRecord {
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
  }
}

/** An expectation's short text (as the records say it). */
function expectText(e: ExpectDoc): string {
  if ("step" in e) return `step ${e.step} → ${e.error}`;
  if ("link" in e) return `link ${e.link}`;
  if ("device" in e) return `device ${e.device}`;
  return "log" in e ? `log /${e.log}/` : `no log /${e.no_log}/`;
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
  s += `\nfinal links:\n${formatLinks(rec.links)}`;
  return s;
}

/** `ifsim run FILE --backend B`: the scenario on a real kernel. */
async function runOnBackend(
  file: string,
  sc: ScenarioDoc,
  name: string,
  kernel: string | undefined,
  json: boolean,
  html?: string,
): Promise<CliResult> {
  const usage = (msg: string): CliResult => ({
    stdout: "",
    stderr: `ifsim run: ${msg}\n`,
    status: 2,
  });
  // Loaded only here: a run on the model needs no backend code (start-up time).
  const { BackendRefusal, backendByName, backendNames } = await import("../backends/index.ts");
  const backend = backendByName(name);
  if (!backend)
    return usage(`unknown backend "${name}" (backends: model, ${backendNames().join(", ")})`);
  const why = backend.unavailableReason();
  if (why !== null) return usage(`the ${name} backend is not available here: ${why}`);
  const refusal = backend.refuses(sc, kernel !== undefined ? { kernel } : {});
  if (refusal !== null) return usage(`${file}: ${refusal}`);
  let rec: BackendRunRecord;
  try {
    // A real kernel takes seconds (QEMU under TCG: about a minute): progress on stderr.
    const log = terminal.progress;
    rec = await backend.run(sc, {
      ...(kernel !== undefined ? { kernel } : {}),
      ...(log !== null ? { log } : {}),
    });
  } catch (e) {
    if (e instanceof BackendRefusal) return usage(`${file}: ${e.message}`);
    return usage(`${file}: the ${name} backend failed: ${(e as Error).message}`);
  }
  const expects = checkBackendExpectations(sc, rec);
  const status = expects.every((e) => e.ok) ? 0 : 1;
  let stderr = "";
  if (html !== undefined) {
    const err = writeOutput(
      html,
      renderHtml(backendRunReport(rec, { file, expectations: expects })),
    );
    if (err !== null) return { stdout: "", stderr: `ifsim run: ${err}\n`, status: EXIT_IOERR };
    stderr = `ifsim run: wrote the HTML report to ${html}\n`;
  }
  if (json)
    return {
      stdout: `${JSON.stringify({ ...rec, expectations: expects }, null, 2)}\n`,
      stderr,
      status,
    };
  return { stdout: formatBackendRun(rec, expects), stderr, status };
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
  let timeLimitMs: number | undefined;
  let html: string | undefined;
  const started = Date.now();
  const files: string[] = [];
  const udevFlags = noUdevFlags();
  const usage = (msg: string): CliResult => ({
    stdout: "",
    stderr: `ifsim run: ${msg}\n`,
    status: 2,
  });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return { stdout: RUN_HELP, stderr: "", status: 0 };
    const took = takeUdevFlag(argv, i, udevFlags);
    if (took !== null && typeof took === "object") return usage(took.error);
    if (took !== null) {
      i = took;
      continue;
    }
    if (a === "--kernel") {
      const v = kernelValue(argv[++i]);
      if (typeof v === "object") return usage(v.error);
      kernels.push(v);
    } else if (a === "--seed") {
      const v = seedValue(argv[++i]);
      if (typeof v === "object") return usage(v.error);
      seed = v;
    } else if (a === "--backend") {
      const v = argv[++i];
      if (v === undefined)
        return import("../backends/index.ts").then((b) =>
          usage(`--backend needs a name: model, ${b.backendNames().join(", ")}`),
        );
      backend = v;
    } else if (a === "--time-limit") {
      const v = argv[++i];
      const ms = v === undefined ? null : parseDuration(v);
      if (ms === null)
        return usage(`--time-limit needs a duration like 5s, 500ms or 2m, got "${v ?? ""}"`);
      timeLimitMs = ms;
    } else if (a === "--html") {
      const v = argv[++i];
      if (v === undefined) return usage("--html needs an output file, e.g. --html report.html");
      html = v;
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
  if (html !== undefined) {
    // Checked before any work: never over the scenario itself.
    const why = outputClash(html, [file]) ?? checkWritable(html);
    if (why) return usage(`--html: ${why}`);
  }
  const input = readInput(file);
  if ("error" in input) return usage(input.error);
  const text = input.text;
  const parsed = parseScenario(text, file);
  if (!parsed.ok)
    return { stdout: "", stderr: `${parsed.issues.map(formatIssue).join("\n")}\n`, status: 2 };
  const extra = readUdevFlags(udevFlags);
  if ("error" in extra) return usage(extra.error);
  const scenario = withUdevFiles(parsed.scenario, extra.files);
  if ("error" in scenario) return usage(`${file}: ${scenario.error}`);
  const notes = extra.notes.map((n) => `ifsim run: ${n}\n`).join("");
  if (backend !== "model") {
    if (kernels.length > 1)
      return usage(`--backend ${backend} runs one kernel: give --kernel at most once`);
    if (seed !== undefined)
      return usage(`--seed is the model's: a real kernel has no seed (drop --seed or --backend)`);
    return runOnBackend(file, scenario, backend, kernels[0], json, html);
  }
  const runs: RunRecord[] = [];
  const states: LinkStates[] = [];
  const chosen: (string | undefined)[] =
    kernels.length > 0 ? kernels : (scenario.kernels ?? [undefined]);
  for (const kernel of chosen) {
    try {
      const o = {
        ...(kernel !== undefined ? { kernel } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(timeLimitMs !== undefined
          ? { shouldStop: () => Date.now() - started > (timeLimitMs as number) }
          : {}),
      };
      if (html !== undefined) {
        // The same record as runScenario's, plus the link state after every line.
        const r = runScenarioWithStates(scenario, o);
        runs.push(r.record);
        states.push(r.states);
      } else runs.push(runScenario(scenario, o));
    } catch (e) {
      if (e instanceof RunStopped)
        return {
          stdout: "",
          stderr: `ifsim run: ${file}${kernel !== undefined ? ` (kernel ${kernel})` : ""}: --time-limit reached: ${e.message}; no verdict\n`,
          status: 3,
        };
      if (e instanceof RunError || e instanceof UnknownKernelError)
        return usage(`${file}: ${e.message}`);
      throw e;
    }
  }
  const ok = runs.every((r) => r.ok);
  // What the model did not take from the udev files: on stderr (and in the record).
  let stderr = notes + (runs[0]?.udevConfig ?? []).map((l) => `udev config: ${l}\n`).join("");
  if (html !== undefined) {
    const doc = runReport(
      runs.map((record, i) => ({ record, states: states[i] as LinkStates })),
      { file },
    );
    const err = writeOutput(html, renderHtml(doc));
    if (err !== null)
      return { stdout: "", stderr: `${stderr}ifsim run: ${err}\n`, status: EXIT_IOERR };
    stderr += `ifsim run: wrote the HTML report to ${html}\n`;
  }
  if (json) {
    const out = runs.length === 1 ? runs[0] : runs;
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr, status: ok ? 0 : 1 };
  }
  let out = runs.map((r) => formatRun(r, monitor)).join("\n");
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
  out += `\n${verdictLines(runs)}`;
  return { stdout: out, stderr, status: ok ? 0 : 1 };
}

/** One verdict line per run (kernel): PASS with how many expectations held, or what failed. */
export function verdictLines(runs: readonly RunRecord[]): string {
  let s = runs.length === 1 ? "verdict:\n" : "verdicts:\n";
  const width = Math.max(...runs.map((r) => r.kernel.length));
  for (const r of runs) {
    const n = r.expectations.length;
    const failed = r.expectations.filter((e) => !e.ok);
    const head = `  Linux ${r.kernel.padEnd(width)}  `;
    if (n === 0) s += `${head}no expectations\n`;
    else if (failed.length === 0)
      s += `${head}${verdictColour("PASS", true)}  ${n === 1 ? "the expectation holds" : `all ${n} expectations hold`}\n`;
    else
      s += `${head}${verdictColour("FAIL", false)}  ${failed.length} of ${n} failed: ${failed.map((e) => `${e.expect} (${e.detail})`).join("; ")}\n`;
  }
  return s;
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
