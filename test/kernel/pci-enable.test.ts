// pci_enable_device() logs "enabling device (0000 -> 0002)" only when it turns the function's
// memory decoding on. The firmware (SeaBIOS) turned it on for every function it enumerated at
// boot, so only a hot-plugged e1000e logs it — measured with the qemu backend on Debian's 6.1
// (examples/scenarios/qtest-params-off: an e1000e present at boot logs no such line; a primary
// QEMU plugs after FAILOVER_NEGOTIATED, or one plugged by device_add, does).

import { describe, expect, it } from "vitest";
import type { MachineSpec } from "../../src/machine/index.ts";
import { bootMachine } from "../_helpers/machine.ts";

const MAC = "52:54:00:11:11:11";
const SPEC: MachineSpec = {
  name: "two-e1000e",
  description: "an e1000e at boot and one plugged later",
  defaultQdisc: "fq_codel",
  cpus: 1,
  modules: ["virtio_pci", "failover", "net_failover", "virtio_net", "e1000e"],
  devices: [
    { addr: "0000:00:04.0", model: "e1000e", id: "boot0", mac: MAC },
    { addr: "0000:00:05.0", model: "e1000e", id: "hot0", mac: "52:54:00:11:11:12", atBoot: false },
  ],
};

function enabling(k: ReturnType<typeof bootMachine>["k"]): string[] {
  return k.trace
    .since(0)
    .flatMap((e) =>
      e.type === "kernel.log" && e.text.includes("enabling device") ? [e.text] : [],
    );
}

describe("pci_enable_device's log line", () => {
  it("should not log for a function the firmware enumerated at boot", () => {
    const { k } = bootMachine("6.1", SPEC);
    expect(enabling(k)).toEqual([]);
  });

  it("should log for a hot-plugged function, again after an unplug and re-plug", () => {
    const { k, m } = bootMachine("6.1", SPEC);
    m.plug("hot0");
    m.settle();
    expect(enabling(k)).toEqual(["e1000e 0000:00:05.0: enabling device (0000 -> 0002)"]);
    m.unplug("hot0");
    m.plug("hot0");
    m.settle();
    expect(enabling(k)).toHaveLength(2);
  });

  it("should log for a failover primary QEMU plugs after the guest negotiated STANDBY", () => {
    const { k } = bootMachine("6.1");
    expect(enabling(k)).toEqual(["e1000e 0000:02:00.0: enabling device (0000 -> 0002)"]);
  });
});
