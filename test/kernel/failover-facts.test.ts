// Facts measured on Debian's real 6.1 kernel (6.1.0-56-amd64, iproute2 6.1) under QEMU 7.2 on
// the failover VM (tools/qemu-capture; the raw capture is test/fixtures/qemu-6.1, action ids
// such as "2.110" are cited below). The model with profile "6.1" must print the same `ip`
// output, `ip monitor link` records and kernel log lines byte for byte. The expected texts are
// written out here (copied from the capture) so that each fact reads on its own.
//
// The guest below works like the capture's `act` helper: a monitored command runs a moment after
// the previous one, and its monitor output / new dmesg lines are collected for SETTLE = 3 s of
// virtual time after it. The E0 ("5.0") and E2 ("6.2", "6.18") contrasts at the end follow from
// the spec (rule R1), not from a measurement.

import { describe, expect, it } from "vitest";
import { IpMonitor, IpProcess, parseIpGlobalArgs } from "../../src/ip/index.ts";
import {
  devGetByName,
  type Kernel,
  type KernelEvent,
  nextWorkDue,
  nfoInfo,
  runDueWork,
} from "../../src/kernel/index.ts";
import { type Booted, bootMachine } from "../_helpers/machine.ts";

const MAC = "52:54:00:00:12:53";
const CTL_MAC = "52:54:00:00:12:99";
const ETHER = `    link/ether ${MAC} brd ff:ff:ff:ff:ff:ff\n`;
const CTL_ETHER = `    link/ether ${CTL_MAC} brd ff:ff:ff:ff:ff:ff\n`;
const EBUSY_TEXT = "RTNETLINK answers: Device or resource busy\n";
/** The capture's monitor window after each command, ms. */
const SETTLE_MS = 3000;
/** Time between two captured actions (the guest's bookkeeping), ms. */
const GAP_MS = 150;

/** What one monitored action recorded. */
interface Act {
  status: number;
  stdout: string;
  stderr: string;
  /** `ip monitor link` output during the action. */
  monitor: string;
  /** New kernel log lines (`dmesg -c`), without timestamps. */
  dmesg: string[];
}

/** The guest: one machine, one `ip monitor link` that sees every record. */
class Guest {
  readonly b: Booted;
  readonly mon: IpMonitor;

  constructor(version: string) {
    this.b = bootMachine(version);
    this.mon = new IpMonitor(this.b.k);
    // The capture's first monitored step comes seconds after boot.
    this.wait(5000);
  }

  get k(): Kernel {
    return this.b.k;
  }

  /** Lets `ms` of virtual time pass, running deferred work as it falls due. */
  wait(ms: number): Act {
    return this.#watch(() => {
      const target = this.b.clock.now() + ms * 1000;
      for (;;) {
        while (runDueWork(this.k)) {}
        const due = nextWorkDue(this.k);
        if (due === null || due > target) break;
        this.b.clock.advanceTo(Math.max(due, this.b.clock.now()));
      }
      this.b.clock.advanceTo(target);
      return { status: 0, stdout: "", stderr: "" };
    });
  }

  /** `ip <line>` without the monitor window (what the command itself caused). */
  ip(line: string): Act {
    this.wait(GAP_MS);
    return this.#watch(() => {
      const p = parseIpGlobalArgs(line.split(" "));
      if ("error" in p) throw new Error(p.error);
      const r = new IpProcess(this.k, p.opts).run(p.rest);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    });
  }

  /** The capture's `act`: `ip <line>`, then the 3 s monitor window. */
  act(line: string): Act {
    const r = this.ip(line);
    const w = this.wait(SETTLE_MS);
    return { ...r, monitor: r.monitor + w.monitor, dmesg: [...r.dmesg, ...w.dmesg] };
  }

  /** The capture's `req`: a QMP operation, then the 3 s monitor window. */
  req(fn: () => void): Act {
    this.wait(GAP_MS);
    const r = this.#watch(() => {
      fn();
      return { status: 0, stdout: "", stderr: "" };
    });
    const w = this.wait(SETTLE_MS);
    return { ...r, monitor: r.monitor + w.monitor, dmesg: [...r.dmesg, ...w.dmesg] };
  }

  #watch(fn: () => { status: number; stdout: string; stderr: string }): Act {
    const c = this.k.trace.length;
    const r = fn();
    const evs: readonly KernelEvent[] = this.k.trace.since(c);
    return {
      ...r,
      monitor: this.mon.feed(evs),
      dmesg: evs.flatMap((e) => (e.type === "kernel.log" ? [e.text] : [])),
    };
  }
}

