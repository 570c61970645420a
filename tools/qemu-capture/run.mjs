#!/usr/bin/env node
// Host side of the net_failover capture: boots the prepared Debian kernel + initramfs under
// QEMU (TCG), plugs the primary over QMP while paused, serves the guest's requests that
// arrive on ttyS1 (hot-unplug / hot-plug / set_link over QMP) and writes the captured steps
// as fixtures.  No npm dependencies.  See README.md.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..", "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const CACHE = opt(
  "cache",
  process.env.IFSIM_QEMU_CACHE || path.join(os.homedir(), ".cache", "ifsim", "qemu"),
);
const OUT = path.resolve(opt("out", path.join(REPO, "test", "fixtures", "qemu-6.1")));
const STEPS = opt("steps", ""); // e.g. "0,1,2" (default: all)
const SETTLE = opt("settle", "3");
const IDLE_TIMEOUT_S = Number(opt("idle-timeout", "180"));
const SMP = opt("smp", "2");
const MEM = opt("mem", "768");
const MAX_BOOTS = Number(opt("max-boots", "4"));

const env = Object.fromEntries(
  fs
    .readFileSync(path.join(CACHE, "env"), "utf8")
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);

const PRIMARY = {
  driver: "e1000e",
  id: "primary0",
  failover_pair_id: "standby0",
  mac: "52:54:00:00:12:53",
  bus: "rp2",
  netdev: "hp3",
};

function gitHead() {
  try {
    const head = execFileSync("git", ["-C", REPO, "rev-parse", "HEAD"], {
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync(
      "git",
      ["-C", REPO, "status", "--porcelain", "--", "tools/qemu-capture"],
      {
        encoding: "utf8",
      },
    ).trim();
    return dirty ? `${head} (tools/qemu-capture modified)` : head;
  } catch {
    return null;
  }
}

function kvmUsable() {
  // /dev/kvm on these machines is kvm_pvm without vmx/svm: the guest dies with an emulation
  // failure. We always use TCG; this only records what was seen.
  const cpu = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  return { dev_kvm: fs.existsSync("/dev/kvm"), vmx_or_svm: /\b(vmx|svm)\b/.test(cpu) };
}

function qemuArgs(work, cmdline) {
  return [
    "-machine",
    "q35",
    "-accel",
    "tcg",
    "-cpu",
    "max",
    "-nodefaults",
    "-nographic",
    "-no-reboot",
    "-S",
    "-smp",
    SMP,
    "-m",
    MEM,
    "-kernel",
    env.VMLINUX,
    "-initrd",
    env.INITRD,
    "-append",
    cmdline,
    "-chardev",
    `file,id=con0,path=${path.join(work, "console.log")}`,
    "-serial",
    "chardev:con0",
    "-chardev",
    `socket,id=agent0,path=${path.join(work, "agent.sock")},server=on,wait=off`,
    "-serial",
    "chardev:agent0",
    "-qmp",
    `unix:${path.join(work, "qmp.sock")},server=on,wait=off`,
    "-netdev",
    "hubport,id=hp1,hubid=1",
    "-device",
    "virtio-net-pci,id=standby0,failover=on,mac=52:54:00:00:12:53,netdev=hp1,bus=pcie.0,addr=0x3",
    "-netdev",
    "hubport,id=hp2,hubid=2",
    "-device",
    "virtio-net-pci,id=plain0,mac=52:54:00:00:12:99,netdev=hp2,bus=pcie.0,addr=0x4",
    "-device",
    "pcie-root-port,id=rp1,bus=pcie.0,addr=0x5,chassis=1",
    "-device",
    "pcie-root-port,id=rp2,bus=pcie.0,addr=0x6,chassis=2",
    "-netdev",
    "hubport,id=hp3,hubid=3",
  ];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(p, ms = 10000) {
  const t = Date.now();
  while (!fs.existsSync(p)) {
    if (Date.now() - t > ms) throw new Error(`timeout waiting for ${p}`);
    await sleep(20);
  }
}
function connect(p) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(p);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}
function lineReader(sock, onLine) {
  let buf = "";
  sock.on("data", (d) => {
    buf += d.toString("latin1");
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i).replace(/\r$/, "");
      buf = buf.slice(i + 1);
      onLine(line);
    }
  });
}

