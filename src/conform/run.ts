// One scenario on a backend and on the model, compared (`ifsim conform`; compare.ts says how):
// the model runs on the backend's kernel version, every step ending on a settled machine as the
// backend's do.

import { performance } from "node:perf_hooks";
import {
  type Backend,
  BackendRefusal,
  type BackendRunRecord,
  isModelAligning,
} from "../backends/index.ts";
import { UnknownKernelError } from "../kernel/index.ts";
import type { RunInput } from "../report/index.ts";
import { runScenarioWithStates } from "../scenario/link-states.ts";
import { RunError, runScenario } from "../scenario/run.ts";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { type Difference, type IpDetails, verdictOf } from "./compare.ts";

/** The verdict on one scenario. */
export interface ConformResult {
  readonly file: string;
  readonly scenario: string | null;
  readonly verdict: "AGREE" | "DIFFER" | "REFUSED" | "ERROR";
  /** Why REFUSED or ERROR. */
  readonly reason?: string;
  /** The backend's kernel (uname -r) and the model's profile. */
  readonly kernel?: string;
  readonly profile?: string;
  readonly differences: Difference[];
  /**
   * Where the records differed only by the outcome of a measured kernel race that the model
   * plays one way (the `enx` altname's holder and device interleaving with udevd are not listed):
   * one line each, with the race.
   */
  readonly tolerated?: readonly string[];
  /** Boots of the backend's guest that crashed in the emulator and were retried, one line each. */
  readonly bootFailures?: readonly string[];
  readonly steps?: number;
  readonly links?: number;
  /** Wall time of the backend's run and of the model's, ms. */
  readonly wallMs?: number;
  readonly modelMs?: number;
  /** Both runs (with the model's link states), when asked for (`keep`: the HTML report). */
  readonly records?: { readonly model: RunInput; readonly kernel: BackendRunRecord };
}

/**
 * The model's run options for comparing with `backend` on `profile`: every step ends on a
 * settled machine, after the backend's quiet time; the boot modules load as the backend's
 * guest loads them.
 */
export function modelRunOptions(
  backend: Pick<Backend, "settleQuietMs" | "bootModuleGapMs">,
  profile: string,
): {
  kernel: string;
  settleSteps: true;
  settleQuietUs: number;
  moduleGapUs: number;
  ipDetails: true;
} {
  return {
    kernel: profile,
    settleSteps: true,
    ipDetails: true,
    settleQuietUs: (backend.settleQuietMs ?? 0) * 1000,
    moduleGapUs: (backend.bootModuleGapMs ?? 0) * 1000,
  };
}

/** Runs one scenario on the backend and on the model and compares. */
export async function conformScenario(
  file: string,
  sc: ScenarioDoc,
  backend: Backend,
  o: { kernel?: string | null; log?: (line: string) => void; keep?: boolean } = {},
): Promise<ConformResult> {
  const base = { file, scenario: sc.name, differences: [] as Difference[] };
  const ro = {
    ...(o.kernel != null ? { kernel: o.kernel } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  const refusal = backend.refuses(sc, ro);
  if (refusal !== null) return { ...base, verdict: "REFUSED", reason: refusal };
  let profile: string;
  try {
    profile = backend.kernelVersion(ro);
  } catch (e) {
    if (e instanceof BackendRefusal) return { ...base, verdict: "REFUSED", reason: e.message };
    return { ...base, verdict: "ERROR", reason: (e as Error).message };
  }
  const modelSc = isModelAligning(backend) ? backend.modelScenario(sc, ro) : sc;
  let model: ReturnType<typeof runScenario>;
  let modelRun: RunInput | undefined;
  const m0 = performance.now();
  try {
    if (o.keep) {
      // The same record as runScenario's, plus the link state after every line.
      modelRun = runScenarioWithStates(modelSc, modelRunOptions(backend, profile));
      model = modelRun.record;
    } else model = runScenario(modelSc, modelRunOptions(backend, profile));
  } catch (e) {
    if (e instanceof RunError || e instanceof UnknownKernelError)
      return { ...base, verdict: "ERROR", profile, reason: `model: ${e.message}` };
    throw e;
  }
  const modelMs = Math.round(performance.now() - m0);
  let kernel: BackendRunRecord;
  const k0 = performance.now();
  try {
    kernel = await backend.run(sc, ro);
  } catch (e) {
    if (e instanceof BackendRefusal) return { ...base, verdict: "REFUSED", reason: e.message };
    return {
      ...base,
      verdict: "ERROR",
      profile,
      reason: `${backend.name}: ${(e as Error).message}`,
    };
  }
  const wallMs = kernel.wallMs ?? Math.round(performance.now() - k0);
  const tolerated: string[] = [];
  const details = ipDetailsOf(backend, model, kernel);
  const differences = verdictOf(sc, model, kernel, {
    profile,
    tolerated,
    ...(details ? { details } : {}),
  });
  return {
    ...base,
    verdict: differences.length === 0 ? "AGREE" : "DIFFER",
    kernel: kernel.kernel,
    profile,
    differences,
    ...(tolerated.length > 0 ? { tolerated } : {}),
    ...(bootFailuresOf(kernel).length > 0 ? { bootFailures: bootFailuresOf(kernel) } : {}),
    steps: kernel.steps.length,
    links: kernel.links.length,
    wallMs,
    modelMs,
    ...(modelRun ? { records: { model: modelRun, kernel } } : {}),
  };
}

/**
 * Both sides' final `ip -d link` text, when the backend prints it: the qemu backend's record
 * carries it as `ip_link` (with `pciAddrs`, the guest's addresses that differ from the model's).
 */
function ipDetailsOf(
  backend: Backend,
  model: ReturnType<typeof runScenario>,
  kernel: BackendRunRecord,
): IpDetails | null {
  const k = kernel as { ip_link?: unknown; pciAddrs?: unknown };
  if (backend.name !== "qemu" || typeof k.ip_link !== "string" || k.ip_link === "") return null;
  if (model.ip_link_details === undefined) return null;
  const pci =
    k.pciAddrs !== null && typeof k.pciAddrs === "object"
      ? new Map(
          Object.entries(k.pciAddrs as Record<string, unknown>).filter(
            (e): e is [string, string] => typeof e[1] === "string",
          ),
        )
      : undefined;
  return { model: model.ip_link_details, kernel: k.ip_link, ...(pci ? { pciAddrs: pci } : {}) };
}

/** The retried boot crashes a backend's record lists (the qemu backend's `bootFailures`). */
function bootFailuresOf(kernel: BackendRunRecord): string[] {
  const f = (kernel as { bootFailures?: unknown }).bootFailures;
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === "string") : [];
}
