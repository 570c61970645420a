// Measures known bug 08's DHCP half on a real guest (src/backends/qemu/dhcp.ts): boots the
// scenario with its NICs on QEMU's user network, runs busybox udhcpc on every link the scenario's
// bring-up would manage, and prints each link's lease and the leases per MAC beside the model's
// DHCP clients per MAC.
//
//   npx tsx tools/qemu-capture/dhcp-leases.ts [SCENARIO.yaml] [--kernel 6.1]
//
// Default scenario: examples/known-bugs/08-unmanaged-rule-misses-slave.yaml.

import { readFileSync } from "node:fs";
import { measureDhcpLeases, modelDhcpClients } from "../../src/backends/qemu/dhcp.ts";
import { parseScenario } from "../../src/scenario/parse.ts";
import { runScenario } from "../../src/scenario/run.ts";

const args = process.argv.slice(2);
const k = args.indexOf("--kernel");
const kernel = k >= 0 ? (args[k + 1] ?? null) : null;
const file =
  args.find((a) => a.endsWith(".yaml")) ??
  "examples/known-bugs/08-unmanaged-rule-misses-slave.yaml";
const parsed = parseScenario(readFileSync(file, "utf8"), file);
if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
const sc = parsed.scenario;
const m = await measureDhcpLeases(sc, { kernel, log: (l) => process.stderr.write(`${l}\n`) });
for (const l of m.links) {
  process.stderr.write(l.log);
  process.stdout.write(
    `${l.name} mac ${l.mac} ${l.unmanaged ? "unmanaged" : "managed"} dhcp: ${l.dhcp}\n`,
  );
}
const model = modelDhcpClients(runScenario(sc, { kernel: kernel ?? "6.1" }).timeline);
process.stdout.write(
  `leases per MAC on ${m.kernel}: ${JSON.stringify(m.leasesPerMac)}; the model's DHCP clients per MAC: ${JSON.stringify(model)}\n`,
);
