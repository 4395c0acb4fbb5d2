/**
 * What the fuzzer sends, as fast-check arbitraries generated from the protocol schema
 * (src/protocol/index.ts `table`): for every call, well-typed requests with random values,
 * and for every field of every call, requests whose one field has a wrong msgpack type;
 * wrong arities, unknown and ill-typed call numbers, interrupts for sequence numbers that
 * were never sent, parked calls, interrupts for them and requests reusing their numbers;
 * and the inputs that must close the connection: malformed msgpack, empty, oversized and
 * truncated frames, lengths that lie, trailing bytes, nesting too deep, messages of the
 * wrong shape. A spec is data; the engine turns it into bytes with its own sequence numbers.
 */
import fc from "fast-check";
import { PROTOCOL_VERSION, table, type CallEntry } from "../src/protocol/index.js";
import type { FieldType } from "../src/protocol/schema.js";

export type Prefix = "none" | "guest" | "control" | "registered" | "parent";

/** A frame the connection survives: it gets exactly one reply, or (interrupts) none. */
export type Step =
  | { t: "call"; call: string; args: unknown[] }
  | { t: "badField"; call: string; field: string; args: unknown[] }
  | { t: "arity"; call: string; args: unknown[] }
  | { t: "unknownNr"; nr: number }
  | { t: "badNr"; nr: unknown }
  | { t: "interruptUnknown"; delta: number }
  | { t: "park" }
  | { t: "interruptParked" }
  | { t: "reuseParked" };

/** The last frame of a batch, which may end the connection. */
export type Killer =
  | { t: "garbage"; bytes: Uint8Array }
  | { t: "empty" }
  | { t: "oversize"; extra: number }
  | { t: "badShape"; value: unknown; why: string }
  | { t: "trailing"; extra: Uint8Array }
  | { t: "deep"; depth: number }
  | { t: "truncate"; keep: number }
  | { t: "lieLong"; extra: number }
  | { t: "lieShort"; cut: number };

export interface Batch {
  readonly prefix: Prefix;
  readonly steps: Step[];
  readonly killer: Killer | null;
  /** How many pieces the batch's bytes are written in (1 = one write; more tests reassembly). */
  readonly pieces: number;
}

/** Host pids a fuzzed register or claim may name: the harness's own sacrificial process, or ones the daemon must refuse. */
export interface FuzzEnv {
  readonly hostpid: number;
}

const I32 = { min: -0x80000000, max: 0x7fffffff };
const small = fc.integer({ min: -3, max: 40 });

/** A value of the field's type (random, but biased to small numbers so calls sometimes succeed). */
function valueOf(type: FieldType, name: string, env: FuzzEnv): fc.Arbitrary<unknown> {
  if (name === "hostpid") return fc.constantFrom(env.hostpid, env.hostpid, 0, 1, -7);
  if (name === "version") return fc.oneof(fc.constant(PROTOCOL_VERSION), fc.string({ maxLength: 20 }));
  if (name === "role") return fc.constantFrom("guest", "control", "", "root", "guest\0");
  switch (type) {
    case "i32":
      return fc.oneof(small, fc.integer(I32));
    case "u32":
      return fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffffffff }));
    case "i64":
      return fc.oneof(fc.bigInt({ min: -3n, max: 40n }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }));
    case "u64":
      return fc.oneof(fc.bigInt({ min: 0n, max: 40n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
    case "bool":
      return fc.boolean();
    case "str":
      return fc.string({ maxLength: 40, unit: "binary" });
    case "bytes":
      return fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    case "strs":
      return fc.array(fc.string({ maxLength: 12, unit: "binary" }), { maxLength: 6 });
    case "i32s":
      return fc.array(fc.oneof(small, fc.integer(I32)), { maxLength: 6 });
    case "any":
      return fc.anything({ maxDepth: 2 });
  }
}

const notInt = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noInteger: true }),
  fc.string({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
  fc.array(small, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), small, { maxKeys: 2 }),
);

