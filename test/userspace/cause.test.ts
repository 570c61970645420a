// Causes of failed operations, read from the model's state and trace (src/userspace/cause.ts).

import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { renameTarget } from "../../src/userspace/cause.ts";

const SEED_RACE = "examples/scenarios/01-seed-race.yaml";

function run(text: string, kernel: string) {
  const p = parseScenario(text);
  if (!p.ok) throw new Error(p.issues.map((i) => i.message).join("; "));
  return runScenario(p.scenario, { kernel });
}

describe("renameTarget", () => {
  it("should read the device and the new name of ip link set … name", () => {
    expect(renameTarget("link set dev eth2 name ens4")).toEqual({ dev: "eth2", to: "ens4" });
    expect(renameTarget("l set eth2 up name ens4")).toEqual({ dev: "eth2", to: "ens4" });
    expect(renameTarget("link set dev eth2 up")).toBeNull();
  });
});

describe("ipFailureCause (through a run)", () => {
  it("should say the VF was opened by net_failover as it registered, and why 5.0 refuses", () => {
    const rec = JSON.parse(main(["run", SEED_RACE, "--kernel", "5.0", "--json"]).stdout) as {
      steps: { errno: string | null; cause?: string }[];
      timeline: { result: string; cause?: string }[];
    };
    const cause =
      "eth2 is UP (opened by its master eth0 (net_failover) while it registered, 1.000 s) and Linux 5.0 renames no UP device (failover slaves may from 5.1 on: IFF_LIVE_RENAME_OK, commit 8065a779f17e)";
    expect(rec.steps[3]).toMatchObject({ errno: "EBUSY", cause });
    expect(rec.timeline.find((t) => t.result === "EBUSY")?.cause).toBe(cause);
    expect(rec.steps.slice(0, 3).every((s) => s.cause === undefined)).toBe(true);
  });

  it("should name the missing IFF_LIVE_RENAME_OK on 5.1–6.1 for a device that is not a failover slave", () => {
    const text =
      "ifsim: 1\nname: v\ndevices:\n  - {id: a, type: veth, name: v0, peer: v1}\nsteps:\n  - ip: link set dev v0 up\n  - ip: link set dev v0 name x0\n";
    expect(run(text, "6.1").steps[1]?.cause).toBe(
      "v0 is UP (up since 0.000 s) and lacks IFF_LIVE_RENAME_OK, which Linux 6.1 needs to rename an UP device (only failover slaves carry it; any device from 6.2 on, commit bd039b5ea2a9)",
    );
    expect(run(text, "6.2").steps[1]).toMatchObject({ ok: true });
    expect(run(text, "6.2").steps[1]?.cause).toBeUndefined();
  });

  it("should give no cause for failures it cannot explain (EEXIST)", () => {
    const text =
      "ifsim: 1\nname: v\ndevices:\n  - {id: a, type: veth, name: v0, peer: v1}\nsteps:\n  - ip: link set dev v0 name v1\n";
    expect(run(text, "6.1").steps[0]).toMatchObject({ errno: "EEXIST" });
    expect(run(text, "6.1").steps[0]?.cause).toBeUndefined();
  });
});

describe("udevd in the timeline", () => {
  it("should record its successful renames", () => {
    const rec = runScenario(
      (() => {
        const p = parseScenario(
          'ifsim: 1\nname: u\ndevices:\n  - {id: n, type: virtio-net, mac: "52:54:00:00:00:01", slot: 3}\nudev: {generation: v256}\nsteps: [settle]\n',
        );
        if (!p.ok) throw new Error("bad");
        return p.scenario;
      })(),
      { kernel: "6.1" },
    );
    expect(rec.timeline.filter((t) => t.actor === "udevd" && t.what.startsWith("rename "))).toEqual(
      [expect.objectContaining({ what: "rename eth0 → enp0s3", result: "ok", ok: true })],
    );
  });
});
