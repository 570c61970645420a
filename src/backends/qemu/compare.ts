// The kernel log of a qemu run against the model's: the lines of the subsystems the model
// writes, with the guest's PCI addresses rewritten to the model's, compared device by device.
// (Steps and links are compared by `ifsim conform`, src/conform/compare.ts.) Pure.
//
// Why addresses are rewritten: a pci-nic sits behind its own pcie-root-port in the guest
// (0000:01:00.0, …; q35's pcie.0 cannot hot-plug) but at 0000:00:<slot>.0 in the model
// (layout.ts). Nothing else differs in those lines.
// Why device by device: each device's lines (the same "driver device" prefix, e.g.
// "e1000e 0000:00:04.0" or "virtio_net virtio0") must appear in the same order, but how the
// lines of different devices interleave is not compared — probes run concurrently in the guest
// (QEMU hot-plugs a failover primary as soon as virtio_net negotiated STANDBY, while virtnet_probe
// is still registering the master), one after the other in the model.

/** Kernel log lines the model writes (other subsystems are not modelled). */
export const MODELLED_LOG = /^(virtio_net |e1000e |IPv6: ADDRCONF|net_failover|failover)/;

const PCI_ADDR = /\b0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\b/g;

/** The modelled lines of a log, guest PCI addresses rewritten by `addrMap` (guest → model). */
export function modelledLog(
  lines: readonly string[],
  addrMap?: ReadonlyMap<string, string>,
): string[] {
  return lines
    .filter((l) => MODELLED_LOG.test(l))
    .map((l) => (addrMap ? l.replace(PCI_ADDR, (a) => addrMap.get(a) ?? a) : l));
}

/** Where two kernel logs part. */
export interface LogDifference {
  /** The device whose lines differ ("e1000e 0000:00:04.0"). */
  readonly source: string;
  /** Its lines that agree before the first difference. */
  readonly common: number;
  readonly model: string[];
  readonly kernel: string[];
}

/** The device a log line is about: its first two words ("e1000e 0000:00:04.0"). */
export function logSource(line: string): string {
  const [a = "", b = ""] = line.split(" ");
  return `${a} ${b.replace(/:$/, "")}`;
}

/** The lines of each source, in order. */
function bySource(lines: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of lines) {
    const k = logSource(l);
    out.set(k, [...(out.get(k) ?? []), l]);
  }
  return out;
}

/**
 * The first source whose lines differ between the model's log and the guest's (modelled lines
 * only, device by device), or null.
 */
export function compareLogs(
  model: readonly string[],
  kernel: readonly string[],
  addrMap?: ReadonlyMap<string, string>,
): LogDifference | null {
  const m = bySource(modelledLog(model));
  const k = bySource(modelledLog(kernel, addrMap));
  for (const src of new Set([...m.keys(), ...k.keys()])) {
    const ms = m.get(src) ?? [];
    const ks = k.get(src) ?? [];
    let i = 0;
    while (i < ms.length && i < ks.length && ms[i] === ks[i]) i++;
    if (i < ms.length || i < ks.length)
      return { source: src, common: i, model: ms.slice(i), kernel: ks.slice(i) };
  }
  return null;
}

/** A log difference as text. */
export function formatLogDifference(d: LogDifference): string {
  const show = (a: string[]): string =>
    a.length === 0 ? "    (nothing)" : a.map((l) => `    | ${l}`).join("\n");
  return `dmesg of "${d.source}": the first ${d.common} lines agree, then\n  model:\n${show(d.model)}\n  kernel:\n${show(d.kernel)}`;
}
