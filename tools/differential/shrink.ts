// Delta debugging (Zeller's ddmin) over the lines of a disagreeing batch, then over the words of
// each remaining line; and the class of a minimal batch.

import type { Case } from "./generate.ts";

/** Returns true when a candidate case still shows the disagreement being shrunk. */
export type StillFails = (c: Case) => Promise<boolean>;

async function ddmin<T>(items: T[], test: (xs: T[]) => Promise<boolean>): Promise<T[]> {
  let cur = items;
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n && !reduced; i++) {
      const complement = [...cur.slice(0, i * size), ...cur.slice((i + 1) * size)];
      if (complement.length > 0 && (await test(complement))) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  if (cur.length === 1 && items.length > 1) return cur;
  return cur;
}

/**
 * Shrinks a disagreeing case: drops the global options it does not need, then lines (ddmin),
 * then words inside each line (ddmin on the word list), keeping only candidates that still fail.
 */
export async function shrinkCase(c: Case, fails: StillFails): Promise<Case> {
  let cur: Case = c;
  for (const g of cur.global) {
    const cand = { ...cur, global: cur.global.filter((x) => x !== g) };
    if (await fails(cand)) cur = cand;
  }
  const lines = await ddmin([...cur.lines], (xs) => fails({ ...cur, lines: xs }));
  cur = { ...cur, lines };
  for (let i = 0; i < cur.lines.length; i++) {
    const words = (cur.lines[i] as string).split(" ");
    if (words.length <= 3) continue;
    const head = words.slice(0, 2);
    const body = await ddmin(words.slice(2), (ws) => {
      const ls = [...cur.lines];
      ls[i] = [...head, ...ws].join(" ");
      return fails({ ...cur, lines: ls });
    });
    const ls = [...cur.lines];
    ls[i] = [...head, ...body].join(" ");
    cur = { ...cur, lines: ls };
  }
  return cur;
}

const KEYWORDS = new Set([
  "link",
  "add",
  "set",
  "del",
  "delete",
  "show",
  "list",
  "lst",
  "property",
  "name",
  "dev",
  "type",
  "peer",
  "mtu",
  "address",
  "broadcast",
  "brd",
  "txqueuelen",
  "qlen",
  "txqlen",
  "numtxqueues",
  "numrxqueues",
  "index",
  "up",
  "down",
  "altname",
  "alias",
  "master",
  "group",
  "veth",
  "ifb",
]);

/**
 * A class name for a minimal case: the fields that differ and the shape of its last line (the
 * keywords kept, the values replaced by `_`).
 */
export function classify(c: Case, fields: readonly string[]): string {
  const last = c.lines[c.lines.length - 1] ?? "";
  const shape = last
    .split(" ")
    .map((w) => (KEYWORDS.has(w) ? w : "_"))
    .join(" ");
  return `${fields.join("+")}: ${shape}${c.lines.length > 1 ? ` (after ${c.lines.length - 1})` : ""}`;
}
