/**
 * One emulated process (a Linux thread group). Explicit lifecycle states, as gVisor's
 * task_exit.go has them:
 *
 *   embryo ──CLAIM──▶ running ──EXEC_NATIVE──▶ native
 *     │  └─ABORT─▶ aborted      │                  │
 *     └────────DIE──────────────┴──────DIE─────────┴──▶ zombie ──REAP──▶ reaped
 *
 * embryo: fork reserved the pid and the child has not connected yet; it is already the
 * parent's child (fork returned its pid), so wait sees it.
 * zombie: exited, holding its wait status until the parent (or auto-reap) releases it.
 * Job control is a flag beside the state, not a state: `stopped` is the signal that
 * stopped a running (or native) process (ps state T) and 0 otherwise; STOP and CONT set
 * and clear it, DIE clears it. `waitReport` is the stop or continue its parent's wait may
 * still collect (WUNTRACED / WCONTINUED), set with WAIT_REPORT.
 */
import { assign, setup } from "xstate";
import { EMPTY_QUEUE, type SigQueue } from "./sigset.js";
import { NO_INFO, afterExec, type ProcInfo } from "./procinfo.js";

/** The ids kill(2)'s permission rule compares (kill_ok_by_cred): real, effective, saved. */
export interface Creds {
  readonly ruid: number;
  readonly euid: number;
  readonly suid: number;
}

/** A stop or continue not yet collected by wait with WUNTRACED / WCONTINUED. */
export interface WaitReport {
  readonly kind: "stopped" | "continued";
  readonly signo: number;
}

export interface ProcessInput {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  exe: string;
  argv: string[];
  hostpid: number;
  /** Milliseconds since the namespace started. */
  startTime: number;
  /** Signal delivery: 0 = message on the connection, 1 = host signal. */
  delivery: number;
  /** The thread that forked it (its real_parent task); the parent's pid when not given. */
  parentTid?: number;
  /** A forked child's parent: what the child copies from it beyond the fields above. */
  inherit?: Pick<ProcessContext, "sigIgnored" | "sigCaught" | "saFlags" | "comm" | "creds" | "info">;
}

export interface ProcessContext extends Omit<ProcessInput, "inherit"> {
  comm: string;
  /** The parent thread whose children list holds this process (__WNOTHREAD). */
  parentTid: number;
  /** The signal sent to the parent at exit: SIGCHLD for every fork child (a clone child's would differ, for __WCLONE). */
  exitSignal: number;
  /** Children in Linux's list order: fork order, reparented ones appended. */
  children: Set<number>;
  /** Live and reserved threads, the leader (tid == pid) first. */
  threads: Set<number>;
  wstatus: number | null;
  /** The status was assumed (connection closed without exit); a reaper may correct it. */
  statusAssumed: boolean;
  /** True once execve ran: setpgid on this child then fails with EACCES. */
  execed: boolean;
  /** prctl(PR_SET_CHILD_SUBREAPER) */
  childSubreaper: boolean;
  /** Signals whose disposition is SIG_IGN / a handler: bit (signo - 1), as /proc/PID/status's SigIgn and SigCgt. */
  sigIgnored: bigint;
  sigCaught: bigint;
  /** The SA_* flags of each signal's current action, for the signals that have any. */
  saFlags: Map<number, number>;
  /** Credentials for kill's permission rule; copied at fork. */
  creds: Creds;
  /** Process-directed pending signals (signal->shared_pending): /proc/PID/status ShdPnd. */
  pending: SigQueue;
  /** The signal that stopped the process (group stop, state T), 0 while it runs. */
  stopped: number;
  /** A stop or continue the parent's wait can still report (SIGNAL_STOP_STOPPED / SIGNAL_STOP_CONTINUED). */
  waitReport: WaitReport | null;
  /** What the guest reported for procfs (environ, cwd, gids, memory): see procinfo.ts. */
  info: ProcInfo;
}