/**
 * A value the field's type must refuse (validate.ts's rules, restated: no value here may pass).
 * Not generated: a float64 holding an integer, which msgpack-lite decodes as that integer.
 */
function wrongOf(type: FieldType): fc.Arbitrary<unknown> {
  switch (type) {
    case "i32":
      return fc.oneof(notInt, fc.integer({ min: 0x80000000, max: 0xffffffff }), fc.bigInt({ min: 1n << 32n, max: (1n << 64n) - 1n }), fc.bigInt({ min: -(1n << 63n), max: -0x80000001n }));
    case "u32":
      return fc.oneof(notInt, fc.integer({ min: -0x80000000, max: -1 }), fc.bigInt({ min: 1n << 32n, max: (1n << 64n) - 1n }), fc.bigInt({ min: -(1n << 63n), max: -1n }));
    case "i64":
      return fc.oneof(notInt, fc.bigInt({ min: 1n << 63n, max: (1n << 64n) - 1n }));
    case "u64":
      return fc.oneof(notInt, fc.integer({ min: -0x80000000, max: -1 }), fc.bigInt({ min: -(1n << 63n), max: -1n }));
    case "bool":
      return fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 1 }), fc.string({ maxLength: 4 }), fc.double({ noInteger: true }));
    case "str":
      return fc.oneof(fc.constant(null), fc.boolean(), small, fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }));
    case "bytes":
      return fc.oneof(fc.constant(null), small, fc.string({ maxLength: 8 }), fc.array(small, { maxLength: 3 }));
    case "strs":
      return fc.oneof(
        fc.constant(null),
        fc.string({ maxLength: 8 }),
        small,
        fc.tuple(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }), fc.oneof(fc.constant(null), small, fc.boolean())).map(([a, x]) => [...a, x]),
      );
    case "i32s":
      return fc.oneof(
        fc.constant(null),
        small,
        fc.string({ maxLength: 8 }),
        fc.tuple(fc.array(small, { maxLength: 3 }), fc.oneof(fc.constant(null), fc.string({ maxLength: 3 }), fc.double({ noInteger: true }), fc.constant(0x80000000))).map(([a, x]) => [...a, x]),
      );
    case "any":
      return fc.constant(undefined);
  }
}

const calls: CallEntry[] = [...table.byNr.values()];
const maxNr = Math.max(...calls.map((c) => c.nr));

function argsOf(call: CallEntry, env: FuzzEnv): fc.Arbitrary<unknown[]> {
  return fc.tuple(...call.argNames.map((n) => valueOf(call.args[n]!, n, env)));
}

/** Every call with well-typed arguments. */
export function wellTyped(env: FuzzEnv): fc.Arbitrary<Step> {
  return fc.constantFrom(...calls).chain((call) => argsOf(call, env).map((args): Step => ({ t: "call", call: call.name, args })));
}

/** Every field of every call, with a wrong type in that field. */
export function badFields(env: FuzzEnv): fc.Arbitrary<Step> {
  const fields = calls.flatMap((c) => c.argNames.filter((n) => c.args[n] !== "any").map((n) => [c, n] as const));
  return fc.constantFrom(...fields).chain(([call, field]) =>
    fc.tuple(argsOf(call, env), wrongOf(call.args[field]!)).map(([args, bad]): Step => {
      const a = [...args];
      a[call.argNames.indexOf(field)] = bad;
      return { t: "badField", call: call.name, field, args: a };
    }),
  );
}

const arity = (env: FuzzEnv): fc.Arbitrary<Step> =>
  fc.constantFrom(...calls).chain((call) =>
    fc
      .tuple(argsOf(call, env), fc.boolean(), fc.integer({ min: 1, max: 3 }))
      .map(([args, drop, n]): Step => ({ t: "arity", call: call.name, args: drop && args.length ? args.slice(0, Math.max(0, args.length - n)) : [...args, ...Array(n).fill(0)] })),
  );

