/**
 * One emulated thread: its own connection once claimed.
 *
 *   embryo ──CLAIM──▶ running ──EXIT──▶ exited
 *     └────ABORT / EXIT──────────────────┘
 */
import { assign, setup } from "xstate";
import { EMPTY_QUEUE, type SigQueue } from "./sigset.js";
import { directInitialSnapshot } from "./initialsnapshot.js";
import { directSteps } from "./directstep.js";

/** The system id of a thread's actor (actors/kernel.ts, ActorHost). */
export const threadId = (tid: number): string => `thread:${tid}`;

export interface ThreadInput {
  tid: number;
  pid: number;
}

/**
 * The thread's signal mask (task->blocked) is not here: it is a plain field of the thread's
 * reference (actors/leader.ts, ThreadRef.blocked), since a shell changes it around every fork
 * and an xstate event per change cost more than the rest of the change (bench/README.md).
 */
export interface ThreadContext extends ThreadInput {
  /** Thread-directed pending signals (task->pending, tkill/tgkill): SigPnd. */
  pending: SigQueue;
  /** The thread's own name (prctl PR_SET_NAME from this thread), null while it has the process's comm. */
  comm: string | null;
  /** The set a delivery-1 guest waits for in sigwait/sigtimedwait (sig_wait armed it), 0 when it does not wait. */
  waiting: bigint;
  /** The signals a delivery-1 guest reads from its signalfds (sig_watch), rung while blocked. */
  watched: bigint;
}

export type ThreadEvent =
  | { type: "CLAIM" }
  | { type: "EXIT" }
  | { type: "ABORT" }
  | { type: "SET_WAITING"; waiting: bigint }
  | { type: "SET_WATCHED"; watched: bigint }
  | { type: "PENDING"; pending: SigQueue }
  | { type: "SET_COMM"; comm: string };

/** A new thread's context: the machine's context factory, which its initial snapshot also takes directly (machine/initialsnapshot.ts). */
function threadContext(input: ThreadInput): ThreadContext {
  return { tid: input.tid, pid: input.pid, pending: EMPTY_QUEUE, comm: null, waiting: 0n, watched: 0n };
}

export const threadMachine = setup({
  types: { context: {} as ThreadContext, events: {} as ThreadEvent, input: {} as ThreadInput },
  actions: {
    setWaiting: assign(({ event }) => (event.type === "SET_WAITING" ? { waiting: event.waiting } : {})),
    setWatched: assign(({ event }) => (event.type === "SET_WATCHED" ? { watched: event.watched } : {})),
    setPending: assign(({ event }) => (event.type === "PENDING" ? { pending: event.pending } : {})),
    setComm: assign(({ event }) => (event.type === "SET_COMM" ? { comm: event.comm } : {})),
  },
}).createMachine({
  id: "thread",
  // Fields named one by one, not spread from input: see the process machine's context.
  context: ({ input }) => threadContext(input),
  on: {
    SET_WAITING: { actions: "setWaiting" },
    SET_WATCHED: { actions: "setWatched" },
    PENDING: { actions: "setPending" },
    SET_COMM: { actions: "setComm" },
  },
  initial: "embryo",
  states: {
    embryo: { on: { CLAIM: "running", ABORT: "exited", EXIT: "exited" } },
    running: { on: { EXIT: "exited" } },
    exited: { type: "final" },
  },
});

directInitialSnapshot(threadMachine, threadContext);
directSteps(threadMachine, ["PENDING", "CLAIM", "EXIT"]);
