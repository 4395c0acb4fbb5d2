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
 * Job control is a flag beside the state, not a state: `job.stopped` is the signal that
 * stopped a running (or native) process (ps state T) and 0 otherwise; STOP and CONT set
 * and clear it, DIE clears it. `job.waitReport` is the stop or continue its parent's wait
 * may still collect (WUNTRACED / WCONTINUED), set with WAIT_REPORT.
 */
import { assign, enqueueActions, setup } from "xstate";
import { EMPTY_QUEUE, HANDLER, SA, SIG, bit, has, type SigQueue } from "./sigset.js";
import { NO_INFO, afterExec, type ProcInfo } from "./procinfo.js";
import type { ThreadContext } from "./thread.js";
import { directInitialSnapshot } from "./initialsnapshot.js";
import { directSteps } from "./directstep.js";

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

/** What runs: set at exec (comm also by prctl PR_SET_NAME on the leader), copied at fork. */
export interface Image {
  readonly exe: string;
  readonly argv: string[];
  /** The executable's basename cut to 15 bytes (task->comm), or what PR_SET_NAME set. */
  readonly comm: string;
}

/** The signal actions (sighand_struct): replaced whole by SIGACTION and exec; a forked child shares the immutable value, which is copy_sighand's copy. */
export interface Sigactions {
  /** Signals whose disposition is SIG_IGN / a handler: bit (signo - 1), as /proc/PID/status's SigIgn and SigCgt. */
  readonly ignored: bigint;
  readonly caught: bigint;
  /** The SA_* flags of each signal's current action, for the signals that have any. */
  readonly flags: ReadonlyMap<number, number>;
}

/** Job control: a flag beside the lifecycle state, not a state (see the header). */
export interface JobControl {
  /** The signal that stopped the process (group stop, state T), 0 while it runs. */
  readonly stopped: number;
  /** A stop or continue the parent's wait can still report (SIGNAL_STOP_STOPPED / SIGNAL_STOP_CONTINUED). */
  readonly waitReport: WaitReport | null;
}

/** Per-process facts that change at most once or twice in its life. */
export interface ProcessFlags {
  /** The signal sent to the parent at exit: SIGCHLD for every fork child (a clone child's would differ, for __WCLONE). */
  readonly exitSignal: number;
  /** The status was assumed (connection closed without exit); a reaper may correct it. */
  readonly statusAssumed: boolean;
  /** True once execve ran: setpgid on this child then fails with EACCES. */
  readonly execed: boolean;
  /** prctl(PR_SET_CHILD_SUBREAPER) */
  readonly childSubreaper: boolean;
}

export interface ProcessInput {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  image: Image;
  hostpid: number;
  /** Milliseconds since the namespace started. */
  startTime: number;
  /** Signal delivery: a DELIVERY code (EVENTS messages on the connection, HOST host signals, HOST_BLOCKED host signals rung also while blocked). */
  delivery: number;
  /** The thread that forked it (its real_parent task); the parent's pid when not given. */
  parentTid?: number;
  /** A forked child's parent: what the child copies from it beyond the fields above. */
  inherit?: Pick<ProcessContext, "sigactions" | "creds" | "info">;
  /** The leader thread's starting signal mask: the forking thread's (copy_process copies current->blocked); 0 when not given. The kernel keeps it on the leader's ThreadRef (actors/leader.ts), not in this context. */
  blocked?: bigint;
}

/**
 * At most 19 top-level fields, so keep it: xstate's assign builds each new context with
 * Object.assign({}, context, update), and V8 (Node 20) makes an object built that way with
 * 20 or more properties a dictionary (about 5.8 µs per assign instead of 0.4 µs, a hash
 * lookup per read, 1.4 KiB instead of 0.3 KiB: bench/README.md). Fields that change rarely
 * are grouped into immutable values (image, flags, sigactions, job), replaced whole.
 */
export interface ProcessContext {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  readonly image: Image;
  readonly hostpid: number;
  readonly startTime: number;
  readonly delivery: number;
  /** The parent thread whose children list holds this process (__WNOTHREAD). */
  readonly parentTid: number;
  /**
   * Children in Linux's list order: fork order, reparented ones appended. A Set changed in
   * place (no new snapshot): by this actor's actions at reparenting and a failed fork, and by
   * the kernel's copy_process when a child is made (actors/fork.ts, `fork`) and release_task
   * when a zombie is reaped (actors/exit.ts, `release`), which no transition of this actor
   * reads, so a fork and a reap cost the parent no xstate step.
   */
  readonly children: Set<number>;
  /** Live and reserved threads, the leader (tid == pid) first. */
  readonly threads: Set<number>;
  readonly wstatus: number | null;
  readonly flags: ProcessFlags;
  readonly sigactions: Sigactions;
  /** Credentials for kill's permission rule; copied at fork. */
  readonly creds: Creds;
  /** Process-directed pending signals (signal->shared_pending): /proc/PID/status ShdPnd. */
  readonly pending: SigQueue;
  readonly job: JobControl;
  /** What the guest reported for procfs (environ, cwd, gids, memory): see procinfo.ts. */
  readonly info: ProcInfo;
  /**
   * The leader thread's own state (its mask, thread-directed pending signals, name, waits),
   * held here rather than by an actor of its own: the process's actor stands for its leader
   * thread (actors/leader.ts), and only a second thread gets a thread actor
   * (machine/thread.ts). Its lifecycle is the process's: embryo while the process is, running
   * while its tid is among the live threads, exited after.
   */
  readonly leader: ThreadContext;
}

