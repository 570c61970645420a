// The terminal: colour only on a TTY without NO_COLOR, lines fitted to its width, progress of a
// real-kernel run on stderr (issue 18 item 4).

import { afterEach, describe, expect, it } from "vitest";
import { registerBackend } from "../../src/backends/index.ts";
import type { Backend, BackendRunRecord } from "../../src/backends/types.ts";
import { main } from "../../src/cli/main.ts";
import { colourWanted, terminal } from "../../src/cli/terminal.ts";

const SEED_RACE = "examples/scenarios/01-seed-race.yaml";

afterEach(() => {
  terminal.colour = false;
  terminal.columns = null;
  terminal.progress = null;
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
