// netplan's naming output (netplan src/networkd.c, write_link_file() and write_rules_file(), as
// of netplan 0.106+): for each physical definition with `set-name:` (or wakeonlan/mtu) a
// /run/systemd/network/10-netplan-<id>.link whose [Match] is Driver= (match.driver),
// PermanentMACAddress= (match.macaddress; LP: #1804861, #1888726 moved it off MACAddress=) and
// OriginalName= (match.name), and whose [Link] is Name= (set-name), WakeOnLan= and MTUBytes=;
// and, when set-name is given with match.macaddress or match.driver,
// /run/udev/rules.d/99-netplan-<id>.rules with one line
//   SUBSYSTEM=="net", ACTION=="add", DRIVERS=="<driver or ?*>", ATTR{address}=="<mac>", NAME="<set-name>"
// (written "until systemd issue #9006 is resolved"). Files from /lib/netplan, /etc/netplan and
// /run/netplan are merged as netplan does: a later directory masks a same-named file, then files
// apply in base-name order. Keys that do not affect naming are reported, not used.

import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import type { ConfDiagnostic } from "./udev/systemd-conf.ts";

/** netplan's search path, lowest priority first. */
export const NETPLAN_DIRS = ["/lib/netplan", "/etc/netplan", "/run/netplan"] as const;

/** What netplan generate writes for naming, and what it said. */
export interface NetplanOutput {
  /** Generated files by absolute path. */
  readonly files: Record<string, string>;
  readonly diagnostics: ConfDiagnostic[];
}

interface Ethernet {
  id: string;
  file: string;
  line: number;
  mac?: string;
  name?: string;
  /** match.driver: one glob, or a list of globs any of which may match (netplan 0.104+). */
  driver?: string[];
  setName?: string;
  wakeonlan?: boolean;
  mtu?: number;
}

const NOT_NAMING = new Set([
  "dhcp4",
  "dhcp6",
  "addresses",
  "gateway4",
  "gateway6",
  "routes",
  "nameservers",
  "optional",
  "accept-ra",
  "link-local",
  "critical",
  "dhcp-identifier",
  "dhcp4-overrides",
  "dhcp6-overrides",
  "routing-policy",
  "ipv6-privacy",
  "renderer",
  "macaddress",
  "ignore-carrier",
]);

/** Runs netplan's generator on the netplan YAML files among `files` (absolute path → text). */
export function netplanGenerate(files: Readonly<Record<string, string>>): NetplanOutput {
  const diagnostics: ConfDiagnostic[] = [];
  const byBase = new Map<string, string>();
  for (const dir of NETPLAN_DIRS)
    for (const p of Object.keys(files).sort())
      if (p.startsWith(`${dir}/`) && p.endsWith(".yaml") && !p.slice(dir.length + 1).includes("/"))
        byBase.set(p.slice(dir.length + 1), p);
  const defs = new Map<string, Ethernet>();
  for (const base of [...byBase.keys()].sort()) {
    const path = byBase.get(base) as string;
    readOne(path, files[path] as string, defs, diagnostics);
  }
  const out: Record<string, string> = {};
  for (const d of defs.values()) {
    if (
      d.setName !== undefined &&
      d.mac === undefined &&
      d.driver === undefined &&
      d.name === undefined
    ) {
      diagnostics.push({
        file: d.file,
        line: d.line,
        level: "error",
        message: `${d.id}: 'set-name:' requires 'match:' properties (netplan refuses the configuration)`,
      });
      continue;
    }
    const id = encodeURIComponent(d.id);
    if (d.setName !== undefined || d.wakeonlan !== undefined || d.mtu !== undefined) {
      const m = ["[Match]"];
      // netplan's write_match(): a list becomes one Driver= of space-separated globs, which
      // systemd's .link [Match] takes as "any of these"
      if (d.driver !== undefined) m.push(`Driver=${d.driver.join(" ")}`);
      if (d.mac !== undefined) m.push(`PermanentMACAddress=${d.mac}`);
      if (d.name !== undefined) m.push(`OriginalName=${d.name}`);
      const l = ["", "[Link]"];
      if (d.setName !== undefined) l.push(`Name=${d.setName}`);
      l.push(`WakeOnLan=${d.wakeonlan ? "magic" : "off"}`);
      if (d.mtu !== undefined) l.push(`MTUBytes=${d.mtu}`);
      out[`/run/systemd/network/10-netplan-${id}.link`] = `${[...m, ...l].join("\n")}\n`;
    }
    if (d.setName !== undefined && (d.mac !== undefined || d.driver !== undefined)) {
      const parts = ['SUBSYSTEM=="net"', 'ACTION=="add"'];
      // netplan keeps a list tab-separated in its netdef and writes it into DRIVERS== as it is:
      // udev takes the tab literally (alternatives are `|`), so a list of two or more drivers
      // gives a rule that never matches, and the name then comes from the .link file alone
      parts.push(`DRIVERS=="${d.driver ? scrub(d.driver.join("\t")) : "?*"}"`);
      if (d.mac !== undefined) parts.push(`ATTR{address}=="${d.mac}"`);
      parts.push(`NAME="${scrub(d.setName)}"`);
      out[`/run/udev/rules.d/99-netplan-${id}.rules`] = `${parts.join(", ")}\n`;
    }
  }
  return { files: out, diagnostics };
}

