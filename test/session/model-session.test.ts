// ModelSession: calls on one model, each ending quiescent; replaying the same calls into a fresh
// boot gives the same state (what `ifsim serve --state` relies on after a restart).

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { FAILOVER_VM } from "../../src/machine/builtins.ts";
import {
  ModelSession,
  type SessionCall,
  type SessionConfig,
} from "../../src/session/model-session.ts";
import { replayCalls } from "../../src/session/server.ts";
import { testSeed } from "../_helpers/seed.ts";

const cfg = (kernel: string): SessionConfig => ({
  scenario: { ifsim: 1, name: "t", steps: [], udev: { generation: "v256" } },
  machine: FAILOVER_VM,
  kernel,
  seed: null,
});

const ip = (line: string): SessionCall => ({ op: "ip", argv: line.split(" "), input: null });
const hv = (line: string): SessionCall => ({ op: "hv", argv: line.split(" ") });

describe("ModelSession", () => {
  it("should boot the machine with its udev actor and settle before the first call", () => {
    const s = ModelSession.boot(cfg("6.1"));
    const r = s.call(ip("-br link"));
    expect(r.stdout).toMatch(/^enp0s3 /m);
    expect(s.calls).toEqual([
      {
        t: expect.any(Number),
        tEnd: expect.any(Number),
        op: "ip",
        argv: ["-br", "link"],
        status: 0,
      },
    ]);
  });

  it("should let virtual time pass with sleep and refuse a negative or unknown one", () => {
    const s = ModelSession.boot(cfg("6.1"));
    const t = s.now();
    expect(s.call(hv("sleep 1.5s")).status).toBe(0);
    expect(s.now()).toBe(t + 1_500_000);
    expect(s.call(hv("sleep -1")).status).toBe(2);
    expect(s.call(hv("sleep 2d")).status).toBe(2);
  });

  it("should run #ifsim: lines of a batch as hypervisor calls", () => {
    const s = ModelSession.boot(cfg("5.0"));
    const r = s.call({
      op: "ip",
      argv: ["-batch", "b"],
      input: { kind: "text", text: "#ifsim: unplug primary0\n#ifsim: plug nope\nlink show\n" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ifsim: b:2: the machine has no device "nope"/);
  });

  const CALLS = [
    "link set enp0s3 up",
    "link set enp0s3 down",
    "link set enp0s3nsby name sby0",
    "link add v0 type veth peer name v1",
    "link set v0 up",
    "link set v0 name w0",
    "link del v0",
    "link del w0",
  ].map(ip);
  const HV = ["unplug primary0", "plug primary0", "set-link primary0 down", "sleep 300ms"].map(hv);

  test.prop(
    [fc.constantFrom("5.0", "6.1"), fc.array(fc.constantFrom(...CALLS, ...HV), { maxLength: 12 })],
    { seed: testSeed(), numRuns: 15 },
  )(
    `should reach the same state when the calls are replayed into a fresh boot (seed ${testSeed()})`,
    (kernel, calls) => {
      const a = ModelSession.boot(cfg(kernel));
      for (const c of calls) a.call(c);
      const b = ModelSession.boot(cfg(kernel));
      replayCalls(b, calls);
      const show = (s: ModelSession) => s.call(ip("-d link show")).stdout;
      expect(show(b)).toBe(show(a));
      expect(b.now()).toBe(a.now());
      expect(b.record().record).toEqual(a.record().record);
    },
  );
});

describe(`ModelSession against ifsim ip (seed ${testSeed()})`, () => {
  const WORDS = [
    "link",
    "show",
    "set",
    "add",
    "del",
    "dev",
    "name",
    "up",
    "down",
    "type",
    "veth",
    "ifb",
    "peer",
    "eth0",
    "eth1",
    "eth3",
    "v0",
    "v1",
    "mtu",
    "9000",
    "address",
    "02:00:00:00:00:09",
    "-j",
    "-d",
    "-br",
    "-o",
    "-s",
    "altname",
    "property",
    "master",
    "nomaster",
    "frob",
    "help",
  ];
  test.prop(
    [
      fc.constantFrom("5.0", "6.1"),
      fc.boolean(),
      fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 7 }),
    ],
    { seed: testSeed(), numRuns: 60 },
  )(
    "should answer a first call exactly as ifsim ip answers it on a fresh kernel",
    (kernel, vm, argv) => {
      const cli = main([
        "ip",
        "--kernel",
        kernel,
        ...(vm ? ["--machine", "failover-vm"] : []),
        ...argv,
      ]);
      const s = ModelSession.boot({
        scenario: { ifsim: 1, name: "t", steps: [] },
        machine: vm ? FAILOVER_VM : null,
        kernel,
        seed: null,
      });
      const r = s.call({ op: "ip", argv, input: null });
      expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({
        stdout: cli.stdout,
        stderr: cli.stderr,
        status: cli.status,
      });
    },
  );
});
