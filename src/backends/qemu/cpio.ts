// A minimal writer of the "newc" cpio format (what the kernel unpacks as an initramfs). Pure.

/** One entry of the archive. */
export type CpioEntry =
  | { readonly type: "dir"; readonly path: string; readonly mode?: number }
  | { readonly type: "file"; readonly path: string; readonly data: Buffer; readonly mode?: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, "utf8");
  const h = Buffer.from(
    [
      "070701",
      hex8(ino),
      hex8(mode),
      hex8(0), // uid
      hex8(0), // gid
      hex8(mode & 0o040000 ? 2 : 1), // nlink
      hex8(0), // mtime: fixed, the archive is reproducible
      hex8(size),
      hex8(0),
      hex8(0),
      hex8(0),
      hex8(0),
      hex8(nameBytes.length),
      hex8(0),
    ].join(""),
    "ascii",
  );
  return Buffer.concat([h, nameBytes, Buffer.alloc(pad4(h.length + nameBytes.length))]);
}

/** The archive (uncompressed). Paths are relative ("init", "bin/busybox"). */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, "");
    let mode: number;
    let data: Buffer;
    if (e.type === "dir") {
      mode = 0o040000 | (e.mode ?? 0o755);
      data = Buffer.alloc(0);
    } else if (e.type === "file") {
      mode = 0o100000 | (e.mode ?? 0o644);
      data = e.data;
    } else {
      mode = 0o120777;
      data = Buffer.from(e.target, "utf8");
    }
    parts.push(header(ino++, mode, data.length, path), data, Buffer.alloc(pad4(data.length)));
  }
  parts.push(header(0, 0, 0, "TRAILER!!!"));
  return Buffer.concat(parts);
}
