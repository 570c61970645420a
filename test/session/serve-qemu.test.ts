// `ifsim serve --backend qemu --state DIR`: a persistent session on a booted QEMU guest, run as
// the real binary (src/cli/bin.ts bundled). Without QEMU: the refusals, and the sweep of a killed
// server's QEMU (which kills only a live qemu-system process with the recorded start time). With
// QEMU (one test, two boots): calls through `ifsim ip --state` and the socket, the socket's mode,
// kill -9 of the server (its QEMU outlives it), a restart that kills that QEMU, boots a fresh
// guest and runs the journaled calls again, and SIGTERM, which powers the guest off and leaves no
// socket, pid file or QEMU. Skips (with the reason) when QEMU cannot run here; fails instead when
// IFSIM_REAL_KERNEL=1 or CI is set.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuUnavailableReason } from "../../src/backends/qemu/index.ts";
import { callSession } from "../../src/session/client.ts";
import { qemuServeProblem, sweepStaleQemu } from "../../src/session/qemu-serve.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = qemuUnavailableReason();

let dir = "";
let cli = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ifsim-serve-qemu-"));
  // as tools/build/bundle.ts builds the binary: split, so main.ts is a chunk of its own and its
  // isMain() is false under bin.js
  cli = join(dir, "bin", "bin.js");
  buildSync({
    entryPoints: [fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))],
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir: join(dir, "bin"),
    logLevel: "warning",
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
  });
});
/** Servers started here: a failed assertion must not leave one (and its QEMU) running. */
const children = new Set<ChildProcess>();

afterAll(async () => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      await exited;
    }
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
}

async function gone(pid: number, ms = 20_000): Promise<boolean> {
  const t = Date.now();
  while (alive(pid) && Date.now() - t < ms) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** Starts `ifsim serve`; resolves once it serves (or with its exit when it refuses). */
function serve(
  args: string[],
): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, "serve", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.add(child);
    let err = "";
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const done = () => resolve({ child, stderr: () => err, exited });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      err += s;
      if (err.includes("ifsim serve: serving ")) done();
    });
    void exited.then(done);
  });
}

describe("ifsim serve --backend qemu without QEMU", () => {
  it("should refuse --seed and a bad --backend, and save no config for a refused first start", async () => {
    const s = join(dir, "refused");
    const a = await serve(["--state", s, "--backend", "qemu", "--seed", "3"]);
    expect(await a.exited).toBe(2);
    expect(a.stderr()).toContain(
      "--seed seeds the model; the real kernel in the qemu guest has none",
    );
    expect(existsSync(join(s, "config.json"))).toBe(false);
    const b = await serve(["--state", s, "--backend", "xen"]);
    expect(await b.exited).toBe(2);
    expect(b.stderr()).toContain('--backend needs model or qemu, got "xen"');
    expect(
      qemuServeProblem({
        scenario: { ifsim: 1, name: "t", steps: [] },
        machine: null,
        kernel: "5.0",
        seed: null,
        backend: "qemu",
      }),
    ).toMatch(/5\.0/);
  });

  it("should sweep only a live qemu-system process with the recorded start time", () => {
    const s = mkdtempSync(join(dir, "sweep-"));
    const rec = join(s, "qemu.pid");
    // this very process: alive, but not QEMU
    writeFileSync(rec, `${process.pid} ${startTimeOf(process.pid)}\n`);
    expect(sweepStaleQemu(s)).toBeNull();
    expect(existsSync(rec)).toBe(false);
    // a garbled record and a start time that does not match (a reused pid)
    writeFileSync(rec, "x y\n");
    expect(sweepStaleQemu(s)).toBeNull();
    writeFileSync(rec, `${process.pid} 1\n`);
    expect(sweepStaleQemu(s)).toBeNull();
    expect(alive(process.pid)).toBe(true);
  });

  it.skipIf(spawnSync("qemu-system-x86_64", ["--version"]).status !== 0)(
    "should kill a left-over QEMU named by the record",
    async () => {
      const s = mkdtempSync(join(dir, "sweep-q-"));
      const q = spawn(
        "qemu-system-x86_64",
        ["-S", "-nodefaults", "-display", "none", "-machine", "none"],
        { stdio: "ignore" },
      );
      const pid = q.pid as number;
      const exited = new Promise((r) => q.on("exit", r));
      for (
        let i = 0;
        i < 100 && !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu");
        i++
      )
        await new Promise((r) => setTimeout(r, 20));
      writeFileSync(join(s, "qemu.pid"), `${pid} ${startTimeOf(pid)}\n`);
      expect(sweepStaleQemu(s)).toBe(pid);
      await exited;
      expect(existsSync(join(s, "qemu.pid"))).toBe(false);
    },
  );
});

