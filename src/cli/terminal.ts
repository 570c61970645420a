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

/** The columns `text` takes on a terminal (SGR colour sequences take none). */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ESC of an SGR sequence
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/**
 * Every line of `text` longer than `width` wrapped at spaces, its continuation lines indented
 * two more than it; a word is never broken, and a line with a word too long for any line (a
 * replay token) is left whole, so that it can be copied.
 * @example fitLines("a bb ccc", 5) // "a bb\n  ccc"
 */
export function fitLines(text: string, width: number): string {
  return text
    .split("\n")
    .map((line) => {
      if (visibleLength(line) <= width) return line;
      const indent = " ".repeat((/^ */.exec(line)?.[0].length ?? 0) + 2);
      const words = line.trim().split(/ +/);
      if (words.some((w) => visibleLength(w) > width - indent.length)) return line;
      const out: string[] = [];
      let cur = line.slice(0, line.length - line.trimStart().length);
      let curLen = cur.length;
      let fresh = true;
      for (const w of words) {
        const wl = visibleLength(w);
        if (!fresh && curLen + 1 + wl > width) {
          out.push(cur);
          cur = indent + w;
          curLen = indent.length + wl;
        } else {
          cur += fresh ? w : ` ${w}`;
          curLen += fresh ? wl : wl + 1;
        }
        fresh = false;
      }
      out.push(cur);
      return out.join("\n");
    })
    .join("\n");
}
