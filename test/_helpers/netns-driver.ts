// A small driver of the netns backend for the signal tests (test/backends/netns-signals.test.ts):
// the availability probe, then one run of the scenario given as JSON in argv[2] (with backend
// options as JSON in argv[3]), each phase announced on stderr. It is what `ifsim run --backend
// netns` does, with the phases visible, so a test can aim a signal at the probe or at setup.

import { NetnsBackend, type NetnsBackendOptions } from "../../src/backends/netns-backend.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);
const sc = JSON.parse(process.argv[2] ?? "null") as ScenarioDoc;
const opts = JSON.parse(process.argv[3] ?? "{}") as NetnsBackendOptions;

say(`phase probe pid ${process.pid}`);
const backend = new NetnsBackend(opts);
const why = backend.unavailableReason();
// No process.exit(): like the CLI, the driver sets its status and lets the event loop end, so
// that a signal that arrived meanwhile (one that also killed an `ip` of the probe, say) is
// still handled.
if (why !== null) {
  say(`unavailable: ${why}`);
  process.exitCode = 3;
} else {
  say("phase run");
  const rec = await backend.run(sc, { log: say });
  say(`phase done ${rec.steps.length} steps`);
}
