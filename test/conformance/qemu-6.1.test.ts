// The model against the real Debian 6.1 kernel (net_failover, virtio-net STANDBY, e1000e
// under QEMU 7.2): every captured command, hot-plug and set_link of
// test/fixtures/qemu-6.1/capture.json replayed on the 6.1 profile of the failover-vm machine.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Capture, replayCapture } from "./replay-qemu.ts";

const cap = JSON.parse(
  readFileSync(new URL("../fixtures/qemu-6.1/capture.json", import.meta.url), "utf8"),
) as Capture;

describe("conformance with the real 6.1 kernel (QEMU capture)", () => {
  const rep = replayCapture(cap, "6.1");
  it("should reproduce every modelled action byte for byte", () => {
    console.log(
      `qemu-6.1 capture: ${rep.compared} actions compared, ${rep.skipped.length} not modelled`,
    );
    expect(rep.diffs.join("\n")).toBe("");
  });
  it("should compare most of the capture", () => {
    expect(rep.compared).toBeGreaterThan(150);
  });
  it("should tell kernel versions apart (the same capture replayed on 5.0 and 6.18 differs)", () => {
    const e0 = replayCapture(cap, "5.0");
    const e2 = replayCapture(cap, "6.18");
    // E0: renaming an UP slave is -EBUSY; E2: "(while UP)" in the log, no ADDRCONF line.
    expect(e0.diffs.some((d) => d.startsWith("3.115") && d.includes("exit"))).toBe(true);
    expect(e2.diffs.some((d) => d.includes("(while UP)"))).toBe(true);
  });
});
