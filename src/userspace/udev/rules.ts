// The subset of udev rules (udev(7); src/udev/udev-rules.c of systemd 252) that names network
// devices: matches on ACTION, SUBSYSTEM, SUBSYSTEMS, KERNEL, NAME, DRIVERS, ATTR{…} and ENV{…}
// (fnmatch globs, `|` alternatives), the assignments NAME=, NAME:= and ENV{…}=, GOTO/LABEL, and
// IMPORT{builtin}= of the builtins udev's own net rules use. A line with anything else is not
// used at all (matching part of a line could fire a rule real udev would not) and is reported
// with its file and line.

import { compileGlob, globTest } from "../glob.ts";
import type { ConfDiagnostic } from "./systemd-conf.ts";

/** One KEY{attr}OP"value" of a rule line. */
export interface RuleToken {
  readonly key: string;
  readonly attr: string | null;
  readonly op: "==" | "!=" | "=" | "+=" | "-=" | ":=";
  readonly value: string;
}

/** One rule line that the model can evaluate. */
export interface RuleLine {
  readonly line: number;
  readonly tokens: readonly RuleToken[];
  /** LABEL= on this line, if any. */
  readonly label: string | null;
}

/** One .rules file, parsed. */
export interface RulesFile {
  /** Where it lives ("/etc/udev/rules.d/70-net.rules"). */
  readonly path: string;
  readonly lines: readonly RuleLine[];
}

/** The builtins IMPORT{builtin}= may name in the model. */
export const RULE_BUILTINS = ["net_id", "path_id", "net_driver", "net_setup_link", "hwdb"] as const;

const MATCH_KEYS = new Set(["ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "NAME", "DRIVERS"]);
const TOKEN_RE =
  /^\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/;
const SUBST_RE = /\$env\{[^}]+\}|%E\{[^}]+\}|\$attr\{[^}]+\}|%s\{[^}]+\}|\$kernel|%k|\$\$|%%/g;

function diag(
  out: ConfDiagnostic[],
  file: string,
  line: number,
  level: ConfDiagnostic["level"],
  message: string,
): void {
  out.push({ file, line, level, message });
}

/** Why the model cannot take this token, or null. */
function unsupported(t: RuleToken): string | null {
  const { key, attr, op } = t;
  const isMatch = op === "==" || op === "!=";
  if (MATCH_KEYS.has(key)) {
    if (attr !== null) return `${key} takes no {attribute}`;
    if (!isMatch && key !== "NAME") return `${key}${op} is not an assignment udev allows`;
    if (key === "NAME" && (op === "+=" || op === "-=")) return `NAME${op} is not allowed`;
    return null;
  }
  if (key === "ATTR") {
    if (attr === null) return "ATTR needs {attribute}";
    if (!isMatch) return "ATTR{…}= (writing sysfs) is not modelled";
    return null;
  }
  if (key === "ENV") {
    if (attr === null) return "ENV needs {key}";
    if (op === "+=" || op === "-=") return `ENV{…}${op} is not modelled`;
    return null;
  }
  if (key === "GOTO" || key === "LABEL") {
    if (op !== "=") return `${key} takes "="`;
    return null;
  }
  if (key === "IMPORT" && attr === "builtin" && op === "=") {
    const name = t.value.split(/\s+/)[0] ?? "";
    if ((RULE_BUILTINS as readonly string[]).includes(name)) return null;
    return `IMPORT{builtin}="${name}" is not modelled`;
  }
  return `${key}${attr !== null ? `{${attr}}` : ""}${op} is not in the model's rule subset`;
}

/**
 * Parses a rules file. Lines the model cannot evaluate are left out and reported (level
 * "error": the line is not used). A GOTO without its LABEL in the same file is reported too (udev
 * ignores such a GOTO).
 */
export function parseRulesFile(
  text: string,
  path: string,
): { file: RulesFile; diagnostics: ConfDiagnostic[] } {
  const diagnostics: ConfDiagnostic[] = [];
  const lines: RuleLine[] = [];
  const raw = text.split(/\r?\n/);
  let cont = "";
  let contLine = 0;
  for (let i = 0; i < raw.length; i++) {
    let l = raw[i] as string;
    const start = cont !== "" ? contLine : i + 1;
    if (cont !== "") l = cont + l.trimStart();
    if (l.endsWith("\\")) {
      cont = l.slice(0, -1);
      contLine = start;
      continue;
    }
    cont = "";
    const t = l.trim();
    if (t === "" || t.startsWith("#")) continue;
    const tokens: RuleToken[] = [];
    let rest = t;
    let bad: string | null = null;
    while (rest.trim() !== "") {
      const m = TOKEN_RE.exec(rest);
      if (!m) {
        bad = `cannot parse "${rest.trim()}" (expected KEY=="value" items separated by commas)`;
        break;
      }
      const tok: RuleToken = {
        key: m[1] as string,
        attr: m[2] ?? null,
        op: m[3] as RuleToken["op"],
        value: (m[4] as string).replace(/\\(.)/g, "$1"),
      };
      const why = unsupported(tok);
      if (why !== null && bad === null) bad = why;
      tokens.push(tok);
      rest = rest.slice(m[0].length);
    }
    if (bad !== null) {
      diag(diagnostics, path, start, "error", `${bad}: rule line not used`);
      continue;
    }
    for (const tok of tokens) {
      const leftover = tok.value.replace(SUBST_RE, "");
      if (tok.op !== "==" && tok.op !== "!=" && /[$%]/.test(leftover))
        diag(
          diagnostics,
          path,
          start,
          "warning",
          `"${tok.value}": only $env{}, %E{}, $attr{}, %s{}, $kernel and %k are substituted; the rest is kept literally`,
        );
    }
    const label = tokens.find((x) => x.key === "LABEL")?.value ?? null;
    lines.push({ line: start, tokens, label });
  }
  const labels = new Set(lines.map((l) => l.label).filter((x) => x !== null));
  for (const l of lines)
    for (const tok of l.tokens)
      if (tok.key === "GOTO" && !labels.has(tok.value))
        diag(
          diagnostics,
          path,
          l.line,
          "warning",
          `GOTO="${tok.value}" has no LABEL in this file: ignored, as udev ignores it`,
        );
  return { file: { path, lines }, diagnostics };
}

