// `ifsim kernels`: the supported kernel version profiles.

import { describeKernels, profileFor, SUPPORTED_KERNELS } from "../kernel/index.ts";
import type { CliResult } from "./main.ts";

/** Lists the profiles (`--json` for a machine-readable list). */
export function kernelsCommand(argv: readonly string[]): CliResult {
  if (argv.includes("--json")) {
    const rows = SUPPORTED_KERNELS.map((v) => profileFor(v));
    return { stdout: `${JSON.stringify(rows)}\n`, stderr: "", status: 0 };
  }
  if (argv.length > 0)
    return { stdout: "", stderr: `ifsim kernels: unexpected "${argv[0]}"\n`, status: 2 };
  return { stdout: `${describeKernels().join("\n")}\n`, stderr: "", status: 0 };
}
