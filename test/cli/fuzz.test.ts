// The hostile corpus as tests: one seeded fuzz suite per entry point of the command line
// (scenario YAML mutants, `ip` argv, `ip -batch` files, `--machine` JSON, replay tokens, the
// commands' options), run in-process through main() with a fixed budget. Whatever the input, the
// command answers with one of its documented statuses: never an internal error (exit 70) and
// never an uncaught exception; each input's time and the heap are measured against generous
// bounds (the pass/fail does not hang on machine load). The counts are printed.
//
// Commands that drive a real kernel (`conform`, `run --backend`) are left out: they spawn
// processes and are covered by test/backends.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { encodeToken } from "../../src/cli/explore.ts";
import { type CliResult, main } from "../../src/cli/main.ts";
import { BUILTIN_MACHINES } from "../../src/machine/index.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();
const DIR = mkdtempSync(join(tmpdir(), "ifsim-fuzz-"));
const EXAMPLES = "examples/scenarios";
const SCENARIOS = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => readFileSync(join(EXAMPLES, f), "utf8"));

/** No single input may take longer than this (a generous bound: the model needs < 1 s). */
const SLOW_MS = 30_000;
/** The heap may not grow by more than this over the whole file. */
const HEAP_GROWTH = 1024 * 1024 * 1024;

interface Tally {
  inputs: number;
  internal: number;
  overTime: number;
  maxMs: number;
  statuses: Map<number, number>;
}
const tallies = new Map<string, Tally>();
const heap0 = process.memoryUsage().heapUsed;

/** Runs one input, records it, and checks the status is a documented one. */
async function run(
  suite: string,
  argv: readonly string[],
  ok: readonly number[],
): Promise<CliResult> {
  const t = tallies.get(suite) ?? {
    inputs: 0,
    internal: 0,
    overTime: 0,
    maxMs: 0,
    statuses: new Map(),
  };
  tallies.set(suite, t);
  // An output option writes only into this test's directory, never into the work tree.
  const args = argv.map((a, i) =>
    i > 0 && OUTPUT_OPTIONS.has(argv[i - 1] as string) && a !== "-" && a !== ""
      ? join(DIR, `out-${a.replace(/[^\w.-]/g, "_").slice(0, 40)}`)
      : a,
  );
  const t0 = performance.now();
  const r = await main(args);
  const ms = performance.now() - t0;
  t.inputs++;
  t.maxMs = Math.max(t.maxMs, ms);
  if (ms > SLOW_MS) t.overTime++;
  if (r.status === 70 || r.stderr.includes("internal error")) t.internal++;
  t.statuses.set(r.status, (t.statuses.get(r.status) ?? 0) + 1);
  if (r.status === 70 || !ok.includes(r.status))
    throw new Error(
      `${suite}: exit ${r.status} for ${JSON.stringify(argv).slice(0, 300)}\n${r.stderr.slice(0, 2000)}`,
    );
  return r;
}

const OUTPUT_OPTIONS = new Set(["--monitor", "--dmesg", "--export"]);

let fileN = 0;
function tmpFile(text: string, ext: string): string {
  const f = join(DIR, `in${fileN++}.${ext}`);
  writeFileSync(f, text);
  return f;
}

/** Values an attacker would try in any field. */
const HOSTILE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    9e12,
    1e300,
    -1,
    2 ** 53,
    0.5,
    Number.MAX_SAFE_INTEGER,
    `${"9".repeat(400)}s`,
    "9000000000000ms",
    "[z-a]*",
    "(a+)+$",
    "*a*a*a*a*a*a*a*a*a*a*a*a*b",
    "\u001b[31mred\u001b[0m",
    "a\nb: injected",
    "",
    "eth0",
    "%d",
    "../../etc/passwd",
    null,
    true,
    [],
    {},
    "none",
    "6.1",
    "v256",
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
);

/** A random edit of a scenario document: a field replaced, removed or added, or a list grown. */
function mutate(doc: unknown, path: number[], value: unknown, op: number): unknown {
  if (doc === null || typeof doc !== "object") return value;
  const keys = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  if (keys.length === 0 || path.length === 0) {
    if (op === 0 && Array.isArray(doc)) return [...doc, value];
    if (op === 1 && !Array.isArray(doc)) return { ...doc, [String(value).slice(0, 12)]: value };
    return value;
  }
  const k = keys[(path[0] as number) % keys.length] as string | number;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string | number, unknown>;
  if (op === 2 && path.length === 1) {
    if (Array.isArray(copy)) (copy as unknown[]).splice(k as number, 1);
    else delete copy[k];
    return copy;
  }
  if (op === 3 && path.length === 1 && Array.isArray(doc)) {
    // A list grown many times over: many devices, steps or expectations.
    return Array.from({ length: 40 }, (_, i) => doc[i % doc.length]);
  }
  copy[k] = mutate(copy[k], path.slice(1), value, op);
  return copy;
}

