/**
 * One emulated thread: its own connection once claimed.
 *
 *   embryo ──CLAIM──▶ running ──EXIT──▶ exited
 *     └────ABORT / EXIT──────────────────┘
 */
import { assign, setup } from "xstate";
import { EMPTY_QUEUE, type SigQueue } from "./sigset.js";

export interface ThreadInput {
  tid: number;
  pid: number;
}

export interface ThreadContext extends ThreadInput {
  /** The thread's signal mask (task->blocked): /proc/PID/status SigBlk. */
  blocked: bigint;
  /** Thread-directed pending signals (task->pending, tkill/tgkill): SigPnd. */
  pending: SigQueue;
}

export type ThreadEvent =
  | { type: "CLAIM" }
  | { type: "EXIT" }
  | { type: "ABORT" }
  | { type: "SET_BLOCKED"; blocked: bigint }
  | { type: "PENDING"; pending: SigQueue };

export const threadMachine = setup({
  types: { context: {} as ThreadContext, events: {} as ThreadEvent, input: {} as ThreadInput },
  actions: {
    setBlocked: assign(({ event }) => (event.type === "SET_BLOCKED" ? { blocked: event.blocked } : {})),
    setPending: assign(({ event }) => (event.type === "PENDING" ? { pending: event.pending } : {})),
  },
}).createMachine({
  id: "thread",
  context: ({ input }) => ({ ...input, blocked: 0n, pending: EMPTY_QUEUE }),
  on: {
    SET_BLOCKED: { actions: "setBlocked" },
    PENDING: { actions: "setPending" },
  },
  initial: "embryo",
  states: {
    embryo: { on: { CLAIM: "running", ABORT: "exited", EXIT: "exited" } },
    running: { on: { EXIT: "exited" } },
    exited: { type: "final" },
  },
});