/** What a rule evaluation reads from the device and does through its builtins. */
export interface RuleContext {
  readonly action: "add" | "move" | "remove";
  /** The kernel name in the event (KERNEL, $kernel). */
  readonly kernel: string;
  /** The subsystems of the device and its parents, nearest first ("net", "virtio", "pci"). */
  readonly subsystems: readonly string[];
  /** The drivers of the device's parents, nearest first ("virtio_net", "virtio-pci"). */
  readonly drivers: readonly string[];
  /** A sysfs attribute of the device, or null when unreadable. */
  attr(name: string): string | null;
  /** IMPORT{builtin}=: runs a builtin, which adds properties. */
  builtin(name: string, props: Record<string, string>): void;
}

/** The outcome of running the rules on one event. */
export interface RulesResult {
  /** NAME= as the rules left it, or null. */
  readonly name: string | null;
  /** Where NAME was last assigned ("/etc/udev/rules.d/70-net.rules:3"). */
  readonly nameFrom: string | null;
  /** The properties after the rules. */
  readonly properties: Record<string, string>;
  /** Each rule line that matched, "file:line", in order. */
  readonly fired: readonly string[];
}

function globAny(pattern: string, s: string | null): boolean {
  const alts = pattern.split("|");
  return alts.some((p) => {
    if (p === "") return s === null || s === "";
    if (s === null) return false;
    const g = compileGlob(p);
    return !("error" in g) && globTest(g, s);
  });
}

function substitute(v: string, ctx: RuleContext, props: Record<string, string>): string {
  return v.replace(SUBST_RE, (m) => {
    if (m === "$$") return "$";
    if (m === "%%") return "%";
    if (m === "$kernel" || m === "%k") return ctx.kernel;
    const inner = m.slice(m.indexOf("{") + 1, -1);
    if (m.startsWith("$env") || m.startsWith("%E")) return props[inner] ?? "";
    return ctx.attr(inner) ?? "";
  });
}

/**
 * Runs rule files in order on one event (udev_rules_apply_to_event): each line's matches are
 * tested left to right, and if all match its assignments run; GOTO skips to its LABEL in the same
 * file. NAME:= makes NAME final.
 */
export function applyRules(
  files: readonly RulesFile[],
  ctx: RuleContext,
  props: Record<string, string>,
): RulesResult {
  let name: string | null = null;
  let nameFrom: string | null = null;
  let nameFinal = false;
  const fired: string[] = [];
  for (const f of files) {
    let skipTo: string | null = null;
    for (const l of f.lines) {
      if (skipTo !== null) {
        if (l.label !== skipTo) continue;
        skipTo = null;
      }
      let matched = true;
      for (const t of l.tokens) {
        if (t.op !== "==" && t.op !== "!=") continue;
        let v: string | null;
        switch (t.key) {
          case "ACTION":
            v = ctx.action;
            break;
          case "SUBSYSTEM":
            v = ctx.subsystems[0] ?? null;
            break;
          case "KERNEL":
            v = ctx.kernel;
            break;
          case "NAME":
            v = name;
            break;
          case "ATTR":
            v = ctx.attr(t.attr as string);
            break;
          case "ENV":
            v = props[t.attr as string] ?? null;
            break;
          default:
            v = null;
        }
        let hit: boolean;
        if (t.key === "DRIVERS" || t.key === "SUBSYSTEMS") {
          const list = t.key === "DRIVERS" ? ctx.drivers : ctx.subsystems;
          // udev walks up the parents; `!=` holds when no parent matches.
          hit = list.some((x) => globAny(t.value, x));
        } else hit = globAny(t.value, v);
        if (t.op === "!=" ? hit : !hit) {
          matched = false;
          break;
        }
      }
      if (!matched) continue;
      if (l.tokens.some((t) => t.key !== "LABEL")) fired.push(`${f.path}:${l.line}`);
      for (const t of l.tokens) {
        if (t.op === "==" || t.op === "!=") continue;
        if (t.key === "NAME") {
          if (nameFinal) continue;
          const n = substitute(t.value, ctx, props);
          name = n === "" ? null : n;
          nameFrom = `${f.path}:${l.line}`;
          if (t.op === ":=") nameFinal = true;
        } else if (t.key === "ENV") {
          const v = substitute(t.value, ctx, props);
          if (v === "") delete props[t.attr as string];
          else props[t.attr as string] = v;
        } else if (t.key === "IMPORT") {
          ctx.builtin(t.value.split(/\s+/)[0] as string, props);
        } else if (t.key === "GOTO") {
          if (f.lines.some((x) => x.label === t.value)) skipTo = t.value;
        }
      }
    }
  }
  return { name, nameFrom, properties: props, fired };
}
