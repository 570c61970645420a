// Debian's real systemd-udevd for the qemu guest, fetched and built once into its own cache
// subdirectory (<cache>/udev-<major version>, e.g. udev-252; never installed on the host):
//   1. `apt-get download udev libudev1` and the library packages they need, transitively (the
//      `lib*` packages of their Depends: libc6, libkmod2, libacl1, libblkid1, libcap2,
//      libselinux1 and what those need: liblzma5, libzstd1, libssl3, libpcre2-8-0, libgcc-s1);
//      Debian's udev links libsystemd-shared statically into udevadm, so nothing else is needed;
//   2. `dpkg-deb -x` of each into one tree; the hwdb compiled by the package's own
//      `systemd-hwdb update --root`, run with the tree's dynamic loader and libraries;
//   3. a second newc cpio (gzip) with udevadm, its systemd-udevd link, /lib/udev (rules and
//      helpers, hwdb.bin), /lib/systemd/network (99-default.link), /etc/udev and the libraries.
//      The kernel unpacks concatenated archives in order, so the run's initrd is the base
//      initramfs followed by this one (its files win where both have one).
// Which Debian release the host's apt serves decides the udev version (bookworm: 252.x).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { type CpioEntry, cpioNewc } from "./cpio.ts";
import { run } from "./prepare.ts";

/** What the udev cache holds. */
export interface PreparedUdev {
  /** Debian's udev version, e.g. 252.39-1~deb12u2. */
  readonly version: string;
  /** The packages unpacked, "name version" each. */
  readonly packages: string[];
  /** The gzip'd cpio with udev (appended to the base initramfs). */
  readonly cpio: string;
}

function debOf(dir: string, pkg: string): string | null {
  const f = readdirSync(dir)
    .filter((n) => n.startsWith(`${pkg}_`) && n.endsWith(".deb"))
    .sort();
  return f.length > 0 ? join(dir, f[f.length - 1] as string) : null;
}

function download(dir: string, pkg: string, log: (l: string) => void): string {
  const have = debOf(dir, pkg);
  if (have) return have;
  log(`apt-get download ${pkg}`);
  const r = spawnSync("apt-get", ["download", pkg], { cwd: dir, encoding: "utf8" });
  const deb = debOf(dir, pkg);
  if (r.status !== 0 || !deb)
    throw new Error(
      `cannot fetch udev for the guest: apt-get download ${pkg} failed: ${(r.stderr ?? "").trim()}`,
    );
  return deb;
}

/** The `lib*` packages a .deb depends on (alternatives: the first). */
function libDepends(deb: string): string[] {
  const out: string[] = [];
  for (const field of ["Pre-Depends", "Depends"]) {
    const text = run("dpkg-deb", ["-f", deb, field]).trim();
    for (const alt of text.split(",")) {
      const name =
        alt
          .split("|")[0]
          ?.trim()
          .split(/[\s(:]/)[0] ?? "";
      if (/^lib/.test(name) && !/-(common|bin|modules)$/.test(name)) out.push(name);
    }
  }
  return out;
}

/** Every file and symlink under `dir` (relative paths), sorted. */
function walk(root: string, dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    const st = lstatSync(p);
    if (st.isDirectory()) walk(root, p, out);
    else out.push(relative(root, p));
  }
  return out;
}

