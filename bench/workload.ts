// The `ip -batch` workload of bench/run.ts, bench/phases.ts and bench/profile-ip.ts: per phase,
// N devices added with the `d%d` template and N by name (`n<i>`), then the `d` ones renamed,
// set up and deleted.

export const PHASES = ["add %d", "add name", "rename", "up", "delete"] as const;
export type Phase = (typeof PHASES)[number];

/** The batch text of each phase for N devices (one command per line). */
export function batches(n: number): Record<Phase, string> {
  const b: Record<Phase, string[]> = {
    "add %d": [],
    "add name": [],
    rename: [],
    up: [],
    delete: [],
  };
  for (let i = 0; i < n; i++) {
    b["add %d"].push("link add name d%d type ifb");
    b["add name"].push(`link add name n${i} type ifb`);
    b.rename.push(`link set dev d${i} name r${i}`);
    b.up.push(`link set dev r${i} up`);
    b.delete.push(`link del dev r${i}`);
  }
  const text = (p: Phase) => `${b[p].join("\n")}\n`;
  return {
    "add %d": text("add %d"),
    "add name": text("add name"),
    rename: text("rename"),
    up: text("up"),
    delete: text("delete"),
  };
}
