// compileLogPattern / logPatternTest: the linear-time subset of regular expressions used by
// `expect: log / no_log`, checked against JavaScript's RegExp on generated patterns.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileLogPattern, logPatternTest } from "../../src/scenario/log-pattern.ts";
import { testSeed } from "../_helpers/seed.ts";

function test(p: string, s: string): boolean {
  const c = compileLogPattern(p);
  if ("error" in c) throw new Error(c.error);
  return logPatternTest(c, s);
}

describe("compileLogPattern", () => {
  it("should match the patterns the examples use", () => {
    expect(
      test(
        "qemu: migration status completed; STOP \\(source\\)",
        "x: qemu: migration status completed; STOP (source)",
      ),
    ).toBe(true);
    expect(test("no_log", "a no-log line")).toBe(false);
  });

  it("should refuse what a linear-time matcher cannot do, with the offset", () => {
    expect(compileLogPattern("(a)\\1")).toMatchObject({ offset: 3 });
    expect(compileLogPattern("a(?=b)")).toMatchObject({
      error: "lookaround and named groups are not supported",
      offset: 1,
    });
    expect(compileLogPattern("x{5,2}")).toMatchObject({
      error: "numbers out of order in {} quantifier",
    });
    expect(compileLogPattern("a{100000}")).toMatchObject({ error: "a count above 1000" });
    expect(compileLogPattern("[b-a]")).toMatchObject({
      error: "range out of order in character class",
    });
  });

  it("should decide catastrophic-backtracking patterns in linear time", () => {
    expect(test("(a+)+$", `${"a".repeat(50_000)}b`)).toBe(false);
    expect(test("(a|aa)*c", "a".repeat(50_000))).toBe(false);
    expect(test("(x+x+)+y", `${"x".repeat(20_000)}y`)).toBe(true);
  });
});

describe(`logPatternTest (seed ${testSeed()})`, () => {
  // Patterns from a small grammar of the subset; compared with RegExp on short lines (where
  // backtracking is cheap).
  const atom = fc.constantFrom("a", "b", ".", "\\d", "[ab]", "[^a]", "\\(", "1", "\\s", " ");
  const pattern: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      atom,
      fc
        .tuple(tie("node"), fc.constantFrom("*", "+", "?", "{2}", "{1,2}", "{0,}", "*?"))
        .map(([n, q]) => `(?:${n})${q}`),
      fc.tuple(tie("node"), tie("node")).map(([x, y]) => `${x}${y}`),
      fc.tuple(tie("node"), tie("node")).map(([x, y]) => `(${x}|${y})`),
    ),
  })).node as fc.Arbitrary<string>;
  const anchored = fc
    .tuple(fc.boolean(), pattern, fc.boolean())
    .map(([b, p, e]) => `${b ? "^" : ""}${p}${e ? "$" : ""}`);
  it("should agree with RegExp on generated patterns", () => {
    fc.assert(
      fc.property(
        anchored,
        fc.stringMatching(/^[ab1 (]{0,8}$/),
        (p, s) => test(p, s) === new RegExp(p).test(s),
      ),
      { seed: testSeed(), numRuns: 3000 },
    );
  });
});
