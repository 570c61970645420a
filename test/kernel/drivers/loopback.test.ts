// drivers/net/loopback.c: lo is ifindex 1 in every booted kernel (OBSERVATIONS [01]).

import { describe, expect, it } from "vitest";
import { devOpen, IF_OPER, IFF, rtnlFillIfinfo } from "../../../src/kernel/index.ts";
import { boot, E0, E1, E2 } from "../../_helpers/kernel.ts";

describe("loopbackNetInit", () => {
  it.each([E0, E1, E2])("(%s) should register lo as ifindex 1, LOOPBACK, MTU 65536, down", (v) => {
    const k = boot(v);
    const lo = k.state.devices.get(1);
    expect(lo?.name).toBe("lo");
    expect(lo?.flags).toBe(IFF.LOOPBACK);
    expect(lo?.mtu).toBe(65536);
  });

  it("should come up with operstate UNKNOWN and noqueue", () => {
    const k = boot(E2);
    const lo = k.state.devices.get(1);
    if (!lo) throw new Error("no lo");
    expect(devOpen(k, lo)).toBe(0);
    expect(rtnlFillIfinfo(k, lo)).toMatchObject({
      flags: IFF.LOOPBACK | IFF.UP | IFF.LOWER_UP | IFF.RUNNING,
      operstate: IF_OPER.UNKNOWN,
      qdisc: "noqueue",
    });
  });
});
