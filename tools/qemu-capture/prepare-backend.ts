// Prepares the qemu backend (src/backends/qemu/prepare.ts) for each Debian release it boots
// (bullseye 5.10, bookworm 6.1, trixie 6.12; or the kernels given as arguments): fetches the
// release's kernel with apt-get download (a private apt configuration per release, see
// release.ts) into $IFSIM_QEMU_CACHE (default ~/.cache/ifsim/qemu), extracts vmlinux and builds
// the initramfs; fetches the release's udev (and its libraries) the same way into
// <cache>/udev-<major> for scenarios with a `udev:` actor. Idempotent.
// Run: npx tsx tools/qemu-capture/prepare-backend.ts [5.10 6.1 6.12]

import { performance } from "node:perf_hooks";
import {
  cacheDir,
  prepare,
  prepareUdev,
  QEMU_RELEASES,
  qemuUnavailableReason,
  releaseKernels,
  releaseOf,
} from "../../src/backends/qemu/index.ts";

const reason = qemuUnavailableReason();
if (reason) {
  console.error(`qemu backend unavailable: ${reason}`);
  process.exit(1);
}
const asked = process.argv.slice(2);
const releases = asked.length === 0 ? QEMU_RELEASES : asked.map((k) => releaseOf(k));
for (const [i, r] of releases.entries()) {
  if (!r) {
    console.error(
      `no Debian release ships kernel ${asked[i]} (the qemu backend boots ${releaseKernels()})`,
    );
    process.exit(2);
  }
  const log = (l: string) => console.error(`[qemu prepare ${r.kernel}] ${l}`);
  const t0 = performance.now();
  const p = prepare(log, r);
  const u = prepareUdev(cacheDir(), log, r);
  console.log(
    `qemu backend ${r.kernel} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: Debian ${r.suite}, ${p.kpkg} ${p.pkgVersion} (${p.kver}), udev ${u.version} (${u.packages.length} packages), ${p.ipVersion}; cache ${cacheDir()}`,
  );
}
