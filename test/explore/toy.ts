// A toy system for the search tests: threads run fixed programs of reads and writes on shared
// variables. A step's footprint is the variable it touches, so the Mazurkiewicz classes of its
// executions can be counted by brute force.

import type { ExplorableSystem, StateKey, Violation } from "../../src/explore/system.ts";

export interface ToyOp {
  readonly op: "r" | "w";
  readonly v: string;
}

interface ToyState {
  vars: Record<string, number>;
  pc: number[];
  /** What each thread read, in order. */
  seen: number[][];
  /** The execution so far: "thread.index". */
  history: string[];
}

/** Threads t0, t1, … with the given programs. */
export class Toy implements ExplorableSystem<ToyState> {
  s: ToyState;
  readonly finals: string[][] = [];
  readonly programs: readonly (readonly ToyOp[])[];
  readonly bad: ((s: ToyState) => string | null) | null;
  constructor(
    programs: readonly (readonly ToyOp[])[],
    bad: ((s: ToyState) => string | null) | null = null,
  ) {
    this.programs = programs;
    this.bad = bad;
    this.s = {
      vars: {},
      pc: programs.map(() => 0),
      seen: programs.map(() => []),
      history: [],
    };
  }
  enabled(): string[] {
    return this.programs.flatMap((p, i) => ((this.s.pc[i] as number) < p.length ? [`t${i}`] : []));
  }
  fire(lane: string): readonly string[] {
    const i = Number(lane.slice(1));
    const pc = this.s.pc[i] as number;
    const op = (this.programs[i] as ToyOp[])[pc];
    if (!op) throw new Error(`lane ${lane} not enabled`);
    if (op.op === "w") this.s.vars[op.v] = i * 100 + pc + 1;
    else (this.s.seen[i] as number[]).push(this.s.vars[op.v] ?? 0);
    this.s.pc[i] = pc + 1;
    this.s.history.push(`${i}.${pc}`);
    return [op.v];
  }
  save(): ToyState {
    return structuredClone(this.s);
  }
  restore(s: ToyState): void {
    this.s = structuredClone(s);
  }
  key(): StateKey {
    const { history: _h, ...rest } = this.s;
    return { key: JSON.stringify(rest), lane: (l) => l };
  }
  coarse(r: string): string {
    return r;
  }
  laneClass(l: string): string {
    return l;
  }
  check(quiescent: boolean): Violation | null {
    if (!quiescent) return null;
    this.finals.push([...this.s.history]);
    const b = this.bad?.(this.s) ?? null;
    return b ? { invariant: "bad", detail: b } : null;
  }
}

/** The Mazurkiewicz class of an execution: the order of every dependent pair. */
export function traceClass(
  programs: readonly (readonly ToyOp[])[],
  history: readonly string[],
): string {
  const ev = history.map((h) => {
    const [t, i] = h.split(".").map(Number) as [number, number];
    return { t, v: ((programs[t] as ToyOp[])[i] as ToyOp).v, h };
  });
  const parts: string[] = [];
  for (let a = 0; a < ev.length; a++)
    for (let b = a + 1; b < ev.length; b++) {
      const x = ev[a] as { t: number; v: string; h: string };
      const y = ev[b] as { t: number; v: string; h: string };
      if (x.t !== y.t && x.v === y.v) parts.push(`${x.h}<${y.h}`);
    }
  return parts.sort().join(",");
}
