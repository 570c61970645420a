// The failover-named invariant with udev rules files: a rule's NAME= is the name udev gives, so a
// VF named by `DRIVERS=="e1000e", NAME="vf0"` is named as it should be (predictableName follows
// the rules, not 99-default.link alone).

import { describe, expect, it } from "vitest";
import { exploreScenario } from "../../src/explore/explore.ts";
import { parseScenario } from "../../src/scenario/parse.ts";

const TEXT = `ifsim: 1
name: "rules name the VF"
kernel: "6.1"
devices:
  - id: net0
    type: virtio-net
    mac: "52:54:00:12:34:56"
    standby: true
    slot: 3
  - id: vf0
    type: pci-nic
    mac: "52:54:00:12:34:56"
    slot: 4
    failover_pair: net0
    plugged: false
udev:
  generation: v253
  files:
    /etc/udev/rules.d/90-vf.rules: |
      DRIVERS=="e1000e", NAME="RULENAME"
bringup:
  links: ["enp0s3"]
steps:
  - settle
  - plug: vf0
  - settle
`;

function explore(name: string) {
  const p = parseScenario(TEXT.replace("RULENAME", name), "rules-name.yaml");
  if (!p.ok) throw new Error(p.issues.map((i) => i.message).join("; "));
  return exploreScenario(p.scenario, { invariants: ["failover-named"], timing: "strict" });
}

describe("failover-named with a rule's NAME=", () => {
  it("should hold when the rule names the VF (no false violation against enp1s0)", () => {
    expect(explore("vf0").verdict).toBe("verified");
  });

  it("should still be violated when the rule's name is taken (the VF keeps its kernel name)", () => {
    // NAME="enp0s3" collides with the master: the rename fails with EEXIST
    const r = explore("enp0s3");
    expect(r.verdict).toBe("violated");
    if (r.verdict === "violated")
      expect(r.counterexample.violation.detail).toMatch(/is not named enp0s3$/);
  });
});
