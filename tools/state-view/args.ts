// The state-view tools' shared arguments: `FILE.yaml | --boot-race N` first, then the rest, and
// the view names they take (the measurement-only "untimed" included).

import { readFileSync } from "node:fs";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { MEASUREMENT_VIEWS, type StateView } from "../../src/explore/state-view.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

/**
 * The scenario named by `args` (a file, or `--boot-race N`) and the arguments after it; with
 * none, prints `usage` and exits 2.
 */
export function scenarioArgs(args: string[], usage: string): { sc: ScenarioDoc; rest: string[] } {
  if (args[0] === "--boot-race")
    return { sc: bootRaceScenario(Number(args[1])), rest: args.slice(2) };
  const f = args[0];
  if (f === undefined) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  const p = parseScenario(readFileSync(f, "utf8"), f);
  if (!p.ok) throw new Error(`${f} does not parse`);
  return { sc: p.scenario, rest: args.slice(1) };
}

/** `v` as a view, or an error naming `what` and the views there are. */
export function viewArg(v: string, what = "VIEW"): StateView {
  if (!MEASUREMENT_VIEWS.includes(v as StateView))
    throw new Error(`${what} is one of ${MEASUREMENT_VIEWS.join(", ")}, got "${v}"`);
  return v as StateView;
}
