// compileGlob / globTest: fnmatch(3) semantics in linear time, checked against a reference
// regular expression on small inputs, and a pathological pattern that a backtracking engine
// would take exponential time on.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob, globMatches, globTest } from "../../src/userspace/glob.ts";
import { testSeed } from "../_helpers/seed.ts";

describe("compileGlob", () => {
  it("should match *, ? and sets as fnmatch does", () => {
    expect(globMatches("net:naming:*", "net:naming:drvirtio_net:")).toBe(true);
    expect(globMatches("net:naming:*:*", "net:naming:drvirtio_net:")).toBe(true);
    expect(globMatches("eth?", "eth0")).toBe(true);
    expect(globMatches("eth[0-3]", "eth4")).toBe(false);
    expect(globMatches("eth[!0-3]", "eth4")).toBe(true);
    expect(globMatches("[]x]", "]")).toBe(true);
    expect(globMatches("a\\*", "a*")).toBe(true);
    expect(globMatches("a\\*", "ab")).toBe(false);
  });

  it("should read an unclosed [ as a literal, as fnmatch does", () => {
    expect(globMatches("eth[0", "eth[0")).toBe(true);
  });

  it("should refuse a reversed range with its offset", () => {
    expect(compileGlob("x[z-a]")).toEqual({
      error: 'the range "z-a" is reversed (write "a-z")',
      offset: 2,
    });
  });

  it("should take every character but * literally in star syntax", () => {
    expect(globMatches("e[t]h?*", "e[t]h?0", "star")).toBe(true);
    expect(globMatches("e[t]h?*", "eth0", "star")).toBe(false);
  });

  it("should decide a pathological pattern in linear time", () => {
    const g = compileGlob(`${"*a".repeat(200)}*b`);
    if ("error" in g) throw new Error(g.error);
    expect(globTest(g, "a".repeat(100_000))).toBe(false);
  });
});

describe(`globTest (seed ${testSeed()})`, () => {
  const toRe = (p: string): RegExp =>
    new RegExp(
      `^${[...p].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&"))).join("")}$`,
      "s",
    );
  it("should agree with a regular expression on *, ? and literals", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[ab*?]{0,8}$/),
        fc.stringMatching(/^[ab]{0,10}$/),
        (p, s) => globMatches(p, s) === toRe(p).test(s),
      ),
      { seed: testSeed(), numRuns: 2000 },
    );
  });
});
