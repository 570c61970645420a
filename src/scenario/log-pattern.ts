// `expect: log / no_log` patterns: a subset of JavaScript's regular expressions compiled to a
// Thompson automaton and run as a Pike VM without captures, so a match costs at most
// pattern size × line length steps whatever the pattern (no catastrophic backtracking).
//
// The subset: literal characters; `.`; `\` before a non-alphanumeric character (that character);
// `\d \D \w \W \s \S \t \n \r \f \v`; sets `[…]` / `[^…]` with ranges and those escapes; `^` and
// `$`; groups `(…)` and `(?:…)`; `|`; the quantifiers `* + ? {n} {n,} {n,m}` (n, m ≤ 1000), a
// trailing `?` (lazy) accepted. Not in it (an error names them): backreferences, lookaround,
// named groups, word boundaries, `\x`/`\u`/`\c` escapes. On what it accepts it matches what
// `new RegExp(pattern).test(line)` does.

/** A compiled log pattern. */
export interface LogPattern {
  readonly source: string;
  readonly prog: readonly Inst[];
}

/** Why a pattern does not compile, and where (0-based offset). */
export interface LogPatternError {
  readonly error: string;
  readonly offset: number;
}

type Pred = (c: number) => boolean;

type Inst =
  | { readonly op: "char"; readonly p: Pred }
  | { readonly op: "split"; readonly a: number; readonly b: number }
  | { readonly op: "jmp"; readonly to: number }
  | { readonly op: "bol" }
  | { readonly op: "eol" }
  | { readonly op: "match" };

type Node =
  | { readonly k: "char"; readonly p: Pred }
  | { readonly k: "seq"; readonly items: readonly Node[] }
  | { readonly k: "alt"; readonly items: readonly Node[] }
  | { readonly k: "rep"; readonly n: Node; readonly min: number; readonly max: number }
  | { readonly k: "bol" }
  | { readonly k: "eol" };

/** The largest count in `{n,m}`. */
const MAX_COUNT = 1000;
/** The largest compiled program (instructions). */
const MAX_PROG = 20_000;

class PatternSyntax extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const isDigit: Pred = (c) => c >= 48 && c <= 57;
const isWord: Pred = (c) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace: Pred = (c) => /\s/.test(String.fromCharCode(c));
const isLineEnd = (c: number): boolean => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
const not =
  (p: Pred): Pred =>
  (c) =>
    !p(c);
const eq =
  (x: number): Pred =>
  (c) =>
    c === x;

const CLASS_ESCAPES: Readonly<Record<string, Pred>> = {
  d: isDigit,
  D: not(isDigit),
  w: isWord,
  W: not(isWord),
  s: isSpace,
  S: not(isSpace),
  t: eq(9),
  n: eq(10),
  r: eq(13),
  f: eq(12),
  v: eq(11),
};

class Parser {
  readonly #s: string;
  #i = 0;
  constructor(s: string) {
    this.#s = s;
  }

  parse(): Node {
    const n = this.#alt();
    if (this.#i < this.#s.length) throw new PatternSyntax("unmatched ')'", this.#i);
    return n;
  }

  #peek(): string | undefined {
    return this.#s[this.#i];
  }