describe(`fuzz: scenario YAML mutants (seed ${SEED})`, () => {
  it("should answer every mutant with 0, 1 or 2 and a positioned error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SCENARIOS.length - 1),
        fc.array(fc.nat(50), { minLength: 0, maxLength: 4 }),
        HOSTILE,
        fc.nat(3),
        fc.boolean(),
        async (i, path, value, op, raw) => {
          const text = SCENARIOS[i] as string;
          let mutant: string;
          if (raw) {
            // A textual mutant: a slice of the file cut out or duplicated.
            const a = ((path[0] ?? 0) * 37) % text.length;
            const b = Math.min(text.length, a + (path[1] ?? 5) * 3);
            mutant = op % 2 ? text.slice(0, a) + text.slice(b) : text.slice(0, b) + text.slice(a);
          } else mutant = stringify(mutate(parse(text), path, value, op));
          const r = await run("scenario", ["run", tmpFile(mutant, "yaml")], [0, 1, 2]);
          if (r.status === 2) expect(r.stderr).toMatch(/^(ifsim run: |\S+\.yaml(:\d+:\d+)?: )/);
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
  });
});

const IP_WORDS = [
  "link",
  "show",
  "set",
  "add",
  "del",
  "delete",
  "dev",
  "name",
  "up",
  "down",
  "mtu",
  "address",
  "type",
  "veth",
  "ifb",
  "peer",
  "group",
  "nosuchgroup",
  "0",
  "default",
  "master",
  "nomaster",
  "txqueuelen",
  "broadcast",
  "index",
  "numtxqueues",
  "property",
  "altname",
  "lo",
  "eth0",
  "veth0",
  "%d",
  "x%dy%d",
  "",
  "-j",
  "-d",
  "-br",
  "-o",
  "-s",
  "-r",
  "-c",
  "-force",
  "-batch",
  "-n",
  "-netns",
  "--",
  "help",
  "4294967296",
  "-1",
  "99999999999999999999",
  "ff:ff:ff:ff:ff:ff",
  "a".repeat(16),
  "a\u001bb",
  "\u00ff\u00fe",
  "route",
  "addr",
  "--kernel",
  "--seed",
  "--machine",
  "failover-vm",
  "6.1",
  "--monitor",
  "-",
  "--dmesg",
  "--uek-takeover-delay",
];