class Qmp {
  constructor(sock, t0) {
    this.sock = sock;
    this.t0 = t0;
    this.pending = [];
    this.events = [];
    this.waiters = [];
    this.log = [];
    lineReader(sock, (l) => this.onLine(l));
  }
  onLine(line) {
    if (!line.trim()) return;
    const msg = JSON.parse(line);
    if (msg.QMP) return;
    if (msg.event) {
      const ev = { t_host_ms: Date.now() - this.t0, ...msg };
      this.events.push(ev);
      this.log.push({ dir: "event", ...ev });
      for (const w of [...this.waiters]) {
        if (w.match(msg)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(ev);
        }
      }
      return;
    }
    const p = this.pending.shift();
    this.log.push({ dir: "reply", t_host_ms: Date.now() - this.t0, msg });
    p?.(msg);
  }
  cmd(execute, args) {
    const m = args ? { execute, arguments: args } : { execute };
    this.log.push({ dir: "send", t_host_ms: Date.now() - this.t0, msg: m });
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.sock.write(`${JSON.stringify(m)}\n`);
    });
  }
  waitEvent(match, ms) {
    return new Promise((resolve) => {
      const w = { match, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          resolve(null);
        }
      }, ms).unref();
    });
  }
}

async function handleReq(qmp, op, a) {
  const t = Date.now();
  if (op === "device_del") {
    const ev = qmp.waitEvent((m) => m.event === "DEVICE_DELETED" && m.data?.device === a[0], 60000);
    const ret = await qmp.cmd("device_del", { id: a[0] });
    const got = ret.error ? null : await ev;
    return { op, args: a, qmp_return: ret, event: got, ms: Date.now() - t };
  }
  if (op === "device_add") {
    const ret = await qmp.cmd("device_add", { ...PRIMARY, id: a[0] });
    return { op, args: a, qmp_return: ret, ms: Date.now() - t };
  }
  if (op === "set_link") {
    const ret = await qmp.cmd("set_link", { name: a[0], up: a[1] === "on" });
    return { op, args: a, qmp_return: ret, ms: Date.now() - t };
  }
  if (op === "qmp") {
    const ret = await qmp.cmd(a[0], a[1] ? JSON.parse(a.slice(1).join(" ")) : undefined);
    return { op, args: a, qmp_return: ret, ms: Date.now() - t };
  }
  return { op, args: a, error: "unknown op" };
}

