// Link kinds the model does not have (issue 17, item 4): a clear ifsim error with exit status 3,
// never an iproute2- or kernel-looking answer.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { EXIT_UNMODELLED_KIND, IpProcess, LINUX_KINDS } from "../../src/ip/index.ts";
import { createKernel } from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";

function ip() {
  const k = createKernel({ kernel: "6.18", clock: new VirtualClock(), rng: new Rng(1) });
  return { k, p: new IpProcess(k, { force: true }) };
}

describe("iplinkModify with an unmodelled kind", () => {
  it("should say ifsim does not model the kind and exit 3", () => {
    const { p } = ip();
    const r = p.run(["link", "add", "name", "br0", "type", "bridge"]);
    expect(r.status).toBe(EXIT_UNMODELLED_KIND);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(
      'ifsim: ifsim does not model link kind "bridge" (modelled: ifb, veth); exit status 3\n',
    );
    expect(r.stdout).toBe("");
  });

  it("should stop a -force batch at that line and leave the state as it was", () => {
    const { k, p } = ip();
    const r = p.batch(
      "link add name v type veth\nlink add type dummy\nlink add name w type ifb\n",
      "f",
    );
    expect(r.status).toBe(3);
    expect(r.stderr).not.toMatch(/Command failed|RTNETLINK/);
    expect([...k.state.devices.values()].map((d) => d.name).sort()).toEqual(["lo", "v", "veth0"]);
  });

  it("should leave kinds nobody has to the kernel (Unknown device type)", () => {
    const { p } = ip();
    const r = p.run(["link", "add", "name", "x", "type", "nosuchkind"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("Error: Unknown device type.\n");
  });

  it("should know iproute2's kinds", () => {
    for (const kind of ["bridge", "dummy", "bond", "vlan", "macvlan", "vxlan", "veth", "ifb"])
      expect(LINUX_KINDS.has(kind), kind).toBe(true);
    expect(LINUX_KINDS.has("nosuchkind")).toBe(false);
  });

  it("should be documented in ifsim ip --help and returned by the CLI", () => {
    expect(main(["ip", "--help"]).stdout).toMatch(/3 when a command uses a link kind/);
    const f = join(mkdtempSync(join(tmpdir(), "ifsim-kind-")), "b.batch");
    writeFileSync(f, "link add type vlan\n");
    const r = main(["ip", "-force", "-batch", f]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^ifsim: ifsim does not model link kind "vlan"/);
  });
});
