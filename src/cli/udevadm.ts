// `ifsim udevadm info DEV` and `ifsim udevadm test-builtin net_id DEV`: what the model's udevd
// decided, printed as udevadm 252 prints it, after a scenario has run to its end.

import { UnknownKernelError } from "../kernel/index.ts";
import { formatIssue, parseScenario } from "../scenario/parse.ts";
import {
  finishRun,
  type PreparedRun,
  prepareRun,
  RunError,
  runToQuiescence,
} from "../scenario/run.ts";
import { readInput } from "./io.ts";
import type { CliResult } from "./main.ts";
import { kernelValue, seedValue } from "./option-values.ts";
import {
  noUdevFlags,
  readUdevFlags,
  takeUdevFlag,
  UDEV_FLAGS_HELP,
  withUdevFiles,
} from "./udev-flags.ts";

const UDEVADM_HELP = `Usage: ifsim udevadm FILE.yaml [--kernel V] [--seed N] [--link-dir DIR]... [--rules-dir DIR]...
                     [--netplan FILE]... info DEV | info --export-db | test-builtin net_id DEV

Runs the scenario on the model to its end (as ifsim run does), then prints what its udev
decided, in the format of systemd 252's udevadm:
  info DEV                 the device's udev database entry: P: (devpath), M: (name), R:, U:,
                           I: (ifindex) and E: lines (ID_NET_NAME_PATH/_SLOT/_ONBOARD/_MAC,
                           ID_NET_NAME, ID_NET_LINK_FILE, ID_PATH, ID_NET_DRIVER, ...);
                           a device udev never finished (a failed rename) shows only the
                           kernel's properties, as in udevadm
  info --export-db         every device's entry
  test-builtin net_id DEV  the net_id builtin's properties for the device as it is now
DEV is a name (eth0), an ifindex, or /sys/class/net/NAME.
  --kernel V   kernel profile (default: the scenario's kernel)
  --seed N     seed (default: the scenario's seed:, else 1)
${UDEV_FLAGS_HELP}The model prints no USEC_INITIALIZED and none of the hwdb's vendor properties (ID_VENDOR_FROM_DATABASE, ...).
Exit status: 0 printed, 2 bad file, usage or unknown device.
`;

/** The sysfs number at the end of a name ("eth10" → "10"), as udev's sysnum. */
function sysnum(name: string): string | null {
  return /([0-9]+)$/.exec(name)?.[1] ?? null;
}

/** One device's `udevadm info` block. */
function infoBlock(p: PreparedRun, ifindex: number): string | null {
  const dev = p.k.state.devices.get(ifindex);
  if (dev?.regState !== "REGISTERED") return null;
  const devpath = dev.parent
    ? `${dev.parent.devpath}/net/${dev.name}`
    : `/devices/virtual/net/${dev.name}`;
  const kernelProps: Record<string, string> = {
    DEVPATH: devpath,
    SUBSYSTEM: "net",
    INTERFACE: dev.name,
    IFINDEX: String(ifindex),
  };
  const entry = p.udev?.entries?.().find((e) => e.ifindex === ifindex);
  const props = { ...kernelProps };
  if (entry) {
    for (const [k, v] of Object.entries(entry.properties))
      if (!["ACTION", "INTERFACE_OLD", "DEVPATH", "INTERFACE", "IFINDEX", "SUBSYSTEM"].includes(k))
        props[k] = v;
  }
  const n = sysnum(dev.name);
  let s = `P: ${devpath}\nM: ${dev.name}\n`;
  if (n !== null) s += `R: ${n}\n`;
  s += `U: net\nI: ${ifindex}\n`;
  for (const [k, v] of Object.entries(props)) s += `E: ${k}=${v}\n`;
  return s;
}

function findDevice(p: PreparedRun, arg: string): number | null {
  const name = arg.startsWith("/sys/class/net/") ? arg.slice("/sys/class/net/".length) : arg;
  for (const d of p.k.state.devices.values())
    if (d.regState === "REGISTERED" && (d.name === name || String(d.ifindex) === name))
      return d.ifindex;
  return null;
}

