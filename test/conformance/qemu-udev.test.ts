// The udev conformance corpus (test/conformance/qemu-udev/*.yaml) with each Debian release's real
// systemd-udevd in the qemu guest (bullseye: 5.10 + udev 247, bookworm: 6.1 + 252, trixie: 6.12 +
// 257) against the model's udevd on that kernel's profile, of the generation that real udev behaves
// as (REAL_UDEV_GENERATION, measured with tools/qemu-capture/udev-generation.ts; the corpus names
// none), through `ifsim conform --kernel K`: the verdict must be AGREE — every step (ok, errno,
// message and its `ip monitor link` records, altname changes included), every final link, and the
// renames udevd tried with their results (sorted: udevd's workers handle devices in parallel).
// What made them differ before, and must not come back: the model's step monitor started at boot
// and named the master by its boot name (`master eth0`); the model's steps followed each other at
// once, so a VF's carrier-off waited for linkwatch's next batch; the model loaded every boot module
// at once, so e1000e registered before udevd renamed the virtio NIC (eth1 instead of eth0); on
// 5.10 the kernel's default qdisc is pfifo_fast; udev 247 sets altnames its own way (v249); on
// 6.12 virtio_net had the carrier on while down, and udev 257 assigns altnames after the rename.
// 07 starts udevd after the boot (`udev.start: late`, the guest's `ifsim.udev=late`): the boot's
// uevents are lost and `udevadm trigger` names the devices from eth0–eth2 (VF eth2 → enp1s0).
// The examples with a udevd that the backend takes on a release run here too (today
// examples/scenarios/06-udev-seed-race.yaml on 6.1: it names generation v253).
//
// A release whose kernel is not in the cache is skipped with the command that prepares it;
// QEMU missing, or a release not prepared, fails instead when IFSIM_REAL_KERNEL=1 or CI is set
// (.ci/run prepares all three).

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  kernelCached,
  QEMU_RELEASES,
  QemuBackend,
  qemuUnavailableReason,
} from "../../src/backends/qemu/index.ts";
import { conformScenario } from "../../src/conform/index.ts";
import { parseScenario } from "../../src/scenario/parse.ts";

const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const qemuReason = qemuUnavailableReason();
const dir = new URL("./qemu-udev/", import.meta.url);
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
/**
 * The examples with a udevd that the backend takes on a release (06-udev-seed-race names udev
 * generation v253: bookworm's 252 only), judged here rather than by qemu.test.ts (see there).
 */
const exampleDir = new URL("../../examples/scenarios/", import.meta.url);
function udevExamples(kernel: string): URL[] {
  return readdirSync(exampleDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => new URL(f, exampleDir))
    .filter((u) => {
      const p = parseScenario(readFileSync(u, "utf8"), u.pathname);
      const udevd = p.ok && p.scenario.udev !== undefined && p.scenario.udev !== "none";
      return p.ok && udevd && new QemuBackend().refuses(p.scenario, { kernel }) === null;
    });
}

/**
 * The scenarios each release runs (absent: all). All five on every release since 6.12's two
 * measured differences were settled: its virtio_net keeps the carrier off until the first open
 * (df28de7b0050 + be5dcaed694e, the model's 6.12 profile), and udev 257's workers race for the
 * shared MAC's `enx…` altname (conform compares the holder of such a name as a race outcome).
 */
const SUBSET: Readonly<Record<string, readonly string[]>> = {};

/**
 * A step's `ip monitor link` records per ifindex, in order. A step whose udev events run on two
 * workers at once (a re-trigger of two devices) interleaves the two devices' records in either
 * order on real udev (measured on 247: `foo -> enp0s3` before or after eth9's altname removal,
 * one run each); one device's records keep their order.
 */
function perDevice(events: readonly string[]): string {
  const by = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const l of events) {
    const m = /^(?:Deleted )?(\d+): /.exec(l);
    if (m) {
      const key = m[1] as string;
      cur = by.get(key) ?? [];
      by.set(key, cur);
      cur.push(l);
    } else if (cur) cur.push(l);
  }
  return JSON.stringify([...by.entries()].sort(([a], [b]) => Number(a) - Number(b)));
}

