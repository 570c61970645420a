// `ifsim explore` and `ifsim replay`: usage errors, verdicts and exit codes on the seed race,
// the JSON shape, the kernel × udev matrix, replay tokens, --jobs independence (workers need the
// built dist) and the swim-lane timeline.

import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  decodeToken,
  encodeToken,
  exploreDefaults,
  exploreTerminal,
  parseDuration,
} from "../../src/cli/explore.ts";
import { main } from "../../src/cli/main.ts";
import { laneOrder, swimlane, wrapText } from "../../src/cli/swimlane.ts";
import { INVARIANTS } from "../../src/explore/scenario-system.ts";
import { parseScenario } from "../../src/scenario/parse.ts";

const SEED_RACE = existsSync("examples/explore/seed-race.yaml")
  ? "examples/explore/seed-race.yaml"
  : "examples/scenarios/06-udev-seed-race.yaml";

/** The timing fields of a stats object, which differ from run to run. */
const TIMING = ["elapsedMs", "totalMs", "statesPerSecond", "interleavingsPerSecond"];

function untimed(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(untimed);
  if (x && typeof x === "object")
    return Object.fromEntries(
      Object.entries(x)
        .filter(([k]) => !TIMING.includes(k))
        .map(([k, v]) => [k, untimed(v)]),
    );
  return x;
}

interface CexJson {
  invariant: string;
  detail: string;
  length: number;
  firstLength: number;
  choices: string[];
  steps: { n: number; lane: string; t: number; did: unknown[] }[];
  token: string;
  exported?: string;
}

afterEach(() => {
  exploreTerminal.current = null;
  exploreDefaults.traceDir = null;
});

/** Text with the lines fitLines wrapped joined again (and every indented line to the one before). */
function unwrapped(text: string): string {
  return text.replace(/\n {2,}(?=\S)/g, " ");
}

