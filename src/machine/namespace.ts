/**
 * The PID namespace. Its life follows its init (PID 1), as in Linux: the namespace is
 * empty until PID 1 exists; when PID 1 exits every other process is killed
 * (zap_pid_ns_processes) and the namespace is over once the last process is reaped.
 *
 *   empty ──INIT_BORN──▶ live ──INIT_DIED──▶ dying ──ALL_GONE──▶ over ──RENEW──▶ empty
 *
 * The namespace actor is the root of the actor system every process, thread, eventfd and
 * tracee actor of the namespace belongs to (actors/kernel.ts, ActorHost): they find one
 * another by system id, and it stops them (RELEASE) when they are gone.
 *
 * RENEW is `blinkd serve`'s: a namespace that is over is never entered again (Linux has no
 * way into a dead PID namespace); the daemon starts a new one, numbered from 1, for the next
 * process that registers. `blinkd run` ends with its namespace instead.
 */
import { assign, setup, stopChild, type AnyActorRef } from "xstate";

export interface NamespaceInput {
  pidMax: number;
  /** Milliseconds an unclaimed fork or thread reservation lives. */
  reserveTimeoutMs: number;
}

export interface NamespaceContext extends NamespaceInput {
  /** The last pid handed out: alloc_pid's cursor. */
  lastPid: number;
  /** Processes and threads that hold a number, zombies and reservations included. */
  nprocs: number;
  /** Processes and threads ever created (fork, clone, register): /proc/stat's "processes" (total_forks). */
  created: number;
  /** Init's wait status once it has died. */
  initStatus: number | null;
}

export type NamespaceEvent =
  | { type: "PID_ALLOCATED"; pid: number }
  | { type: "PROC_GONE" }
  | { type: "INIT_BORN" }
  | { type: "INIT_DIED"; wstatus: number }
  | { type: "INIT_STATUS"; wstatus: number }
  | { type: "RENEW" }
  /** Stop one of the namespace's actors (a process, thread, eventfd or tracee gone for good): they are its children in one actor system, and only a parent may stop its child. */
  | { type: "RELEASE"; ref: AnyActorRef };

export const namespaceMachine = setup({
  types: { context: {} as NamespaceContext, events: {} as NamespaceEvent, input: {} as NamespaceInput },
  actions: {
    countAlloc: assign(({ context, event }) => (event.type === "PID_ALLOCATED" ? { lastPid: event.pid, nprocs: context.nprocs + 1, created: context.created + 1 } : {})),
    countGone: assign({ nprocs: ({ context }) => context.nprocs - 1 }),
    renew: assign({ lastPid: 0, nprocs: 0, created: 0, initStatus: null }),
    // An event other than RELEASE names no actor: the empty id stops nothing.
    release: stopChild(({ event }) => (event.type === "RELEASE" ? event.ref : "")),
    recordInit: assign({ initStatus: ({ context, event }) => (event.type === "INIT_DIED" || event.type === "INIT_STATUS" ? event.wstatus : context.initStatus) }),
  },
  guards: {
    lastOneGone: ({ context }) => context.nprocs <= 1,
  },
}).createMachine({
  id: "namespace",
  context: ({ input }) => ({ ...input, lastPid: 0, nprocs: 0, created: 0, initStatus: null }),
  initial: "empty",
  on: {
    PID_ALLOCATED: { actions: "countAlloc" },
    RELEASE: { actions: "release" },
  },
  states: {
    empty: {
      on: { INIT_BORN: "live", PROC_GONE: { actions: "countGone" } },
    },
    live: {
      on: {
        INIT_DIED: { target: "dying", actions: "recordInit" },
        PROC_GONE: { actions: "countGone" },
      },
    },
    dying: {
      always: { guard: ({ context }) => context.nprocs === 0, target: "over" },
      on: {
        INIT_STATUS: { actions: "recordInit" },
        PROC_GONE: [{ guard: "lastOneGone", target: "over", actions: "countGone" }, { actions: "countGone" }],
      },
    },
    over: {
      on: { INIT_STATUS: { actions: "recordInit" }, RENEW: { target: "empty", actions: "renew" } },
    },
  },
});

export type NamespaceState = "empty" | "live" | "dying" | "over";