/** One `ip monitor link` record (two lines). */
function rec(line1: string, ether = ETHER): string {
  return `${line1}\n${ether}`;
}

/** A silent, successful action. */
const QUIET_OK: Act = { status: 0, stdout: "", stderr: "", monitor: "", dmesg: [] };
/** A rename refused with EBUSY (exit 2, no record, no log). */
const BUSY: Act = { status: 2, stdout: "", stderr: EBUSY_TEXT, monitor: "", dmesg: [] };

function ok(monitor: string, dmesg: string[] = []): Act {
  return { status: 0, stdout: "", stderr: "", monitor, dmesg };
}

/** The guest of step 2: master up, e1000e carrier settled (the capture's `sleep 4`). */
function masterUp(version = "6.1"): Guest {
  const g = new Guest(version);
  expect(g.act("link set eth0 up").status).toBe(0);
  g.wait(4000);
  return g;
}

// ─── step 0/1: boot ─────────────────────────────────────────────────────────────────────

describe("boot state of the failover VM (6.1, measured: 0.3, 0.5-0.62, 1.102, 1.104)", () => {
  it("should log the failover registrations of master, standby and primary (0.3)", () => {
    const b = bootMachine("6.1");
    const lines = b.k.trace.events.flatMap((e) =>
      e.type === "kernel.log" && e.text.includes("failover") ? [e.text] : [],
    );
    expect(lines).toEqual([
      "virtio_net virtio0 eth0: failover master:eth0 registered",
      "virtio_net virtio0 eth0: failover standby slave:eth1 registered",
      "virtio_net virtio0 eth0: failover primary slave:eth3 registered",
    ]);
  });

  it("should list master eth0, standby eth1, plain virtio eth2 and e1000e eth3, all DOWN (1.102)", () => {
    const g = new Guest("6.1");
    const r = g.ip("link");
    expect([r.status, r.stderr, r.monitor]).toEqual([0, "", ""]);
    expect(r.stdout).toBe(
      [
        "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        "2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
        ETHER.trimEnd(),
        "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000",
        ETHER.trimEnd(),
        "4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
        CTL_ETHER.trimEnd(),
        "5: eth3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master eth0 state DOWN mode DEFAULT group default qlen 1000",
        ETHER.trimEnd(),
        "",
      ].join("\n"),
    );
  });

  it("should show the roles in ip -j -d link: parent bus/dev, 16 queues, portname sby, master (1.104)", () => {
    const g = new Guest("6.1");
    const links = JSON.parse(g.ip("-j -d link").stdout) as Record<string, unknown>[];
    const pick = (l: Record<string, unknown>) => [
      l.ifname,
      l.master ?? null,
      l.operstate,
      l.num_tx_queues,
      l.phys_port_name ?? null,
      l.parentbus ?? null,
      l.parentdev ?? null,
    ];
    expect(links.slice(1).map(pick)).toEqual([
      ["eth0", null, "DOWN", 16, null, "virtio", "virtio0"],
      ["eth1", "eth0", "DOWN", 1, "sby", "virtio", "virtio0"],
      ["eth2", null, "DOWN", 1, null, "virtio", "virtio1"],
      ["eth3", "eth0", "DOWN", 1, null, "pci", "0000:02:00.0"],
    ]);
  });

  it("should have kernel-enumerated names (name_assign_type 1) and the failover roles (0.5-0.62)", () => {
    const g = new Guest("6.1");
    const devs = ["eth0", "eth1", "eth2", "eth3"].map((n) => devGetByName(g.k, n));
    expect(devs.map((d) => d?.nameAssignType)).toEqual([1, 1, 1, 1]);
    expect(devs.map((d) => d?.driver)).toEqual([
      "net_failover",
      "virtio_net",
      "virtio_net",
      "e1000e",
    ]);
    const info = nfoInfo(devs[0] as NonNullable<(typeof devs)[0]>);
    expect([info.standby, info.primary]).toEqual([3, 5]);
  });
});

