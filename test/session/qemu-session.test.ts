// The parts of `ifsim exec --backend qemu` that need no QEMU: the machine as the guest's
// scenario devices, what the guest session refuses, and the server's one-call-at-a-time queue
// for a session that answers later (a guest). The guest itself: test/cli/exec-qemu.test.ts.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qemuLayout } from "../../src/backends/qemu/index.ts";
import type { IpResult } from "../../src/ip/index.ts";
import { FAILOVER_VM, VIRTIO_VM } from "../../src/machine/builtins.ts";
import { callSession } from "../../src/session/client.ts";
import { parseHv } from "../../src/session/hv.ts";
import type { SessionCall } from "../../src/session/model-session.ts";
import { scenarioWithMachine } from "../../src/session/qemu-machine.ts";
import { qemuIpProblem } from "../../src/session/qemu-session.ts";
import { SessionServer } from "../../src/session/server.ts";

const BASE = { ifsim: 1 as const, name: "t", steps: [] };

describe("a machine as the qemu guest's devices", () => {
  it("should build failover-vm's NICs and say that the primary moves from bus 2 to bus 1", () => {
    const m = scenarioWithMachine(BASE, FAILOVER_VM);
    if ("error" in m) throw new Error(m.error);
    expect(m.scenario.devices).toEqual([
      {
        id: "standby0",
        type: "virtio-net",
        mac: "52:54:00:00:12:53",
        slot: 3,
        standby: true,
      },
      { id: "net1", type: "virtio-net", mac: "52:54:00:00:12:99", slot: 4 },
      {
        id: "primary0",
        type: "pci-nic",
        mac: "52:54:00:00:12:53",
        slot: 6,
        failover_pair: "standby0",
      },
    ]);
    expect(m.moved).toEqual([{ id: "primary0", machine: "0000:02:00.0", guest: "0000:01:00.0" }]);
    expect(m.scenario.modules).toEqual(FAILOVER_VM.modules);
    const l = qemuLayout(m.scenario);
    expect(l.pausedAdds).toEqual(["primary0"]);
    expect(l.nics.find((n) => n.id === "primary0")?.pairedWith).toBe("standby0");
  });

  it("should keep a machine whose addresses the guest reproduces", () => {
    const m = scenarioWithMachine(BASE, VIRTIO_VM);
    if ("error" in m) throw new Error(m.error);
    expect(m.moved).toEqual([]);
  });

  it("should refuse a device the guest cannot build, saying which", () => {
    const bad = {
      ...VIRTIO_VM,
      devices: [{ addr: "0000:00:03.0", model: "rtl8139", id: "x", mac: "52:54:00:00:00:01" }],
    };
    expect(scenarioWithMachine(BASE, bad)).toEqual({
      error: 'machine "virtio-vm" device x: model rtl8139 has no QEMU device here',
    });
    const orphan = {
      ...VIRTIO_VM,
      devices: [{ addr: "0000:03:00.0", model: "e1000e", id: "y", mac: "52:54:00:00:00:01" }],
    };
    expect(scenarioWithMachine(BASE, orphan)).toEqual({
      error: 'machine "virtio-vm" device y: bus 3 is behind no pcie-root-port of the machine',
    });
  });
});

describe("what the guest session refuses", () => {
  it("should refuse ip monitor (it never returns) in any abbreviation ip takes for it", () => {
    for (const w of ["monitor", "mon", "-br monitor"])
      expect(qemuIpProblem(w.split(" "), null)).toMatch(/^"ip monitor" runs until it is killed/);
    // "m" is maddress for ip (the first object in its table): not refused
    expect(qemuIpProblem(["m"], null)).toBeNull();
    expect(qemuIpProblem(["link", "show"], null)).toBeNull();
  });

  it("should refuse a batch file with #ifsim: hypervisor lines, which the real ip skips", () => {
    expect(qemuIpProblem(["-batch", "f"], "link show\n  #ifsim: plug vf0\n")).toMatch(
      /#ifsim: lines are hypervisor calls of the model only/,
    );
    expect(qemuIpProblem(["-batch", "f"], "link show\n# a comment\n")).toBeNull();
  });

  it("should parse ifsim-hv the same for both sessions", () => {
    expect(parseHv(["set-link", "vf0", "down"])).toEqual({
      verb: "set-link",
      id: "vf0",
      up: false,
    });
    expect(parseHv(["sleep", "2s"])).toEqual({ verb: "sleep", ms: 2000 });
    const bad = parseHv(["sleep"]);
    expect("output" in bad && bad.output.status).toBe(2);
  });
});

describe("the server with a session that answers later", () => {
  it("should run one call at a time, in arrival order, across connections", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-srv-"));
    const sock = join(dir, "sock");
    let running = 0;
    let overlap = false;
    const seen: string[] = [];
    const target = {
      async call(c: SessionCall): Promise<IpResult> {
        running++;
        if (running > 1) overlap = true;
        seen.push(c.argv.join(" "));
        // the first call is the slowest: a later one must still wait for it
        await new Promise((r) => setTimeout(r, c.argv[0] === "0" ? 60 : 5));
        running--;
        const text = `${c.argv.join(" ")}\n`;
        return { stdout: text, stderr: "", status: 0, chunks: [{ fd: 1, text }] };
      },
    };
    const server = await SessionServer.listen({ socketPath: sock, session: target, journal: null });
    try {
      const answers = await Promise.all(
        ["0", "1", "2", "3"].map(async (n, i) => {
          await new Promise((r) => setTimeout(r, i * 10));
          return callSession(sock, { v: 1, op: "hv", argv: [n] });
        }),
      );
      expect(overlap).toBe(false);
      expect(seen).toEqual(["0", "1", "2", "3"]);
      expect(answers.map((a) => (a.ok ? a.stdout : a.error))).toEqual(["0\n", "1\n", "2\n", "3\n"]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
