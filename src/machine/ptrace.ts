/**
 * One ptrace relationship: a tracer and its tracee (task->ptrace, task->parent, the
 * jobctl bits and last_siginfo of kernel/ptrace.c and kernel/signal.c), from the attach
 * (PTRACE_TRACEME, ATTACH, SEIZE, or the auto-attach of a traced process's fork child) to
 * the detach (PTRACE_DETACH, the tracer's exit, the tracee collected).
 *
 *   running ──STOP──▶ stopped ──LISTEN──▶ listening
 *      ▲                │  ▲                 │
 *      └─────RESUME─────┘  └──────STOP───────┘ (a re-trap: SIGCONT, INTERRUPT)
 *   running ──TRAP──▶ trapping ──ARRIVE──▶ stopped
 *                        ▲ └──STOP──▶ stopped ─RESUME─┘ (a stop of its own comes first)
 *   any ──DETACH──▶ detached
 *
 * trapping: a stop the daemon decided (a signal taken for ptrace_signal, an interrupt) that
 * the tracee has not reached yet: Linux stops a tracee in get_signal, on its way back to user
 * mode, so a system call it is in ends first (its syscall-exit stop, a stop it reports
 * itself, comes before). The tracer hears of the stop when the tracee arrives (ARRIVE).
 *
 * stopped: a ptrace stop (TASK_TRACED): a signal-delivery stop, a group stop, an event
 * stop (PTRACE_EVENT_*), a syscall stop or an interrupt stop. `reported` says whether the
 * tracer's wait collected it (wait_task_stopped clears exit_code). listening: PTRACE_LISTEN
 * left it stopped without reporting (JOBCTL_LISTENING). The rules are in actors/ptrace.ts.
 */
import { assign, setup } from "xstate";
import type { SigInfo } from "./sigset.js";
import { PTRACE_MODE } from "../protocol/calls/ptrace.js";

/** A ptrace stop as the tracer sees it. */
export interface PtraceStop {
  readonly kind: "signal" | "group" | "event" | "interrupt" | "syscall";
  /** task->exit_code: what wait reports as status >> 8 (signo, | PTRACE_EVENT_x << 8, | 0x80). */
  readonly exitCode: number;
  /** last_siginfo: what GETSIGINFO reads; null where Linux has none (a group stop of a tracee not seized: EINVAL). */
  readonly info: SigInfo | null;
}

export interface PtraceInput {
  tracer: number;
  tracee: number;
  /** PT_SEIZED: attached by PTRACE_SEIZE (or auto-attached from such a tracee). */
  seized: boolean;
  options: number;
}

export interface PtraceContext extends PtraceInput {
  readonly stop: PtraceStop | null;
  readonly reported: boolean;
  /** GETEVENTMSG (task->ptrace_message). */
  readonly message: bigint;
  /** How the tracer resumed it last: a PTRACE_MODE (CONT, SYSCALL, SINGLESTEP). */
  readonly mode: number;
  /** A signal the tracer let through at a signal-delivery stop whose handler the tracee runs (delivery 1). */
  readonly inject: SigInfo | null;
  /** JOBCTL_TRAP_NOTIFY: a SIGCONT came while it was stopped and seized; it traps again once it leaves the stop. */
  readonly notify: boolean;
  /** A stop decided but not reached yet (trapping), kept across a stop the tracee reports on its way there. */
  readonly pending: { stop: PtraceStop; message?: bigint } | null;
}

export type PtraceEvent =
  | { type: "STOP"; stop: PtraceStop; message?: bigint }
  | { type: "TRAP"; stop: PtraceStop; message?: bigint }
  | { type: "ARRIVE" }
  | { type: "RESUME"; mode: number; inject: SigInfo | null }
  | { type: "LISTEN" }
  | { type: "REPORTED" }
  | { type: "SET_OPTIONS"; options: number }
  | { type: "SET_SIGINFO"; info: SigInfo }
  | { type: "INJECTED" }
  | { type: "NOTIFY" }
  | { type: "DETACH" };

