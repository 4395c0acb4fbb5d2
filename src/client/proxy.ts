/**
 * A guest thread's proxy (spec/client.md): the client-side actor that stands for the daemon's
 * thread actor on this thread's own connection. It owns the blocking calls in flight, each an
 * actor of call.ts spawned as it is made, and hands them what concerns them: a handled signal
 * (which interrupts them) and the connection's end.
 *
 *   connecting ──OPEN──▶ handshaking ──HELLO──▶ unbound ──BOUND──▶ bound ──ENDED──▶ ended
 *        └──────────────GONE (the connection closed: the daemon is gone)──────────────▶ gone
 *
 * A call that cannot block is answered at once and has nothing to interrupt, so it is sent
 * without an actor of its own (a round trip is ~40 µs; an actor costs a few).
 */
import { assign, enqueueActions, setup, type ActorRefFrom } from "xstate";
import { callMachine, type CallPort } from "./call.js";

type CallRef = ActorRefFrom<typeof callMachine>;

export interface ProxyContext {
  pid: number;
  tid: number;
  /** The blocking calls in flight, by id. */
  calls: Readonly<Record<string, CallRef>>;
  /** Why the connection is gone, for the error every later call gets. */
  reason: string;
}

export type ProxyEvent =
  | { type: "OPEN" }
  | { type: "HELLO" }
  | { type: "BOUND"; pid: number; tid: number }
  | { type: "CALL"; id: string; port: CallPort }
  | { type: "CALL_END"; id: string }
  | { type: "SIGNAL"; restart: boolean }
  | { type: "ENDED" }
  | { type: "GONE"; reason: string };

export const proxyMachine = setup({
  types: { context: {} as ProxyContext, events: {} as ProxyEvent },
  actors: { call: callMachine },
  actions: {
    bind: assign(({ event }) => (event.type === "BOUND" ? { pid: event.pid, tid: event.tid } : {})),
    // Spawned idle; the runner sends it SEND once it is started.
    startCall: assign({
      calls: ({ context, event, spawn }) => (event.type === "CALL" ? { ...context.calls, [event.id]: spawn("call", { id: event.id, input: { port: event.port } }) } : context.calls),
    }),
    endCall: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "CALL_END") return;
      const ref = context.calls[event.id];
      if (ref) enqueue.stopChild(ref);
      const { [event.id]: _, ...rest } = context.calls;
      enqueue.assign({ calls: rest });
    }),
    // A handled signal interrupts every blocking call of the thread (signal(7)).
    interruptCalls: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "SIGNAL") return;
      for (const ref of Object.values(context.calls)) enqueue.sendTo(ref, { type: "SIGNAL", restart: event.restart });
    }),
    dropCalls: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "GONE") return;
      for (const ref of Object.values(context.calls)) enqueue.sendTo(ref, { type: "GONE", reason: event.reason });
    }),
    gone: assign({ reason: ({ event }) => (event.type === "GONE" ? event.reason : "") }),
  },
}).createMachine({
  id: "proxy",
  context: { pid: 0, tid: 0, calls: {}, reason: "" },
  initial: "connecting",
  on: {
    CALL: { actions: "startCall" },
    CALL_END: { actions: "endCall" },
    SIGNAL: { actions: "interruptCalls" },
    GONE: { target: ".gone", actions: ["dropCalls", "gone"] },
  },
  states: {
    connecting: { on: { OPEN: "handshaking" } },
    handshaking: { on: { HELLO: "unbound" } },
    unbound: { on: { BOUND: { target: "bound", actions: "bind" } } },
    bound: { on: { ENDED: "ended" } },
    ended: {},
    gone: { type: "final" },
  },
});
