// `npm run differential -- [--count N] [--seed S] [--jobs J] [--shrink N] [--out DIR]`:
// seeded adversarial `ip -batch` files, each run on the model and on the host kernel in a fresh
// network namespace; prints agree/disagree counts by class and the minimal reproducers.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { netnsUnavailableReason } from "../../src/backends/netns.ts";
import { type Case, generateCase } from "./generate.ts";
import { caseText, describe, judge, minimise, readCase, recordedPath } from "./judge.ts";
import { normalise, type Outcome, runModel, runReal } from "./run.ts";
import { classify } from "./shrink.ts";

interface Options {
  cases: string[];
  record: boolean;
  count: number;
  seed: number;
  jobs: number;
  shrink: number;
  out: string | null;
}

function parse(argv: string[]): Options {
  const o: Options = {
    cases: [],
    record: false,
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
    else if (a === "--record") o.record = true;
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
      if (o.record) {
        const real = await runReal(c, runModel(c));
        writeFileSync(recordedPath(f), `${JSON.stringify(real, null, 2)}\n`);
      }
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
        process.stderr.write(`  disagree: seed ${seed} (${v.fields.join("+")})\n`);
      }
      const done = counts.agree + counts.timing + counts.outOfScope + counts.disagree;
      if (done % 100 === 0)
        process.stderr.write(
          `  ${done}/${o.count} (${Math.round((Date.now() - t0) / 1000)} s) agree ${counts.agree} timing ${counts.timing} out-of-scope ${counts.outOfScope} disagree ${counts.disagree}\n`,
        );
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
