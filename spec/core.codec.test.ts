/** The codec and the framing, byte by byte: exact 64-bit integers, no float, one value per frame. */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { decode, encode, WireFloat } from "../src/protocol/codec.js";
import { FrameError, FrameReader, frame } from "../src/protocol/frame.js";
import { checkField } from "../src/protocol/validate.js";
import { parseIncoming } from "../src/protocol/messages.js";
import { regenerate } from "../src/protocol/doctable.js";
import { ROOT } from "./helpers/daemon.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("codec: 64-bit integers travel exactly, as msgpack integers", () => {
  it("0xfffffffffffffffe is uint64 (cf) and comes back as the same bigint", () => {
    const v = 0xfffffffffffffffen;
    expect(hex(encode(v))).toBe("cffffffffffffffffe");
    expect(decode(encode(v))).toBe(v);
    expect(decode(Buffer.from("cfffffffffffffffff", "hex"))).toBe(0xffffffffffffffffn);
  });

  it("negative 64-bit values are int64 (d3), two's complement, exact", () => {
    expect(hex(encode(-(1n << 63n)))).toBe("d38000000000000000");
    expect(hex(encode(-(1n << 40n)))).toBe("d3ffffff0000000000");
    expect(hex(encode(-0x80000001))).toBe("d3ffffffff7fffffff");
    expect(decode(Buffer.from("d38000000000000000", "hex"))).toBe(-(1n << 63n));
    // -2^53 - 1 is not a double: it must survive the round trip
    const odd = -(1n << 53n) - 1n;
    expect(decode(encode(odd))).toBe(odd);
  });

  it("no integer is ever encoded as a float: numbers beyond 32 bits take the 64-bit formats", () => {
    for (const v of [2 ** 32, 2 ** 40, 2 ** 53, -(2 ** 31) - 1, -(2 ** 53)]) {
      const b = encode(v);
      expect([0xcf, 0xd3]).toContain(b[0]);
      expect([0xca, 0xcb]).not.toContain(b[0]);
    }
    // Small values use the smallest integer format.
    expect(hex(encode(0))).toBe("00");
    expect(hex(encode(-5))).toBe("fb");
    expect(hex(encode(-512))).toBe("d1fe00");
    expect(hex(encode(0xffffffff))).toBe("ceffffffff");
    // Nested values too.
    expect(hex(encode([1, [0xfffffffffffffffen]]))).toBe("920191cffffffffffffffffe");
  });

  it("a float on the wire stays a float: an integer field rejects it by name", () => {
    const f = decode(Buffer.from("cb3ff0000000000000", "hex")); // float64 1.0
    expect(f).toBeInstanceOf(WireFloat);
    const e = checkField("i32", f, "wait4.pid");
    expect(e).toHaveProperty("message");
    expect((e as { message: string }).message).toMatch(/^wait4\.pid: expected i32, got float 1/);
    expect(checkField("u64", decode(Buffer.from("ca3f800000", "hex")), "x.v")).toHaveProperty("message");
  });

  it("i64 and u64 fields accept every integer width and check the range", () => {
    expect(checkField("u64", decode(Buffer.from("cffffffffffffffffe", "hex")), "f")).toBe(0xfffffffffffffffen);
    expect(checkField("u64", 7, "f")).toBe(7n);
    expect(checkField("u64", -1, "f")).toHaveProperty("message");
    expect(checkField("i64", decode(Buffer.from("cfffffffffffffffff", "hex")), "f")).toHaveProperty("message");
    expect(checkField("i32", 0x80000000, "f")).toHaveProperty("message");
  });

  it("exactly one value per body: trailing bytes and truncated values are errors", () => {
    expect(() => decode(Buffer.from("910100", "hex"))).toThrow(/1 bytes after/);
    expect(() => decode(Buffer.from("9201", "hex"))).toThrow(/truncated/);
    expect(() => decode(Buffer.from("c1", "hex"))).toThrow();
  });
});

describe("framing", () => {
  it("a frame is a 4-byte big-endian length and the body", () => {
    expect(hex(frame([1, 7, -10]))).toBe("00000004930107f6");
  });

  it("reassembles frames split at every byte and several in one chunk", () => {
    const bytes = Buffer.concat([frame([0, 1, 10]), frame([0, 2, 0xfffffffffffffffen]), frame("x")]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got: unknown[] = [];
      const r = new FrameReader(1024);
      r.push(bytes.subarray(0, cut), (b) => got.push(decode(b)));
      r.push(bytes.subarray(cut), (b) => got.push(decode(b)));
      expect(got).toEqual([[0, 1, 10], [0, 2, 0xfffffffffffffffen], "x"]);
      expect(r.buffered).toBe(0);
    }
  });

  it("a length of 0 or over the limit is refused before the body arrives", () => {
    expect(() => new FrameReader(16).push(Buffer.from("00000011", "hex"), () => {})).toThrow(FrameError);
    expect(() => new FrameReader(16).push(Buffer.from("00000000", "hex"), () => {})).toThrow(/empty frame/);
  });
});

describe("message parsing names the bad field", () => {
  it("wrong type, wrong count, unknown call, bad seq", () => {
    const bad = (m: unknown) => parseIncoming(m);
    expect(bad([0, 1, 50, "x", 0])).toMatchObject({ kind: "bad-request", error: { code: 22, detail: "wait4.pid: expected i32, got string of 1" } });
    expect(bad([0, 1, 50, 1])).toMatchObject({ kind: "bad-request", error: { code: 22 } });
    expect(bad([0, 1, 999])).toMatchObject({ kind: "bad-request", error: { code: 38 } });
    expect(bad([0, -1, 10])).toMatchObject({ kind: "fatal" });
    expect(bad([2, 1, 5])).toMatchObject({ kind: "fatal" });
    expect(bad({})).toMatchObject({ kind: "fatal" });
  });
});

describe("spec/protocol.md", () => {
  it("its call table and hello example are what the schema generates (regenerate: npm run protocol-doc)", () => {
    const doc = fs.readFileSync(path.join(ROOT, "spec/protocol.md"), "utf8");
    expect(regenerate(doc), "spec/protocol.md disagrees with the schema: run `npm run protocol-doc`").toBe(doc);
  });
});
