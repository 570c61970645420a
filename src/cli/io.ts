// The command line's files: inputs read with a type and size check, outputs written to a
// temporary file and renamed (never onto an input), and text from tokens or scenarios cleaned of
// control characters before it reaches a terminal.

import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** EX_SOFTWARE (sysexits.h): the exit status of an internal error, never 1 (a verdict). */
export const EXIT_INTERNAL = 70;

/** EX_IOERR (sysexits.h): an output (standard output, --export, --monitor …) could not be written. */
export const EXIT_IOERR = 74;

/** The largest input file (scenario, batch, machine JSON) the command line reads: 1 MiB. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** strerror text for the errno codes a file operation commonly reports. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  ENOSPC: "No space left on device",
  EDQUOT: "Disk quota exceeded",
  EROFS: "Read-only file system",
  EIO: "Input/output error",
  EFBIG: "File too large",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  EMFILE: "Too many open files",
  EXDEV: "Invalid cross-device link",
};

/** "ENOSPC (No space left on device)" for a Node error, or its message. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string") {
    const t = ERRNO_TEXT[code];
    return t === undefined ? code : `${code} (${t})`;
  }
  return e instanceof Error ? e.message : String(e);
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** Reads at most `limit` + 1 bytes from an open descriptor. */
function readUpTo(fd: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, Math.min(buf.length, limit + 1 - total), null);
    } catch (e) {
      // A non-blocking stdin with nothing yet: wait is not possible synchronously; retry.
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > limit) break;
  }
  return Buffer.concat(chunks);
}

/** The text of an input, or why it cannot be read. */
export type InputResult = { readonly text: string } | { readonly error: string };

/**
 * Reads an input file as UTF-8: a regular file of at most `limit` bytes, or standard input
 * (`"-"`, when `stdin` is set) up to the same limit. Never throws on bad input: a missing file,
 * a directory, a FIFO, a device (/dev/zero) or a file past the limit come back as an error
 * message ("cannot read "F": …"). With `streams`, a FIFO or character device (`ip -batch
 * <(…)`, /dev/stdin) is read too, up to the limit (so /dev/zero is refused after `limit` bytes).
 */
