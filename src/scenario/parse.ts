// Scenario files: YAML → validated scenario, or positioned errors ("file:line:col: path:
// what was expected"). Never throws on bad input.

import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { profileFor, SUPPORTED_KERNELS, UnknownKernelError } from "../kernel/index.ts";
import { compileGlob } from "../userspace/glob.ts";
import { exactVersion, selectorProblem } from "./kernel-select.ts";
import { compileLogPattern } from "./log-pattern.ts";
import {
  Bringup,
  CloudInit,
  durationStringMs,
  EXPECT_SCHEMAS,
  FIRST_AUTO_SLOT,
  LAST_SLOT,
  MAX_TOTAL_SLEEP_MS,
  Scenario,
  type ScenarioDoc,
  STEP_KINDS,
  STEP_SCHEMAS,
  Udev,
} from "./schema.ts";

/** The mapping alternative of each `"none" | mapping` section. */
const SECTION_MAPPINGS: Readonly<Record<string, z.ZodType>> = {
  udev: Udev.options[1],
  bringup: Bringup.options[1],
  cloud_init: CloudInit.options[1],
};

/** One problem in a scenario file. */
export interface ScenarioIssue {
  readonly file: string;
  /** 1-based; 0 when unknown. */
  readonly line: number;
  readonly col: number;
  /** "devices[1].mac", or "" for the whole document. */
  readonly path: string;
  readonly message: string;
}

