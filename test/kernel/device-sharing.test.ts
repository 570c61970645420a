// A device record shares no object with the rest of the kernel's state (other devices, the
// name hash, the subsystems' data, …), except deep-frozen shared constants, and neither do the
// subsystems' states (`k.state.subsys`, as a whole: the failover module's instances are also
// the PCI functions'). `loadKernel` with `keep` relies on that: it keeps a current device record
// (or the subsystems' states) whole instead of a copy of the saved one, so an object inside it
// that something else also held would come back from two different states; `saveKernel` with a
// base shares a base's copies of them the same way. Checked after every command of random `ip -batch` files (the differential's generator:
// veth and ifb devices, and every request on them) and on random walks of the explorer's systems
// (virtio-net, failover masters, VFs).

import { describe, expect, it } from "vitest";
import { settleKernel } from "../../src/cli/ip.ts";
import { chooser, systemFor } from "../../src/explore/explore.ts";
import { bootRaceScenario } from "../../src/explore/families.ts";
import { familyOf, pairSystem } from "../../src/explore/pair.ts";
import { IpProcess } from "../../src/ip/index.ts";
import { createKernel, type KernelState } from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";
import { generateCase } from "../../tools/differential/generate.ts";
import { testSeed } from "../_helpers/seed.ts";

const SEED = testSeed();

/** Paths of objects that a device record or the subsystems' states share with anything outside. */
function shared(state: KernelState): string[] {
  const owner = new Map<object, string>();
  const out: string[] = [];
  const visit = (v: unknown, who: string, path: string): void => {
    if (v === null || typeof v !== "object" || Object.isFrozen(v)) return;
    const o = owner.get(v);
    if (o !== undefined) {
      if (o !== who) out.push(`${path} (also in ${o})`);
      return;
    }
    owner.set(v, who);
    if (v instanceof Map) for (const [key, x] of v) visit(x, who, `${path}.get(${String(key)})`);
    else if (v instanceof Set) for (const x of v) visit(x, who, `${path}{}`);
    else for (const [key, x] of Object.entries(v)) visit(x, who, `${path}.${key}`);
  };
  for (const [tag, m] of [
    ["devices", state.devices],
    ["unlisted", state.unlisted],
  ] as const)
    for (const [i, d] of m) visit(d, `${tag} ${i}`, `${tag}.get(${i})`);
  visit(state.subsys, "subsys", "subsys");
  for (const [key, x] of Object.entries(state))
    if (key !== "devices" && key !== "unlisted" && key !== "subsys") visit(x, "the rest", key);
  return out;
}

describe(`device records share nothing (seed ${SEED})`, () => {
  it("the check sees an object a device shares", () => {
    const k = createKernel({ kernel: "6.18", clock: new VirtualClock(), rng: new Rng(1) });
    new IpProcess(k).batch("link add va type veth peer vb\n", "sharing");
    expect(shared(k.state)).toEqual([]);
    const [a, b] = [...k.state.devices.values()].filter((d) => d.driver === "veth");
    (b as unknown as { priv: unknown }).priv = (a as unknown as { priv: unknown }).priv;
    expect(shared(k.state)).toHaveLength(1);
  });

  it("after every command of 150 random ip -batch files", () => {
    let commands = 0;
    const kinds = new Set<string>();
    for (let c = 0; c < 150; c++) {
      const batch = generateCase(SEED + c);
      const clock = new VirtualClock();
      const k = createKernel({ kernel: "6.18", clock, rng: new Rng(1) });
      const ip = new IpProcess(k, { settle: () => settleKernel(k, clock) });
      for (const line of batch.lines) {
        ip.batch(`${line}\n`, "sharing");
        settleKernel(k, clock);
        commands++;
        for (const d of k.state.devices.values()) kinds.add(d.driver);
        expect(shared(k.state), line).toEqual([]);
      }
    }
    expect(commands).toBeGreaterThan(600);
    // Every kind `ip link add` makes in the model (the explorer's walks below make the others).
    expect([...kinds].sort()).toEqual(expect.arrayContaining(["ifb", "veth"]));
  });

  it("on random walks of the boot race (two pairs; a pair with the environment)", () => {
    const kernel = "5.1";
    const sc = familyOf(bootRaceScenario(2, { kernel, workers: 2 }), 2);
    let states = 0;
    for (let w = 0; w < 8; w++) {
      const sys =
        w % 2 === 0
          ? systemFor(sc, { kernel, timing: w % 4 === 0 ? "any" : "free", atomic: false })
          : pairSystem(sc, 0, { kernel }, { udev: 2, linkwatch: true });
      const next = chooser(SEED + w);
      for (let i = 0; i < 80; i++) {
        const en = sys.enabled();
        if (en.length === 0) break;
        sys.fire(en[next(en.length)] as string);
        expect(shared(sys.kernel.state)).toEqual([]);
        states++;
      }
    }
    expect(states).toBeGreaterThan(300);
  });
});
