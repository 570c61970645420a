// `ifsim serve --state DIR` as a real process: SIGKILLed mid-session, restarted with nothing
// acknowledged lost and no stale socket in the way; a second server on the same DIR refused;
// SIGTERM stops it cleanly. The journal's torn last line (a kill while writing) is dropped.

import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callSession } from "../../src/session/client.ts";
import { Journal, loadOrSaveConfig, StateError } from "../../src/session/journal.ts";

let dir = "";
let cli = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ifsim-serve-"));
  cli = join(dir, "ifsim.mjs");
  buildSync({
    entryPoints: [fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: cli,
    logLevel: "warning",
    // A CommonJS dependency's require() of a built-in works in the ESM bundle through this.
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
  });
});
afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Starts `ifsim serve`; resolves once it listens (or with its exit when it refuses). */
function serve(
  args: string[],
): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, "serve", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    // The bundle's isMain() compares argv[1] with its own URL: the bundle is the entry.
    let err = "";
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const done = () => resolve({ child, stderr: () => err, exited });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      err += s;
      if (err.includes("ifsim serve: serving ")) done();
    });
    void exited.then(done);
  });
}

const ip = (state: string, argv: string[]) =>
  callSession(join(state, "sock"), { v: 1, op: "ip", argv });
const hv = (state: string, argv: string[]) =>
  callSession(join(state, "sock"), { v: 1, op: "hv", argv });

describe("ifsim serve --state", () => {
  it("should keep every acknowledged call across kill -9 and sweep the stale socket", async () => {
    const state = join(dir, "s1");
    const a = await serve(["--state", state, "--kernel", "5.0", "--machine", "failover-vm"]);
    expect(a.stderr()).toContain("0 journaled calls replayed");
    expect(statSync(join(state, "sock")).mode & 0o777).toBe(0o600);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    await ip(state, ["link", "set", "eth0", "up"]);
    await hv(state, ["unplug", "primary0"]);
    await hv(state, ["plug", "primary0"]);
    const busy = await ip(state, ["link", "set", "eth3", "name", "vf0"]);
    expect(busy).toMatchObject({
      status: 2,
      stderr: "RTNETLINK answers: Device or resource busy\n",
    });
    await ip(state, ["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    const before = await ip(state, ["-d", "link", "show"]);

    const second = await serve(["--state", state]);
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toMatch(/ifsim serve: a server \(pid \d+\) already serves/);

    a.child.kill("SIGKILL");
    await a.exited;
    expect(existsSync(join(state, "sock"))).toBe(true); // stale, left by the kill

    const b = await serve(["--state", state]);
    // Six calls: the show is journaled too (every call ran on the model, reads included).
    expect(b.stderr()).toContain("6 journaled calls replayed");
    expect(await ip(state, ["-d", "link", "show"])).toEqual(before);
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect(existsSync(join(state, "sock"))).toBe(false);
    expect(existsSync(join(state, "server.pid"))).toBe(false);
  });

  it("should refuse other boot options for an existing session, and a bad kernel", async () => {
    const state = join(dir, "s2");
    const a = await serve(["--state", state, "--kernel", "6.1"]);
    a.child.kill("SIGTERM");
    await a.exited;
    const b = await serve(["--state", state, "--kernel", "5.0"]);
    expect(await b.exited).toBe(2);
    expect(b.stderr()).toMatch(/holds a session booted with other options \(kernel 6\.1/);
    const c = await serve(["--state", join(dir, "s3"), "--kernel", "9.9"]);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(/Unknown kernel version "9\.9"/);
    // The failed first start saved nothing: the corrected options start the session.
    const d = await serve(["--state", join(dir, "s3"), "--kernel", "6.1"]);
    expect(d.stderr()).toContain("0 journaled calls replayed");
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });
});

describe("ifsim exec as a process", () => {
  it("should pass a SIGTERM to the command, remove its directory and exit 128+15", async () => {
    const child = spawn(
      process.execPath,
      [cli, "exec", "--", "sh", "-c", 'echo "$IFSIM_SOCKET"; exec sleep 30'],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.setEncoding("utf8");
    const sockPath = await new Promise<string>((resolve) =>
      child.stdout?.on("data", (s: string) => {
        out += s;
        if (out.includes("\n")) resolve(out.split("\n")[0] as string);
      }),
    );
    expect(existsSync(sockPath)).toBe(true);
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(existsSync(join(sockPath, ".."))).toBe(false);
  });
});

describe("Journal", () => {
  it("should drop a torn last line (never acknowledged) and keep the rest", () => {
    const state = join(dir, "j1");
    loadOrSaveConfig(state, {
      scenario: { ifsim: 1, name: "t", steps: [] },
      machine: null,
      kernel: null,
      seed: null,
    });
    const j = new Journal(state);
    j.append({ op: "hv", argv: ["settle"] });
    appendFileSync(j.path, '{"op":"ip","argv":["link","del"');
    expect(j.replay()).toEqual([{ op: "hv", argv: ["settle"] }]);
    expect(readFileSync(j.path, "utf8")).toBe('{"op":"hv","argv":["settle"]}\n');
    j.append({ op: "ip", argv: ["link"], input: null });
    expect(j.replay()).toHaveLength(2);
    j.close();
  });

  it("should refuse a damaged complete line with its place", () => {
    const state = join(dir, "j2");
    loadOrSaveConfig(state, {
      scenario: { ifsim: 1, name: "t", steps: [] },
      machine: null,
      kernel: null,
      seed: null,
    });
    const j = new Journal(state);
    appendFileSync(j.path, '{"op":"hv","argv":[]}\n{"op":"rm"}\n');
    expect(() => j.replay()).toThrow(StateError);
    expect(() => j.replay()).toThrow(/journal\.jsonl:2: not a journal entry/);
    j.close();
  });
});
