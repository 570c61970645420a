// systemd's configuration file syntax (src/shared/conf-parser.c, config_parse() of systemd 252) as
// .link files use it: `[Section]` headers, `Key=Value` assignments (whitespace around both
// stripped, a key may repeat: what a repeat means is the key's own business), whole-line comments
// starting with `#` or `;`, and a trailing backslash joining a line with the next (the backslash
// becomes a space; comment lines inside a continuation are skipped). No npm INI parser keeps
// repeated keys in order with their line numbers and systemd's continuation rules, so this one is
// small and strict: everything it does not take is a diagnostic with the file and line.

/** One finding about a configuration file, with where it is. */
export interface ConfDiagnostic {
  readonly file: string;
  /** 1-based line; 0 for the file as a whole. */
  readonly line: number;
  /** error: the file or line is not used; warning: ignored as systemd ignores it; info: not modelled. */
  readonly level: "error" | "warning" | "info";
  readonly message: string;
}

/** One `Key=Value` line, in file order. */
export interface ConfAssignment {
  readonly section: string;
  readonly key: string;
  readonly value: string;
  /** The line the assignment starts on (1-based). */
  readonly line: number;
}

/** A parsed file: assignments in order, the sections seen, and what was not taken. */
export interface ParsedConf {
  readonly file: string;
  readonly assignments: readonly ConfAssignment[];
  readonly sections: readonly { readonly name: string; readonly line: number }[];
  readonly diagnostics: readonly ConfDiagnostic[];
  /** False when systemd would refuse the whole file (a bad section header). */
  readonly ok: boolean;
}

const COMMENT = /^[#;]/;

/**
 * Parses systemd configuration text. Never throws on content: a bad section header makes the
 * file unusable (`ok: false`, as config_parse fails with -EBADMSG), a line without `=` or an
 * assignment before any section is ignored with a warning, as systemd does.
 */
export function parseSystemdConf(text: string, file: string): ParsedConf {
  if (typeof text !== "string")
    throw new TypeError(`parseSystemdConf: text of ${file} is not a string`);
  const assignments: ConfAssignment[] = [];
  const sections: { name: string; line: number }[] = [];
  const diagnostics: ConfDiagnostic[] = [];
  const lines = text.split(/\r?\n/);
  let section: string | null = null;
  let ok = true;
  let cont: { text: string; line: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = (lines[i] as string).trim();
    if (cont !== null && COMMENT.test(raw)) continue;
    if (cont === null && (raw === "" || COMMENT.test(raw))) continue;
    let l = raw;
    const prev = cont as { text: string; line: number } | null;
    const startLine: number = prev?.line ?? lineNo;
    if (prev !== null) l = `${prev.text}${raw}`;
    if (l.endsWith("\\") && !l.endsWith("\\\\")) {
      cont = { text: `${l.slice(0, -1)} `, line: startLine };
      if (i < lines.length - 1) continue;
      l = cont.text.trimEnd();
    }
    cont = null;
    if (l.startsWith("[")) {
      if (!l.endsWith("]") || l.length < 3) {
        diagnostics.push({
          file,
          line: startLine,
          level: "error",
          message: `Invalid section header "${l}": the file is not loaded`,
        });
        ok = false;
        break;
      }
      section = l.slice(1, -1);
      sections.push({ name: section, line: startLine });
      continue;
    }
    if (l.startsWith(".include ")) {
      diagnostics.push({
        file,
        line: startLine,
        level: "warning",
        message: ".include is not supported (systemd dropped it), line ignored",
      });
      continue;
    }
    const eq = l.indexOf("=");
    if (eq < 0) {
      diagnostics.push({
        file,
        line: startLine,
        level: "warning",
        message: `Missing "=" in "${l}", line ignored`,
      });
      continue;
    }
    if (section === null) {
      diagnostics.push({
        file,
        line: startLine,
        level: "warning",
        message: `Assignment "${l}" outside of a section, ignored`,
      });
      continue;
    }
    const key = l.slice(0, eq).trim();
    if (key === "") {
      diagnostics.push({
        file,
        line: startLine,
        level: "warning",
        message: `Assignment without a key "${l}", ignored`,
      });
      continue;
    }
    assignments.push({ section, key, value: l.slice(eq + 1).trim(), line: startLine });
  }
  return { file, assignments, sections, diagnostics, ok };
}

/**
 * Splits a value into words as extract_first_word() does for list settings: whitespace
 * separates, double or single quotes group (and are removed). Returns null on an unterminated
 * quote.
 */
export function splitWords(value: string): string[] | null {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  let inWord = false;
  for (const c of value) {
    if (quote !== null) {
      if (c === quote) quote = null;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote !== null) return null;
  if (inWord) out.push(cur);
  return out;
}
