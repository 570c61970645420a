// Random (seeded) sequences of `ip link` commands over veth and ifb devices, for the
// differential test against the host kernel.

import { Rng } from "../../src/sim/index.ts";

const NAMES = ["a", "b", "c", "veth0", "veth1", "ifb0", "eth0", "lo", "x1"];
const TEMPLATES = ["v%d", "veth%d", "ifb%d", "p%d"];
const BAD_NAMES = ["a:b", ".", "..", "x%d%d", "x%s", "a/b", "0123456789abcdef", "0123456789abcde"];
const MTUS = ["68", "1280", "1500", "9000", "65535", "67", "65536", "0"];

/** Generates one sequence of `len` commands (argv after `ip`) from a seed. */
export function generateSequence(seed: number, len: number): string[][] {
  const rng = new Rng(seed);
  const live = new Set<string>(["lo"]);
  const pickName = (): string => {
    const r = rng.nextInt(0, 9);
    if (r < 6 && live.size > 0) return rng.pick([...live].sort());
    if (r < 8) return rng.pick(NAMES);
    return rng.pick(TEMPLATES);
  };
  const newName = (): string => {
    const r = rng.nextInt(0, 19);
    if (r < 12) return rng.pick(NAMES);
    if (r < 17) return rng.pick(TEMPLATES);
    return rng.pick(BAD_NAMES);
  };
  const out: string[][] = [];
  for (let i = 0; i < len; i++) {
    const op = rng.nextInt(0, 99);
    let argv: string[];
    if (op < 18) {
      const a = newName();
      const b = newName();
      argv = ["link", "add", "name", a, "type", "veth", "peer", "name", b];
      live.add(a);
      live.add(b);
    } else if (op < 28) {
      const a = newName();
      argv = ["link", "add", "name", a, "type", "ifb"];
      live.add(a);
    } else if (op < 48) {
      argv = ["link", "set", "dev", pickName(), rng.nextInt(0, 2) === 0 ? "down" : "up"];
    } else if (op < 66) {
      const to = newName();
      argv = ["link", "set", "dev", pickName(), "name", to];
      live.add(to);
    } else if (op < 76) {
      argv = ["link", "set", "dev", pickName(), "mtu", rng.pick(MTUS)];
    } else if (op < 84) {
      const to = newName();
      argv = ["link", "set", "dev", pickName(), "mtu", rng.pick(MTUS), "name", to, rng.pick(["up", "down"])];
      live.add(to);
    } else {
      argv = ["link", "del", "dev", pickName()];
    }
    out.push(argv);
  }
  return out;
}

/** The fields the differential test compares from `ip -j link`. */
export interface NormLink {
  ifindex: number;
  ifname: string;
  link: string | null;
  flags: string[];
  mtu: number;
  operstate: string;
  master: string | null;
}

/** Normalises `ip -j link show` output (addresses are random on both sides and left out). */
export function normaliseLinks(json: string): NormLink[] {
  const arr = JSON.parse(json) as Record<string, unknown>[];
  return arr.map((o) => ({
    ifindex: o.ifindex as number,
    ifname: o.ifname as string,
    link: (o.link as string | undefined) ?? null,
    flags: o.flags as string[],
    mtu: o.mtu as number,
    operstate: o.operstate as string,
    master: (o.master as string | undefined) ?? null,
  }));
}
