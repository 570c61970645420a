// A test a user writes in their own suite: the failover rename race, per kernel, through the
// ifsim library (npm install ifsim; see docs/library.md).

import { explore, IpModel, linkNamed, loadScenario, readRunRecords, run } from "ifsim";
import { describe, expect, it } from "vitest";

// The scenario inline (a file works too: readScenarioFile("race.yaml")).
const race = loadScenario(`
ifsim: 1
name: VF hot-plugged while the failover master is up
devices:
  - { id: net0, type: virtio-net, mac: "52:54:00:12:34:56", standby: true, slot: 3 }
  - { id: vf0, type: pci-nic, mac: "52:54:00:12:34:56", slot: 4, failover_pair: net0, plugged: false }
udev: none
steps:
  - ip: link set dev eth0 up
  - plug: vf0
  - settle
  - ip: link set dev eth2 name ens4
`);

describe("renaming a failover slave that is up", () => {
  it("fails with EBUSY on 5.0 and the VF keeps its kernel name", () => {
    const rec = run(race, { kernel: "5.0" });
    expect(rec.steps[3]?.errno).toBe("EBUSY");
    expect(linkNamed(rec, "eth2")?.master).toBe("eth0");
  });

  it.each(["5.1", "6.1", "6.18"])(
    "works on %s (IFF_LIVE_RENAME_OK, then live renames)",
    (kernel) => {
      const rec = run(race, { kernel });
      expect(rec.steps[3]?.ok).toBe(true);
      expect(linkNamed(rec, "ens4")?.master).toBe("eth0");
    },
  );
});

describe("ip on a model kernel", () => {
  it("prints what iproute2 prints, and the monitor records", () => {
    const m = new IpModel({ kernel: "6.1" });
    expect(m.ip("link add v0 type veth peer name v1").status).toBe(0);
    expect(m.ip("link set dev v0 name v1").stderr).toBe("RTNETLINK answers: File exists\n");
    expect(m.monitor()).toMatch(/^\d+: v0@v1: /m);
  });
});

describe("every interleaving with udev", () => {
  it("finds the race on 5.0 and verifies 6.1", () => {
    const sc = loadScenario(`
ifsim: 1
name: boot with udev and networkd
machine: i440fx # ACPI hot-plug slots: udev names the NIC ens3 (q35 would say enp0s3)
devices:
  - { id: net0, type: virtio-net, mac: "52:54:00:12:34:56", standby: true, slot: 3 }
udev: { generation: v253 }
bringup: { links: ["ens3"], wait_for_udev: true }
steps: []
`);
    const old = explore(sc, { kernel: "5.0", invariants: ["no-ebusy-to-udev"] });
    expect(old.verdict).toBe("violated");
    expect(explore(sc, { kernel: "6.1", invariants: ["no-ebusy-to-udev"] }).verdict).toBe(
      "verified",
    );
  });
});

describe("a run record from ifsim run --json", () => {
  it("reads back with its steps and links", () => {
    const json = JSON.stringify(run(race, { kernel: "5.0" }));
    const [rec] = readRunRecords(json);
    expect(rec?.backend).toBe("model");
    expect(rec?.steps.map((s) => s.errno)).toEqual([null, null, null, "EBUSY"]);
  });
});
