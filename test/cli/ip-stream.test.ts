// `ifsim ip --monitor FILE` / `--dmesg FILE` write as the text comes (src/cli/io.ts,
// OutputStream): memory holds one chunk however long the output grows, the file appears only
// once ip has ended (a temporary file beside it until then), and a run that ends early leaves an
// existing file as it was.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OutputStream } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";

const dir = (): string => mkdtempSync(join(tmpdir(), "ifsim-stream-"));

describe("OutputStream", () => {
  it("writes chunks to a temporary file and renames it over the output on finish", () => {
    const d = dir();
    const out = join(d, "out.txt");
    writeFileSync(out, "old\n");
    const o = OutputStream.open(out);
    const line = `${"x".repeat(99)}\n`;
    for (let i = 0; i < 2000; i++) o.write(line); // 200 KB: three chunks written before finish
    // Until finish the output is untouched and the text sits in a temporary file beside it.
    expect(readFileSync(out, "utf8")).toBe("old\n");
    const tmp = readdirSync(d).filter((f) => f.endsWith(".tmp"));
    expect(tmp).toHaveLength(1);
    expect(readFileSync(join(d, tmp[0] as string)).length).toBeGreaterThanOrEqual(128 * 1024);
    expect(o.finish()).toBeNull();
    expect(readFileSync(out, "utf8")).toBe(line.repeat(2000));
    expect(readdirSync(d)).toEqual(["out.txt"]);
  });

  it("abort leaves an existing output as it was and no temporary file", () => {
    const d = dir();
    const out = join(d, "out.txt");
    writeFileSync(out, "old\n");
    const o = OutputStream.open(out);
    o.write("new\n".repeat(50_000));
    o.abort();
    expect(readFileSync(out, "utf8")).toBe("old\n");
    expect(readdirSync(d)).toEqual(["out.txt"]);
    expect(() => o.write("more")).toThrow(/after finish or abort/);
  });

  it("reports a write error on finish with writeOutput's wording, and writes nothing", () => {
    const o = OutputStream.open("/nonexistent/dir/x");
    o.write("text");
    expect(o.finish()).toBe(
      'cannot write "/nonexistent/dir/x": ENOENT (No such file or directory)',
    );
    if (existsSync("/dev/full")) {
      const f = OutputStream.open("/dev/full");
      f.write("y".repeat(100_000)); // the first chunk's write fails
      expect(f.finish()).toBe('cannot write "/dev/full": ENOSPC (No space left on device)');
    }
  });
});

describe("ifsim ip --monitor FILE, --dmesg FILE: streamed", () => {
  it("a long batch: the whole output arrives, written in several chunks (more than the 64 KiB one)", () => {
    const d = dir();
    const batch = join(d, "churn.batch");
    // 9 000 commands with one device alive: records and log lines per command, ~0.7 MB of
    // monitor text.
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++)
      lines.push("link add d0 type ifb", "link set d0 promisc on", "link del d0");
    writeFileSync(batch, `${lines.join("\n")}\n`);
    const mon = join(d, "mon.txt");
    const log = join(d, "dmesg.txt");
    const r = main(["ip", "--monitor", mon, "--dmesg", log, "-batch", batch]);
    expect(r.status).toBe(0);
    const text = readFileSync(mon, "utf8");
    expect(text.match(/^\d+: d0: /gm)?.length).toBe(6000); // the add and the promisc change
    expect(text.match(/^Deleted \d+: d0: /gm)?.length).toBe(3000);
    expect(text.length).toBeGreaterThan(256 * 1024);
    expect(readFileSync(log, "utf8").match(/\] d0: entered promiscuous mode$/gm)?.length).toBe(
      3000,
    );
    expect(readdirSync(d).sort()).toEqual(["churn.batch", "dmesg.txt", "mon.txt"]);
  });

  it("an early end (bad ip options) writes no file and keeps an existing one", () => {
    const d = dir();
    const mon = join(d, "mon.txt");
    writeFileSync(mon, "old\n");
    const r = main(["ip", "--monitor", mon, "-nosuchoption", "link", "show"]);
    expect(r.status).toBe(255);
    expect(readFileSync(mon, "utf8")).toBe("old\n");
    expect(readdirSync(d)).toEqual(["mon.txt"]);
  });
});
