// Everything the qemu backend needs on the host, fetched and built once into a cache directory
// ($IFSIM_QEMU_CACHE, default ~/.cache/ifsim/qemu); nothing goes into the repository and nothing
// is installed on the host:
//   1. Debian's kernel: `apt-get download linux-image-amd64`, then the real package it depends on
//      (linux-image-6.1.0-NN-amd64), unpacked with `dpkg-deb -x`; `depmod -b` (the .deb ships no
//      modules.dep);
//   2. an uncompressed vmlinux cut out of the bzImage (the first xz, else gzip, stream that
//      decompresses to an ELF): QEMU boots it through its PVH note about twice as fast;
//   3. an initramfs (newc cpio, gzip): static busybox, the host's /usr/sbin/ip with the
//      libraries ldd lists and /etc/iproute2, the NIC modules (decompressed when the package
//      ships them compressed) in load order, and the guest scripts of guest.ts. Its name carries
//      a hash of its inputs, so a changed agent or iproute2 gives a new image.

import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { type CpioEntry, cpioNewc } from "./cpio.ts";
import { GUEST_AGENT, GUEST_INIT, GUEST_MODLIB, GUEST_MODPROBE } from "./guest.ts";
import { aptDownload, DEFAULT_RELEASE, type QemuRelease } from "./release.ts";

/**
 * The modules a scenario names (`modules:`, `modprobe:`), in the default boot order. Each one is
 * loaded with its dependencies first, as modprobe resolves them (virtio_ring virtio
 * virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net e1000e).
 */
export const SCENARIO_MODULES = [
  "virtio_pci",
  "failover",
  "net_failover",
  "virtio_net",
  "e1000e",
] as const;

/**
 * Modules the guest loads on demand, as the kernel asks for them (request_module("rtnl-link-veth")
 * when `ip link add … type veth` names a kind no loaded module provides): the guest's
 * /proc/sys/kernel/modprobe is GUEST_MODPROBE. Only what the model has: veth. (ifb is left out:
 * Debian loads it with numifbs=0, and its boot-time ifb0/ifb1 are not modelled.)
 */
export const ON_DEMAND_MODULES = ["veth"] as const;

/** What a prepared cache holds. */
export interface Prepared {
  /** The Debian release the kernel comes from. */
  readonly release: QemuRelease;
  /** `uname -r` of the guest, e.g. 6.1.0-56-amd64. */
  readonly kver: string;
  /** Debian package and version, e.g. linux-image-6.1.0-56-amd64 6.1.192-2. */
  readonly kpkg: string;
  readonly pkgVersion: string;
  readonly vmlinux: string;
  readonly initrd: string;
  readonly modules: string[];
  readonly ipVersion: string;
}

/** The cache directory. */
export function cacheDir(): string {
  return process.env.IFSIM_QEMU_CACHE || join(homedir(), ".cache", "ifsim", "qemu");
}

function have(cmd: string, args: string[] = ["--version"]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return !r.error;
}

