// The README's known-bugs table is what tools/known-bugs/verdicts.ts computes now: a change of
// the model that moves a verdict fails here until the table is regenerated (and reviewed).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { knownBugBlock, knownBugRows, readmeBlock } from "../../tools/known-bugs/verdicts.ts";

const dir = new URL("../../examples/known-bugs/", import.meta.url).pathname;

describe("known-bugs verdicts", () => {
  it("should match the README table (regenerate: npx tsx tools/known-bugs/verdicts.ts)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readmeBlock(readme)).toBe(knownBugBlock(dir));
  }, 120_000);

  it("should show the seed race's symptom on 5.0 only, except where udev v250 refuses", () => {
    const rows = knownBugRows(dir);
    const vf = rows.find((r) => r.file === "01-vf-ebusy-after-flap.yaml");
    expect(vf?.cells[0]).toEqual(["legacy", "v249", "v250", "v253", "v256"]);
    expect(vf?.cells.slice(1).every((c) => c.length === 1 && c[0] === "v250")).toBe(true);
    const uek = rows.find((r) => r.file === "07-uek-takeover-delay.yaml");
    expect(uek?.cells.every((c) => c.length === 0)).toBe(true);
  }, 120_000);
});
