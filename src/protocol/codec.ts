/**
 * The one module that touches msgpack. msgpack-lite encodes a number beyond 32 bits as a
 * float64 and throws on a BigInt, so 64-bit values go out as int64-buffer's Int64BE /
 * Uint64BE and come back through a codec with `int64: true`; on the way in they become
 * bigint (or number when they fit in 32 bits). No integer ever travels as a float.
 */
import { createRequire } from "node:module";
import type Msgpack from "msgpack-lite";
import type * as Int64Buffer from "int64-buffer";

interface DecodeBuffer {
  buffer: Uint8Array;
  offset: number;
  write(chunk: Uint8Array): void;
  read(): unknown;
}

// int64-buffer ships an ESM build and a CommonJS build with distinct classes, and
// msgpack-lite (CommonJS) makes the CommonJS ones: take ours from the same build, or
// `instanceof` would never match and 64-bit values would come back as opaque objects.
// The command's bundle (package.json "bundle") keeps both packages external for the same
// reason: a bundled copy of either would be a third set of classes.
const require = createRequire(import.meta.url);

// msgpack-lite's path, loaded at the first value the fast paths below leave to it (often
// never in a `blinkd run`): its ~40 CommonJS modules are ~35 ms of every command's start-up
// (bench/README.md, eleventh round, 20e).
let msgpack: typeof Msgpack | undefined;
let Int64BE: typeof Int64Buffer.Int64BE;
let Uint64BE: typeof Int64Buffer.Uint64BE;
let codec: Msgpack.Codec;
let encodeOpts: Msgpack.EncoderOptions;
let DecodeBufferClass: new (opts: { codec: unknown }) => DecodeBuffer;

function loadLite(): typeof Msgpack {
  if (msgpack !== undefined) return msgpack;
  const lib = require("msgpack-lite") as typeof Msgpack;
  ({ Int64BE, Uint64BE } = require("int64-buffer") as typeof Int64Buffer);
  codec = lib.createCodec({ int64: true, binarraybuffer: false, preset: false });
  encodeOpts = { codec };
  // msgpack-lite reads every value, nested ones too, through `codec.decode(decoder)`: wrap it
  // so that the two float formats come back as WireFloat. One byte compare per value.
  const c = codec as unknown as { decode: (d: { buffer: Uint8Array; offset: number }) => unknown };
  const inner = c.decode;
  c.decode = (d) => {
    const t = d.buffer[d.offset];
    return t === 0xca || t === 0xcb ? new WireFloat(inner(d) as number) : inner(d);
  };
  ({ DecodeBuffer: DecodeBufferClass } = require("msgpack-lite/lib/decode-buffer.js") as { DecodeBuffer: typeof DecodeBufferClass });
  return (msgpack = lib);
}

/**
 * A msgpack float (0xca, 0xcb) as decoded: integers must travel as msgpack integers, so a
 * float is kept apart from them and an integer field rejects it by name (validate.ts).
 */
export class WireFloat {
  constructor(readonly value: number) {}
}

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
  return loadLite().encode(out(value), encodeOpts);
}

/*
 * The fast paths. Nearly every message is a short array of small integers and strings
 * ([1, seq, result] is a no-op call's whole reply). For those, encoding and decoding here
 * take a fraction of msgpack-lite's time, which allocates a zeroed 2 KiB buffer per encode
 * and a DecodeBuffer per decode (bench/README.md has the profile). They produce exactly the
 * bytes and values msgpack-lite does (spec/core.codec.fastpath.test.ts checks this against
 * it on random values); anything else (bigint, 64-bit or float numbers, maps, binary, a
 * malformed or truncated value, trailing bytes) takes the msgpack-lite path.
 */

const SCRATCH_SIZE = 4096;
const scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
const BAIL = -1;

