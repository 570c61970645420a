// The Debian releases the qemu backend boots, one per kernel version: each with its own kernel,
// modules and udev (and that release's libc and libraries for udev in the guest), fetched with
// `apt-get download` through a private apt configuration per release under
// <cache>/apt/<suite> (its own sources.list, lists and archive cache; the host's apt sources
// and state are neither read nor changed, so a bookworm host serves bullseye and trixie too).

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A Debian release the qemu backend can boot. */
export interface QemuRelease {
  /** The kernel version (major.minor) it ships, as `--kernel` names it. */
  readonly kernel: string;
  /** Debian's suite. */
  readonly suite: string;
  /** The major version of the systemd-udevd the release ships (a stable release keeps it). */
  readonly udevMajor: string;
  /**
   * The kernel's default qdisc (CONFIG_DEFAULT_NET_SCH of Debian's config; bullseye's 5.10 sets
   * none, so pfifo_fast): the guest runs no systemd to set net.core.default_qdisc.
   */
  readonly defaultQdisc: "fq_codel" | "pfifo_fast";
}

/** The releases, oldest first. The default is bookworm's 6.1. */
export const QEMU_RELEASES: readonly QemuRelease[] = [
  { kernel: "5.10", suite: "bullseye", udevMajor: "247", defaultQdisc: "pfifo_fast" },
  { kernel: "6.1", suite: "bookworm", udevMajor: "252", defaultQdisc: "fq_codel" },
  { kernel: "6.12", suite: "trixie", udevMajor: "257", defaultQdisc: "fq_codel" },
];

/** The release used when no kernel is asked for. */
export const DEFAULT_RELEASE = QEMU_RELEASES[1] as QemuRelease;

/**
 * The release whose kernel is `kernel` ("6.12", or a longer version such as "6.12.38"), the
 * default for null, or null when no release ships it.
 */
export function releaseOf(kernel: string | null | undefined): QemuRelease | null {
  if (kernel == null || kernel === "") return DEFAULT_RELEASE;
  return (
    QEMU_RELEASES.find((r) => kernel === r.kernel || kernel.startsWith(`${r.kernel}.`)) ?? null
  );
}

/** The kernels the backend can boot, for messages: "5.10, 6.1, 6.12". */
export function releaseKernels(): string {
  return QEMU_RELEASES.map((r) => r.kernel).join(", ");
}

/** Debian's archive ($IFSIM_DEBIAN_MIRROR, default deb.debian.org). */
function mirror(): string {
  return (process.env.IFSIM_DEBIAN_MIRROR || "http://deb.debian.org/debian").replace(/\/+$/, "");
}

/** The security archive of the mirror (…/debian-security). */
function securityMirror(): string {
  return process.env.IFSIM_DEBIAN_SECURITY_MIRROR || `${mirror()}-security`;
}

/** The `-o` options that point apt at the release's private configuration (created here). */
export function aptOptions(cache: string, r: QemuRelease): string[] {
  const dir = join(cache, "apt", r.suite);
  const list = join(dir, "sources.list");
  for (const d of ["lists/partial", "archives/partial"])
    mkdirSync(join(dir, d), { recursive: true });
  const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
  const signed = existsSync(keyring) ? ` [signed-by=${keyring}]` : "";
  const text = [
    `deb${signed} ${mirror()} ${r.suite} main`,
    `deb${signed} ${mirror()} ${r.suite}-updates main`,
    `deb${signed} ${securityMirror()} ${r.suite}-security main`,
    "",
  ].join("\n");
  writeFileSync(list, text);
  return [
    "-o",
    `Dir::State=${dir}`,
    "-o",
    `Dir::State::Lists=${join(dir, "lists")}`,
    "-o",
    "Dir::State::status=/dev/null",
    "-o",
    `Dir::Cache=${dir}`,
    "-o",
    `Dir::Cache::archives=${join(dir, "archives")}`,
    "-o",
    `Dir::Etc::SourceList=${list}`,
    "-o",
    "Dir::Etc::SourceParts=/dev/null",
    "-o",
    "APT::Sandbox::User=root",
  ];
}

const updated = new Set<string>();

/** `apt-get update` of the release's private configuration (once per process). */
export function aptUpdate(cache: string, r: QemuRelease, log: (l: string) => void): void {
  const key = `${cache}\n${r.suite}`;
  if (updated.has(key)) return;
  log(`apt-get update (${r.suite})`);
  const res = spawnSync("apt-get", [...aptOptions(cache, r), "update", "-qq"], {
    encoding: "utf8",
  });
  if (res.status !== 0 || res.error)
    throw new Error(
      `apt-get update for Debian ${r.suite} failed: ${(res.stderr ?? "").trim() || res.error?.message}`,
    );
  updated.add(key);
}

/**
 * `apt-get download PKG` from the release into `dir`; updates the release's lists first when
 * the package is unknown. Throws with apt's message.
 */
export function aptDownload(
  cache: string,
  r: QemuRelease,
  dir: string,
  pkg: string,
  log: (l: string) => void,
): void {
  const tryIt = () =>
    spawnSync("apt-get", [...aptOptions(cache, r), "download", pkg], {
      cwd: dir,
      encoding: "utf8",
    });
  log(`apt-get download ${pkg} (${r.suite})`);
  if (tryIt().status === 0) return;
  aptUpdate(cache, r, log);
  const again = tryIt();
  if (again.status !== 0)
    throw new Error(
      `apt-get download ${pkg} from Debian ${r.suite} failed: ${(again.stderr ?? "").trim()} (prepare the ${r.kernel} guest once, as root, with network access to Debian's archive: npx tsx tools/qemu-capture/prepare-backend.ts ${r.kernel})`,
    );
}

/** The version apt would download of `pkg` from the release ("252.39-1~deb12u1"), or null. */
export function aptCandidate(
  cache: string,
  r: QemuRelease,
  pkg: string,
  log: (l: string) => void,
): string | null {
  const ask = () =>
    /Candidate:\s*(\S+)/.exec(
      spawnSync("apt-cache", [...aptOptions(cache, r), "policy", pkg], { encoding: "utf8" })
        .stdout ?? "",
    )?.[1] ?? null;
  const c = ask();
  if (c && c !== "(none)") return c;
  aptUpdate(cache, r, log);
  const c2 = ask();
  return c2 && c2 !== "(none)" ? c2 : null;
}
