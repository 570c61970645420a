// `ifsim exec`, `ifsim serve` and `ifsim ip --state`: argv → session/ → output. The server,
// the session and the command runner live in src/session/.

import { readFileSync } from "node:fs";
import { netnsUnavailableReason } from "../backends/netns.ts";
import { QemuBackend, qemuUnavailableReason } from "../backends/qemu/index.ts";
import { BackendRefusal } from "../backends/refusal.ts";
import { UnknownKernelError } from "../kernel/index.ts";
import { MachineError } from "../machine/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import { RunError } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { callSession, SessionUnreachable } from "../session/client.ts";
import { type ExecStdio, execOnModel, execOnNetns, execOnQemu } from "../session/exec.ts";
import { StateError, statePaths } from "../session/journal.ts";
import type { SessionConfig } from "../session/model-session.ts";
import { QemuSessionError } from "../session/qemu-session.ts";
import { serveState } from "../session/serve.ts";
import { readInput } from "./io.ts";
import { loadMachine } from "./machines.ts";
import type { CliResult } from "./main.ts";
import { kernelValue, seedValue } from "./option-values.ts";

/** How `ifsim exec` wires the command's output: captured (tests) or the terminal (the binary). */
export const execStdio: { mode: ExecStdio } = { mode: "capture" };

/** Resolves when `ifsim serve` should stop; the binary sets it to SIGTERM/SIGINT. */
export const serveStop: { signal: () => Promise<void> } = {
  signal: () => new Promise(() => {}),
};

const UDEV_GENERATIONS = ["none", "legacy", "v249", "v250", "v253", "v256"] as const;

/** `ifsim exec --help`. */
export const EXEC_HELP = `Usage: ifsim exec [--kernel V] [--machine M | FILE.yaml] [--udev GEN] [--seed N]
                  [--json] [--monitor] -- COMMAND [ARG...]
       ifsim exec --backend netns [--json] -- COMMAND [ARG...]
       ifsim exec --backend qemu [--kernel 6.1] [--machine M | FILE.yaml] [--udev v253]
                  [--json] [--monitor] -- COMMAND [ARG...]
Boots the model (the machine and the scenario's actors; a scenario's steps run first), runs
COMMAND with an 'ip' and an 'ifsim-hv' first on its PATH that talk to that one model through a
private Unix socket, then prints 'ip link show' of the final state. Every call is atomic and
concurrent calls are serialised (as RTNL serialises them); each call ends when the model's
actors (udev, bring-up, the kernel's deferred work) are idle again.
  --kernel V       kernel version profile (default: the scenario's, else 6.18)
  --machine M      a built-in machine (see ifsim machines) or FILE.json; default: only lo
  FILE.yaml        a scenario: its machine, udev/bring-up/cloud-init actors and steps
  --udev GEN       run the udev actor of that generation (none, legacy, v249, v250, v253, v256)
  --seed N         seed of the model's RNG, default the scenario's or 1
  --monitor        also print the 'ip monitor link' records of the run
  --json           print one JSON object: the command's status and output, the final
                   'ip link', the calls, and the run record (timeline, dmesg, udev renames)
  --backend netns  run COMMAND in a fresh network namespace of the host kernel instead, with the
                   real ip; ifsim-hv refuses hypervisor actions there (sleep and settle work)
  --backend qemu   boot the machine as a QEMU q35 guest with Debian's Linux 6.1 instead: the
                   command runs here, each ip call runs the guest's ip, each ifsim-hv action is
                   a QMP command; every call ends when the guest is quiet (1.3 s or more); sleep is
                   real time (docs/exec.md)
ifsim-hv plug ID | unplug ID | set-link ID up|down | sleep DURATION | settle
                   QMP device_add / device_del / set_link of the machine's device ID; virtual
                   time passes (500ms, 2s); run until every actor is idle
Exit status: COMMAND's (128+N for signal N, 127 when it cannot be started); 2 usage.
`;

/** `ifsim serve --help`. */
export const SERVE_HELP = `Usage: ifsim serve --state DIR [--kernel V] [--machine M | FILE.yaml] [--udev GEN] [--seed N]
       ifsim serve --state DIR --backend qemu [--kernel 5.10|6.1|6.12] [--machine M | FILE.yaml]
                   [--udev GEN]
Serves a persistent model session in DIR until SIGTERM or SIGINT: DIR/sock (mode 0600) for
'ifsim ip --state DIR ...' and for DIR/bin/ip and DIR/bin/ifsim-hv (put DIR/bin first on PATH).
The first start saves the boot options in DIR/config.json; every call is appended to
DIR/journal.jsonl and synced before the model runs it. A restart (no boot options needed) boots
the same model and replays the journal, so no acknowledged call is lost, even after kill -9; a
dead server's socket and pid file are swept at the next start.
  --backend qemu   serve a booted QEMU guest (Debian's kernel, its udevd with --udev or a udev
                   scenario) instead: each ip call runs the guest's ip, each ifsim-hv action is a
                   QMP command. The socket, shims and journal are the same. A real guest cannot
                   be replayed exactly: a restart boots a fresh guest and runs the journaled calls
                   again (their answers are the new guest's), and kills the QEMU a killed server
                   left (DIR/qemu.pid). SIGTERM/SIGINT power the guest off (docs/exec.md).
`;

