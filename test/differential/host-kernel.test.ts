// Differential test: the same random `ip link` sequences on the model (profile 6.18) and on the
// host kernel in a fresh network namespace; per step the exit status and stderr, and after each
// step the normalised `ip -j link`, must be identical.

import { describe, expect, it } from "vitest";
import { Netns, netnsUnavailableReason } from "../../src/backends/netns.ts";
import { IpProcess } from "../../src/ip/index.ts";
import { createKernel, type Kernel, settleWork } from "../../src/kernel/index.ts";
import { Rng, VirtualClock } from "../../src/sim/index.ts";
import { testSeed } from "../_helpers/seed.ts";
import { type NormLink, nextCommand, normaliseLinks, sequenceRng } from "./sequences.ts";

const SEQUENCES = Number(process.env.IFSIM_DIFF_SEQUENCES ?? 200);
const LENGTH = 14;
const required = process.env.IFSIM_REAL_KERNEL === "1" || (process.env.CI ?? "") !== "";
const reason = netnsUnavailableReason();

function settleModel(k: Kernel, clock: VirtualClock): void {
  settleWork(k, (t) => clock.advanceTo(t));
}

function modelKernel(seed: number): { k: Kernel; clock: VirtualClock } {
  const clock = new VirtualClock();
  const k = createKernel({ kernel: "6.18", clock, rng: new Rng(seed) });
  return { k, clock };
}

function modelRun(k: Kernel, clock: VirtualClock, argv: string[], json = false) {
  // Each step is a separate `ip` process, as in the namespace.
  const p = new IpProcess(k, { json, settle: () => settleModel(k, clock) });
  return p.run(argv);
}

/** Polls the namespace until its link table equals `want` (linkwatch runs asynchronously). */
function realLinks(ns: Netns, want: NormLink[]): NormLink[] {
  let got: NormLink[] = [];
  for (let i = 0; i < 40; i++) {
    got = normaliseLinks(ns.ip(["-j", "link", "show"]).stdout);
    if (JSON.stringify(got) === JSON.stringify(want)) return got;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  }
  return got;
}

describe(`differential: model 6.18 vs host kernel ${SEQUENCES} sequences (seed ${testSeed()})`, () => {
  if (reason !== null && required) {
    it("should have what the real-kernel test needs", () => {
      throw new Error(`The differential test must run here but cannot: ${reason}`);
    });
    return;
  }
  it.skipIf(reason !== null)(
    `should agree step by step on exit status, stderr and links${reason ? ` (skipped: ${reason})` : ""}`,
    () => {
      const base = testSeed();
      const diffs: string[] = [];
      let steps = 0;
      for (let s = 0; s < SEQUENCES && diffs.length === 0; s++) {
        const seed = (base + s) >>> 0;
        const rng = sequenceRng(seed);
        const seq: string[][] = [];
        const { k, clock } = modelKernel(seed);
        const ns = new Netns("ifsim-diff");
        try {
          for (let i = 0; i < LENGTH; i++) {
            const live = [...k.state.devices.values()].map((d) => d.name).sort();
            const argv = nextCommand(rng, live);
            seq.push(argv);
            steps++;
            const m = modelRun(k, clock, argv);
            const r = ns.ip(argv);
            const where = `sequence seed ${seed} step ${i + 1} \`ip ${argv.join(" ")}\``;
            if (m.status !== r.status || m.stderr !== r.stderr || m.stdout !== r.stdout) {
              diffs.push(
                `${where}: model exit ${m.status} ${JSON.stringify(m.stderr)} ${JSON.stringify(m.stdout)}; kernel exit ${r.status} ${JSON.stringify(r.stderr)} ${JSON.stringify(r.stdout)}`,
              );
              break;
            }
            const mj = modelRun(k, clock, ["link", "show"], true);
            const want = normaliseLinks(mj.stdout);
            const got = realLinks(ns, want);
            if (JSON.stringify(got) !== JSON.stringify(want)) {
              diffs.push(
                `${where}: links differ\n model:  ${JSON.stringify(want)}\n kernel: ${JSON.stringify(got)}`,
              );
              break;
            }
          }
        } finally {
          ns.close();
        }
        if (diffs.length > 0)
          diffs.push(
            `replay: IFSIM_SEED=${base} (sequence ${s}, seed ${seed}); ${seq.map((a) => a.join(" ")).join(" ; ")}`,
          );
      }
      expect(diffs).toEqual([]);
      expect(steps).toBeGreaterThanOrEqual(SEQUENCES * LENGTH);
    },
    600_000,
  );
});