// ─── step 2: master up ────────────────────────────────────────────────────────────────

describe("ip link set eth0 up (6.1, measured: 2.110)", () => {
  const SIX =
    rec(
      "5: eth3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel master eth0 state DOWN group default ",
    ).repeat(2) +
    rec(
      "3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
    ).repeat(2) +
    rec(
      "2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state DOWN group default ",
    ) +
    rec(
      "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
    );
  const ETH3_UP = rec(
    "5: eth3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
  ).repeat(2);

  it("should print six records at once: primary twice, standby twice, master NO-CARRIER then UP", () => {
    const g = new Guest("6.1");
    const r = g.ip("link set eth0 up");
    expect(r).toEqual(ok(SIX, ["IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready"]));
    expect(devGetByName(g.k, "eth3")?.carrier).toBe(false);
  });

  it("should give the e1000e its carrier later, inside the 3 s monitor window", () => {
    const g = new Guest("6.1");
    expect(g.act("link set eth0 up")).toEqual(
      ok(SIX + ETH3_UP, [
        "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
        "e1000e 0000:02:00.0 eth3: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
        "IPv6: ADDRCONF(NETDEV_CHANGE): eth3: link becomes ready",
      ]),
    );
    expect(devGetByName(g.k, "eth3")?.carrier).toBe(true);
  });
});

// ─── step 3: renames with the master up ───────────────────────────────────────────────

describe("renames with the master up (6.1, measured: 3.115-3.122)", () => {
  it("should rename the UP standby: exit 0, one record, 'renamed from eth1' (3.115)", () => {
    const g = masterUp();
    expect(g.act("link set eth1 name sbyx")).toEqual(
      ok(
        rec(
          "3: sbyx: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
        ),
        ["virtio_net virtio0 sbyx: renamed from eth1"],
      ),
    );
  });

  it("should rename the UP e1000e primary the same way (3.116)", () => {
    const g = masterUp();
    expect(g.act("link set eth3 name prix")).toEqual(
      ok(
        rec(
          "5: prix: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
        ),
        ["e1000e 0000:02:00.0 prix: renamed from eth3"],
      ),
    );
  });

  it("should refuse the UP master with EBUSY, exit 2 and no record (3.117)", () => {
    const g = masterUp();
    expect(g.act("link set eth0 name foo")).toEqual(BUSY);
  });

  it("should refuse the UP plain virtio with EBUSY and rename it once it is down (3.118-3.121)", () => {
    const g = masterUp();
    expect(g.act("link set eth2 up")).toEqual(
      ok(
        rec(
          "4: eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default ",
          CTL_ETHER,
        ),
      ),
    );
    expect(g.act("link set eth2 name ctl0")).toEqual(BUSY);
    expect(g.act("link set eth2 down")).toEqual(
      ok(
        rec(
          "4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel state DOWN group default ",
          CTL_ETHER,
        ),
      ),
    );
    expect(g.act("link set eth2 name ctl0")).toEqual(
      ok(
        rec(
          "4: ctl0: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel state DOWN group default ",
          CTL_ETHER,
        ),
        ["virtio_net virtio1 ctl0: renamed from eth2"],
      ),
    );
  });

  it("should exit 0 without a record when the name does not change (3.122)", () => {
    const g = masterUp();
    g.act("link set eth3 name prix");
    expect(g.act("link set prix name prix")).toEqual(QUIET_OK);
  });
});

