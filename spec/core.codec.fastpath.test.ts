/**
 * The codec's fast paths (codec.ts encodeFrame / decode) against msgpack-lite itself: the
 * same bytes out and the same values in, on random messages, on every integer format
 * boundary, and on malformed input (which must still throw as before). The framing reader
 * hands out the same frames however the stream is cut.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decode, decodeLite, encode, encodeFrame } from "../src/protocol/codec.js";
import { FrameError, FrameReader, frame } from "../src/protocol/frame.js";

/** What msgpack-lite alone makes of a value (the codec's path before the fast one), as a frame. */
function slowFrame(v: unknown): Buffer {
  const body = encode(v);
  const f = Buffer.alloc(4 + body.length);
  f.writeUInt32BE(body.length, 0);
  body.copy(f, 4);
  return f;
}

const slowDecode = decodeLite;

const boundaries = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0];

const bigBoundaries = [0n, 1n, -1n, 0xffffffffn, 0x100000000n, -0x80000000n, -0x80000001n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, -(1n << 63n)];

const scalar = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0xffffffff }),
  fc.constantFrom(...boundaries),
  // 64-bit values: bigints over the whole u64 and i64 range, and safe integers beyond 32 bits.
  fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
  fc.constantFrom(...bigBoundaries),
  fc.maxSafeInteger(),
  fc.constantFrom(2 ** 32, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.constantFrom(null, true, false),
);
const message = fc.array(fc.oneof(scalar, fc.array(scalar, { maxLength: 20 })), { maxLength: 20 });

describe("codec fast path: the bytes msgpack-lite writes", () => {
  it("encodes random messages to exactly msgpack-lite's bytes", () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(encodeFrame(m).toString("hex")).toBe(slowFrame(m).toString("hex"));
      }),
      { numRuns: 2000 },
    );
  });

  it("takes msgpack-lite's path for what it does not handle (floats, integers beyond 64 bits or unsafe, maps, binary, big strings) with the same bytes", () => {
    for (const v of [[2 ** 32], [-(2 ** 31) - 1], [1n << 63n], [-5n], [1n << 64n], [-(1n << 63n) - 1n], [2 ** 60], [-(2 ** 60)], [1.5], [{ a: 1 }], [Buffer.from([1, 2])], ["x".repeat(70000)], [undefined], Array(70000).fill(1)]) {
      expect(encodeFrame(v).equals(slowFrame(v))).toBe(true);
    }
  });

  it("frame() is encodeFrame()", () => {
    expect(frame([1, 7, -3, "a"]).toString("hex")).toBe(slowFrame([1, 7, -3, "a"]).toString("hex"));
  });
});

describe("codec fast path: the values msgpack-lite reads", () => {
  it("decodes random messages to the values msgpack-lite gives", () => {
    fc.assert(
      fc.property(message, (m) => {
        const body = encode(m);
        expect(decode(body)).toStrictEqual(slowDecode(body));
      }),
      { numRuns: 2000 },
    );
  });

  it("still refuses trailing bytes and truncated values, with msgpack-lite's path's messages", () => {
    const body = encode([0, 1, 11]);
    expect(() => decode(Buffer.concat([body, Buffer.from([0])]))).toThrow(/1 bytes after the msgpack value/);
    expect(() => decode(body.subarray(0, 2))).toThrow(/truncated/);
    expect(() => decode(Buffer.from("92a5ab", "hex"))).toThrow(/truncated/);
    expect(() => decode(Buffer.from("c1", "hex"))).toThrow();
  });

  it("any byte string decodes as it does through msgpack-lite alone, or throws as it does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const b = Buffer.from(bytes);
        let slow: { v: unknown } | { err: true };
        try {
          slow = { v: decodeLite(b) };
        } catch {
          slow = { err: true };
        }
        if ("err" in slow) expect(() => decode(b)).toThrow();
        else expect(decode(b)).toStrictEqual(slow.v);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("framing: the same frames however the stream is cut", () => {
  it("gathers frames split across chunks and hands out those that arrive whole", () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs.map((m) => frame(m)));
        const r = new FrameReader();
        const got: unknown[] = [];
        let off = 0;
        for (let i = 0; off < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          r.push(stream.subarray(off, off + n), (body) => got.push(decode(Buffer.from(body))));
          off += n;
        }
        expect(got).toStrictEqual(msgs.map((m) => decode(encode(m))));
        expect(r.buffered).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses an oversized length as soon as the length is there, even in pieces", () => {
    const r = new FrameReader(100);
    r.push(Buffer.from([0, 0]), () => {});
    expect(() => r.push(Buffer.from([1, 0, 9]), () => {})).toThrow(FrameError);
    expect(r.buffered).toBe(0);
  });
});
