/**
 * The four kinds of message, each one msgpack array in one frame (spec/protocol.md):
 *   request   [0, seq, nr, ...args]          client → daemon
 *   reply     [1, seq, result, ...out]       daemon → client; result < 0 is -errno, then
 *                                             out is empty or one string explaining it
 *   interrupt [2, seq]                       client → daemon; no reply of its own
 *   event     [3, kind, ...fields]           daemon → client, unasked (signals, fatal errors)
 *   post      [4, seq, nr, ...args]          client → daemon; a request that gets no reply (a
 *                                             report nothing waits for); its failure is logged
 */
import { table, type CallEntry } from "./index.js";
import { checkField, describe, FieldError } from "./validate.js";
import { E, errno, type Errno } from "./errno.js";

export const REQUEST = 0;
export const REPLY = 1;
export const INTERRUPT = 2;
export const EVENT = 3;
export const POST = 4;

/** Events the daemon starts: their schema is events.ts. */
export { EV } from "./events.js";

export const SEQ_MAX = 0xffffffff;

export interface Request {
  readonly seq: number;
  readonly call: CallEntry;
  readonly args: Record<string, unknown>;
  /** Sent as a post ([4, …]): the daemon writes no reply (spec/protocol.md §4.5). */
  readonly posted: boolean;
}

export type Incoming =
  | { readonly kind: "request"; readonly req: Request }
  | { readonly kind: "bad-request"; readonly seq: number; readonly error: Errno; readonly posted: boolean }
  | { readonly kind: "interrupt"; readonly seq: number }
  | { readonly kind: "fatal"; readonly message: string };

/** Classifies one decoded frame from a client. Never throws. */
export function parseIncoming(msg: unknown): Incoming {
  if (!Array.isArray(msg) || msg.length < 2) return { kind: "fatal", message: `message must be an array [kind, seq, …], got ${describe(msg)}` };
  const [kind, seq] = msg;
  if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0 || seq > SEQ_MAX)
    return { kind: "fatal", message: `message seq: expected u32, got ${describe(seq)}` };
  if (kind === INTERRUPT) {
    if (msg.length !== 2) return { kind: "fatal", message: `interrupt: expected [2, seq], got ${msg.length} elements` };
    return { kind: "interrupt", seq };
  }
  if (kind !== REQUEST && kind !== POST) return { kind: "fatal", message: `message kind: expected 0 (request), 2 (interrupt) or 4 (post), got ${describe(kind)}` };
  const posted = kind === POST;
  const nr = msg[2];
  if (typeof nr !== "number" || !Number.isInteger(nr)) return { kind: "bad-request", seq, posted, error: errno(E.EINVAL, `request nr: expected integer, got ${describe(nr)}`) };
  const call = table.byNr.get(nr);
  if (!call) return { kind: "bad-request", seq, posted, error: errno(E.ENOSYS, `no call number ${nr}`) };
  // §4.5: a call that may park cannot be posted (its reply is the point of it, and a parked
  // post would hold a seq and a slot nobody interrupts).
  if (posted && call.blocks) return { kind: "bad-request", seq, posted, error: errno(E.EINVAL, `${call.name} may block: it cannot be posted (send it as a request)`) };
  const names = call.argNames;
  if (msg.length !== 3 + names.length)
    return { kind: "bad-request", seq, posted, error: errno(E.EINVAL, `${call.name}: expected ${names.length} arguments (${names.join(", ")}), got ${msg.length - 3}`) };
  const args: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const v = checkField(call.args[name]!, msg[3 + i], call.name, name);
    if (v instanceof FieldError) return { kind: "bad-request", seq, posted, error: errno(E.EINVAL, v.message) };
    args[name] = v;
  }
  return { kind: "request", req: { seq, call, args, posted } };
}

/** The positional request array for a call (a post's with `kind` POST). */
export function requestMessage(seq: number, call: CallEntry, args: Record<string, unknown>, kind: typeof REQUEST | typeof POST = REQUEST): unknown[] {
  const m: unknown[] = [kind, seq, call.nr];
  for (const n of call.argNames) m.push(args[n]);
  return m;
}

export interface Reply {
  readonly seq: number;
  readonly result: number | bigint;
  readonly out: Record<string, unknown>;
  readonly detail?: string;
}

/** Validates a reply against the call it answers (client side). */
export function parseReply(msg: unknown[], call: CallEntry | undefined): Reply | FieldError {
  const seq = msg[1] as number;
  const result = msg[2];
  if (typeof result !== "number" && typeof result !== "bigint") return new FieldError(`reply result: expected i64, got ${describe(result)}`);
  if (result < 0) {
    const d = msg[3];
    // §4.2: a failure carries nothing, or one sentence for people.
    if (msg.length > 4 || (msg.length === 4 && typeof d !== "string")) return new FieldError(`reply detail: expected at most one str after a negative result, got ${msg.length - 3} values`);
    return typeof d === "string" ? { seq, result, out: {}, detail: d } : { seq, result, out: {} };
  }
  const out: Record<string, unknown> = {};
  if (call) {
    const names = call.outNames;
    // §4.2: on success `out` holds exactly the call's extra results (the C client agrees: spec/vectors).
    if (msg.length > 3 + names.length) return new FieldError(`${call.name} reply: expected ${names.length} out fields, got ${msg.length - 3}`);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const v = checkField(call.out[name]!, msg[3 + i], `${call.name} reply`, name);
      if (v instanceof FieldError) return v;
      out[name] = v;
    }
  }
  return { seq, result, out };
}
