// The real-kernel backends by name (`--backend NAME`). Adding one is one line in BACKENDS.

import type { ScenarioDoc } from "../scenario/schema.ts";
import { NetnsBackend } from "./netns-backend.ts";
import { QemuBackend } from "./qemu/index.ts";
import type { Backend, BackendRunOptions } from "./types.ts";

export { BackendRefusal } from "./refusal.ts";
export type { Backend, BackendRunOptions, BackendRunRecord, BackendStepRecord } from "./types.ts";

/** Each backend's constructor, by the name `--backend` takes. */
const BACKENDS: Record<string, () => Backend> = {
  netns: () => new NetnsBackend(),
  qemu: () => new QemuBackend(),
};

/**
 * Adds (or replaces) a backend under `name` — for tests and embedders; the built-in ones are
 * in BACKENDS. Returns a function that restores what was there before.
 */
export function registerBackend(name: string, make: () => Backend): () => void {
  const before = BACKENDS[name];
  BACKENDS[name] = make;
  return () => {
    if (before) BACKENDS[name] = before;
    else delete BACKENDS[name];
  };
}

/** The names `--backend` accepts for a real kernel. */
export function backendNames(): string[] {
  return Object.keys(BACKENDS);
}

/** A new backend by name, or null when there is none by that name. */
export function backendByName(name: string): Backend | null {
  const make = BACKENDS[name];
  return make ? make() : null;
}

/**
 * A backend that knows facts of its machine the model must be told (the host's default qdisc):
 * it returns the scenario the model runs for a comparison. Optional for backends.
 */
export interface ModelAligning {
  modelScenario(sc: ScenarioDoc, o?: BackendRunOptions): ScenarioDoc;
}

/** True when the backend adjusts the model's scenario (see ModelAligning). */
export function isModelAligning(b: Backend): b is Backend & ModelAligning {
  return typeof (b as Partial<ModelAligning>).modelScenario === "function";
}
