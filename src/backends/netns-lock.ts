// Ownership of the netns backend's network namespaces across processes: every namespace this
// code creates has a lock file, /run/ifsim/netns/NAME.lock, created before the namespace and
// flock()ed by the live run for as long as it lives. A process that dies any way at all —
// SIGKILL, a container's PID namespace torn down, the OOM killer — releases the lock with its
// last file descriptor, so a later run can tell a dead run's leftovers from a live run's
// namespace without guessing from pids (which repeat, and mean nothing across PID namespaces)
// and without a name pattern: it touches only namespaces whose lock file it could take.
//
// Holding a lock from Node: Node has no flock(). The run opens the lock file (Node opens it
// close-on-exec) and hands that descriptor to util-linux `flock -n 3`, which locks it and exits:
// a flock lock belongs to the open file description, not to the process that asked, so it stays
// held by the run's own descriptor until the run closes it or dies.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";

/** Where iproute2 mounts named network namespaces (NETNS_RUN_DIR). */
export const NETNS_RUN_DIR = "/run/netns";
/** Where the netns backend keeps one lock file per namespace it created. */
export const LOCK_DIR = "/run/ifsim/netns";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A namespace name with its lock, held by this process. */
export interface HeldLock {
  readonly name: string;
  readonly path: string;
  readonly fd: number;
}

/** What a sweep removed for one dead run's namespace. */
export interface SweptNamespace {
  readonly name: string;
  /** The lock file's owner line ("pid 1234 start 5678"), as the dead run wrote it. */
  readonly owner: string;
  /** True when the namespace was still mounted and was deleted. */
  readonly namespace: boolean;
  /** Processes found inside it and killed. */
  readonly killed: number[];
}

/**
 * What to do when a synchronous child died of a catchable signal: a Ctrl-C reaches the whole
 * process group, so the signal was meant for this process too, whose own handler would only
 * run after the synchronous work goes on with a wrong result. The supervisor installs its
 * signal handler here; the functions below call it once their own state is clean.
 */
export const childSignal: { handler: (sig: NodeJS.Signals) => void } = { handler: () => {} };

/** Hands a synchronous child's deadly signal (not SIGKILL) to childSignal.handler. */
export function checkChildSignal(r: { readonly signal: NodeJS.Signals | null }): void {
  if (r.signal !== null && r.signal !== "SIGKILL") childSignal.handler(r.signal);
}

/** flock(fd, LOCK_EX | LOCK_NB) through util-linux flock: taken, and the signal that killed it. */
function tryLock(fd: number): { taken: boolean; signal: NodeJS.Signals | null } {
  const r = spawnSync("flock", ["-n", "-x", "3"], { stdio: ["ignore", "ignore", "pipe", fd] });
  if (r.error) throw r.error;
  return { taken: r.status === 0, signal: r.signal };
}

/** This process's start time in clock ticks since boot (/proc/self/stat field 22). */
function startTime(pid: number | "self"): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "?";
  } catch {
    return "?";
  }
}

/**
 * Picks a fresh name `PREFIX-PID-RANDOM` and takes its lock (before the namespace exists, so
 * no moment of the namespace's life is unlocked). The random part keeps names unique where
 * pids repeat (every container's first process is pid 1).
 */
export function takeLock(prefix: string, dir = LOCK_DIR): HeldLock {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 8; attempt++) {
    const name = `${prefix}-${process.pid}-${randomBytes(3).toString("hex")}`;
    const path = `${dir}/${name}.lock`;
    if (existsSync(`${NETNS_RUN_DIR}/${name}`)) continue;
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw e;
    }
    // A sweeper may open the file between our create and our lock, take the lock and unlink
    // it: then the path no longer names our file, and we start again with another name.
    let locked = false;
    let signal: NodeJS.Signals | null = null;
    try {
      ({ taken: locked, signal } = tryLock(fd));
    } finally {
      if (locked && sameFile(fd, path)) {
        writeSync(fd, `pid ${process.pid} start ${startTime("self")}\n`);
      } else {
        // Not ours after all (swept meanwhile), or `flock` itself failed or was killed (a
        // Ctrl-C reaches the whole process group): leave no file behind, try another name.
        if (sameFile(fd, path)) unlinkSync(path);
        closeSync(fd);
        locked = false;
      }
    }
    checkChildSignal({ signal });
    if (locked) return { name, path, fd };
  }
  throw new Error(`Cannot take a lock for a network namespace in ${dir}`);
}

