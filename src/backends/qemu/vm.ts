// One QEMU guest: starts qemu-system-x86_64 paused, connects QMP and the agent's serial channel,
// adds the devices that must be added while paused, lets it run, and talks to the agent.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentReply, ChannelParser, requestLine } from "./channel.ts";
import type { QemuLayout } from "./layout.ts";
import type { Prepared } from "./prepare.ts";
import { Qmp } from "./qmp.ts";

/** How to run the VM. */
export interface VmOptions {
  /** Virtual CPUs (default 2). */
  readonly smp?: number;
  /** Memory, MiB (default 512). */
  readonly memMiB?: number;
  /** Guest modules loaded at boot, in order (default: all). */
  readonly modules?: readonly string[];
  /** Time allowed from QEMU start to the agent's hello, ms (default 120 s). */
  readonly bootTimeoutMs?: number;
  /** More kernel command line words (ifsim.udev=…, ifsim.link=…). */
  readonly append?: readonly string[];
  readonly log?: (line: string) => void;
  /** Told QEMU's pid as soon as it is spawned (`ifsim serve` records it to sweep it later). */
  readonly onSpawn?: (pid: number) => void;
}

/** The accelerator: KVM when /dev/kvm works with hardware virtualisation, else TCG. */
export function pickAccel(): "kvm" | "tcg" {
  const forced = process.env.IFSIM_QEMU_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  // /dev/kvm can exist without vmx/svm (kvm_pvm on these hosts): Debian's kernel dies under it
  // with an emulation failure, so KVM needs the CPU flag too.
  if (!existsSync("/dev/kvm")) return "tcg";
  const cpu = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(cpu)) return "tcg";
  try {
    openSync("/dev/kvm", "r+");
  } catch {
    return "tcg";
  }
  return "kvm";
}

