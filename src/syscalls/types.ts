/**
 * What a syscall family implements: one handler per call of its schema family, typed by
 * the schema. A non-blocking call returns its outcome at once; a blocking one returns a
 * `Parked` wait (see actors/park.ts), or an Effect for a wait on I/O (the event stream).
 * Failures are `Errno` values, never exceptions.
 */
import type * as Effect from "effect/Effect";
import type { CallDef, Family, FieldsTs } from "../protocol/schema.js";
import type { Errno } from "../protocol/errno.js";
import type { Kernel } from "../actors/kernel.js";
import type { Parked } from "../actors/park.js";
import type { EventLog } from "../actors/eventlog.js";

/** The connection as a call sees it: who is calling, and the few changes a call may make. */
export interface Caller {
  readonly role: "new" | "unbound" | "guest" | "control";
  /** Bound process and thread (0 until register/claim). */
  readonly pid: number;
  readonly tid: number;
  /** This connection's nonce, given in the hello reply: its guest proves its host pid with it (server/hostproof.ts). */
  readonly nonce: string;
  /** Accepted past the connection limit: only a control client may use it. */
  readonly controlOnly: boolean;
  /** After `hello`: the connection's role; after register/claim: its identity. */
  setRole(role: "unbound" | "control"): void;
  bind(pid: number, tid: number, hostpid: number): void;
  /** The thread now has this tid (a non-leader thread's execve). */
  rebind(tid: number): void;
  /** The process left emulation: a close of this connection is no longer a death. */
  detach(): void;
  /**
   * Whether host process `hostpid` holds this connection's nonce (server/hostproof.ts): only then
   * is it the guest's. With `fd`, only that descriptor is looked at, and a name holding `secret`
   * (a reservation's proof) proves it too.
   */
  provesHost(hostpid: number, fd?: number, secret?: string): boolean;
  /** Close the connection once this call's reply is written. */
  closeAfterReply(): void;
  /** Sends an event message to this connection; false (and nothing sent) while its reader lags too far behind. */
  notify(kind: number, fields: unknown[]): boolean;
}

/** A call parked on a connection, as inspection shows it. */
export interface ParkedCall {
  readonly seq: number;
  readonly call: string;
  /** Its arguments as a record of `blinkd events` shows them (tokens hidden, long values cut). */
  readonly args?: Record<string, unknown>;
}

/** What inspection calls see of the daemon beyond the kernel: the event log and the parked calls. */
export interface DaemonView {
  readonly events: EventLog;
  parkedCalls(tid: number): ParkedCall[];
}

export interface CallCtx {
  readonly k: Kernel;
  readonly caller: Caller;
  /** For a blocking call written as an Effect: wraps the part that may be interrupted. */
  readonly interruptible: Interruptible;
  readonly daemon: DaemonView;
}

export type Ok<D extends CallDef> = keyof D["out"] extends never
  ? number | bigint
  : { readonly result: number | bigint; readonly out: FieldsTs<D["out"]> };

/** Lets only the wait itself be interrupted; given by the dispatcher. */
export type Interruptible = <A, E>(e: Effect.Effect<A, E>) => Effect.Effect<A, E>;

export type Outcome<D extends CallDef> = D["blocks"] extends true ? Parked<Ok<D>> | Effect.Effect<Ok<D>, Errno> | Ok<D> | Errno : Ok<D> | Errno;

export type Handlers<F extends Family> = {
  readonly [K in keyof F]: (ctx: CallCtx, args: FieldsTs<F[K]["args"]>) => Outcome<F[K]>;
};

/** Untyped view the dispatcher uses. */
export type AnyHandler = (ctx: CallCtx, args: Record<string, unknown>) => unknown;
