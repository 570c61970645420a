// Each crash, hang and injection of issue 16's hostile-input report, as a test: the input that
// broke ifsim now gets a clear error (exit 2) or a bounded answer, never an internal error
// (exit 70) or exit 1 (which means "expectation failed" / "violated"). A few need the real
// process (EPIPE, a full disk, the top-level handler): those spawn the CLI.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { encodeToken } from "../../src/cli/explore.ts";
import { internalError, main } from "../../src/cli/main.ts";

const DIR = mkdtempSync(join(tmpdir(), "ifsim-hostile-"));
const SEED_RACE = readFileSync("examples/scenarios/06-udev-seed-race.yaml", "utf8");

function file(name: string, text: string): string {
  const f = join(DIR, name);
  writeFileSync(f, text);
  return f;
}

const HEAD = 'ifsim: 1\nname: hostile\nkernel: "6.1"\n';

/** Runs the CLI as a process (tsx), with a shell for redirections. */
function cli(
  args: string,
  input?: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("sh", ["-c", `node_modules/.bin/tsx src/cli/main.ts ${args}`], {
    encoding: "utf8",
    timeout: 60_000,
    ...(input !== undefined ? { input } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hostile input: crashes become positioned errors", () => {
  it.each([
    ["a sleep of 9×10¹² ms", `${HEAD}steps:\n  - sleep: 9100000000000\n`],
    ["a 400-digit duration string", `${HEAD}steps:\n  - sleep: "${"9".repeat(400)}s"\n`],
    ["a *_ms field of 9×10¹² ms", `${HEAD}cloud_init:\n  at_ms: 9100000000000\nsteps: []\n`],
    [
      "a hwdb glob [z-a]",
      `${HEAD}devices:\n  - { id: n0, type: virtio-net, mac: "52:54:00:12:34:56" }\nudev:\n  generation: v256\n  hwdb:\n    "[z-a]*": { PHYS_PORT_NAME: false }\nsteps: [settle]\n`,
    ],
    [
      "30 PCI devices without slot:",
      `${HEAD}devices:\n${Array.from({ length: 30 }, (_, i) => `  - { id: n${i}, type: pci-nic, mac: "52:54:00:00:00:${i.toString(16).padStart(2, "0")}" }\n`).join("")}steps: [settle]\n`,
    ],
    [
      "a backtracking log pattern's backreference",
      `${HEAD}steps: []\nexpect:\n  - log: "(a+)\\\\1"\n`,
    ],
  ])("should refuse %s with exit 2 and a file:line:col error", (_what, text) => {
    const f = file("s.yaml", text);
    const r = main(["run", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: `),
    );
  });

  it("should refuse --seed above 2^53 - 1 on run and ip", () => {
    const f = file("ok.yaml", `${HEAD}steps: []\n`);
    expect(main(["run", f, "--seed", "9007199254740992"]).status).toBe(2);
    expect(main(["ip", "--seed", "9007199254740992", "link", "show"]).status).toBe(2);
    expect(main(["ip", "--seed", "9007199254740991", "link", "show"]).status).toBe(0);
  });

  it("should refuse a replay token with an unknown config.udev", async () => {
    const t = encodeToken({
      v: 1,
      file: "s.yaml",
      scenario: SEED_RACE,
      config: { kernel: "5.0", udev: "v999" } as never,
      choices: [],
    });
    const r = await main(["replay", t]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown udev generation "v999" in config.udev');
  });

  it("should refuse a token whose scenario inflates past the limit, before parsing it", async () => {
    const big = `${SEED_RACE}\n${"# padding\n".repeat(120_000)}`;
    const t = encodeToken({ v: 1, file: "s.yaml", scenario: big, config: {}, choices: [] });
    expect(t.length).toBeLessThan(20_000);
    const r = await main(["replay", t]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/longer than 1048576 characters|does not decompress/);
  });
});

describe("hostile input: bounded work", () => {
  it("should decide catastrophic patterns in log, bringup.links and hwdb at once", () => {
    const evil = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    const text = `${HEAD}devices:\n  - { id: n0, type: virtio-net, mac: "52:54:00:12:34:56" }\nudev:\n  generation: v256\n  hwdb:\n    "${evil}": { PHYS_PORT_NAME: false }\nbringup:\n  links: ["${evil}"]\nsteps:\n  - ip: link add ${"a".repeat(15)} type veth\nexpect:\n  - no_log: "(a+)+$"\n  - no_log: "(x+x+)+y"\n`;
    const t0 = performance.now();
    const r = main(["run", file("evil.yaml", text)]);
    expect(r.status).toBe(0);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it.each([
    ["/dev/zero", "a character device, not a regular file"],
    [DIR, "a directory, not a regular file"],
  ])("should refuse %s as a scenario", (f, why) => {
    expect(main(["run", f])).toMatchObject({
      status: 2,
      stderr: `ifsim run: cannot read "${f}": ${why}\n`,
    });
  });

  it("should refuse a scenario past 1 MiB", () => {
    const f = file("big.yaml", `${HEAD}steps: []\n${"# x\n".repeat(300_000)}`);
    const r = main(["run", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("larger than 1048576 bytes");
  });

  it("should refuse /dev/zero as an ip -batch file after the limit", () => {
    const r = main(["ip", "-batch", "/dev/zero"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("larger than 1048576 bytes");
  });

  it("should cap --jobs at the CPU count with a note", async () => {
    const r = await main([
      "explore",
      "examples/scenarios/06-udev-seed-race.yaml",
      "--jobs",
      "64",
      "--max-states",
      "20",
      "--probe",
      "0",
    ]);
    expect(r.status).not.toBe(70);
    expect(r.stderr).toMatch(/note: --jobs 64 capped at \d+, the number of CPUs/);
  });
});

describe("hostile input: nothing overwritten, nothing injected", () => {
  it("should refuse ip --monitor F -batch F and leave F as it was", () => {
    const f = file("b.batch", "link show lo\n");
    const r = main(["ip", "--monitor", f, "-batch", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("it is the input");
    expect(readFileSync(f, "utf8")).toBe("link show lo\n");
  });

  it("should refuse explore F --export F (also through another spelling) and leave F as it was", async () => {
    const f = file("race.yaml", SEED_RACE);
    for (const out of [f, join(DIR, ".", "race.yaml")]) {
      const r = await main(["explore", f, "--export", out, "--max-states", "10", "--probe", "0"]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("it is the input");
    }
    expect(readFileSync(f, "utf8")).toBe(SEED_RACE);
  });

  it("should keep a token's file name out of the exported YAML and the terminal", async () => {
    const found = await main([
      "explore",
      "examples/scenarios/06-udev-seed-race.yaml",
      "--json",
      "--probe",
      "0",
    ]);
    const cex = (JSON.parse(found.stdout) as { counterexample?: { token: string } }).counterexample;
    expect(cex).toBeDefined();
    const payload = cex?.token ?? "";
    const { decodeToken } = await import("../../src/cli/explore.ts");
    const d = decodeToken(payload);
    if (!d.ok) throw new Error(d.error);
    const evil = encodeToken({ ...d.payload, file: "x\ninjected: true\n\u001b[31mred" });
    const out = join(DIR, "export.yaml");
    const r = await main(["replay", evil, "--export", out]);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain("\u001b");
    const doc = parse(readFileSync(out, "utf8")) as Record<string, unknown>;
    expect(doc.injected).toBeUndefined();
    expect(Object.keys(doc)).not.toContain("injected");
  });
});

describe("the process: exit statuses of the top-level handler", () => {
  it("should report an internal error as exit 70 with a hint, never 1", () => {
    const r = internalError(new TypeError("boom"));
    expect(r.status).toBe(70);
    expect(r.stderr).toMatch(/^ifsim: internal error: TypeError: boom\n/);
    expect(r.stderr).toContain("please report it");
  });

  it("should exit 74 with a message when stdout is a full disk, and stay quiet on EPIPE", () => {
    const full = cli("schema > /dev/full");
    expect(full.status).toBe(74);
    expect(full.stderr).toBe(
      "ifsim: cannot write to standard output: ENOSPC (No space left on device)\n",
    );
    const pipe = cli('schema | head -c 10 >/dev/null; echo "status $?"');
    expect(pipe.stderr).toBe("");
  });

  it("should exit 74 when --dmesg is a full disk", () => {
    const r = cli("ip --machine failover-vm --dmesg /dev/full link show");
    expect(r.status).toBe(74);
    expect(r.stderr).toContain(
      'ifsim ip: cannot write "/dev/full": ENOSPC (No space left on device)',
    );
  });
});

describe("ifsim run --time-limit: bounded work", () => {
  it("should stop a long run with exit 3 and no verdict, well within the limit plus a margin", () => {
    // 30 000 steps (about 1 MiB of YAML is the input limit; this is ~0.9 MiB) take far longer
    // than 200 ms of wall time on the model; the run must stop and say so.
    const steps = Array.from(
      { length: 30_000 },
      (_, i) => `  - ip: link set dev lo mtu ${1280 + (i % 1000)}\n`,
    );
    const f = file("long.yaml", `${HEAD}steps:\n${steps.join("")}`);
    const t0 = Date.now();
    const r = main(["run", f, "--time-limit", "200ms"]) as {
      status: number;
      stderr: string;
      stdout: string;
    };
    const took = Date.now() - t0;
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /--time-limit reached: stopped after \d+ scheduler steps at virtual time .* s; no verdict/,
    );
    // The limit is checked before every scheduler step; parsing is not interruptible. The margin
    // is generous so that a loaded machine cannot fail the test.
    expect(took).toBeLessThan(30_000);
  });

  it("should run a short scenario to its verdict under a generous limit", () => {
    const r = main(["run", "examples/scenarios/01-seed-race.yaml", "--time-limit", "10m"]) as {
      status: number;
    };
    expect(r.status).toBe(0);
  });

  it("should refuse a --time-limit that is not a duration", () => {
    const r = main(["run", "examples/scenarios/01-seed-race.yaml", "--time-limit", "soon"]) as {
      status: number;
      stderr: string;
    };
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--time-limit needs a duration like 5s, 500ms or 2m, got "soon"');
  });
});
