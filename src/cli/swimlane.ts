// A counterexample as a swim-lane timeline: one column per lane that occurs (kernel, each udev
// worker, networkd, cloud-init, qemu, the script), one row per step with its number and virtual
// time; the step's timeline entries (`what → result`) sit in its lane's column, wrapped and
// truncated to fit the width. The failing step is marked.

/** One step as the timeline shows it. */
export interface SwimStep {
  /** 1-based step number. */
  readonly n: number;
  readonly lane: string;
  /** Virtual time after the step, µs. */
  readonly t: number;
  /** What the step did (timeline entries). */
  readonly did: readonly { readonly what: string; readonly result: string }[];
  /** Shown instead when `did` is empty (e.g. the action the step took without a timeline line). */
  readonly quiet?: readonly string[];
}

/** How to draw the timeline. */
export interface SwimlaneOptions {
  /** Total width in columns (default 120). */
  readonly width?: number;
  /** The step number to mark as failing (default: none). */
  readonly failing?: number | null;
  /** Column titles by lane (default: the lane's name). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Lines one entry may take before it is truncated with … (default 3). */
  readonly maxLines?: number;
}

const FIXED_LANES = ["kernel", "udev", "networkd", "cloud-init", "qemu", "script"];

/** Sort rank of a lane: kernel, udev/w0, udev/w1, …, networkd, cloud-init, qemu, script, others. */
function rank(lane: string): [number, number, string] {
  const m = /^udev\/w(\d+)$/.exec(lane);
  if (m) return [1, Number(m[1]), lane];
  // Free timing's lanes: the kinds of kernel work, then bring-up's links, beside their actor.
  if (lane.startsWith("kernel/")) return [0, 1, lane];
  if (lane.startsWith("networkd/")) return [2, 1, lane];
  const i = FIXED_LANES.indexOf(lane);
  return [i >= 0 ? i : FIXED_LANES.length, 0, lane];
}

/** The lanes in column order (each once). */
export function laneOrder(lanes: Iterable<string>): string[] {
  return [...new Set(lanes)].sort((a, b) => {
    const [ra, na, sa] = rank(a);
    const [rb, nb, sb] = rank(b);
    return ra - rb || na - nb || (sa < sb ? -1 : sa > sb ? 1 : 0);
  });
}

/**
 * Wraps `text` to lines of at most `width` characters (at spaces where it can, else hard), at
 * most `maxLines` lines: a longer text ends its last line with "…".
 */
export function wrapText(
  text: string,
  width: number,
  maxLines = Number.POSITIVE_INFINITY,
): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  let rest = text.replace(/\s+/g, " ").trim();
  while (rest.length > 0) {
    if (rest.length <= w) {
      lines.push(rest);
      rest = "";
      break;
    }
    let cut = rest.lastIndexOf(" ", w);
    if (cut <= 0) cut = w;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (lines.length === 0) return [""];
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    const last = kept[maxLines - 1] as string;
    kept[maxLines - 1] = `${last.length >= w ? last.slice(0, w - 1) : last}…`;
    return kept;
  }
  return lines;
}

/** Column widths: each lane its need, and when they do not all fit, a fair share of `total`. */
function shareWidths(need: readonly number[], total: number, min: number): number[] {
  const out = need.map(() => 0);
  let left = total;
  let open = need.map((_, i) => i);
  // Water-filling: lanes that need less than an equal share get what they need.
  for (;;) {
    if (open.length === 0) return out;
    const share = Math.max(min, Math.floor(left / open.length));
    const small = open.filter((i) => (need[i] as number) <= share);
    if (small.length === 0) {
      for (const i of open) out[i] = share;
      return out;
    }
    for (const i of small) {
      out[i] = Math.max(min, need[i] as number);
      left -= out[i] as number;
    }
    open = open.filter((i) => !small.includes(i));
  }
}

/** Milliseconds with µs precision ("12.345") from µs. */
export function formatMs(us: number): string {
  return (us / 1000).toFixed(3);
}

/** Pads or cuts `s` to exactly `w` columns. */
function fit(s: string, w: number): string {
  return s.length > w ? `${s.slice(0, Math.max(0, w - 1))}…` : s.padEnd(w);
}

/** Draws the timeline (lines end with "\n"). */
export function swimlane(steps: readonly SwimStep[], o: SwimlaneOptions = {}): string {
  const width = Math.max(40, o.width ?? 120);
  const maxLines = o.maxLines ?? 3;
  const lanes = laneOrder(steps.map((s) => s.lane));
  if (lanes.length === 0) return "(no steps)\n";
  const title = (l: string): string => o.labels?.[l] ?? l;
  const cellText = (s: SwimStep): string[] =>
    s.did.length > 0
      ? s.did.map((d) => `${d.what} → ${d.result}`)
      : s.quiet && s.quiet.length > 0
        ? [...s.quiet]
        : ["·"];
  const nW = Math.max(4, ...steps.map((s) => String(s.n).length));
  const tW = Math.max(4, ...steps.map((s) => formatMs(s.t).length));
  const sep = " │ ";
  // marker + step + " " + time, then per lane: separator + column.
  const fixed = 2 + nW + 1 + tW;
  const need = lanes.map((l) =>
    Math.max(
      title(l).length,
      ...steps.filter((s) => s.lane === l).flatMap((s) => cellText(s).map((x) => x.length)),
    ),
  );
  const avail = width - fixed - sep.length * lanes.length;
  const widths = shareWidths(need, avail, 8);
  const col = new Map(lanes.map((l, i) => [l, i]));
  const row = (mark: string, n: string, t: string, cells: readonly string[]): string => {
    let s = `${mark} ${n.padStart(nW)} ${t.padStart(tW)}`;
    cells.forEach((c, i) => {
      s += sep + fit(c, widths[i] as number);
    });
    return `${s.trimEnd()}\n`;
  };
  let out = row(
    " ",
    "step",
    "t/ms",
    lanes.map((l) => title(l)),
  );
  out += `${"─".repeat(fixed)}${widths.map((w) => `─┼─${"─".repeat(w)}`).join("")}\n`;
  for (const s of steps) {
    const i = col.get(s.lane) as number;
    const w = widths[i] as number;
    const failing = o.failing === s.n;
    // The failing step's lines are never cut.
    const lines = cellText(s).flatMap((x) =>
      wrapText(x, w, failing ? Number.POSITIVE_INFINITY : maxLines),
    );
    lines.forEach((line, j) => {
      const cells = lanes.map((_, k) => (k === i ? line : ""));
      out += row(
        j === 0 && failing ? "✗" : " ",
        j === 0 ? String(s.n) : "",
        j === 0 ? formatMs(s.t) : "",
        cells,
      );
    });
  }
  return out;
}
