// The kernel log of a qemu run against the model's: the lines of the subsystems the model
// writes, in order, with the guest's PCI addresses rewritten to the model's. (Steps and links are
// compared by `ifsim conform`, src/cli/conform.ts.) Pure.
//
// Why addresses are rewritten: a pci-nic sits behind its own pcie-root-port in the guest
// (0000:01:00.0, …; q35's pcie.0 cannot hot-plug) but at 0000:00:<slot>.0 in the model
// (layout.ts). Nothing else differs in those lines.

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
  /** Lines that agree before the first difference. */
  readonly common: number;
  readonly model: string[];
  readonly kernel: string[];
}

/** The difference of the model's log and the guest's (modelled lines only), or null. */
export function compareLogs(
  model: readonly string[],
  kernel: readonly string[],
  addrMap?: ReadonlyMap<string, string>,
): LogDifference | null {
  const m = modelledLog(model);
  const k = modelledLog(kernel, addrMap);
  let i = 0;
  while (i < m.length && i < k.length && m[i] === k[i]) i++;
  if (i === m.length && i === k.length) return null;
  return { common: i, model: m.slice(i), kernel: k.slice(i) };
}

/** A log difference as text. */
export function formatLogDifference(d: LogDifference): string {
  const show = (a: string[]): string =>
    a.length === 0 ? "    (nothing)" : a.map((l) => `    | ${l}`).join("\n");
  return `dmesg: the first ${d.common} lines agree, then\n  model:\n${show(d.model)}\n  kernel:\n${show(d.kernel)}`;
}
