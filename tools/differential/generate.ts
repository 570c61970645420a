// An adversarial generator of `ip -batch` files for the differential against the host kernel:
// odd names (15/16/17 bytes, `%d`, `all`, `default`, `.`, `..`, `:`, `/`, whitespace, unicode,
// digits only, altnames and old names reused), every `link add`/`link set` attribute at and past
// its limits, veth peers with their own attributes, `up` at creation, altnames, deletes of one
// end, `show` filters and unknown or unmodelled kinds. Seeded: the same seed gives the same batch.

import { Rng } from "../../src/sim/index.ts";

/** One generated case: the batch text and the global options `ip` runs it with. */
export interface Case {
  /** Global options before `-force -batch FILE` (e.g. `-d`, `-j`). */
  readonly global: readonly string[];
  readonly lines: readonly string[];
}

const NAMES = {
  plain: ["a0", "b1", "v0", "veth0", "veth1", "eth0", "x", "p0", "ifb0", "lo", "dummy0"],
  len15: ["abcdefghijklmno", "veth01234567890", "0123456789abcde"],
  len16: ["abcdefghijklmnop", "veth012345678901"],
  len17: ["abcdefghijklmnopq"],
  pct: ["v%d", "%d", "a%db", "x%d%d", "x%s", "%", "veth%d", "abcdefghijklm%d", "n%dabcdefghijklm"],
  reserved: ["all", "default", ".", "..", "lo"],
  punct: ["a:b", "a/b", "'a b'", '"a\tb"', "a-b", "a_b", "a.b", "a@b", "a=b", ":", "/"],
  unicode: ["é1", "日本", "ñandú", "äöüäöüä", "∂x"],
  digits: ["0", "1", "123", "00", "2147483647", "4294967296"],
};

/** Device groups: the default (0), small ones, the largest u32, and words ip refuses. */
const GROUPS = ["0", "1", "5", "7", "default", "4294967295", "-1", "x"];

const MTUS = [
  "0",
  "67",
  "68",
  "1279",
  "1280",
  "1500",
  "9000",
  "65535",
  "65536",
  "4294967295",
  "4294967296",
  "-1",
  "0x10",
  "abc",
];

const ADDRS = [
  "02:00:00:00:00:01",
  "02:00:00:00:00:02",
  "2:0:0:0:0:3",
  "aa:bb:cc:dd:ee:f0",
  "00:00:00:00:00:00",
  "ff:ff:ff:ff:ff:ff",
  "01:00:5e:00:00:01",
  "03:00:00:00:00:01",
  "02:00:00:00:00",
  "02:00:00:00:00:00:01",
  "02:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00",
  "02",
  "zz:00:00:00:00:01",
  "02-00-00-00-00-01",
  "",
];

const BRDS = [
  "ff:ff:ff:ff:ff:ff",
  "00:00:00:00:00:00",
  "02:00:00:00:00:09",
  "01:00:5e:00:00:01",
  "ff:ff:ff:ff:ff",
  "ff:ff:ff:ff:ff:ff:ff",
  "ff",
  "ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff",
];

const QLENS = ["0", "1", "1000", "4294967295", "4294967296", "-1", "x"];
const QUEUES = ["0", "1", "2", "16", "4096", "4097", "100000", "-1"];
const INDEXES = ["0", "1", "2", "5", "100", "2147483647", "2147483648", "-3", "x"];

/** Every `type` the generator uses; only veth and ifb are modelled. */
export const KINDS = {
  modelled: ["veth", "ifb"],
  unmodelled: ["dummy", "bridge", "bond", "vlan", "macvlan", "vxlan"],
  unknown: ["nosuchkind", "veth0", "VETH"],
};

/** Addresses the generator writes; anything else printed is a random MAC. */
export function fixedAddresses(): Set<string> {
  const out = new Set<string>();
  for (const a of [...ADDRS, ...BRDS]) {
    const parts = a.split(":");
    if (parts.every((p) => /^[0-9a-f]{1,2}$/.test(p)))
      out.add(parts.map((p) => p.padStart(2, "0")).join(":"));
  }
  return out;
}

