// The defects of issue 18, item 7: each case failed before its fix.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { formatConform } from "../../src/cli/conform.ts";
import { main } from "../../src/cli/main.ts";
import { formatBackendRun, formatRun } from "../../src/cli/run.ts";
import { compareRecords } from "../../src/conform/index.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";

const dir = mkdtempSync(join(tmpdir(), "ifsim-defects-"));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("ifsim ip --monitor", () => {
  it("should refuse an ip object word as the file and create no file", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = main(["ip", "--monitor", "link", "show"]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--monitor needs a file name (or - for stderr), got "link"');
      expect(existsSync(join(dir, "link"))).toBe(false);
      expect(main(["ip", "--dmesg", "-j", "link", "show"]).status).toBe(2);
    } finally {
      process.chdir(cwd);
    }
  });

  it("should still write a file given as a path", () => {
    const out = join(dir, "mon.txt");
    const r = main(["ip", "--monitor", out, "link", "add", "type", "veth"]);
    expect(r.status).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/^\d+: veth/);
  });
});

describe("ifsim ip -batch DIR", () => {
  it("should read a directory as an empty batch, as ip does (exit 0, nothing printed)", () => {
    expect(main(["ip", "-batch", dir])).toMatchObject({ stdout: "", stderr: "", status: 0 });
  });

  it("should say why a file cannot be opened in strerror words, never a Node error", () => {
    const r = main(["ip", "-batch", join(dir, "no", "such")]);
    expect(r).toMatchObject({ status: 1 });
    expect(r.stderr).toBe(
      `Cannot open file "${join(dir, "no", "such")}" for reading: No such file or directory\n`,
    );
    const notDir = main(["ip", "-batch", `${file("plain.txt", "")}/x`]);
    expect(notDir.stderr).toMatch(/for reading: Not a directory\n$/);
    expect(notDir.stderr).not.toMatch(/Error:|ENOTDIR/);
  });
});

describe("expect: step errors", () => {
  const sc = (error: string): string =>
    `ifsim: 1\nname: x\nkernel: "5.0"\nsteps:\n  - ip: link show\nexpect:\n  - step: 1\n    error: ${error}\n`;

  it("should reject an errno typo with its position, exit 2, and suggest the errno", () => {
    const f = file("typo.yaml", sc("EBUSSY"));
    const r = main(["run", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `${f}:8:12: expect[0].error: expected "ok" or an errno name like EBUSY; "EBUSSY" is not a Linux errno (did you mean EBUSY?)\n`,
    );
  });

  it("should accept ok and any Linux errno, also ones the model never returns", () => {
    expect(parseScenario(sc("ok")).ok).toBe(true);
    expect(parseScenario(sc("EHOSTUNREACH")).ok).toBe(true);
    expect(parseScenario(sc("ENOTSUPP")).ok).toBe(true);
  });
});

describe("YAML keys that are collections", () => {
  it("should be a positioned error on the key's line, with no Node warning", () => {
    const warn = vi.spyOn(process, "emitWarning");
    try {
      const f = file("key.yaml", "ifsim: 1\nname: x\nsteps: []\n? [a, b]\n: 1\n");
      const r = main(["run", f]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `${f}:4:3: a key must be a plain value (a name like "steps"), not a list\n`,
      );
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe("ifsim --version", () => {
  it("should print package.json's version", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(main(["--version"]).stdout).toBe(`ifsim ${pkg.version}\n`);
  });
});

describe("ifsim machines --json", () => {
  it("should print one machine that --machine FILE.json boots, for every built-in", () => {
    const all = JSON.parse(main(["machines", "--json"]).stdout) as { name: string }[];
    expect(all.length).toBeGreaterThan(0);
    for (const { name } of all) {
      const one = main(["machines", name, "--json"]);
      expect(one.status).toBe(0);
      const f = file(`${name}.json`, one.stdout);
      const builtin = main(["ip", "--machine", name, "-d", "link", "show"]);
      const fromFile = main(["ip", "--machine", f, "-d", "link", "show"]);
      expect(fromFile).toEqual(builtin);
    }
  });

  it("should say what to do with the list", () => {
    const f = file("all.json", main(["machines", "--json"]).stdout);
    const r = main(["ip", "--machine", f, "link", "show"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("holds a list (the output of ifsim machines --json)");
  });
});

describe("final links", () => {
  it("should be printed in one format by run on the model and on a backend", () => {
    const parsed = parseScenario(
      'ifsim: 1\nname: x\nkernel: "6.1"\ndevices:\n  - {id: a, type: veth, name: v0, peer: v1}\nsteps: []\n',
    );
    if (!parsed.ok) throw new Error("bad scenario");
    const rec = runScenario(parsed.scenario);
    const model = formatRun(rec, false);
    const backend = formatBackendRun(
      { scenario: rec.scenario, backend: "netns", kernel: "6.1", steps: [], links: rec.links },
      [],
    );
    const tail = (s: string): string => s.slice(s.indexOf("\nfinal links:"));
    expect(tail(model)).toBe(tail(backend));
    expect(tail(model)).toMatch(/^\nfinal links:\n {2}idx {2}name/);
  });
});

describe("replay --json", () => {
  it("should carry every action the text timeline shows (udev's rename)", async () => {
    const ex = await main(["explore", "examples/explore/seed-race.yaml", "--kernel", "5.0"]);
    const token = /ifsim replay (ifsim1\.\S+)/.exec(ex.stdout)?.[1] as string;
    const text = await main(["replay", token]);
    expect(text.stdout).toContain("rename eth0 → ens3");
    const json = JSON.parse((await main(["replay", token, "--json"])).stdout) as {
      steps: { actions: unknown[]; did: { what: string; cause?: string }[] }[];
    };
    expect(json.steps[0]?.actions).toEqual([{ ip: "link set dev eth0 name ens3" }]);
    expect(json.steps[0]?.did.map((d) => d.what)).toEqual(["rename eth0 → ens3"]);
    // The EBUSY carries its cause from the model's state (issue 18 item 1); it is the last step
    // (udev's rename, the move that clears ID_RENAMING, networkd's bring-up, the EBUSY).
    expect(json.steps.length).toBe(4);
    expect(json.steps[3]?.did[0]?.cause).toMatch(
      /^eth1 is UP .* and Linux 5\.0 renames no UP device/,
    );
  });
});

describe("conform's monitor records", () => {
  it("should show one missing record as one line of a unified diff, the rest aligned", () => {
    const step = (events: string[]) => ({
      index: 1,
      step: "ip link set dev v0 up",
      ok: true,
      errno: null,
      message: null,
      events,
    });
    const d = compareRecords(
      { steps: [step(["r1", "r2", "r3", "r4"])], links: [] },
      { steps: [step(["r1", "r3", "r4"])], links: [] },
    );
    expect(d).toEqual([
      {
        where: "step 1 (ip link set dev v0 up)",
        field: "events",
        model: "4 records",
        kernel: "3 records",
        diff: ["  r1", "- r2", "  r3", "  r4"],
      },
    ]);
    const text = formatConform(
      [
        {
          file: "f",
          scenario: "s",
          verdict: "DIFFER",
          kernel: "6.18",
          profile: "6.18",
          differences: d,
          steps: 1,
          links: 0,
          wallMs: 0,
        },
      ],
      "netns",
    );
    expect(text).toContain("              - r2\n              r3".replace("r3", "  r3"));
  });
});