async function boot(bootNo, from, capture) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ifsim-qemu-"));
  const cmdline = `console=ttyS0 panic=-1 ifsim.from=${from}${STEPS ? ` ifsim.steps=${STEPS}` : ""} ifsim.settle=${SETTLE}`;
  const qargs = qemuArgs(work, cmdline);
  const t0 = Date.now();
  const info = {
    boot: bootNo,
    from,
    cmdline,
    qemu_argv: ["qemu-system-x86_64", ...qargs],
    primary_device_add: PRIMARY,
    steps_seen: [],
    end: null,
  };
  capture.boots.push(info);
  const q = spawn("qemu-system-x86_64", qargs, { stdio: ["ignore", "pipe", "pipe"] });
  let qemuOut = "";
  q.stdout.on("data", (d) => {
    qemuOut += d;
  });
  q.stderr.on("data", (d) => {
    qemuOut += d;
  });
  const exited = new Promise((r) => q.on("exit", (code, sig) => r({ code, sig })));

  await waitFor(path.join(work, "qmp.sock"));
  await waitFor(path.join(work, "agent.sock"));
  const qmp = new Qmp(await connect(path.join(work, "qmp.sock")), t0);
  const agent = await connect(path.join(work, "agent.sock"));
  await qmp.cmd("qmp_capabilities");
  info.qmp_device_add_paused = await qmp.cmd("device_add", PRIMARY);
  await qmp.cmd("cont");
  info.t_cont_ms = Date.now() - t0;

  // the boot itself (until the first guest record) gets 120 s on top of the idle timeout
  let lastLine = Date.now() + 120000;
  let step = null;
  let act = null;
  let file = null;
  let fileBuf = [];
  let lastStepN = from - 1;
  let bye = false;
  const guestLog = [];

  lineReader(agent, (line) => {
    lastLine = Date.now();
    const th = Date.now() - t0;
    if (file) {
      if (line === "@@EOF") {
        act[file] = Buffer.from(fileBuf.join(""), "base64").toString("utf8");
        file = null;
        fileBuf = [];
      } else fileBuf.push(line.trim());
      return;
    }
    if (!line.startsWith("@@")) {
      if (line.trim()) guestLog.push({ t_host_ms: th, junk: line });
      return;
    }
    const sp = line.indexOf(" ");
    const tag = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? "" : line.slice(sp + 1);
    switch (tag) {
      case "@@STEP": {
        const n = Number(rest.split(" ")[0]);
        step = {
          n,
          title: rest.slice(rest.indexOf(" ") + 1),
          boot: bootNo,
          t_host_ms: th,
          actions: [],
        };
        capture.steps.push(step);
        info.steps_seen.push(n);
        lastStepN = n;
        if (info.t_first_step_ms === undefined) info.t_first_step_ms = th;
        process.stderr.write(`[run] step ${n}: ${step.title} (+${(th / 1000).toFixed(1)} s)\n`);
        break;
      }
      case "@@BEGIN": {
        const [id, kind] = rest.split(" ");
        act = { id, kind, t_host_begin_ms: th };
        step.actions.push(act);
        break;
      }
      case "@@META": {
        const k = rest.slice(0, rest.indexOf(" "));
        const v = rest.slice(rest.indexOf(" ") + 1);
        act[k] = k === "exit" ? Number(v) : v;
        break;
      }
      case "@@FILE":
        file = rest;
        fileBuf = [];
        break;
      case "@@END":
        act.t_host_end_ms = th;
        process.stderr.write(
          `[run]   ${act.id} ${act.kind} exit=${act.exit} ${JSON.stringify(act.cmdline)}\n`,
        );
        act = null;
        break;
      case "@@REQ": {
        const parts = rest.split(" ");
        const [id, op, ...a] = parts;
        process.stderr.write(`[run]   request ${id}: ${op} ${a.join(" ")}\n`);
        void handleReq(qmp, op, a)
          .catch((e) => ({ op, args: a, error: String(e) }))
          .then((res) => {
            agent.write(`@@ACK ${id} ${JSON.stringify(res)}\n`);
          });
        break;
      }
      case "@@LOG":
        guestLog.push({ t_host_ms: th, log: rest });
        process.stderr.write(`[run]   guest: ${rest}\n`);
        break;
      case "@@BYE":
        bye = true;
        info.t_bye_ms = th;
        break;
      default:
        guestLog.push({ t_host_ms: th, unknown: line });
    }
  });

  let hung = false;
  const idle = setInterval(() => {
    if (Date.now() - lastLine > IDLE_TIMEOUT_S * 1000) {
      hung = true;
      process.stderr.write(`[run] guest silent for ${IDLE_TIMEOUT_S} s: killing QEMU\n`);
      q.kill("SIGKILL");
    }
  }, 1000);
  const ex = await exited;
  clearInterval(idle);
  agent.destroy();
  qmp.sock.destroy();
  info.t_exit_ms = Date.now() - t0;
  info.qemu_exit = ex;
  info.qemu_output = qemuOut;
  info.guest_log = guestLog;
  info.qmp_log = qmp.log;
  info.console = fs.existsSync(path.join(work, "console.log"))
    ? fs.readFileSync(path.join(work, "console.log"), "latin1")
    : "";
  info.end = bye ? "completed" : hung ? "hung (killed)" : "qemu exited early";
  if (act) act.incomplete = true;
  fs.rmSync(work, { recursive: true, force: true });
  return { bye, lastStepN };
}

