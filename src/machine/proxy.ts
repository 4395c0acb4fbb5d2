/**
 * A guest's proxy for one of its threads: the client-side actor that stands for the
 * daemon's thread actor and sends its calls over the thread's own connection.
 *
 *   connecting ──OPEN──▶ handshaking ──HELLO──▶ unbound ──BOUND──▶ bound ──ENDED──▶ ended
 *        └──────────────────────────GONE (socket closed, daemon gone)──────────────▶ gone
 */
import { assign, setup } from "xstate";

export interface ProxyContext {
  socket: string;
  pid: number;
  tid: number;
  /** Requests sent and not yet answered. */
  inflight: number;
  /** Why the connection is gone, for the error every later call gets. */
  reason: string;
}

export type ProxyEvent =
  | { type: "OPEN" }
  | { type: "HELLO" }
  | { type: "BOUND"; pid: number; tid: number }
  | { type: "REBOUND"; tid: number }
  | { type: "SENT" }
  | { type: "ANSWERED" }
  | { type: "ENDED" }
  | { type: "GONE"; reason: string };

export const proxyMachine = setup({
  types: { context: {} as ProxyContext, events: {} as ProxyEvent, input: {} as { socket: string } },
  actions: {
    bind: assign(({ event }) => (event.type === "BOUND" ? { pid: event.pid, tid: event.tid } : {})),
    rebind: assign(({ event }) => (event.type === "REBOUND" ? { tid: event.tid } : {})),
    sent: assign({ inflight: ({ context }) => context.inflight + 1 }),
    answered: assign({ inflight: ({ context }) => context.inflight - 1 }),
    gone: assign({ reason: ({ event }) => (event.type === "GONE" ? event.reason : "") }),
  },
}).createMachine({
  id: "proxy",
  context: ({ input }) => ({ socket: input.socket, pid: 0, tid: 0, inflight: 0, reason: "" }),
  initial: "connecting",
  on: {
    SENT: { actions: "sent" },
    ANSWERED: { actions: "answered" },
    GONE: { target: ".gone", actions: "gone" },
  },
  states: {
    connecting: { on: { OPEN: "handshaking" } },
    handshaking: { on: { HELLO: "unbound" } },
    unbound: { on: { BOUND: { target: "bound", actions: "bind" } } },
    bound: { on: { ENDED: "ended", REBOUND: { actions: "rebind" } } },
    ended: {},
    gone: { type: "final" },
  },
});
