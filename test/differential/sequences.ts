// Random (seeded) sequences of `ip link` commands over veth and ifb devices, for the
// differential test against the host kernel.

import { Rng } from "../../src/sim/index.ts";

const NAMES = ["a", "b", "c", "veth0", "veth1", "ifb0", "eth0", "lo", "x1"];
const TEMPLATES = ["v%d", "veth%d", "ifb%d", "p%d"];
const BAD_NAMES = ["a:b", ".", "..", "x%d%d", "x%s", "a/b", "0123456789abcdef", "0123456789abcde"];
const MTUS = ["68", "1280", "1500", "9000", "65535", "67", "65536", "0"];

/**
 * Draws the next command (argv after `ip`) given the device names that exist now, so that most
 * commands address real devices while some hit missing, colliding or invalid names.
 */
export function nextCommand(rng: Rng, live: readonly string[]): string[] {
  const pickName = (): string => {
    const r = rng.nextInt(0, 9);
    if (r < 7 && live.length > 0) return rng.pick(live);
    if (r < 9) return rng.pick(NAMES);
    return rng.pick(TEMPLATES);
  };
  const newName = (): string => {
    const r = rng.nextInt(0, 19);
    if (r < 3 && live.length > 0) return rng.pick(live);
    if (r < 12) return rng.pick(NAMES);
    if (r < 17) return rng.pick(TEMPLATES);
    return rng.pick(BAD_NAMES);
  };
  const op = rng.nextInt(0, 99);
  if (op < 16) return ["link", "add", "name", newName(), "type", "veth", "peer", "name", newName()];
  if (op < 24) return ["link", "add", "name", newName(), "type", "ifb"];
  if (op < 48) return ["link", "set", "dev", pickName(), rng.nextInt(0, 2) === 0 ? "down" : "up"];
  if (op < 66) return ["link", "set", "dev", pickName(), "name", newName()];
  if (op < 76) return ["link", "set", "dev", pickName(), "mtu", rng.pick(MTUS)];
  if (op < 86) {
    const up = rng.pick(["up", "down"]);
    return ["link", "set", "dev", pickName(), "mtu", rng.pick(MTUS), "name", newName(), up];
  }
  return ["link", "del", "dev", pickName()];
}

/** A seeded command generator for one sequence. */
export function sequenceRng(seed: number): Rng {
  return new Rng(seed).fork("differential-sequence");
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
