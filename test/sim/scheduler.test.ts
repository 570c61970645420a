import { describe, expect, it } from "vitest";
import {
  type Actor,
  type Candidate,
  earliestFirst,
  Rng,
  Scheduler,
  VirtualClock,
} from "../../src/sim/index.ts";

/** An actor that runs at the given times and logs each run. */
function timed(name: string, times: number[], log: string[], clock: VirtualClock): Actor {
  const left = [...times];
  return {
    name,
    readyAt: () => (left.length > 0 ? (left[0] as number) : null),
    step: () => {
      left.shift();
      log.push(`${clock.now()} ${name}`);
    },
  };
}

describe("Scheduler", () => {
  it("should run the earliest step first and move the clock to it", () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const s = new Scheduler(clock, new Rng(1));
    s.add(timed("a", [30, 50], log, clock));
    s.add(timed("b", [10, 40], log, clock));
    expect(s.run()).toBe(4);
    expect(log).toEqual(["10 b", "30 a", "40 b", "50 a"]);
    expect(clock.now()).toBe(50);
  });

  it("should break ties with the seeded RNG: same seed, same order; some seed differs", () => {
    const order = (seed: number): string[] => {
      const clock = new VirtualClock();
      const log: string[] = [];
      const s = new Scheduler(clock, new Rng(seed));
      for (const n of ["a", "b", "c", "d"]) s.add(timed(n, [0], log, clock));
      s.run();
      return log;
    };
    expect(order(7)).toEqual(order(7));
    const seen = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((x) => order(x).join(",")));
    expect(seen.size).toBeGreaterThan(1);
  });

  it("should never move the clock backwards for a step that was due earlier", () => {
    const clock = new VirtualClock();
    clock.advanceTo(100);
    const log: string[] = [];
    const s = new Scheduler(clock, new Rng(1));
    s.add(timed("late", [20], log, clock));
    s.runOne();
    expect(log).toEqual(["100 late"]);
  });

  it("should let an injected strategy choose (the explorer's hook)", () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const seen: Candidate[][] = [];
    const lastFirst = (c: readonly Candidate[]): number => {
      seen.push([...c]);
      return c.length - 1;
    };
    const s = new Scheduler(clock, new Rng(1), lastFirst);
    s.add(timed("a", [5], log, clock));
    s.add(timed("b", [9], log, clock));
    s.run();
    expect(log).toEqual(["9 b", "9 a"]);
    expect(seen[0]).toEqual([
      { actor: "a", time: 5 },
      { actor: "b", time: 9 },
    ]);
  });

  it("should stop at `until` and report idleness", () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const s = new Scheduler(clock, new Rng(1));
    s.add(timed("a", [5, 50], log, clock));
    expect(s.run({ until: 10 })).toBe(1);
    expect(s.runOne()).toBe("a");
    expect(s.runOne()).toBeNull();
  });

  it("should refuse two actors with one name, a strategy out of range, and a model that never settles", () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock, new Rng(1), () => 5);
    s.add(timed("a", [1], [], clock));
    expect(() => s.add(timed("a", [1], [], clock))).toThrow(/two actors named "a"/);
    expect(() => s.runOne()).toThrow(/picked 5 of 1/);
    const forever = new Scheduler(clock, new Rng(1));
    forever.add({ name: "spin", readyAt: () => clock.now(), step: () => {} });
    expect(() => forever.run({ maxSteps: 100 })).toThrow(/no quiescence after 100 steps/);
  });

  it("earliestFirst: the earliest candidate, whatever its position", () => {
    const r = new Rng(3);
    expect(
      earliestFirst(
        [
          { actor: "x", time: 9 },
          { actor: "y", time: 2 },
          { actor: "z", time: 4 },
        ],
        r,
      ),
    ).toBe(1);
  });
});
