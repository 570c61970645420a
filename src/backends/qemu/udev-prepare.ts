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
// Each release (release.ts) has its own udev: bullseye 247, bookworm 252, trixie 257.

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
import { aptCandidate, aptDownload, DEFAULT_RELEASE, type QemuRelease } from "./release.ts";

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** What the udev cache holds. */
export interface PreparedUdev {
  /** Debian's udev version, e.g. 252.39-1~deb12u2. */
  readonly version: string;
  /** Its major version ("252"). */
  readonly major: string;
  /** The Debian suite it comes from. */
  readonly suite: string;
  /** The packages unpacked, "name version" each. */
  readonly packages: string[];
  /** The AlternativeNamesPolicy= of the release's 99-default.link ("database onboard slot path"). */
  readonly alternativeNamesPolicy: string;
  /** The gzip'd cpio with udev (appended to the base initramfs). */
  readonly cpio: string;
}

function debOf(dir: string, pkg: string): string | null {
  const f = readdirSync(dir)
    .filter((n) => n.startsWith(`${pkg}_`) && n.endsWith(".deb"))
    .sort();
  return f.length > 0 ? join(dir, f[f.length - 1] as string) : null;
}

function download(
  cache: string,
  r: QemuRelease,
  dir: string,
  pkg: string,
  log: (l: string) => void,
): string {
  const have = debOf(dir, pkg);
  if (have) return have;
  aptDownload(cache, r, dir, pkg, log);
  const deb = debOf(dir, pkg);
  if (!deb)
    throw new Error(`cannot fetch udev for the guest: apt-get download ${pkg} left no .deb`);
  return deb;
}

/** The library packages a .deb depends on: `lib*` and zlib1g (alternatives: the first). */
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
      if (/^(lib|zlib1g$)/.test(name) && !/-(common|bin|modules)$/.test(name)) out.push(name);
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

/** AlternativeNamesPolicy= of 99-default.link in the unpacked udev under `dir` ("" when none). */
function defaultAltPolicy(dir: string): string {
  for (const root of readdirSync(dir).filter((n) => /^root-[0-9a-f]+$/.test(n)))
    for (const f of [
      "lib/systemd/network/99-default.link",
      "usr/lib/systemd/network/99-default.link",
    ]) {
      const p = join(dir, root, f);
      if (!existsSync(p)) continue;
      const m = /^AlternativeNamesPolicy=(.*)$/m.exec(readFileSync(p, "utf8"));
      return (m?.[1] ?? "").trim();
    }
  return "";
}

/** The major version of the udev the release ships ("252" for bookworm). */
export function udevMajor(cache: string, r: QemuRelease, log: (l: string) => void): string {
  const stamp = join(cache, `udev-${r.suite}.major`);
  if (existsSync(stamp)) return readFileSync(stamp, "utf8").trim();
  const cand = aptCandidate(cache, r, "udev", log);
  if (!cand) throw new Error(`Debian ${r.suite} has no udev package (apt-get update failed?)`);
  const major = /^(\d+)/.exec(cand)?.[1] ?? cand;
  if (major !== r.udevMajor)
    throw new Error(
      `Debian ${r.suite} serves udev ${cand}, not ${r.udevMajor} as release.ts says: update QEMU_RELEASES`,
    );
  writeFileSync(stamp, `${major}\n`);
  return major;
}

/**
 * Fetches the release's udev (once) into <cache>/udev-<major> and builds its cpio. On a
 * merged-/usr release (trixie) the files stay where the packages put them (/usr/bin,
 * /usr/lib/udev, …: that udevd looks only there) and /bin/udevadm, /lib/systemd/systemd-udevd and
 * /lib64's loader are symlinks to them (the guest's /bin and /lib are the initramfs's own).
 */
