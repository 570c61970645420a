// The qemu backend boots a guest again when it crashed before the agent answered (an emulator
// fault, not the system under test); a boot that timed out or failed otherwise is not retried.

import { describe, expect, it } from "vitest";
import { BOOT_ATTEMPTS, bootCrash } from "../../src/backends/qemu/run.ts";

// What CI run 19 printed for a Debian 6.12 guest under TCG (shortened).
const PANIC = `the guest did not boot: QEMU exited (code 0): qemu-system-x86_64: warning: hub port hp2 has no peer
--- guest console (last 40 lines) ---
[    1.953285] RIP: 0010:sched_clock_cpu+0x9/0x1d0
[    1.953506] Kernel panic - not syncing: Fatal exception in interrupt
[    4.655992] Kernel Offset: disabled`;

describe("qemu backend: a boot that crashed", () => {
  it("should name the panic and where it happened", () => {
    expect(bootCrash(new Error(PANIC))).toBe(
      "Kernel panic - not syncing: Fatal exception in interrupt, RIP sched_clock_cpu+0x9/0x1d0",
    );
  });

  it("should say only that QEMU exited when the console names no panic", () => {
    expect(bootCrash(new Error("the guest did not boot: QEMU exited (SIGKILL)\n"))).toBe(
      "QEMU exited",
    );
  });

  it("should not retry a timeout or any other error", () => {
    expect(bootCrash(new Error("the guest did not boot: no agent after 120000 ms\n"))).toBeNull();
    expect(bootCrash(new Error("cannot start qemu-system-x86_64: ENOENT"))).toBeNull();
    expect(bootCrash("QEMU exited")).toBeNull();
  });

  it("should try a few times, not forever", () => {
    expect(BOOT_ATTEMPTS).toBeGreaterThan(1);
    expect(BOOT_ATTEMPTS).toBeLessThanOrEqual(3);
  });
});