describe(`fuzz: ip argv (seed ${SEED})`, () => {
  it("should answer every argv with ip's statuses (0, 1, 2, 255) or a usage error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.constantFrom(...IP_WORDS) },
            fc.string({ maxLength: 8 }),
          ),
          {
            maxLength: 10,
          },
        ),
        async (argv) => {
          await run("ip argv", ["ip", ...argv], [0, 1, 2, 255]);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe(`fuzz: ip -batch files (seed ${SEED})`, () => {
  it("should answer every batch file with ip's statuses", async () => {
    const line = fc.oneof(
      fc
        .array(fc.constantFrom(...IP_WORDS.filter((w) => !w.startsWith("--") && w !== "-batch")), {
          maxLength: 8,
        })
        .map((ws) => ws.join(" ")),
      fc.constantFrom(
        "#ifsim: plug vf0",
        "#ifsim: sleep 99999999999999",
        "#ifsim: xmit eth0 99999999999",
        "#ifsim: settle",
        "#ifsim: frob",
        '"unterminated',
        "link add a%d type veth",
      ),
      fc.string({ maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        async (lines, force, machine) => {
          const f = tmpFile(`${lines.join("\n")}\n`, "batch");
          await run(
            "ip batch",
            [
              "ip",
              ...(machine ? ["--machine", "failover-vm"] : []),
              ...(force ? ["-force"] : []),
              "-batch",
              f,
            ],
            [0, 1, 2, 255],
          );
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe(`fuzz: --machine JSON (seed ${SEED})`, () => {
  const bases = Object.values(BUILTIN_MACHINES).map(
    (m) => JSON.parse(JSON.stringify(m)) as unknown,
  );
  it("should refuse a bad machine file with a usage error, never crash", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(bases.length - 1),
        fc.array(fc.nat(40), { maxLength: 4 }),
        HOSTILE,
        fc.nat(3),
        fc.boolean(),
        async (i, path, value, op, truncate) => {
          let text = JSON.stringify(mutate(bases[i], path, value, op));
          if (truncate) text = text.slice(0, (path[0] ?? 1) * 7);
          await run(
            "machine json",
            ["ip", "--machine", tmpFile(text, "json"), "link", "show"],
            [0, 2],
          );
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe(`fuzz: replay tokens (seed ${SEED})`, () => {
  const lanes = [
    "kernel",
    "udev/w0",
    "udev/w1",
    "networkd",
    "cloud-init",
    "qemu",
    "script",
    "frob",
  ];
  it("should refuse a damaged or hostile token with a usage error, never crash", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SCENARIOS.length - 1),
        fc.record({
          file: fc.oneof(
            fc.constant("s.yaml"),
            fc.constantFrom("x\nkernel: injected", "\u001b]0;title\u0007"),
            fc.string(),
          ),
          kernel: fc.option(fc.constantFrom("5.0", "6.1", "6.18", "3.10", "", "x".repeat(40))),
          udev: fc.option(fc.constantFrom("v256", "v253", "legacy", "nosuch", "")),
          seed: fc.option(fc.oneof(fc.nat(), fc.constant(2 ** 60))),
          choices: fc.array(fc.constantFrom(...lanes), { maxLength: 30 }),
        }),
        fc.nat(6),
        fc.nat(1000),
        fc.boolean(),
        async (i, p, how, at, exportIt) => {
          const config: Record<string, unknown> = {};
          if (p.kernel !== null) config.kernel = p.kernel;
          if (p.udev !== null) config.udev = p.udev;
          if (p.seed !== null) config.seed = p.seed;
          let token = encodeToken({
            v: 1,
            file: p.file,
            scenario: SCENARIOS[i] as string,
            config: config as never,
            choices: p.choices,
          });
          // Raw damage: a character changed, the token cut, or bytes appended.
          const k = 7 + (at % Math.max(1, token.length - 7));
          if (how === 1)
            token = `${token.slice(0, k)}${token[k] === "A" ? "B" : "A"}${token.slice(k + 1)}`;
          else if (how === 2) token = token.slice(0, k);
          else if (how === 3) token = `${token}AAAA`;
          const out = join(DIR, `export${fileN++}.yaml`);
          await run("token", ["replay", token, ...(exportIt ? ["--export", out] : [])], [0, 1, 2]);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

const OPTIONS: Readonly<Record<string, readonly string[]>> = {
  run: [
    "--kernel",
    "--seed",
    "--json",
    "--monitor",
    "--help",
    "-h",
    "--frob",
    "6.1",
    "5.0",
    "99999999999999999999",
    "-1",
    "x",
  ],
  explore: [
    "--kernel",
    "--udev",
    "--invariants",
    "--timing",
    "--atomic",
    "--reduction",
    "--no-symmetry",
    "--no-hashing",
    "--max-depth",
    "--max-states",
    "--time-limit",
    "--probe",
    "--random",
    "--walk-seed",
    "--jobs",
    "--split-depth",
    "--json",
    "--seed",
    "--list-invariants",
    "--frob",
    "6.1",
    "5.0",
    "v256",
    "any",
    "strict",
    "on",
    "off",
    "dpor",
    "none",
    "0",
    "1",
    "3",
    "99999999999999999999",
    "-1",
    "1e9",
    "2s",
    "0.0001ms",
    "9".repeat(30),
    "unique-names",
    "expect",
    "x",
  ],
  ip: IP_WORDS,
  kernels: ["--json", "--help", "x"],
  machines: ["--json", "--help", "x"],
  schema: ["--help", "x"],
  replay: ["--json", "--export", "--help", "ifsim1.", "ifsim1.AAAA", "x"],
};

describe(`fuzz: command options (seed ${SEED})`, () => {
  it("should answer every option list with a documented status", async () => {
    const cmds = Object.keys(OPTIONS);
    const scenario = join(EXAMPLES, "06-udev-seed-race.yaml");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cmds),
        fc.array(fc.nat(60), { maxLength: 8 }),
        fc.boolean(),
        async (cmd, picks, withFile) => {
          const words = OPTIONS[cmd] as readonly string[];
          const argv = picks.map((p) => words[p % words.length] as string);
          const file = withFile && (cmd === "run" || cmd === "explore") ? [scenario] : [];
          // Bounded work whatever the options: these come last, so they win.
          const bound =
            cmd === "explore"
              ? ["--max-states", "40", "--probe", "2", "--time-limit", "5s", "--jobs", "1"]
              : [];
          await run("options", [cmd, ...file, ...argv, ...bound], [0, 1, 2, 3, 255]);
        },
      ),
      { seed: SEED, numRuns: 800 },
    );
  });
});

afterAll(() => {
  let total = 0;
  const lines = [...tallies].map(([suite, t]) => {
    total += t.inputs;
    const st = [...t.statuses]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(" ");
    return `  ${suite.padEnd(14)} ${String(t.inputs).padStart(5)} inputs, internal errors ${t.internal}, over ${SLOW_MS / 1000} s ${t.overTime}, slowest ${Math.round(t.maxMs)} ms, statuses ${st}`;
  });
  const growth = process.memoryUsage().heapUsed - heap0;
  console.log(
    `fuzz (seed ${SEED}): ${total} inputs\n${lines.join("\n")}\n  heap growth ${Math.round(growth / 1e6)} MB`,
  );
  expect(growth).toBeLessThan(HEAP_GROWTH);
  for (const t of tallies.values()) {
    expect(t.internal).toBe(0);
    expect(t.overTime).toBe(0);
  }
});
