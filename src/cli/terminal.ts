// What the terminal allows: colour (on a TTY, unless NO_COLOR is set or TERM is dumb), the
// width to fit lines to, and where progress lines go (stderr). main() fills it in for the
// ifsim binary; a caller of main() in a test gets plain text at fixed widths and no progress.

import { styleText } from "node:util";

/** The terminal the human output is for. */
export interface Terminal {
  /** Colour the words that carry a verdict (PASS, FAIL, verified, violated). */
  colour: boolean;
  /** Columns of stdout when it is a TTY (lines are fitted to it), else null (fixed widths). */
  columns: number | null;
  /** Writes one progress line to stderr (long jobs: QEMU boot and steps), or null for none. */
  progress: ((line: string) => void) | null;
}

/** The current terminal (plain by default). */
export const terminal: Terminal = { colour: false, columns: null, progress: null };

/**
 * Whether to colour: stdout is a TTY, NO_COLOR is unset or empty (no-color.org), TERM is not
 * "dumb"; FORCE_COLOR (non-empty, not "0") forces it.
 * @example colourWanted({ NO_COLOR: "1" }, true) // false
 */
export function colourWanted(
  env: Readonly<Record<string, string | undefined>>,
  isTTY: boolean,
): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0")
    return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return isTTY;
}

/** `text` in green (a pass) or red (a failure) when colour is on. */
export function verdictColour(text: string, ok: boolean): string {
  return terminal.colour ? styleText(ok ? "green" : "red", text, { validateStream: false }) : text;
}

/** `text` dimmed when colour is on (causes, secondary lines). */
export function dim(text: string): string {
  return terminal.colour ? styleText("dim", text, { validateStream: false }) : text;
}

/** The width to fit human output to: the TTY's columns (at least 60), else `fallback`. */
export function outputWidth(fallback: number): number {
  return terminal.columns !== null ? Math.max(60, terminal.columns) : fallback;
}
