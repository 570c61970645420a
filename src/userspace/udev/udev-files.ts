// The configuration files udevd reads, as they would lie on disk: .link files in systemd's
// network directories, rules in udev's rules directories, and netplan YAML (turned into the .link
// and .rules files `netplan generate` writes). Directory precedence as conf_files_list_strv() of
// systemd 252: a file in an earlier directory masks a same-named file in a later one (an empty
// file masks, as a symlink to /dev/null does), and the survivors apply in base-name order. The
// files udev itself ships (99-default.link of the udev generation in use, 80-net-setup-link.rules)
// sit in /usr/lib and can be masked the same way.

import { netplanGenerate } from "../netplan.ts";
import { parseLinkFile } from "./link-config.ts";
import { DEFAULT_NAME_POLICY, type LinkFile, type NamePolicy } from "./link-policy.ts";
import { parseRulesFile, type RulesFile } from "./rules.ts";
import type { ConfDiagnostic } from "./systemd-conf.ts";

/** NETWORK_DIRS of systemd 252, highest priority first (Debian adds /lib/systemd/network). */
export const NETWORK_DIRS = [
  "/etc/systemd/network",
  "/run/systemd/network",
  "/usr/local/lib/systemd/network",
  "/usr/lib/systemd/network",
  "/lib/systemd/network",
] as const;

/** udev's rules directories, highest priority first. */
export const RULES_DIRS = [
  "/etc/udev/rules.d",
  "/run/udev/rules.d",
  "/usr/local/lib/udev/rules.d",
  "/usr/lib/udev/rules.d",
  "/lib/udev/rules.d",
] as const;

/** Where udev's own 99-default.link and 80-net-setup-link.rules live in the model. */
export const DEFAULT_LINK_PATH = "/usr/lib/systemd/network/99-default.link";
export const NET_SETUP_LINK_RULES_PATH = "/usr/lib/udev/rules.d/80-net-setup-link.rules";

/**
 * 99-default.link as systemd ships it. From v245 on it carries AlternativeNamesPolicy=, with
 * `mac` added by v256 (Debian trixie's 257 ships it so); udev of 2013 (the legacy generation)
 * had no `keep` policy.
 */
export function defaultLinkText(generation: string, namePolicy?: readonly NamePolicy[]): string {
  const legacy = generation === "legacy";
  const policy = namePolicy ?? DEFAULT_NAME_POLICY.filter((p) => !legacy || p !== "keep");
  return [
    "[Match]",
    "OriginalName=*",
    "",
    "[Link]",
    `NamePolicy=${policy.join(" ")}`,
    ...(legacy
      ? []
      : [
          `AlternativeNamesPolicy=database onboard slot path${generation === "v256" ? " mac" : ""}`,
        ]),
    "MACAddressPolicy=persistent",
    "",
  ].join("\n");
}

/** 80-net-setup-link.rules as systemd 252 ships it. */
export const NET_SETUP_LINK_RULES = [
  'SUBSYSTEM!="net", GOTO="net_setup_link_end"',
  "",
  'IMPORT{builtin}="path_id"',
  "",
  'ACTION=="remove", GOTO="net_setup_link_end"',
  "",
  'IMPORT{builtin}="net_setup_link"',
  "",
  'NAME=="", ENV{ID_NET_NAME}!="", NAME="$env{ID_NET_NAME}"',
  "",
  'LABEL="net_setup_link_end"',
  "",
].join("\n");

/** What udevd loads. */
export interface UdevFiles {
  /** .link files in the order udevd tries them. */
  readonly links: LinkFile[];
  /** Rules files in the order udevd runs them. */
  readonly rules: RulesFile[];
  /** Every file on the model's disk (the user's, netplan's output, udev's own), by path. */
  readonly disk: Record<string, string>;
  /** Which file won for each base name, and which it masked. */
  readonly masked: { readonly path: string; readonly by: string }[];
  readonly diagnostics: ConfDiagnostic[];
}

