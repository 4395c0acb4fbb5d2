/** Checks and normalises one field against its schema type; a bad field names itself. */
import type { FieldType } from "./schema.js";
import { WireFloat } from "./codec.js";

/** The integer ranges' bounds, made once rather than a BigInt shift per field checked. */
const I64_MIN = -(1n << 63n);
const I64_END = 1n << 63n;
const U64_END = 1n << 64n;

/**
 * The value of a field of type `type` (an integer that fits an i64 or u64 as a bigint), or a
 * FieldError naming it `where.field` (the name is put together only for the error: a request's
 * every field passes here).
 */
export function checkField(type: FieldType, v: unknown, where: string, field?: string): unknown {
  switch (type) {
    case "i32":
      if (typeof v === "number" && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return v;
      break;
    case "u32":
      if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
      break;
    case "i64":
      if (typeof v === "bigint" && v >= I64_MIN && v < I64_END) return v;
      if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
      break;
    case "u64":
      if (typeof v === "bigint" && v >= 0n && v < U64_END) return v;
      if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
      break;
    case "bool":
      if (typeof v === "boolean") return v;
      break;
    case "str":
      if (typeof v === "string") return v;
      break;
    case "bytes":
      if (v instanceof Uint8Array) return v;
      break;
    case "strs":
      if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
      break;
    case "i32s":
      if (Array.isArray(v) && v.every((s) => typeof s === "number" && Number.isInteger(s) && s >= -0x80000000 && s <= 0x7fffffff)) return v;
      break;
    case "any":
      return v;
  }
  return new FieldError(`${field === undefined ? where : `${where}.${field}`}: expected ${type}, got ${describe(v)}`);
}

export class FieldError {
  constructor(readonly message: string) {}
}

export function describe(v: unknown): string {
  if (v === null) return "nil";
  if (v instanceof WireFloat) return `float ${v.value} (integers travel as msgpack integers, never floats)`;
  if (Array.isArray(v)) return `array of ${v.length}`;
  if (v instanceof Uint8Array) return `bin of ${v.length} bytes`;
  if (typeof v === "number") return Number.isInteger(v) ? `integer ${v}` : `float ${v}`;
  if (typeof v === "bigint") return `integer ${v}`;
  if (typeof v === "string") return `string of ${v.length}`;
  return typeof v;
}
