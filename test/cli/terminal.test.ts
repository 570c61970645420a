// The terminal: colour only on a TTY without NO_COLOR, lines fitted to its width, progress of a
// real-kernel run on stderr (issue 18 item 4).

import { afterEach, describe, expect, it } from "vitest";
import { registerBackend } from "../../src/backends/index.ts";
import type { Backend, BackendRunRecord } from "../../src/backends/types.ts";
import { conformProgress } from "../../src/cli/conform.ts";
import { exploreTerminal } from "../../src/cli/explore.ts";
import { main } from "../../src/cli/main.ts";
import { colourWanted, fitLines, terminal } from "../../src/cli/terminal.ts";
import { takeTerminalOptions, terminalSinks } from "../../src/cli/terminal-options.ts";

const SEED_RACE = "examples/scenarios/01-seed-race.yaml";

afterEach(() => {
  terminal.colour = false;
  terminal.columns = null;
  terminal.progress = null;
  terminalSinks.stderr = null;
  conformProgress.sink = null;
  exploreTerminal.current = null;
});

const EXPLORE_RACE = "examples/explore/seed-race.yaml";
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\x1b\[/;

/** A backend that runs nothing and reports the links as given, for conform's output. */
function fakeBackend(log: string[]): Backend {
  return {
    name: "fake",
    unavailableReason: () => null,
    refuses: () => null,
    kernelVersion: () => "6.18",
    run: async (sc, o): Promise<BackendRunRecord> => {
      o.log?.("fake: booting");
      log.push(sc.name);
      return { scenario: sc.name, backend: "fake", kernel: "6.18", steps: [], links: [] };
    },
  };
}

describe("takeTerminalOptions", () => {
  it("should take --color[=WHEN] and --progress off the argv, up to --", () => {
    expect(takeTerminalOptions(["f.yaml", "--color=never", "--json"])).toEqual({
      argv: ["f.yaml", "--json"],
      options: { colour: "never", progress: false },
    });
    expect(takeTerminalOptions(["--color", "always", "f", "--progress"])).toEqual({
      argv: ["f"],
      options: { colour: "always", progress: true },
    });
    expect(takeTerminalOptions(["--color", "f"])).toEqual({
      argv: ["f"],
      options: { colour: "always", progress: false },
    });
    expect(takeTerminalOptions(["f", "--", "--color=never"])).toEqual({
      argv: ["f", "--", "--color=never"],
      options: { colour: "auto", progress: false },
    });
    expect(takeTerminalOptions(["--color=blue"])).toEqual({
      usage: '--color is auto, always or never, got "blue"',
    });
  });
});

describe("fitLines", () => {
  it("should wrap long lines at spaces with a hanging indent, and leave a line with an unbreakable word whole", () => {
    expect(fitLines("  aa bb cc dd", 9)).toBe("  aa bb\n    cc dd");
    expect(fitLines("short", 8)).toBe("short");
    const tok = `replay: ifsim replay ifsim1.${"x".repeat(40)}`;
    expect(fitLines(tok, 30)).toBe(tok);
    // Colour codes take no columns.
    expect(fitLines("\x1b[31mFAIL\x1b[39m ok", 7)).toBe("\x1b[31mFAIL\x1b[39m ok");
  });
});

describe("explore, replay and conform on a terminal", () => {
  it("should print no ANSI sequence when stdout is not a terminal, and colour with --color=always", async () => {
    const plain = await main(["explore", EXPLORE_RACE, "--kernel", "5.0"]);
    expect(plain.stdout).not.toMatch(ANSI);
    const always = await main(["explore", EXPLORE_RACE, "--kernel", "5.0", "--color=always"]);
    expect(always.stdout).toContain("\x1b[31mviolated\x1b[39m: no-ebusy-to-udev");
    expect(terminal.colour).toBe(false);
    const ok = await main(["explore", EXPLORE_RACE, "--kernel", "6.1", "--color", "always"]);
    expect(ok.stdout).toContain("\x1b[32mverified\x1b[39m: no violation");
  });

  it("should honour --color=never on a colour terminal (as NO_COLOR does at startup)", async () => {
    terminal.colour = true;
    const r = await main(["explore", EXPLORE_RACE, "--kernel", "5.0,6.1", "--color=never"]);
    expect(r.stdout).not.toMatch(ANSI);
    const c = await main(["explore", EXPLORE_RACE, "--kernel", "5.0,6.1"]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
    expect(c.stdout).toMatch(/^5\.0 +v253 +\x1b\[31mviolated\x1b\[39m/m);
    expect(colourWanted({ NO_COLOR: "1" }, true)).toBe(false);
  });

  it("should colour replay's verdict and fit its lines to the terminal's width", async () => {
    const j = JSON.parse(
      (await main(["explore", EXPLORE_RACE, "--kernel", "5.0", "--json"])).stdout,
    );
    const token = j.counterexample.token as string;
    exploreTerminal.current = { write: () => {}, stderrIsTTY: false, stdoutColumns: 64 };
    terminal.colour = true;
    const r = await main(["replay", token]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("\x1b[31mviolated\x1b[39m: no-ebusy-to-udev");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
    for (const l of r.stdout.replace(/\x1b\[[0-9;]*m/g, "").split("\n"))
      expect(l.length).toBeLessThanOrEqual(64);
    const plain = await main(["replay", token, "--color=never"]);
    expect(plain.stdout).not.toMatch(ANSI);
  });

  it("should colour conform's verdicts only when asked", async () => {
    const ran: string[] = [];
    const restore = registerBackend("fake", () => fakeBackend(ran));
    try {
      const plain = await main(["conform", SEED_RACE, "--backend", "fake"]);
      expect(plain.stdout).not.toMatch(ANSI);
      expect(plain.stdout).toMatch(/^(AGREE|DIFFER) /m);
      const c = await main(["conform", SEED_RACE, "--backend", "fake", "--color=always"]);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
      expect(c.stdout).toMatch(/^\x1b\[(32mAGREE|31mDIFFER)\x1b\[39m /m);
    } finally {
      restore();
    }
  });
});

describe("progress", () => {
  it("should report conform per scenario and a real kernel's boot, on the sink main() sets", async () => {
    const lines: string[] = [];
    conformProgress.sink = (l) => lines.push(l);
    const restore = registerBackend("fake", () => fakeBackend([]));
    try {
      await main(["conform", SEED_RACE, SEED_RACE, "--backend", "fake"]);
    } finally {
      restore();
    }
    expect(lines.filter((l) => l === "fake: booting").length).toBe(2);
    expect(lines.filter((l) => /^conform: (AGREE|DIFFER) /.test(l)).length).toBe(2);
  });

  it("should give none when stderr is not a terminal, and plain lines with --progress", async () => {
    const lines: string[] = [];
    terminalSinks.stderr = (l) => lines.push(l);
    const restore = registerBackend("fake", () => fakeBackend([]));
    try {
      await main(["run", SEED_RACE, "--backend", "fake"]);
      expect(lines).toEqual([]);
      await main(["run", SEED_RACE, "--backend", "fake", "--progress"]);
      expect(lines).toEqual(["fake: booting"]);
      await main(["conform", SEED_RACE, "--backend", "fake", "--progress"]);
      expect(lines.slice(1, 2)).toEqual(["fake: booting"]);
      expect(lines[2]).toMatch(/^conform: /);
    } finally {
      restore();
    }
    expect(terminal.progress).toBeNull();
    expect(conformProgress.sink).toBeNull();
  });

  it("should report explore per cell: a bar on a terminal, lines with --progress", async () => {
    const tty: string[] = [];
    exploreTerminal.current = { write: (t) => tty.push(t), stderrIsTTY: true, stderrColumns: 80 };
    await main(["explore", EXPLORE_RACE, "--kernel", "5.0,6.1", "--udev", "v253"]);
    const done = tty.filter((t) => t.startsWith("explore: cell "));
    expect(done).toEqual([
      expect.stringMatching(
        /^explore: cell 1\/2 kernel 5\.0, udev v253: violated \(\d+\.\d s\)\n$/,
      ),
      expect.stringMatching(
        /^explore: cell 2\/2 kernel 6\.1, udev v253: verified \(\d+\.\d s\)\n$/,
      ),
    ]);
    const plain: string[] = [];
    exploreTerminal.current = { write: (t) => plain.push(t), stderrIsTTY: false };
    await main(["explore", EXPLORE_RACE, "--kernel", "5.0,6.1", "--udev", "v253"]);
    expect(plain).toEqual([]);
    await main(["explore", EXPLORE_RACE, "--kernel", "5.0,6.1", "--udev", "v253", "--progress"]);
    expect(plain.filter((t) => t.endsWith("started\n")).length).toBe(2);
    for (const t of plain) expect(t).not.toMatch(ANSI);
  });
});

describe("--help", () => {
  it.each(["ip", "kernels", "machines", "run", "conform", "explore", "replay", "schema"])(
    "should print ifsim %s --help on stdout (exit 0), and usage errors on stderr",
    async (cmd) => {
      const r = await main([cmd, "--help"]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: /);
      expect(r.stderr).toBe("");
      const bad = await main([cmd, "--no-such-option"]);
      expect(bad.status).not.toBe(0);
      expect(bad.stdout).toBe("");
      expect(bad.stderr).not.toBe("");
    },
  );

  it("should list --color and --progress in the help of the reporting commands", async () => {
    for (const cmd of ["run", "conform", "explore", "replay"])
      expect((await main([cmd, "--help"])).stdout).toContain("--color[=WHEN]");
  });
});

describe("colourWanted", () => {
  it("should colour a TTY only, honouring NO_COLOR, TERM=dumb and FORCE_COLOR", () => {
    expect(colourWanted({}, true)).toBe(true);
    expect(colourWanted({}, false)).toBe(false);
    expect(colourWanted({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colourWanted({ NO_COLOR: "" }, true)).toBe(true);
    expect(colourWanted({ TERM: "dumb" }, true)).toBe(false);
    expect(colourWanted({ FORCE_COLOR: "1" }, false)).toBe(true);
    expect(colourWanted({ FORCE_COLOR: "0" }, true)).toBe(true);
  });
});

describe("ifsim run on a terminal", () => {
  it("should print plain text by default and colour the verdicts when asked", () => {
    const plain = main(["run", SEED_RACE]).stdout;
    expect(plain).not.toContain("\x1b[");
    terminal.colour = true;
    const coloured = main(["run", SEED_RACE]).stdout;
    expect(coloured).toContain("\x1b[32mPASS\x1b[39m  all 3 expectations hold");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  it("should fit the causes to the terminal's width", () => {
    terminal.columns = 70;
    const out = main(["run", SEED_RACE]).stdout;
    const because = out.split("\n").filter((l) => /^\s+because |^\s{19}\S/.test(l));
    expect(because.length).toBeGreaterThan(2);
    for (const l of because) expect(l.length).toBeLessThanOrEqual(70);
    // every timeline line fits, the 150-character QEMU warning included
    const timeline = out.split("\n").filter((x) => /^ +\d+\.\d{6} {2}/.test(x));
    expect(timeline.length).toBeGreaterThan(20);
    for (const l of timeline) expect(l.length).toBeLessThanOrEqual(70);
    expect(out).toContain("qemu    warning: Primary device not found (Virtio-net\n");
  });
});

describe("ifsim run --backend: progress", () => {
  it("should pass the backend a progress log that writes to stderr", async () => {
    const lines: string[] = [];
    terminal.progress = (l) => lines.push(l);
    const fake: Backend = {
      name: "fake",
      unavailableReason: () => null,
      refuses: () => null,
      kernelVersion: () => "6.18",
      run: async (sc, o): Promise<BackendRunRecord> => {
        o.log?.("fake: booting");
        return { scenario: sc.name, backend: "fake", kernel: "6.18", steps: [], links: [] };
      },
    };
    const restore = registerBackend("fake", () => fake);
    try {
      const r = await main(["run", SEED_RACE, "--backend", "fake"]);
      expect(r.stdout).toContain("== VF hot-plugged while the failover master is up — fake");
      expect(lines).toEqual(["fake: booting"]);
    } finally {
      restore();
    }
  });
});
