// Shell-style patterns (fnmatch(3) without flags) compiled once and matched in linear time: no
// pattern turns into a backtracking regular expression, so a user's `*a*a*a*…b` costs at most
// pattern length × text length steps.

/** One element of a compiled glob. */
type GlobToken =
  | { readonly t: "star" }
  | { readonly t: "any" }
  | { readonly t: "lit"; readonly c: string }
  | {
      readonly t: "set";
      readonly neg: boolean;
      readonly ranges: readonly (readonly [number, number])[];
    };

/** A compiled pattern (see compileGlob). */
export interface Glob {
  readonly source: string;
  readonly tokens: readonly GlobToken[];
}

/** Why a pattern does not compile, and where (0-based offset into the pattern). */
export interface GlobError {
  readonly error: string;
  readonly offset: number;
}

/** What a glob may contain: fnmatch's full set, or `*` alone (every other character literal). */
export type GlobSyntax = "fnmatch" | "star";

/**
 * Compiles a glob. `fnmatch` syntax: `*` any run, `?` one character, `[…]` a set (`!` or `^`
 * negates, `a-z` ranges, a `]` first is a member), `\x` the character x; a `[` without its `]`
 * is a literal `[`, as in fnmatch(3). `star` syntax: `*` only. A reversed range (`[z-a]`) is an
 * error, as is a trailing backslash.
 */
export function compileGlob(pattern: string, syntax: GlobSyntax = "fnmatch"): Glob | GlobError {
  const tokens: GlobToken[] = [];
  const cs = [...pattern];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as string;
    if (c === "*") {
      if (tokens.at(-1)?.t !== "star") tokens.push({ t: "star" });
    } else if (syntax === "star") tokens.push({ t: "lit", c });
    else if (c === "?") tokens.push({ t: "any" });
    else if (c === "\\") {
      const n = cs[i + 1];
      if (n === undefined) return { error: "a trailing backslash escapes nothing", offset: i };
      tokens.push({ t: "lit", c: n });
      i++;
    } else if (c === "[") {
      const r = compileSet(cs, i);
      if ("error" in r) return r;
      if (r.token === null) tokens.push({ t: "lit", c });
      else {
        tokens.push(r.token);
        i = r.end;
      }
    } else tokens.push({ t: "lit", c });
  }
  return { source: pattern, tokens };
}

/** The set starting at cs[start] === "[": the token and its closing index, or null (no `]`). */
function compileSet(
  cs: readonly string[],
  start: number,
): { token: GlobToken | null; end: number } | GlobError {
  let i = start + 1;
  let neg = false;
  if (cs[i] === "!" || cs[i] === "^") {
    neg = true;
    i++;
  }
  const ranges: [number, number][] = [];
  let reversed: GlobError | null = null;
  let first = true;
  for (; i < cs.length; i++) {
    let c = cs[i] as string;
    if (c === "]" && !first) return reversed ?? { token: { t: "set", neg, ranges }, end: i };
    first = false;
    const at = i;
    if (c === "\\" && i + 1 < cs.length) c = cs[++i] as string;
    const lo = c.codePointAt(0) as number;
    if (cs[i + 1] === "-" && i + 2 < cs.length && cs[i + 2] !== "]") {
      let h = cs[i + 2] as string;
      i += 2;
      if (h === "\\" && i + 1 < cs.length) h = cs[++i] as string;
      const hi = h.codePointAt(0) as number;
      if (hi < lo)
        reversed ??= { error: `the range "${c}-${h}" is reversed (write "${h}-${c}")`, offset: at };
      else ranges.push([lo, hi]);
    } else ranges.push([lo, lo]);
  }
  return { token: null, end: start };
}

function tokenMatches(tok: GlobToken, c: string): boolean {
  if (tok.t === "any") return true;
  if (tok.t === "lit") return tok.c === c;
  if (tok.t === "set") {
    const cp = c.codePointAt(0) as number;
    const hit = tok.ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
    return hit !== tok.neg;
  }
  return false;
}

/**
 * True when the whole of `s` matches `g`. Every token but `*` matches exactly one character, so
 * the classic two-pointer walk (back up only to the last `*`) decides it in O(|g| × |s|) steps.
 */
export function globTest(g: Glob, s: string): boolean {
  const toks = g.tokens;
  // By code point: a string without surrogates is its own list of code points (indexing it
  // gives the same one-character strings as spreading it, without the array).
  const cs: ArrayLike<string> = hasSurrogate(s) ? [...s] : s;
  let ti = 0;
  let si = 0;
  let starT = -1;
  let starS = 0;
  while (si < cs.length) {
    const tok = toks[ti];
    if (tok !== undefined && tok.t === "star") {
      starT = ti++;
      starS = si;
    } else if (tok !== undefined && tokenMatches(tok, cs[si] as string)) {
      ti++;
      si++;
    } else if (starT >= 0) {
      ti = starT + 1;
      si = ++starS;
    } else return false;
  }
  while (toks[ti]?.t === "star") ti++;
  return ti === toks.length;
}

/** Whether `s` has a UTF-16 surrogate (a code point above U+FFFF, or a lone surrogate). */
function hasSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

/**
 * Compiles and matches at once; a pattern that does not compile matches nothing (validated
 * input never reaches this with one: the scenario parser reports it with its position).
 */
export function globMatches(pattern: string, s: string, syntax: GlobSyntax = "fnmatch"): boolean {
  const compiled = syntax === "star" ? COMPILED_STAR : COMPILED;
  let g = compiled.get(pattern);
  if (g === undefined) {
    g = compileGlob(pattern, syntax);
    if (compiled.size >= 256) compiled.clear();
    compiled.set(pattern, g);
  }
  return "error" in g ? false : globTest(g, s);
}

/**
 * `globMatches`'s compiled patterns by pattern text, one table per syntax (a run matches the same
 * few patterns again and again: the bring-up's links at every step of a search). A compiled glob
 * is never changed; each table is cleared past 256.
 */
const COMPILED = new Map<string, Glob | GlobError>();
const COMPILED_STAR = new Map<string, Glob | GlobError>();