/** The issue as one line: "file:line:col: path: message". */
export function formatIssue(i: ScenarioIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.col}` : i.file;
  return `${where}: ${i.path ? `${i.path}: ` : ""}${i.message}`;
}

/** Thrown by loaders that prefer exceptions; carries every issue. */
export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  readonly issues: readonly ScenarioIssue[];
  constructor(issues: readonly ScenarioIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.issues = issues;
  }
}

/** The result of parsing: a scenario, or the issues. */
export type ParseResult =
  | { readonly ok: true; readonly scenario: ScenarioDoc }
  | { readonly ok: false; readonly issues: readonly ScenarioIssue[] };

type Path = readonly PropertyKey[];

function pathText(path: Path): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

/** The deepest YAML node along `path` (a missing key: its parent; a bad key: the key). */
function nodeAt(root: Node | null, path: Path, key?: string): Node | null {
  let node: Node | null = root;
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === p);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof p === "number") {
      const it = node.items[p] as Node | undefined;
      if (!it) return node;
      node = it;
    } else return node;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((it) => isScalar(it.key) && it.key.value === key);
    if (pair) return pair.key as Node;
  }
  return node;
}

function positionOf(lc: LineCounter, node: Node | null): { line: number; col: number } {
  const off = node?.range?.[0];
  if (off === undefined) return { line: 0, col: 0 };
  const p = lc.linePos(off);
  return { line: p.line, col: p.col };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 0) return "an empty mapping";
    return `a mapping with ${keys.length === 1 ? "key" : "keys"} ${keys.map((k) => `"${k}"`).join(", ")}`;
  }
  return JSON.stringify(v);
}

/** Turns zod issues into positioned, readable ones. Union errors are narrowed to the alternative the value was meant to be. */
function fromZod(
  file: string,
  lc: LineCounter,
  root: Node | null,
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  const valueAt = (path: Path): unknown => {
    let v: unknown = data;
    for (const p of path)
      v = v === null || typeof v !== "object" ? undefined : (v as Record<PropertyKey, unknown>)[p];
    return v;
  };
  for (const iss of issues) {
    const path = iss.path as Path;
    // A step: say which kinds exist, or validate against the kind the step names.
    // A step or an expectation: validate against the kind it names, or say which kinds exist.
    if (
      iss.code === "invalid_union" &&
      path.length === 2 &&
      (path[0] === "steps" || path[0] === "expect")
    ) {
      const v = valueAt(path);
      const isStep = path[0] === "steps";
      const obj = v && typeof v === "object" && !Array.isArray(v) ? (v as object) : null;
      let schema: z.ZodType | undefined;
      if (isStep) {
        const keys = obj ? Object.keys(obj) : [];
        const kind = keys.length === 1 ? (keys[0] as string) : null;
        if (kind && kind !== "settle" && (STEP_KINDS as readonly string[]).includes(kind))
          schema = STEP_SCHEMAS[kind as (typeof STEP_KINDS)[number]];
      } else {
        const kind = obj ? Object.keys(EXPECT_SCHEMAS).find((k) => k in obj) : undefined;
        schema = kind === undefined ? undefined : EXPECT_SCHEMAS[kind];
      }
      const r = schema?.safeParse(v);
      if (r && !r.success) {
        const nested = r.error.issues.map((i) => ({ ...i, path: [...path, ...i.path] }));
        out.push(...fromZod(file, lc, root, data, nested));
        continue;
      }
      const expected = isStep
        ? `a step: "settle" or a mapping with one of ${STEP_KINDS.filter((k) => k !== "settle").join(", ")}`
        : `an expectation: a mapping with one of ${Object.keys(EXPECT_SCHEMAS).join(", ")}`;
      out.push({
        file,
        ...positionOf(lc, nodeAt(root, path)),
        path: pathText(path),
        message: `expected ${expected}; got ${describe(v)}`,
      });
      continue;
    }
    // udev, bringup, cloud_init: "none" or a mapping (then validated as one).
    const section = path.length === 1 ? SECTION_MAPPINGS[String(path[0])] : undefined;
    if (iss.code === "invalid_union" && section) {
      const v = valueAt(path);
      if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        const r = section.safeParse(v);
        if (!r.success) {
          out.push(
            ...fromZod(
              file,
              lc,
              root,
              data,
              r.error.issues.map((i) => ({ ...i, path: [...path, ...i.path] })),
            ),
          );
          continue;
        }
      }
      out.push({
        file,
        ...positionOf(lc, nodeAt(root, path)),
        path: pathText(path),
        message: `expected "none" or a mapping; got ${describe(v)}`,
      });
      continue;
    }
    if (iss.code === "unrecognized_keys") {
      for (const key of iss.keys) {
        out.push({
          file,
          ...positionOf(lc, nodeAt(root, path, key)),
          path: pathText([...path, key]),
          message: `unknown key "${key}"`,
        });
      }
      continue;
    }
    let message = iss.message;
    if (
      (iss.code === "invalid_type" || iss.code === "invalid_value") &&
      valueAt(path) === undefined
    ) {
      message = `missing (${iss.message.replace(/^Invalid input: /, "")})`;
      const dev = path.length === 3 && path[0] === "devices" ? valueAt(path.slice(0, 2)) : null;
      if (
        path[2] === "id" &&
        dev !== null &&
        typeof dev === "object" &&
        "failover_pair" in (dev as object)
      )
        message = `missing: a device with failover_pair needs an id (QEMU: "Device with failover_pair_id needs to have id")`;
    }
    out.push({ file, ...positionOf(lc, nodeAt(root, path)), path: pathText(path), message });
  }
  return out;
}

/** Checks that need more than the schema (kernel version, ids, references, step indexes). */
function crossCheck(
  file: string,
  lc: LineCounter,
  root: Node | null,
  sc: ScenarioDoc,
): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  const at = (path: Path, message: string): void => {
    out.push({ file, ...positionOf(lc, nodeAt(root, path)), path: pathText(path), message });
  };
  if (sc.kernel !== undefined) {
    try {
      profileFor(sc.kernel);
    } catch (e) {
      if (e instanceof UnknownKernelError) at(["kernel"], e.message);
      else throw e;
    }
  }
  (sc.kernels ?? []).forEach((v, i) => {
    try {
      profileFor(v);
    } catch (e) {
      if (e instanceof UnknownKernelError) at(["kernels", i], e.message);
      else throw e;
    }
  });
  if (typeof sc.udev === "object" && sc.udev.start === "late" && sc.script_starts === "boot")
    at(
      ["udev", "start"],
      "udev.start: late starts udevd once boot is quiescent, before the steps: it needs script_starts: quiescent (the default), not boot",
    );
  const devices = sc.devices ?? [];
  const ids = new Map<string, number>();
  const slots = new Map<number, number>();
  devices.forEach((d, i) => {
    if (ids.has(d.id))
      at(["devices", i, "id"], `device id "${d.id}" already used by devices[${ids.get(d.id)}]`);
    else ids.set(d.id, i);
    if ((d.type === "virtio-net" || d.type === "pci-nic") && d.slot !== undefined) {
      if (slots.has(d.slot))
        at(["devices", i, "slot"], `slot ${d.slot} already used by devices[${slots.get(d.slot)}]`);
      else slots.set(d.slot, i);
    }
  });
  // As in QEMU, a failover_pair naming no device, or a device that is not a virtio-net with
  // standby: true, pairs nothing (qtest params/on_mismatch, params/off): no error here.
  const hotplugged = new Set<string>();
  sc.steps.forEach((s) => {
    if (typeof s === "object" && "plug" in s) hotplugged.add(s.plug);
    if (typeof s === "object" && "unplug" in s) hotplugged.add(s.unplug);
  });
  devices.forEach((d, i) => {
    if ((d.type !== "virtio-net" && d.type !== "pci-nic") || d.bus !== "pcie.0") return;
    const why =
      d.type === "pci-nic" && d.failover_pair !== undefined
        ? "a failover primary is hot-plugged by QEMU"
        : d.plugged === false
          ? "plugged: false needs a hot-plug"
          : hotplugged.has(d.id)
            ? "a plug or unplug step needs a hot-plug"
            : null;
    if (why) at(["devices", i, "bus"], `Bus 'pcie.0' does not support hotplugging (${why})`);
  });
  const pciIds = new Set(
    devices.filter((d) => d.type === "virtio-net" || d.type === "pci-nic").map((d) => d.id),
  );
  sc.steps.forEach((s, i) => {
    if (typeof s === "string") return;
    const refs: { ref: string; path: Path }[] =
      "plug" in s
        ? [{ ref: s.plug, path: ["steps", i, "plug"] }]
        : "unplug" in s
          ? [{ ref: s.unplug, path: ["steps", i, "unplug"] }]
          : "set_link" in s
            ? [{ ref: s.set_link.device, path: ["steps", i, "set_link", "device"] }]
            : "migrate" in s
              ? typeof s.migrate.primary === "string"
                ? [{ ref: s.migrate.primary, path: ["steps", i, "migrate", "primary"] }]
                : s.migrate.primary.map((ref, j) => ({
                    ref,
                    path: ["steps", i, "migrate", "primary", j],
                  }))
              : [];
    for (const { ref, path } of refs) {
      if (!pciIds.has(ref))
        at(
          path,
          `no virtio-net or pci-nic device "${ref}" (devices: ${[...pciIds].join(", ") || "none"})`,
        );
    }
  });
  (sc.expect ?? []).forEach((e, i) => {
    if (e.kernels !== undefined) {
      const list = typeof e.kernels === "string" ? [e.kernels] : e.kernels;
      list.forEach((sel, j) => {
        const path: Path =
          typeof e.kernels === "string" ? ["expect", i, "kernels"] : ["expect", i, "kernels", j];
        const problem = selectorProblem(sel);
        const exact = exactVersion(sel);
        if (problem) at(path, problem);
        else if (exact !== null && !SUPPORTED_KERNELS.includes(exact))
          at(path, `no kernel profile "${exact}" (supported: ${SUPPORTED_KERNELS.join(", ")})`);
      });
    }
    if ("step" in e && e.step > sc.steps.length)
      at(["expect", i, "step"], `there are only ${sc.steps.length} steps`);
    if ("device" in e && !pciIds.has(e.device))
      at(
        ["expect", i, "device"],
        `no virtio-net or pci-nic device "${e.device}" (devices: ${[...pciIds].join(", ") || "none"})`,
      );
    for (const key of ["log", "no_log"] as const) {
      if (key in e) {
        const c = compileLogPattern((e as Record<string, string>)[key] as string);
        if ("error" in c)
          at(
            ["expect", i, key],
            `not a supported pattern (a linear-time subset of regular expressions): ${c.error} at offset ${c.offset}`,
          );
      }
    }
  });
  const udev = sc.udev === undefined || sc.udev === "none" ? null : sc.udev;
  for (const pattern of Object.keys(udev?.hwdb ?? {})) {
    const g = compileGlob(pattern, "fnmatch");
    if ("error" in g) {
      const node = nodeAt(root, ["udev", "hwdb"], pattern);
      out.push({
        file,
        ...positionOf(lc, node),
        path: pathText(["udev", "hwdb", pattern]),
        message: `not a valid glob: ${g.error} at offset ${g.offset}`,
      });
    }
  }
  let slept = 0;
  sc.steps.forEach((s, i) => {
    if (typeof s !== "object" || !("sleep" in s)) return;
    const before = slept;
    slept += typeof s.sleep === "number" ? s.sleep : (durationStringMs(s.sleep) ?? 0);
    if (before <= MAX_TOTAL_SLEEP_MS && slept > MAX_TOTAL_SLEEP_MS)
      at(
        ["steps", i, "sleep"],
        `the sleeps add up to more than ${MAX_TOTAL_SLEEP_MS} ms (1000 days), past what a run may span`,
      );
  });
  // QEMU gives a PCI device without addr= the first free slot of the bus, and fails when none
  // is left ("PCI: no slot/function available for …, all in use or reserved"). The model's
  // bus 0 hands out slots from 3 (0-2: host bridge, ISA bridge, VGA) to 31.
  const taken = new Set<number>();
  for (const d of devices)
    if ((d.type === "virtio-net" || d.type === "pci-nic") && d.slot !== undefined)
      taken.add(d.slot);
  let free = 0;
  for (let slot = FIRST_AUTO_SLOT; slot <= LAST_SLOT; slot++) if (!taken.has(slot)) free++;
  let auto = 0;
  devices.forEach((d, i) => {
    if ((d.type !== "virtio-net" && d.type !== "pci-nic") || d.slot !== undefined) return;
    if (++auto === free + 1)
      at(
        ["devices", i],
        `no free PCI slot for "${d.id}": slots ${FIRST_AUTO_SLOT} to ${LAST_SLOT} are all in use (QEMU: "PCI: no slot/function available for ${d.type === "virtio-net" ? "virtio-net-pci" : (d.model ?? "e1000e")}, all in use or reserved")`,
      );
  });
  return out;
}

/**
 * Parses and validates scenario text. YAML syntax errors, schema violations and cross-field
 * problems all come back as positioned issues; nothing throws.
 */
export function parseScenario(text: string, file = "<scenario>"): ParseResult {
  const lc = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    // logLevel "error": the yaml package would print warnings on the process's stderr (e.g. for
    // a list used as a key); every problem is reported here instead, with its position.
    doc = parseDocument(text, {
      lineCounter: lc,
      prettyErrors: false,
      uniqueKeys: true,
      logLevel: "error",
    });
  } catch (e) {
    return {
      ok: false,
      issues: [{ file, line: 0, col: 0, path: "", message: `not YAML: ${(e as Error).message}` }],
    };
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const p = lc.linePos(e.pos[0]);
        return {
          file,
          line: p.line,
          col: p.col,
          path: "",
          message: e.message.split("\n")[0] as string,
        };
      }),
    };
  }
  // A key must be a plain value: a list or mapping as a key ("? [a, b]") has no JS form.
  const keyIssues: ScenarioIssue[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key as Node | null;
      if (key !== null && !isScalar(key))
        keyIssues.push({
          file,
          ...positionOf(lc, key),
          path: "",
          message: `a key must be a plain value (a name like "steps"), not ${isSeq(key) ? "a list" : "a mapping"}`,
        });
    },
  });
  if (keyIssues.length > 0) return { ok: false, issues: keyIssues };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return {
      ok: false,
      issues: [{ file, line: 0, col: 0, path: "", message: (e as Error).message }],
    };
  }
  const root = doc.contents as Node | null;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      ok: false,
      issues: [
        {
          file,
          ...positionOf(lc, root),
          path: "",
          message: `expected a mapping with ifsim: 1, name, devices and steps; got ${describe(data)}`,
        },
      ],
    };
  }
  const r = Scenario.safeParse(data);
  if (!r.success) return { ok: false, issues: fromZod(file, lc, root, data, r.error.issues) };
  const cross = crossCheck(file, lc, root, r.data);
  if (cross.length > 0) return { ok: false, issues: cross };
  return { ok: true, scenario: r.data };
}