class Gen {
  readonly #r: Rng;
  /** Names created or used in this batch (so later lines hit real devices). */
  readonly live: string[] = ["lo"];
  readonly old: string[] = [];
  readonly alts: string[] = [];

  constructor(r: Rng) {
    this.#r = r;
  }

  int(lo: number, hi: number): number {
    return this.#r.nextInt(lo, hi);
  }

  chance(pct: number): boolean {
    return this.int(0, 99) < pct;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)] as T;
  }

  /** A name for a new device or a rename target. */
  newName(): string {
    const r = this.int(0, 99);
    if (r < 30) return this.pick(NAMES.plain);
    if (r < 36) return this.pick(NAMES.len15);
    if (r < 41) return this.pick(NAMES.len16);
    if (r < 43) return this.pick(NAMES.len17);
    if (r < 55) return this.pick(NAMES.pct);
    if (r < 63) return this.pick(NAMES.reserved);
    if (r < 70) return this.pick(NAMES.punct);
    if (r < 75) return this.pick(NAMES.unicode);
    if (r < 80) return this.pick(NAMES.digits);
    if (r < 86 && this.alts.length > 0) return this.pick(this.alts);
    if (r < 92 && this.old.length > 0) return this.pick(this.old);
    return this.pick(this.live);
  }

  /** A name of an existing device (mostly), for `dev X`. */
  devName(): string {
    if (this.chance(75)) return this.pick(this.live);
    if (this.chance(30) && this.alts.length > 0) return this.pick(this.alts);
    return this.newName();
  }

  /** Optional `link add`/`set` attributes (at and past their limits). */
  attrs(create: boolean): string[] {
    const out: string[] = [];
    const n = this.chance(50) ? 0 : this.int(1, 3);
    for (let i = 0; i < n; i++) {
      const r = this.int(0, create ? 11 : 8);
      if (r === 9 || r === 10) {
        out.push(...this.groupOrFlag());
        continue;
      }
      if (r === 0) out.push("mtu", this.pick(MTUS));
      else if (r === 1) out.push("address", this.pick(ADDRS));
      else if (r === 2) out.push(this.pick(["broadcast", "brd"]), this.pick(BRDS));
      else if (r === 3) out.push(this.pick(["txqueuelen", "qlen", "txqlen"]), this.pick(QLENS));
      else if (r === 4) out.push(this.pick(["up", "down"]));
      else if (r === 5) out.push("mtu", this.pick(["1280", "1500", "68"]));
      else if (r === 6) out.push("alias", this.pick(["x", "hello", "a".repeat(256)]));
      else if (r === 7 && create)
        out.push(this.pick(["numtxqueues", "numrxqueues"]), this.pick(QUEUES));
      else if (r === 8 && create)
        out.push("index", this.pick([...INDEXES, String(this.live.length)]));
      else out.push("address", this.pick(ADDRS.slice(0, 4)));
    }
    return out;
  }

  /**
   * `group G` (device groups) or an on/off word: the flags (promisc and allmulticast are
   * counted), carrier and protodown (no driver of the model supports them: -EOPNOTSUPP).
   */
  groupOrFlag(): string[] {
    if (this.chance(40)) return ["group", this.pick(GROUPS)];
    const flag = this.pick([
      "promisc",
      "allmulticast",
      "arp",
      "multicast",
      "dynamic",
      "trailers",
      "carrier",
      "protodown",
    ]);
    return [flag, this.pick(["on", "off", "on", "off", "yes"])];
  }

  nameWord(): string[] {
    // `name X`, or a bare X (a prefix of a keyword such as `a` is parsed as that keyword).
    return this.chance(85) ? ["name", this.newName()] : [this.newName()];
  }

  remember(name: string): void {
    const n = name.replace(/^['"]|['"]$/g, "");
    if (!this.live.includes(n)) this.live.push(n);
  }

  line(): string {
    const op = this.int(0, 99);
    if (op < 28) {
      // veth
      const nw = this.nameWord();
      const pre = this.attrs(true);
      const words = ["link", "add", ...nw, ...pre, "type", "veth"];
      if (this.chance(80)) {
        words.push("peer");
        const pn = this.chance(85) ? this.nameWord() : [];
        words.push(...pn, ...this.attrs(true));
        if (pn.length) this.remember(pn[pn.length - 1] as string);
      }
      this.remember(nw[nw.length - 1] as string);
      return words.join(" ");
    }
    if (op < 36) {
      const nw = this.nameWord();
      this.remember(nw[nw.length - 1] as string);
      return ["link", "add", ...nw, ...this.attrs(true), "type", "ifb"].join(" ");
    }
    if (op < 40) {
      const kind = this.chance(60) ? this.pick(KINDS.unmodelled) : this.pick(KINDS.unknown);
      return ["link", "add", ...this.nameWord(), "type", kind].join(" ");
    }
    if (op < 58) {
      const dev = this.devName();
      const words = ["link", "set", ...(this.chance(85) ? ["dev", dev] : [dev])];
      const a = this.attrs(false);
      if (a.length === 0) a.push(this.pick(["up", "down"]));
      return [...words, ...a].join(" ");
    }
    if (op < 70) {
      const dev = this.devName();
      const to = this.newName();
      this.old.push(dev);
      this.remember(to);
      const extra = this.chance(30) ? this.attrs(false) : [];
      return ["link", "set", "dev", dev, "name", to, ...extra].join(" ");
    }
    if (op < 80) {
      const dev = this.devName();
      const add = this.chance(70);
      const alts: string[] = [];
      const n = this.int(1, 2);
      for (let i = 0; i < n; i++) {
        const r = this.int(0, 9);
        const alt =
          r < 3
            ? this.pick(["alt0", "alt1", "longaltname-1234567890"])
            : r < 5
              ? "a".repeat(this.pick([127, 128, 129]))
              : r < 7 && this.alts.length > 0
                ? this.pick(this.alts)
                : this.newName();
        alts.push("altname", alt);
        if (add) this.alts.push(alt);
      }
      return ["link", "property", add ? "add" : "del", "dev", dev, ...alts].join(" ");
    }
    if (op < 84) {
      // By group: `link set group G …` acts on every device of G, `link del group G` deletes them.
      const g = this.pick(GROUPS);
      if (this.chance(30)) return ["link", this.pick(["del", "delete"]), "group", g].join(" ");
      const a = this.attrs(false);
      if (a.length === 0) a.push(this.pick(["up", "down"]));
      return ["link", "set", "group", g, ...a].join(" ");
    }
    if (op < 88) {
      const dev = this.devName();
      return [
        "link",
        this.pick(["del", "delete"]),
        ...(this.chance(80) ? ["dev", dev] : [dev]),
      ].join(" ");
    }
    return this.show();
  }

  show(): string {
    const r = this.int(0, 9);
    const verb = this.pick(["show", "list", "show", "lst"]);
    if (r < 3) return `link ${verb}`;
    if (r < 5) return `link ${verb} dev ${this.devName()}`;
    if (r === 5) return `link ${verb} ${this.devName()}`;
    if (r === 6) return `link ${verb} type ${this.pick([...KINDS.modelled, "veth", "nosuchkind"])}`;
    if (r === 7) return `link ${verb} master ${this.devName()}`;
    if (r === 8) return `link ${verb} group ${this.pick(["default", "0", "1"])}`;
    return `link ${verb} up`;
  }
}

/**
 * The case for one seed: 2–12 lines, often ending with a `link show`.
 * @example generateCase(42).lines // ["link add name v%d type veth peer name ...", ...]
 */
export function generateCase(seed: number): Case {
  const g = new Gen(new Rng(seed >>> 0).fork("adversarial-batch"));
  const global: string[] = [];
  if (g.chance(30)) global.push("-d");
  if (g.chance(30)) global.push("-j");
  else if (g.chance(15)) global.push(g.pick(["-br", "-o", "-s"]));
  const n = g.int(2, 12);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(g.line());
  if (g.chance(50)) lines.push(g.show());
  return { global, lines };
}
