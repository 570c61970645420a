// `ifsim conform FILE… [--backend netns|qemu] [--json]`: each scenario on a real kernel and on
// the model (profile = the backend's kernel version, every step ending on a settled machine as
// the backend's do), then step by step and link by link: where they differ, the kernel is right.
// (what is compared, normalised and tolerated: src/conform/compare.ts)

import { backendByName, backendNames } from "../backends/index.ts";
import { type ConformResult, conformScenario } from "../conform/index.ts";
import { conformReport, renderHtml } from "../report/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { checkWritable, EXIT_IOERR, outputClash, readInput, writeOutput } from "./io.ts";
import type { CliResult } from "./main.ts";
import { kernelValue } from "./option-values.ts";
import { fitLines, outputWidth, terminal, verdictColour } from "./terminal.ts";

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
    for (const b of r.bootFailures ?? []) s += `          boot retried: the guest crashed (${b})\n`;
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
flags, mtu, operstate, address, master, portname, name_assign_type); on qemu also the final
'ip -d link' text, line by line (guest PCI addresses mapped; altnames left out with udevd).
  --backend B  netns (default: the host kernel in a network namespace) or qemu
  --kernel V   the kernel the backend runs (qemu picks its image by it; netns: the host's only)
  --json       print the verdicts as JSON
  --html OUT   also write an HTML report to OUT: per scenario the model's run (swim lanes on the
               virtual clock, the ip link state after any line on click or hover) next to the
               real kernel's, and their differences (docs/html-report.md)
Per scenario: AGREE, DIFFER (with step/link, field, model, kernel), REFUSED (with the reason),
ERROR (a file that is not a valid scenario: its problems on stderr; the other files still run).
A step whose records differ only by the outcome of a measured kernel race that the model plays
one way (6.12+: virtio_net's config work vs dev_open's records) agrees and is listed under its
scenario as "tolerated: …" (JSON: tolerated); with udevd, devices' records may interleave
otherwise and a shared MAC's enx… altname may sit on another device of that MAC. A qemu
guest that crashes while booting (the emulator, before any step) is booted again, up to 3 tries,
and listed as "boot retried: …" (JSON: bootFailures).
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