/** `ifsim udevadm …`. */
export function udevadmCommand(argv: readonly string[]): CliResult {
  const usage = (msg: string): CliResult => ({
    stdout: "",
    stderr: `ifsim udevadm: ${msg}\n`,
    status: 2,
  });
  const flags = noUdevFlags();
  const words: string[] = [];
  let kernel: string | undefined;
  let seed: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return { stdout: UDEVADM_HELP, stderr: "", status: 0 };
    const took = takeUdevFlag(argv, i, flags);
    if (took !== null && typeof took === "object") return usage(took.error);
    if (took !== null) {
      i = took;
      continue;
    }
    if (a === "--kernel") {
      const v = kernelValue(argv[++i]);
      if (typeof v === "object") return usage(v.error);
      kernel = v;
    } else if (a === "--seed") {
      const v = seedValue(argv[++i]);
      if (typeof v === "object") return usage(v.error);
      seed = v;
    } else if (a === "--export-db") words.push(a);
    else if (a.startsWith("-")) return usage(`unknown option "${a}" (see ifsim udevadm --help)`);
    else words.push(a);
  }
  const [file, verb, ...rest] = words;
  if (file === undefined || verb === undefined)
    return usage("give a scenario file and info DEV or test-builtin net_id DEV (see --help)");
  const wantInfo = verb === "info" && rest.length === 1;
  const wantNetId = verb === "test-builtin" && rest[0] === "net_id" && rest.length === 2;
  if (!wantInfo && !wantNetId)
    return usage(
      `unknown request "${[verb, ...rest].join(" ")}": info DEV, info --export-db or test-builtin net_id DEV`,
    );
  const input = readInput(file);
  if ("error" in input) return usage(input.error);
  const parsed = parseScenario(input.text, file);
  if (!parsed.ok)
    return { stdout: "", stderr: `${parsed.issues.map(formatIssue).join("\n")}\n`, status: 2 };
  const extra = readUdevFlags(flags);
  if ("error" in extra) return usage(extra.error);
  const sc = withUdevFiles(parsed.scenario, extra.files);
  if ("error" in sc) return usage(`${file}: ${sc.error}`);
  if (sc.udev === undefined || sc.udev === "none")
    return usage(`${file}: the scenario has no udev: actor (add udev: {} or give --link-dir)`);
  let p: PreparedRun;
  try {
    p = prepareRun(sc, {
      ...(kernel !== undefined ? { kernel } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });
    runToQuiescence(p);
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return usage(`${file}: ${e.message}`);
    throw e;
  }
  const config = (finishRun(p).udevConfig ?? []).map((l) => `udev config: ${l}\n`).join("");
  if (wantInfo && rest[0] === "--export-db") {
    const ids = [...p.k.state.devices.keys()].sort((a, b) => a - b);
    const blocks = ids.map((i) => infoBlock(p, i)).filter((b) => b !== null);
    return { stdout: blocks.join("\n"), stderr: config, status: 0 };
  }
  const devArg = (wantInfo ? rest[0] : rest[1]) as string;
  const ifindex = findDevice(p, devArg);
  if (ifindex === null)
    return usage(`${file}: no device "${devArg}" at the end of the run (see ifsim run ${file})`);
  if (wantInfo) return { stdout: infoBlock(p, ifindex) ?? "", stderr: config, status: 0 };
  const props = p.udev?.netIdProperties?.(ifindex) ?? null;
  if (props === null) return usage(`${file}: the udev actor has no net_id builtin`);
  const scheme = props.ID_NET_NAMING_SCHEME ?? "";
  let out = `Using default interface naming scheme '${scheme}'.\n`;
  for (const [k, v] of Object.entries(props)) out += `${k}=${v}\n`;
  return { stdout: out, stderr: config, status: 0 };
}
