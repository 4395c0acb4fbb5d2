/**
 * The records the control calls return (`ps`, `inspect`, `events`, `check`: their `any`
 * results, src/protocol/calls/control.ts): the shapes a control client reads, declared on the
 * wire's side so that a client needs nothing of the daemon's.
 */

/** One process of `ps`. */
export interface ProcRecord {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** The lifecycle state ("running", "zombie", …; "stopped" while stopped). */
  state: string;
  /** procps's STAT: the state letter and its flags (s session leader, l multithreaded, L locked pages). */
  stat: string;
  threads: number[];
  comm: string;
  exe: string;
  argv: string[];
  hostpid: number;
  wstatus: number | null;
  startTime: number;
}

/** One actor of `inspect`. */
export interface ActorRecord {
  id: string;
  kind: "namespace" | "process" | "thread" | "eventfd";
  state: unknown;
  context: unknown;
  parked?: { seq: number; call: string; args?: Record<string, unknown> }[];
  fds?: unknown[];
  /** An eventfd: the descriptors that refer to it, in every process. */
  holders?: { pid: number; fd: number; cloexec: boolean }[];
  /** An eventfd: the calls parked on its wait queue (readers, writers, pollers). */
  waiters?: number;
  /** The namespace: the sequence number of the last event record the snapshot includes. */
  seq?: number;
  /** An eventfd: the open file's status flags (O_NONBLOCK …), in octal as fdinfo prints them. */
  flags?: string;
}

/** One record of `events` (and of the INSPECT event `events --follow` sends). */
export interface EventRecord {
  /** Increases by one per record: a gap tells a follower it lost some. */
  readonly seq: number;
  /** Milliseconds since the namespace started. */
  readonly t: number;
  readonly kind: "spawn" | "transition" | "update" | "call" | "reply";
  /** The actor ("namespace", "proc:N", "thread:N") or, for calls, the thread "thread:N". */
  readonly actor: string;
  /** The process the record concerns (0: the namespace). */
  readonly pid: number;
  /** The event that caused the transition, or the call's name. */
  readonly event: string;
  readonly from?: string;
  readonly to?: string;
  readonly args?: Record<string, unknown>;
  readonly result?: number;
  /**
   * spawn: the actor's whole context; transition and update: the context fields the event
   * changed (named as `inspect` names them). Sets a machine updates in place are left out
   * (a process's children and threads: the records of those actors tell them). Applied in
   * order to a snapshot from `inspect`, they give each actor's context at every record (the
   * web view's time travel, src/web/page/model.js).
   */
  readonly changes?: Record<string, unknown>;
  /** call and reply: the request's sequence number on its connection, which pairs the two. */
  readonly req?: number;
}

/** What `check` returns: the consistency checker's report. */
export interface CheckReport {
  /** True when no problem was found. */
  ok: boolean;
  /** One sentence per broken invariant, naming the pid, tid or object. */
  problems: string[];
  /** What the daemon holds, by kind (processes, zombies, parked calls, heap bytes, …). */
  counts: Record<string, number>;
}
