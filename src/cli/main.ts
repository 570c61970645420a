#!/usr/bin/env node
// ifsim command line: argv → command → stdout, stderr, exit code.

import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { conformCommand, conformProgress } from "./conform.ts";
import {
  execCommand,
  execStdio,
  ipStateArgs,
  ipStateCommand,
  serveCommand,
  serveStop,
} from "./exec.ts";
import { exploreCommand, exploreDefaults, exploreTerminal, replayCommand } from "./explore.ts";
import { EXIT_INTERNAL, EXIT_IOERR, errnoText, stripControls } from "./io.ts";
import { ipCommand } from "./ip.ts";
import { kernelsCommand } from "./kernels.ts";
import { machinesCommand } from "./machines.ts";
import { runCommand, schemaCommand } from "./run.ts";
import { colourWanted, terminal } from "./terminal.ts";
import {
  TERMINAL_OPTIONS_HELP,
  takeTerminalOptions,
  terminalSinks,
  withTerminalOptions,
} from "./terminal-options.ts";
import { udevadmCommand } from "./udevadm.ts";

/** What a command produced. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
  /** The writes in order (stdout 1, stderr 2), when the command interleaves them. */
  readonly chunks?: readonly { readonly fd: 1 | 2; readonly text: string }[];
}

const HELP = `ifsim — an executable, kernel-faithful model of Linux network device naming,
renaming and failover.

Usage:
  ifsim ip [--kernel V] [--machine M] [--seed N] [--monitor OUT] [--dmesg OUT]
           [-force] [-j] [-d] [-br] [-o] [-s] -batch FILE
  ifsim ip [--kernel V] [--machine M] [...] [-j] [-d] [-br] [-o] [-s] link ...
  ifsim exec [--kernel V] [--machine M | FILE.yaml] [--udev GEN] [--json] [--monitor]
             [--backend netns] -- COMMAND [ARG...]
                                run an unmodified script whose 'ip' (and 'ifsim-hv' for hot-plug
                                and virtual time) talk to one booted model; print the final links
  ifsim serve --state DIR [--kernel V] [--machine M | FILE.yaml] [--udev GEN]
                                a persistent model session (survives restarts and kill -9)
  ifsim ip --state DIR [ip options] link ...
                                one ip call on the session ifsim serve --state DIR serves
  ifsim kernels [--json]        list the kernel version profiles
  ifsim machines [--json]       list the built-in machines (for --machine)
  ifsim run FILE.yaml [--kernel V]... [--seed N] [--json] [--monitor] [--html OUT]
            [--link-dir DIR] [--rules-dir DIR] [--netplan FILE]
                                run a scenario: timeline, step results, final links
  ifsim run FILE.yaml --backend netns|qemu [--kernel V] [--json]
                                run it on a real kernel (host namespace or Linux guest)
  ifsim conform FILE.yaml... [--backend netns|qemu] [--json] [--html OUT]
                                run each on a real kernel and on the model, show differences
  ifsim explore FILE.yaml [--kernel LIST] [--udev LIST] [--invariants LIST] [--json]
                [--export OUT] [--html OUT] [--jobs N] [--max-states N] [--time-limit DUR] [...]
                                search every interleaving of the scenario's actors for a broken
                                invariant (a kernel × udev matrix with lists); exit 0 verified,
                                1 violated, 3 bounded (ifsim explore --help lists every option)
  ifsim replay TOKEN|TRACE-FILE [--cell K/U] [--json] [--itf OUT] [--export OUT] [--html OUT]
                                replay a counterexample ifsim explore wrote (its token, or the
                                NAME.cex.txt file it wrote the tokens to)
  ifsim udevadm FILE.yaml info DEV | test-builtin net_id DEV
                                what the model's udev decided, as udevadm prints it
  ifsim schema                  the scenario file's JSON Schema (for editors)
  ifsim --help | --version
  --html OUT on run, explore, replay and conform writes a self-contained HTML report (swim
  lanes per actor on the virtual clock, the ip link state after any line; docs/html-report.md)

ifsim ip runs iproute2 'ip link' commands on a fresh simulated kernel and prints exactly
what iproute2 6.1 prints on that kernel. Without --machine the namespace has only 'lo'.
  --kernel V     kernel version profile (default 6.18), e.g. 4.19, 5.0, 5.1, 6.1, 6.2
  --machine M    boot a machine first, e.g. failover-vm (net_failover with virtio + e1000e)
  --dmesg OUT    write the kernel log, boot included, to OUT ('-' = stderr)
  (ifsim ip --help lists every option and the #ifsim: batch directives for hot-plug)
  --seed N       seed of the model's RNG (random veth/ifb MACs), default 1
  --monitor OUT  write the 'ip monitor link' records the run produced to OUT ('-' = stderr)
Exit status: as ip (0 ok, 1 failed command, 2 kernel error, 255 usage), 2 for ifsim usage errors.
Every command: 70 internal error (a bug in ifsim: please report it), 74 output not written (disk full).`;