export const ptraceMachine = setup({
  types: { context: {} as PtraceContext, events: {} as PtraceEvent, input: {} as PtraceInput },
  actions: {
    // ptrace_stop: exit_code, last_siginfo and ptrace_message are set, the tracer not told yet.
    enterStop: assign(({ context, event }) =>
      event.type === "STOP" ? { stop: event.stop, reported: false, message: event.message ?? context.message, notify: false } : {},
    ),
    // The stop is decided (the signal taken, the trap set); the tracee has not reached it.
    defer: assign(({ event }) => (event.type === "TRAP" ? { pending: { stop: event.stop, message: event.message } } : {})),
    // It reached get_signal: the stop decided earlier is entered now.
    arrive: assign(({ context }) =>
      context.pending ? { stop: context.pending.stop, reported: false, message: context.pending.message ?? context.message, notify: false, pending: null } : {},
    ),
    dropPending: assign({ pending: null }),
    // ptrace_resume: exit_code = data; the tracee runs (wake_up_state(child, __TASK_TRACED)).
    resume: assign(({ event }) => (event.type === "RESUME" ? { stop: null, reported: false, mode: event.mode, inject: event.inject } : {})),
    // wait_task_stopped: "if (!unlikely(wo->wo_flags & WNOWAIT)) *p_code = 0;"
    reported: assign({ reported: true }),
    setOptions: assign(({ event }) => (event.type === "SET_OPTIONS" ? { options: event.options } : {})),
    setSiginfo: assign(({ context, event }) => (event.type === "SET_SIGINFO" && context.stop ? { stop: { ...context.stop, info: event.info } } : {})),
    injected: assign({ inject: null }),
    notify: assign({ notify: true }),
    dropStop: assign({ stop: null, inject: null, pending: null }),
  },
  guards: {
    // PTRACE_LISTEN: "if (likely(si && (si->si_code >> 8) == PTRACE_EVENT_STOP))"
    owed: ({ context }) => context.pending !== null,
    atEventStop: ({ context }) => context.seized && context.stop !== null && context.stop.info !== null && context.stop.info.code >> 8 === 128,
  },
}).createMachine({
  id: "ptrace",
  context: ({ input }) => ({ tracer: input.tracer, tracee: input.tracee, seized: input.seized, options: input.options, stop: null, reported: false, message: 0n, mode: PTRACE_MODE.CONT, inject: null, notify: false, pending: null }),
  on: {
    SET_OPTIONS: { actions: "setOptions" },
    INJECTED: { actions: "injected" },
    DETACH: { target: ".detached", actions: "dropStop" },
  },
  initial: "running",
  states: {
    running: {
      on: {
        STOP: { target: "stopped", actions: "enterStop" },
        TRAP: { target: "trapping", actions: "defer" },
      },
    },
    trapping: {
      on: {
        ARRIVE: { target: "stopped", actions: "arrive" },
        // a stop of its own on the way (a syscall-exit stop): entered first, the decided one kept
        STOP: { target: "stopped", actions: "enterStop" },
        // it died (exit_notify): nothing is reached any more
        RESUME: { target: "running", actions: ["resume", "dropPending"] },
      },
    },
    stopped: {
      on: {
        // resumed from a stop of its own with a decided stop still ahead: trapping again
        RESUME: [
          { target: "trapping", guard: "owed", actions: "resume" },
          { target: "running", actions: "resume" },
        ],
        LISTEN: { target: "listening", guard: "atEventStop" },
        REPORTED: { actions: "reported" },
        SET_SIGINFO: { actions: "setSiginfo" },
        NOTIFY: { actions: "notify" },
        STOP: { target: "stopped", actions: "enterStop" },
      },
    },
    listening: {
      on: {
        STOP: { target: "stopped", actions: "enterStop" },
        RESUME: { target: "running", actions: "resume" },
      },
    },
    detached: { type: "final" },
  },
});

export type PtraceState = "running" | "trapping" | "stopped" | "listening" | "detached";
