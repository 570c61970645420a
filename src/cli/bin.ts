#!/usr/bin/env node
// The ifsim binary: loads only the command it runs. `ifsim --help` and `--version` load no
// command, `ifsim ip`, `kernels` and `machines` load the kernel model but not the scenario
// format (yaml, zod), the explorer or the real-kernel backends; every other command goes
// through main() (src/cli/main.ts, which is also the library's synchronous entry for tests).

import { HELP, packageVersion } from "./help.ts";
import { clean, runProcess } from "./process.ts";

/** Words of `ifsim run` that need main(): a real kernel, the terminal options, the help. */
const RUN_VIA_MAIN = /^(--backend|--colou?r(=.*)?|--progress|--help|-h)$/;

const argv = process.argv.slice(2);
const [cmd, ...rest] = argv;
if (cmd === undefined) await runProcess(() => ({ stdout: "", stderr: `${HELP}\n`, status: 2 }));
else if (cmd === "--help" || cmd === "-h" || cmd === "help")
  await runProcess(() => ({ stdout: `${HELP}\n`, stderr: "", status: 0 }));
else if (cmd === "--version" || cmd === "-V")
  await runProcess(() => ({ stdout: `ifsim ${packageVersion()}\n`, stderr: "", status: 0 }));
else if (cmd === "ip" && !rest.includes("--state")) {
  // `ip --state DIR` talks to a served session: main() (src/cli/exec.ts) has the client
  const { ipCommand } = await import("./ip.ts");
  await runProcess(() => ipCommand(rest));
} else if (cmd === "kernels") {
  const { kernelsCommand } = await import("./kernels.ts");
  await runProcess(() => kernelsCommand(rest));
} else if (cmd === "machines") {
  const { machinesCommand } = await import("./machines.ts");
  await runProcess(() => machinesCommand(rest));
} else if (cmd === "run" && rest.every((a) => !RUN_VIA_MAIN.test(a))) {
  // A scenario on the model: no explorer, no conform, no real-kernel backend to set up. The
  // terminal options (--color, --progress), --help (which lists them) and --backend go
  // through main().
  const { runCommand } = await import("./run.ts");
  await runProcess(() => clean(runCommand(rest)));
} else {
  const { main, setupProcess } = await import("./main.ts");
  await runProcess(() => main(argv), setupProcess);
}