function readOne(
  path: string,
  text: string,
  defs: Map<string, Ethernet>,
  diagnostics: ConfDiagnostic[],
): void {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const lineOf = (n: Node | null | undefined): number =>
    n?.range ? lc.linePos(n.range[0]).line : 0;
  const d = (n: Node | null | undefined, level: ConfDiagnostic["level"], message: string) =>
    diagnostics.push({ file: path, line: lineOf(n), level, message });
  if (doc.errors.length > 0) {
    for (const e of doc.errors)
      diagnostics.push({
        file: path,
        line: e.linePos?.[0]?.line ?? 0,
        level: "error",
        message: `YAML: ${e.message.split("\n")[0]}: file not used`,
      });
    return;
  }
  const root = doc.contents;
  if (root === null) return;
  if (!isMap(root)) return void d(root, "error", "expected a mapping with a network: key");
  for (const it of root.items) {
    const k = isScalar(it.key) ? String(it.key.value) : "";
    if (k !== "network")
      d(it.key as Node, "warning", `top-level key "${k}" is not netplan's, ignored`);
  }
  const net = root.get("network", true) as Node | undefined;
  if (!net) return;
  if (!isMap(net)) return void d(net, "error", "network: must be a mapping");
  for (const it of net.items) {
    const k = isScalar(it.key) ? String(it.key.value) : "";
    if (k === "version") {
      if (!isScalar(it.value) || Number(it.value.value) !== 2)
        d(it.value as Node, "error", "network.version must be 2");
      continue;
    }
    if (k === "renderer") continue;
    if (k !== "ethernets") {
      d(
        it.key as Node,
        "info",
        `network.${k}: virtual devices get .netdev files, not .link files: not modelled, ignored`,
      );
      continue;
    }
    if (!isMap(it.value)) {
      d(it.value as Node, "error", "network.ethernets must be a mapping");
      continue;
    }
    for (const e of (it.value as YAMLMap).items)
      readEthernet(path, e.key as Node, e.value as Node, defs, d, lineOf);
  }
}

/** _netplan_scrub_string(): double quotes escaped for a udev rule's value. */
function scrub(v: string): string {
  return v.replaceAll('"', '\\"');
}

function scalarText(n: Node | null | undefined): string | null {
  return n && isScalar(n) && n.value !== null ? String(n.value) : null;
}

function readEthernet(
  path: string,
  keyNode: Node,
  v: Node,
  defs: Map<string, Ethernet>,
  d: (n: Node | null | undefined, level: ConfDiagnostic["level"], message: string) => void,
  lineOf: (n: Node | null | undefined) => number,
): void {
  const id = scalarText(keyNode) ?? "";
  if (!isMap(v)) return void d(v, "error", `ethernets.${id} must be a mapping`);
  const cur: Ethernet = defs.get(id) ?? { id, file: path, line: 0 };
  cur.file = path;
  cur.line = lineOf(keyNode);
  for (const it of v.items) {
    const k = scalarText(it.key as Node) ?? "";
    const val = it.value as Node;
    switch (k) {
      case "match": {
        if (!isMap(val)) {
          d(val, "error", `ethernets.${id}.match must be a mapping`);
          break;
        }
        for (const m of val.items) {
          const mk = scalarText(m.key as Node) ?? "";
          const mv = m.value as Node;
          if (mk === "macaddress") {
            const s = scalarText(mv);
            if (s === null || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s))
              d(mv, "error", `ethernets.${id}.match.macaddress: "${s}" is not a MAC address`);
            else cur.mac = s;
          } else if (mk === "name") {
            const s = scalarText(mv);
            if (s !== null) cur.name = s;
          } else if (mk === "driver") {
            // handle_match_driver(): a scalar glob or a sequence of scalar globs, none with a
            // space (netplan refuses the configuration otherwise)
            const list = isSeq(mv) ? mv.items.map((x) => scalarText(x as Node)) : [scalarText(mv)];
            if (isSeq(mv) && list.length === 0)
              d(mv, "error", `ethernets.${id}.match.driver: invalid sequence for 'driver'`);
            else if (list.some((x) => x === null))
              d(
                mv,
                "error",
                `ethernets.${id}.match.driver: invalid type for 'driver': must be a scalar or a sequence of scalars`,
              );
            else if (list.some((x) => /[ \t]/.test(x as string)))
              d(
                mv,
                "error",
                `ethernets.${id}.match.driver: A 'driver' glob cannot contain whitespace`,
              );
            else cur.driver = list as string[];
          } else
            d(m.key as Node, "warning", `ethernets.${id}.match.${mk} is not modelled, ignored`);
        }
        break;
      }
      case "set-name": {
        const s = scalarText(val);
        if (s !== null) cur.setName = s;
        break;
      }
      case "wakeonlan":
        cur.wakeonlan = scalarText(val) === "true";
        break;
      case "mtu": {
        const n = Number(scalarText(val));
        if (Number.isInteger(n) && n > 0) cur.mtu = n;
        else d(val, "error", `ethernets.${id}.mtu must be a positive integer`);
        break;
      }
      default:
        d(
          it.key as Node,
          NOT_NAMING.has(k) ? "info" : "warning",
          `ethernets.${id}.${k} does not affect naming: not modelled, ignored`,
        );
    }
  }
  defs.set(id, cur);
}