/** The package's version, from its package.json (src/cli/ and dist/cli/ both sit two levels below it). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Words that make a command drive a real kernel: `conform …`, `run … --backend B`. */
type RealKernelWord = "--backend";

/** True when a literal argv tuple type has `word` among its elements. */
type Has<A extends readonly string[], W extends string> = A extends readonly [
  infer H,
  ...infer T extends readonly string[],
]
  ? [H] extends [W]
    ? true
    : Has<T, W>
  : false;

/**
 * What main() returns for an argv: a promise for the commands that drive a real kernel
 * (`conform`, `run … --backend B`) or may run worker threads (`explore`, `replay`), the result
 * itself for every other. Decided from the literal words of the argv; for an argv whose words
 * are not literal (a string[] from elsewhere) it says CliResult, so such a caller must await the
 * result (awaiting a CliResult is harmless) — as the ifsim binary does.
 */
export type MainResult<A extends readonly string[]> = A extends readonly [
  "conform" | "explore" | "replay" | "exec" | "serve",
  ...string[],
]
  ? Promise<CliResult>
  : A extends readonly ["ip", "--state", ...string[]]
    ? Promise<CliResult>
    : A extends readonly ["run", ...infer T extends readonly string[]]
      ? Has<T, RealKernelWord> extends true
        ? Promise<CliResult>
        : CliResult
      : CliResult;

/**
 * Runs the CLI on `argv` (without node and script) and returns what it would print: at once,
 * or as a promise for the commands that drive a real kernel (see MainResult).
 */
export function main<const A extends readonly string[]>(argv: A): MainResult<A> {
  let r: CliResult | Promise<CliResult>;
  try {
    r = dispatch(argv);
  } catch (e) {
    return internalError(e) as MainResult<A>;
  }
  return (r instanceof Promise ? r.catch(internalError) : r) as MainResult<A>;
}

/**
 * What a bug in ifsim prints: `ifsim: internal error: …`, the stack and where to report it, exit
 * 70. Every input ifsim refuses gets a usage error (2) instead; tests assert none reaches this.
 */
export function internalError(e: unknown): CliResult {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const stack = e instanceof Error && e.stack ? `${e.stack.split("\n").slice(1).join("\n")}\n` : "";
  return {
    stdout: "",
    stderr:
      `ifsim: internal error: ${what}\n${stack}` +
      "This is a bug in ifsim, not in your input: please report it with the command line and the files it read.\n",
    status: EXIT_INTERNAL,
  };
}

/** The commands that report to a person (colour, width, progress): they take --color, --progress. */
const REPORTING = {
  run: runCommand,
  conform: conformCommand,
  explore: exploreCommand,
  replay: replayCommand,
} as const;