/** Writes v at `o` in msgpack-lite's choice of format; returns the new offset, or BAIL. */
function put(v: unknown, o: number): number {
  switch (typeof v) {
    case "number": {
      const i = v | 0;
      if (v !== i) {
        // uint 32 above the int32 range, as msgpack-lite encodes it; anything else is a float or 64-bit
        if (v >= 0 && v <= U32_MAX && Math.floor(v) === v) {
          if (o + 5 > SCRATCH_SIZE) return BAIL;
          scratch[o] = 0xce;
          scratch.writeUInt32BE(v, o + 1);
          return o + 5;
        }
        // A safe integer beyond 32 bits: msgpack-lite writes it as int64-buffer's 64-bit value (out()).
        if (Number.isSafeInteger(v)) return put64(BigInt(v), v < 0, o);
        return BAIL;
      }
      if (o + 5 > SCRATCH_SIZE) return BAIL;
      if (i >= -0x20 && i <= 0x7f) {
        scratch[o] = i & 0xff;
        return o + 1;
      }
      if (i >= 0) {
        if (i <= 0xff) return (scratch[o] = 0xcc), (scratch[o + 1] = i), o + 2;
        if (i <= 0xffff) return (scratch[o] = 0xcd), scratch.writeUInt16BE(i, o + 1), o + 3;
        return (scratch[o] = 0xce), scratch.writeUInt32BE(i, o + 1), o + 5;
      }
      if (i >= -0x80) return (scratch[o] = 0xd0), scratch.writeInt8(i, o + 1), o + 2;
      if (i >= -0x8000) return (scratch[o] = 0xd1), scratch.writeInt16BE(i, o + 1), o + 3;
      return (scratch[o] = 0xd2), scratch.writeInt32BE(i, o + 1), o + 5;
    }
    case "string": {
      // Worst case 3 bytes per UTF-16 unit, as msgpack-lite reserves; the header by the byte length.
      if (o + 5 + v.length * 3 > SCRATCH_SIZE) return BAIL;
      // msgpack-lite's guess of the header from the UTF-16 length; the UTF-8 length is never shorter
      const head = v.length < 32 ? 1 : v.length <= 0xff ? 2 : 3;
      let n = scratch.write(v, o + head, "utf8");
      const need = n < 32 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
      if (need !== head) {
        if (need === 5) return BAIL;
        scratch.copy(scratch, o + need, o + head, o + head + n);
      }
      if (need === 1) scratch[o] = 0xa0 | n;
      else if (need === 2) (scratch[o] = 0xd9), (scratch[o + 1] = n);
      else (scratch[o] = 0xda), scratch.writeUInt16BE(n, o + 1);
      n += need;
      return o + n;
    }
    case "bigint":
      // out() makes every bigint an int64-buffer value: Uint64BE (0xcf) when >= 0, Int64BE (0xd3) below.
      return put64(v, v < 0n, o);
    case "boolean":
      if (o + 1 > SCRATCH_SIZE) return BAIL;
      scratch[o] = v ? 0xc3 : 0xc2;
      return o + 1;
    case "object": {
      if (v === null) {
        if (o + 1 > SCRATCH_SIZE) return BAIL;
        scratch[o] = 0xc0;
        return o + 1;
      }
      if (!Array.isArray(v) || v.length > 0xffff || o + 3 > SCRATCH_SIZE) return BAIL;
      if (v.length < 16) scratch[o++] = 0x90 | v.length;
      else (scratch[o] = 0xdc), scratch.writeUInt16BE(v.length, o + 1), (o += 3);
      for (let k = 0; k < v.length; k++) {
        o = put(v[k], o);
        if (o === BAIL) return BAIL;
      }
      return o;
    }
    default:
      return BAIL;
  }
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

/** uint 64 (0xcf) or int 64 (0xd3), as msgpack-lite writes Uint64BE / Int64BE; BAIL outside their range. */
function put64(v: bigint, signed: boolean, o: number): number {
  if (o + 9 > SCRATCH_SIZE || v > U64_MAX || v < I64_MIN) return BAIL;
  if (signed) {
    scratch[o] = 0xd3;
    scratch.writeBigInt64BE(v, o + 1);
  } else {
    scratch[o] = 0xcf;
    scratch.writeBigUInt64BE(v, o + 1);
  }
  return o + 9;
}

/**
 * One value as one frame: the 4-byte big-endian body length, then the msgpack body
 * (spec/protocol.md, "Framing"). The usual message is written straight into the frame.
 */
export function encodeFrame(value: unknown): Buffer {
  const end = put(value, 4);
  if (end !== BAIL) {
    const f = Buffer.allocUnsafe(end);
    scratch.copy(f, 0, 0, end);
    f.writeUInt32BE(end - 4, 0);
    return f;
  }
  const body = encode(value);
  const f = Buffer.allocUnsafe(4 + body.length);
  f.writeUInt32BE(body.length, 0);
  body.copy(f, 4);
  return f;
}

/** Reads the value at `o` of b; returns it with the new offset in `at`, or BAIL in `at`. */
const at = { o: 0 };
function get(b: Buffer, o: number): unknown {
  const end = b.length;
  if (o >= end) return (at.o = BAIL), undefined;
  const t = b[o]!;
  if (t < 0x80) return (at.o = o + 1), t;
  if (t >= 0xe0) return (at.o = o + 1), t - 0x100;
  if ((t & 0xe0) === 0xa0) return str(b, o + 1, t & 0x1f);
  if ((t & 0xf0) === 0x90) return arr(b, o + 1, t & 0x0f);
  switch (t) {
    case 0xc0:
      return (at.o = o + 1), null;
    case 0xc2:
      return (at.o = o + 1), false;
    case 0xc3:
      return (at.o = o + 1), true;
    case 0xcc:
      return o + 2 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 2), b[o + 1]);
    case 0xcd:
      return o + 3 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 3), b.readUInt16BE(o + 1));
    case 0xce:
      return o + 5 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 5), b.readUInt32BE(o + 1));
    case 0xd0:
      return o + 2 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 2), b.readInt8(o + 1));
    case 0xd1:
      return o + 3 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 3), b.readInt16BE(o + 1));
    case 0xd2:
      return o + 5 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 5), b.readInt32BE(o + 1));
    // 64-bit integers come back as bigint, or as a number when they fit in 32 bits (back()).
    case 0xcf:
      return o + 9 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 9), small(b.readBigUInt64BE(o + 1)));
    case 0xd3:
      return o + 9 > end ? ((at.o = BAIL), undefined) : ((at.o = o + 9), small(b.readBigInt64BE(o + 1)));
    case 0xd9:
      return o + 2 > end ? ((at.o = BAIL), undefined) : str(b, o + 2, b[o + 1]!);
    case 0xda:
      return o + 3 > end ? ((at.o = BAIL), undefined) : str(b, o + 3, b.readUInt16BE(o + 1));
    case 0xdc:
      return o + 3 > end ? ((at.o = BAIL), undefined) : arr(b, o + 3, b.readUInt16BE(o + 1));
    default:
      return (at.o = BAIL), undefined;
  }
}