export function step(env: FuzzEnv): fc.Arbitrary<Step> {
  return fc.oneof(
    { weight: 10, arbitrary: wellTyped(env) },
    { weight: 10, arbitrary: badFields(env) },
    { weight: 2, arbitrary: arity(env) },
    { weight: 1, arbitrary: fc.oneof(fc.integer({ min: maxNr + 1, max: 0x7fffffff }), fc.integer({ min: -0x80000000, max: -1 }), fc.integer({ min: 22, max: 49 })).filter((n) => !table.byNr.has(n)).map((nr): Step => ({ t: "unknownNr", nr })) },
    { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.string({ maxLength: 5 }), fc.double({ noInteger: true }), fc.boolean()).map((nr): Step => ({ t: "badNr", nr })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1000 }).map((delta): Step => ({ t: "interruptUnknown", delta })) },
    { weight: 2, arbitrary: fc.constant<Step>({ t: "park" }) },
    { weight: 2, arbitrary: fc.constant<Step>({ t: "interruptParked" }) },
    { weight: 1, arbitrary: fc.constant<Step>({ t: "reuseParked" }) },
  );
}

export function killer(): fc.Arbitrary<Killer> {
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes): Killer => ({ t: "garbage", bytes })),
    fc.constant<Killer>({ t: "empty" }),
    fc.integer({ min: 1, max: 0x7fffffff }).map((extra): Killer => ({ t: "oversize", extra })),
    fc
      .oneof(
        fc.tuple(fc.oneof(fc.constant(null), fc.boolean(), small, fc.string({ maxLength: 6 }), fc.dictionary(fc.string({ maxLength: 3 }), small, { maxKeys: 2 })), fc.constant("not an array")),
        fc.tuple(fc.array(small, { maxLength: 1 }), fc.constant("shorter than [kind, seq]")),
        // 4 is a post ([4, seq, nr, …]: spec/protocol.md §4.5), a request answered with nothing, not a bad kind.
        fc.tuple(fc.tuple(fc.oneof(fc.constant(3), fc.integer({ min: 5, max: 300 }), fc.integer({ min: -5, max: -1 }), fc.constant(1), fc.string({ maxLength: 2 }), fc.constant(null)), fc.nat(100)), fc.constant("bad kind")),
        fc.tuple(fc.tuple(fc.constantFrom(0, 2, 4), fc.oneof(fc.integer({ min: -100, max: -1 }), fc.constant(0x100000000), fc.double({ noInteger: true }), fc.string({ maxLength: 3 }), fc.constant(null))), fc.constant("bad seq")),
        fc.tuple(fc.tuple(fc.constant(2), fc.nat(100), small), fc.constant("interrupt with more than [2, seq]")),
      )
      .map(([value, why]): Killer => ({ t: "badShape", value, why })),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra): Killer => ({ t: "trailing", extra })),
    fc.oneof(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 20_000, max: 200_000 })).map((depth): Killer => ({ t: "deep", depth })),
    fc.nat(6).map((keep): Killer => ({ t: "truncate", keep })),
    fc.integer({ min: 1, max: 100_000 }).map((extra): Killer => ({ t: "lieLong", extra })),
    fc.integer({ min: 1, max: 3 }).map((cut): Killer => ({ t: "lieShort", cut })),
  );
}

export function batch(env: FuzzEnv, maxSteps = 48): fc.Arbitrary<Batch> {
  return fc.record({
    prefix: fc.constantFrom<Prefix>("none", "guest", "control", "registered", "parent", "parent"),
    steps: fc.integer({ min: 1, max: maxSteps }).chain((n) => fc.array(step(env), { minLength: n, maxLength: n })),
    killer: fc.option(killer(), { freq: 3 }),
    pieces: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) }),
  });
}
