// The state view's self-test from the command line (src/explore/view-self-test.ts): random walks
// collect pairs of states with equal keys but different concrete states (absolute clock,
// timers), runs the same random continuations from both, and prints every pair whose futures
// differ (enabled lanes, invariant verdict, key or footprint of a step). Exit 1 when one does.
//
//   npx tsx tools/state-view/self-test.ts FILE.yaml|--boot-race N KERNEL [VIEW] [WALKS] [SEED]
//
// VIEW is coarse, exact, untimed or free (free timing, `--timing free`; default: the
// explorer's default); WALKS default 200, SEED 1.

import { systemFor } from "../../src/explore/explore.ts";
import { DEFAULT_VIEW } from "../../src/explore/state-view.ts";
import { selfTestView } from "../../src/explore/view-self-test.ts";
import { scenarioArgs, viewArg } from "./args.ts";

const { sc, rest } = scenarioArgs(
  process.argv.slice(2),
  "self-test.ts FILE.yaml|--boot-race N KERNEL [VIEW] [WALKS] [SEED]",
);
const kernel = rest[0] ?? sc.kernel ?? "6.1";
const view = viewArg(rest[1] ?? DEFAULT_VIEW);
const walks = Number(rest[2] ?? 200);
const seed = Number(rest[3] ?? 1);
// "free" is free timing (`--timing free`), whose view it is.
const r = selfTestView(
  systemFor(sc, view === "free" ? { kernel, timing: "free" } : { kernel, view }),
  {
    walks,
    seed,
    pairs: 1000,
    continuations: 4,
    depth: 60,
  },
);
process.stdout.write(
  `view ${view}, kernel ${kernel}: ${r.visited} states visited by ${walks} walks, ${r.keys} keys; ${r.pairsFound} equal-key pairs with different concrete states, ${r.pairsChecked} checked (${r.steps} continuation steps compared); ${r.mismatches.length} with different futures\n`,
);
const kinds = new Map<string, number>();
for (const m of r.mismatches) kinds.set(m.what, (kinds.get(m.what) ?? 0) + 1);
if (kinds.size > 0)
  process.stdout.write(
    `  by what differs first: ${[...kinds].map(([w, n]) => `${w} ${n}`).join(", ")}\n`,
  );
for (const m of r.mismatches.slice(0, 5))
  process.stdout.write(
    `  ${m.what} differs after [${m.continuation.join(" ")}]\n    from [${m.a.join(" ")}]\n    and  [${m.b.join(" ")}]\n`,
  );
process.exit(r.mismatches.length > 0 ? 1 : 0);