/** Options for loadUdevFiles. */
export interface UdevFilesOptions {
  /** The udev generation (its 99-default.link). */
  readonly generation: string;
  /** Replaces 99-default.link's NamePolicy= (the scenario's udev.name_policy). */
  readonly namePolicy?: readonly NamePolicy[];
}

function inDir(path: string, dirs: readonly string[]): string | null {
  for (const d of dirs)
    if (path.startsWith(`${d}/`) && !path.slice(d.length + 1).includes("/")) return d;
  return null;
}

/** Chooses, per base name, the file of the highest-priority directory; sorted by base name. */
function select(
  paths: readonly string[],
  dirs: readonly string[],
  masked: { path: string; by: string }[],
): string[] {
  const win = new Map<string, string>();
  for (const d of dirs)
    for (const p of paths) {
      if (inDir(p, [d]) === null) continue;
      const base = p.slice(d.length + 1);
      const w = win.get(base);
      if (w === undefined) win.set(base, p);
      else masked.push({ path: p, by: w });
    }
  return [...win.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((e) => e[1]);
}

/**
 * Loads the model's udev configuration from files given by absolute path. Paths outside the
 * known directories, or with other extensions, are reported and not used.
 */
export function loadUdevFiles(
  files: Readonly<Record<string, string>>,
  o: UdevFilesOptions,
): UdevFiles {
  const diagnostics: ConfDiagnostic[] = [];
  for (const [p, t] of Object.entries(files))
    if (typeof t !== "string") throw new TypeError(`loadUdevFiles: ${p} is not text`);
  const np = netplanGenerate(files);
  diagnostics.push(...np.diagnostics);
  const disk: Record<string, string> = {
    [DEFAULT_LINK_PATH]: defaultLinkText(o.generation, o.namePolicy),
    [NET_SETUP_LINK_RULES_PATH]: NET_SETUP_LINK_RULES,
    ...np.files,
  };
  for (const [p, t] of Object.entries(files)) {
    if (inDir(p, ["/lib/netplan", "/etc/netplan", "/run/netplan"]) !== null && p.endsWith(".yaml"))
      continue;
    const isLink = p.endsWith(".link") && inDir(p, NETWORK_DIRS) !== null;
    const isRules = p.endsWith(".rules") && inDir(p, RULES_DIRS) !== null;
    if (!isLink && !isRules) {
      diagnostics.push({
        file: p,
        line: 0,
        level: "error",
        message: /\.link\.d\//.test(p)
          ? "drop-in directories (.link.d/*.conf) are not modelled: file not used"
          : `not a .link file in ${NETWORK_DIRS.join(", ")}, a .rules file in ${RULES_DIRS.join(", ")} or netplan YAML in /etc/netplan, /run/netplan, /lib/netplan: file not used`,
      });
      continue;
    }
    disk[p] = t;
  }
  const masked: { path: string; by: string }[] = [];
  const paths = Object.keys(disk);
  const links: LinkFile[] = [];
  for (const p of select(paths, NETWORK_DIRS, masked)) {
    if (!p.endsWith(".link")) continue;
    const r = parseLinkFile(disk[p] as string, p);
    // udev's own 99-default.link is not the user's to hear about
    if (p !== DEFAULT_LINK_PATH) diagnostics.push(...r.diagnostics);
    if (r.link) links.push(r.link);
  }
  const rules: RulesFile[] = [];
  for (const p of select(paths, RULES_DIRS, masked)) {
    if (!p.endsWith(".rules")) continue;
    const r = parseRulesFile(disk[p] as string, p);
    diagnostics.push(...r.diagnostics);
    rules.push(r.file);
  }
  return { links, rules, disk, masked, diagnostics };
}

/** A diagnostic as one line: "file:line: level: message". */
export function formatConfDiagnostic(d: ConfDiagnostic): string {
  return `${d.file}${d.line > 0 ? `:${d.line}` : ""}: ${d.level}: ${d.message}`;
}