  #alt(): Node {
    const items = [this.#seq()];
    while (this.#peek() === "|") {
      this.#i++;
      items.push(this.#seq());
    }
    return items.length === 1 ? (items[0] as Node) : { k: "alt", items };
  }

  #seq(): Node {
    const items: Node[] = [];
    for (let c = this.#peek(); c !== undefined && c !== "|" && c !== ")"; c = this.#peek()) {
      const at = this.#i;
      let atom = this.#atom();
      const q = this.#quantifier();
      if (q) {
        if (atom.k === "bol" || atom.k === "eol") throw new PatternSyntax("nothing to repeat", at);
        atom = { k: "rep", n: atom, min: q.min, max: q.max };
        if (this.#peek() === "?") this.#i++;
        if (this.#quantifierAhead()) throw new PatternSyntax("nothing to repeat", this.#i);
      }
      items.push(atom);
    }
    return { k: "seq", items };
  }

  #quantifierAhead(): boolean {
    const c = this.#peek();
    if (c === "*" || c === "+" || c === "?") return true;
    if (c !== "{") return false;
    return /^\{\d+(,\d*)?\}/.test(this.#s.slice(this.#i, this.#i + 16));
  }

  #quantifier(): { min: number; max: number } | null {
    const c = this.#peek();
    if (c === "*" || c === "+" || c === "?") {
      this.#i++;
      return { min: c === "+" ? 1 : 0, max: c === "?" ? 1 : Infinity };
    }
    if (c !== "{") return null;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#s.slice(this.#i, this.#i + 32));
    if (!m) return null; // a literal "{", as JavaScript reads it
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    if (min > MAX_COUNT || (max !== Infinity && max > MAX_COUNT))
      throw new PatternSyntax(`a count above ${MAX_COUNT}`, this.#i);
    if (max < min) throw new PatternSyntax("numbers out of order in {} quantifier", this.#i);
    this.#i += m[0].length;
    return { min, max };
  }

  #atom(): Node {
    const at = this.#i;
    const c = this.#s[this.#i++] as string;
    if (c === "^") return { k: "bol" };
    if (c === "$") return { k: "eol" };
    if (c === ".") return { k: "char", p: not(isLineEnd) };
    if (c === "*" || c === "+" || c === "?") throw new PatternSyntax("nothing to repeat", at);
    if (c === "(") {
      if (this.#peek() === "?") {
        if (this.#s[this.#i + 1] !== ":")
          throw new PatternSyntax("lookaround and named groups are not supported", at);
        this.#i += 2;
      }
      const n = this.#alt();
      if (this.#peek() !== ")") throw new PatternSyntax("unterminated group", at);
      this.#i++;
      return n;
    }
    if (c === "[") return this.#set(at);
    if (c === "\\") return { k: "char", p: this.#escape(at) };
    return { k: "char", p: eq(c.charCodeAt(0)) };
  }

  #escape(at: number): Pred {
    const e = this.#s[this.#i++];
    if (e === undefined) throw new PatternSyntax("\\ at end of pattern", at);
    const cls = CLASS_ESCAPES[e];
    if (cls) return cls;
    if (/[A-Za-z0-9]/.test(e))
      throw new PatternSyntax(
        `"\\${e}" is not supported (escape only punctuation, or use \\d \\w \\s)`,
        at,
      );
    return eq(e.charCodeAt(0));
  }

  #set(at: number): Node {
    let neg = false;
    if (this.#peek() === "^") {
      neg = true;
      this.#i++;
    }
    const parts: Pred[] = [];
    for (;;) {
      const c = this.#s[this.#i];
      if (c === undefined) throw new PatternSyntax("unterminated character class", at);
      if (c === "]") {
        this.#i++;
        break;
      }
      const itemAt = this.#i;
      const lo = this.#setAtom();
      if (
        this.#peek() === "-" &&
        this.#s[this.#i + 1] !== undefined &&
        this.#s[this.#i + 1] !== "]"
      ) {
        this.#i++;
        const hi = this.#setAtom();
        if (typeof lo !== "number" || typeof hi !== "number") {
          // JavaScript (without the u flag) reads [\d-x] as \d, "-" and x.
          for (const x of [lo, eq(45), hi]) parts.push(typeof x === "number" ? eq(x) : x);
          continue;
        }
        if (hi < lo) throw new PatternSyntax("range out of order in character class", itemAt);
        parts.push((ch) => ch >= lo && ch <= hi);
      } else parts.push(typeof lo === "number" ? eq(lo) : lo);
    }
    const inSet: Pred = (ch) => parts.some((p) => p(ch));
    return { k: "char", p: neg ? not(inSet) : inSet };
  }

  /** One member of a set: a character code, or a class predicate (\d, \w, \s …). */
  #setAtom(): number | Pred {
    const at = this.#i;
    const c = this.#s[this.#i++] as string;
    if (c !== "\\") return c.charCodeAt(0);
    const e = this.#s[this.#i];
    if (e === undefined) throw new PatternSyntax("\\ at end of pattern", at);
    const ctl: Readonly<Record<string, number>> = { b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 };
    const code = ctl[e];
    if (code !== undefined) {
      this.#i++;
      return code;
    }
    const p = this.#escape(at); // throws for an unsupported escape
    return "dDwWsS".includes(e) ? p : e.charCodeAt(0);
  }
}

function compile(n: Node, prog: Inst[]): void {
  if (prog.length > MAX_PROG) throw new PatternSyntax("the pattern is too large", 0);
  switch (n.k) {
    case "char":
      prog.push({ op: "char", p: n.p });
      return;
    case "bol":
      prog.push({ op: "bol" });
      return;
    case "eol":
      prog.push({ op: "eol" });
      return;
    case "seq":
      for (const x of n.items) compile(x, prog);
      return;
    case "alt": {
      // split L1, L2; L1: a; jmp end; L2: split … ; last: b
      const jumps: number[] = [];
      n.items.forEach((x, i) => {
        if (i < n.items.length - 1) {
          const split = prog.length;
          prog.push({ op: "split", a: split + 1, b: -1 });
          compile(x, prog);
          jumps.push(prog.length);
          prog.push({ op: "jmp", to: -1 });
          prog[split] = { op: "split", a: split + 1, b: prog.length };
        } else compile(x, prog);
      });
      for (const j of jumps) prog[j] = { op: "jmp", to: prog.length };
      return;
    }
    case "rep": {
      for (let i = 0; i < n.min; i++) compile(n.n, prog);
      if (n.max === Infinity) {
        // L: split body, end; body; jmp L
        const split = prog.length;
        prog.push({ op: "split", a: split + 1, b: -1 });
        compile(n.n, prog);
        prog.push({ op: "jmp", to: split });
        prog[split] = { op: "split", a: split + 1, b: prog.length };
        return;
      }
      const splits: number[] = [];
      for (let i = n.min; i < n.max; i++) {
        splits.push(prog.length);
        prog.push({ op: "split", a: prog.length + 1, b: -1 });
        compile(n.n, prog);
      }
      for (const s of splits) prog[s] = { op: "split", a: s + 1, b: prog.length };
      return;
    }
  }
}

/** Compiles a log pattern, or says why it is not one of the supported subset. */
export function compileLogPattern(source: string): LogPattern | LogPatternError {
  try {
    const prog: Inst[] = [];
    compile(new Parser(source).parse(), prog);
    prog.push({ op: "match" });
    if (prog.length > MAX_PROG) return { error: "the pattern is too large", offset: 0 };
    return { source, prog };
  } catch (e) {
    if (e instanceof PatternSyntax) return { error: e.message, offset: e.offset };
    throw e;
  }
}

/**
 * True when `pattern` matches somewhere in `line` (as RegExp.test does): a Pike VM over the
 * program, one pass over the line, each instruction visited at most once per position.
 */
export function logPatternTest(pattern: LogPattern, line: string): boolean {
  const prog = pattern.prog;
  const mark = new Int32Array(prog.length).fill(-1);
  let clist: number[] = [];
  let nlist: number[] = [];
  const stack: number[] = [];
  // Adds pc and everything it reaches without consuming a character at position `pos`.
  const add = (list: number[], pc0: number, pos: number, gen: number): boolean => {
    stack.push(pc0);
    let matched = false;
    while (stack.length > 0) {
      const pc = stack.pop() as number;
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const ins = prog[pc] as Inst;
      if (ins.op === "jmp") stack.push(ins.to);
      else if (ins.op === "split") stack.push(ins.b, ins.a);
      else if (ins.op === "bol") {
        if (pos === 0) stack.push(pc + 1);
      } else if (ins.op === "eol") {
        if (pos === line.length) stack.push(pc + 1);
      } else if (ins.op === "match") matched = true;
      else list.push(pc);
    }
    return matched;
  };
  for (let pos = 0; pos <= line.length; pos++) {
    // Generation pos: the threads at this position (carried over, plus a new start).
    if (add(clist, 0, pos, pos)) return true;
    if (pos === line.length) break;
    const c = line.charCodeAt(pos);
    nlist.length = 0;
    let matched = false;
    for (const pc of clist) {
      const ins = prog[pc] as Inst;
      if (ins.op === "char" && ins.p(c)) matched = add(nlist, pc + 1, pos + 1, pos + 1) || matched;
    }
    if (matched) return true;
    [clist, nlist] = [nlist, clist];
  }
  return false;
}