// ─── steps 4-5: slave down and renamed (NF-NC re-opens it), master down and up ─────────

describe("slave and master down/up with the master up (6.1, measured: 4.124-5.134)", () => {
  it("should re-open a downed standby when it is renamed (NF-NC, 4.124 and 4.126)", () => {
    const g = masterUp();
    g.act("link set eth1 name sbyx");
    const down = rec(
      "3: sbyx: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel master eth0 state DOWN group default ",
    );
    expect(g.act("link set sbyx down")).toEqual(ok(down + down));
    expect(g.act("link set sbyx name eth1")).toEqual(
      ok(
        rec(
          "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel master eth0 state DOWN group default ",
        ) +
          rec(
            "3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
          ).repeat(2),
        ["virtio_net virtio0 eth1: renamed from sbyx"],
      ),
    );
  });

  it("should print primary DOWN, standby DOWN, master DOWN for ip link set eth0 down (5.132)", () => {
    const g = masterUp();
    g.act("link set eth3 name prix");
    expect(g.act("link set eth0 down")).toEqual(
      ok(
        rec(
          "5: prix: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel master eth0 state DOWN group default ",
        ) +
          rec(
            "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel master eth0 state DOWN group default ",
          ) +
          rec("2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default "),
        ["e1000e 0000:02:00.0 prix: NIC Link is Down"],
      ),
    );
  });

  it("should keep the master's carrier across down/up: no NO-CARRIER record for eth0 (5.134)", () => {
    const g = masterUp();
    g.act("link set eth3 name prix");
    g.act("link set eth0 down");
    const prix = (flags: string, state: string) =>
      rec(`5: prix: <${flags}> mtu 1500 qdisc fq_codel master eth0 state ${state} group default `);
    expect(g.act("link set eth0 up")).toEqual(
      ok(
        prix("NO-CARRIER,BROADCAST,MULTICAST,UP", "DOWN").repeat(2) +
          rec(
            "3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
          ).repeat(2) +
          rec(
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ",
          ).repeat(2) +
          prix("BROADCAST,MULTICAST,UP,LOWER_UP", "UP").repeat(2),
        [
          "e1000e 0000:02:00.0 prix: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
          "IPv6: ADDRCONF(NETDEV_CHANGE): prix: link becomes ready",
        ],
      ),
    );
  });
});

// ─── steps 6-7: hot-unplug and hot-plug of the primary with the master up (T9, T8) ──────

