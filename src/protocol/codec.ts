/**
 * The one module that touches msgpack. msgpack-lite encodes a number beyond 32 bits as a
 * float64 and throws on a BigInt, so 64-bit values go out as int64-buffer's Int64BE /
 * Uint64BE and come back through a codec with `int64: true`; on the way in they become
 * bigint (or number when they fit in 32 bits). No integer ever travels as a float.
 */
import msgpack from "msgpack-lite";
import { Int64BE, Uint64BE } from "int64-buffer";

const codec = msgpack.createCodec({ int64: true, binarraybuffer: false, preset: false });
const encodeOpts = { codec };
const decodeOpts = { codec };

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
  if (v instanceof Uint8Array) return v;
  for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = back((v as Record<string, unknown>)[k]);
  return v;
}

export function encode(value: unknown): Buffer {
  return msgpack.encode(out(value), encodeOpts);
}

/** Decodes one msgpack value; throws on malformed bytes or trailing garbage. */
export function decode(bytes: Uint8Array): unknown {
  return back(msgpack.decode(bytes as Buffer, decodeOpts));
}
