// The scenario file's `udev:` section → the udevd actor's configuration.

import { DEFAULT_LINK_FILE, Udevd, type UdevdConfig } from "../userspace/udev/index.ts";
import type { World } from "../userspace/world.ts";
import type { UdevDoc } from "./schema.ts";

/** Translates `udev:` keys (ms, snake_case) to UdevdConfig (µs, camelCase). */
export function udevConfigOf(cfg: Exclude<UdevDoc, "none">): UdevdConfig {
  return {
    ...(cfg.generation !== undefined ? { generation: cfg.generation } : {}),
    ...(cfg.name_policy !== undefined
      ? { links: [{ ...DEFAULT_LINK_FILE, namePolicy: cfg.name_policy }] }
      : {}),
    ...(cfg.latency_ms !== undefined ? { deliveryLatencyUs: cfg.latency_ms * 1000 } : {}),
    ...(cfg.processing_ms !== undefined ? { processingLatencyUs: cfg.processing_ms * 1000 } : {}),
    ...(cfg.workers !== undefined ? { workers: cfg.workers } : {}),
    ...(cfg.hwdb !== undefined ? { nameAllow: cfg.hwdb } : {}),
    ...(cfg.database !== undefined ? { database: { byMac: cfg.database } } : {}),
    ...(cfg.onboard !== undefined ? { acpiIndex: cfg.onboard } : {}),
  };
}

/** The udevd actor for a scenario's `udev:` section (the runner's default). */
export function scenarioUdev(w: World, cfg: Exclude<UdevDoc, "none">): Udevd {
  return new Udevd(w, udevConfigOf(cfg));
}
