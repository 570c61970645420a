// `ifsim machines` and machine loading for `--machine NAME|FILE.json`.

import { BUILTIN_MACHINES, type MachineSpec, validateMachineSpec } from "../machine/index.ts";
import { readInput } from "./io.ts";
import type { CliResult } from "./main.ts";

const MODULES = new Set(["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"]);
const MODELS = new Set(["virtio-net", "e1000e", "igbvf", "ixgbevf", "iavf", "pcie-root-port"]);
const DEVICE_KEYS: Readonly<Record<string, string>> = {
  addr: "string",
  model: "string",
  id: "string",
  mac: "string",
  standby: "boolean",
  failoverPairId: "string",
  link: "boolean",
  linkUpDelayMs: "number",
  maxMtu: "number",
  secondaryBus: "number",
  atBoot: "boolean",
};

/** Checks the shape of a machine JSON document; returns the first problem or null. */
export function machineShapeError(doc: unknown): string | null {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return "the document must be a JSON object";
  const d = doc as Record<string, unknown>;
  for (const key of ["name", "description", "defaultQdisc"]) {
    if (typeof d[key] !== "string") return `"${key}" must be a string`;
  }
  if (!Number.isSafeInteger(d.cpus) || (d.cpus as number) < 1)
    return `"cpus" must be a positive integer`;
  if (!Array.isArray(d.modules)) return `"modules" must be an array`;
  for (const [i, m] of d.modules.entries()) {
    if (typeof m !== "string" || !MODULES.has(m))
      return `modules[${i}]: unknown module ${JSON.stringify(m)} (known: ${[...MODULES].join(", ")})`;
  }
  if (!Array.isArray(d.devices)) return `"devices" must be an array`;
  for (const [i, dev] of d.devices.entries()) {
    if (typeof dev !== "object" || dev === null) return `devices[${i}] must be an object`;
    for (const [k, v] of Object.entries(dev)) {
      const t = DEVICE_KEYS[k];
      if (!t)
        return `devices[${i}]: unknown key "${k}" (known: ${Object.keys(DEVICE_KEYS).join(", ")})`;
      if (typeof v !== t) return `devices[${i}].${k} must be a ${t}`;
    }
    const dv = dev as Record<string, unknown>;
    if (typeof dv.addr !== "string" || typeof dv.model !== "string")
      return `devices[${i}] needs "addr" and "model"`;
    if (!MODELS.has(dv.model))
      return `devices[${i}].model: unknown model "${dv.model}" (known: ${[...MODELS].join(", ")})`;
  }
  return null;
}

/** Resolves `--machine`: a built-in name or a JSON file. Returns the spec or an error text. */
export function loadMachine(arg: string): MachineSpec | { error: string } {
  const builtin = BUILTIN_MACHINES[arg];
  if (builtin) return builtin;
  if (!arg.endsWith(".json")) {
    return {
      error: `unknown machine "${arg}": built-ins are ${Object.keys(BUILTIN_MACHINES).join(", ")} (or give a FILE.json)`,
    };
  }
  const input = readInput(arg);
  if ("error" in input)
    return { error: input.error.replace(/^cannot read /, "cannot read machine file ") };
  let doc: unknown;
  try {
    doc = JSON.parse(input.text);
  } catch (e) {
    return { error: `cannot read machine file "${arg}": ${(e as Error).message}` };
  }
  if (Array.isArray(doc))
    return {
      error: `machine file "${arg}" holds a list (the output of ifsim machines --json): give one machine, e.g. ifsim machines ${Object.keys(BUILTIN_MACHINES)[0]} --json > ${arg}`,
    };
  const shape = machineShapeError(doc);
  if (shape) return { error: `machine file "${arg}": ${shape}` };
  const spec = doc as MachineSpec;
  const problem = validateMachineSpec(spec);
  if (problem) return { error: `machine file "${arg}": ${problem}` };
  return spec;
}

const MACHINES_HELP = `Usage: ifsim machines [NAME] [--json]
Lists the built-in machines that ifsim ip --machine boots (all, or the one named NAME).
  --json   as JSON: a list, or with NAME one machine, which --machine FILE.json reads back
           (ifsim machines failover-vm --json > m.json; edit it; ifsim ip --machine m.json …)
`;

/** `ifsim machines [NAME] [--json]`. */
export function machinesCommand(argv: readonly string[]): CliResult {
  if (argv.includes("--help") || argv.includes("-h"))
    return { stdout: MACHINES_HELP, stderr: "", status: 0 };
  const json = argv.includes("--json") || argv.includes("-j");
  const bad = argv.find((a) => a.startsWith("-") && a !== "--json" && a !== "-j");
  if (bad !== undefined)
    return {
      stdout: "",
      stderr: `ifsim machines: unknown option "${bad}" (see ifsim machines --help)\n`,
      status: 2,
    };
  const names = argv.filter((a) => !a.startsWith("-"));
  if (names.length > 1)
    return { stdout: "", stderr: "ifsim machines: give at most one machine name\n", status: 2 };
  const name = names[0];
  if (name !== undefined && !BUILTIN_MACHINES[name])
    return {
      stdout: "",
      stderr: `ifsim machines: unknown machine "${name}": built-ins are ${Object.keys(BUILTIN_MACHINES).join(", ")}\n`,
      status: 2,
    };
  const specs =
    name !== undefined ? [BUILTIN_MACHINES[name] as MachineSpec] : Object.values(BUILTIN_MACHINES);
  if (json)
    return {
      stdout: `${JSON.stringify(name !== undefined ? specs[0] : specs, null, 2)}\n`,
      stderr: "",
      status: 0,
    };
  let out = "";
  for (const m of specs) {
    out += `${m.name}\n  ${m.description}\n  modules: ${m.modules.join(" ")}; default_qdisc ${m.defaultQdisc}\n`;
    for (const d of m.devices) {
      const extra = [
        d.id ? `id=${d.id}` : "",
        d.mac ? `mac=${d.mac}` : "",
        d.standby ? "failover=on" : "",
        d.failoverPairId ? `failover_pair_id=${d.failoverPairId}` : "",
        d.secondaryBus !== undefined ? `bus ${d.secondaryBus} behind it` : "",
      ].filter(Boolean);
      out += `    ${d.addr} ${d.model} ${extra.join(" ")}\n`;
    }
  }
  return { stdout: out, stderr: "", status: 0 };
}
