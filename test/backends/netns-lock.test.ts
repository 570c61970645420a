// Namespace locks and the sweep of dead runs' leftovers: a lock nobody holds is a dead run's,
// and its namespace (with what runs inside) goes; a held lock and a namespace without a lock
// file are someone else's and stay. Needs root and ip netns (skipped with the reason, required
// in CI).

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { netnsUnavailableReason } from "../../src/backends/netns.ts";
import {
  dropLock,
  NETNS_RUN_DIR,
  namespaceInode,
  processesInNamespace,
  sweepDeadNamespaces,
  sweptText,
  takeLock,
} from "../../src/backends/netns-lock.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = netnsUnavailableReason();

describe("sweptText", () => {
  it("should name the namespace, the processes killed and the dead owner", () => {
    expect(
      sweptText({ name: "ifsim-run-7-abc", owner: "pid 7 start 99", namespace: true, killed: [8] }),
    ).toBe(
      'ifsim: netns: removed network namespace "ifsim-run-7-abc" and 1 process(es) inside it (8) left by a dead run (pid 7 start 99)',
    );
    expect(
      sweptText({ name: "ifsim-run-7-abc", owner: "pid 7 start 99", namespace: false, killed: [] }),
    ).toBe(
      'ifsim: netns: removed the lock of "ifsim-run-7-abc" (no namespace) left by a dead run (pid 7 start 99)',
    );
  });
});

describe("sweepDeadNamespaces", () => {
  if (reason !== null && required) {
    it("should have what the real-kernel test needs", () => {
      throw new Error(`The netns lock test must run here but cannot: ${reason}`);
    });
    return;
  }
  const suffix = reason ? ` (skipped: ${reason})` : "";

  it.skipIf(reason !== null)(
    `should remove a dead run's namespace and its processes, and leave live and unlocked ones${suffix}`,
    async () => {
      // Its own lock directory: a concurrent run's sweep must not take this test's dead lock.
      const dir = mkdtempSync("/run/ifsim-locktest-");
      // A dead run's leftovers: a lock file nobody holds, its namespace, a process inside.
      const dead = `ifsim-test-${process.pid}-dead`;
      writeFileSync(`${dir}/${dead}.lock`, "pid 4242 start 1\n");
      expect(spawnSync("ip", ["netns", "add", dead]).status).toBe(0);
      const inside = spawn("ip", ["netns", "exec", dead, "sleep", "60"], {
        detached: true,
        stdio: "ignore",
      });
      const ino = namespaceInode(dead);
      expect(ino).not.toBeNull();
      for (let i = 0; i < 100 && processesInNamespace(ino as number).length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(processesInNamespace(ino as number)).toEqual([inside.pid]);
      // A live run's namespace (this process holds the lock) and a namespace without a lock.
      const live = takeLock("ifsim-test", dir);
      expect(spawnSync("ip", ["netns", "add", live.name]).status).toBe(0);
      const other = `ifsim-test-${process.pid}-nolock`;
      expect(spawnSync("ip", ["netns", "add", other]).status).toBe(0);
      try {
        const swept = sweepDeadNamespaces(dir);
        expect(swept).toEqual([
          { name: dead, owner: "pid 4242 start 1", namespace: true, killed: [inside.pid] },
        ]);
        expect(existsSync(`${NETNS_RUN_DIR}/${dead}`)).toBe(false);
        expect(existsSync(`${dir}/${dead}.lock`)).toBe(false);
        expect(existsSync(`${NETNS_RUN_DIR}/${live.name}`)).toBe(true);
        expect(existsSync(live.path)).toBe(true);
        expect(existsSync(`${NETNS_RUN_DIR}/${other}`)).toBe(true);
      } finally {
        for (const n of [live.name, other, dead]) spawnSync("ip", ["netns", "del", n]);
        dropLock(live);
        rmSync(dir, { recursive: true, force: true });
      }
      expect(existsSync(live.path)).toBe(false);
    },
  );

  it.skipIf(reason !== null)(
    `should give each lock a fresh name and release it on drop${suffix}`,
    () => {
      const dir = mkdtempSync("/run/ifsim-locktest-");
      const a = takeLock("ifsim-test", dir);
      const b = takeLock("ifsim-test", dir);
      expect(a.name).toMatch(new RegExp(`^ifsim-test-${process.pid}-[0-9a-f]{6}$`));
      expect(b.name).not.toBe(a.name);
      // Held: a sweep leaves the lock files alone.
      expect(sweepDeadNamespaces(dir)).toEqual([]);
      expect(existsSync(a.path)).toBe(true);
      dropLock(a);
      dropLock(b);
      expect(existsSync(a.path)).toBe(false);
      expect(existsSync(b.path)).toBe(false);
      rmSync(dir, { recursive: true, force: true });
    },
  );
});
