/**
 * The messages the daemon starts, `[3, event, ...fields]` (spec/protocol.md §4.4), defined
 * once as the calls are: each event's number, its fields in wire order with their wire types,
 * and what it means. From this table come EV (the numbers), the daemon's encoder
 * (eventMessage), the clients' decoder (parseEvent), the C header's BLINKD_EV_* numbers and
 * field indexes, and the event table in spec/protocol.md.
 *
 * Events are outside the version hash (index.ts), as they were before they were in the
 * schema: adding one does not break a client, which ignores numbers it does not know.
 */
import type { Fields, FieldsTs } from "./schema.js";

export interface EventDef {
  readonly nr: number;
  /** Its fields after [3, nr], in wire order. */
  readonly fields: Fields;
  readonly doc: string;
}

export const events = {
  FATAL: {
    nr: 0,
    fields: { message: "str" },
    doc: "the daemon closes this connection for a protocol error; `message` says why (§9)",
  },
  SIGNAL: {
    nr: 1,
    fields: { signo: "i32", pid: "i32", code: "i32", uid: "i32", status: "i32" },
    doc: "a handled signal for this thread (delivery mode 0): siginfo's si_signo, si_pid (the sender's pid in the namespace), si_code, si_uid (the sender's real uid), si_status (SIGCHLD's); delivered when sent ([signals.md](signals.md) §3; delivery mode 1 is §4 there)",
  },
  INSPECT: {
    nr: 2,
    fields: { record: "any" },
    doc: 'one record of `events --follow` (an actor transition, a call, or `{kind: "lost", count}`)',
  },
  PTRACE_STOP: {
    nr: 3,
    fields: {},
    doc: "this thread is in a ptrace stop (delivery mode 0; a delivery-1 guest is rung with host signal 64 instead): it calls `ptrace_serve` until told to run on ([ptrace.md](ptrace.md) §4)",
  },
} as const satisfies Record<string, EventDef>;

export type EventName = keyof typeof events;
export type EventFields<N extends EventName> = FieldsTs<(typeof events)[N]["fields"]>;

/** Event numbers by name: EV.SIGNAL is 1. */
export const EV = Object.fromEntries(Object.entries(events).map(([k, v]) => [k, v.nr])) as { readonly [N in EventName]: (typeof events)[N]["nr"] };

const byNr = new Map<number, EventName>(Object.entries(events).map(([k, v]) => [v.nr, k as EventName]));
const names = (n: EventName): string[] => Object.keys(events[n].fields);

/** The event's number and its fields in wire order, from a record that has them by name (more may be there). */
export function eventMessage<N extends EventName>(name: N, fields: EventFields<N>): [number, ...unknown[]] {
  const f = fields as Record<string, unknown>;
  return [events[name].nr, ...names(name).map((k) => f[k])];
}

/** A decoded event: its name and fields by name; undefined for a number this schema does not know (§4.4: ignored). */
export type ParsedEvent = { [N in EventName]: { readonly name: N; readonly fields: EventFields<N> } }[EventName];

export function parseEvent(nr: number, values: readonly unknown[]): ParsedEvent | undefined {
  const name = byNr.get(nr);
  if (name === undefined) return undefined;
  const fields: Record<string, unknown> = {};
  names(name).forEach((k, i) => (fields[k] = values[i]));
  return { name, fields } as ParsedEvent;
}

export function eventByNr(nr: number): { readonly name: EventName; readonly def: EventDef } | undefined {
  const name = byNr.get(nr);
  return name === undefined ? undefined : { name, def: events[name] };
}
