// The scenario file's `udev:` section → the udevd actor's configuration.

import { netplanGenerate } from "../userspace/netplan.ts";
import {
  DEFAULT_LINK_FILE,
  defaultLinkText,
  formatConfDiagnostic,
  loadUdevFiles,
  Udevd,
  type UdevdConfig,
  type UdevFiles,
} from "../userspace/udev/index.ts";
import type { World } from "../userspace/world.ts";
import type { UdevDoc } from "./schema.ts";

/**
 * The files udevd reads for `udev.files` (with udev's own 99-default.link, carrying
 * `name_policy` when given, and 80-net-setup-link.rules), or null when the scenario gives none.
 */
export function scenarioUdevFiles(cfg: Exclude<UdevDoc, "none">): UdevFiles | null {
  if (cfg.files === undefined) return null;
  return loadUdevFiles(cfg.files, {
    generation: cfg.generation ?? "v256",
    ...(cfg.name_policy !== undefined ? { namePolicy: cfg.name_policy } : {}),
  });
}

/** What the model did not take from `udev.files`, one "file:line: level: message" each. */
export function udevFilesReport(cfg: UdevDoc | undefined): string[] {
  if (cfg === undefined || cfg === "none") return [];
  return (scenarioUdevFiles(cfg)?.diagnostics ?? []).map(formatConfDiagnostic);
}

/**
 * The files a real guest needs for `udev.files`: the scenario's .link and .rules files and what
 * netplan generate writes for its YAML (the guest has no netplan), by absolute path; and, when
 * `name_policy` is given too, 99-default.link with that policy in /etc/systemd/network (masking
 * the shipped one, as the model does). Empty when the scenario gives no files.
 */
export function udevGuestFiles(cfg: UdevDoc | undefined): Record<string, string> {
  if (cfg === undefined || cfg === "none" || cfg.files === undefined) return {};
  const out: Record<string, string> = {};
  for (const [p, t] of Object.entries(cfg.files))
    if (!/^\/(etc|run|lib)\/netplan\//.test(p)) out[p] = t;
  Object.assign(out, netplanGenerate(cfg.files).files);
  // unless the user's own 99-default.link masks udev's (then name_policy has nothing to change)
  const userDefault = Object.keys(out).some((p) => p.endsWith("/99-default.link"));
  if (cfg.name_policy !== undefined && !userDefault)
    out["/etc/systemd/network/99-default.link"] = defaultLinkText(
      cfg.generation ?? "v256",
      cfg.name_policy,
    );
  return out;
}

/** Translates `udev:` keys (ms, snake_case) to UdevdConfig (µs, camelCase). */
export function udevConfigOf(cfg: Exclude<UdevDoc, "none">): UdevdConfig {
  const files = scenarioUdevFiles(cfg);
  return {
    ...(cfg.generation !== undefined ? { generation: cfg.generation } : {}),
    ...(files !== null
      ? { links: files.links, rules: files.rules }
      : cfg.name_policy !== undefined
        ? { links: [{ ...DEFAULT_LINK_FILE, namePolicy: cfg.name_policy }] }
        : {}),
    ...(cfg.latency_ms !== undefined ? { deliveryLatencyUs: cfg.latency_ms * 1000 } : {}),
    ...(cfg.processing_ms !== undefined ? { processingLatencyUs: cfg.processing_ms * 1000 } : {}),
    ...(cfg.workers !== undefined ? { workers: cfg.workers } : {}),
    ...(cfg.hwdb !== undefined ? { nameAllow: cfg.hwdb } : {}),
    ...(cfg.database !== undefined ? { database: { byMac: cfg.database } } : {}),
    ...(cfg.onboard !== undefined ? { acpiIndex: cfg.onboard } : {}),
    ...(cfg.start === "late" ? { startLate: true } : {}),
  };
}

/** The udevd actor for a scenario's `udev:` section (the runner's default). */
export function scenarioUdev(w: World, cfg: Exclude<UdevDoc, "none">): Udevd {
  return new Udevd(w, udevConfigOf(cfg));
}