/** Releases a lock taken by takeLock (the namespace must be gone first). Idempotent. */
export function dropLock(l: HeldLock): void {
  try {
    if (sameFile(l.fd, l.path)) unlinkSync(l.path);
  } catch {
    // already gone
  }
  try {
    closeSync(l.fd);
  } catch {
    // already closed
  }
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** The inode of a mounted named namespace (its nsfs inode), or null when it is not mounted. */
export function namespaceInode(name: string): number | null {
  try {
    // A mounted name is an nsfs inode on another device than /run/netns itself; an unmounted
    // leftover is an empty file on /run's own device.
    const st = statSync(`${NETNS_RUN_DIR}/${name}`);
    return st.dev !== statSync(NETNS_RUN_DIR).dev ? st.ino : null;
  } catch {
    return null;
  }
}

/** The pids of every process whose network namespace has this inode (this process excluded). */
export function processesInNamespace(inode: number): number[] {
  const want = `net:[${inode}]`;
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) === want) out.push(pid);
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** SIGKILLs every process inside the namespace (mounted under NAME); returns their pids. */
export function killInside(name: string): number[] {
  const ino = namespaceInode(name);
  if (ino === null) return [];
  const pids = processesInNamespace(ino);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}

/** `ip netns del NAME`; true when the name is gone afterwards. */
export function deleteNamespace(name: string): boolean {
  let signal: NodeJS.Signals | null = null;
  if (existsSync(`${NETNS_RUN_DIR}/${name}`))
    signal = spawnSync("ip", ["netns", "del", name]).signal;
  const gone = !existsSync(`${NETNS_RUN_DIR}/${name}`);
  checkChildSignal({ signal });
  return gone;
}

/**
 * Removes what dead runs left: for each lock file in `dir` (LOCK_DIR) whose lock can be taken (its
 * owner is gone), kills the processes inside its namespace, deletes the namespace and the lock
 * file. Locks held by live runs (in any PID namespace sharing /run) are left alone, and so is
 * every namespace without a lock file here. Returns what it removed.
 */
export function sweepDeadNamespaces(dir = LOCK_DIR): SweptNamespace[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const swept: SweptNamespace[] = [];
  for (const e of entries.sort()) {
    if (!e.endsWith(".lock")) continue;
    const name = e.slice(0, -".lock".length);
    if (!NAME_RE.test(name)) continue;
    const path = `${dir}/${e}`;
    let fd: number;
    try {
      fd = openSync(path, "r+");
    } catch {
      continue;
    }
    let signal: NodeJS.Signals | null = null;
    try {
      const l = tryLock(fd);
      signal = l.signal;
      if (!l.taken || !sameFile(fd, path)) continue;
      let owner = "";
      try {
        owner = readFileSync(path, "utf8").trim();
      } catch {
        // unreadable: report it without an owner
      }
      const mounted = existsSync(`${NETNS_RUN_DIR}/${name}`);
      const killed = killInside(name);
      const gone = deleteNamespace(name);
      if (!gone) continue; // keep the lock file: a later sweep tries again
      unlinkSync(path);
      swept.push({ name, owner: owner || "unknown owner", namespace: mounted, killed });
    } finally {
      closeSync(fd);
      // In the finally: the `continue`s above must not skip it.
      checkChildSignal({ signal });
    }
  }
  return swept;
}

/** The one-line report of a swept namespace (for stderr). */
export function sweptText(s: SweptNamespace): string {
  const what = [
    s.namespace ? `network namespace "${s.name}"` : `the lock of "${s.name}" (no namespace)`,
  ];
  if (s.killed.length > 0)
    what.push(`${s.killed.length} process(es) inside it (${s.killed.join(", ")})`);
  return `ifsim: netns: removed ${what.join(" and ")} left by a dead run (${s.owner})`;
}
