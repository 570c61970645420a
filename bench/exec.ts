// npm run bench: what one `ip` call costs a script under `ifsim exec` — the shim's start (a
// bare Node with node:net), its round trip and the model's work — next to a bare `node -e ""`
// and the real /sbin/ip. IFSIM_BENCH_CALLS sets the number of calls (default 100).

import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { FAILOVER_VM } from "../src/machine/builtins.ts";
import { callSession } from "../src/session/client.ts";
import { ModelSession } from "../src/session/model-session.ts";
import { SessionServer } from "../src/session/server.ts";
import { writeShims } from "../src/session/shim.ts";

const CALLS = Number(process.env.IFSIM_BENCH_CALLS ?? "100");
const run = promisify(execFile);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) =>
    (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number).toFixed(1);
  const mean = (s.reduce((a, b) => a + b, 0) / s.length).toFixed(1);
  return `mean ${mean} ms, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

async function time(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f(i);
    out.push(performance.now() - t0);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "ifsim-bench-exec-"));
try {
  const session = ModelSession.boot({
    scenario: { ifsim: 1, name: "bench", steps: [] },
    machine: FAILOVER_VM,
    kernel: "6.1",
    seed: null,
  });
  const sock = join(dir, "sock");
  const server = await SessionServer.listen({ socketPath: sock, session, journal: null });
  writeShims(join(dir, "bin"), sock);
  const ip = join(dir, "bin", "ip");
  console.log(`ifsim exec: ${CALLS} sequential calls each (failover-vm, kernel 6.1)`);
  const bare = await time(CALLS, () => run(process.execPath, ["-e", ""]));
  console.log(`  node -e ""                        ${stats(bare)}`);
  const show = await time(CALLS, () => run(ip, ["link", "show"]));
  console.log(`  shim: ip link show                ${stats(show)}`);
  const add = await time(CALLS, async (i) => {
    await run(ip, ["link", "add", `b${i}`, "type", "ifb"]);
  });
  console.log(`  shim: ip link add bN type ifb     ${stats(add)}`);
  const rt = await time(CALLS * 10, () =>
    callSession(sock, { v: 1, op: "ip", argv: ["link", "show"] }),
  );
  console.log(`  round trip only (in-process client, ${CALLS * 10} calls) ${stats(rt)}`);
  await server.close();
  let real = "";
  try {
    execFileSync("ip", ["-V"]);
    real = stats(await time(CALLS, () => run("ip", ["link", "show", "lo"])));
  } catch {
    real = "not installed";
  }
  console.log(`  real ip link show lo              ${real}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