/** Fetches udev (once) into <cache>/udev-<major> and builds its cpio. */
export function prepareUdev(cache: string, log: (l: string) => void): PreparedUdev {
  const release = aptRelease();
  const dir = join(cache, `udev-${release}`);
  const stamp = join(dir, "udev.json");
  if (existsSync(stamp)) {
    const u = JSON.parse(readFileSync(stamp, "utf8")) as PreparedUdev;
    if (existsSync(u.cpio)) return u;
  }
  const debs = join(dir, "debs");
  mkdirSync(debs, { recursive: true });
  const todo = ["udev", "libudev1"];
  const seen = new Set<string>();
  const files: string[] = [];
  while (todo.length > 0) {
    const pkg = todo.shift() as string;
    if (seen.has(pkg)) continue;
    seen.add(pkg);
    const deb = download(debs, pkg, log);
    files.push(deb);
    for (const d of libDepends(deb)) if (!seen.has(d)) todo.push(d);
  }
  const packages = files
    .map(
      (f) =>
        `${run("dpkg-deb", ["-f", f, "Package"]).trim()} ${run("dpkg-deb", ["-f", f, "Version"]).trim()}`,
    )
    .sort();
  const version = run("dpkg-deb", ["-f", files[0] as string, "Version"]).trim();
  const hash = createHash("sha256").update(packages.join("\n")).digest("hex").slice(0, 12);
  const root = join(dir, `root-${hash}`);
  if (!existsSync(join(root, ".unpacked"))) {
    const tmp = `${root}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const f of files) {
      log(`dpkg-deb -x ${f.slice(debs.length + 1)}`);
      run("dpkg-deb", ["-x", f, tmp]);
    }
    const ld = join(tmp, "lib64", "ld-linux-x86-64.so.2");
    const libPath = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]
      .map((d) => join(tmp, d))
      .join(":");
    log("systemd-hwdb update --root … (the package's own binary)");
    run(existsSync(ld) ? ld : join(tmp, "lib", "x86_64-linux-gnu", "ld-linux-x86-64.so.2"), [
      "--library-path",
      libPath,
      join(tmp, "bin", "systemd-hwdb"),
      "update",
      "--root",
      tmp,
    ]);
    writeFileSync(join(tmp, ".unpacked"), "");
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
  }
  const cpio = join(dir, `udev-${hash}.cpio.gz`);
  if (!existsSync(cpio)) {
    log(`building ${cpio.slice(dir.length + 1)}`);
    const keep = [
      "bin/udevadm",
      "lib/systemd/systemd-udevd",
      ...walk(root, join(root, "lib/udev"), []).filter((p) => !p.startsWith("lib/udev/hwdb.d/")),
      ...walk(root, join(root, "lib/systemd/network"), []),
      ...walk(root, join(root, "etc/udev"), []).filter((p) => !p.startsWith("etc/udev/hwdb.d")),
      ...walk(root, join(root, "lib/x86_64-linux-gnu"), []).filter((p) => /\.so/.test(p)),
      ...walk(root, join(root, "usr/lib/x86_64-linux-gnu"), []).filter((p) => /\.so(\.|$)/.test(p)),
      ...walk(root, join(root, "lib64"), []),
    ];
    const dirs = new Set<string>(["run/udev", "etc/systemd/network"]);
    for (const p of keep)
      for (
        let d = p.slice(0, p.lastIndexOf("/"));
        d;
        d = d.slice(0, Math.max(0, d.lastIndexOf("/")))
      )
        dirs.add(d);
    for (const d of ["run/udev", "etc/systemd/network"])
      for (let x = d; x; x = x.slice(0, Math.max(0, x.lastIndexOf("/")))) dirs.add(x);
    const entries: CpioEntry[] = [...dirs].sort().map((d) => ({ type: "dir" as const, path: d }));
    for (const p of keep) {
      const abs = join(root, p);
      const st = lstatSync(abs);
      if (st.isSymbolicLink())
        entries.push({ type: "symlink", path: p, target: readlinkSync(abs) });
      else entries.push({ type: "file", path: p, data: readFileSync(abs), mode: st.mode & 0o7777 });
    }
    const tmp = `${cpio}.tmp-${process.pid}`;
    writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 1 }));
    renameSync(tmp, cpio);
  }
  const u: PreparedUdev = { version, packages, cpio };
  writeFileSync(stamp, `${JSON.stringify(u, null, 1)}\n`);
  return u;
}

/** The major version of the udev apt serves (252 on bookworm), from `apt-cache policy udev`. */
function aptRelease(): string {
  const r = spawnSync("apt-cache", ["policy", "udev"], { encoding: "utf8" });
  const cand = /Candidate:\s*(\S+)/.exec(r.stdout ?? "")?.[1];
  if (r.status !== 0 || !cand || cand === "(none)")
    throw new Error("apt knows no udev package (apt-get update as root on a Debian host)");
  const major = /^(\d+)/.exec(cand)?.[1] ?? cand;
  return major;
}

/** The run's initrd: the base initramfs followed by the udev cpio (built once). */
export function udevInitrd(baseInitrd: string, u: PreparedUdev): string {
  const base = baseInitrd.slice(baseInitrd.lastIndexOf("/") + 1).replace(/\.cpio\.gz$/, "");
  const udev = u.cpio.slice(u.cpio.lastIndexOf("/") + 1).replace(/\.cpio\.gz$/, "");
  const dir = u.cpio.slice(0, u.cpio.lastIndexOf("/"));
  const out = join(dir, `${base}+${udev}.cpio.gz`);
  if (!existsSync(out)) {
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat([readFileSync(baseInitrd), readFileSync(u.cpio)]));
    renameSync(tmp, out);
  }
  return out;
}