describe("primary hot-unplug and hot-plug with the master up (6.1, measured: 6.136, 7.139, 7.141)", () => {
  /** The state of step 6: master up, primary renamed prix, plain virtio renamed ctl0. */
  function step6(): Guest {
    const g = masterUp();
    g.act("link set eth3 name prix");
    g.act("link set eth2 name ctl0");
    return g;
  }

  it("should close, unlink and delete the primary on device_del (T9, 6.136)", () => {
    const g = step6();
    const prixDown = rec(
      "5: prix: <BROADCAST,MULTICAST> mtu 1500 qdisc fq_codel master eth0 state DOWN group default ",
    );
    expect(g.req(() => g.b.m.unplug("primary0"))).toEqual(
      ok(
        prixDown +
          prixDown +
          rec(
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default event FEATURE CHANGE ",
          ) +
          rec(
            "Deleted 5: prix: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default ",
          ),
        [
          "e1000e 0000:02:00.0 prix: removed PHC",
          "e1000e 0000:02:00.0 prix: NIC Link is Down",
          "virtio_net virtio0 eth0: failover primary slave:prix unregistered",
        ],
      ),
    );
  });

  it("should enslave, open, announce and register the re-plugged VF in K5-K8 order (T8, 7.139)", () => {
    const g = step6();
    g.req(() => g.b.m.unplug("primary0"));
    const eth2 = (flags: string, rest: string) =>
      rec(`6: eth2: <${flags}> mtu 1500 ${rest} group default `);
    const unknown = eth2("BROADCAST,MULTICAST,UP", "qdisc fq_codel master eth0 state UNKNOWN");
    const r = g.req(() => g.b.m.plug("primary0"));
    expect(r.monitor).toBe(
      eth2("BROADCAST,MULTICAST", "qdisc noop master eth0 state DOWN") + // K5: CHANGEUPPER
        unknown + // K7: dev_open
        unknown + // K7: CHANGELOWERSTATE
        rec(
          "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default event FEATURE CHANGE ",
        ) + // K7: FEAT_CHANGE(master)
        unknown + // K8: registration
        eth2("NO-CARRIER,BROADCAST,MULTICAST,UP", "qdisc fq_codel master eth0 state DOWN").repeat(
          2,
        ) + // linkwatch: e1000e carrier off
        eth2("BROADCAST,MULTICAST,UP,LOWER_UP", "qdisc fq_codel master eth0 state UP").repeat(2), // K9
    );
    // The PCI core's enumeration lines ("pci 0000:02:00.0: BAR …") are not modelled.
    expect(r.dmesg).toEqual([
      "e1000e 0000:02:00.0: enabling device (0000 -> 0002)",
      "e1000e 0000:02:00.0: Interrupt Throttling Rate (ints/sec) set to dynamic conservative mode",
      "e1000e 0000:02:00.0 0000:02:00.0 (uninitialized): registered PHC clock",
      "virtio_net virtio0 eth0: failover primary slave:eth2 registered",
      "e1000e 0000:02:00.0 eth2: (PCI Express:2.5GT/s:Width x1) 52:54:00:00:12:53",
      "e1000e 0000:02:00.0 eth2: Intel(R) PRO/1000 Network Connection",
      "e1000e 0000:02:00.0 eth2: MAC: 3, PHY: 8, PBA No: 000000-000",
      "e1000e 0000:02:00.0 eth2: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
      "IPv6: ADDRCONF(NETDEV_CHANGE): eth2: link becomes ready",
    ]);
    // …and udev's rename afterwards succeeds (C.4, 7.141).
    expect(g.act("link set eth2 name ens4")).toEqual(
      ok(
        rec(
          "6: ens4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master eth0 state UP group default ",
        ),
        ["e1000e 0000:02:00.0 ens4: renamed from eth2"],
      ),
    );
  });
});

// ─── the other eras (spec R1, not measured) ──────────────────────────────────────────

describe("the same renames in the other eras (spec R1)", () => {
  it("should refuse the UP slaves with EBUSY in E0 (5.0)", () => {
    const g = masterUp("5.0");
    expect(g.act("link set eth1 name sbyx")).toEqual(BUSY);
    expect(g.act("link set eth3 name prix")).toEqual(BUSY);
  });

  it.each(["6.2", "6.18"])("should rename every UP device in E2 (%s) with ' (while UP)'", (v) => {
    const g = masterUp(v);
    expect(g.act("link set eth2 up").status).toBe(0);
    const cases = [
      ["eth1", "sbyx", "virtio_net virtio0 sbyx: renamed from eth1 (while UP)"],
      ["eth3", "prix", "e1000e 0000:02:00.0 prix: renamed from eth3 (while UP)"],
      ["eth2", "ctl0", "virtio_net virtio1 ctl0: renamed from eth2 (while UP)"],
      ["eth0", "foo", "virtio_net virtio0 foo: renamed from eth0 (while UP)"],
    ] as const;
    for (const [from, to, log] of cases) {
      const r = g.act(`link set ${from} name ${to}`);
      expect([r.status, r.stderr, r.dmesg]).toEqual([0, "", [log]]);
      const lines = r.monitor.split("\n");
      expect(lines.length).toBe(3); // one record
      expect(lines[0]).toMatch(new RegExp(`^\\d+: ${to}: <[A-Z_,]*UP,LOWER_UP> .* state UP `));
    }
  });
});