/** Runs a tool and returns its stdout; a failure throws with the tool's stderr. */
export function run(cmd: string, args: string[], o: { cwd?: string } = {}): string {
  try {
    return execFileSync(cmd, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
      ...o,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(err.stderr ?? "").trim() || err.message}`);
  }
}

/** True if the ELF file has no program interpreter (statically linked). */
export function isStaticElf(path: string): boolean {
  const b = readFileSync(path);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

/** A statically linked busybox on this host, or null. */
export function staticBusybox(): string | null {
  for (const p of ["/bin/busybox", "/usr/bin/busybox"])
    if (existsSync(p) && isStaticElf(p)) return p;
  return null;
}

/** The kernel stamp of a release's prepared kernel. */
function kernelStamp(cache: string, r: QemuRelease): string {
  return join(cache, `kernel-${r.suite}.json`);
}

/** The release's kernel already unpacked in the cache, or null. */
function cachedKernel(
  cache: string,
  r: QemuRelease,
): { kver: string; kpkg: string; pkgVersion: string } | null {
  // A cache prepared before several releases were kept has bookworm's in kernel.json.
  const stamps = [
    kernelStamp(cache, r),
    ...(r === DEFAULT_RELEASE ? [join(cache, "kernel.json")] : []),
  ];
  for (const f of stamps) {
    if (!existsSync(f)) continue;
    const k = JSON.parse(readFileSync(f, "utf8")) as {
      kver: string;
      kpkg: string;
      pkgVersion: string;
    };
    if (!k.pkgVersion.startsWith(`${r.kernel}.`)) continue;
    if (
      existsSync(join(cache, `vmlinux-${k.kver}`)) &&
      existsSync(join(cache, `root-${k.kver}`, ".unpacked"))
    )
      return k;
  }
  return null;
}

/** True when the release's kernel is in the cache (nothing to fetch). */
export function kernelCached(r: QemuRelease): boolean {
  return cachedKernel(cacheDir(), r) !== null;
}

/**
 * Why this host cannot prepare or run the backend, or null. Cheap (no network, no download):
 * QEMU, the host tools the initramfs is built from, and a way to get the kernel.
 */
export function prepareProblem(r: QemuRelease = DEFAULT_RELEASE): string | null {
  if (process.platform !== "linux") return "the qemu backend runs on Linux hosts only";
  if (!have("qemu-system-x86_64"))
    return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
  if (!existsSync("/usr/sbin/ip")) return "/usr/sbin/ip is missing (apt-get install iproute2)";
  if (!staticBusybox()) return "no static busybox (apt-get install busybox-static)";
  if (!have("modprobe", ["--version"])) return "modprobe is missing (apt-get install kmod)";
  if (!have("ldd", ["--version"])) return "ldd is missing (apt-get install libc-bin)";
  if (cachedKernel(cacheDir(), r)) return null;
  if (!have("apt-get"))
    return `the ${r.kernel} kernel is not cached and apt-get is missing (Debian/Ubuntu host needed)`;
  if (!have("dpkg-deb")) return "dpkg-deb is missing";
  if (!have("depmod", ["--version"])) return "depmod is missing (apt-get install kmod)";
  if (!have("xz")) return "xz is missing (apt-get install xz-utils)";
  return null;
}

function newest(dir: string, prefix: string): string | null {
  const debs = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".deb"))
    .sort();
  return debs.length > 0 ? join(dir, debs[debs.length - 1] as string) : null;
}

/** Fetches and unpacks the release's kernel (once). */
function prepareKernel(cache: string, r: QemuRelease, log: (l: string) => void) {
  const cached = cachedKernel(cache, r);
  if (cached) return cached;
  const debs = join(cache, "debs", r.suite);
  mkdirSync(debs, { recursive: true });
  let meta = newest(debs, "linux-image-amd64_");
  if (!meta) {
    aptDownload(cache, r, debs, "linux-image-amd64", log);
    meta = newest(debs, "linux-image-amd64_");
  }
  if (!meta) throw new Error("apt-get download linux-image-amd64 left no .deb");
  const depends = run("dpkg-deb", ["-f", meta, "Depends"]);
  const kpkg = /(linux-image-\d[^\s,]*-amd64)/.exec(depends)?.[1];
  if (!kpkg) throw new Error(`${basename(meta)} depends on no linux-image-N-amd64: ${depends}`);
  const kver = kpkg.slice("linux-image-".length);
  let deb = newest(debs, `${kpkg}_`);
  if (!deb) {
    aptDownload(cache, r, debs, kpkg, log);
    deb = newest(debs, `${kpkg}_`);
  }
  if (!deb) throw new Error(`apt-get download ${kpkg} left no .deb`);
  const pkgVersion = run("dpkg-deb", ["-f", deb, "Version"]).trim();
  const root = join(cache, `root-${kver}`);
  if (!existsSync(join(root, ".unpacked"))) {
    const tmp = `${root}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    log(`dpkg-deb -x ${basename(deb)}`);
    run("dpkg-deb", ["-x", deb, tmp]);
    // merged /usr (trixie): the modules are in /usr/lib/modules; depmod -b and modprobe -d look
    // in <root>/lib/modules
    if (
      !existsSync(join(tmp, "lib", "modules")) &&
      existsSync(join(tmp, "usr", "lib", "modules"))
    ) {
      mkdirSync(join(tmp, "lib"), { recursive: true });
      renameSync(join(tmp, "usr", "lib", "modules"), join(tmp, "lib", "modules"));
    }
    log(`depmod -b … ${kver}`);
    run("depmod", ["-b", tmp, kver]);
    writeFileSync(join(tmp, ".unpacked"), "");
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
  }
  const vmlinux = join(cache, `vmlinux-${kver}`);
  if (!existsSync(vmlinux)) extractVmlinux(join(root, "boot", `vmlinuz-${kver}`), vmlinux, log);
  const k = { kver, kpkg, pkgVersion };
  writeFileSync(kernelStamp(cache, r), `${JSON.stringify(k)}\n`);
  return k;
}

