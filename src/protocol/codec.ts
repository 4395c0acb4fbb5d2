/**
 * The one module that touches msgpack. msgpack-lite encodes a number beyond 32 bits as a
 * float64 and throws on a BigInt, so 64-bit values go out as int64-buffer's Int64BE /
 * Uint64BE and come back through a codec with `int64: true`; on the way in they become
 * bigint (or number when they fit in 32 bits). No integer ever travels as a float.
 */
import msgpack from "msgpack-lite";
import { createRequire } from "node:module";
import type * as Int64Buffer from "int64-buffer";

// int64-buffer ships an ESM build and a CommonJS build with distinct classes, and
// msgpack-lite (CommonJS) makes the CommonJS ones: take ours from the same build, or
// `instanceof` would never match and 64-bit values would come back as opaque objects.
const require = createRequire(import.meta.url);
const { Int64BE, Uint64BE } = require("int64-buffer") as typeof Int64Buffer;

const codec = msgpack.createCodec({ int64: true, binarraybuffer: false, preset: false });
const encodeOpts = { codec };

/**
 * A msgpack float (0xca, 0xcb) as decoded: integers must travel as msgpack integers, so a
 * float is kept apart from them and an integer field rejects it by name (validate.ts).
 */
export class WireFloat {
  constructor(readonly value: number) {}
}

// msgpack-lite reads every value, nested ones too, through `codec.decode(decoder)`: wrap it
// so that the two float formats come back as WireFloat. One byte compare per value.
{
  const c = codec as unknown as { decode: (d: { buffer: Uint8Array; offset: number }) => unknown };
  const inner = c.decode;
  c.decode = (d) => {
    const t = d.buffer[d.offset];
    return t === 0xca || t === 0xcb ? new WireFloat(inner(d) as number) : inner(d);
  };
}

interface DecodeBuffer {
  buffer: Uint8Array;
  offset: number;
  write(chunk: Uint8Array): void;
  read(): unknown;
}
const { DecodeBuffer } = require("msgpack-lite/lib/decode-buffer.js") as {
  DecodeBuffer: new (opts: { codec: unknown }) => DecodeBuffer;
};

const I32_MIN = -0x80000000;
const U32_MAX = 0xffffffff;

function out(v: unknown): unknown {
  switch (typeof v) {
    case "bigint":
      return v < 0n ? new Int64BE(v.toString(10), 10) : new Uint64BE(v.toString(10), 10);
    case "number":
      if (Number.isInteger(v) && (v < I32_MIN || v > U32_MAX)) return v < 0 ? new Int64BE(v) : new Uint64BE(v);
      return v;
    case "object":
      if (Array.isArray(v)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          const y = typeof x === "object" || typeof x === "bigint" || (typeof x === "number" && (x < I32_MIN || x > U32_MAX)) ? out(x) : x;
          if (y !== x) (copy ??= v.slice())[i] = y;
        }
        return copy ?? v;
      }
      if (v === null || v instanceof Uint8Array) return v;
      {
        const o: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v as object)) if (x !== undefined) o[k] = out(x);
        return o;
      }
    default:
      return v;
  }
}

function isInt64(v: object): boolean {
  return v instanceof Int64BE || v instanceof Uint64BE;
}

function back(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "object" && x !== null) v[i] = back(x);
    }
    return v;
  }
  if (isInt64(v)) {
    const b = BigInt((v as InstanceType<typeof Int64BE>).toString(10));
    return b >= -0x80000000n && b <= 0xffffffffn ? Number(b) : b;
  }
  if (v instanceof Uint8Array || v instanceof WireFloat) return v;
  for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = back((v as Record<string, unknown>)[k]);
  return v;
}

export function encode(value: unknown): Buffer {
  return msgpack.encode(out(value), encodeOpts);
}

/** Decodes exactly one msgpack value; throws on malformed bytes, a truncated value or trailing bytes. */
export function decode(bytes: Uint8Array): unknown {
  const d = new DecodeBuffer({ codec });
  d.write(bytes);
  let v: unknown;
  try {
    v = d.read();
  } catch (e) {
    throw new Error((e as Error).message === "BUFFER_SHORTAGE" ? "truncated msgpack value" : (e as Error).message);
  }
  if (d.offset !== bytes.length) throw new Error(`${bytes.length - d.offset} bytes after the msgpack value`);
  return back(v);
}