export type ProcessEvent =
  | { type: "CLAIM"; hostpid: number }
  | { type: "ABORT" }
  | { type: "EXEC"; exe: string; argv: string[] }
  | { type: "EXEC_NATIVE"; exe: string; argv: string[] }
  | { type: "DIE"; wstatus: number; assumed: boolean }
  | { type: "CORRECT_STATUS"; wstatus: number }
  | { type: "REAP" }
  | { type: "REPARENT"; ppid: number; parentTid?: number }
  | { type: "SET_SUBREAPER"; on: boolean }
  | { type: "CHILD_ADD"; pid: number }
  | { type: "CHILD_DROP"; pid: number }
  | { type: "THREAD_ADD"; tid: number }
  | { type: "THREAD_DROP"; tid: number }
  | { type: "SIGACTION"; signo: number; handler: number; flags: number }
  | { type: "SET_CREDS"; creds: Creds }
  | { type: "SET_PGRP"; pgid: number; sid: number }
  | { type: "PENDING"; pending: SigQueue }
  | { type: "STOP"; signo: number }
  | { type: "CONT" }
  | { type: "WAIT_REPORT"; report: WaitReport | null }
  | { type: "INFO"; info: Partial<ProcInfo> }
  | { type: "SET_COMM"; comm: string };

/** comm is the executable's basename cut to TASK_COMM_LEN - 1 = 15 bytes (fs/exec.c __set_task_comm). */
export function commOf(exe: string): string {
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  const b = Buffer.from(base, "utf8");
  return b.length <= 15 ? base : b.subarray(0, 15).toString("utf8").replace(/\uFFFD+$/, "");
}

/** Flags survive exec only for signals that stay ignored. */
function resetFlags(c: ProcessContext): Map<number, number> {
  const m = new Map<number, number>();
  for (const [sig, f] of c.saFlags) if (c.sigIgnored & (1n << BigInt(sig - 1))) m.set(sig, f);
  return m;
}

