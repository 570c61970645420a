// Issue 14, item 4: does every pair of the N-pair boot race behave as the pair alone, on every
// reachable state (not only on random walks, as test/explore/pair-cutoff.test.ts checks)?
// Enumerates the N-pair system under free timing without reduction (every enabled lane from
// every reachable state), carrying for every pair P a system that holds P alone. After each
// transition, P's projection (test/_helpers/pairs.ts) must be unchanged, or be the projection
// after one step of P alone (which then takes that step). Where the N-pair system stops, each
// pair alone must be quiescent and violate nothing. A state is visited once per (N-pair state,
// pair-alone states) triple, so every transition of the reachable graph is checked.
//
//   npx tsx tools/cutoff/pair-simulation.ts [N] [KERNEL] [SECONDS]
//
// N default 2, KERNEL default 5.1, SECONDS default 1800. Exit 0 when every transition was
// matched and the enumeration finished, 1 on a failure, 3 when the time ran out (the counts are
// then those of a partial check).

import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import type { SystemSnapshot } from "../../src/explore/scenario-system.ts";
import { firstDiff, macOf, matchStep, pairAlone, projection } from "../../test/_helpers/pairs.ts";

const n = Number(process.argv[2] ?? 2);
const kernel = process.argv[3] ?? "5.1";
const seconds = Number(process.argv[4] ?? 1800);
if (!(Number.isInteger(n) && n >= 2) || !(seconds > 0)) {
  process.stderr.write("usage: pair-simulation.ts [N ≥ 2] [KERNEL] [SECONDS > 0]\n");
  process.exit(2);
}

const sc = bootRaceScenario(n, { kernel });
const opts = { kernel, timing: "free", atomic: false } as const;
const all = systemFor(sc, opts);
const pairs = Array.from({ length: n }, (_, i) => ({
  mac: macOf(sc, i),
  alone: systemFor(pairAlone(sc, i), opts),
}));

const t0 = performance.now();
const deadline = t0 + seconds * 1000;
const seen = new Set<string>();
let states = 0;
let transitions = 0;
let matched = 0;
let shared = 0;
let terminals = 0;
let violations = 0;
let timedOut = false;
const failures: string[] = [];
const path: string[] = [];

function keyOf(): string {
  const h = createHash("sha256").update(all.key(false).key);
  for (const q of pairs) h.update("\0").update(q.alone.key(false).key);
  return h.digest("base64");
}

/** At the N-pair system's end, each pair alone has nothing of its own left to do. */
function checkEnd(): void {
  terminals++;
  for (const [i, q] of pairs.entries()) {
    const snap = q.alone.save();
    // The script (one settle) is no pair's: it ends once every other lane is idle.
    for (let s = 0; s < 10 && q.alone.enabled().join() === "script"; s++) q.alone.fire("script");
    const left = q.alone.enabled();
    const v = q.alone.check(true);
    if (left.length > 0 || v !== null)
      failures.push(
        `pair ${i} alone at the end of ${path.join(" ")}: ${left.length > 0 ? `lanes ${left.join(",")} enabled` : `violates ${v?.invariant}`}`,
      );
    q.alone.restore(snap);
  }
}

function visit(): void {
  if (failures.length >= 5) return;
  if (performance.now() > deadline) {
    timedOut = true;
    return;
  }
  const k = keyOf();
  if (seen.has(k)) return;
  seen.add(k);
  states++;
  if (states % 20_000 === 0)
    process.stderr.write(
      `  ${states} states, ${transitions} transitions, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
    );
  const en = all.enabled();
  const v = all.check(en.length === 0);
  if (v !== null) {
    violations++;
    return;
  }
  if (en.length === 0) {
    checkEnd();
    return;
  }
  const before = pairs.map((q) => projection(all, q.mac));
  const snapAll = all.save();
  const snapAlone = pairs.map((q) => q.alone.save());
  for (const [li, lane] of en.entries()) {
    if (li > 0) {
      all.restore(snapAll);
      for (const [j, q] of pairs.entries()) q.alone.restore(snapAlone[j] as SystemSnapshot);
    }
    all.fire(lane);
    transitions++;
    path.push(lane);
    let changed = 0;
    let ok = true;
    for (const [j, q] of pairs.entries()) {
      const after = projection(all, q.mac);
      if (after === before[j]) continue;
      changed++;
      if (matchStep(q.alone, q.mac, after) === null) {
        ok = false;
        failures.push(
          `pair ${j}: no step of the pair alone matches ${lane} after ${path.join(" ")}: ${firstDiff(before[j] as string, after)}`,
        );
      } else matched++;
    }
    if (changed > 1) shared++;
    if (ok) visit();
    path.pop();
    if (timedOut || failures.length >= 5) break;
  }
  all.restore(snapAll);
  for (const [j, q] of pairs.entries()) q.alone.restore(snapAlone[j] as SystemSnapshot);
}

for (const [i, q] of pairs.entries()) {
  const a = projection(q.alone, q.mac);
  const b = projection(all, q.mac);
  if (a !== b) failures.push(`pair ${i} at the start: ${firstDiff(a, b)}`);
}
if (failures.length === 0) visit();
const secs = ((performance.now() - t0) / 1000).toFixed(1);
const verdict =
  failures.length > 0
    ? "FAILED"
    : timedOut
      ? "bounded (time ran out: partial)"
      : "every transition matched";
process.stdout.write(
  `boot race, ${n} pairs, Linux ${kernel}, free timing, no reduction: ${verdict}\n` +
    `  ${states} states (N-pair state with its pair-alone states), ${transitions} transitions, ` +
    `${matched} pair steps matched by the pair alone, ${shared} transitions that changed more ` +
    `than one pair, ${terminals} end states checked, ${violations} violating states; ${secs} s\n`,
);
for (const f of failures) process.stdout.write(`  ${f}\n`);
process.exit(failures.length > 0 ? 1 : timedOut ? 3 : 0);
