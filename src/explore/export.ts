// A counterexample as a linear scenario: every userspace action of the interleaving (udevd's
// renames, bring-up's `ip` commands, the script's own steps) becomes one step of a scenario
// without udev, bring-up or cloud-init, in the order the interleaving ran them; the model's
// failures become `step: i, error: ERRNO` expectations and the failover links at the end of the
// replay become `link:` expectations. `ifsim run FILE` checks it on the model, `ifsim run FILE
// --backend qemu` on a real kernel.

import { Document, isScalar, visit } from "yaml";
import type { ExpectDoc, ScenarioDoc, StepDoc } from "../scenario/schema.ts";
import { type ExploreConfig, type ReplayResult, systemFor } from "./explore.ts";
import type { Violation } from "./system.ts";

/** What the export needs besides the replay, for its header comment. */
export interface ExportInfo {
  /** The scenario file the counterexample came from. */
  readonly file: string;
  /** The broken invariant (null: the replay ended without a violation). */
  readonly violation: Violation | null;
  /** How many forced choices the replay had. */
  readonly choices?: number;
  /** Where the scenario is written (for the commands in the header; default "FILE"). */
  readonly out?: string;
}

/** A linear scenario: the document and its YAML text (with the header comment). */
export interface LinearScenario {
  readonly doc: ScenarioDoc;
  readonly yaml: string;
  /** Each step's originating lane (`udev/w0`, `networkd`, `script`), by step index. */
  readonly lanes: readonly string[];
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** `s` with every control character (line breaks included) written as `\xNN`, for a comment. */
function commentSafe(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** Wraps a paragraph at spaces to lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const w of text.split(" ")) {
    if (line !== "" && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line === "" ? w : `${line} ${w}`;
  }
  if (line !== "") out.push(line);
  return out;
}

/** The kernel of the qemu backend's guest image. */
const QEMU_KERNEL = "6.1";

/** One action of a linear scenario: its step, the lane that did it and what it got in the model. */
export interface LinearAction {
  readonly lane: string;
  readonly step: StepDoc;
  /** The errno the model returned (null: it worked, or it failed without one). */
  readonly errno: string | null;
}

/**
 * The actions of a replay, in the order they ran, with the errno each got in the model.
 *
 * Fires `rep.path` again on a fresh system of the same configuration (deterministic, so it
 * retraces the replay) and reads, step by step, udevd's renames, the world's `ip` log and the
 * script's step records. A script `settle` is placed where it completed (every other actor
 * idle), not where it started: the actions other lanes took meanwhile come before it.
 *
 * @throws Error if the retrace disagrees with the replay (a non-deterministic model: a bug).
 */
export function replayActions(
  sc: ScenarioDoc,
  c: ExploreConfig,
  rep: ReplayResult,
): LinearAction[] {
  const sys = systemFor(sc, c);
  const p = sys.p;
  const out: LinearAction[] = [];
  let settle: { index: number; action: LinearAction } | null = null;
  rep.path.forEach((lane, i) => {
    const renames = p.udev?.renames.length ?? 0;
    const ips = p.w.ipLog.length;
    const scriptIdx = p.script.stepIndex;
    sys.fire(lane);
    const errnos: (string | null)[] = [];
    if (lane.startsWith("udev/") && p.udev)
      for (const r of p.udev.renames.slice(renames)) errnos.push(r.errno);
    if (lane === "networkd" || lane.startsWith("networkd/"))
      for (const x of p.w.ipLog.slice(ips)) errnos.push(x.errno);
    if (lane === "script" && p.script.stepIndex > scriptIdx) {
      const rec = p.script.records.find((r) => r.index === scriptIdx + 1);
      errnos.push(rec && !rec.ok ? rec.errno : null);
    }
    const actions = rep.steps[i]?.actions ?? [];
    if (actions.length !== errnos.length)
      throw new Error(
        `export: step ${i + 1} (${lane}) did ${errnos.length} actions on the retrace, ${actions.length} in the replay`,
      );
    actions.forEach((step, j) => {
      const a = { lane, step, errno: errnos[j] ?? null };
      if (lane === "script" && step === "settle") settle = { index: scriptIdx + 1, action: a };
      else out.push(a);
    });
    const s = settle as { index: number; action: LinearAction } | null;
    if (s && p.script.records.some((r) => r.index === s.index)) {
      out.push(s.action);
      settle = null;
    }
  });
  const s = settle as { index: number; action: LinearAction } | null;
  if (s) out.push(s.action);
  return out;
}

/**
 * Builds the linear scenario of a replay: same name + " (counterexample)", the configuration's
 * kernel, the same devices (and modules, qdisc, seed), `udev: none`, no bring-up, cloud-init or
 * explore section and the default `script_starts` (the steps start once boot is quiescent, as on
 * the qemu backend; the kernel's deferred work is not among the actions); steps = every action
 * of the replay in order; expect = every action that
 * failed in the model (`step: i, error: ERRNO`) and every failover master and slave at the end
 * of the replay (`link: NAME, master, up`).
 */
export function linearScenario(
  sc: ScenarioDoc,
  c: ExploreConfig,
  rep: ReplayResult,
  info: ExportInfo,
): LinearScenario {
  const actions = replayActions(sc, c, rep);
  const steps = actions.map((a) => a.step);
  const expect: ExpectDoc[] = [];
  actions.forEach((a, i) => {
    if (a.errno !== null && /^E[A-Z0-9]+$/.test(a.errno))
      expect.push({ step: i + 1, error: a.errno });
  });
  expect.push(...failoverLinkExpects(rep));
  const kernel = c.kernel ?? sc.kernel;
  const seed = c.seed ?? sc.seed;
  const doc: ScenarioDoc = {
    ifsim: 1,
    name: `${sc.name} (counterexample)`,
    description: `A linear replay of an interleaving ifsim explore found in ${info.file}${
      info.violation ? ` (it breaks ${info.violation.invariant})` : ""
    }: udevd's renames and bring-up's commands as ip steps, in the order they ran.`,
    ...(kernel !== undefined ? { kernel } : {}),
    ...(sc.uek_takeover_delay_ms !== undefined
      ? { uek_takeover_delay_ms: sc.uek_takeover_delay_ms }
      : {}),
    ...(sc.default_qdisc !== undefined ? { default_qdisc: sc.default_qdisc } : {}),
    ...(sc.modules !== undefined ? { modules: sc.modules } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(sc.devices !== undefined ? { devices: sc.devices } : {}),
    udev: "none",
    steps,
    ...(expect.length > 0 ? { expect } : {}),
  };
  const udev = sc.udev === undefined || sc.udev === "none" ? null : (c.udev ?? sc.udev.generation);
  const out = info.out ?? "FILE";
  const lines = [
    `Counterexample found by ifsim explore in ${info.file} ("${sc.name}"), kernel ${kernel ?? "?"}${
      udev ? `, udev ${udev}` : ""
    }${seed !== undefined ? `, seed ${seed}` : ""}: a replay of ${rep.steps.length} steps${
      info.choices !== undefined ? ` (${info.choices} forced choices)` : ""
    }, written as a linear scenario.`,
    "Every userspace action of the interleaving is one step, in the order it ran (udevd's renames and bring-up's commands as ip steps); udev, bring-up and cloud-init are left out. The expectations are what the model did: the steps that failed and the failover links at the end.",
    info.violation
      ? `Invariant broken: ${info.violation.invariant}: ${info.violation.detail}`
      : "The replay ended without a violation.",
    `Check it on the model:    ifsim run ${out}`,
    `Confirm on a real kernel: ifsim run ${out} --backend qemu   (the guest runs Linux ${QEMU_KERNEL}${
      kernel !== undefined && kernel !== QEMU_KERNEL
        ? `, not ${kernel}: the kernel's behaviour may differ`
        : ""
    })`,
  ];
  // The file name, the scenario name and the violation come from the user or a token: a line
  // break in one must not end the comment and start YAML of its own.
  const header = lines
    .map(commentSafe)
    .flatMap((l) => (l.startsWith("Check") || l.startsWith("Confirm") ? [l] : wrap(l, 96)))
    .map((l) => `# ${l}`.trimEnd())
    .join("\n");
  const yd = new Document(doc);
  // MACs quoted, as in hand-written scenarios (a YAML 1.1 reader takes 52:54:… for a number).
  visit(yd, {
    Scalar(_, n) {
      if (isScalar(n) && typeof n.value === "string" && MAC.test(n.value)) n.type = "QUOTE_DOUBLE";
    },
  });
  return {
    doc,
    yaml: `${header}\n${yd.toString({ lineWidth: 0 })}`,
    lanes: actions.map((a) => a.lane),
  };
}

/** `link:` expectations for every failover master and its slaves in the replay's final state. */
function failoverLinkExpects(rep: ReplayResult): ExpectDoc[] {
  const k = rep.system.p.k;
  const links = rep.system.record().links;
  const byIndex = new Map(links.map((l) => [l.ifindex, l]));
  const out: ExpectDoc[] = [];
  const masters = [...k.state.devices.values()]
    .filter((d) => d.driver === "net_failover")
    .sort((a, b) => a.ifindex - b.ifindex);
  for (const m of masters) {
    const ml = byIndex.get(m.ifindex);
    if (ml) out.push({ link: ml.ifname, master: ml.master, up: ml.flags.includes("UP") });
    const slaves = m.lowers.map((l) => l.ifindex).sort((a, b) => a - b);
    for (const i of slaves) {
      const sl = byIndex.get(i);
      if (sl) out.push({ link: sl.ifname, master: sl.master, up: sl.flags.includes("UP") });
    }
  }
  return out;
}
