import { describe, expect, it } from "vitest";
import { parseSystemdConf, splitWords } from "../../../src/userspace/udev/systemd-conf.ts";

describe("parseSystemdConf", () => {
  it("should keep repeated keys in order with their sections and lines", () => {
    const r = parseSystemdConf("[Match]\nDriver=a\nDriver=b\n\n[Link]\nName=x\n", "f.link");
    expect(r.ok).toBe(true);
    expect(r.assignments).toEqual([
      { section: "Match", key: "Driver", value: "a", line: 2 },
      { section: "Match", key: "Driver", value: "b", line: 3 },
      { section: "Link", key: "Name", value: "x", line: 6 },
    ]);
  });

  it("should skip # and ; comments and strip whitespace around key and value", () => {
    const r = parseSystemdConf("# c\n; c\n[Link]\n  Name =  lan0  \n", "f");
    expect(r.assignments).toEqual([{ section: "Link", key: "Name", value: "lan0", line: 4 }]);
  });

  it("should join a line ending in a backslash with the next, skipping comment lines inside", () => {
    const r = parseSystemdConf("[Link]\nNamePolicy=keep \\\n# x\n  path\n", "f");
    expect(r.assignments[0]).toMatchObject({ key: "NamePolicy", line: 2 });
    expect(r.assignments[0]?.value.split(/\s+/)).toEqual(["keep", "path"]);
  });

  it("should report a line without = and an assignment outside a section by line", () => {
    const r = parseSystemdConf("Name=x\n[Link]\nbogus\n", "f.link");
    expect(r.assignments).toEqual([]);
    expect(r.diagnostics.map((d) => [d.line, d.level])).toEqual([
      [1, "warning"],
      [3, "warning"],
    ]);
  });

  it("should refuse the whole file on a bad section header", () => {
    const r = parseSystemdConf("[Match\nName=x\n", "f.link");
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]).toMatchObject({ line: 1, level: "error" });
  });
});

describe("splitWords", () => {
  it("should split on whitespace and group quotes", () => {
    expect(splitWords(`a "b c" 'd'`)).toEqual(["a", "b c", "d"]);
    expect(splitWords(`"open`)).toBeNull();
  });
});
