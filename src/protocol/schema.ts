/**
 * The schema language. Every call is defined once, in `src/protocol/calls/<family>.ts`,
 * the way wineserver's protocol.def defines every request: its number, name, typed
 * arguments, typed extra results, and whether it may block. From these definitions come
 * the TypeScript types, the request decoder, the dispatch table's shape, the trace
 * printer, the C header and the protocol version hash.
 *
 * Field order is wire order: arguments and extra results travel positionally.
 */

/** Wire types. Integers travel as msgpack integers, never floats. */
export type FieldType =
  | "i32" // signed 32-bit
  | "u32" // unsigned 32-bit
  | "i64" // signed 64-bit, a bigint in TypeScript
  | "u64" // unsigned 64-bit, a bigint in TypeScript
  | "bool"
  | "str" // UTF-8 string
  | "bytes" // binary
  | "strs" // array of strings
  | "i32s" // array of i32
  | "any"; // a msgpack value described by the call's doc (control calls only)

export type TsOf<T extends FieldType> = T extends "i32" | "u32"
  ? number
  : T extends "i64" | "u64"
    ? bigint
    : T extends "bool"
      ? boolean
      : T extends "str"
        ? string
        : T extends "bytes"
          ? Uint8Array
          : T extends "strs"
            ? string[]
            : T extends "i32s"
              ? number[]
              : unknown;

export type Fields = Readonly<Record<string, FieldType>>;

/** Who may make a call: a registered guest thread, a connection before registering, or a control client. */
export type Role = "guest" | "unbound" | "control" | "any";

export interface CallDef {
  readonly nr: number;
  readonly args: Fields;
  /** Extra results after the signed 64-bit result, sent only when the result is >= 0. */
  readonly out: Fields;
  /** May park in the daemon; then it can be interrupted. */
  readonly blocks: boolean;
  /** Which connections may make the call. */
  readonly role: Role;
  /** One line: what the call does, in Linux's terms where it has one. */
  readonly doc: string;
}

export type Family = Readonly<Record<string, CallDef>>;

export type FieldsTs<F extends Fields> = { -readonly [K in keyof F]: TsOf<F[K]> };

/** Declares a family of calls; the identity function, there for the types. */
export function family<const F extends Family>(defs: F): F {
  return defs;
}

/** The number ranges each family owns, so that families never collide. */
export const ranges = {
  session: [0, 9],
  process: [10, 49],
  wait: [50, 69],
  signal: [70, 99],
  group: [100, 119],
  eventfd: [120, 159],
  procfs: [160, 189],
  ptrace: [190, 209],
  control: [1000, 1099],
} as const;
