/**
 * One guest call as the client sees it (spec/client.md; the state names are
 * src/protocol/callstates.ts, which the C client's enum blinkd_call_state also comes from):
 *
 *   idle ──SEND──▶ inCall ───────────ANSWERED──────────────────────────────▶ answered
 *                    │ SIGNAL, ABORT: send the interrupt [2, seq]
 *                    ▼
 *               interrupting ──ANSWERED with a real result (it completed first)──▶ answered
 *                    │ ANSWERED -512
 *                    ▼
 *               erestartsys ──[SA_RESTART, not aborted]──▶ restart ──(sent again, new seq)──▶ inCall
 *                    └─────────────────────────────────────────────────────────────────────▶ eintr
 *   inCall, interrupting ──GONE──▶ gone
 *
 * The machine decides; the port it is given does the I/O (sends the request and the
 * interrupt). Linux's rules: a signal whose handler runs while a call sleeps interrupts it
 * (signal(7)); the kernel restarts it when that handler has SA_RESTART, else the call fails
 * with EINTR (arch/x86/kernel/signal.c, handle_signal: -ERESTARTSYS becomes -EINTR "if
 * (!(ksig->ka.sa.sa_flags & SA_RESTART))", else the syscall is made again). The first
 * signal handled decides: handle_signal changes the result once, so later signals of the
 * same return to user mode find it decided.
 */
import { assign, setup } from "xstate";
import { ERESTARTSYS } from "../protocol/errno.js";

/** What the machine asks of its runner: put the request (again, with a new seq) or its interrupt on the wire. */
export interface CallPort {
  request(): void;
  interrupt(): void;
}

export interface CallContext {
  readonly port: CallPort;
  /** The first interrupting signal's handler has SA_RESTART (undefined: no signal yet). */
  restart: boolean | undefined;
  /** The caller gave up (its AbortSignal): never restarted. */
  aborted: boolean;
  /** How many times the call was sent again. */
  restarts: number;
  /** The reply's result and sentence, once answered. */
  result: number | bigint;
  detail: string | undefined;
  /** Why the connection is gone. */
  reason: string;
}

export type CallEvent =
  | { type: "SEND" }
  | { type: "SIGNAL"; restart: boolean }
  | { type: "ABORT" }
  | { type: "ANSWERED"; result: number | bigint; detail?: string | undefined }
  | { type: "GONE"; reason: string };

export const callMachine = setup({
  types: { context: {} as CallContext, events: {} as CallEvent, input: {} as { port: CallPort } },
  actions: {
    request: ({ context }) => context.port.request(),
    interrupt: ({ context }) => context.port.interrupt(),
    noteSignal: assign({ restart: ({ context, event }) => context.restart ?? (event.type === "SIGNAL" && event.restart) }),
    noteAbort: assign({ aborted: true }),
    keepResult: assign(({ event }) => (event.type === "ANSWERED" ? { result: event.result, detail: event.detail } : {})),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1, restart: undefined }),
    keepReason: assign({ reason: ({ event }) => (event.type === "GONE" ? event.reason : "") }),
  },
  guards: {
    interruptedReply: ({ event }) => event.type === "ANSWERED" && Number(event.result) === -ERESTARTSYS,
    mayRestart: ({ context }) => context.restart === true && !context.aborted,
  },
}).createMachine({
  id: "call",
  context: ({ input }) => ({ port: input.port, restart: undefined, aborted: false, restarts: 0, result: 0, detail: undefined, reason: "" }),
  initial: "idle",
  states: {
    idle: { on: { SEND: { target: "inCall", actions: "request" } } },
    inCall: {
      on: {
        // -512 only answers an interrupt (spec/protocol.md §6); one that comes unasked is not restarted.
        ANSWERED: [{ guard: "interruptedReply", target: "erestartsys", actions: "keepResult" }, { target: "answered", actions: "keepResult" }],
        SIGNAL: { target: "interrupting", actions: ["noteSignal", "interrupt"] },
        ABORT: { target: "interrupting", actions: ["noteAbort", "interrupt"] },
        GONE: { target: "gone", actions: "keepReason" },
      },
    },
    interrupting: {
      on: {
        ANSWERED: [{ guard: "interruptedReply", target: "erestartsys", actions: "keepResult" }, { target: "answered", actions: "keepResult" }],
        SIGNAL: { actions: "noteSignal" },
        ABORT: { actions: "noteAbort" },
        GONE: { target: "gone", actions: "keepReason" },
      },
    },
    erestartsys: { always: [{ guard: "mayRestart", target: "restart" }, { target: "eintr" }] },
    restart: { always: { target: "inCall", actions: ["countRestart", "request"] } },
    answered: { type: "final" },
    eintr: { type: "final" },
    gone: { type: "final" },
  },
});
