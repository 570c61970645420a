// The terminal options every reporting command takes (run, conform, explore, replay):
// --color=auto|always|never (also --color MODE) and --progress. main() takes them off the argv
// before the command parses it, and applies them around the command.

import { conformProgress } from "./conform.ts";
import { exploreTerminal } from "./explore.ts";
import { terminal } from "./terminal.ts";

/** The terminal options of one command line. */
export interface TerminalOptions {
  /** auto: colour on a TTY without NO_COLOR (the default); always; never. */
  readonly colour: "auto" | "always" | "never";
  /** Progress on stderr even when stderr is not a terminal. */
  readonly progress: boolean;
}

/** What the binary found at startup: the stderr progress writer (null in tests and libraries). */
export const terminalSinks: { stderr: ((line: string) => void) | null } = { stderr: null };

/** The help lines of the terminal options (each command's --help shows them). */
export const TERMINAL_OPTIONS_HELP = `Terminal:
  --color[=WHEN]     colour the verdicts: auto (default: stdout a terminal, NO_COLOR unset;
                     FORCE_COLOR forces), always, never
  --progress         progress lines on stderr even when it is not a terminal (on a terminal
                     they are always shown)
`;

/**
 * Takes --color[=WHEN] and --progress off `argv` (up to a lone "--"), or says what is wrong.
 * @example takeTerminalOptions(["f.yaml", "--color=never"]) // { argv: ["f.yaml"], options: { colour: "never", progress: false } }
 */
export function takeTerminalOptions(
  argv: readonly string[],
): { argv: string[]; options: TerminalOptions } | { usage: string } {
  const out: string[] = [];
  let colour: TerminalOptions["colour"] = "auto";
  let progress = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (a === "--progress") {
      progress = true;
      continue;
    }
    if (
      a === "--color" ||
      a === "--colour" ||
      a.startsWith("--color=") ||
      a.startsWith("--colour=")
    ) {
      const eq = a.indexOf("=");
      let v: string | undefined;
      if (eq >= 0) v = a.slice(eq + 1);
      else if (["auto", "always", "never"].includes(argv[i + 1] ?? "")) v = argv[++i];
      else v = "always";
      if (v !== "auto" && v !== "always" && v !== "never")
        return { usage: `--color is auto, always or never, got "${v}"` };
      colour = v;
      continue;
    }
    out.push(a);
  }
  return { argv: out, options: { colour, progress } };
}

/**
 * Runs `run` with the options applied to the terminal (colour; progress forced on stderr), and
 * puts the terminal back as it was once the result is there (a promise: once it settles).
 */
export function withTerminalOptions<T>(
  o: TerminalOptions,
  run: () => T | Promise<T>,
): T | Promise<T> {
  const saved = {
    colour: terminal.colour,
    progress: terminal.progress,
    sink: conformProgress.sink,
    explore: exploreTerminal.current,
  };
  if (o.colour !== "auto") terminal.colour = o.colour === "always";
  const sink = terminalSinks.stderr;
  if (o.progress && sink) {
    terminal.progress = sink;
    conformProgress.sink = sink;
  }
  // explore writes its progress through its own terminal (a bar on a TTY).
  if (o.progress && exploreTerminal.current)
    exploreTerminal.current = { ...exploreTerminal.current, forceProgress: true };
  const restore = (): void => {
    terminal.colour = saved.colour;
    terminal.progress = saved.progress;
    conformProgress.sink = saved.sink;
    exploreTerminal.current = saved.explore;
  };
  let r: T | Promise<T>;
  try {
    r = run();
  } catch (e) {
    restore();
    throw e;
  }
  if (r instanceof Promise) return r.finally(restore);
  restore();
  return r;
}