function usage(cmd: string, msg: string): CliResult {
  return { stdout: "", stderr: `ifsim ${cmd}: ${msg}\n`, status: 2 };
}

type BootArgs = { config: SessionConfig; given: boolean } | { error: string };

/** Parses the boot options shared by exec and serve; `rest` gets the words it does not know. */
function parseBoot(argv: readonly string[], rest: string[]): BootArgs & { json?: boolean } {
  let kernel: string | null = null;
  let seed: number | null = null;
  let machineArg: string | null = null;
  let udev: (typeof UDEV_GENERATIONS)[number] | null = null;
  let file: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = (): string | null => argv[++i] ?? null;
    if (a === "--kernel") {
      const v = kernelValue(next());
      if (typeof v === "object") return v;
      kernel = v;
    } else if (a === "--seed") {
      const v = seedValue(next());
      if (typeof v === "object") return v;
      seed = v;
    } else if (a === "--machine") {
      machineArg = next();
      if (machineArg === null) return { error: "--machine needs a built-in name or a FILE.json" };
    } else if (a === "--udev") {
      const v = next();
      if (v === null || !(UDEV_GENERATIONS as readonly string[]).includes(v))
        return { error: `--udev needs one of ${UDEV_GENERATIONS.join(", ")}, got "${v ?? ""}"` };
      udev = v as (typeof UDEV_GENERATIONS)[number];
    } else if (/\.ya?ml$/.test(a) && !a.startsWith("-")) {
      if (file !== null) return { error: `give one scenario file, got "${file}" and "${a}"` };
      file = a;
    } else rest.push(a);
  }
  if (file !== null && machineArg !== null)
    return { error: "give --machine M or a scenario FILE.yaml, not both" };
  let scenario: ScenarioDoc = { ifsim: 1, name: "ifsim exec", steps: [] };
  if (file !== null) {
    const input = readInput(file);
    if ("error" in input) return { error: input.error };
    const parsed = parseScenario(input.text, file);
    if (!parsed.ok) return { error: parsed.issues.map(formatIssue).join("\n") };
    scenario = parsed.scenario;
    if (kernel === null && scenario.kernel === undefined && scenario.kernels !== undefined)
      return {
        error: `"${file}" lists kernels ${scenario.kernels.join(", ")} and a session runs one: pick it with --kernel`,
      };
  }
  if (udev !== null) {
    const base = typeof scenario.udev === "object" ? scenario.udev : {};
    scenario = { ...scenario, udev: udev === "none" ? "none" : { ...base, generation: udev } };
  }
  let machine = null;
  if (machineArg !== null) {
    const m = loadMachine(machineArg);
    if ("error" in m) return { error: m.error };
    machine = m;
  }
  return {
    config: { scenario, machine, kernel, seed },
    given:
      kernel !== null || seed !== null || machineArg !== null || udev !== null || file !== null,
  };
}

/** A boot failure the user caused (an unknown kernel, a machine that does not boot). */
function bootError(e: unknown): string | null {
  if (e instanceof UnknownKernelError || e instanceof RunError || e instanceof MachineError)
    return e.message;
  if (e instanceof Error && e.name === "PciAddressError") return e.message;
  return null;
}

