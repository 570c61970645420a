// The model server under bad input, dying clients and parallel clients: every call atomic and
// serialised, nothing but whole valid requests ever reaching the model.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runIp } from "../../src/ip/index.ts";
import { FAILOVER_VM } from "../../src/machine/builtins.ts";
import { callSession } from "../../src/session/client.ts";
import type { Journal } from "../../src/session/journal.ts";
import { ModelSession, type SessionConfig } from "../../src/session/model-session.ts";
import { encodeFrame, FrameReader } from "../../src/session/protocol.ts";
import { SessionServer } from "../../src/session/server.ts";
import { writeShims } from "../../src/session/shim.ts";

const EMPTY: SessionConfig = {
  scenario: { ifsim: 1, name: "t", steps: [] },
  machine: null,
  kernel: "6.1",
  seed: null,
};

let dir: string;
let sock: string;
let session: ModelSession;
let server: SessionServer;

async function start(cfg: SessionConfig = EMPTY): Promise<void> {
  session = ModelSession.boot(cfg);
  server = await SessionServer.listen({ socketPath: sock, session, journal: null });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ifsim-srv-"));
  sock = join(dir, "sock");
});

afterEach(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends raw bytes, resolves with the frames the server answered before closing. */
function raw(bytes: Buffer, o: { end?: boolean } = {}): Promise<unknown[]> {
  return new Promise((resolve) => {
    const s = createConnection(sock);
    const r = new FrameReader();
    const got: unknown[] = [];
    s.on("connect", () => (o.end === false ? s.write(bytes) : s.end(bytes)));
    s.on("data", (d) => {
      const x = r.push(d);
      if (!("error" in x)) got.push(...x.frames);
    });
    s.on("close", () => resolve(got));
    s.on("error", () => {});
  });
}

const ip = (argv: string[]) => callSession(sock, { v: 1, op: "ip", argv });
const links = async () => ((await ip(["-br", "link"])) as { stdout: string }).stdout;

describe("SessionServer", () => {
  it("should listen on a socket only its owner can use", async () => {
    await start();
    expect(statSync(sock).mode & 0o777).toBe(0o600);
  });

  it("should answer an ip call as ip on the model answers it", async () => {
    await start();
    const r = await ip(["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    expect(r).toEqual({ ok: true, stdout: "", stderr: "", status: 0, chunks: [] });
    const again = await ip(["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    expect(again).toMatchObject({
      ok: true,
      status: 2,
      stderr: "RTNETLINK answers: File exists\n",
    });
    const show = await ip(["-j", "link", "show"]);
    expect(show).toMatchObject({
      ok: true,
      status: 0,
      stdout: runIp(session.run.k, ["link", "show"], { json: true }).stdout,
    });
  });

  it("should answer garbage with an error, close, and keep the model as it was", async () => {
    await start();
    await ip(["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    const before = await links();
    const notJson = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from("hello")]);
    expect(await raw(notJson)).toEqual([
      { ok: false, error: expect.stringMatching(/^frame is not UTF-8 JSON/) },
    ]);
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    expect(await raw(huge)).toEqual([
      { ok: false, error: expect.stringMatching(/^frame of 4294967295 bytes announced/) },
    ]);
    expect(await raw(encodeFrame({ v: 1, op: "ip", argv: "link del v0" }))).toEqual([
      { ok: false, error: "request argv is not a list of strings" },
    ]);
    expect(await raw(encodeFrame({ v: 2, op: "ip", argv: ["link", "del", "v0"] }))).toEqual([
      { ok: false, error: "request has protocol version 2, expected 1" },
    ]);
    expect(await links()).toBe(before);
  });

  it("should drop the half frame of a client that dies mid-call and serve the next", async () => {
    await start();
    const frame = encodeFrame({ v: 1, op: "ip", argv: ["link", "add", "x0", "type", "ifb"] });
    await new Promise<void>((resolve) => {
      const s: Socket = createConnection(sock, () => {
        s.write(frame.subarray(0, frame.length - 3), () => {
          s.destroy();
          resolve();
        });
      });
    });
    expect(await links()).not.toContain("x0");
    expect(server.handled).toBe(1);
  });

  it("should finish the call of a client that dies before reading the answer", async () => {
    await start();
    await raw(encodeFrame({ v: 1, op: "ip", argv: ["link", "add", "x0", "type", "ifb"] }));
    expect(await links()).toContain("x0");
  });

  it("should serialise parallel clients: every call whole, in some order", async () => {
    await start();
    const n = 16;
    const rs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ip(["link", "add", `a${i}`, "type", "veth", "peer", "name", `b${i}`]),
      ),
    );
    expect(rs.every((r) => r.ok && r.status === 0)).toBe(true);
    const ifindex = session.run.k.state.devices;
    const names = [...ifindex.values()].map((d) => d.name);
    for (let i = 0; i < n; i++) expect(names).toEqual(expect.arrayContaining([`a${i}`, `b${i}`]));
    // Each veth pair took two consecutive ifindexes: no call interleaved with another.
    for (const d of ifindex.values()) {
      const m = /^a(\d+)$/.exec(d.name);
      if (m) expect(ifindex.get(d.ifindex - 1)?.name).toBe(`b${m[1]}`);
    }
    expect(session.calls).toHaveLength(n);
  });

  it("should refuse a call it cannot journal and not run it", async () => {
    session = ModelSession.boot(EMPTY);
    const full = {
      append: () => {
        throw Object.assign(new Error("no space"), { code: "ENOSPC" });
      },
    } as unknown as Journal;
    server = await SessionServer.listen({ socketPath: sock, session, journal: full });
    expect(await ip(["link", "add", "x0", "type", "ifb"])).toEqual({
      ok: false,
      error: "cannot journal the call, so it was not run: ENOSPC",
    });
    expect(session.calls).toEqual([]);
    expect(runIp(session.run.k, ["link", "show"]).stdout).not.toContain("x0");
  });

  it("should run hypervisor calls and refuse unknown devices and verbs", async () => {
    await start({ ...EMPTY, machine: FAILOVER_VM });
    const hv = (argv: string[]) => callSession(sock, { v: 1, op: "hv", argv });
    expect(await hv(["unplug", "primary0"])).toMatchObject({ ok: true, status: 0 });
    expect(await links()).not.toMatch(/^eth3 /m);
    expect(await hv(["plug", "primary0"])).toMatchObject({ ok: true, status: 0 });
    expect(await links()).toMatch(/^eth3 /m);
    const t = session.now();
    expect(await hv(["sleep", "250ms"])).toMatchObject({ ok: true, status: 0 });
    expect(session.now()).toBeGreaterThanOrEqual(t + 250_000);
    expect(await hv(["plug", "nic9"])).toMatchObject({
      status: 1,
      stderr:
        'ifsim-hv: the machine has no device "nic9" (its devices: standby0, net1, rp1, rp2, primary0)\n',
    });
    expect(await hv(["fly"])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^ifsim-hv: unknown action "fly"\nUsage: ifsim-hv /),
    });
    expect(await hv(["sleep", "soon"])).toMatchObject({ status: 2 });
  });

  it("should read a -batch file from the client's directory, and stdin for -batch -", async () => {
    await start();
    writeFileSync(join(dir, "b.txt"), "link add x0 type ifb\nlink set dev nope up\n");
    const r = await callSession(sock, { v: 1, op: "ip", argv: ["-batch", "b.txt"], cwd: dir });
    expect(r).toMatchObject({
      status: 1,
      stderr: expect.stringContaining("Command failed b.txt:2"),
    });
    const s = await callSession(sock, {
      v: 1,
      op: "ip",
      argv: ["-batch", "-"],
      stdin: "link add x1 type ifb\n",
    });
    expect(s).toMatchObject({ status: 0 });
    const missing = await callSession(sock, { v: 1, op: "ip", argv: ["-b", "nope"], cwd: dir });
    expect(missing).toMatchObject({
      status: 1,
      stderr: 'Cannot open file "nope" for reading: No such file or directory\n',
    });
    expect(await links()).toMatch(/^x0 .*\nx1 /m);
  });
});

