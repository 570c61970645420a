// The ifsim command line: usage errors, kernel profiles, and `ifsim ip` on the built-in example.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";

const EXAMPLE = "examples/rename-while-up.batch";

describe("main", () => {
  it("should print help with --help and exit 0", () => {
    const r = main(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ifsim ip [--kernel V]");
  });

  it("should exit 2 with usage on stdout when no command is given", () => {
    expect(main([]).status).toBe(2);
  });

  it("should reject an unknown command with exit 2", () => {
    expect(main(["frob"])).toMatchObject({
      stdout: "",
      stderr: 'ifsim: unknown command "frob" (try "ifsim --help")\n',
      status: 2,
    });
  });

  it("should list the kernel profiles, also as JSON", () => {
    expect(main(["kernels"]).stdout).toContain("6.1   E1");
    const rows = JSON.parse(main(["kernels", "--json"]).stdout) as {
      version: string;
      era: string;
    }[];
    expect(rows.find((r) => r.version === "5.0")?.era).toBe("E0");
    expect(rows.map((r) => r.version)).toEqual(
      expect.arrayContaining(["4.19", "5.1", "5.4", "6.2", "6.18"]),
    );
  });
});

describe("ifsim ip", () => {
  it("should refuse an unknown kernel version, listing the supported ones", () => {
    const r = main(["ip", "--kernel", "3.10", "link", "show"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'Unknown kernel version "3.10": supported versions are 4.18, 4.19, 5.0',
    );
  });

  it("should refuse a bad --seed", () => {
    expect(main(["ip", "--seed", "x", "link", "show"]).status).toBe(2);
  });

  it("should show only lo on a fresh kernel", () => {
    expect(main(["ip", "link", "show"])).toMatchObject({
      stdout:
        "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n" +
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n",
      stderr: "",
      status: 0,
    });
  });

  it("should fail the UP rename of the example with EBUSY on 6.1 and go on with -force", () => {
    const r = main(["ip", "--kernel", "6.1", "-force", "-batch", EXAMPLE]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `RTNETLINK answers: Device or resource busy\nCommand failed ${EXAMPLE}:13\n`,
    );
    expect(r.stdout).toMatch(/^3: veth0@downlink0: /m);
  });

  it("should stop at the failing line without -force", () => {
    const r = main(["ip", "--kernel", "5.0", "-batch", EXAMPLE]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
  });

  it("should rename the UP device on 6.2 and write the monitor records", () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-cli-"));
    const out = join(dir, "monitor.txt");
    const r = main(["ip", "--kernel", "6.2", "--monitor", out, "-batch", EXAMPLE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^3: uplink0@downlink0: /m);
    const mon = readFileSync(out, "utf8");
    expect(mon).toMatch(
      /^3: uplink0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP group default $/m,
    );
    expect(mon.split("\n")[0]).toMatch(/^2: veth1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop/);
  });

  it("should give byte-identical output for the same seed and different MACs for another", () => {
    const a = main(["ip", "--seed", "7", "-batch", EXAMPLE]);
    const b = main(["ip", "--seed", "7", "-batch", EXAMPLE]);
    const c = main(["ip", "--seed", "8", "-batch", EXAMPLE]);
    expect(a).toEqual(b);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it("should say so when the batch file cannot be read", () => {
    expect(main(["ip", "-batch", "/nonexistent/x"])).toMatchObject({
      stdout: "",
      stderr: 'Cannot open file "/nonexistent/x" for reading: No such file or directory\n',
      status: 1,
    });
  });

  it("should report iproute2's own syntax errors with exit 255", () => {
    const dir = mkdtempSync(join(tmpdir(), "ifsim-cli-"));
    const f = join(dir, "bad.batch");
    writeFileSync(
      f,
      "link add name veth0 type veth peer name veth1\nlink set dev veth0 name a/b\n",
    );
    const r = main(["ip", "-force", "-batch", f]);
    expect(r.status).toBe(255);
    expect(r.stderr).toBe('Error: argument "a/b" is wrong: "name" not a valid ifname\n');
  });
});

describe("ifsim ip --monitor", () => {
  it("should refuse an unwritable monitor file before running anything", () => {
    expect(main(["ip", "--monitor", "/nonexistent/dir/x", "link", "show"])).toMatchObject({
      stdout: "",
      stderr:
        'ifsim ip: --monitor: cannot write "/nonexistent/dir/x": ENOENT (No such file or directory)\n',
      status: 2,
    });
  });
});
