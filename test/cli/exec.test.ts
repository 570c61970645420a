// `ifsim exec`: an unmodified script against the model, per kernel, and (as root) the same
// script against the host kernel in a network namespace with the same output.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { netnsUnavailableReason } from "../../src/backends/netns.ts";
import { majorMinor } from "../../src/backends/netns-backend.ts";
import { main } from "../../src/cli/main.ts";
import { profileFor, SUPPORTED_KERNELS } from "../../src/kernel/index.ts";
import { testSeed } from "../_helpers/seed.ts";

const VF = new URL("../../examples/exec/failover-vf.sh", import.meta.url).pathname;
const VETH = new URL("../../examples/exec/veth-lifecycle.sh", import.meta.url).pathname;

describe("ifsim exec on the model", () => {
  it("should refuse the live rename of the re-plugged VF on 5.0 (EBUSY) and allow it on 6.1", async () => {
    const old = await main(["exec", "--kernel", "5.0", "--machine", "failover-vm", "--", VF]);
    expect(old.status).toBe(0);
    expect(old.stderr).toBe("RTNETLINK answers: Device or resource busy\n");
    expect(old.stdout).toContain("rename VF: exit 2\n");
    expect(old.stdout).toMatch(/^\d+: eth3: .* master eth0 state UP/m);
    const now = await main(["exec", "--kernel", "6.1", "--machine", "failover-vm", "--", VF]);
    expect(now.stderr).toBe("");
    expect(now.stdout).toContain("rename VF: exit 0\n");
    const final = now.stdout.split("--- ip link show (after the command) ---\n")[1] ?? "";
    expect(final).toMatch(/^\d+: vf0: .* master eth0 state UP/m);
    expect(final).not.toMatch(/lan0|veth1/);
  });

  it("should give the same output for the same script, kernel and seed", async () => {
    const a = await main([
      "exec",
      "--kernel",
      "5.0",
      "--machine",
      "failover-vm",
      "--monitor",
      "--",
      VF,
    ]);
    const b = await main([
      "exec",
      "--kernel",
      "5.0",
      "--machine",
      "failover-vm",
      "--monitor",
      "--",
      VF,
    ]);
    expect(a.stdout).toContain("--- ip monitor link (the whole run) ---\n");
    // The command's output comes through pipes: the chunking of its writes may differ.
    expect({ ...b, chunks: undefined }).toEqual({ ...a, chunks: undefined });
  });

  it("should print the calls and the run record with --json", async () => {
    const r = await main([
      "exec",
      "--kernel",
      "6.1",
      "--json",
      "--",
      "sh",
      "-c",
      "ip link add x0 type ifb; ifsim-hv sleep 1s; ip link frob; exit 3",
    ]);
    expect(r.status).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ backend: "model", kernel: "6.1", status: 3 });
    expect(
      j.calls.map((c: { argv: string[]; status: number }) => [c.argv.join(" "), c.status]),
    ).toEqual([
      ["link add x0 type ifb", 0],
      ["sleep 1s", 0],
      ["link frob", 255],
    ]);
    expect(j.calls[1].tEnd - j.calls[1].t).toBe(1_000_000);
    expect(j.stderr).toBe('Command "frob" is unknown, try "ip link help".\n');
    expect(j.record.links.map((l: { ifname: string }) => l.ifname)).toEqual(["lo", "x0"]);
  });

  it("should run the udev actor of --udev", async () => {
    const r = await main([
      "exec",
      "--kernel",
      "6.1",
      "--machine",
      "failover-vm",
      "--udev",
      "v256",
      "--",
      "ip",
      "-br",
      "link",
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^enp0s3 /m);
  });

  it("should boot a scenario's devices and run its steps before the command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-exec-sc-"));
    const file = join(dir, "s.yaml");
    writeFileSync(
      file,
      'ifsim: 1\nname: t\nkernel: "5.0"\ndevices:\n  - { id: a, type: veth, name: v0, peer: v1 }\nsteps:\n  - ip: link set v0 name w0\n',
    );
    try {
      const r = await main(["exec", file, "--", "ip", "-br", "link"]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^w0@v1 /m);
      const both = await main(["exec", file, "--kernel", "6.1", "--json", "--", "true"]);
      expect(JSON.parse(both.stdout)).toMatchObject({ kernel: "6.1" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should pass the command's exit status through, 127 when it cannot start", async () => {
    expect((await main(["exec", "--", "sh", "-c", "exit 7"])).status).toBe(7);
    const r = await main(["exec", "--", "/nonexistent/cmd"]);
    expect(r.status).toBe(127);
    expect(r.stderr).toBe('ifsim exec: cannot run "/nonexistent/cmd": ENOENT\n');
  });

  it("should refuse bad options with a usage error", async () => {
    expect(await main(["exec", "--kernel", "6.1"])).toMatchObject({
      status: 2,
      stderr:
        "ifsim exec: give the command after --, e.g. ifsim exec --kernel 6.1 -- ./script.sh\n",
    });
    expect(await main(["exec", "--udev", "v999", "--", "true"])).toMatchObject({ status: 2 });
    expect(await main(["exec", "--kernel", "9.9", "--", "true"])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^ifsim exec: Unknown kernel version "9\.9"/),
    });
    expect(await main(["exec", "--machine", "failover-vm", "x.yaml", "--", "true"])).toMatchObject({
      status: 2,
      stderr: "ifsim exec: give --machine M or a scenario FILE.yaml, not both\n",
    });
    // --backend qemu runs (test/cli/exec-qemu.test.ts); an unknown backend is refused
    expect(await main(["exec", "--backend", "kvm", "--", "true"])).toMatchObject({ status: 2 });
  });
});

