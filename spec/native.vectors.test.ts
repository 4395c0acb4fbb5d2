/**
 * The shared msgpack vectors (spec/vectors/msgpack.txt), TypeScript side: the codec writes
 * every `field` and `request` line byte for byte, and `parseReply` decodes or refuses every
 * `reply` line. The C client checks the same file (spec/native.client.test.ts).
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { decode, encode } from "../src/protocol/codec.js";
import { frame } from "../src/protocol/frame.js";
import { callByName, type CallName } from "../src/protocol/index.js";
import { parseReply, requestMessage } from "../src/protocol/messages.js";
import { FieldError } from "../src/protocol/validate.js";
import type { FieldType } from "../src/protocol/schema.js";
import { ROOT } from "./helpers/daemon.js";

const VECTORS = path.join(ROOT, "spec/vectors/msgpack.txt");

type V = bigint | string | boolean | Buffer | V[];

/** The vector grammar's VALUE: integers as bigint (exact), "JSON strings", true/false, h"hex", [a, …]. */
function parseValue(s: string, i = 0): [V, number] {
  while (s[i] === " ") i++;
  if (s[i] === '"') {
    let j = i + 1;
    while (s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
    return [JSON.parse(s.slice(i, j + 1)) as string, j + 1];
  }
  if (s.startsWith('h"', i)) {
    const j = s.indexOf('"', i + 2);
    return [Buffer.from(s.slice(i + 2, j), "hex"), j + 1];
  }
  if (s.startsWith("true", i)) return [true, i + 4];
  if (s.startsWith("false", i)) return [false, i + 5];
  if (s[i] === "[") {
    const items: V[] = [];
    i++;
    for (;;) {
      while (s[i] === " " || s[i] === ",") i++;
      if (s[i] === "]") return [items, i + 1];
      const [v, j] = parseValue(s, i);
      items.push(v);
      i = j;
    }
  }
  const m = /^-?\d+/.exec(s.slice(i));
  if (!m) throw new Error(`bad value at ${s.slice(i)}`);
  return [BigInt(m[0]), i + m[0].length];
}

/** A value as the TypeScript client holds a field of this type. */
function asField(type: FieldType, v: V): unknown {
  switch (type) {
    case "i32":
    case "u32":
      return Number(v as bigint);
    case "i32s":
      return (v as bigint[]).map(Number);
    default:
      return v;
  }
}

const unhex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex").replace(/(..)(?!$)/g, "$1 ");

interface Vector {
  readonly line: number;
  readonly kind: string;
  readonly name: string;
  readonly lhs: string;
  readonly rhs: string;
}

function readVectors(): Vector[] {
  const out: Vector[] = [];
  fs.readFileSync(VECTORS, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (!text.trim() || text.startsWith("#")) return;
      const [left, rhs] = text.split(" => ") as [string, string];
      const m = /^(\S+) (\S+) ?(.*)$/.exec(left)!;
      out.push({ line: i + 1, kind: m[1]!, name: m[2]!, lhs: m[3]!, rhs: rhs.trim() });
    });
  return out;
}

describe("shared msgpack vectors, TypeScript side", () => {
  const vectors = readVectors();

  it("the file has every kind of vector", () => {
    for (const k of ["field", "request", "reply", "reply-bad"]) expect(vectors.some((v) => v.kind === k)).toBe(true);
  });

  it("each field is written byte for byte", () => {
    for (const v of vectors.filter((x) => x.kind === "field")) {
      const [value] = parseValue(v.lhs);
      expect(hex(encode(asField(v.name as FieldType, value))), `line ${v.line}`).toBe(hex(unhex(v.rhs)));
    }
  });

  it("each request frame is written byte for byte", () => {
    for (const v of vectors.filter((x) => x.kind === "request")) {
      const call = callByName(v.name as CallName);
      const [seq, i] = parseValue(v.lhs);
      const [args] = parseValue(v.lhs, i);
      const named: Record<string, unknown> = {};
      call.argNames.forEach((n, k) => (named[n] = asField(call.args[n]!, (args as V[])[k]!)));
      expect(hex(frame(requestMessage(Number(seq), call, named))), `line ${v.line}`).toBe(hex(unhex(v.rhs)));
    }
  });

  it("each reply decodes to its values, whatever integer format carries them", () => {
    for (const v of vectors.filter((x) => x.kind === "reply")) {
      const call = callByName(v.name as CallName);
      const r = parseReply(decode(unhex(v.lhs)) as unknown[], call);
      expect(r, `line ${v.line}`).not.toBeInstanceOf(FieldError);
      if (r instanceof FieldError) continue;
      const [result, i] = parseValue(v.rhs);
      const [outs] = parseValue(v.rhs, i);
      expect(BigInt(r.result), `line ${v.line}`).toBe(result);
      if (r.result >= 0) expect(call.outNames.map((n, k) => r.out[n] === asField(call.out[n]!, (outs as V[])[k]!)), `line ${v.line}`).not.toContain(false);
    }
  });

  it("each bad reply is refused, naming what is wrong", () => {
    for (const v of vectors.filter((x) => x.kind === "reply-bad")) {
      const call = callByName(v.name as CallName);
      let r: unknown;
      try {
        r = parseReply(decode(unhex(v.lhs)) as unknown[], call);
      } catch (e) {
        r = new FieldError((e as Error).message);
      }
      expect(r, `line ${v.line}`).toBeInstanceOf(FieldError);
      if (v.rhs !== "out") expect((r as FieldError).message, `line ${v.line}`).toContain(v.rhs);
    }
  });
});