/** qemu-system-x86_64 --version, first line. */
export function qemuVersion(): string {
  const r = spawnSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n")[0] ?? "";
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForFile(p: string, ms: number, dead: () => string | null): Promise<void> {
  const t = Date.now();
  while (!existsSync(p)) {
    const why = dead();
    if (why) throw new Error(why);
    if (Date.now() - t > ms) throw new Error(`QEMU did not create ${p} in ${ms} ms`);
    await sleep(10);
  }
}

function connectOnce(p: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(p);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/**
 * Connects to one of QEMU's server sockets. QEMU binds the socket (the file appears) a moment
 * before it listens: on a loaded machine a connect in between is refused, so ECONNREFUSED is
 * retried (every 20 ms, up to `ms`) while QEMU lives.
 */
async function connect(p: string, ms: number, dead: () => string | null): Promise<Socket> {
  const t = Date.now();
  for (;;) {
    try {
      return await connectOnce(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = dead();
      if (why) throw new Error(why);
      if (code !== "ECONNREFUSED" || Date.now() - t > ms) throw e;
      await sleep(20);
    }
  }
}

/** A running guest. */
export class Vm {
  readonly qmp: Qmp;
  readonly argv: string[];
  readonly accel: "kvm" | "tcg";
  /** ms from QEMU start to the agent's hello. */
  bootMs = 0;
  readonly t0: number;
  readonly #proc: ChildProcess;
  readonly #agent: Socket;
  readonly #dir: string;
  readonly #parser = new ChannelParser();
  #seq = 0;
  readonly #waiting = new Map<
    number,
    { resolve: (r: AgentReply) => void; reject: (e: Error) => void }
  >();
  #hello: (() => void) | null = null;
  #exit: string | null = null;
  #stderr = "";

  private constructor(o: {
    proc: ChildProcess;
    agent: Socket;
    qmp: Qmp;
    dir: string;
    argv: string[];
    accel: "kvm" | "tcg";
    t0: number;
  }) {
    this.#proc = o.proc;
    this.#agent = o.agent;
    this.qmp = o.qmp;
    this.#dir = o.dir;
    this.argv = o.argv;
    this.accel = o.accel;
    this.t0 = o.t0;
    o.agent.setEncoding("latin1");
    o.agent.on("data", (d: string) => {
      for (const it of this.#parser.push(d)) {
        if (it.kind === "hello") this.#hello?.();
        else if (it.kind === "reply") {
          const w = this.#waiting.get(it.reply.seq);
          this.#waiting.delete(it.reply.seq);
          w?.resolve(it.reply);
        } else this.#failAll(new Error(`agent channel: ${it.message}`));
      }
    });
    o.agent.on("error", () => {});
  }

  /** Starts QEMU paused, adds the paused devices, resumes, and waits for the agent. */
  static async start(p: Prepared, layout: QemuLayout, o: VmOptions = {}): Promise<Vm> {
    hookExit();
    const dir = mkdtempSync(join(tmpdir(), "ifsim-qemu-"));
    const accel = pickAccel();
    const argv = [
      "-machine",
      "q35",
      "-accel",
      accel,
      "-cpu",
      accel === "kvm" ? "host" : "max",
      "-nodefaults",
      "-nographic",
      "-no-reboot",
      "-S",
      "-smp",
      String(o.smp ?? 2),
      "-m",
      String(o.memMiB ?? 512),
      "-kernel",
      p.vmlinux,
      "-initrd",
      p.initrd,
      "-append",
      `console=ttyS0 panic=-1 quiet loglevel=4${o.modules ? ` ifsim.modules=${o.modules.join(",")}` : ""}${(o.append ?? []).map((w) => ` ${w}`).join("")}`,
      "-chardev",
      `file,id=con0,path=${join(dir, "console.log")}`,
      "-serial",
      "chardev:con0",
      "-chardev",
      `socket,id=agent0,path=${join(dir, "agent.sock")},server=on,wait=off`,
      "-serial",
      "chardev:agent0",
      "-qmp",
      `unix:${join(dir, "qmp.sock")},server=on,wait=off`,
      ...layout.deviceArgs,
    ];
    const t0 = Date.now();
    const proc = spawn("qemu-system-x86_64", argv, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(proc);
    if (proc.pid !== undefined) o.onSpawn?.(proc.pid);
    let stderr = "";
    let exited: string | null = null;
    proc.stdout?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    proc.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on("exit", (code, sig) => {
      exited = `QEMU exited (${sig ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ""}`;
      live.delete(proc);
    });
    proc.on("error", (e) => {
      exited = `cannot start qemu-system-x86_64: ${e.message}`;
    });
    const dead = (): string | null => exited;
    try {
      await waitForFile(join(dir, "qmp.sock"), 20_000, dead);
      await waitForFile(join(dir, "agent.sock"), 20_000, dead);
      const qmp = new Qmp(await connect(join(dir, "qmp.sock"), 20_000, dead), t0);
      const agent = await connect(join(dir, "agent.sock"), 20_000, dead);
      const vm = new Vm({ proc, agent, qmp, dir, argv, accel, t0 });
      proc.on("exit", () => {
        vm.#exit = exited;
        vm.#stderr = stderr;
        vm.#failAll(new Error(`${exited}\n${vm.consoleTail()}`));
      });
      const hello = new Promise<void>((resolve) => {
        vm.#hello = resolve;
      });
      await qmp.ok("qmp_capabilities");
      for (const id of layout.pausedAdds) {
        const nic = layout.nics.find((n) => n.id === id);
        if (nic) await qmp.ok("device_add", { ...nic.props });
      }
      for (const id of layout.linkOffAtBoot) await qmp.ok("set_link", { name: id, up: false });
      await qmp.ok("cont");
      const limit = o.bootTimeoutMs ?? 120_000;
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), limit).unref());
      const gone = new Promise<"exit">((r) => proc.once("exit", () => r("exit")));
      // Under TCG a boot takes about a minute: say so, then every 10 s until the agent answers.
      const say = o.log ?? (() => {});
      say(`qemu: booting the guest (${accel}) …`);
      const beat = setInterval(
        () => say(`qemu: booting … ${Math.round((Date.now() - t0) / 1000)} s`),
        10_000,
      );
      beat.unref();
      let first: "hello" | "timeout" | "exit";
      try {
        first = await Promise.race([hello.then(() => "hello" as const), timer, gone]);
      } finally {
        clearInterval(beat);
      }
      if (first !== "hello") {
        const why = first === "timeout" ? `no agent after ${limit} ms` : (exited ?? "QEMU exited");
        vm.kill();
        throw new Error(`the guest did not boot: ${why}\n${vm.consoleTail()}`);
      }
      vm.bootMs = Date.now() - t0;
      return vm;
    } catch (e) {
      proc.kill("SIGKILL");
      live.delete(proc);
      if (!(e instanceof Error && e.message.startsWith("the guest did not boot")))
        rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  #failAll(e: Error): void {
    for (const w of this.#waiting.values()) w.reject(e);
    this.#waiting.clear();
  }

  /** Sends a request to the agent; resolves with the reply's fields. */
  request(
    op: string,
    args: readonly string[] = [],
    timeoutMs = 60_000,
  ): Promise<Record<string, string>> {
    if (this.#exit) return Promise.reject(new Error(this.#exit));
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        reject(new Error(`agent: no answer to ${op} in ${timeoutMs} ms\n${this.consoleTail()}`));
      }, timeoutMs);
      timer.unref();
      this.#waiting.set(seq, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve({ ...r.fields });
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#agent.write(requestLine(seq, op, args));
    });
  }

  /** The last lines of the kernel console (for error messages). */
  consoleTail(lines = 40): string {
    const f = join(this.#dir, "console.log");
    if (!existsSync(f)) return "";
    const text = readFileSync(f, "latin1").replace(/\r/g, "").trimEnd().split("\n");
    return `--- guest console (last ${lines} lines) ---\n${text.slice(-lines).join("\n")}`;
  }

  /** The whole kernel console. */
  console(): string {
    const f = join(this.#dir, "console.log");
    return existsSync(f) ? readFileSync(f, "latin1").replace(/\r/g, "") : "";
  }

  /** Lines the channel ignored (console noise). */
  get noise(): readonly string[] {
    return this.#parser.noise;
  }

  /** QEMU's own output (warnings). */
  get qemuOutput(): string {
    return this.#stderr;
  }

  kill(): void {
    this.#proc.kill("SIGKILL");
    live.delete(this.#proc);
  }

  /** Asks the guest to power off (then kills QEMU if it lingers) and removes the work files. */
  async stop(): Promise<void> {
    if (!this.#exit) {
      const gone = new Promise<void>((r) => {
        if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) r();
        else this.#proc.once("exit", () => r());
      });
      await this.request("bye", [], 5000).catch(() => {});
      await Promise.race([gone, sleep(5000)]);
      this.kill();
    }
    this.#agent.destroy();
    this.qmp.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
