// The bring-up actor's DHCP clients (bringup.dhcp): one per managed link, none on a link udev
// marked unmanaged, and a second client on one MAC reported as such — the model behind
// examples/known-bugs/08-unmanaged-rule-misses-slave.yaml.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";

const FILE = new URL(
  "../../examples/known-bugs/08-unmanaged-rule-misses-slave.yaml",
  import.meta.url,
).pathname;
const RULES = "/etc/udev/rules.d/10-azure-unmanaged-sriov.rules";

function bug08(): ScenarioDoc {
  const p = parseScenario(readFileSync(FILE, "utf8"), FILE);
  if (!p.ok) throw new Error(p.issues.map((i) => i.message).join("; "));
  return p.scenario;
}

/** The scenario with another rules file. */
function withRule(rule: string): ScenarioDoc {
  const sc = bug08();
  const u = sc.udev as Exclude<ScenarioDoc["udev"], "none" | undefined>;
  return { ...sc, udev: { ...u, files: { [RULES]: `${rule}\n` } } };
}

const dhcpLines = (sc: ScenarioDoc): string[] =>
  runScenario(sc, { kernel: "6.1" })
    .timeline.filter((t) => t.actor === "networkd" && !t.what.endsWith("up"))
    .map((t) => `${t.what}: ${t.result}`);

describe("bring-up DHCP clients", () => {
  it("should start one on every managed link when the IFF_SLAVE rule never matches (net_failover)", () => {
    expect(dhcpLines(bug08())).toEqual([
      "enp0s3: DHCPv4 client started: MAC 52:54:00:12:34:56",
      "enp0s3nsby: DHCPv4 client started: MAC 52:54:00:12:34:56 already has a DHCP client on enp0s3: 2 clients, one MAC",
      "enp1s0: DHCPv4 client started: MAC 52:54:00:12:34:56 already has a DHCP client on enp0s3, enp0s3nsby: 3 clients, one MAC",
    ]);
    expect(runScenario(bug08(), { kernel: "6.1" }).ok).toBe(true);
  });

  it("should leave the VF alone once the rule matches the driver only (the symptom goes)", () => {
    const sc = withRule(
      'SUBSYSTEM=="net", ACTION!="remove", DRIVERS=="e1000e", ENV{NM_UNMANAGED}="1"',
    );
    expect(dhcpLines(sc)).toContain("enp1s0: no DHCP, unmanaged: udev set NM_UNMANAGED=1");
    expect(dhcpLines(sc).some((l) => l.startsWith("enp1s0: DHCPv4"))).toBe(false);
    expect(runScenario(sc, { kernel: "6.1" }).ok).toBe(false);
  });

  it("should honour ID_NET_MANAGED_BY naming another manager, and not its own", () => {
    const other = withRule(
      'SUBSYSTEM=="net", DRIVERS=="e1000e", ENV{ID_NET_MANAGED_BY}="io.systemd.Network"',
    );
    expect(dhcpLines(other)).toContain(
      "enp1s0: no DHCP, unmanaged: udev set ID_NET_MANAGED_BY=io.systemd.Network",
    );
    const ours = withRule(
      'SUBSYSTEM=="net", DRIVERS=="e1000e", ENV{ID_NET_MANAGED_BY}="org.freedesktop.NetworkManager"',
    );
    expect(dhcpLines(ours).some((l) => l.startsWith("enp1s0: DHCPv4 client started"))).toBe(true);
  });

  it("should start no client without dhcp: true", () => {
    const sc = bug08();
    const b = sc.bringup as Exclude<ScenarioDoc["bringup"], "none" | undefined>;
    const off = { ...sc, bringup: { ...b, dhcp: false } };
    expect(dhcpLines(off)).toEqual([]);
  });
});