describe(`ifsim exec options (seed ${testSeed()})`, () => {
  const WORDS = [
    "--kernel",
    "5.0",
    "6.1",
    "9.9",
    "--machine",
    "failover-vm",
    "nope",
    "--udev",
    "v250",
    "none",
    "--seed",
    "-1",
    "7",
    "--json",
    "--monitor",
    "--backend",
    "model",
    "qemu",
    "x.yaml",
    "--frob",
    "--help",
  ];
  it("should answer any option list with 0 (ran), 2 (usage) or the help, never an internal error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...WORDS), { maxLength: 6 }), async (words) => {
        const r = await main(["exec", ...words, "--", "true"]);
        expect([0, 2]).toContain(r.status);
        if (r.status === 2) expect(r.stderr).toMatch(/^ifsim exec: \S/);
      }),
      { seed: testSeed(), numRuns: 25 },
    );
  });
});

describe("ifsim ip --state", () => {
  it("should say how to start the session when no server runs", async () => {
    const r = await main(["ip", "--state", "/nonexistent-ifsim-state", "link"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^ifsim ip: cannot reach the model at \/nonexistent-ifsim-state\/sock: ENOENT \(start it with ifsim serve --state/,
    );
  });

  it("should refuse the options of a fresh kernel next to --state", async () => {
    const r = await main(["ip", "--state", "/tmp/x", "--kernel", "5.0", "link"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--kernel is an option of a fresh kernel/);
  });
});

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const host = majorMinor(release());
/**
 * The model's profile for the host: its own version, else the nearest below it (the script's
 * outcome depends only on the rename era, E1 for 5.1–6.1 and E2 from 6.2, which the nearest
 * lower profile shares).
 */
const hostProfile = (() => {
  const [maj, min] = host.split(".").map(Number) as [number, number];
  const below = SUPPORTED_KERNELS.filter((v) => {
    const [a, b] = v.split(".").map(Number) as [number, number];
    return a < maj || (a === maj && b <= min);
  });
  const v = below[below.length - 1];
  return v === undefined || v.split(".")[0] !== String(maj) ? null : profileFor(v).version;
})();
const reason =
  netnsUnavailableReason() ??
  (hostProfile === null
    ? `the model has no profile for the host kernel ${host} or an earlier one of its major version`
    : null);

describe("ifsim exec --backend netns (the host kernel)", () => {
  if (reason !== null && required) {
    it("should have what the real-kernel test needs", () => {
      throw new Error(`The netns exec test must run here but cannot: ${reason}`);
    });
    return;
  }
  const itReal = it.skipIf(reason !== null);
  const suffix = reason ? ` (skipped: ${reason})` : "";

  itReal(
    `should print what the model (profile ${hostProfile}) prints for the kernel-only script${suffix}`,
    async () => {
      const real = await main(["exec", "--backend", "netns", "--", VETH]);
      const model = await main(["exec", "--kernel", hostProfile as string, "--", VETH]);
      expect(real.status).toBe(0);
      expect({ ...model, chunks: undefined }).toEqual({ ...real, chunks: undefined });
    },
  );

  itReal(`should refuse hypervisor actions in the namespace${suffix}`, async () => {
    const r = await main([
      "exec",
      "--backend",
      "netns",
      "--",
      "sh",
      "-c",
      "ifsim-hv plug primary0; echo $?",
    ]);
    expect(r.stdout).toMatch(/^2\n/);
    expect(r.stderr).toMatch(/^ifsim-hv: the netns backend cannot "plug primary0"/);
  });
});
