// `ifsim explore FILE --estimate`: the expected size of the search (distinct states, transitions,
// time) of each configuration, from seeded random walks (src/explore/estimate.ts), without
// searching.

import { performance } from "node:perf_hooks";
import { estimateSize, type SizeEstimate } from "../explore/estimate.ts";
import type { MatrixPlan } from "../explore/matrix.ts";
import { UnknownKernelError } from "../kernel/index.ts";
import { RunError } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import type { ExploreArgs } from "./explore-args.ts";
import type { CliResult } from "./main.ts";
import { fitLines } from "./terminal.ts";

/** A count for people: 1 234, 56 000, 1.2e9. */
export function count(n: number): string {
  if (!Number.isFinite(n)) return "∞";
  if (n >= 1e9) return n.toExponential(1).replace("e+", "e");
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** `ifsim explore FILE --estimate [--estimate-walks N]`. */
export function estimateCommand(r: {
  readonly sc: ScenarioDoc;
  readonly a: ExploreArgs;
  readonly plan: MatrixPlan;
}): CliResult {
  const { sc, a, plan } = r;
  const cells: { kernel: string; udev: string | null; e: SizeEstimate }[] = [];
  try {
    for (const kernel of plan.kernels)
      for (const udev of plan.udevs)
        cells.push({
          kernel,
          udev,
          e: estimateSize(
            sc,
            {
              kernel,
              ...(udev !== null ? { udev } : {}),
              ...(a.seed !== undefined ? { seed: a.seed } : {}),
              invariants: plan.invariants,
              timing: plan.timing,
              ...(a.view !== undefined ? { view: a.view } : {}),
              ...(a.atomic === false ? { atomic: false } : {}),
            },
            {
              walks: a.estimateWalks,
              seed: a.walkSeed,
              maxDepth: a.maxDepth,
              symmetry: a.symmetry,
              now: () => performance.now(),
            },
          ),
        });
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return { stdout: "", stderr: `ifsim explore: ${a.file}: ${e.message}\n`, status: 2 };
    throw e;
  }
  if (a.json) {
    const out = {
      scenario: sc.name,
      file: a.file,
      estimate: { walks: a.estimateWalks, walkSeed: a.walkSeed, symmetry: a.symmetry },
      cells: cells.map((c) => ({ kernel: c.kernel, udev: c.udev, ...c.e })),
    };
    return { stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: "", status: 0 };
  }
  let s = `ifsim explore: ${sc.name} (${a.file})\n`;
  s += `  estimate from ${a.estimateWalks} random walks (walk seed ${a.walkSeed}) per configuration; nothing searched\n\n`;
  const head = [
    "kernel",
    "udev",
    "distinct",
    "transitions",
    "time",
    "seen",
    "Q1",
    "Q2",
    "interleavings",
  ];
  const rows = cells.map((c) => [
    c.kernel,
    c.udev ?? "none",
    `${c.e.lowerBound ? "≥" : "~"}${count(c.e.distinct)}`,
    `${c.e.lowerBound ? "≥" : "~"}${count(c.e.transitions)}`,
    `${c.e.lowerBound ? "≥" : "~"}${duration(c.e.timeMs)}`,
    count(c.e.seen),
    count(c.e.q1),
    count(c.e.q2),
    `~${count(c.e.interleavings)}`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] as string).length)));
  const line = (x: readonly string[]): string =>
    `${x.map((v, i) => (i < 2 ? v.padEnd(w[i] as number) : v.padStart(w[i] as number))).join("  ")}\n`;
  s += line(head);
  for (const x of rows) s += line(x);
  s += `
distinct: Chao2 estimate of the reachable states, from seen (the states the walks met), Q1 (met
by one walk only) and Q2 (by exactly two); "≥": Q1 is more than half of seen, the walks saw a
small part of the space and the figures are lower bounds (more --estimate-walks narrow them).
transitions: distinct × the mean enabled lanes (a search without reduction; DPOR fires about as
many or fewer). time: at the walks' speed (a search step costs more: measured 1-3x).
interleavings: Knuth's estimate of the complete interleavings without reduction or hashing.
`;
  const bad = cells.filter((c) => c.e.violating > 0);
  if (bad.length > 0)
    s += `${bad.length} configuration${bad.length === 1 ? "" : "s"} had violating walks: the search stops at the first violation, long before this size.\n`;
  return { stdout: fitLines(s, 120), stderr: "", status: 0 };
}
