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
 * The pid cursor and the task count (alloc_pid's last pid, nr_threads) are the kernel's plain
 * counters beside this actor (actors/kernel.ts, `Kernel.lastPid`, `Kernel.tasks`): they change
 * at every fork and every reap, and no transition reads them but the last task's end, which
 * the kernel tells the actor itself (ALL_GONE, while it is dying), so a process's life costs
 * the namespace no xstate step (bench/README.md).
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
  /** Init's wait status once it has died. */
  initStatus: number | null;
}

export type NamespaceEvent =
  | { type: "INIT_BORN" }
  /** The last task (process or thread, zombies and reservations included) of a dying namespace is gone. */
  | { type: "ALL_GONE" }
  | { type: "INIT_DIED"; wstatus: number }
  | { type: "INIT_STATUS"; wstatus: number }
  | { type: "RENEW" }
  /** Stop one of the namespace's actors (a process, thread, eventfd or tracee gone for good): they are its children in one actor system, and only a parent may stop its child. */
  | { type: "RELEASE"; ref: AnyActorRef };

export const namespaceMachine = setup({
  types: { context: {} as NamespaceContext, events: {} as NamespaceEvent, input: {} as NamespaceInput },
  actions: {
    renew: assign({ initStatus: null }),
    // An event other than RELEASE names no actor: the empty id stops nothing.
    release: stopChild(({ event }) => (event.type === "RELEASE" ? event.ref : "")),
    recordInit: assign({ initStatus: ({ context, event }) => (event.type === "INIT_DIED" || event.type === "INIT_STATUS" ? event.wstatus : context.initStatus) }),
  },
}).createMachine({
  id: "namespace",
  context: ({ input }) => ({ ...input, initStatus: null }),
  initial: "empty",
  on: {
    RELEASE: { actions: "release" },
  },
  states: {
    empty: {
      on: { INIT_BORN: "live" },
    },
    live: {
      on: {
        INIT_DIED: { target: "dying", actions: "recordInit" },
      },
    },
    dying: {
      on: {
        INIT_STATUS: { actions: "recordInit" },
        ALL_GONE: "over",
      },
    },
    over: {
      on: { INIT_STATUS: { actions: "recordInit" }, RENEW: { target: "empty", actions: "renew" } },
    },
  },
});

export type NamespaceState = "empty" | "live" | "dying" | "over";
