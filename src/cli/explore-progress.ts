// `ifsim explore`'s live progress on stderr while a search runs (before the result is printed).

import { performance } from "node:perf_hooks";

// The terminal is injected: progress goes to stderr while the search runs, before the result.
/** Where live progress goes and how wide the output may be (main() sets it for the binary). */
export interface ExploreTerminal {
  /** Writes to stderr at once. */
  write(text: string): void;
  /** stderr is a terminal (progress bar rewritten with \r; else a plain line every 2 s). */
  readonly stderrIsTTY: boolean;
  /** Width of stderr when it is a terminal. */
  readonly stderrColumns?: number;
  /** Width of stdout when it is a terminal (the swim-lane timeline fits it; default 120). */
  readonly stdoutColumns?: number;
  /** --progress: plain progress lines (every 2 s, and per cell) even when stderr is no terminal. */
  readonly forceProgress?: boolean;
}

/** The terminal of this process, or null (no live progress: tests, library use). */
export const exploreTerminal: { current: ExploreTerminal | null } = { current: null };

/** Live progress of a search on stderr. */
export class Progress {
  readonly #term: ExploreTerminal | null;
  #t0: number;
  readonly #total: { maxStates?: number; timeLimitMs?: number };
  #last: number;
  #drawn = false;
  #cell = "";

  constructor(total: { maxStates?: number; timeLimitMs?: number }) {
    const term = exploreTerminal.current;
    // Progress on a terminal's stderr, or anywhere with --progress; never mixed into a pipe.
    this.#term = term && (term.stderrIsTTY || term.forceProgress === true) ? term : null;
    this.#t0 = performance.now();
    this.#last = this.#t0;
    this.#total = total;
  }

  /**
   * A new search starts (a matrix's next cell): the clock restarts; a matrix's cell is named on
   * the progress line, and on a plain stderr its start is a line of its own.
   */
  start(cell?: { readonly index: number; readonly count: number; readonly name: string }): void {
    this.#t0 = performance.now();
    this.#last = this.#t0;
    this.#cell =
      cell && cell.count > 1 ? `cell ${cell.index + 1}/${cell.count} ${cell.name}: ` : "";
    if (this.#term && !this.#term.stderrIsTTY && this.#cell !== "")
      this.#term.write(`explore: ${this.#cell}started\n`);
  }

  /** A matrix's cell ended with `verdict`: one line that stays (after the bar is cleared). */
  cellDone(verdict: string): void {
    this.done();
    if (this.#term && this.#cell !== "") {
      const el = ((performance.now() - this.#t0) / 1000).toFixed(1);
      this.#term.write(`explore: ${this.#cell}${verdict} (${el} s)\n`);
    }
  }

  update(s: { states: number; maxDepth: number }): void {
    const term = this.#term;
    if (!term) return;
    const now = performance.now();
    if (now - this.#last < (term.stderrIsTTY ? 100 : 2000)) return;
    this.#last = now;
    const el = (now - this.#t0) / 1000;
    const rate = el > 0 ? Math.round(s.states / el) : 0;
    const text = `${s.states} states, ${rate}/s, depth ${s.maxDepth}, ${el.toFixed(1)} s`;
    if (!term.stderrIsTTY) {
      term.write(`explore: ${this.#cell}${text}\n`);
      return;
    }
    let frac = -1;
    if (this.#total.timeLimitMs !== undefined)
      frac = Math.max(frac, (now - this.#t0) / this.#total.timeLimitMs);
    if (this.#total.maxStates !== undefined)
      frac = Math.max(frac, s.states / this.#total.maxStates);
    let line = `explore: ${this.#cell}`;
    if (frac >= 0) {
      const f = Math.min(1, frac);
      const n = Math.round(f * 20);
      line += `[${"#".repeat(n)}${".".repeat(20 - n)}] ${String(Math.floor(f * 100)).padStart(3)}%  `;
    }
    line += text;
    const cols = term.stderrColumns || 80;
    term.write(`\r${line.slice(0, Math.max(10, cols - 1))}\x1b[K`);
    this.#drawn = true;
  }

  done(): void {
    if (this.#term && this.#drawn) this.#term.write("\r\x1b[K");
    this.#drawn = false;
  }
}
