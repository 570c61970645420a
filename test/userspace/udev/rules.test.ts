import { describe, expect, it } from "vitest";
import { applyRules, parseRulesFile, type RuleContext } from "../../../src/userspace/udev/rules.ts";

const ctx = (over: Partial<RuleContext> = {}): RuleContext => ({
  action: "add",
  kernel: "eth1",
  subsystems: ["net", "virtio", "pci"],
  drivers: ["virtio_net", "virtio-pci"],
  attr: (a) => ({ address: "52:54:00:12:34:56", type: "1" })[a] ?? null,
  builtin: () => {},
  ...over,
});

describe("parseRulesFile", () => {
  it('should parse KEY{attr}OP"value" items and line continuations', () => {
    const r = parseRulesFile(
      'SUBSYSTEM=="net", ACTION=="add", \\\n  ATTR{address}=="52:54:00:12:34:56", NAME="lan0"\n',
      "/etc/udev/rules.d/70-net.rules",
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.file.lines).toHaveLength(1);
    expect(r.file.lines[0]?.line).toBe(1);
    expect(
      r.file.lines[0]?.tokens.map((t) => `${t.key}${t.attr ? `{${t.attr}}` : ""}${t.op}`),
    ).toEqual(["SUBSYSTEM==", "ACTION==", "ATTR{address}==", "NAME="]);
  });

  it("should leave out and report a line with a construct outside the subset", () => {
    const r = parseRulesFile(
      'SUBSYSTEM=="net", ATTRS{vendor}=="0x8086", NAME="x"\nRUN+="/bin/true"\nbogus\nNAME="ok"\n',
      "/etc/udev/rules.d/70.rules",
    );
    expect(r.file.lines.map((l) => l.line)).toEqual([4]);
    expect(r.diagnostics.map((d) => [d.line, d.level])).toEqual([
      [1, "error"],
      [2, "error"],
      [3, "error"],
    ]);
  });

  it("should report a GOTO without its LABEL", () => {
    const r = parseRulesFile('GOTO="end"\n', "/etc/udev/rules.d/a.rules");
    expect(r.diagnostics[0]?.message).toMatch(/no LABEL/);
  });
});

describe("applyRules", () => {
  it("should assign NAME when every match holds, with DRIVERS walking up the parents", () => {
    const f = parseRulesFile(
      'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="52:54:00:12:34:56", NAME="lan0"\n',
      "/r/a.rules",
    ).file;
    expect(applyRules([f], ctx(), {}).name).toBe("lan0");
    expect(applyRules([f], ctx({ drivers: [] }), {}).name).toBeNull();
    expect(applyRules([f], ctx({ action: "move" }), {}).name).toBeNull();
  });

  it("should skip to LABEL on GOTO and honour NAME:= as final", () => {
    const f = parseRulesFile(
      'KERNEL=="eth*", GOTO="skip"\nNAME="never"\nLABEL="skip"\nNAME:="first"\nNAME="second"\n',
      "/r/a.rules",
    ).file;
    const r = applyRules([f], ctx(), {});
    expect(r.name).toBe("first");
    expect(r.nameFrom).toBe("/r/a.rules:4");
  });

  it("should set and test ENV, substitute $env{} and %k, and match alternatives with |", () => {
    const f = parseRulesFile(
      'ENV{X}="v-%k"\nENV{X}=="nope|v-eth1", NAME="$env{X}"\n',
      "/r/a.rules",
    ).file;
    const r = applyRules([f], ctx(), {});
    expect(r.properties.X).toBe("v-eth1");
    expect(r.name).toBe("v-eth1");
  });

  it("should run IMPORT{builtin} through the context", () => {
    const f = parseRulesFile(
      'IMPORT{builtin}="net_setup_link"\nNAME=="", ENV{ID_NET_NAME}!="", NAME="$env{ID_NET_NAME}"\n',
      "/r/80.rules",
    ).file;
    const r = applyRules(
      [f],
      ctx({
        builtin: (_n, p) => {
          p.ID_NET_NAME = "enp0s3";
        },
      }),
      {},
    );
    expect(r.name).toBe("enp0s3");
  });
});
