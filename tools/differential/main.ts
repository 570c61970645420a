// `npm run differential -- [--count N] [--seed S] [--jobs J] [--shrink N] [--out DIR]`:
// seeded adversarial `ip -batch` files, each run on the model and on the host kernel in a fresh
// network namespace; prints agree/disagree counts by class and the minimal reproducers.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { netnsUnavailableReason } from "../../src/backends/netns.ts";
import { type Case, generateCase } from "./generate.ts";
import { compare, normalise, type Outcome, runModel, runReal, timingOnly } from "./run.ts";
import { classify, shrinkCase } from "./shrink.ts";

/** How one case ended. */
export type Verdict =
  | { kind: "agree" }
  | { kind: "timing" }
  | { kind: "out-of-scope"; why: string }
  | { kind: "disagree"; fields: (keyof Outcome)[]; model: Outcome; real: Outcome };

/** Whether the model said it does not model something this case uses. */
export function outOfScope(model: Outcome): string | null {
  const m = /ifsim(?: ip)?: ([^\n]*not model[^\n]*)/.exec(model.stderr);
  return m ? (m[1] as string) : null;
}

/** Runs one case on both sides and judges it. */
export async function judge(c: Case): Promise<Verdict> {
  const model = runModel(c);
  const why = outOfScope(model);
  if (why !== null) return { kind: "out-of-scope", why };
  const real = await runReal(c, model);
  const fields = compare(model, real);
  if (fields.length === 0) return { kind: "agree" };
  if (timingOnly(model, real, fields)) return { kind: "timing" };
  return { kind: "disagree", fields, model, real };
}

/** Shrinks a disagreeing case to a minimal one that disagrees in the same fields. */
export async function minimise(c: Case, fields: readonly string[]): Promise<Case> {
  const key = fields.join("+");
  return shrinkCase(c, async (cand) => {
    const v = await judge(cand);
    return v.kind === "disagree" && v.fields.join("+") === key;
  });
}

/** Reads a corpus batch: a first line `# global: OPTS` gives the global options. */
export function readCase(text: string): Case {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const m = /^# global:(.*)$/.exec(lines[0] ?? "");
  const global = m ? (m[1] as string).trim().split(/\s+/).filter(Boolean) : [];
  return { global, lines };
}

/** The corpus form of a case (see readCase). */
export function caseText(c: Case): string {
  const head = c.lines[0]?.startsWith("# global:") ? [] : [`# global: ${c.global.join(" ")}`];
  return `${[...head, ...c.lines].join("\n")}\n`;
}

interface Options {
  cases: string[];
  count: number;
  seed: number;
  jobs: number;
  shrink: number;
  out: string | null;
}

function parse(argv: string[]): Options {
  const o: Options = {
    cases: [],
    count: 1000,
    seed: Date.now() % 0x1_0000_0000,
    jobs: 6,
    shrink: 5,
    out: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = (): number => {
      if (v === undefined || !/^\d+$/.test(v)) throw new RangeError(`${a} needs an integer`);
      i++;
      return Number(v);
    };
    if (a === "--count") o.count = num();
    else if (a === "--seed") o.seed = num();
    else if (a === "--jobs") o.jobs = Math.max(1, num());
    else if (a === "--shrink") o.shrink = num();
    else if (a === "--case") {
      if (v === undefined) throw new RangeError("--case needs a batch file");
      o.cases.push(v);
      i++;
    } else if (a === "--out") {
      if (v === undefined) throw new RangeError("--out needs a directory");
      o.out = v;
      i++;
    } else throw new RangeError(`unknown option "${a}"`);
  }
  return o;
}

function show(c: Case): string {
  return `  ip ${c.global.length ? `${c.global.join(" ")} ` : ""}-force -batch FILE, FILE:\n${c.lines.map((l) => `    ${l}`).join("\n")}`;
}

function firstDiff(a: string, b: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i])
      return `line ${i + 1}: model ${JSON.stringify(al[i] ?? null)} kernel ${JSON.stringify(bl[i] ?? null)}`;
  }
  return "";
}

/** The first difference in each differing field, after normalising MACs. */
export function describe(
  model: Outcome,
  real: Outcome,
  fields: readonly (keyof Outcome)[],
): string {
  const m = normalise(model);
  const r = normalise(real);
  const out: string[] = [];
  for (const f of fields) {
    if (f === "status") out.push(`status: model ${m.status} kernel ${r.status}`);
    else if (f === "links") out.push(`links: ${linksDiff(m.links, r.links)}`);
    else out.push(`${f} ${firstDiff(m[f], r[f])}`);
  }
  return out.join("\n  ");
}