/** Cuts the uncompressed kernel (an ELF) out of a bzImage (xz: bullseye, bookworm; zstd: trixie). */
export function extractVmlinux(vmlinuz: string, out: string, log: (l: string) => void): void {
  const img = readFileSync(vmlinuz);
  const tmp = `${out}.tmp-${process.pid}`;
  const tryStream = (off: number, cmd: string): boolean => {
    const fd = openSync(tmp, "w");
    try {
      spawnSync(cmd, ["-dc"], { input: img.subarray(off), stdio: ["pipe", fd, "ignore"] });
    } finally {
      closeSync(fd);
    }
    const head = readFileSync(tmp).subarray(0, 4);
    return head.length === 4 && head.readUInt32BE(0) === 0x7f454c46 && statSync(tmp).size > 1e6;
  };
  const offsets = (magic: Buffer): number[] => {
    const r: number[] = [];
    for (let i = img.indexOf(magic); i >= 0; i = img.indexOf(magic, i + 1)) r.push(i);
    return r;
  };
  for (const [magic, cmd] of [
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), "xz"],
    [Buffer.from([0x1f, 0x8b, 0x08]), "gzip"],
    [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), "zstd"],
  ] as const) {
    for (const off of offsets(magic)) {
      if (tryStream(off, cmd)) {
        renameSync(tmp, out);
        log(`vmlinux extracted (${cmd} stream at ${off})`);
        return;
      }
    }
  }
  rmSync(tmp, { force: true });
  throw new Error(
    `no xz, gzip or zstd stream in ${vmlinuz} decompresses to an ELF kernel (is zstd installed? apt-get install zstd)`,
  );
}

/** Each scenario module's files, dependencies first, as modprobe resolves them. */
function moduleFiles(root: string, kver: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of [...SCENARIO_MODULES, ...ON_DEMAND_MODULES]) {
    const files: string[] = [];
    const text = run("modprobe", ["-d", root, "-S", kver, "--show-depends", m]);
    for (const line of text.split("\n")) {
      const [kind, path] = line.trim().split(/\s+/);
      if (kind === "insmod" && path && !files.includes(path)) files.push(path);
    }
    out.set(m, files);
  }
  return out;
}

/** A module's contents, decompressed. */
function moduleData(path: string): { name: string; data: Buffer } {
  const name = basename(path).replace(/\.(xz|zst|gz)$/, "");
  if (path.endsWith(".ko")) return { name, data: readFileSync(path) };
  const tool = path.endsWith(".xz") ? "xz" : path.endsWith(".zst") ? "zstd" : "gzip";
  const r = spawnSync(tool, ["-dc", path], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0 || r.error)
    throw new Error(
      `cannot decompress ${path} with ${tool} (apt-get install ${tool === "xz" ? "xz-utils" : tool})`,
    );
  return { name, data: r.stdout };
}