describe("ifsim explore: usage", () => {
  it.each([
    [["--frob", SEED_RACE], "Unknown option '--frob'"],
    [[SEED_RACE, "--invariants", "unique-names,nope"], 'unknown invariant "nope": valid names are'],
    [
      [SEED_RACE, "--time-limit", "soon"],
      '--time-limit needs a duration like 30s, 500ms or 2m, got "soon"',
    ],
    [["does-not-exist.yaml"], 'cannot read "does-not-exist.yaml": ENOENT'],
    [[], "give a scenario file"],
    [[SEED_RACE, "--kernel", "3.10"], 'Unknown kernel version "3.10"'],
    [[SEED_RACE, "--udev", "v999"], 'unknown udev generation "v999"'],
    [[SEED_RACE, "--jobs", "0"], '--jobs needs a positive integer, got "0"'],
    [[SEED_RACE, "--probe", "many"], '--probe needs a non-negative integer, got "many"'],
    [[SEED_RACE, "--timing", "loose"], '--timing is any, strict or free, got "loose"'],
    [[SEED_RACE, "--view", "abstract"], '--view is coarse or exact, got "abstract"'],
    [
      [SEED_RACE, "--timing", "free", "--view", "exact"],
      "--view does not apply to --timing free (its keys hold no time)",
    ],
    // the measurement-only view (tools/state-view/bound.ts) is not a verification option
    [[SEED_RACE, "--view", "untimed"], '--view is coarse or exact, got "untimed"'],
    [[SEED_RACE, "--atomic", "maybe"], '--atomic is on or off, got "maybe"'],
    [[SEED_RACE, "--reduction", "por"], '--reduction is dpor or none, got "por"'],
    [
      [SEED_RACE, "--kernel", "5.0,6.1", "--export", "x.yaml"],
      "--export writes one counterexample",
    ],
    [
      ["examples/scenarios/01-seed-race.yaml", "--udev", "v253"],
      "--udev needs a scenario with a udev: section",
    ],
  ])("should exit 2 for %j", async (args, msg) => {
    const r = await main(["explore", ...args]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(msg);
  });

  it("should list every valid invariant name for an unknown one", async () => {
    const r = await main(["explore", SEED_RACE, "--invariants", "bogus"]);
    for (const n of Object.keys(INVARIANTS)) expect(r.stderr).toContain(n);
  });

  it("should report a bad scenario with positioned errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-explore-"));
    const f = join(dir, "bad.yaml");
    writeFileSync(f, "ifsim: 1\nname: x\nkernel: '5.0'\nsteps:\n  - frob: 1\n");
    const r = await main(["explore", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:5:\\d+: `));
  });

  it("should print the invariants with --list-invariants", async () => {
    const r = await main(["explore", "--list-invariants"]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    for (const [n, d] of Object.entries(INVARIANTS))
      expect(lines.some((l) => l.startsWith(`  ${n} `) && l.includes(d))).toBe(true);
  });

  it("should print its help", async () => {
    const r = await main(["explore", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: ifsim explore FILE.yaml [options]");
    expect(main(["--help"]).stdout).toContain("ifsim explore FILE.yaml");
  });

  it("should parse durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("0s")).toBeNull();
    expect(parseDuration("soon")).toBeNull();
  });
});

describe("ifsim explore: the seed race", () => {
  it("should find the EBUSY rename on 5.0 (exit 1), with a timeline and a token that replays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-explore-"));
    const out = join(dir, "cex.yaml");
    const r = await main(["explore", SEED_RACE, "--kernel", "5.0", "--export", out]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("kernel 5.0, udev v253");
    expect(r.stdout).toMatch(/^ +\d+ {2}transitions$/m);
    expect(r.stdout).toMatch(/^ +\d+ {2}distinct states$/m);
    expect(r.stdout).toMatch(/^ +\d+ {2}complete interleavings$/m);
    expect(r.stdout).toMatch(
      /^violated: no-ebusy-to-udev: udevd's rename of \S+ to \S+ returned EBUSY$/m,
    );
    expect(r.stdout).toMatch(/^counterexample: \d+ steps on the shortest path found/m);
    expect(r.stdout).toMatch(/ step +t\/ms │ udev\/w0/);
    expect(r.stdout).toMatch(/^✗ +\d+ /m);
    expect(r.stdout).toContain(`exported: ${out}`);
    const token = /^replay: ifsim replay (\S+)$/m.exec(r.stdout)?.[1] as string;
    expect(token).toMatch(/^ifsim1\.[A-Za-z0-9_-]+$/);
    // The export is a valid scenario.
    expect(parseScenario(readFileSync(out, "utf8"), out).ok).toBe(true);

    const rep = await main(["replay", token]);
    expect(rep.status).toBe(1);
    expect(rep.stdout).toMatch(/^violated: no-ebusy-to-udev: /m);
    expect(rep.stdout).toContain("ifsim replay: ");
    expect(rep.stdout).toMatch(/ step +t\/ms │ udev\/w0/);

    const rj = await main(["replay", token, "--json"]);
    const j = JSON.parse(rj.stdout) as {
      verdict: string;
      violation: { invariant: string };
      kernel: string;
    };
    expect(rj.status).toBe(1);
    expect(j).toMatchObject({
      verdict: "violated",
      kernel: "5.0",
      violation: { invariant: "no-ebusy-to-udev" },
    });
  });

  it("should show the links after each step, in text and JSON", async () => {
    const r = await main(["explore", SEED_RACE, "--kernel", "5.0"]);
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("state after each step"));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {2}step +idx +name +state +master +flags$/);
    expect(lines[at + 2]).toMatch(/^ {2}start +1 +lo +\S+ +- +<LOOPBACK/);
    // udev's rename shows as a changed link (~) under the step that did it.
    expect(r.stdout).toMatch(/^ {2}\d+ udev\/w\d+ +~ +\d+ +ens3 /m);
    const j = JSON.parse((await main(["explore", SEED_RACE, "--kernel", "5.0", "--json"])).stdout);
    const c = j.counterexample as {
      initial: { t: number; links: { ifname: string }[] };
      steps: {
        links: { ifindex: number; ifname: string; flags: string[]; master: string | null }[];
      }[];
    };
    expect(c.initial.links.map((l) => l.ifname)).toContain("lo");
    for (const st of c.steps) expect(st.links.length).toBeGreaterThan(0);
    const last = c.steps[c.steps.length - 1]?.links ?? [];
    expect(last.some((l) => l.ifname === "ens3")).toBe(true);
    expect(last.find((l) => l.master === "ens3")).toBeDefined();
  });

  it("should write the tokens to NAME.cex.txt in the default directory, which replay reads", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-explore-"));
    exploreDefaults.traceDir = dir;
    const r = await main(["explore", SEED_RACE, "--kernel", "5.0"]);
    expect(r.status).toBe(1);
    const file = join(dir, "seed-race.cex.txt");
    expect(r.stdout).toContain(`replay: ifsim replay ${file} (the token is in that file)`);
    expect(r.stdout).not.toContain("ifsim1.");
    const rep = await main(["replay", file]);
    expect(rep.status).toBe(1);
    expect(rep.stdout).toMatch(/^violated: no-ebusy-to-udev: /m);
    // JSON carries the token itself: no file unless --trace-out.
    const dir2 = mkdtempSync(join(tmpdir(), "ifsim-explore-"));
    exploreDefaults.traceDir = dir2;
    const j = await main(["explore", SEED_RACE, "--kernel", "5.0", "--json"]);
    expect(JSON.parse(j.stdout).counterexample.token).toMatch(/^ifsim1\./);
    expect(readdirSync(dir2)).toEqual([]);
    // A verified run writes none.
    const v = await main(["explore", SEED_RACE, "--kernel", "6.1"]);
    expect(v.status).toBe(0);
    expect(readdirSync(dir2)).toEqual([]);
  });

  it("should write the counterexample as an ITF trace with --itf, from explore and replay", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-explore-"));
    const out = join(dir, "cex.itf.json");
    const r = await main(["explore", SEED_RACE, "--kernel", "5.0", "--itf", out]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`itf: ${out}`);
    const t = JSON.parse(readFileSync(out, "utf8"));
    expect(t["#meta"]).toMatchObject({ format: "ITF", status: "violation" });
    expect(t.vars).toEqual(["mbt::actionTaken", "t", "links", "violation"]);
    const steps = (
      JSON.parse((await main(["explore", SEED_RACE, "--kernel", "5.0", "--json"])).stdout)
        .counterexample as CexJson
    ).steps;
    expect(t.states.length).toBe(steps.length + 1);
    expect(t.states.at(-1).violation).toMatchObject({
      tag: "Some",
      value: { invariant: "no-ebusy-to-udev" },
    });
    const token = /ifsim1\.\S+/.exec(
      (await main(["explore", SEED_RACE, "--kernel", "5.0"])).stdout,
    )?.[0] as string;
    const out2 = join(dir, "replay.itf.json");
    const rep = await main(["replay", token, "--itf", out2]);
    expect(rep.status).toBe(1);
    expect(JSON.parse(readFileSync(out2, "utf8"))).toEqual(t);
    const m = await main(["explore", SEED_RACE, "--kernel", "5.0,6.1", "--itf", out]);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain("--itf writes one counterexample");
  });

  it("should verify 6.1 (exit 0), with a progress bar on a terminal's stderr", async () => {
    const writes: string[] = [];
    exploreTerminal.current = {
      write: (t) => writes.push(t),
      stderrIsTTY: true,
      stderrColumns: 80,
    };
    const r = await main(["explore", SEED_RACE, "--kernel", "6.1"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("\nverified: no violation in any interleaving\n");
    expect(r.stdout).not.toContain("replay:");
    for (const w of writes) expect(w.startsWith("\r")).toBe(true);
    if (writes.length > 0) expect(writes[writes.length - 1]).toBe("\r\x1b[K");
  });

  it("should print one JSON object, and nothing on a non-terminal stderr", async () => {
    const writes: string[] = [];
    exploreTerminal.current = { write: (t) => writes.push(t), stderrIsTTY: false };
    const r = await main(["explore", SEED_RACE, "--kernel", "5.0", "--json"]);
    expect(r.status).toBe(1);
    expect(writes).toEqual([]);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual([
      "scenario",
      "file",
      "kernel",
      "udev",
      "invariants",
      "options",
      "verdict",
      "stats",
      "probe",
      "counterexample",
    ]);
    expect(j).toMatchObject({ kernel: "5.0", udev: "v253", verdict: "violated" });
    // The default probe (16 random walks) finds this race before the search runs.
    expect(j.probe).toMatchObject({ found: true });
    expect((j.probe as { walks: number }).walks).toBeLessThanOrEqual(16);
    expect(j.options).toMatchObject({
      atomic: true,
      reduction: "dpor",
      symmetry: true,
      hashing: true,
      splitDepth: 0,
    });
    expect(Object.keys(j.stats as object)).toEqual(
      expect.arrayContaining([
        "transitions",
        "states",
        "distinct",
        "revisits",
        "sleepPruned",
        "sleepBlocked",
        "executions",
        "maxDepth",
        "elapsedMs",
      ]),
    );
    const c = j.counterexample as CexJson;
    expect(c.invariant).toBe("no-ebusy-to-udev");
    expect(c.length).toBeGreaterThan(0);
    expect(c.firstLength).toBeGreaterThanOrEqual(c.length);
    expect(c.steps.map((s) => s.n)).toEqual(c.steps.map((_, i) => i + 1));
    const d = decodeToken(c.token);
    expect(d.ok && d.payload.config).toMatchObject({ kernel: "5.0", udev: "v253" });
    expect(d.ok && d.payload.choices).toEqual(c.choices);
  });

  it("should report a probe that found nothing, and run no probe with --probe 0", async () => {
    const v = await main(["explore", SEED_RACE, "--kernel", "6.1", "--probe", "5", "--json"]);
    expect(v.status).toBe(0);
    const jv = JSON.parse(v.stdout) as {
      probe: { walks: number; found: boolean; transitions: number };
    };
    expect(jv.probe).toMatchObject({ walks: 5, found: false });
    expect(jv.probe.transitions).toBeGreaterThan(0);

    const r = await main(["explore", SEED_RACE, "--kernel", "5.0", "--probe", "0", "--json"]);
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).not.toHaveProperty("probe");
    expect(j.options).toMatchObject({ probe: 0 });
    // Found by the search: it explored complete interleavings and distinct states.
    expect((j.stats as { transitions: number }).transitions).toBeGreaterThan(5);
    expect((j.counterexample as CexJson).invariant).toBe("no-ebusy-to-udev");

    const t = await main(["explore", SEED_RACE, "--kernel", "5.0"]);
    expect(unwrapped(t.stdout)).toContain("probe: 16 random walks (walk seed 1); search: dpor");
    expect(unwrapped(t.stdout)).toContain("not run: the probe found a violation");
    expect(unwrapped(t.stdout)).toMatch(/the first path found, by probe walk \d+, had \d+\)/);
  });

  it("should stop at --max-states with exit 3 (bounded), and say random walks are inconclusive", async () => {
    const r = await main(["explore", SEED_RACE, "--kernel", "6.1", "--max-states", "40"]);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain("bounded: stopped by --max-states (inconclusive)");
    const w = await main(["explore", SEED_RACE, "--kernel", "6.1", "--random", "3", "--json"]);
    expect(w.status).toBe(3);
    expect(JSON.parse(w.stdout)).toMatchObject({ verdict: "bounded", walks: 3 });
  });

  it("should print a matrix as one line per cell, the tokens in a trace file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-explore-"));
    const trace = join(dir, "m.cex.txt");
    const r = await main([
      "explore",
      SEED_RACE,
      "--kernel",
      "5.0,6.1",
      "--udev",
      "v250",
      "--udev",
      "v253",
      "--trace-out",
      trace,
    ]);
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n");
    const head = lines.findIndex((l) =>
      /^kernel +udev +verdict +steps +interleavings +distinct +violation$/.test(l),
    );
    expect(head).toBeGreaterThan(0);
    const cells = lines.slice(head + 1, head + 5);
    expect(cells[0]).toMatch(/^5\.0 +v250 +violated +\d+ +\d+ +\d+ +\S+: /);
    expect(cells[1]).toMatch(/^5\.0 +v253 +violated +\d+ +\d+ +\d+ +no-ebusy-to-udev: /);
    expect(cells[2]).toMatch(/^6\.1 +v250 +(violated|verified|bounded) /);
    expect(cells[3]).toMatch(/^6\.1 +v253 +verified +- +\d+ +\d+$/);
    expect(lines[head + 5]).toBe("");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
    // No token inline: they are in the file, which ifsim replay reads.
    expect(r.stdout).not.toContain("ifsim1.");
    expect(unwrapped(r.stdout)).toContain(
      `counterexamples: ${trace} (replay one: ifsim replay ${trace} --cell 5.0/v250)`,
    );
    const file = readFileSync(trace, "utf8");
    expect(file).toMatch(
      /^# kernel 5\.0, udev v253: no-ebusy-to-udev: .* \(\d+ steps\)\nifsim1\.\S+$/m,
    );
    const many = await main(["replay", trace]);
    expect(many.status).toBe(2);
    expect(many.stderr).toMatch(
      /holds \d+ counterexamples: pick one with --cell \(5\.0\/v250, 5\.0\/v253/,
    );
    const one = await main(["replay", trace, "--cell", "5.0/v253"]);
    expect(one.status).toBe(1);
    expect(one.stdout).toContain("kernel 5.0, udev v253");
    expect(one.stdout).toMatch(/^violated: no-ebusy-to-udev: /m);
    const none = await main(["replay", trace, "--cell", "4.19/v250"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no counterexample for --cell "4.19/v250"');
  });

  it("should fit the matrix to a narrow terminal", async () => {
    exploreTerminal.current = { write: () => {}, stderrIsTTY: false, stdoutColumns: 70 };
    const r = await main(["explore", SEED_RACE, "--kernel", "5.0", "--udev", "v250,v253"]);
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n");
    const head = lines.findIndex((l) => l.startsWith("kernel "));
    for (const l of lines.slice(head, head + 3)) expect(l.length).toBeLessThanOrEqual(70);
    expect(lines[head + 1]).toMatch(/…$/);
  });

  it("should give a matrix as {scenario, cells} in JSON", async () => {
    const r = await main([
      "explore",
      SEED_RACE,
      "--kernel",
      "5.0",
      "--udev",
      "v250,v253",
      "--json",
    ]);
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout) as { scenario: string; cells: Record<string, unknown>[] };
    expect(j.cells.map((c) => [c.kernel, c.udev, c.verdict])).toEqual([
      ["5.0", "v250", "violated"],
      ["5.0", "v253", "violated"],
    ]);
    expect(j.cells[0]).toHaveProperty("counterexample.token");
  });
});

/** The built CLI, when `npm run build` ran after the last change under src/ (else a reason). */
function builtCli(): { cli: string } | { skip: string } {
  const cli = "dist/cli/main.js";
  if (!existsSync("dist/cli/explore-worker.js"))
    return { skip: "dist/cli/explore-worker.js is missing: run npm run build" };
  const built = statSync(cli).mtimeMs;
  const newer = (dir: string): string | null => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        const n = newer(p);
        if (n) return n;
      } else if (p.endsWith(".ts") && statSync(p).mtimeMs > built) return p;
    }
    return null;
  };
  const stale = newer("src");
  return stale ? { skip: `dist is older than ${stale}: run npm run build` } : { cli };
}

describe("ifsim explore --jobs", () => {
  const built = builtCli();
  it("should say when workers need the built dist (from source)", async () => {
    // --split-depth 1: without a split (the default) there are no subtrees for workers.
    const args = ["--kernel", "5.0", "--jobs", "2", "--split-depth", "1", "--probe", "0", "--json"];
    const r = await main(["explore", SEED_RACE, ...args]);
    expect(JSON.parse(r.stdout).options.jobs).toBe("1 (workers need the built dist)");
  });

  it.each(["5.0", "6.1"])(
    "should give the same JSON with --jobs 1 and --jobs 2 on kernel %s (workers: built dist)",
    async (kernel) => {
      if ("skip" in built) {
        console.warn(`skipped --jobs 2: ${built.skip}`);
        return;
      }
      // --probe 0: the search itself (not the probe) must find the same with 1 and 2 jobs.
      const args = [
        "--kernel",
        kernel,
        "--jobs",
        "1",
        "--split-depth",
        "1",
        "--probe",
        "0",
        "--json",
      ];
      const one = await main(["explore", SEED_RACE, ...args]);
      let two: string;
      try {
        two = execFileSync(
          process.execPath,
          [
            built.cli,
            "explore",
            SEED_RACE,
            "--kernel",
            kernel,
            "--jobs",
            "2",
            "--split-depth",
            "1",
            "--probe",
            "0",
            "--json",
          ],
          { encoding: "utf8" },
        );
      } catch (e) {
        two = (e as { stdout: string }).stdout;
      }
      const a = JSON.parse(one.stdout) as { options: Record<string, unknown> };
      const b = JSON.parse(two) as { options: Record<string, unknown> };
      expect(a.options.jobs).toBe(1);
      expect(b.options.jobs).toBe(2);
      delete a.options.jobs;
      delete b.options.jobs;
      expect(untimed(b)).toEqual(untimed(a));
    },
  );

  it.each([
    ["5.1", ["--environment-events", "1"], 0],
    ["5.0", [], 1],
  ] as const)(
    "--every-n on kernel %s: the same JSON with --jobs 1 and 2 (a worker thread checks the environment)",
    (kernel, more, status) => {
      if ("skip" in built) {
        console.warn(`skipped --every-n --jobs 2: ${built.skip}`);
        return;
      }
      const run = (jobs: string): unknown => {
        const args = [built.cli, "explore", "examples/explore/boot-race-2.yaml", "--every-n"];
        args.push("--kernel", kernel, ...more, "--jobs", jobs, "--json");
        let out: string;
        try {
          out = execFileSync(process.execPath, args, { encoding: "utf8" });
          expect(status).toBe(0);
        } catch (e) {
          expect((e as { status: number }).status).toBe(status);
          out = (e as { stdout: string }).stdout;
        }
        // Times differ from run to run; nothing else may.
        return JSON.parse(out, (k, v) => (/(^ms|Ms|PerSecond)$/.test(k) ? 0 : v));
      };
      const one = run("1");
      const two = run("2");
      expect(two).toEqual(one);
      expect(JSON.stringify(one)).toMatch(
        kernel === "5.1" ? /"verified-every-n"/ : /"alone-violated"/,
      );
    },
    120_000,
  );
});

describe("ifsim replay", () => {
  it.each([
    ["hello", 'is not a replay token (a token starts with "ifsim1.")'],
    ["ifsim1.", "it is not base64url"],
    ["ifsim1.!!!", "it is not base64url"],
    ["ifsim1.abcd", "it does not decompress"],
  ])("should exit 2 for the garbage token %j", async (tok, msg) => {
    const r = await main(["replay", tok]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(msg);
  });

  it("should exit 2 for a well-formed token with a bad payload", async () => {
    const text = readFileSync(SEED_RACE, "utf8");
    const good = encodeToken({
      v: 1,
      file: "f.yaml",
      scenario: text,
      config: { kernel: "5.0" },
      choices: [],
    });
    expect(decodeToken(good).ok).toBe(true);
    const bad = encodeToken({
      v: 1,
      file: "f.yaml",
      scenario: "ifsim: 2\n",
      config: { kernel: "5.0" },
      choices: [],
    });
    const r = await main(["replay", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the token's scenario does not parse");
    const noToken = await main(["replay"]);
    expect(noToken.status).toBe(2);
  });

  it("should exit 0 when the replay ends without a violation", async () => {
    const text = readFileSync(SEED_RACE, "utf8");
    const tok = encodeToken({
      v: 1,
      file: "f.yaml",
      scenario: text,
      config: { kernel: "6.1" },
      choices: [],
    });
    const r = await main(["replay", tok]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^no violation: the run ended after \d+ steps/m);
  });
});

describe("swim-lane timeline", () => {
  const did = (what: string, result = "ok"): { what: string; result: string } => ({ what, result });

  it("should order lanes kernel, udev workers by number, networkd, cloud-init, qemu, script", () => {
    expect(
      laneOrder([
        "script",
        "udev/w10",
        "networkd",
        "udev/w2",
        "kernel",
        "qemu",
        "cloud-init",
        "udev/w2",
      ]),
    ).toEqual(["kernel", "udev/w2", "udev/w10", "networkd", "cloud-init", "qemu", "script"]);
  });

  it("should wrap at spaces, break long words and truncate with …", () => {
    expect(wrapText("a bb ccc dddd", 6)).toEqual(["a bb", "ccc", "dddd"]);
    expect(wrapText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(wrapText("one two three four", 5, 2)).toEqual(["one", "two…"]);
    expect(wrapText("abcdefghij", 4, 1)).toEqual(["abc…"]);
    expect(wrapText("", 4)).toEqual([""]);
  });

  it("should draw one column per lane that occurs and one row per step, the failing one marked", () => {
    const s = swimlane(
      [
        { n: 1, lane: "kernel", t: 0, did: [did("work linkwatch_event")] },
        { n: 2, lane: "udev/w1", t: 11_000, did: [], quiet: ["rename eth0 → ens3"] },
        { n: 3, lane: "script", t: 1_000_000, did: [] },
        { n: 4, lane: "udev/w1", t: 1_011_000, did: [did("ens4: cannot rename", "EBUSY")] },
      ],
      { width: 100, failing: 4, labels: { script: "script (hot-plug)" } },
    );
    const lines = s.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ +step +t\/ms │ kernel +│ udev\/w1 +│ script \(hot-plug\)$/);
    expect(lines[1]).toMatch(/^─+┼─+┼─+┼─+$/);
    // Empty cells keep the grid; trailing blanks are trimmed.
    expect(lines[2]).toMatch(/^ +1 +0\.000 │ work linkwatch_event → ok +│ +│$/);
    expect(lines[3]).toMatch(/^ +2 +11\.000 │ +│ rename eth0 → ens3 +│$/);
    expect(lines[4]).toMatch(/^ +3 1000\.000 │ +│ +│ ·$/);
    expect(lines[5]).toMatch(/^✗ +4 1011\.000 │ +│ ens4: cannot rename → EBUSY +│$/);
    expect(s).not.toContain("udev/w0");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
  });

  it("should fit a narrow width by wrapping and truncating, but never cut the failing step", () => {
    const long = "Network interface 'eth0' is already up, cannot rename to 'ens4' because it is up";
    const steps = [
      { n: 1, lane: "kernel", t: 0, did: [did(long)] },
      { n: 2, lane: "networkd", t: 0, did: [did("x")] },
      { n: 3, lane: "udev/w0", t: 0, did: [did(long, "EBUSY")] },
    ];
    const s = swimlane(steps, { width: 60, failing: 3 });
    const lines = s.trimEnd().split("\n");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    const col = (l: string, i: number): string =>
      (l.split(" │ ")[i] ?? "").replace(/│$/, "").trim();
    // Step 1 (kernel): three lines at most, the last cut with "…".
    const first = lines.findIndex((l) => /^ +1 /.test(l));
    const second = lines.findIndex((l) => /^ +2 /.test(l));
    expect(second - first).toBe(3);
    expect(col(lines[second - 1] as string, 1)).toMatch(/…$/);
    // Step 3 (failing, udev/w0): every word, over as many lines as it takes.
    const failing = lines.findIndex((l) => l.startsWith("✗"));
    const text = lines
      .slice(failing)
      .map((l) => col(l, 2))
      .join(" ");
    expect(text).toBe(`${long} → EBUSY`);
  });
});