function dispatch(argv: readonly string[]): CliResult | Promise<CliResult> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) return { stdout: "", stderr: `${HELP}\n`, status: 2 };
  if (cmd === "--help" || cmd === "-h" || cmd === "help")
    return { stdout: `${HELP}\n`, stderr: "", status: 0 };
  if (cmd === "--version" || cmd === "-V")
    return { stdout: `ifsim ${packageVersion()}\n`, stderr: "", status: 0 };
  if (cmd === "ip") {
    const st = ipStateArgs(rest);
    if (st === null) return ipCommand(rest);
    if ("error" in st) return rest[0] === "--state" ? Promise.resolve(st.error) : st.error;
    return ipStateCommand(st.dir, st.args);
  }
  if (cmd === "exec") return execCommand(rest);
  if (cmd === "serve") return serveCommand(rest);
  if (cmd === "kernels") return kernelsCommand(rest);
  if (cmd === "machines") return machinesCommand(rest);
  // These print text from scenario files and replay tokens: no control character of theirs
  // reaches a terminal (JSON output has none left: JSON.stringify escapes them).
  const report = REPORTING[cmd as keyof typeof REPORTING] as
    | ((argv: readonly string[]) => CliResult | Promise<CliResult>)
    | undefined;
  if (report !== undefined) {
    // --color and --progress, the same for every reporting command.
    const t = takeTerminalOptions(rest);
    if ("usage" in t) return { stdout: "", stderr: `ifsim ${cmd}: ${t.usage}\n`, status: 2 };
    const help = t.argv.includes("--help") || t.argv.includes("-h");
    return withTerminalOptions(t.options, () => {
      const r = clean(report(t.argv));
      const withHelp = (x: CliResult): CliResult =>
        help && x.status === 0 ? { ...x, stdout: `${x.stdout}${TERMINAL_OPTIONS_HELP}` } : x;
      return r instanceof Promise ? r.then(withHelp) : withHelp(r);
    });
  }
  if (cmd === "schema") return schemaCommand(rest);
  if (cmd === "udevadm") return clean(udevadmCommand(rest));
  return {
    stdout: "",
    stderr: `ifsim: unknown command "${cmd}" (try "ifsim --help")\n`,
    status: 2,
  };
}

function clean(r: CliResult | Promise<CliResult>): CliResult | Promise<CliResult> {
  if (r instanceof Promise) return r.then((x) => clean(x) as CliResult);
  // With colour on (a TTY, no NO_COLOR), SGR colour sequences pass: they change colours only,
  // never the cursor or the terminal's state.
  const strip = (s: string) => stripControls(s, { keepSgr: terminal.colour });
  return {
    ...r,
    stdout: strip(r.stdout),
    stderr: strip(r.stderr),
    ...(r.chunks ? { chunks: r.chunks.map((c) => ({ fd: c.fd, text: strip(c.text) })) } : {}),
  };
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // Progress (QEMU boot and steps, conform per scenario, explore per cell) goes to stderr when
  // it is a terminal, or with --progress; colour and width follow stdout.
  terminalSinks.stderr = (line) => process.stderr.write(`${line}\n`);
  const errTTY = process.stderr.isTTY === true;
  conformProgress.sink = errTTY ? terminalSinks.stderr : null;
  execStdio.mode = "inherit";
  serveStop.signal = () =>
    new Promise((resolve) => {
      for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(s, () => resolve());
    });
  terminal.colour = colourWanted(process.env, process.stdout.isTTY === true);
  terminal.columns = process.stdout.isTTY ? (process.stdout.columns ?? null) : null;
  terminal.progress = errTTY ? terminalSinks.stderr : null;
  // Counterexamples' replay tokens go to NAME.cex.txt in the working directory, as TLC's traces.
  exploreDefaults.traceDir = ".";
  exploreTerminal.current = {
    write: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stderr.isTTY ? { stderrColumns: process.stderr.columns } : {}),
    ...(process.stdout.isTTY ? { stdoutColumns: process.stdout.columns } : {}),
  };
  // A late failure (a worker thread, a timer) is a bug too: report it like one.
  process.on("uncaughtException", (e) => {
    process.stderr.write(internalError(e).stderr);
    process.exit(EXIT_INTERNAL);
  });
  // `ifsim … | head`: the reader left, so stop quietly; a full disk: say so (exit 74).
  for (const [stream, name] of [
    [process.stdout, "standard output"],
    [process.stderr, "standard error"],
  ] as const) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      if (stream !== process.stderr)
        process.stderr.write(`ifsim: cannot write to ${name}: ${errnoText(e)}\n`);
      process.exit(EXIT_IOERR);
    });
  }
  const r = await main(process.argv.slice(2));
  process.exitCode = r.status;
  if (r.chunks) {
    for (const c of r.chunks) (c.fd === 1 ? process.stdout : process.stderr).write(c.text);
  } else {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  }
}