/** Libraries `ldd BIN` lists (absolute paths). */
function libsOf(bin: string): string[] {
  const out = run("ldd", [bin]);
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

function addParents(dirs: Set<string>, path: string): void {
  for (let d = dirname(path); d !== "." && d !== "/" && d !== ""; d = dirname(d)) dirs.add(d);
}

/** Builds (or finds) the initramfs for kernel `kver`. */
function prepareInitramfs(cache: string, kver: string, log: (l: string) => void) {
  const root = join(cache, `root-${kver}`);
  const busybox = staticBusybox();
  if (!busybox) throw new Error("no static busybox (apt-get install busybox-static)");
  const deps = moduleFiles(root, kver);
  const paths = [...new Set([...deps.values()].flat())];
  const modules = paths.map(moduleData);
  const ipBin = readFileSync("/usr/sbin/ip");
  const libs = libsOf("/usr/sbin/ip");
  const bb = readFileSync(busybox);
  const h = createHash("sha256");
  for (const part of [
    "ip-wrapper-1",
    GUEST_INIT,
    GUEST_AGENT,
    GUEST_MODLIB,
    GUEST_MODPROBE,
    ipBin,
    bb,
    ...libs,
    ...modules.map((m) => m.name),
  ])
    h.update(part);
  const hash = h.digest("hex").slice(0, 12);
  const initrd = join(cache, `initramfs-${kver}-${hash}.cpio.gz`);
  const names = modules.map((m) => m.name);
  if (existsSync(initrd)) return { initrd, modules: names };
  log(`building ${basename(initrd)}`);
  const files: CpioEntry[] = [];
  const dirs = new Set<string>([
    "bin",
    "sbin",
    "usr",
    "usr/bin",
    "usr/sbin",
    "etc",
    "proc",
    "sys",
    "dev",
    "tmp",
    "run",
    "root",
    "lib/modules/ifsim",
  ]);
  addParents(dirs, "lib/modules/ifsim/x");
  files.push({ type: "file", path: "bin/busybox", data: bb, mode: 0o755 });
  const applets = run(busybox, ["--list"])
    .split("\n")
    .filter((a) => a && a !== "busybox");
  for (const a of applets) files.push({ type: "symlink", path: `bin/${a}`, target: "busybox" });
  // The host's ip runs with the host's libraries, kept apart in /ifsim/host/lib: the guest's
  // standard library directories hold the udev release's libc (bullseye's is older than the
  // one the host's ip was built against). The wrapper execs (the agent's pids stay ip's).
  const loader = libs.find((l) => /\/ld-linux[^/]*\.so/.test(l));
  if (!loader) throw new Error(`ldd /usr/sbin/ip lists no dynamic loader: ${libs.join(" ")}`);
  dirs.add("ifsim");
  dirs.add("ifsim/host");
  dirs.add("ifsim/host/lib");
  files.push({ type: "file", path: "ifsim/host/ip", data: ipBin, mode: 0o755 });
  for (const lib of libs)
    files.push({
      type: "file",
      path: `ifsim/host/lib/${basename(lib)}`,
      data: readFileSync(lib),
      mode: 0o755,
    });
  files.push({
    type: "file",
    path: "usr/sbin/ip",
    data: Buffer.from(
      `#!/bin/sh\nexec /ifsim/host/lib/${basename(loader)} --library-path /ifsim/host/lib /ifsim/host/ip "$@"\n`,
    ),
    mode: 0o755,
  });
  if (existsSync("/etc/iproute2"))
    for (const f of readdirSync("/etc/iproute2")) {
      const p = join("/etc/iproute2", f);
      if (statSync(p).isFile()) {
        dirs.add("etc/iproute2");
        files.push({ type: "file", path: `etc/iproute2/${f}`, data: readFileSync(p) });
      }
    }
  for (const m of modules)
    files.push({ type: "file", path: `lib/modules/ifsim/${m.name}`, data: m.data });
  dirs.add("lib/modules/ifsim/deps");
  for (const [m, ps] of deps)
    files.push({
      type: "file",
      path: `lib/modules/ifsim/deps/${m}`,
      data: Buffer.from(`${ps.map((x) => moduleData(x).name).join("\n")}\n`),
    });
  files.push({ type: "file", path: "init", data: Buffer.from(GUEST_INIT), mode: 0o755 });
  files.push({ type: "file", path: "agent.sh", data: Buffer.from(GUEST_AGENT), mode: 0o755 });
  files.push({ type: "file", path: "modlib.sh", data: Buffer.from(GUEST_MODLIB) });
  files.push({
    type: "file",
    path: "sbin/ifsim-modprobe",
    data: Buffer.from(GUEST_MODPROBE),
    mode: 0o755,
  });
  const entries: CpioEntry[] = [
    ...[...dirs].sort().map((d) => ({ type: "dir" as const, path: d })),
    ...files,
  ];
  const tmp = `${initrd}.tmp-${process.pid}`;
  writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 1 }));
  renameSync(tmp, initrd);
  return { initrd, modules: names };
}

const memo = new Map<string, Prepared>();

/**
 * Fetches the release's kernel (default: bookworm's 6.1) and builds the initramfs when needed;
 * returns what a run uses (once per process, cache directory and release).
 */
export function prepare(
  log: (l: string) => void = () => {},
  r: QemuRelease = DEFAULT_RELEASE,
): Prepared {
  const key = `${cacheDir()}\n${r.suite}`;
  const have = memo.get(key);
  if (have) return have;
  const prepared = prepareNow(log, r);
  memo.set(key, prepared);
  return prepared;
}

function prepareNow(log: (l: string) => void, r: QemuRelease): Prepared {
  const problem = prepareProblem(r);
  if (problem) throw new Error(problem);
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  const k = prepareKernel(cache, r, log);
  const { initrd, modules } = prepareInitramfs(cache, k.kver, log);
  const ipVersion = run("/usr/sbin/ip", ["-V"]).split("\n")[0] ?? "";
  return {
    ...k,
    release: r,
    vmlinux: join(cache, `vmlinux-${k.kver}`),
    initrd,
    modules,
    ipVersion,
  };
}
