// A scenario's `udev:` actor as Debian's real systemd-udevd in the guest (udev-prepare.ts fetches
// it): what can be given to the real daemon (a .link file from `name_policy`), what cannot (and
// why), and udevd's decisions read back from its debug log. Pure: no processes, no files.

import type { ScenarioDoc } from "../../scenario/schema.ts";
import { strerrorText } from "../errno-text.ts";

/**
 * The model generation each real udev major version behaves as, measured in the guest with the
 * udev corpus (tools/qemu-capture/udev-generation.ts; README "Real udev"): the generation with
 * the fewest differences, none on the scenarios test/conformance/qemu-udev.test.ts runs there.
 * Debian bullseye's 247 as v249 (an EBUSY is an error: "Failed to rename network interface …";
 * its altnames, see the model's #applyAltnames); bookworm's 252 carries the backport that keeps
 * an UP interface's rename attempt (IFF_LIVE_RENAME_OK) and logs EBUSY word for word like
 * upstream v253; trixie's 257 as v256 (altnames on `add` only, `mac` among them).
 */
export const REAL_UDEV_GENERATION: Readonly<Record<string, string>> = {
  "247": "v249",
  "252": "v253",
  "257": "v256",
};

/** Why the real udevd cannot play this scenario's `udev:` actor, or null (also null for none). */
export function realUdevProblem(sc: ScenarioDoc, udevMajor: string): string | null {
  const u = sc.udev;
  if (u === undefined || u === "none") return null;
  if (u.hwdb !== undefined)
    return "udev.hwdb: the real udevd reads its own compiled hwdb (Debian's); the scenario's ID_NET_NAME_ALLOW entries cannot be given to it";
  if (u.database !== undefined)
    return "udev.database: ID_NET_NAME_FROM_DATABASE comes from the real hwdb; the scenario's names cannot be given to it";
  if (u.onboard !== undefined)
    return "udev.onboard: acpi_index comes from the firmware; the qemu backend sets none";
  const gen = REAL_UDEV_GENERATION[udevMajor];
  if (u.generation !== undefined && gen !== undefined && u.generation !== gen)
    return `udev.generation ${u.generation}: the guest's real udev ${udevMajor} behaves as ${gen}`;
  return null;
}

/**
 * The .link file the scenario asks for (in /etc/systemd/network/10-ifsim.link, so it wins over
 * 99-default.link), or null when it names no policy (99-default.link applies).
 * `AlternativeNamesPolicy=` (`altPolicy`) and `MACAddressPolicy=` are the release's 99-default.link's.
 */
export function scenarioLinkFile(
  sc: ScenarioDoc,
  altPolicy = "database onboard slot path",
): string | null {
  const u = sc.udev;
  if (u === undefined || u === "none" || u.name_policy === undefined) return null;
  return [
    "[Match]",
    "OriginalName=*",
    "",
    "[Link]",
    `NamePolicy=${u.name_policy.join(" ")}`,
    ...(altPolicy ? [`AlternativeNamesPolicy=${altPolicy}`] : []),
    "MACAddressPolicy=persistent",
    "",
  ].join("\n");
}

/** One rename udevd tried, from its debug log. */
export interface UdevRename {
  /** null when the log line does not say (the EBUSY line names the device by name only). */
  readonly ifindex: number | null;
  readonly from: string;
  readonly to: string;
  /** null: renamed; else the error text ("Device or resource busy"). */
  readonly error: string | null;
  /** The errno name of `error` (EBUSY), or null. */
  readonly errno: string | null;
  /** The log line (without the device prefix). */
  readonly line: string;
}

const ERRNO_NAMES = ["EBUSY", "EEXIST", "EINVAL", "ENODEV", "EPERM", "ENOMEM", "ENAMETOOLONG"];

function errnoOfText(text: string): string | null {
  return ERRNO_NAMES.find((n) => strerrorText(n) === text) ?? null;
}

const RENAMED = /Network interface (\d+) is renamed from '([^']+)' to '([^']+)'/;
const FAILED =
  /Failed to rename network interface (\d+) from '([^']+)' to '([^']+)': (.+?)(?:, ignoring\.?)?$/;
const BUSY = /Network interface '([^']+)' is already up, cannot rename to '([^']+)'/;

/** The renames in udevd's log lines, in order. */
export function udevRenames(log: readonly string[]): UdevRename[] {
  const out: UdevRename[] = [];
  for (const l of log) {
    const line = l.replace(/^[^:]+: /, "");
    const ok = RENAMED.exec(line);
    if (ok) {
      out.push({
        ifindex: Number(ok[1]),
        from: ok[2] ?? "",
        to: ok[3] ?? "",
        error: null,
        errno: null,
        line,
      });
      continue;
    }
    const busy = BUSY.exec(line);
    if (busy) {
      const error = strerrorText("EBUSY");
      out.push({
        ifindex: null,
        from: busy[1] ?? "",
        to: busy[2] ?? "",
        error,
        errno: "EBUSY",
        line,
      });
      continue;
    }
    const bad = FAILED.exec(line);
    if (bad)
      out.push({
        ifindex: Number(bad[1]),
        from: bad[2] ?? "",
        to: bad[3] ?? "",
        error: bad[4] ?? "",
        errno: errnoOfText(bad[4] ?? ""),
        line,
      });
  }
  return out;
}

/** udevd's lines worth keeping in a record: renames, EBUSY, altname changes, naming results. */
export function udevDecisionLines(log: readonly string[]): string[] {
  return log.filter(
    (l) =>
      RENAMED.test(l) ||
      FAILED.test(l) ||
      BUSY.test(l) ||
      /alternative name|altname|Policy \*[a-z]+\*|ID_NET_NAME|Using default interface naming scheme|Config file .* is applied|net_setup_link/.test(
        l,
      ),
  );
}