export function readInput(
  file: string,
  opts: { readonly limit?: number; readonly stdin?: boolean; readonly streams?: boolean } = {},
): InputResult {
  const limit = opts.limit ?? MAX_INPUT_BYTES;
  const tooBig = `cannot read "${file}": it is larger than ${limit} bytes (the limit for an input file)`;
  if (file === "-" && opts.stdin) {
    let data: Buffer;
    try {
      data = readUpTo(0, limit);
    } catch (e) {
      return { error: `cannot read standard input: ${errnoText(e)}` };
    }
    return data.length > limit ? { error: tooBig } : { text: data.toString("utf8") };
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below), unless
    // streams are allowed: then it waits, as `ip -batch FIFO` does.
    fd = openSync(file, constants.O_RDONLY | (opts.streams ? 0 : constants.O_NONBLOCK));
  } catch (e) {
    return { error: `cannot read "${file}": ${errnoText(e)}` };
  }
  try {
    const st = fstatSync(fd);
    const stream =
      opts.streams === true && (st.isFIFO() || st.isCharacterDevice() || st.isSocket());
    if (!st.isFile() && !stream)
      return { error: `cannot read "${file}": ${kindOf(st)}, not a regular file` };
    if (st.size > limit) return { error: tooBig };
    const data = readUpTo(fd, limit);
    if (data.length > limit) return { error: tooBig };
    return { text: data.toString("utf8") };
  } catch (e) {
    return { error: `cannot read "${file}": ${errnoText(e)}` };
  } finally {
    closeSync(fd);
  }
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/** True when `a` and `b` name the same existing file (same device and inode, links followed). */
export function sameFile(a: string, b: string): boolean {
  const sa = statOrNull(a);
  const sb = statOrNull(b);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Why `out` may not be written, or null: it is one of `inputs` (the same file by device and
 * inode, so a symlink or a different spelling is caught too).
 */
export function outputClash(out: string, inputs: readonly string[]): string | null {
  for (const i of inputs) {
    if (i === "-" || out === "-") continue;
    if (sameFile(out, i))
      return `will not write to "${out}": it is the input "${i}" (give another output file)`;
  }
  return null;
}

/**
 * Checks, before any work, that `out` can be written (its directory exists and is writable, or
 * it is an existing non-regular file such as /dev/null). Returns an error message or null.
 * Writes nothing.
 */
export function checkWritable(out: string): string | null {
  if (out === "") return 'cannot write "": an empty file name';
  const st = statOrNull(out);
  if (st?.isDirectory()) return `cannot write "${out}": ${errnoText({ code: "EISDIR" })}`;
  if (st && !st.isFile()) return null;
  const dir = statOrNull(dirname(out));
  if (!dir) return `cannot write "${out}": ${errnoText({ code: "ENOENT" })}`;
  if (!dir.isDirectory()) return `cannot write "${out}": ${errnoText({ code: "ENOTDIR" })}`;
  return null;
}

/**
 * Writes `text` to `out`: a regular file (or a new one) through a temporary file in the same
 * directory renamed over it, so a failure (a full disk) leaves the old file as it was; anything
 * else (/dev/null, /dev/full, a FIFO) directly. Returns an error message or null.
 */
export function writeOutput(out: string, text: string): string | null {
  const o = OutputStream.open(out);
  o.write(text);
  return o.finish();
}

/** How much text an `OutputStream` holds before it writes it out. */
const STREAM_CHUNK = 64 * 1024;

/**
 * An output written as it is produced, with `writeOutput`'s guarantees: a regular file (or a
 * new one) is written to a temporary file beside it and renamed over it by `finish`, so a run
 * that fails or is abandoned (`abort`) leaves the old file as it was; anything else (a device,
 * a pipe) is written in place. Memory holds at most one chunk of the text, however long the
 * output grows. Errors are kept and reported by `finish`, with `writeOutput`'s wording.
 *
 * @example
 * const o = OutputStream.open("records.txt");
 * o.write("1: lo: …\n");
 * const err = o.finish(); // null, or 'cannot write "records.txt": …'
 */
export class OutputStream {
  #fd: number | null = null;
  #tmp: string | null = null;
  #buf = "";
  #error: string | null = null;
  #done = false;
  readonly out: string;

  private constructor(out: string) {
    this.out = out;
  }

  /** Opens `out` for writing (its temporary file, for a regular or a new file). */
  static open(out: string): OutputStream {
    const o = new OutputStream(out);
    const st = statOrNull(out);
    if (st?.isDirectory()) {
      o.#error = `cannot write "${out}": ${errnoText({ code: "EISDIR" })}`;
      return o;
    }
    try {
      if (st && !st.isFile()) o.#fd = openSync(out, "w");
      else {
        const tmp = join(dirname(out), `.${basename(out)}.ifsim-${process.pid}.tmp`);
        o.#fd = openSync(tmp, "wx", st ? st.mode & 0o777 : 0o666);
        o.#tmp = tmp;
      }
    } catch (e) {
      o.#error = `cannot write "${out}": ${errnoText(e)}`;
    }
    return o;
  }

  /** Adds `text` (written out once a chunk has gathered). */
  write(text: string): void {
    if (this.#done) throw new Error(`OutputStream: write after finish or abort ("${this.out}")`);
    if (this.#error !== null) return;
    this.#buf += text;
    if (this.#buf.length >= STREAM_CHUNK) this.#flush();
  }

  #flush(): void {
    if (this.#fd === null || this.#buf === "") return;
    const data = Buffer.from(this.#buf, "utf8");
    this.#buf = "";
    try {
      let off = 0;
      while (off < data.length) off += writeSync(this.#fd, data, off);
    } catch (e) {
      this.#error = `cannot write "${this.out}": ${errnoText(e)}`;
      this.#close();
      this.#unlinkTmp();
    }
  }

  #close(): void {
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch (e) {
      this.#error ??= `cannot write "${this.out}": ${errnoText(e)}`;
    }
    this.#fd = null;
  }

  #unlinkTmp(): void {
    if (this.#tmp === null) return;
    try {
      unlinkSync(this.#tmp);
    } catch {
      // Not created, or already renamed.
    }
    this.#tmp = null;
  }

  /** Writes what is left and puts the file in place; the error, if any write failed. */
  finish(): string | null {
    if (this.#done) throw new Error(`OutputStream: finished twice ("${this.out}")`);
    this.#flush();
    this.#close();
    this.#done = true;
    if (this.#error !== null) {
      this.#unlinkTmp();
      return this.#error;
    }
    if (this.#tmp !== null) {
      try {
        renameSync(this.#tmp, this.out);
        this.#tmp = null;
      } catch (e) {
        this.#unlinkTmp();
        return `cannot write "${this.out}": ${errnoText(e)}`;
      }
    }
    return null;
  }

  /** Drops the output: the temporary file goes, an existing file stays as it was. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    this.#buf = "";
    this.#close();
    this.#unlinkTmp();
  }
}

/**
 * `s` with every control character (C0 but tab and newline, DEL, C1) shown as `\xNN`, so text
 * from a token or a scenario cannot move the cursor or recolour a terminal.
 */
export function stripControls(s: string, opts: { readonly keepSgr?: boolean } = {}): string {
  if (opts.keepSgr)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    return s.replace(/\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) =>
      c.length > 1 ? c : hex(c),
    );
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, hex);
}

/** Like stripControls, and tab and newline too: for a value printed on one line (a file name). */
export function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, hex);
}

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** A duration like 30s, 500ms, 2m, 1h (a bare number: seconds) → ms, or null. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const mul = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"] as number;
  const ms = Math.round(n * mul);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}
