// The QEMU guest's bring-up loop decides "udev is done with this link" as networkd does: the
// database file exists and has no ID_RENAMING. Real udevd 252 writes the file with ID_RENAMING and
// without the rules' properties just before it renames a link; a loop that only tested the file's
// existence once started a DHCP client on a VF that a udev rule had marked NM_UNMANAGED (CI,
// stop 25: test/conformance/qemu-udev.test.ts, 09-bringup-dhcp.yaml on 6.1). This runs the
// guest's own shell function on such files, with the shells the guest and this machine have.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GUEST_MODLIB } from "../../src/backends/qemu/guest.ts";

const fn = /^bu_ready\(\) \{\n[\s\S]*?^\}\n/m.exec(GUEST_MODLIB)?.[0];
const dir = mkdtempSync(join(tmpdir(), "ifsim-bu-ready-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILES: Record<string, string | null> = {
  // udevd's entry before the rename: the clone of the old entry (none) plus ID_RENAMING
  "2": "E:ID_RENAMING=1\n",
  // after the rename, before the move: the rules' properties and ID_RENAMING
  "3": "I:1234567\nE:ID_NET_NAME_PATH=enp1s0\nE:NM_UNMANAGED=1\nE:ID_RENAMING=1\nG:systemd\n",
  // after the move: done
  "4": "I:1234567\nE:ID_NET_NAME_PATH=enp1s0\nE:NM_UNMANAGED=1\nG:systemd\n",
  // no properties at all: done (initialized)
  "5": "",
  // no entry: not initialized
  "6": null,
  // a property whose value merely contains the text
  "7": "E:X=E:ID_RENAMING=1\n",
};
const EXPECTED = "2 no\n3 no\n4 yes\n5 yes\n6 no\n7 yes\n";

function script(): string {
  for (const [i, text] of Object.entries(FILES))
    if (text !== null) writeFileSync(join(dir, `n${i}`), text);
  const body = (fn as string).replaceAll("/run/udev/data/", `${dir}/`);
  return `${body}for i in 2 3 4 5 6 7; do if bu_ready $i; then echo "$i yes"; else echo "$i no"; fi; done\n`;
}

const shells: [string, string[]][] = [["/bin/sh", []]];
if (existsSync("/bin/busybox")) shells.push(["/bin/busybox", ["sh"]]);

describe("the guest's bring-up: bu_ready", () => {
  it("should be in the guest's shell library", () => {
    expect(fn).toBeDefined();
    // both loops use it (boot and steps)
    expect(GUEST_MODLIB.match(/! bu_ready "\$i"/g)).toHaveLength(2);
  });
  for (const [sh, args] of shells)
    it(`should wait while the entry is missing or has ID_RENAMING (${[sh, ...args].join(" ")})`, () => {
      const r = spawnSync(sh, [...args, "-c", script()], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(EXPECTED);
    });
  it("should run under the guest's busybox where this machine has it (CI installs busybox-static)", () => {
    if (!existsSync("/bin/busybox")) {
      if (process.env.CI)
        throw new Error("CI: /bin/busybox missing (apt-get install busybox-static)");
      console.log("bu_ready under busybox sh skipped: /bin/busybox missing");
    }
    expect(shells.length).toBeGreaterThanOrEqual(1);
  });
});