export const processMachine = setup({
  types: {
    context: {} as ProcessContext,
    events: {} as ProcessEvent,
    input: {} as ProcessInput,
  },
  actions: {
    bindHost: assign({ hostpid: ({ event }) => (event.type === "CLAIM" ? event.hostpid : 0) }),
    // execve keeps ignored signals ignored and resets handled ones to the default
    // (flush_signal_handlers, "Handled signals are reset to default" in execve(2)).
    applyExec: assign(({ context, event }) =>
      event.type === "EXEC" || event.type === "EXEC_NATIVE"
        ? { exe: event.exe, argv: event.argv, comm: commOf(event.exe), execed: true, sigCaught: 0n, saFlags: resetFlags(context), info: afterExec(context.info) }
        : {},
    ),
    sigaction: assign(({ context, event }) => {
      if (event.type !== "SIGACTION") return {};
      const bit = 1n << BigInt(event.signo - 1);
      const saFlags = new Map(context.saFlags);
      if (event.flags) saFlags.set(event.signo, event.flags);
      else saFlags.delete(event.signo);
      return {
        sigIgnored: event.handler === 1 ? context.sigIgnored | bit : context.sigIgnored & ~bit,
        sigCaught: event.handler === 2 ? context.sigCaught | bit : context.sigCaught & ~bit,
        saFlags,
      };
    }),
    setInfo: assign(({ context, event }) => (event.type === "INFO" ? { info: { ...context.info, ...event.info } } : {})),
    setComm: assign(({ event }) => (event.type === "SET_COMM" ? { comm: event.comm } : {})),
    setCreds: assign(({ event }) => (event.type === "SET_CREDS" ? { creds: event.creds } : {})),
    setPgrp: assign(({ event }) => (event.type === "SET_PGRP" ? { pgid: event.pgid, sid: event.sid } : {})),
    setPending: assign(({ event }) => (event.type === "PENDING" ? { pending: event.pending } : {})),
    stop: assign(({ event }) => (event.type === "STOP" ? { stopped: event.signo } : {})),
    cont: assign({ stopped: 0 }),
    setWaitReport: assign(({ event }) => (event.type === "WAIT_REPORT" ? { waitReport: event.report } : {})),
    // A dead process is no longer stopped and has nothing pending (exit_signals, flush_signals).
    recordDeath: assign(({ event }) =>
      event.type === "DIE" ? { wstatus: event.wstatus, statusAssumed: event.assumed, stopped: 0, pending: EMPTY_QUEUE, waitReport: null } : {},
    ),
    correctStatus: assign(({ event }) => (event.type === "CORRECT_STATUS" ? { wstatus: event.wstatus, statusAssumed: false } : {})),
    reparent: assign(({ event }) => (event.type === "REPARENT" ? { ppid: event.ppid, parentTid: event.parentTid ?? event.ppid } : {})),
    // prctl(PR_SET_CHILD_SUBREAPER): is_child_subreaper = !!arg2.
    setSubreaper: assign(({ event }) => (event.type === "SET_SUBREAPER" ? { childSubreaper: event.on } : {})),
    // Sets are updated in place: a copy per fork would make fork O(children).
    addChild: ({ context, event }) => void (event.type === "CHILD_ADD" && context.children.add(event.pid)),
    dropChild: ({ context, event }) => void (event.type === "CHILD_DROP" && context.children.delete(event.pid)),
    addThread: ({ context, event }) => void (event.type === "THREAD_ADD" && context.threads.add(event.tid)),
    dropThread: ({ context, event }) => void (event.type === "THREAD_DROP" && context.threads.delete(event.tid)),
    dropAllThreads: ({ context }) => context.threads.clear(),
  },
  guards: {
    statusWasAssumed: ({ context }) => context.statusAssumed,
  },
}).createMachine({
  id: "process",
  // The input's fields are named one by one: on Node.js 20, `{ ...input, more }` with this
  // many properties builds each context on V8's slow path (about 50-100 µs per process
  // against under 1 µs, and a larger object), which made creating the actor the dominant
  // cost of a fork (bench/README.md).
  context: ({ input }) => ({
    pid: input.pid,
    ppid: input.ppid,
    pgid: input.pgid,
    sid: input.sid,
    exe: input.exe,
    argv: input.argv,
    hostpid: input.hostpid,
    startTime: input.startTime,
    delivery: input.delivery,
    // A forked child copies comm, signal dispositions, credentials and procfs info from its parent.
    comm: input.inherit ? input.inherit.comm : commOf(input.exe),
    parentTid: input.parentTid ?? input.ppid,
    exitSignal: 17,
    children: new Set<number>(),
    threads: new Set<number>([input.pid]),
    wstatus: null,
    statusAssumed: false,
    execed: false,
    childSubreaper: false,
    sigIgnored: input.inherit ? input.inherit.sigIgnored : 0n,
    sigCaught: input.inherit ? input.inherit.sigCaught : 0n,
    saFlags: new Map<number, number>(input.inherit ? input.inherit.saFlags : undefined),
    creds: input.inherit ? input.inherit.creds : { ruid: 0, euid: 0, suid: 0 },
    pending: EMPTY_QUEUE,
    stopped: 0,
    waitReport: null,
    info: input.inherit ? input.inherit.info : NO_INFO,
  }),
  initial: "embryo",
  on: {
    REPARENT: { actions: "reparent" },
    SIGACTION: { actions: "sigaction" },
    SET_CREDS: { actions: "setCreds" },
    SET_PGRP: { actions: "setPgrp" },
    PENDING: { actions: "setPending" },
    WAIT_REPORT: { actions: "setWaitReport" },
    INFO: { actions: "setInfo" },
    SET_COMM: { actions: "setComm" },
    CHILD_ADD: { actions: "addChild" },
    CHILD_DROP: { actions: "dropChild" },
    THREAD_ADD: { actions: "addThread" },
    THREAD_DROP: { actions: "dropThread" },
  },
  states: {
    embryo: {
      on: {
        CLAIM: { target: "running", actions: "bindHost" },
        ABORT: { target: "aborted", actions: "dropAllThreads" },
        DIE: { target: "zombie", actions: ["recordDeath", "dropAllThreads"] },
      },
    },
    running: {
      on: {
        EXEC: { actions: "applyExec" },
        SET_SUBREAPER: { actions: "setSubreaper" },
        // Job control: a stop signal's default action stops the group; SIGCONT resumes it.
        STOP: { actions: "stop" },
        CONT: { actions: "cont" },
        EXEC_NATIVE: { target: "native", actions: ["applyExec", "dropAllThreads"] },
        DIE: { target: "zombie", actions: ["recordDeath", "dropAllThreads"] },
      },
    },
    native: {
      on: { DIE: { target: "zombie", actions: "recordDeath" }, STOP: { actions: "stop" }, CONT: { actions: "cont" } },
    },
    zombie: {
      on: {
        CORRECT_STATUS: { guard: "statusWasAssumed", actions: "correctStatus" },
        REAP: "reaped",
      },
    },
    reaped: { type: "final" },
    aborted: { type: "final" },
  },
});

export type ProcessState = "embryo" | "running" | "native" | "zombie" | "reaped" | "aborted";
