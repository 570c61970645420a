import { describe, expect, it } from "vitest";
import { MICROS_PER_MILLI, MICROS_PER_SECOND, VirtualClock } from "../../src/sim/clock.ts";

describe("VirtualClock", () => {
  it("should start at 0 by default", () => {
    const clock = new VirtualClock();

    expect(clock.now()).toBe(0);
  });

  it("should start at the given time", () => {
    const clock = new VirtualClock(1_500);

    expect(clock.now()).toBe(1_500);
  });

  it("should count microseconds", () => {
    expect(MICROS_PER_MILLI).toBe(1_000);
    expect(MICROS_PER_SECOND).toBe(1_000_000);
  });

  it("should reject a negative or non-integer start", () => {
    expect(() => new VirtualClock(-1)).toThrow(RangeError);
    expect(() => new VirtualClock(0.5)).toThrow(RangeError);
  });
});

describe("VirtualClock.advanceTo", () => {
  it("should move to the given time and return it", () => {
    const clock = new VirtualClock();

    const t = clock.advanceTo(42);

    expect(t).toBe(42);
    expect(clock.now()).toBe(42);
  });

  it("should accept the current time as a no-op", () => {
    const clock = new VirtualClock(10);

    clock.advanceTo(10);

    expect(clock.now()).toBe(10);
  });

  it("should throw RangeError when moving backwards and keep the time", () => {
    const clock = new VirtualClock(10);

    expect(() => clock.advanceTo(9)).toThrow(RangeError);
    expect(clock.now()).toBe(10);
  });

  it("should throw RangeError for a non-integer, negative or unsafe time", () => {
    const clock = new VirtualClock();

    expect(() => clock.advanceTo(1.5)).toThrow(RangeError);
    expect(() => clock.advanceTo(-1)).toThrow(RangeError);
    expect(() => clock.advanceTo(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advanceTo(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => clock.advanceTo(2 ** 53)).toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });
});

describe("VirtualClock.advanceBy", () => {
  it("should add the step and return the new time", () => {
    const clock = new VirtualClock(5);

    const t = clock.advanceBy(3 * MICROS_PER_MILLI);

    expect(t).toBe(3_005);
    expect(clock.now()).toBe(3_005);
  });

  it("should accept a zero step", () => {
    const clock = new VirtualClock(7);

    clock.advanceBy(0);

    expect(clock.now()).toBe(7);
  });

  it("should throw RangeError for a negative or non-integer step", () => {
    const clock = new VirtualClock(100);

    expect(() => clock.advanceBy(-1)).toThrow(RangeError);
    expect(() => clock.advanceBy(0.25)).toThrow(RangeError);
    expect(clock.now()).toBe(100);
  });

  it("should throw RangeError when the sum leaves the safe integer range", () => {
    const clock = new VirtualClock(Number.MAX_SAFE_INTEGER);

    expect(() => clock.advanceBy(1)).toThrow(RangeError);
    expect(clock.now()).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("VirtualClock.restore", () => {
  it("should set the time even backwards (snapshot restore)", () => {
    const clock = new VirtualClock();
    clock.advanceTo(5_000);

    clock.restore(1_000);

    expect(clock.now()).toBe(1_000);
    expect(clock.advanceBy(10)).toBe(1_010);
  });

  it("should throw RangeError for a negative or non-integer time", () => {
    const clock = new VirtualClock(100);

    expect(() => clock.restore(-1)).toThrow(RangeError);
    expect(() => clock.restore(0.5)).toThrow(RangeError);
    expect(clock.now()).toBe(100);
  });
});