for (const r of QEMU_RELEASES) {
  const files = [
    ...corpus.filter((f) => SUBSET[r.kernel]?.includes(f) ?? true).map((f) => new URL(f, dir)),
    ...udevExamples(r.kernel),
  ];
  const reason =
    qemuReason ??
    (kernelCached(r)
      ? null
      : `Debian ${r.suite}'s ${r.kernel} guest is not prepared (npx tsx tools/qemu-capture/prepare-backend.ts ${r.kernel})`);

  describe(`qemu backend: real udevd ${r.udevMajor} on Linux ${r.kernel} (Debian ${r.suite}) against the udev model`, () => {
    it("should find a usable QEMU and a prepared guest (required when IFSIM_REAL_KERNEL=1 or CI)", () => {
      if (reason && required)
        throw new Error(
          `IFSIM_REAL_KERNEL=1 but the qemu backend cannot run ${r.kernel}: ${reason}`,
        );
      if (reason) console.log(`qemu udev conformance on ${r.kernel} skipped: ${reason}`);
      expect(corpus.length).toBeGreaterThanOrEqual(5);
      expect(files.length).toBeGreaterThanOrEqual(2);
    });

    for (const u of files) {
      const f = u.pathname.includes("/examples/")
        ? `examples/scenarios/${u.pathname.split("/").pop()}`
        : (u.pathname.split("/").pop() as string);
      it.skipIf(reason !== null)(
        `${f}: every step, link and udevd rename agrees`,
        async () => {
          const parsed = parseScenario(readFileSync(u, "utf8"), f);
          if (!parsed.ok) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
          const res = await conformScenario(f, parsed.scenario, new QemuBackend(), {
            kernel: r.kernel,
            keep: true,
          });
          if (res.verdict === "REFUSED" || res.verdict === "ERROR")
            throw new Error(`${res.verdict}: ${res.reason}`);
          // conform compared the final `ip -d link` too: both sides must have had it
          expect((res.records?.kernel as { ip_link?: string } | undefined)?.ip_link).toMatch(
            /^1: lo: /,
          );
          expect(res.records?.model.record.ip_link_details).toMatch(/^1: lo: /);
          // only the interleaving of two devices' records may differ (perDevice)
          const interleaved = (d: (typeof res.differences)[number]): boolean => {
            const i = Number(/^step (\d+) /.exec(d.where)?.[1]) - 1;
            const m = res.records?.model.record.steps[i];
            const k = res.records?.kernel.steps[i];
            return (
              d.field === "events" &&
              m !== undefined &&
              k !== undefined &&
              perDevice(m.events) === perDevice(k.events)
            );
          };
          // a measured race that conform tolerates (the outcome the model does not play) is shown
          for (const t of res.tolerated ?? []) console.log(`${r.kernel} ${f}: tolerated: ${t}`);
          for (const d of res.differences.filter(interleaved))
            console.log(`${r.kernel} ${f}: ${d.where}: two devices' records interleaved otherwise`);
          const shown = res.differences
            .filter((d) => !interleaved(d))
            .map(
              (d) =>
                `${d.where} ${d.field}: model ${d.model}, kernel ${d.kernel}${d.diff ? `\n${d.diff.join("\n")}` : ""}`,
            );
          console.log(
            `${r.kernel} ${f}: ${res.verdict} in ${((res.wallMs ?? 0) / 1000).toFixed(1)} s (kernel ${res.kernel}, model ${res.profile})`,
          );
          if (typeof parsed.scenario.bringup === "object" && parsed.scenario.bringup.dhcp) {
            // conform compared the DHCP decisions; they must exist on both sides to mean anything
            const kd = res.records?.kernel.dhcp ?? [];
            console.log(`${r.kernel} ${f}: DHCP decisions in the guest: ${kd.join("; ")}`);
            expect(kd.length).toBeGreaterThan(0);
            expect(res.records?.model.record.dhcp?.length).toBe(kd.length);
          }
          expect(shown).toEqual([]);
          expect(res.verdict === "AGREE" || res.differences.every(interleaved)).toBe(true);
        },
        600_000,
      );
    }
  });
}
