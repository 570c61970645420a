// The scenario's udev configuration files (`udev.files`, with netplan YAML already turned into
// the .link and .rules files netplan generate writes) put into the guest: one more newc cpio
// appended to the run's initrd, so the files lie where the scenario says before udevd starts.
// Nothing else changes in the guest: its own 99-default.link and rules stay where Debian puts them.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type CpioEntry, cpioNewc } from "./cpio.ts";

/** The initrd with `files` (absolute path → text) added, cached under `dir` by content. */
export function initrdWithFiles(
  initrd: string,
  files: Readonly<Record<string, string>>,
  dir: string,
): string {
  const paths = Object.keys(files).sort();
  if (paths.length === 0) return initrd;
  const dirs = new Set<string>();
  for (const p of paths)
    for (let d = p.slice(0, p.lastIndexOf("/")); d.length > 1; d = d.slice(0, d.lastIndexOf("/")))
      dirs.add(d.slice(1));
  const entries: CpioEntry[] = [
    ...[...dirs].sort().map((d) => ({ type: "dir" as const, path: d })),
    ...paths.map((p) => ({
      type: "file" as const,
      path: p.slice(1),
      data: Buffer.from(files[p] as string, "utf8"),
      mode: 0o644,
    })),
  ];
  const extra = gzipSync(cpioNewc(entries), { level: 1 });
  const hash = createHash("sha256")
    .update(readFileSync(initrd))
    .update(extra)
    .digest("hex")
    .slice(0, 12);
  const out = join(dir, `initrd-files-${hash}.cpio.gz`);
  if (!existsSync(out)) {
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([readFileSync(initrd), extra]));
    renameSync(tmp, out);
  }
  return out;
}
