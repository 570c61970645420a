// IPv6's own packet at link-up (src/kernel/addrconf.ts): on a device without ARP the link-local
// address needs no duplicate address detection, so the router solicitation (70 bytes) is sent as
// soon as the detection's work runs. The counts are those of the host kernel 6.18 on a quiet
// machine (`ip -s -batch` in a fresh netns, session 24; the differential's minimal case, seed
// 31416286: ifb0 RX 70 bytes, 1 packet, 1 dropped).

import { describe, expect, it } from "vitest";
import { IpProcess } from "../../src/ip/index.ts";
import {
  ADDRCONF_DAD_WORK,
  createKernel,
  devGetByName,
  devGetStats,
  type Kernel,
  runDueWork,
} from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";

function kernel(): Kernel {
  return createKernel({ kernel: "6.18", clock: new VirtualClock(), rng: new Rng(1) });
}

/** Runs `ip -batch` lines on a quiet machine (work settled after each command). */
function batch(k: Kernel, lines: string[]): void {
  const r = new IpProcess(k).batch(`${lines.join("\n")}\n`, "t.batch");
  expect(r.status, r.stderr).toBe(0);
}

function stats(k: Kernel, name: string) {
  const d = devGetByName(k, name);
  if (!d) throw new Error(`no ${name}`);
  const s = devGetStats(k, d);
  return [s.rxBytes, s.rxPackets, s.rxDropped, s.txBytes, s.txPackets, s.txDropped];
}

describe("the router solicitation at link-up (addrconf_dad_completed → ndisc_send_rs)", () => {
  it("should count it on an ifb as received and dropped, once per up", () => {
    const k = kernel();
    batch(k, ["link set lo name ifb0", "link add up type ifb"]);
    expect(stats(k, "ifb1")).toEqual([70, 1, 1, 0, 0, 0]);
    batch(k, ["link set ifb1 down", "link set ifb1 up"]);
    expect(stats(k, "ifb1")).toEqual([140, 2, 2, 0, 0, 0]);
    // Already up: no event, nothing sent.
    batch(k, ["link set ifb1 up"]);
    expect(stats(k, "ifb1")).toEqual([140, 2, 2, 0, 0, 0]);
  });

  it("should send none below IPv6's minimum MTU, and one when the MTU gives IPv6 back", () => {
    const k = kernel();
    batch(k, ["link add ifb5 mtu 1279 type ifb", "link set ifb5 up"]);
    expect(stats(k, "ifb5")).toEqual([0, 0, 0, 0, 0, 0]);
    // ipv6_add_dev() on a running, usable link: the new inet6_dev is ready at once.
    batch(k, ["link set ifb5 mtu 1280"]);
    expect(stats(k, "ifb5")).toEqual([70, 1, 1, 0, 0, 0]);
    batch(k, ["link set ifb5 mtu 1400"]);
    expect(stats(k, "ifb5")).toEqual([70, 1, 1, 0, 0, 0]);
  });

  it("should cancel the detection's work when the link goes down before it runs", () => {
    const k = kernel();
    const p = new IpProcess(k, { settle: () => {} });
    expect(p.batch("link add ifb5 type ifb\nlink set ifb5 up\n", "t").status).toBe(0);
    expect(k.state.work.filter((w) => w.name === ADDRCONF_DAD_WORK)).toHaveLength(1);
    expect(p.batch("link set ifb5 down\n", "t").status).toBe(0);
    expect(k.state.work.filter((w) => w.name === ADDRCONF_DAD_WORK)).toHaveLength(0);
    while (runDueWork(k)) {}
    expect(stats(k, "ifb5")).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("should send none from a device with ARP (its probes and reports are not modelled)", () => {
    const k = kernel();
    batch(k, ["link add ifb5 type ifb", "link set ifb5 arp on", "link set ifb5 up"]);
    expect(k.state.work.some((w) => w.name === ADDRCONF_DAD_WORK)).toBe(false);
    expect(stats(k, "ifb5")).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("should send it through a veth with arp off to its peer (veth_xmit; peer's rx is our tx)", () => {
    const k = kernel();
    batch(k, [
      "link add v0 type veth peer v1",
      "link set v0 arp off",
      "link set v1 up",
      "link set v0 up",
    ]);
    expect(stats(k, "v0")).toEqual([0, 0, 0, 70, 1, 0]);
    expect(stats(k, "v1")).toEqual([70, 1, 0, 0, 0, 0]);
  });

  it("should send none from the loopback", () => {
    const k = kernel();
    batch(k, ["link set lo up"]);
    expect(stats(k, "lo")).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