/** `ifsim exec [boot options] [--json] [--monitor] [--backend netns|qemu] -- COMMAND ARGS…`. */
export async function execCommand(argv: readonly string[]): Promise<CliResult> {
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  if (own.includes("--help")) return { stdout: EXEC_HELP, stderr: "", status: 0 };
  if (dash < 0 || dash === argv.length - 1)
    return usage("exec", "give the command after --, e.g. ifsim exec --kernel 6.1 -- ./script.sh");
  const command = argv.slice(dash + 1);
  const rest: string[] = [];
  let json = false;
  let monitor = false;
  let backend: string | null = null;
  const words: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i] as string;
    if (a === "--json") json = true;
    else if (a === "--monitor") monitor = true;
    else if (a === "--backend") {
      backend = own[++i] ?? null;
      if (backend !== "netns" && backend !== "qemu" && backend !== "model")
        return usage("exec", `--backend needs model, netns or qemu, got "${backend ?? ""}"`);
    } else words.push(a);
  }
  const boot = parseBoot(words, rest);
  if ("error" in boot) return usage("exec", boot.error);
  if (rest.length > 0) return usage("exec", `unknown option "${rest[0]}" (see ifsim exec --help)`);
  if (backend === "netns") {
    if (boot.given)
      return usage(
        "exec",
        "--backend netns runs the host's kernel in an empty namespace: drop --kernel, --machine, --udev, --seed and the scenario",
      );
    if (monitor) return usage("exec", "--monitor is not available with --backend netns");
    const why = netnsUnavailableReason();
    if (why) return usage("exec", `the netns backend is not available: ${why}`);
    const r = await execOnNetns(command, json ? "capture" : execStdio.mode);
    if (json)
      return {
        stdout: `${JSON.stringify({ backend: "netns", kernel: r.kernel, command, status: r.status, ...output(r.chunks), ip_link: r.ipLink }, null, 2)}\n`,
        stderr: "",
        status: r.status,
      };
    return finalText(r.chunks, r.ipLink, null, r.status);
  }
  if (backend === "qemu") return execQemu(boot.config, command, json, monitor);
  let r: Awaited<ReturnType<typeof execOnModel>>;
  try {
    r = await execOnModel(boot.config, command, json ? "capture" : execStdio.mode);
  } catch (e) {
    const msg = e instanceof StateError ? e.message : bootError(e);
    if (msg !== null) return usage("exec", msg);
    throw e;
  }
  const s = r.session;
  if (json) {
    const rec = s.record();
    return {
      stdout: `${JSON.stringify(
        {
          backend: "model",
          kernel: s.run.profile.version,
          command,
          status: r.status,
          ...output(r.chunks),
          ip_link: rec.record.ip_link,
          calls: rec.calls,
          record: rec.record,
        },
        null,
        2,
      )}\n`,
      stderr: "",
      status: r.status,
    };
  }
  return finalText(r.chunks, s.ipLink(), monitor ? s.monitorLog() : null, r.status);
}

/** `ifsim exec --backend qemu …`: the same script against the real 6.1 kernel in a guest. */
async function execQemu(
  cfg: SessionConfig,
  command: readonly string[],
  json: boolean,
  monitor: boolean,
): Promise<CliResult> {
  if (cfg.seed !== null)
    return usage("exec", "--seed seeds the model; the real kernel in the qemu guest has none");
  try {
    new QemuBackend().kernelVersion({ kernel: cfg.kernel });
  } catch (e) {
    if (e instanceof BackendRefusal) return usage("exec", e.message);
    throw e;
  }
  const why = qemuUnavailableReason();
  if (why) return usage("exec", `the qemu backend is not available: ${why}`);
  // A boot takes a minute or more under TCG: say so on a terminal (never in captured output).
  const log = (l: string): void => {
    if (process.stderr.isTTY) process.stderr.write(`ifsim exec: ${l}\n`);
  };
  let r: Awaited<ReturnType<typeof execOnQemu>>;
  try {
    r = await execOnQemu(
      { scenario: cfg.scenario, machine: cfg.machine, kernel: cfg.kernel },
      command,
      json ? "capture" : execStdio.mode,
      log,
    );
  } catch (e) {
    if (e instanceof BackendRefusal || e instanceof QemuSessionError)
      return usage("exec", `the qemu backend cannot run this: ${e.message}`);
    throw e;
  }
  const s = r.session;
  if (json)
    return {
      stdout: `${JSON.stringify(
        {
          backend: "qemu",
          kernel: s.guest.kernel,
          command,
          status: r.status,
          ...output(r.chunks),
          ip_link: r.ipLink,
          calls: s.calls,
          monitor: s.guest.monitor,
          dmesg: s.guest.dmesg,
          ready_ms: s.guest.readyMs,
        },
        null,
        2,
      )}\n`,
      stderr: "",
      status: r.status,
    };
  return finalText(r.chunks, r.ipLink, monitor ? s.monitorLog() : null, r.status);
}

function output(chunks: readonly { fd: 1 | 2; text: string }[]): {
  stdout: string;
  stderr: string;
} {
  let stdout = "";
  let stderr = "";
  for (const c of chunks) {
    if (c.fd === 1) stdout += c.text;
    else stderr += c.text;
  }
  return { stdout, stderr };
}

