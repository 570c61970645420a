import { describe, expect, it } from "vitest";
import { IpMonitor, IpProcess, LlMap, parseIpGlobalArgs, runIp } from "../../src/ip/index.ts";
import { JsonWriter } from "../../src/ip/json-writer.ts";
import { namehash } from "../../src/ip/ll-map.ts";
import { createKernel, type Kernel, settleWork } from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";

function boot(): { k: Kernel; settle: () => void } {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(7) });
  const settle = (): void => {
    settleWork(k, (t) => clock.advanceTo(t));
  };
  return { k, settle };
}

describe("parseIpGlobalArgs", () => {
  it("should take options by prefix up to the object", () => {
    const g = parseIpGlobalArgs(["-j", "-d", "-br", "link", "show", "-x"]);
    expect(g).toEqual({
      opts: { json: true, details: true, brief: true },
      batchFile: null,
      rest: ["link", "show", "-x"],
    });
  });
  it("should read -batch FILE and -force", () => {
    expect(parseIpGlobalArgs(["-force", "-batch", "/tmp/b"])).toEqual({
      opts: { force: true },
      batchFile: "/tmp/b",
      rest: [],
    });
  });
  it("should reject unknown options like ip", () => {
    expect(parseIpGlobalArgs(["-zz", "link"])).toEqual({
      error: 'Option "-zz" is unknown, try "ip -help".\n',
      status: 255,
    });
  });
});

describe("IpProcess.run", () => {
  it("should print lo like iproute2 6.1", () => {
    const { k } = boot();
    expect(runIp(k, ["link", "show"]).stdout).toBe(
      "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n",
    );
  });
  it("should print -j -p with iproute2's pretty layout", () => {
    const { k } = boot();
    const r = runIp(k, ["link", "show", "lo"], { json: true, pretty: true });
    expect(
      r.stdout.startsWith(
        '[ {\n        "ifindex": 1,\n        "ifname": "lo",\n        "flags": [ "LOOPBACK" ],',
      ),
    ).toBe(true);
    expect(r.stdout.endsWith("\n    } ]\n")).toBe(true);
  });
  it("should map exit()-style errors to 255 and netlink errors to 2", () => {
    const { k } = boot();
    expect(runIp(k, ["link", "set", "dev", "lo", "mtu", "abc"])).toMatchObject({
      stdout: "",
      stderr: 'Error: argument "abc" is wrong: Invalid "mtu" value\n\n',
      status: 255,
    });
    expect(runIp(k, ["link", "del", "lo"])).toMatchObject({
      stdout: "",
      stderr: "RTNETLINK answers: Operation not supported\n",
      status: 2,
    });
    expect(runIp(k, ["link", "set", "nosuch", "up"]).status).toBe(1);
  });
});

describe("IpProcess.batch", () => {
  it("should join continuation lines and report the last physical line", () => {
    const { k, settle } = boot();
    const p = new IpProcess(k, { settle });
    const r = p.batch("# c\nlink add name x \\\n  type ifb\nlink add name x type ifb\n", "f");
    expect(r).toMatchObject({
      stdout: "",
      stderr: "RTNETLINK answers: File exists\nCommand failed f:4\n",
      status: 1,
    });
  });
  it("should keep the stale ll_map name of a peer renamed by another process", () => {
    const { k, settle } = boot();
    const p = new IpProcess(k, { settle });
    p.run(["link", "add", "name", "a0", "type", "veth", "peer", "name", "b0"]);
    p.run(["link", "show"]); // the dump fills this process's cache: 3 → "a0"
    new IpProcess(k, { settle }).run(["link", "set", "dev", "a0", "name", "zz"]);
    // ll_remember_index() never updates a cached name, and this process never saw the rename.
    expect(p.run(["link", "show", "dev", "b0"]).stdout).toMatch(/^2: b0@a0: /);
    // A set issued by this process drops its entry (ll_drop_by_index), so the next lookup is fresh.
    p.run(["link", "set", "dev", "zz", "mtu", "1400"]);
    expect(p.run(["link", "show", "dev", "b0"]).stdout).toMatch(/^2: b0@zz: /);
  });
});

describe("LlMap", () => {
  it("should hash names with djb2 over signed bytes", () => {
    expect(namehash("")).toBe(5381);
    expect(namehash("a")).toBe((5381 * 33 + 97) >>> 0);
    expect(namehash("ä")).toBe((((5381 * 33 - 61) >>> 0) * 33 - 92) >>> 0);
  });
  it("should miss a renamed device by its new name and fall back to the kernel", () => {
    const { k } = boot();
    const m = new LlMap(k);
    expect(m.nameToIndex("lo")).toBe(1);
    expect(m.indexToName(1)).toBe("lo");
    expect(m.nameToIndex("if42")).toBe(42);
    expect(m.nameToIndex("nosuch")).toBe(0);
  });
});

describe("IpMonitor", () => {
  it("should print veth creation as peer@NONE then main@peer", () => {
    const { k, settle } = boot();
    const mon = new IpMonitor(k);
    const cur = k.trace.length;
    new IpProcess(k, { settle }).run([
      "link",
      "add",
      "name",
      "v0",
      "type",
      "veth",
      "peer",
      "name",
      "v1",
    ]);
    const lines = mon.feed(k.trace.since(cur)).split("\n");
    expect(lines[0]).toBe(
      "2: v1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default ",
    );
    expect(lines[2]).toBe(
      "3: v0@v1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default ",
    );
  });
});

describe("JsonWriter", () => {
  it("should write compact JSON without spaces", () => {
    const w = new JsonWriter(false);
    w.startArray();
    w.startObject();
    w.field("a", 1);
    w.name("f");
    w.startArray();
    w.value("X");
    w.value("Y");
    w.endArray();
    w.endObject();
    w.endArray();
    expect(w.text).toBe('[{"a":1,"f":["X","Y"]}]');
  });
});

describe("ip -d link: the attributes each kernel sends", () => {
  // Measured with iproute2 6.1 in Debian's guests (`ifsim exec --backend qemu --kernel K --
  // ip -d link show lo`): 5.10 sends no IFLA_ALLMULTI, IFLA_TSO_MAX_* or IFLA_GRO_MAX_SIZE.
  const real: Record<string, string> = {
    "5.10":
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 \n",
    "6.1":
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n",
  };
  for (const [kernel, line] of Object.entries(real)) {
    it(`should print on ${kernel} what the real ${kernel} guest printed`, () => {
      const k = createKernel({ kernel, clock: new VirtualClock(), rng: new Rng(1) });
      const out = runIp(k, ["link", "show", "lo"], { details: true }).stdout;
      expect(out.split("\n")[1]).toBe(line.slice(0, -1));
      const j = JSON.parse(
        runIp(k, ["link", "show", "lo"], { details: true, json: true }).stdout,
      )[0];
      expect("allmulti" in j).toBe(kernel === "6.1");
      expect("tso_max_size" in j && "gro_max_size" in j).toBe(kernel === "6.1");
    });
  }
});
