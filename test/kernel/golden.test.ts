// Golden traces: each test/golden/<case>.scenario runs against the kernel model and its
// projected trace must equal test/golden/<case>.trace.jsonl byte for byte. UPDATE_GOLDEN=1
// rewrites the .trace.jsonl files (review the diff against the spec before committing).
//
// Scenario format: one operation per line, `#` starts a comment, tokens are separated by
// spaces and may be JSON strings ("a b", "", "\t").
//   kernel <version>                 boot a new kernel (lines after it are setup, not traced)
//   ---                              start tracing (events and results from here on)
//   nic [name] [pci]                 a generic NIC ("eth%d" unless named; pci: give it a PCI parent)
//   veth <name> <peer>               a veth pair through RTM_NEWLINK
//   ifb [name]                       an ifb through RTM_NEWLINK
//   up <dev> | down <dev>            dev_open / dev_close
//   rename <dev> <newname>           dev_change_name
//   altname <dev> <alt>              RTM_NEWLINKPROP with one IFLA_ALT_IFNAME
//   settle                           advance the clock until linkwatch has run (operstate settles)
//   live-rename-ok <dev>             set IFF_LIVE_RENAME_OK (as failover does on its slaves, E1)
//   veto <EVENT> <ERRNO> [devname]   add a test notifier answering notifier_from_errno(-ERRNO)
//   state                            one line per device: ifindex, name, name_assign_type, up

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  devChangeName,
  devClose,
  devGetFlags,
  devOpen,
  type ErrnoName,
  err,
  IFF,
  IFF_PRIV,
  type Kernel,
  type NetdevEvent,
  rtnlLinkprop,
} from "../../src/kernel/index.ts";
import type { VirtualClock } from "../../src/sim/index.ts";
import { goldenEventLine, retText, stripComment, tokenize } from "../_helpers/golden.ts";
import { addRecorder, boot, dev, ifb, nic, settle, veth, vetoOn } from "../_helpers/kernel.ts";

const GOLDEN_DIR = join(import.meta.dirname, "..", "golden");

const PCI = {
  id: "0000:00:04.0",
  bus: "pci",
  driver: "e1000e",
  devpath: "/devices/pci0000:00/0000:00:04.0",
};

/** Runs a scenario and returns its projected trace as JSONL text. */
export function runScenario(text: string): string {
  const out: Record<string, unknown>[] = [];
  let k: Kernel | null = null;
  let tracing = false;
  const need = (): Kernel => {
    if (!k) throw new SyntaxError("scenario: an operation before the first `kernel` line");
    return k;
  };
  for (const [n, raw] of text.split("\n").entries()) {
    const toks = tokenize(stripComment(raw));
    if (toks.length === 0) continue;
    const [op, ...args] = toks as [string, ...string[]];
    if (op === "kernel") {
      k = boot(args[0] as string);
      tracing = false;
      out.push({ kind: "kernel", version: args[0] });
      continue;
    }
    const kk = need();
    if (op === "---") {
      tracing = true;
      continue;
    }
    const cursor = kk.trace.length;
    let ret: number | null = null;
    switch (op) {
      case "nic": {
        const name = args.find((a) => a !== "pci");
        const d = nic(kk, name !== undefined ? { name } : {});
        if (args.includes("pci")) d.parent = PCI;
        break;
      }
      case "veth":
        veth(kk, args[0], args[1]);
        break;
      case "ifb":
        ifb(kk, args[0]);
        break;
      case "up":
        ret = devOpen(kk, dev(kk, args[0] as string));
        break;
      case "down":
        devClose(kk, dev(kk, args[0] as string));
        break;
      case "rename":
        ret = devChangeName(kk, dev(kk, args[0] as string), args[1] as string);
        break;
      case "altname":
        ret = rtnlLinkprop(kk, {
          op: "add",
          ifindex: dev(kk, args[0] as string).ifindex,
          altname: args[1] as string,
        }).ret;
        break;
      case "settle":
        settle(kk as Kernel & { clock: VirtualClock });
        break;
      case "live-rename-ok":
        dev(kk, args[0] as string).privFlags |= IFF_PRIV.IFF_LIVE_RENAME_OK;
        break;
      case "veto":
        addRecorder(kk).veto = vetoOn(args[0] as NetdevEvent, err(args[1] as ErrnoName), args[2]);
        break;
      case "state":
        if (tracing) {
          for (const d of [...kk.state.devices.values()].sort((a, b) => a.ifindex - b.ifindex)) {
            out.push({
              kind: "state",
              ifindex: d.ifindex,
              ifname: d.name,
              name_assign_type: d.nameAssignType,
              altnames: d.altnames,
              up: (devGetFlags(d) & IFF.UP) !== 0,
            });
          }
        }
        continue;
      default:
        throw new SyntaxError(`scenario line ${n + 1}: unknown operation "${op}"`);
    }
    if (!tracing) continue;
    out.push({
      kind: "op",
      op: toks.map((t) => (/^\S+$/.test(t) ? t : JSON.stringify(t))).join(" "),
      ret: ret === null ? null : retText(ret),
    });
    for (const e of kk.trace.since(cursor)) out.push(goldenEventLine(e));
  }
  return `${out.map((o) => JSON.stringify(o)).join("\n")}\n`;
}

const cases = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith(".scenario"))
  .map((f) => f.slice(0, -".scenario".length))
  .sort();

describe("golden traces", () => {
  it("should have scenarios", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)("%s should match its .trace.jsonl", (name) => {
    const scenario = readFileSync(join(GOLDEN_DIR, `${name}.scenario`), "utf8");
    const actual = runScenario(scenario);
    const file = join(GOLDEN_DIR, `${name}.trace.jsonl`);
    if (process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(file, actual);
      return;
    }
    let expected: string;
    try {
      expected = readFileSync(file, "utf8");
    } catch {
      throw new Error(`Missing golden "${file}": run with UPDATE_GOLDEN=1 and review it`);
    }
    expect(actual).toBe(expected);
  });
});