describe("ifsim serve --backend qemu on a real guest", () => {
  it("should find a usable QEMU (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
    if (reason && required)
      throw new Error(`IFSIM_REAL_KERNEL=1 but the qemu backend cannot run: ${reason}`);
    if (reason) console.log(`serve --backend qemu skipped: ${reason}`);
    expect(reason === null || !required).toBe(true);
  });

  it.skipIf(reason !== null)(
    "should serve the guest, survive kill -9 by a fresh boot that runs the journal again, and stop cleanly",
    async () => {
      const s = join(dir, "guest");
      const sock = join(s, "sock");
      const a = await serve(["--state", s, "--backend", "qemu", "--machine", "virtio-vm"]);
      expect(a.stderr()).toContain("(qemu guest, Linux 6.1.");
      expect(statSync(sock).mode & 0o777).toBe(0o600);
      const qemu1 = Number(readFileSync(join(s, "qemu.pid"), "utf8").split(" ")[0]);
      expect(alive(qemu1)).toBe(true);

      // `ifsim ip --state` (the binary's own path) and the socket
      const r = spawnSync(
        process.execPath,
        [cli, "ip", "--state", s, "link", "set", "eth0", "name", "lan0"],
        {
          encoding: "utf8",
        },
      );
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(
        await callSession(sock, { v: 1, op: "hv", argv: ["set-link", "net0", "down"] }),
      ).toMatchObject({
        ok: true,
        status: 0,
      });
      const eth0 = await callSession(sock, { v: 1, op: "ip", argv: ["link", "set", "eth0", "up"] });
      expect(eth0).toMatchObject({ ok: true, stderr: 'Cannot find device "eth0"\n' });

      // kill -9: the server's QEMU outlives it; the next start kills it
      a.child.kill("SIGKILL");
      await a.exited;
      expect(alive(qemu1)).toBe(true);
      const b = await serve(["--state", s]);
      expect(b.stderr()).toContain(`killed the QEMU (pid ${qemu1}) a killed server of ${s} left`);
      expect(b.stderr()).toContain(
        "ran the 3 journaled calls again on the new guest (1 exited non-zero",
      );
      expect(await gone(qemu1)).toBe(true);
      const show = await callSession(sock, {
        v: 1,
        op: "ip",
        argv: ["-br", "link", "show", "lan0"],
      });
      expect(show).toMatchObject({ ok: true, status: 0 });
      if (show.ok) expect(show.stdout).toMatch(/^lan0 +DOWN /);
      const qemu2 = Number(readFileSync(join(s, "qemu.pid"), "utf8").split(" ")[0]);
      expect(qemu2).not.toBe(qemu1);

      // SIGTERM: the guest is powered off, nothing is left behind
      b.child.kill("SIGTERM");
      expect(await b.exited).toBe(0);
      expect(b.stderr()).toContain("ifsim serve: stopped after 1 calls");
      expect(await gone(qemu2)).toBe(true);
      for (const f of ["sock", "server.pid", "qemu.pid"])
        expect(existsSync(join(s, f)), f).toBe(false);
    },
    600_000,
  );
});
