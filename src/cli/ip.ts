// `ifsim ip`: iproute2's `ip` on a fresh simulated kernel.

import { readFileSync, writeFileSync } from "node:fs";
import { IpMonitor, IpProcess, parseIpGlobalArgs } from "../ip/index.ts";
import { createKernel, type Kernel, settleWork, UnknownKernelError } from "../kernel/index.ts";
import { Rng, VirtualClock } from "../sim/index.ts";
import type { CliResult } from "./main.ts";

/** Runs every work item that falls due, advancing the virtual clock as far as needed. */
export function settleKernel(k: Kernel, clock: VirtualClock): void {
  settleWork(k, (t) => clock.advanceTo(t));
}

function usage(msg: string): CliResult {
  return { stdout: "", stderr: `ifsim ip: ${msg}\n`, status: 2 };
}

/** `ifsim ip [--kernel V] [--seed N] [--monitor OUT] IP-ARGS…`. */
export function ipCommand(argv: readonly string[]): CliResult {
  let kernel = "6.18";
  let seed = 1;
  let monitor: string | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const val = (): string | null => {
      const v = argv[i + 1];
      i++;
      return v ?? null;
    };
    if (a === "--kernel") {
      const v = val();
      if (v === null) return usage("--kernel needs a version, e.g. --kernel 6.1");
      kernel = v;
    } else if (a === "--seed") {
      const v = val();
      if (v === null || !/^\d+$/.test(v))
        return usage(`--seed needs a non-negative integer, got "${v ?? ""}"`);
      seed = Number(v);
    } else if (a === "--monitor") {
      const v = val();
      if (v === null) return usage("--monitor needs a file name (or - for stderr)");
      monitor = v;
    } else if (a === "--help") {
      return {
        stdout:
          "Usage: ifsim ip [--kernel V] [--seed N] [--monitor OUT] [ip options] OBJECT COMMAND | -batch FILE\n",
        stderr: "",
        status: 0,
      };
    } else {
      rest.push(a);
    }
  }
  if (monitor !== null && monitor !== "-") {
    // Fail before running anything rather than lose the records at the end.
    try {
      writeFileSync(monitor, "");
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? String(e);
      return usage(`cannot write the monitor records to "${monitor}": ${why}`);
    }
  }
  const clock = new VirtualClock();
  let k: Kernel;
  try {
    k = createKernel({ kernel, clock, rng: new Rng(seed) });
  } catch (e) {
    if (e instanceof UnknownKernelError) return usage(e.message);
    throw e;
  }
  const mon = new IpMonitor(k);
  const cursor = k.trace.length;
  const g = parseIpGlobalArgs(rest);
  if ("error" in g) {
    return { stdout: "", stderr: (g as { error: string }).error, status: 255 };
  }
  const proc = new IpProcess(k, { ...g.opts, settle: () => settleKernel(k, clock) });
  let r: CliResult;
  if (g.batchFile !== null) {
    let text: string;
    try {
      text = readFileSync(g.batchFile === "-" ? 0 : g.batchFile, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT"
          ? "No such file or directory"
          : code === "EACCES"
            ? "Permission denied"
            : String(e);
      return {
        stdout: "",
        stderr: `Cannot open file "${g.batchFile}" for reading: ${why}\n`,
        status: 1,
      };
    }
    r = proc.batch(text, g.batchFile);
  } else {
    r = proc.run(g.rest);
  }
  if (monitor !== null) {
    const records = mon.feed(k.trace.since(cursor));
    if (monitor === "-") {
      r = {
        ...r,
        stderr: r.stderr + records,
        chunks: [...(r.chunks ?? []), { fd: 2, text: records }],
      };
    } else writeFileSync(monitor, records);
  }
  return r;
}
