// Prepares the qemu backend (src/backends/qemu/prepare.ts): fetches Debian's kernel with
// apt-get download into $IFSIM_QEMU_CACHE (default ~/.cache/ifsim/qemu), extracts vmlinux and
// builds the initramfs; fetches Debian's udev (and its libraries) the same way into
// <cache>/udev-<major> for scenarios with a `udev:` actor. Idempotent. Run: npx tsx tools/qemu-capture/prepare-backend.ts

import { performance } from "node:perf_hooks";
import {
  cacheDir,
  prepare,
  prepareUdev,
  qemuUnavailableReason,
} from "../../src/backends/qemu/index.ts";

const reason = qemuUnavailableReason();
if (reason) {
  console.error(`qemu backend unavailable: ${reason}`);
  process.exit(1);
}
const t0 = performance.now();
const p = prepare((l) => console.error(`[qemu prepare] ${l}`));
console.log(
  `qemu backend ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${p.kpkg} ${p.pkgVersion} (${p.kver}), ${p.ipVersion}; cache ${cacheDir()}`,
);
const u = prepareUdev(cacheDir(), (l) => console.error(`[qemu prepare] ${l}`));
console.log(`real udev for the guest: udev ${u.version} (${u.packages.length} packages)`);
