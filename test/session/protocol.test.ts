// The model server's framing and request validation: whole frames only, split anywhere; an
// oversize or non-JSON frame is an error; any JSON value is either a request or a clear error.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameReader, MAX_FRAME, parseRequest } from "../../src/session/protocol.ts";
import { testSeed } from "../_helpers/seed.ts";

describe("FrameReader", () => {
  it("should return a frame only once all its bytes have arrived", () => {
    const bytes = encodeFrame({ v: 1, op: "ping" });
    const r = new FrameReader();
    expect(r.push(bytes.subarray(0, 2))).toEqual({ frames: [] });
    expect(r.push(bytes.subarray(2, 7))).toEqual({ frames: [] });
    expect(r.push(bytes.subarray(7))).toEqual({ frames: [{ v: 1, op: "ping" }] });
    expect(r.pending).toBe(0);
  });

  it("should return two frames that arrive in one chunk, in order", () => {
    const r = new FrameReader();
    const both = Buffer.concat([encodeFrame([1]), encodeFrame([2])]);
    expect(r.push(both)).toEqual({ frames: [[1], [2]] });
  });

  it("should refuse a length above the limit before reading the body", () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME + 1, 0);
    const r = new FrameReader().push(head);
    expect(r).toEqual({
      error: `frame of ${MAX_FRAME + 1} bytes announced: the limit is ${MAX_FRAME}`,
    });
  });

  it("should refuse a body that is not JSON or not UTF-8", () => {
    const frame = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    expect(new FrameReader().push(frame(Buffer.from("{nope")))).toMatchObject({
      error: expect.stringMatching(/^frame is not UTF-8 JSON: /),
    });
    expect(new FrameReader().push(frame(Buffer.from([0x22, 0xff, 0x22])))).toMatchObject({
      error: expect.stringMatching(/^frame is not UTF-8 JSON: /),
    });
  });

  it("should refuse to encode a frame above the limit", () => {
    expect(() => encodeFrame("x".repeat(MAX_FRAME))).toThrow(RangeError);
  });

  test.prop([fc.array(fc.jsonValue(), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 })], {
    seed: testSeed(),
  })(`should reassemble any frames split at any points (seed ${testSeed()})`, (values, cuts) => {
    const bytes = Buffer.concat(values.map((v) => encodeFrame(v)));
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const r = new FrameReader();
    const got: unknown[] = [];
    let from = 0;
    for (const p of [...points, bytes.length]) {
      const res = r.push(bytes.subarray(from, p));
      if ("error" in res) throw new Error(res.error);
      got.push(...res.frames);
      from = p;
    }
    expect(got).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
  });
});

describe("parseRequest", () => {
  it("should accept the three ops", () => {
    expect(parseRequest({ v: 1, op: "ping" })).toEqual({ v: 1, op: "ping" });
    expect(parseRequest({ v: 1, op: "hv", argv: ["settle"] })).toEqual({
      v: 1,
      op: "hv",
      argv: ["settle"],
    });
    expect(parseRequest({ v: 1, op: "ip", argv: ["link"], cwd: "/", stdin: "" })).toEqual({
      v: 1,
      op: "ip",
      argv: ["link"],
      cwd: "/",
      stdin: "",
    });
  });

  it("should say what is wrong with a bad request", () => {
    expect(parseRequest([])).toEqual({ error: "request is not a JSON object" });
    expect(parseRequest({ op: "ip", argv: [] })).toEqual({
      error: "request has protocol version undefined, expected 1",
    });
    expect(parseRequest({ v: 1, op: "rm", argv: [] })).toEqual({
      error: 'request has unknown op "rm" (known: ip, hv, ping)',
    });
    expect(parseRequest({ v: 1, op: "ip", argv: [1] })).toEqual({
      error: "request argv is not a list of strings",
    });
    expect(parseRequest({ v: 1, op: "ip", argv: ["a\0b"] })).toEqual({
      error: "request argv holds a NUL byte, which no command line can",
    });
    expect(parseRequest({ v: 1, op: "hv", argv: [], cwd: "/" })).toEqual({
      error: 'request has unknown field "cwd"',
    });
    expect(parseRequest({ v: 1, op: "ip", argv: [], stdin: 3 })).toEqual({
      error: "request stdin is not a string",
    });
  });

  test.prop([fc.jsonValue()], { seed: testSeed() })(
    `should turn any JSON value into a request or an error, never throw (seed ${testSeed()})`,
    (v) => {
      const r = parseRequest(v);
      expect("error" in r ? typeof r.error : r.v).toBe("error" in r ? "string" : 1);
    },
  );
});