export function prepareUdev(
  cache: string,
  log: (l: string) => void,
  r: QemuRelease = DEFAULT_RELEASE,
): PreparedUdev {
  const release = udevMajor(cache, r, log);
  const dir = join(cache, `udev-${release}`);
  const stamp = join(dir, "udev.json");
  if (existsSync(stamp)) {
    const u = JSON.parse(readFileSync(stamp, "utf8")) as PreparedUdev;
    if (existsSync(u.cpio))
      return {
        ...u,
        major: release,
        suite: r.suite,
        alternativeNamesPolicy: u.alternativeNamesPolicy ?? defaultAltPolicy(dir),
      };
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
    const deb = download(cache, r, debs, pkg, log);
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
    const ld = ["lib64", "usr/lib64", "lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]
      .map((d) => join(tmp, d, "ld-linux-x86-64.so.2"))
      .find((f) => existsSync(f));
    if (!ld) throw new Error(`no ld-linux-x86-64.so.2 in the udev packages of ${r.suite}`);
    // libsystemd-shared-NNN.so sits in …/x86_64-linux-gnu/systemd (the binaries' RUNPATH)
    const libPath = [
      "lib/x86_64-linux-gnu",
      "usr/lib/x86_64-linux-gnu",
      "lib/x86_64-linux-gnu/systemd",
      "usr/lib/x86_64-linux-gnu/systemd",
    ]
      .map((d) => join(tmp, d))
      .join(":");
    const hwdb = ["bin", "usr/bin"]
      .map((d) => join(tmp, d, "systemd-hwdb"))
      .find((f) => existsSync(f));
    if (!hwdb) throw new Error(`no systemd-hwdb in the udev package of ${r.suite}`);
    log("systemd-hwdb update --root … (the package's own binary)");
    run(ld, ["--library-path", libPath, hwdb, "update", "--root", tmp]);
    // every library udevadm links is in the tree (a missing one stops udevd in the guest)
    const udevadm = ["bin", "usr/bin"]
      .map((d) => join(tmp, d, "udevadm"))
      .find((f) => existsSync(f));
    if (!udevadm) throw new Error(`no udevadm in the udev package of ${r.suite}`);
    const missing = run(ld, ["--library-path", libPath, "--list", udevadm])
      .split("\n")
      .filter((l) => l.includes("not found"));
    if (missing.length > 0)
      throw new Error(
        `udevadm of ${r.suite} needs libraries no package gave: ${missing.join("; ")}`,
      );
    writeFileSync(join(tmp, ".unpacked"), "");
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
  }
  const cpio = join(dir, `udev-${hash}.cpio.gz`);
  if (!existsSync(cpio)) {
    log(`building ${cpio.slice(dir.length + 1)}`);
    const keep: string[] = [];
    for (const pre of ["", "usr/"]) {
      for (const f of [`${pre}bin/udevadm`, `${pre}lib/systemd/systemd-udevd`])
        if (existsSync(join(root, f)) || isLink(join(root, f))) keep.push(f);
      keep.push(
        ...walk(root, join(root, `${pre}lib/udev`), []).filter(
          (p) => !p.startsWith(`${pre}lib/udev/hwdb.d/`),
        ),
        ...walk(root, join(root, `${pre}lib/systemd/network`), []),
        ...walk(root, join(root, `${pre}lib/x86_64-linux-gnu`), []).filter((p) =>
          /\.so(\.|$)/.test(p),
        ),
        ...walk(root, join(root, `${pre}lib64`), []),
      );
    }
    keep.push(
      ...walk(root, join(root, "etc/udev"), []).filter((p) => !p.startsWith("etc/udev/hwdb.d")),
    );
    // merged /usr: what the guest's scripts call by its split-/usr path
    const compat: [string, string][] = [];
    for (const [at, to] of [
      ["bin/udevadm", "/usr/bin/udevadm"],
      ["lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd"],
      ["lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"],
    ] as const)
      if (!keep.includes(at) && keep.includes(to.slice(1))) compat.push([at, to]);
    const dirs = new Set<string>(["run/udev", "etc/systemd/network"]);
    for (const p of [...keep, ...compat.map(([at]) => at)])
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
    for (const [at, to] of compat) entries.push({ type: "symlink", path: at, target: to });
    const tmp = `${cpio}.tmp-${process.pid}`;
    writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 1 }));
    renameSync(tmp, cpio);
  }
  const u: PreparedUdev = {
    version,
    major: release,
    suite: r.suite,
    packages,
    cpio,
    alternativeNamesPolicy: defaultAltPolicy(dir),
  };
  writeFileSync(stamp, `${JSON.stringify(u, null, 1)}\n`);
  return u;
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