/** The command's captured writes, then the final `ip link show` (and the monitor records). */
function finalText(
  chunks: readonly { fd: 1 | 2; text: string }[],
  ipLink: string,
  monitor: string | null,
  status: number,
): CliResult {
  const tail =
    `--- ip link show (after the command) ---\n${ipLink}` +
    (monitor === null ? "" : `--- ip monitor link (the whole run) ---\n${monitor}`);
  const all = [...chunks, { fd: 1 as const, text: tail }];
  return { ...output(all), chunks: all, status };
}

/** `ifsim serve --state DIR [boot options]`. */
export async function serveCommand(argv: readonly string[]): Promise<CliResult> {
  if (argv.includes("--help")) return { stdout: SERVE_HELP, stderr: "", status: 0 };
  const words: string[] = [];
  let dir: string | null = null;
  let backend: "model" | "qemu" = "model";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--state") {
      dir = argv[++i] ?? null;
      if (dir === null) return usage("serve", "--state needs a directory");
    } else if (argv[i] === "--backend") {
      const b = argv[++i] ?? "";
      if (b !== "model" && b !== "qemu")
        return usage("serve", `--backend needs model or qemu, got "${b}"`);
      backend = b;
    } else words.push(argv[i] as string);
  }
  if (dir === null) return usage("serve", "give --state DIR (see ifsim serve --help)");
  const rest: string[] = [];
  const parsed = parseBoot(words, rest);
  if ("error" in parsed) return usage("serve", parsed.error);
  if (rest.length > 0)
    return usage("serve", `unknown option "${rest[0]}" (see ifsim serve --help)`);
  // --backend qemu is a boot option: it is saved with the others, and a resume needs none
  const boot =
    backend === "qemu"
      ? { config: { ...parsed.config, backend: "qemu" as const }, given: true }
      : parsed;
  try {
    const r = await serveState({
      dir,
      config: boot.given ? boot.config : null,
      stop: serveStop.signal(),
      log: (line) => process.stderr.write(`ifsim serve: ${line}\n`),
    });
    return { stdout: "", stderr: `ifsim serve: stopped after ${r.handled} calls\n`, status: 0 };
  } catch (e) {
    if (e instanceof StateError) return usage("serve", e.message);
    if (e instanceof BackendRefusal || e instanceof QemuSessionError)
      return usage("serve", `the qemu backend cannot serve this: ${e.message}`);
    const msg = bootError(e);
    if (msg !== null) return usage("serve", msg);
    if (
      (e as NodeJS.ErrnoException).code === "EACCES" ||
      (e as NodeJS.ErrnoException).code === "ENOTDIR"
    )
      return usage("serve", `cannot use "${dir}": ${(e as Error).message}`);
    throw e;
  }
}

/**
 * `ifsim ip --state DIR …` argv split: the directory and the ip words, or a usage error when
 * --state is not first or comes with the options of a fresh kernel. Null without --state.
 */
export function ipStateArgs(
  argv: readonly string[],
): { dir: string; args: string[] } | { error: CliResult } | null {
  const at = argv.indexOf("--state");
  if (at < 0) return null;
  if (at > 0)
    return { error: usage("ip", "--state DIR goes first: ifsim ip --state DIR IP-ARGS...") };
  const dir = argv[1];
  if (dir === undefined) return { error: usage("ip", "--state needs a directory") };
  const args = argv.slice(2);
  const fresh = args.find((a) =>
    ["--kernel", "--machine", "--seed", "--monitor", "--dmesg", "--uek-takeover-delay"].includes(a),
  );
  if (fresh !== undefined)
    return {
      error: usage(
        "ip",
        `${fresh} is an option of a fresh kernel; with --state the session ifsim serve --state ${dir} booted answers`,
      ),
    };
  return { dir, args };
}

/**
 * `ifsim ip --state DIR IP-ARGS…`: one `ip` call on the session `ifsim serve --state DIR` serves,
 * printed exactly as `ifsim ip` prints it.
 */
export async function ipStateCommand(dir: string, argv: readonly string[]): Promise<CliResult> {
  let stdin: string | undefined;
  if (argv.includes("-")) {
    try {
      stdin = readFileSync(0, "utf8");
    } catch {
      stdin = "";
    }
  }
  try {
    const r = await callSession(statePaths(dir).socket, {
      v: 1,
      op: "ip",
      argv,
      cwd: process.cwd(),
      ...(stdin !== undefined ? { stdin } : {}),
    });
    if (!r.ok) return usage("ip", `the model server refused the call: ${r.error}`);
    return { stdout: r.stdout, stderr: r.stderr, status: r.status, chunks: r.chunks };
  } catch (e) {
    if (e instanceof SessionUnreachable)
      return usage("ip", `${e.message} (start it with ifsim serve --state ${dir})`);
    throw e;
  }
}
