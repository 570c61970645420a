// `--link-dir DIR`, `--rules-dir DIR` and `--netplan FILE`: a user's udev configuration read from
// disk into the scenario's `udev.files` (the .link files as /etc/systemd/network/<name>, the rules
// as /etc/udev/rules.d/<name>, the netplan YAML as /etc/netplan/<name>). A symlink to /dev/null
// (how files are masked on a real system) becomes an empty file, which masks the same way.

import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { basename, join } from "node:path";
import type { ScenarioDoc } from "../scenario/schema.ts";
import { readInput } from "./io.ts";

/** The flags' values, in the order given. */
export interface UdevFlags {
  readonly linkDirs: string[];
  readonly rulesDirs: string[];
  readonly netplan: string[];
}

/** Empty flags. */
export function noUdevFlags(): UdevFlags {
  return { linkDirs: [], rulesDirs: [], netplan: [] };
}

/**
 * Takes `argv[i]` if it is one of the flags (its value is `argv[i + 1]`). Returns the index of
 * the value consumed, null when `argv[i]` is not a udev flag, or an error message.
 */
export function takeUdevFlag(
  argv: readonly string[],
  i: number,
  f: UdevFlags,
): number | null | { error: string } {
  const a = argv[i];
  const list =
    a === "--link-dir"
      ? f.linkDirs
      : a === "--rules-dir"
        ? f.rulesDirs
        : a === "--netplan"
          ? f.netplan
          : null;
  if (list === null) return null;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith("--"))
    return { error: `${a} needs ${a === "--netplan" ? "a YAML file" : "a directory"}` };
  list.push(v);
  return i + 1;
}

function readOne(path: string): { text: string } | { error: string } {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink() && readlinkSync(path) === "/dev/null") return { text: "" };
  } catch {
    // readInput reports it
  }
  return readInput(path);
}

/** Reads the files the flags name: absolute guest path → text, and notes on what was skipped. */
export function readUdevFlags(
  f: UdevFlags,
): { files: Record<string, string>; notes: string[] } | { error: string } {
  const files: Record<string, string> = {};
  const notes: string[] = [];
  const dirs: [string[], string, string][] = [
    [f.linkDirs, ".link", "/etc/systemd/network"],
    [f.rulesDirs, ".rules", "/etc/udev/rules.d"],
  ];
  for (const [list, ext, to] of dirs)
    for (const dir of list) {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch (e) {
        return { error: `cannot read directory "${dir}": ${(e as Error).message}` };
      }
      for (const n of names) {
        if (!n.endsWith(ext)) {
          notes.push(`${join(dir, n)}: not a ${ext} file, not read (udev reads only *${ext})`);
          continue;
        }
        const r = readOne(join(dir, n));
        if ("error" in r) return r;
        files[`${to}/${n}`] = r.text;
      }
    }
  for (const p of f.netplan) {
    const r = readOne(p);
    if ("error" in r) return r;
    const n = basename(p);
    if (!n.endsWith(".yaml")) return { error: `--netplan ${p}: netplan reads only *.yaml files` };
    files[`/etc/netplan/${n}`] = r.text;
  }
  return { files, notes };
}

/** The scenario with `files` added to its `udev.files` (udev turned on when it was absent). */
export function withUdevFiles(
  sc: ScenarioDoc,
  files: Readonly<Record<string, string>>,
): ScenarioDoc | { error: string } {
  if (Object.keys(files).length === 0) return sc;
  if (sc.udev === "none")
    return {
      error: "the scenario says udev: none, so no udev reads --link-dir/--rules-dir/--netplan",
    };
  const u = sc.udev ?? {};
  return { ...sc, udev: { ...u, files: { ...(u.files ?? {}), ...files } } };
}

/** The help lines of the flags. */
export const UDEV_FLAGS_HELP = `  --link-dir DIR  DIR's *.link files as /etc/systemd/network/<name> (repeatable)
  --rules-dir DIR DIR's *.rules files as /etc/udev/rules.d/<name> (repeatable)
  --netplan FILE  netplan YAML as /etc/netplan/<name>, turned into the .link and .rules files
                  netplan generate writes (repeatable); a symlink to /dev/null masks, as on disk.
                  These turn udev on if the scenario has no udev:, and add to its udev.files;
                  what the model does not take is reported by file and line (docs/link-files.md)
`;
