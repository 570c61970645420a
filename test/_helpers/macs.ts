// Random MAC addresses in `ip` output replaced by placeholders, for comparing runs.

/**
 * Replaces every MAC address but the broadcast and all-zero ones by `<mac0>`, `<mac1>`, … in
 * order of first appearance. A prefix of a text maps to a prefix of its image.
 */
export function maskMacs(text: string): string {
  const seen = new Map<string, string>();
  return text.replace(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g, (m) => {
    if (m === "ff:ff:ff:ff:ff:ff" || m === "00:00:00:00:00:00") return m;
    let p = seen.get(m);
    if (!p) {
      p = `<mac${seen.size}>`;
      seen.set(m, p);
    }
    return p;
  });
}