function slug(s) {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
}

function renderStep(s) {
  const out = [];
  out.push(`# step ${s.n}: ${s.title}`, `# boot ${s.boot}`, "");
  for (const a of s.actions) {
    out.push(`=== ${a.id} [${a.kind}] ${a.cmdline ?? ""}`);
    out.push(
      `--- exit: ${a.exit}   guest uptime ${a.t_start} -> ${a.t_end} (done ${a.t_done})${a.incomplete ? "   INCOMPLETE" : ""}`,
    );
    for (const k of ["stdout", "stderr", "monitor", "monitor_stderr", "dmesg"]) {
      if (a[k] === undefined) continue;
      if (a[k] === "") {
        out.push(`--- ${k}: (empty)`);
        continue;
      }
      out.push(`--- ${k}:`);
      out.push(
        a[k].endsWith("\n") ? a[k].slice(0, -1) : `${a[k]}\n--- (no newline at end of ${k})`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}

async function main() {
  const capture = {
    about:
      "Raw behaviour of the Debian 6.1 kernel net_failover under QEMU, captured by tools/qemu-capture. " +
      "Every action: cmdline (as run in the guest, busybox ash eval), exit, stdout, stderr, " +
      "monitor (output of `/usr/sbin/ip monitor link` started before and stopped SETTLE s after the command), " +
      "dmesg (kernel log lines added during the action). Times are guest uptime seconds.",
    kernel: { package: env.KPKG, version: env.PKGVER, uname_r: env.KVER },
    iproute2: env.IPVER,
    qemu: env.QEMUVER,
    accel: { used: "tcg", ...kvmUsable() },
    settle_s: Number(SETTLE),
    captured_at: new Date().toISOString(),
    harness_commit: gitHead(),
    boots: [],
    steps: [],
  };
  let from = Number(opt("from", "0"));
  for (let b = 1; b <= MAX_BOOTS; b++) {
    process.stderr.write(`[run] boot ${b} from step ${from}\n`);
    const r = await boot(b, from, capture);
    if (r.bye) break;
    from = r.lastStepN + 1;
    if (from > 99) break;
  }
  // per-step wall-clock durations (host ms), from one step start to the next / to power-off
  capture.timings = capture.boots.map((b) => {
    const own = capture.steps.filter((s) => s.boot === b.boot);
    return {
      boot: b.boot,
      qemu_start_to_first_step_ms: b.t_first_step_ms,
      qemu_start_to_exit_ms: b.t_exit_ms,
      steps: own.map((s, i) => ({
        n: s.n,
        ms: (i + 1 < own.length ? own[i + 1].t_host_ms : (b.t_bye_ms ?? b.t_exit_ms)) - s.t_host_ms,
      })),
    };
  });
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) {
    if (/^\d\d_.*\.txt$/.test(f) || f === "capture.json" || /^boot\d+-console\.txt$/.test(f))
      fs.rmSync(path.join(OUT, f));
  }
  const index = [];
  const seen = new Map();
  for (const s of capture.steps) {
    const k = `${String(s.n).padStart(2, "0")}_${slug(s.title)}`;
    const c = (seen.get(k) ?? 0) + 1;
    seen.set(k, c);
    const fname = `${k}${c > 1 ? `.boot${s.boot}` : ""}.txt`;
    s.file = fname;
    fs.writeFileSync(path.join(OUT, fname), renderStep(s));
    index.push(fname);
  }
  for (const b of capture.boots) {
    fs.writeFileSync(path.join(OUT, `boot${b.boot}-console.txt`), b.console.replace(/\r\n/g, "\n"));
    b.console_file = `boot${b.boot}-console.txt`;
    delete b.console;
  }
  fs.writeFileSync(path.join(OUT, "capture.json"), `${JSON.stringify(capture, null, 1)}\n`);
  process.stderr.write(`[run] wrote ${index.length} step files + capture.json to ${OUT}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