function linksDiff(a: string, b: string): string {
  let la: Record<string, unknown>[];
  let lb: Record<string, unknown>[];
  try {
    la = JSON.parse(a);
    lb = JSON.parse(b);
  } catch {
    return firstDiff(a, b);
  }
  const diffs: string[] = [];
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    const x = la[i] ?? {};
    const y = lb[i] ?? {};
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const vx = JSON.stringify(x[key]);
      const vy = JSON.stringify(y[key]);
      if (vx !== vy) diffs.push(`#${i} ${key}: model ${vx} kernel ${vy}`);
    }
  }
  return diffs.slice(0, 6).join("; ");
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const reason = netnsUnavailableReason();
  if (reason !== null) {
    process.stderr.write(`differential: cannot run against the host kernel: ${reason}\n`);
    return 2;
  }
  if (o.cases.length > 0) {
    let bad = 0;
    for (const f of o.cases) {
      const c = readCase(readFileSync(f, "utf8"));
      const v = await judge(c);
      process.stdout.write(`${f}: ${v.kind}\n`);
      if (v.kind === "disagree") {
        bad++;
        process.stdout.write(`  ${describe(v.model, v.real, v.fields)}\n`);
        if (process.env.DIFF_VERBOSE) {
          const m = normalise(v.model);
          const r = normalise(v.real);
          for (const f of v.fields)
            process.stdout.write(`--- ${f} model:\n${m[f]}\n--- ${f} kernel:\n${r[f]}\n`);
        }
      }
    }
    return bad === 0 ? 0 : 1;
  }
  process.stdout.write(
    `differential: ${o.count} batches, seed ${o.seed}, jobs ${o.jobs} (replay: npm run differential -- --count ${o.count} --seed ${o.seed})\n`,
  );
  const t0 = Date.now();
  const counts = { agree: 0, timing: 0, outOfScope: 0, disagree: 0 };
  const scope = new Map<string, number>();
  const pending: { seed: number; c: Case; fields: (keyof Outcome)[] }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= o.count) return;
      const seed = (o.seed + i) >>> 0;
      const c = generateCase(seed);
      const v = await judge(c);
      if (v.kind === "agree") counts.agree++;
      else if (v.kind === "timing") counts.timing++;
      else if (v.kind === "out-of-scope") {
        counts.outOfScope++;
        scope.set(v.why, (scope.get(v.why) ?? 0) + 1);
      } else {
        counts.disagree++;
        pending.push({ seed, c, fields: v.fields });
      }
      const done = counts.agree + counts.timing + counts.outOfScope + counts.disagree;
      if (done % 100 === 0)
        process.stderr.write(`  ${done}/${o.count} (${Math.round((Date.now() - t0) / 1000)} s)\n`);
    }
  };
  await Promise.all(Array.from({ length: o.jobs }, worker));
  const runSecs = (Date.now() - t0) / 1000;

  // Shrink: every disagreement is grouped by the fields it differs in and its first differing
  // line; up to --shrink cases per group are shrunk and classed by their minimal batch.
  pending.sort((a, b) => a.seed - b.seed);
  const byClass = new Map<string, { n: number; min: Case; seed: number; detail: string }>();
  const shrunkPerGroup = new Map<string, number>();
  const unshrunk = new Map<string, number>();
  let si = 0;
  const shrinker = async (): Promise<void> => {
    for (;;) {
      const p = pending[si++];
      if (!p) return;
      const group = p.fields.join("+");
      const done = shrunkPerGroup.get(group) ?? 0;
      if (done >= o.shrink) {
        unshrunk.set(group, (unshrunk.get(group) ?? 0) + 1);
        continue;
      }
      shrunkPerGroup.set(group, done + 1);
      const min = await minimise(p.c, p.fields);
      const v = await judge(min);
      let detail = "";
      if (v.kind === "disagree") detail = describe(v.model, v.real, v.fields);
      const cls = classify(min, p.fields);
      const e = byClass.get(cls);
      if (e) e.n++;
      else byClass.set(cls, { n: 1, min, seed: p.seed, detail });
    }
  };
  await Promise.all(Array.from({ length: o.jobs }, shrinker));
  const secs = (Date.now() - t0) / 1000;

  const out = process.stdout;
  out.write(
    `\nagree ${counts.agree}, linkwatch timing only ${counts.timing}, out of scope ${counts.outOfScope}, disagree ${counts.disagree}\n`,
  );
  out.write(
    `time: ${runSecs.toFixed(0)} s for ${o.count} batches (${((runSecs * 1000) / o.count).toFixed(0)} s per 1000), ${secs.toFixed(0)} s with shrinking\n`,
  );
  if (scope.size > 0) {
    out.write("\nout of scope:\n");
    for (const [why, n] of [...scope].sort((a, b) => b[1] - a[1])) out.write(`  ${n}  ${why}\n`);
  }
  if (byClass.size > 0) {
    out.write("\ndisagreements by class (shrunk):\n");
    const sorted = [...byClass].sort((a, b) => b[1].n - a[1].n);
    for (const [cls, e] of sorted) {
      out.write(`\n${e.n}  ${cls}  (seed ${e.seed})\n${show(e.min)}\n  ${e.detail}\n`);
    }
  }
  if (unshrunk.size > 0) {
    out.write("\nnot shrunk (over --shrink per field group):\n");
    for (const [g, n] of unshrunk) out.write(`  ${n}  ${g}\n`);
  }
  if (o.out !== null) {
    mkdirSync(o.out, { recursive: true });
    let i = 0;
    for (const [, e] of byClass) {
      writeFileSync(join(o.out, `min-${e.seed}-${i++}.batch`), caseText(e.min));
    }
  }
  return counts.disagree === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`differential: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
