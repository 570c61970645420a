import { describe, expect, it } from "vitest";
import { Trace } from "../../src/sim/trace.ts";

describe("Trace.truncate", () => {
  it("should drop the events after the cursor and reuse their sequence numbers", () => {
    let now = 0;
    const trace = new Trace<{ type: string }>(() => now);
    trace.emit({ type: "a" });
    const cursor = trace.length;
    now = 5;
    trace.emit({ type: "b" });
    trace.emit({ type: "c" });

    trace.truncate(cursor);
    trace.emit({ type: "d" });

    expect(trace.events.map((e) => e.type)).toEqual(["a", "d"]);
    expect(trace.events[1]?.seq).toBe(1);
  });

  it("should accept the current length as a no-op and 0 as empty", () => {
    const trace = new Trace<{ type: string }>(() => 0);
    trace.emit({ type: "a" });

    trace.truncate(1);
    expect(trace.length).toBe(1);
    trace.truncate(0);
    expect(trace.length).toBe(0);
  });

  it("should throw RangeError past the current length or for a bad length", () => {
    const trace = new Trace<{ type: string }>(() => 0);
    trace.emit({ type: "a" });

    expect(() => trace.truncate(2)).toThrow(RangeError);
    expect(() => trace.truncate(-1)).toThrow(RangeError);
    expect(() => trace.truncate(0.5)).toThrow(RangeError);
    expect(trace.length).toBe(1);
  });
});
