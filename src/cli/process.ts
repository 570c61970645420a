// The ifsim process around a command: terminal settings, late failures, broken pipes, full
// disks, then the command's output and exit status. Light on purpose: `ifsim --help` and
// `ifsim ip` load it without the scenario, explore or conform commands.

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EXIT_INTERNAL, EXIT_IOERR, errnoText, stripControls } from "./io.ts";
import type { CliResult } from "./main.ts";
import { colourWanted, terminal } from "./terminal.ts";

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

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/**
 * Runs `command` as the ifsim process: sets up the terminal (and `setup`, the command's own
 * process needs), reports a late failure as an internal error (70), stops quietly on a closed
 * pipe and says so on a failed write (74), then writes the result and sets the exit status.
 */
export async function runProcess(
  command: () => CliResult | Promise<CliResult>,
  setup?: () => void,
): Promise<void> {
  terminal.colour = colourWanted(process.env, process.stdout.isTTY === true);
  terminal.columns = process.stdout.isTTY ? (process.stdout.columns ?? null) : null;
  // Progress (QEMU boot, conform, explore) only on a terminal; --progress asks for it elsewhere.
  terminal.progress = process.stderr.isTTY ? (line) => process.stderr.write(`${line}\n`) : null;
  setup?.();
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
  let r: CliResult;
  try {
    r = await command();
  } catch (e) {
    r = internalError(e);
  }
  process.exitCode = r.status;
  if (r.chunks) {
    for (const c of r.chunks) (c.fd === 1 ? process.stdout : process.stderr).write(c.text);
  } else {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  }
}

/**
 * The result with control characters stripped from its text (commands that print text from
 * scenario files and replay tokens): none reaches a terminal. With colour on (a TTY, no
 * NO_COLOR), SGR colour sequences pass: they change colours only, never the cursor or the
 * terminal's state.
 */
export function clean(r: CliResult | Promise<CliResult>): CliResult | Promise<CliResult> {
  if (r instanceof Promise) return r.then((x) => clean(x) as CliResult);
  const strip = (s: string) => stripControls(s, { keepSgr: terminal.colour });
  return {
    ...r,
    stdout: strip(r.stdout),
    stderr: strip(r.stderr),
    ...(r.chunks ? { chunks: r.chunks.map((c) => ({ fd: c.fd, text: strip(c.text) })) } : {}),
  };
}
