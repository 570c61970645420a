// The final links of a run as one table, the same for the model and every backend (they all
// record LinkRecords: ifindex, name, flags, mtu, operstate, address, master, portname and the
// sysfs name_assign_type).

import type { LinkRecord } from "../scenario/run.ts";

/** include/uapi/linux/netdevice.h NET_NAME_*: what /sys/class/net/X/name_assign_type says. */
const NAME_ASSIGN = ["unknown", "enum", "predictable", "user", "renamed"];

/** One link's name_assign_type as "4 renamed". */
function assignText(t: number): string {
  const what = NAME_ASSIGN[t];
  return what === undefined ? String(t) : `${t} ${what}`;
}

/**
 * The links as an aligned table, one row per link by ifindex: index, name, operstate, master,
 * name_assign_type, MAC, mtu, flags (and the phys_port_name when a link has one).
 * @example formatLinks(rec.links) // "  1  lo    UNKNOWN  -  …"
 */
export function formatLinks(links: readonly LinkRecord[]): string {
  const withPort = links.some((l) => l.portname !== null);
  const head = [
    "idx",
    "name",
    "state",
    "master",
    "name_assign_type",
    "address",
    "mtu",
    "flags",
    ...(withPort ? ["portname"] : []),
  ];
  const rows = [...links]
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => [
      String(l.ifindex),
      l.ifname,
      l.operstate,
      l.master ?? "-",
      assignText(l.name_assign_type),
      l.address,
      String(l.mtu),
      `<${l.flags.join(",")}>`,
      ...(withPort ? [l.portname ?? "-"] : []),
    ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: readonly string[]): string =>
    `  ${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")}\n`;
  return line(head) + rows.map(line).join("");
}
