// `ifsim-hv VERB …`: the hypervisor actions a script asks for, parsed once for every session
// (the model's and the qemu guest's), so both answer a bad command line with the same words.

import { durationMs, RunError } from "../scenario/run.ts";

/** `ifsim-hv`'s usage text. */
export const HV_USAGE = `Usage: ifsim-hv plug ID | unplug ID | set-link ID up|down | sleep DURATION | settle
  plug ID        QMP device_add of the machine's device ID (a failover primary may stay hidden)
  unplug ID      QMP device_del of device ID
  set-link ID up|down
                 QMP set_link: the NIC's backend link goes up or down
  sleep DURATION let virtual time pass (500ms, 2s, or milliseconds)
  settle         run until every actor is idle (every call already ends so)
`;

/** One parsed `ifsim-hv` action. */
export type HvAction =
  | { readonly verb: "plug" | "unplug"; readonly id: string }
  | { readonly verb: "set-link"; readonly id: string; readonly up: boolean }
  | { readonly verb: "sleep"; readonly ms: number }
  | { readonly verb: "settle" };

/** What a call prints and its exit status (the shape of an IpResult). */
export interface HvOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
  readonly chunks: { fd: 1 | 2; text: string }[];
}

/** The answer of a session to a call: stdout, stderr, their writes in order, the status. */
export function hvOutput(stdout: string, stderr: string, status: number): HvOutput {
  const chunks: HvOutput["chunks"] = [];
  if (stdout) chunks.push({ fd: 1, text: stdout });
  if (stderr) chunks.push({ fd: 2, text: stderr });
  return { stdout, stderr, status, chunks };
}

/** `ifsim-hv: MSG` with status 1 (the action failed). */
export function hvFail(msg: string, status = 1): HvOutput {
  return hvOutput("", `ifsim-hv: ${msg}\n`, status);
}

/**
 * Parses `ifsim-hv ARGV…`: the action, or the output to print instead (a usage error, exit 2;
 * `help`, exit 0). Device ids are not checked here: the session knows its machine.
 */
export function parseHv(argv: readonly string[]): HvAction | { readonly output: HvOutput } {
  const [verb, ...args] = argv;
  const usage = (msg: string) => ({ output: hvFail(`${msg}\n${HV_USAGE}`.trimEnd(), 2) });
  switch (verb) {
    case "plug":
    case "unplug":
      if (args.length !== 1) return usage(`${verb} needs one device id`);
      return { verb, id: args[0] as string };
    case "set-link":
    case "link":
      if (args.length !== 2 || (args[1] !== "up" && args[1] !== "down"))
        return usage(`${verb} needs a device id and up or down`);
      return { verb: "set-link", id: args[0] as string, up: args[1] === "up" };
    case "sleep": {
      if (args.length !== 1) return usage("sleep needs a duration (500ms, 2s or milliseconds)");
      const a = args[0] as string;
      const ms = /^\d+$/.test(a) ? Number(a) : durationMsOrNull(a);
      if (ms === null || !Number.isSafeInteger(ms * 1000) || ms > 86_400_000)
        return usage(`sleep needs a duration of at most a day (500ms, 2s), got "${a}"`);
      return { verb: "sleep", ms };
    }
    case "settle":
      if (args.length !== 0) return usage("settle takes no argument");
      return { verb: "settle" };
    case undefined:
      return { output: hvOutput("", HV_USAGE, 2) };
    case "help":
    case "--help":
      return { output: hvOutput(HV_USAGE, "", 0) };
    default:
      return usage(`unknown action "${verb}"`);
  }
}

function durationMsOrNull(a: string): number | null {
  try {
    return durationMs(a);
  } catch (e) {
    if (e instanceof RunError) return null;
    throw e;
  }
}