/** A new process's flags: exit signal SIGCHLD, not execed, not a subreaper (copy_process clears it). */
const NEW_FLAGS: ProcessFlags = Object.freeze({ exitSignal: SIG.SIGCHLD, statusAssumed: false, execed: false, childSubreaper: false });
/** Every signal at SIG_DFL with no flags. */
const DEFAULT_SIGACTIONS: Sigactions = Object.freeze({ ignored: 0n, caught: 0n, flags: new Map<number, number>() });
/** Running, nothing for wait to report. */
const NO_JOB: JobControl = Object.freeze({ stopped: 0, waitReport: null });

/** The system id of a process's actor (actors/kernel.ts, ActorHost): how another actor sends to it. */
export const procId = (pid: number): string => `proc:${pid}`;

/** A process image from its executable and arguments. */
export function imageOf(exe: string, argv: string[]): Image {
  return { exe, argv, comm: commOf(exe) };
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
  | { type: "CHILD_DROP"; pid: number }
  /** forget_original_parent: this dying process hands its children to `reaper` (thread `heir`). */
  | { type: "FORGET_CHILDREN"; reaper: number; heir: number }
  /** From the dying parent: these children are now this process's (appended, list_move_tail). */
  | { type: "ADOPT"; children: readonly number[] }
  /** Thread `tid` of this live process ended: the children it forked go to thread `heir`. */
  | { type: "THREAD_CHILDREN"; tid: number; heir: number }
  /** From the parent: its thread `tid` ended; if that thread forked this process, `heir` is its parent thread now. */
  | { type: "PARENT_THREAD_GONE"; tid: number; heir: number }
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
  | { type: "SET_COMM"; comm: string }
  /** The leader thread's events (machine/thread.ts has the same for any other thread). */
  | { type: "SET_WAITING"; waiting: bigint }
  | { type: "SET_WATCHED"; watched: bigint }
  | { type: "THREAD_PENDING"; pending: SigQueue }
  | { type: "THREAD_COMM"; comm: string }
  /** execve from another thread (de_thread): that thread becomes the leader, with its own mask and pending signals. */
  | { type: "LEADER_TAKEOVER"; pending: SigQueue };

/** comm is the executable's basename cut to TASK_COMM_LEN - 1 = 15 bytes (fs/exec.c __set_task_comm). */
export function commOf(exe: string): string {
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  const b = Buffer.from(base, "utf8");
  return b.length <= 15 ? base : b.subarray(0, 15).toString("utf8").replace(/\uFFFD+$/, "");
}

/**
 * do_notify_parent's autoreap: "if the parent ignores SIGCHLD (SIG_IGN) or has SA_NOCLDWAIT
 * set, the child is released at once and no zombie is left" (wait(2), NOTES: POSIX.1-2001 and
 * Linux). The parent decides from its own dispositions (actors/exit.ts, tellParent).
 */
export function autoReaps(parent: Pick<ProcessContext, "sigactions">): boolean {
  return has(parent.sigactions.ignored, SIG.SIGCHLD) || ((parent.sigactions.flags.get(SIG.SIGCHLD) ?? 0) & SA.NOCLDWAIT) !== 0;
}

/** An event for another process actor (sendTo's argument), checked against ProcessEvent. */
const to = (e: ProcessEvent): ProcessEvent => e;

/** Flags survive exec only for signals that stay ignored. */
function resetFlags(sa: Sigactions): ReadonlyMap<number, number> {
  const m = new Map<number, number>();
  for (const [sig, f] of sa.flags) if (has(sa.ignored, sig)) m.set(sig, f);
  return m;
}

/**
 * A new process's context, from its input: the machine's context factory, which a process
 * actor's initial snapshot also takes directly (machine/initialsnapshot.ts). The fields are
 * named one by one: on Node.js 20, `{ ...input, more }` with many properties builds each
 * context on V8's slow path (about 50-100 µs per process against under 1 µs, and a larger
 * object), which made creating the actor the dominant cost of a fork (bench/README.md). A
 * forked child shares its parent's immutable values.
 */
function processContext(input: ProcessInput): ProcessContext {
  return {
    pid: input.pid,
    ppid: input.ppid,
    pgid: input.pgid,
    sid: input.sid,
    image: input.image,
    hostpid: input.hostpid,
    startTime: input.startTime,
    delivery: input.delivery,
    parentTid: input.parentTid ?? input.ppid,
    children: new Set<number>(),
    threads: new Set<number>([input.pid]),
    wstatus: null,
    flags: NEW_FLAGS,
    // A forked child copies signal dispositions, credentials and procfs info from its parent.
    sigactions: input.inherit ? input.inherit.sigactions : DEFAULT_SIGACTIONS,
    creds: input.inherit ? input.inherit.creds : { ruid: 0, euid: 0, suid: 0 },
    pending: EMPTY_QUEUE,
    job: NO_JOB,
    info: input.inherit ? input.inherit.info : NO_INFO,
    leader: { tid: input.pid, pid: input.pid, pending: EMPTY_QUEUE, comm: null, waiting: 0n, watched: 0n },
  };
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
        ? {
            image: imageOf(event.exe, event.argv),
            flags: context.flags.execed ? context.flags : { ...context.flags, execed: true },
            sigactions: { ignored: context.sigactions.ignored, caught: 0n, flags: resetFlags(context.sigactions) },
            info: afterExec(context.info),
          }
        : {},
    ),
    sigaction: assign(({ context, event }) => {
      if (event.type !== "SIGACTION") return {};
      const sa = context.sigactions;
      const b = bit(event.signo);
      const flags = new Map(sa.flags);
      if (event.flags) flags.set(event.signo, event.flags);
      else flags.delete(event.signo);
      return {
        sigactions: {
          ignored: event.handler === HANDLER.IGN ? sa.ignored | b : sa.ignored & ~b,
          caught: event.handler === HANDLER.CAUGHT ? sa.caught | b : sa.caught & ~b,
          flags,
        },
      };
    }),
    setInfo: assign(({ context, event }) => (event.type === "INFO" ? { info: { ...context.info, ...event.info } } : {})),
    setComm: assign(({ context, event }) => (event.type === "SET_COMM" ? { image: { exe: context.image.exe, argv: context.image.argv, comm: event.comm } } : {})),
    setCreds: assign(({ event }) => (event.type === "SET_CREDS" ? { creds: event.creds } : {})),
    setPgrp: assign(({ event }) => (event.type === "SET_PGRP" ? { pgid: event.pgid, sid: event.sid } : {})),
    setPending: assign(({ event }) => (event.type === "PENDING" ? { pending: event.pending } : {})),
    stop: assign(({ context, event }) => (event.type === "STOP" ? { job: { stopped: event.signo, waitReport: context.job.waitReport } } : {})),
    cont: assign(({ context }) => ({ job: context.job.waitReport ? { stopped: 0, waitReport: context.job.waitReport } : NO_JOB })),
    setWaitReport: assign(({ context, event }) =>
      event.type === "WAIT_REPORT" ? { job: !context.job.stopped && !event.report ? NO_JOB : { stopped: context.job.stopped, waitReport: event.report } } : {},
    ),
    // A dead process is no longer stopped and has nothing pending (exit_signals, flush_signals).
    recordDeath: assign(({ context, event }) =>
      event.type === "DIE"
        ? { wstatus: event.wstatus, flags: event.assumed ? { ...context.flags, statusAssumed: true } : context.flags, pending: EMPTY_QUEUE, job: NO_JOB }
        : {},
    ),
    correctStatus: assign(({ context, event }) =>
      event.type === "CORRECT_STATUS" ? { wstatus: event.wstatus, flags: { ...context.flags, statusAssumed: false } } : {},
    ),
    reparent: assign(({ event }) => (event.type === "REPARENT" ? { ppid: event.ppid, parentTid: event.parentTid ?? event.ppid } : {})),
    // prctl(PR_SET_CHILD_SUBREAPER): is_child_subreaper = !!arg2.
    setSubreaper: assign(({ context, event }) => (event.type === "SET_SUBREAPER" ? { flags: { ...context.flags, childSubreaper: event.on } } : {})),
    // Sets are updated in place: a copy per fork would make fork O(children).
    dropChild: ({ context, event }) => void (event.type === "CHILD_DROP" && context.children.delete(event.pid)),
    // The rest travels to other actors of the namespace by system id (sendTo, through the
    // system: actors/kernel.ts), after this actor's transition, in the same synchronous step.
    // forget_original_parent: each child gets its new parent, and the reaper appends them to
    // its children (list_move_tail) …
    forgetChildren: enqueueActions(({ context, event, system, enqueue }) => {
      if (event.type !== "FORGET_CHILDREN") return;
      const moved = [...context.children];
      for (const pid of moved) {
        const child = system.get(procId(pid));
        if (child) enqueue.sendTo(child, to({ type: "REPARENT", ppid: event.reaper, parentTid: event.heir }));
      }
      const reaper = system.get(procId(event.reaper));
      if (reaper) enqueue.sendTo(reaper, to({ type: "ADOPT", children: moved }));
    }),
    // … and the dying process's list is left empty.
    dropAllChildren: ({ context }) => context.children.clear(),
    adoptChildren: ({ context, event }) => {
      if (event.type === "ADOPT") for (const c of event.children) context.children.add(c);
    },
    // find_new_reaper's find_alive_thread: a live group's children of an ended thread go to
    // another of its threads; each child knows which thread forked it (parentTid).
    tellThreadChildren: enqueueActions(({ context, event, system, enqueue }) => {
      if (event.type !== "THREAD_CHILDREN") return;
      for (const pid of context.children) {
        const child = system.get(procId(pid));
        if (child) enqueue.sendTo(child, to({ type: "PARENT_THREAD_GONE", tid: event.tid, heir: event.heir }));
      }
    }),
    parentThreadGone: assign(({ event }) => (event.type === "PARENT_THREAD_GONE" ? { parentTid: event.heir } : {})),
    // The leader thread's state: a new value each time, as a thread actor's context.
    setLeaderWaiting: assign(({ context, event }) => (event.type === "SET_WAITING" ? { leader: { ...context.leader, waiting: event.waiting } } : {})),
    setLeaderWatched: assign(({ context, event }) => (event.type === "SET_WATCHED" ? { leader: { ...context.leader, watched: event.watched } } : {})),
    setLeaderPending: assign(({ context, event }) => (event.type === "THREAD_PENDING" ? { leader: { ...context.leader, pending: event.pending } } : {})),
    setLeaderComm: assign(({ context, event }) => (event.type === "THREAD_COMM" ? { leader: { ...context.leader, comm: event.comm } } : {})),
    // de_thread: the caller takes the leader's place as a new task would (no name of its own, no waits).
    takeOverLeader: assign(({ context, event }) =>
      event.type === "LEADER_TAKEOVER" ? { leader: { tid: context.pid, pid: context.pid, pending: event.pending, comm: null, waiting: 0n, watched: 0n } } : {},
    ),
    addLeader: ({ context }) => void context.threads.add(context.pid),
    addThread: ({ context, event }) => void (event.type === "THREAD_ADD" && context.threads.add(event.tid)),
    dropThread: ({ context, event }) => void (event.type === "THREAD_DROP" && context.threads.delete(event.tid)),
    dropAllThreads: ({ context }) => context.threads.clear(),
  },
  guards: {
    statusWasAssumed: ({ context }) => context.flags.statusAssumed,
    forkedByThread: ({ context, event }) => event.type === "PARENT_THREAD_GONE" && context.parentTid === event.tid,
    // An exited thread's actor takes no more events; the leader's state, likewise, once it has left the thread list.
    leaderLive: ({ context }) => context.threads.has(context.pid),
  },
}).createMachine({
  id: "process",
  context: ({ input }) => processContext(input),
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
    CHILD_DROP: { actions: "dropChild" },
    ADOPT: { actions: "adoptChildren" },
    FORGET_CHILDREN: { actions: ["forgetChildren", "dropAllChildren"] },
    THREAD_CHILDREN: { actions: "tellThreadChildren" },
    PARENT_THREAD_GONE: { guard: "forkedByThread", actions: "parentThreadGone" },
    THREAD_ADD: { actions: "addThread" },
    THREAD_DROP: { actions: "dropThread" },
    SET_WAITING: { guard: "leaderLive", actions: "setLeaderWaiting" },
    SET_WATCHED: { guard: "leaderLive", actions: "setLeaderWatched" },
    THREAD_PENDING: { guard: "leaderLive", actions: "setLeaderPending" },
    THREAD_COMM: { guard: "leaderLive", actions: "setLeaderComm" },
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
        LEADER_TAKEOVER: { actions: ["takeOverLeader", "addLeader"] },
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

// Its initial snapshot without xstate's macrostep (~80 µs per process in the daemon), and
// the events each child of a shell takes (its parent's pending set changed twice per fork,
// exit and reap; the child's claim, exec, death and reap) likewise where they qualify; and
// the actions a posix_spawn child resets and its environment's report (make's child: ten
// SIGACTION and one INFO, ~90 µs each through the macrostep; bench/README.md, helper 20c).
directInitialSnapshot(processMachine, processContext);
directSteps(processMachine, ["PENDING", "CLAIM", "EXEC", "DIE", "REAP", "SIGACTION", "INFO"]);

export type ProcessState = "embryo" | "running" | "native" | "zombie" | "reaped" | "aborted";
