#!/usr/bin/env node
// ifsim command line: argv → command → stdout, stderr, exit code.

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
import { HELP, packageVersion } from "./help.ts";
import { ipCommand } from "./ip.ts";
import { kernelsCommand } from "./kernels.ts";
import { machinesCommand } from "./machines.ts";
import { clean, internalError, isMain, runProcess } from "./process.ts";
import { runCommand, schemaCommand } from "./run.ts";
import {
  TERMINAL_OPTIONS_HELP,
  takeTerminalOptions,
  terminalSinks,
  withTerminalOptions,
} from "./terminal-options.ts";
import { udevadmCommand } from "./udevadm.ts";

export { internalError, packageVersion };

/** What a command produced. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
  /** The writes in order (stdout 1, stderr 2), when the command interleaves them. */
  readonly chunks?: readonly { readonly fd: 1 | 2; readonly text: string }[];
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

if (isMain(import.meta.url)) await runProcess(() => main(process.argv.slice(2)), setupProcess);

/** What the commands of this module need from the process (progress lines, signals, terminals). */
export function setupProcess(): void {
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
  // Counterexamples' replay tokens go to NAME.cex.txt in the working directory, as TLC's traces.
  exploreDefaults.traceDir = ".";
  exploreTerminal.current = {
    write: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stderr.isTTY ? { stderrColumns: process.stderr.columns } : {}),
    ...(process.stdout.isTTY ? { stdoutColumns: process.stdout.columns } : {}),
  };
}