describe("the ip and ifsim-hv shims", () => {
  const run = (file: string, args: string[], input?: string) =>
    new Promise<{ stdout: string; stderr: string; status: number }>((resolve) => {
      const c = execFile(file, args, { cwd: dir }, (e, stdout, stderr) =>
        resolve({ stdout, stderr, status: e ? ((e as { code?: number }).code ?? -1) : 0 }),
      );
      if (input !== undefined) c.stdin?.end(input);
      else c.stdin?.end();
    });

  it("should print what the model's ip prints, with its exit status", async () => {
    await start({ ...EMPTY, machine: FAILOVER_VM });
    const bin = join(dir, "bin");
    writeShims(bin, sock);
    const bad = await run(join(bin, "ip"), ["link", "set", "eth9", "up"]);
    expect(bad).toEqual({ stdout: "", stderr: 'Cannot find device "eth9"\n', status: 1 });
    const hv = await run(join(bin, "ifsim-hv"), ["unplug", "primary0"]);
    expect(hv.status).toBe(0);
    const show = await run(join(bin, "ip"), ["-d", "link", "show"]);
    expect(show).toEqual({
      stdout: runIp(session.run.k, ["link", "show"], { details: true }).stdout,
      stderr: "",
      status: 0,
    });
    const batch = await run(join(bin, "ip"), ["-batch", "-"], "link set eth0 up\nlink show eth0\n");
    expect(batch.status).toBe(0);
    expect(batch.stdout).toMatch(/^2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP>/);
  });

  it("should say so when the server is gone", async () => {
    const bin = join(dir, "bin");
    writeShims(bin, sock);
    const r = await run(join(bin, "ip"), ["link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ip: cannot reach the model at .*sock: ENOENT/);
  });

  it("should refuse hypervisor actions in a network namespace, and let time pass", async () => {
    const bin = join(dir, "bin");
    writeShims(bin, null, { netns: true });
    const r = await run(join(bin, "ifsim-hv"), ["plug", "vf0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^ifsim-hv: the netns backend cannot "plug vf0": a network namespace has no hypervisor/,
    );
    expect((await run(join(bin, "ifsim-hv"), ["sleep", "10ms"])).status).toBe(0);
    expect((await run(join(bin, "ifsim-hv"), ["settle"])).status).toBe(0);
  });
});
