// How many of the every-N check's states are alike for it? (issue 14, item 4.) Enumerates pair 0
// of the boot race family alone, or with the environment (`env`), as the check does (free timing,
// up to a permutation of udev's workers, a state being its key and its projection), and computes
// the coarsest bisimulation of that graph where each state is labelled by the pair's projection
// and its invariant result and steps are not labelled: states in one class show the check the same
// projections along every path, so a perfect reduction for the check could keep one per class.
//
//   npx tsx tools/state-view/projection-classes.ts [KERNEL] [env] [all]   (default 5.1, the pair
//   alone, with the reduced lanes the check takes; `all`: every lane of every state)

import { bootRaceScenario } from "../../src/explore/families.ts";
import { familyOf, macOf, pairSystem, projection } from "../../src/explore/pair.ts";
import { ScenarioSystem } from "../../src/explore/scenario-system.ts";
import { refine } from "./refine.ts";

const kernel = process.argv[2] ?? "5.1";
const withEnv = process.argv.slice(3).includes("env");
const lanes = process.argv.slice(3).includes("all") ? "all" : "reduced";
const sc = familyOf(bootRaceScenario(2, { kernel }), 2);
const env = { udev: 2, linkwatch: true, linkwatchAlways: false };
const sys = pairSystem(sc, 0, { kernel }, withEnv ? env : undefined, lanes);
const mac = macOf(sc, 0);
const ids = new Map<string, number>();
const label: string[] = [];
const succ: number[][] = [];

/** Depth-first, a snapshot per expanded state; returns the state's id. */
function visit(): number {
  const p = projection(sys, mac);
  const k = `${sys.key(true).key}|${p}`;
  const known = ids.get(k);
  if (known !== undefined) return known;
  const id = label.length;
  ids.set(k, id);
  succ.push([]);
  const enabled = sys.enabled();
  // As the check: a hidden script counts as quiescent, a covering move is taken alone.
  const rest = enabled.filter(
    (l) => !ScenarioSystem.isEnvironmentMove(l) && !(sys.scriptHidden && l === "script"),
  );
  const v = sys.check(rest.length === 0);
  const en = sys.lanesToTake(enabled);
  label.push(JSON.stringify([p, v?.invariant ?? null]));
  if (v) return id;
  const snap = sys.save();
  const out: number[] = [];
  for (const [i, l] of en.entries()) {
    if (i > 0) sys.restore(snap);
    sys.fire(l);
    const also = sys.coveringMove(sys.enabled());
    if (also !== null) sys.fire(also);
    out.push(visit());
  }
  sys.restore(snap);
  succ[id] = out;
  return id;
}

visit();
// Steps unlabelled: the set of the successors' classes.
const count = new Set(
  refine(label, (i, c) => [...new Set((succ[i] ?? []).map((j) => c[j] as string))].sort()),
).size;
process.stdout.write(
  `${withEnv ? "pair 0 with the environment" : "pair 0 alone"}, Linux ${kernel}, ${lanes} lanes: ${label.length} states, ${new Set(label).size} projections, ${count} classes\n`,
);
