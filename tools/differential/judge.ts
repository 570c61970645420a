// The differential's verdict on one case: run on the model and on the host kernel, compared,
// judged (agree, linkwatch timing, out of scope, disagree), shrunk; and the corpus file form.

import type { Case } from "./generate.ts";
import { compare, normalise, type Outcome, runModel, runReal, timingOnly } from "./run.ts";
import { shrinkCase } from "./shrink.ts";

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
  if (timingOnly(c, real, fields)) return { kind: "timing" };
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

/** Where the kernel's recorded outcome of a corpus batch lives. */
export function recordedPath(batchFile: string): string {
  return batchFile.replace(/\.batch$/, ".kernel.json");
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