function small(v: bigint): number | bigint {
  return v >= -0x80000000n && v <= 0xffffffffn ? Number(v) : v;
}

function str(b: Buffer, o: number, n: number): unknown {
  if (o + n > b.length) return (at.o = BAIL), undefined;
  at.o = o + n;
  // msgpack-lite decodes a str with Buffer's own utf-8 decoder: the same call here.
  return b.toString("utf-8", o, o + n);
}

function arr(b: Buffer, o: number, n: number): unknown {
  const a: unknown[] = new Array(n);
  for (let k = 0; k < n; k++) {
    a[k] = get(b, o);
    if (at.o === BAIL) return undefined;
    o = at.o;
  }
  at.o = o;
  return a;
}

/** Decodes exactly one msgpack value; throws on malformed bytes, a truncated value or trailing bytes. */
export function decode(bytes: Uint8Array): unknown {
  if (Buffer.isBuffer(bytes)) {
    const v = get(bytes, 0);
    if (at.o === bytes.length) return v;
  }
  return decodeLite(bytes);
}

/** msgpack-lite's path alone: what `decode` does for what its fast path leaves, and the reference the fast path is tested against. */
export function decodeLite(bytes: Uint8Array): unknown {
  loadLite();
  const d = new DecodeBufferClass({ codec });
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
