// The bring-up actor with wait_for_udev waits as networkd does (link_check_initialized): not only
// for udev's database entry but until it has no ID_RENAMING (device_is_renaming). udevd (v253 and
// later) saves the entry with ID_RENAMING and without the rules' properties just before it renames
// a link, then writes it again with them; the rename's `move` event drops ID_RENAMING. A bring-up
// that acted on the first entry saw a link under its new name without NM_UNMANAGED: in the QEMU
// guest, real udevd 252 on 6.1 once gave the VF of test/conformance/qemu-udev/09-bringup-dhcp.yaml
// a DHCP client that the driver rule had forbidden (CI, stop 25). This is that case, shrunk: the
// scenario's run on the model, with every bring-up action checked against udev's state.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { ScenarioDoc } from "../../src/scenario/schema.ts";
import { scenarioUdev } from "../../src/scenario/udev.ts";
import type { Udevd } from "../../src/userspace/udev/index.ts";

const FILE = new URL("../conformance/qemu-udev/09-bringup-dhcp.yaml", import.meta.url).pathname;

function scenario(generation: string): ScenarioDoc {
  const p = parseScenario(readFileSync(FILE, "utf8"), FILE);
  if (!p.ok) throw new Error(p.issues.map((i) => i.message).join("; "));
  const u = p.scenario.udev as Exclude<ScenarioDoc["udev"], "none" | undefined>;
  return { ...p.scenario, udev: { ...u, generation: generation as never } };
}

interface Seen {
  readonly what: string;
  readonly initialized: boolean;
  readonly renaming: boolean;
}

/** Runs the scenario; for every networkd line, udev's state of that link at that moment. */
function run(generation: string, kernel: string): { seen: Seen[]; dhcp: string[] } {
  const seen: Seen[] = [];
  const rec = runScenario(scenario(generation), {
    kernel,
    udev: (w, cfg) => {
      const u: Udevd = scenarioUdev(w, cfg);
      const record = w.record.bind(w);
      w.record = (actor, what, result, ok, cause) => {
        if (actor === "networkd") {
          const name = what.split(":")[0] as string;
          const dev = [...w.k.state.devices.values()].find((d) => d.name === name);
          if (!dev) throw new Error(`networkd named an unknown link: ${what}`);
          seen.push({
            what,
            initialized: u.isInitialized(dev.ifindex),
            renaming: u.isRenaming(dev.ifindex),
          });
        }
        record(actor, what, result, ok, cause);
      };
      return u;
    },
  });
  return { seen, dhcp: rec.timeline.filter((t) => t.actor === "networkd").map((t) => t.what) };
}

describe("bring-up waits for udev as networkd does", () => {
  for (const [gen, kernel] of [
    ["v253", "6.1"],
    ["v249", "5.10"],
    ["v256", "6.12"],
  ] as const) {
    it(`should act on no link that udev is still renaming (udev ${gen}, Linux ${kernel})`, () => {
      const { seen, dhcp } = run(gen, kernel);
      // master, standby and VF: each brought up (or found up) and given a DHCP decision
      expect(seen.length).toBe(6);
      for (const s of seen) expect(s, s.what).toEqual({ ...s, initialized: true, renaming: false });
      // so the VF's decision sees the driver rule's NM_UNMANAGED=1, as in the guest
      expect(dhcp).toContain("enp1s0: no DHCP, unmanaged");
      expect(dhcp.filter((d) => d.includes("DHCPv4 client started"))).toHaveLength(2);
    });
  }
});
