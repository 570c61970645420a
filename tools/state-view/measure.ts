// Which parts of the explorer's state key tell apart states whose futures are equal? (issue 14,
// item 2: a declared state view.) Enumerates the reachable states of a scenario without
// reduction or symmetry (key → id, every lane from every state), computes the coarsest
// bisimulation on that graph (two states are equivalent when they enable the same lanes, break
// the same invariant, and each lane leads to equivalent states: partition refinement), and for
// every state that is not its class's first member counts the key components in which it
// differs from that member. The count of classes is what a perfect state view could reach; the
// components that differ inside classes are what a view could drop or abstract.
//
//   npx tsx tools/state-view/measure.ts FILE.yaml KERNEL [MAX-STATES]
//   npx tsx tools/state-view/measure.ts --boot-race N KERNEL [MAX-STATES]
//
// IFSIM_VIEW=coarse|exact|untimed picks the state view measured (default: the explorer's default).
//
// With MAX-STATES reached, states left unexpanded each get a class of their own (so states
// leading to them are split, never merged wrongly: the classes are then an upper bound).

import { systemFor } from "../../src/explore/explore.ts";
import { scenarioArgs, viewArg } from "./args.ts";
import { refine } from "./refine.ts";

const { sc, rest } = scenarioArgs(
  process.argv.slice(2),
  "measure.ts FILE.yaml|--boot-race N KERNEL [MAX-STATES]",
);
const kernel = rest[0] ?? "5.1";
const cap = Number(rest[1] ?? 50_000);
const viewEnv = process.env.IFSIM_VIEW;
const view = viewEnv === undefined ? undefined : viewArg(viewEnv, "IFSIM_VIEW");
const sys = systemFor(sc, { kernel, ...(view ? { view } : {}) });
const ids = new Map<string, number>();
const keys: string[] = [];
const succ: [string, number][][] = [];
const label: string[] = [];
const t0 = performance.now();
// Depth-first with a snapshot per expanded state on the stack.
function visit(): number {
  const k = sys.key(false).key;
  const known = ids.get(k);
  if (known !== undefined) return known;
  const id = keys.length;
  ids.set(k, id);
  keys.push(k);
  succ.push([]);
  const en = sys.enabled();
  const v = sys.check(en.length === 0);
  if (keys.length > cap && en.length > 0 && !v) {
    label.push(`unexpanded ${id}`);
    return id;
  }
  label.push(JSON.stringify([en, v?.invariant ?? null]));
  if (v) return id;
  const snap = sys.save();
  const out: [string, number][] = [];
  for (const [i, l] of en.entries()) {
    if (i > 0) sys.restore(snap);
    sys.fire(l);
    out.push([l, visit()]);
  }
  sys.restore(snap);
  succ[id] = out;
  return id;
}
visit();
const n = keys.length;
const unexpanded = label.filter((l) => l.startsWith("unexpanded")).length;
process.stdout.write(
  `${n} distinct states (no symmetry; ${unexpanded} left unexpanded) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
);
// Each lane into the same class: labelled steps.
const cls = refine(label, (i, c) => (succ[i] ?? []).map(([l, j]) => [l, c[j]]));
const count = new Set(cls).size;
process.stdout.write(
  `${count} bisimulation classes (${(n / count).toFixed(1)} states per class)\n`,
);

/** A key's components: each keyed resource (numbers generalised), the timers, the workers. */
function components(key: string): Map<string, string> {
  const [parts, work, linkwatch, workers, violation, times] = JSON.parse(key) as [
    [string, unknown][],
    unknown,
    Record<string, unknown>,
    unknown,
    unknown,
    Record<string, unknown> | null,
  ];
  const out = new Map<string, string>();
  for (const [r, d] of parts) out.set(`${r.replace(/\d+/g, "#")}|${r}`, JSON.stringify(d));
  out.set("kernel work queue (due times relative to now)", JSON.stringify(work));
  for (const [k, v] of Object.entries(linkwatch)) out.set(`linkwatch.${k}`, JSON.stringify(v));
  out.set("udev workers", JSON.stringify(workers));
  out.set("violation", JSON.stringify(violation));
  for (const [k, v] of Object.entries(times ?? {})) out.set(`times.${k}`, JSON.stringify(v));
  return out;
}
const first = new Map<string, number>();
const differs = new Map<string, number>();
for (let i = 0; i < n; i++) {
  const c = cls[i] as string;
  const r = first.get(c);
  if (r === undefined) {
    first.set(c, i);
    continue;
  }
  const a = components(keys[r] as string);
  const b = components(keys[i] as string);
  const hit = new Set<string>();
  for (const k of new Set([...a.keys(), ...b.keys()]))
    if (a.get(k) !== b.get(k)) hit.add(k.split("|")[0] as string);
  for (const k of hit) differs.set(k, (differs.get(k) ?? 0) + 1);
}
process.stdout.write(
  `components in which a state differs from the first state of its class (of ${n - first.size} such states):\n`,
);
for (const [k, c] of [...differs].sort((x, y) => y[1] - x[1]))
  process.stdout.write(`${String(c).padStart(8)}  ${k}\n`);
