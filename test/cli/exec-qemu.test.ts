// `ifsim exec --backend qemu`: the same unmodified script on the real Debian 6.1 kernel in a QEMU
// guest and on the model's 6.1 profile gives the same output, byte for byte: what the script
// prints (ip's answers, the VF's rename status), the final `ip link show` and every
// `ip monitor link` record of the run. One guest boot for the whole file.
//
// Skips (with the reason) when QEMU cannot run here; fails instead when IFSIM_REAL_KERNEL=1 or
// CI is set (CI installs everything in .ci/run and must really run it).

import { describe, expect, it } from "vitest";
import { qemuUnavailableReason } from "../../src/backends/qemu/index.ts";
import { main } from "../../src/cli/main.ts";

const VF = new URL("../../examples/exec/failover-vf.sh", import.meta.url).pathname;
const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = qemuUnavailableReason();

describe("ifsim exec --backend qemu: what it refuses before booting", () => {
  it("should refuse a seed, another kernel and an unknown backend, saying why", async () => {
    const seed = await main(["exec", "--backend", "qemu", "--seed", "3", "--", "true"]);
    expect(seed.status).toBe(2);
    expect(seed.stderr).toMatch(/--seed seeds the model; the real kernel in the qemu guest/);
    const old = await main(["exec", "--backend", "qemu", "--kernel", "5.0", "--", "true"]);
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/boots Debian's Linux 5.10, 6.1, 6.12 \(asked for 5.0\)/);
    const bad = await main(["exec", "--backend", "kvm", "--", "true"]);
    expect(bad.stderr).toBe('ifsim exec: --backend needs model, netns or qemu, got "kvm"\n');
  });
});

describe("ifsim exec --backend qemu: the real 6.1 kernel against the model", () => {
  it("should find a usable QEMU (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
    if (reason && required)
      throw new Error(`IFSIM_REAL_KERNEL=1 but the qemu backend cannot run: ${reason}`);
    expect(reason === null || !required).toBe(true);
  });

  it.skipIf(reason !== null)(
    `should print the same for examples/exec/failover-vf.sh on qemu 6.1 and on the model 6.1${reason ? ` (skipped: ${reason})` : ""}`,
    async () => {
      const args = ["--kernel", "6.1", "--machine", "failover-vm", "--monitor", "--", VF];
      const real = await main(["exec", "--backend", "qemu", ...args]);
      const model = await main(["exec", ...args]);
      expect(real.stderr).toBe("");
      expect(real.status).toBe(0);
      // the VF re-plugged mid-script is renamed while net_failover holds it open (6.1)
      expect(real.stdout).toContain("rename VF: exit 0\n");
      const [, final = ""] = real.stdout.split("--- ip link show (after the command) ---\n");
      expect(final).toMatch(/^8: vf0: <BROADCAST,MULTICAST,UP,LOWER_UP> .* master eth0 state UP/m);
      expect(final).toContain("--- ip monitor link (the whole run) ---\n");
      expect({ ...real, chunks: undefined }).toEqual({ ...model, chunks: undefined });
    },
    900_000,
  );
});
