// `ifsim kernels`: the supported kernel version profiles.

import { describeKernels, profileFor, SUPPORTED_KERNELS } from "../kernel/index.ts";
import type { CliResult } from "./main.ts";

const KERNELS_HELP = `Usage: ifsim kernels [--json]
Lists the kernel version profiles (--kernel V): each version, its era (E0: a running device
cannot be renamed; E1: failover slaves carry IFF_LIVE_RENAME_OK; E2: any device can be renamed
while up) and what differs. --json prints every profile's fields.
`;

/** Lists the profiles (`--json` for a machine-readable list). */
export function kernelsCommand(argv: readonly string[]): CliResult {
  if (argv.includes("--help") || argv.includes("-h"))
    return { stdout: KERNELS_HELP, stderr: "", status: 0 };
  if (argv.includes("--json")) {
    const rows = SUPPORTED_KERNELS.map((v) => profileFor(v));
    return { stdout: `${JSON.stringify(rows)}\n`, stderr: "", status: 0 };
  }
  if (argv.length > 0)
    return { stdout: "", stderr: `ifsim kernels: unexpected "${argv[0]}"\n`, status: 2 };
  return { stdout: `${describeKernels().join("\n")}\n`, stderr: "", status: 0 };
}
