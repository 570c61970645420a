// `ifsim exec`: a command runs with an `ip` on its PATH that talks to one booted model (or, with
// the netns backend, with the real `ip` in a fresh network namespace of the host kernel).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { constants, release, tmpdir } from "node:os";
import { join } from "node:path";
import { Netns } from "../backends/netns.ts";
import { checkSocketPath } from "./journal.ts";
import { ModelSession, type SessionConfig } from "./model-session.ts";
import { QemuSession, type QemuSessionConfig } from "./qemu-session.ts";
import { type CallTarget, SessionServer } from "./server.ts";
import { writeShims } from "./shim.ts";

/** The command's writes when they are captured (stdout 1, stderr 2), in order. */
export type Chunks = { fd: 1 | 2; text: string }[];

/** How the command's standard streams are wired: to ours, or captured. */
export type ExecStdio = "inherit" | "capture";

/** What a command run under `ifsim exec` did. */
export interface CommandOutcome {
  /** Its exit status; 128+signo when a signal ended it; 127 when it could not be started. */
  readonly status: number;
  /** Its output, when captured (empty with inherited streams). */
  readonly chunks: Chunks;
}

/**
 * Runs `argv` with `env` to its end (stdin inherited; stdout and stderr inherited or captured).
 * A command that cannot be started gets the shell's 127 and a message on the captured stderr.
 */
export function runCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdio: ExecStdio,
): Promise<CommandOutcome> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new TypeError("runCommand: empty command");
  return new Promise((resolve) => {
    const chunks: Chunks = [];
    // Like a shell waiting for its foreground job: a SIGTERM, SIGHUP or SIGINT sent to ifsim
    // goes to the command (a terminal's ^C reaches both), and ifsim cleans up once it has ended.
    // The handlers are in place before the command starts: a signal sent as soon as the command
    // shows a sign of life (its first output) must not find ifsim without them.
    let child: ReturnType<typeof spawn> | null = null;
    const pending: NodeJS.Signals[] = [];
    const forward = (sig: NodeJS.Signals): void => {
      if (child === null) pending.push(sig);
      else child.kill(sig);
    };
    const signals = ["SIGTERM", "SIGHUP", "SIGINT"] as const;
    for (const sig of signals) process.on(sig, forward);
    const unhook = (): void => {
      for (const sig of signals) process.removeListener(sig, forward);
    };
    const c = spawn(cmd, args, {
      env,
      stdio: stdio === "inherit" ? "inherit" : ["inherit", "pipe", "pipe"],
    });
    child = c;
    for (const sig of pending.splice(0)) c.kill(sig);
    c.stdout?.setEncoding("utf8");
    c.stderr?.setEncoding("utf8");
    c.stdout?.on("data", (s: string) => chunks.push({ fd: 1, text: s }));
    c.stderr?.on("data", (s: string) => chunks.push({ fd: 2, text: s }));
    c.on("error", (e: NodeJS.ErrnoException) => {
      const text = `ifsim exec: cannot run "${cmd}": ${e.code ?? e.message}\n`;
      if (stdio === "inherit") process.stderr.write(text);
      else chunks.push({ fd: 2, text });
      resolve({ status: 127, chunks });
    });
    c.on("error", unhook);
    c.on("close", (code, signal) => {
      unhook();
      const status = code ?? 128 + (signal !== null ? (constants.signals[signal] ?? 0) : 0);
      resolve({ status, chunks });
    });
  });
}

/** What `execOnModel` returns: the command's outcome and the session it talked to. */
export interface ModelExecOutcome extends CommandOutcome {
  readonly session: ModelSession;
}

/**
 * Boots the model, serves it on a private socket (a fresh mkdtemp directory, mode 0700; the
 * socket 0600), runs the command with `ip` and `ifsim-hv` first on its PATH, then stops the
 * server and removes the directory.
 * @throws what ModelSession.boot throws for a config the model cannot boot.
 */
export async function execOnModel(
  cfg: SessionConfig,
  argv: readonly string[],
  stdio: ExecStdio,
): Promise<ModelExecOutcome> {
  const session = ModelSession.boot(cfg);
  const r = await serveAndRun(session, argv, stdio);
  return { ...r, session };
}

/** What `execOnQemu` returns: the command's outcome, the guest session and its final links. */
export interface QemuExecOutcome extends CommandOutcome {
  readonly session: QemuSession;
  /** `ip link show` in the guest after the command. */
  readonly ipLink: string;
}

/**
 * Boots the qemu guest, serves it as execOnModel serves the model (the same shims: the script
 * runs on the host, its calls reach the guest), runs the command, reads the final links and
 * powers the guest off.
 * @throws what QemuSession.boot throws for a config the backend cannot run.
 */
export async function execOnQemu(
  cfg: QemuSessionConfig,
  argv: readonly string[],
  stdio: ExecStdio,
  log: (l: string) => void,
): Promise<QemuExecOutcome> {
  const session = await QemuSession.boot(cfg, log);
  try {
    const r = await serveAndRun(session, argv, stdio);
    const ipLink = await session.ipLink();
    return { ...r, session, ipLink };
  } finally {
    await session.close();
  }
}

/** Serves `session` on a private socket while the command runs (see execOnModel). */
async function serveAndRun(
  session: CallTarget,
  argv: readonly string[],
  stdio: ExecStdio,
): Promise<CommandOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "ifsim-exec-"));
  try {
    checkSocketPath(join(dir, "sock"));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  try {
    const socketPath = join(dir, "sock");
    const server = await SessionServer.listen({
      socketPath,
      session,
      journal: null,
      onInternalError: (e) => process.stderr.write(`ifsim exec: internal error: ${String(e)}\n`),
    });
    try {
      const bin = join(dir, "bin");
      writeShims(bin, socketPath);
      const env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        IFSIM_SOCKET: socketPath,
      };
      return await runCommand(argv, env, stdio);
    } finally {
      // a call still running (its client was killed) finishes before the session is read
      await server.close();
      await server.idle();
    }
  } finally {
    cleanup();
    process.removeListener("exit", cleanup);
  }
}

/** What `execOnNetns` returns: the command's outcome and `ip link show` of the namespace at its end. */
export interface NetnsExecOutcome extends CommandOutcome {
  readonly ipLink: string;
  /** The host's kernel release (uname -r). */
  readonly kernel: string;
}

/**
 * Runs the command in a fresh network namespace of the host kernel (`ip netns exec`), with the
 * real `ip` and an `ifsim-hv` that refuses hypervisor actions (a namespace has no PCI devices)
 * and lets real time pass for `sleep`. The namespace is removed afterwards (and on signals).
 */
export async function execOnNetns(
  argv: readonly string[],
  stdio: ExecStdio,
): Promise<NetnsExecOutcome> {
  const ns = new Netns("ifsim-exec");
  const dir = mkdtempSync(join(tmpdir(), "ifsim-exec-"));
  try {
    const bin = join(dir, "bin");
    writeShims(bin, null, { netns: true });
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
    };
    const r = await runCommand(["ip", "netns", "exec", ns.name, ...argv], env, stdio);
    const show = ns.ip(["link", "show"]);
    return { ...r, ipLink: show.stdout, kernel: release() };
  } finally {
    ns.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
