/**
 * Cooperative ptrace (spec/ptrace.md): who traces whom, the stops, and the requests only
 * the tracee can answer, in the order kernel/ptrace.c and kernel/signal.c do them. One
 * ptrace actor (machine/ptrace.ts) per tracee; this module keeps them indexed by tracee
 * and by tracer, so that no rule scans the namespace.
 *
 * The daemon holds the state Linux keeps in the task (task->ptrace, ->parent, exit_code,
 * last_siginfo, ptrace_message, the jobctl bits); the tracee holds its memory and its
 * registers. A stop is entered here (a signal the daemon was about to act on, an event the
 * tracee reports with ptrace_event, an interrupt) and the tracee is rung (host signal
 * BELL for delivery 1, a PTRACE_STOP event for delivery 0); it then calls ptrace_serve,
 * which hands it the tracer's requests one by one until the tracer resumes it.
 */
import type { Actor } from "xstate";
import { E, errno, type Errno } from "../protocol/errno.js";
import { ptraceMachine, type PtraceContext, type PtraceState, type PtraceStop } from "../machine/ptrace.js";
import { KERNEL_ONLY, KERNEL_IGNORE, SA, SI, SIG, has, type SigInfo } from "../machine/sigset.js";
import { PTRACE_MODE as MODE, PTRACE_OPTIONS, PTRACE_POINT as POINT } from "../protocol/calls/ptrace.js";
import { byHost } from "../protocol/calls/session.js";
import { WaitQueue } from "./waitqueue.js";
import type { Kernel } from "./kernel.js";
import { deliver, disposition, handlerChosen, killProcess, sendSignal } from "./signal.js";
import { notifyParentOfExit } from "./exit.js";

export type PtraceActor = Actor<typeof ptraceMachine>;

/** si_code of a ptrace stop's SIGCHLD (include/uapi/asm-generic/siginfo.h). */

/** The host signal that rings a delivery-1 tracee into its stop (spec/ptrace.md §4.2): SIGRTMAX. */
export const BELL = 64;

// include/uapi/linux/ptrace.h
export const PT = {
  TRACEME: 0, PEEKTEXT: 1, PEEKDATA: 2, PEEKUSR: 3, POKETEXT: 4, POKEDATA: 5, POKEUSR: 6, CONT: 7, KILL: 8, SINGLESTEP: 9,
  GETREGS: 12, SETREGS: 13, GETFPREGS: 14, SETFPREGS: 15, ATTACH: 16, DETACH: 17, SYSCALL: 24,
  SETOPTIONS: 0x4200, GETEVENTMSG: 0x4201, GETSIGINFO: 0x4202, SETSIGINFO: 0x4203, GETREGSET: 0x4204, SETREGSET: 0x4205,
  SEIZE: 0x4206, INTERRUPT: 0x4207, LISTEN: 0x4208,
} as const;

export const O = {
  TRACESYSGOOD: 1, TRACEFORK: 2, TRACEVFORK: 4, TRACECLONE: 8, TRACEEXEC: 0x10, TRACEVFORKDONE: 0x20, TRACEEXIT: 0x40, TRACESECCOMP: 0x80,
  EXITKILL: 0x100000, SUSPEND_SECCOMP: 0x200000,
} as const;
/** PTRACE_O_MASK */
export const O_MASK = 0xff | O.EXITKILL | O.SUSPEND_SECCOMP;

export const EVENT = { FORK: 1, VFORK: 2, CLONE: 3, EXEC: 4, VFORK_DONE: 5, EXIT: 6, SECCOMP: 7, STOP: 128 } as const;


/** The requests only the tracee answers: its memory and its registers. */
export const TRACEE_REQUESTS: ReadonlySet<number> = new Set([
  PT.PEEKTEXT, PT.PEEKDATA, PT.PEEKUSR, PT.POKETEXT, PT.POKEDATA, PT.POKEUSR, PT.GETREGS, PT.SETREGS, PT.GETFPREGS, PT.SETFPREGS, PT.GETREGSET, PT.SETREGSET,
]);

/** A request carried to the tracee, and its answer once given. */
export interface TraceeRequest {
  readonly id: number;
  readonly op: number;
  readonly addr: bigint;
  readonly data: bigint;
  readonly bytes: Uint8Array;
  answer?: { result: number; value: bigint; bytes: Uint8Array };
  /** The tracee took it (ptrace_serve returned it). */
  taken: boolean;
  /** The tracer gave up (interrupted or timed out): the answer goes nowhere. */
  abandoned: boolean;
}

interface Link {
  readonly actor: PtraceActor;
  /** The tracee's process actor: a pid reused by another process is not this tracee. */
  readonly proc: unknown;
  readonly requests: TraceeRequest[];
  /** Requests the tracee took and has not answered yet. */
  readonly inflight: Set<TraceeRequest>;
  /** Woken when a request arrives or the tracee may run on: ptrace_serve sleeps on it. */
  readonly serve: WaitQueue;
  /** Woken when a request is answered or the tracee leaves its stop: the tracer's ptrace call sleeps on it. */
  readonly answered: WaitQueue;
  /**
   * The tracee's serving began with its ptrace_event (a stop point of its own, inside its
   * system call or fork): when that ends, a stop decided meanwhile still waits for it to
   * arrive on its way back to user mode, not at this serving's end.
   */
  selfServe: boolean;
  /**
   * A death the daemon deals (a fatal signal's default action, SIGKILL) that waits for the
   * tracee's PTRACE_EVENT_EXIT stop to end: the signal, -1 once the stop is over, 0 none.
   */
  exiting: number;
}

interface Table {
  readonly links: Map<number, Link>;
  readonly byTracer: Map<number, Set<number>>;
  nextId: number;
}

const tables = new WeakMap<Kernel, Table>();

function table(k: Kernel): Table {
  let t = tables.get(k);
  if (!t) {
    t = { links: new Map(), byTracer: new Map(), nextId: 1 };
    tables.set(k, t);
    // exit_ptrace: a tracer's tracees are detached as it exits (do_exit → exit_notify's forget_original_parent).
    k.addResource({ onExit: (pid) => tracerExited(k, pid) });
  }
  return t;
}

/** The tracee's link, if it is traced (a stale one, for a pid reused, is dropped). */
function link(k: Kernel, pid: number): Link | undefined {
  const t = tables.get(k);
  const l = t?.links.get(pid);
  if (!l) return undefined;
  if (k.proc(pid) !== l.proc || (k.state(pid) === "reaped" || k.state(pid) === "aborted")) {
    unlink(k, pid);
    return undefined;
  }
  return l;
}

const ctxOf = (l: Link): PtraceContext => l.actor.getSnapshot().context;
const stateOf = (l: Link): PtraceState => l.actor.getSnapshot().value as PtraceState;

/** task->ptrace ? task->parent : 0 */
export function tracerOf(k: Kernel, pid: number): number {
  const l = link(k, pid);
  return l ? ctxOf(l).tracer : 0;
}

/** The tracer's ptraced list (tsk->ptraced). */
export function tracedBy(k: Kernel, tracer: number): number[] {
  const s = tables.get(k)?.byTracer.get(tracer);
  return s ? [...s].filter((p) => link(k, p) !== undefined) : [];
}

/** In a ptrace stop (TASK_TRACED), listening included: it takes no signal but SIGKILL. */
export function ptraceStopped(k: Kernel, pid: number): boolean {
  const l = link(k, pid);
  return l !== undefined && stateOf(l) !== "running";
}

/** The options of the tracee's tracing, -1 when it is not traced. */
export function ptraceOptions(k: Kernel, pid: number): number {
  const l = link(k, pid);
  return l ? ctxOf(l).options : PTRACE_OPTIONS.NOT_TRACED;
}

/**
 * What the tracer's wait collects from a tracee (task_stopped_code with ptrace: exit_code
 * while TASK_TRACED and not JOBCTL_LISTENING), or 0; `take` clears it (unless WNOWAIT).
 */
export function ptraceReport(k: Kernel, pid: number, take: boolean): number {
  const l = link(k, pid);
  if (!l || stateOf(l) !== "stopped") return 0;
  const c = ctxOf(l);
  if (c.reported || !c.stop) return 0;
  if (take) l.actor.send({ type: "REPORTED" });
  return c.stop.exitCode;
}

function attach(k: Kernel, tracer: number, tracee: number, seized: boolean, options: number): Link {
  const t = table(k);
  const actor = k.spawn(ptraceMachine, `ptrace:${tracee}`, { tracer, tracee, seized, options });
  const l: Link = { actor, proc: k.proc(tracee), requests: [], inflight: new Set(), serve: new WaitQueue(), answered: new WaitQueue(), selfServe: false, exiting: 0 };
  t.links.set(tracee, l);
  let s = t.byTracer.get(tracer);
  if (!s) t.byTracer.set(tracer, (s = new Set()));
  s.add(tracee);
  k.waitChanged(tracer);
  return l;
}

/** __ptrace_unlink: the tracee is nobody's any more; whoever waits on it re-checks. */
function unlink(k: Kernel, pid: number): void {
  const t = tables.get(k);
  const l = t?.links.get(pid);
  if (!t || !l) return;
  const tracer = ctxOf(l).tracer;
  t.links.delete(pid);
  t.byTracer.get(tracer)?.delete(pid);
  if (t.byTracer.get(tracer)?.size === 0) t.byTracer.delete(tracer);
  k.waitChanged(tracer);
  l.actor.send({ type: "DETACH" });
  k.release(l.actor);
  l.serve.wake();
  l.answered.wake();
}

/** The tracee's siginfo for a stop it reports itself (ptrace_do_notify): si_pid and si_uid are its own. */
function selfInfo(k: Kernel, pid: number, signo: number, code: number): SigInfo {
  return { signo, code, pid, uid: k.ctx(pid)?.creds.ruid ?? 0, status: 0 };
}

/**
 * ptrace_stop: the tracee stops, its tracer is told (do_notify_parent_cldstop with
 * for_ptrace: SIGCHLD with CLD_TRAPPED unless the tracer's SIGCHLD is ignored or has
 * SA_NOCLDSTOP; its wait wakes either way), and the tracee is rung so that it serves.
 *
 * A stop the daemon decides for a delivery-1 tracee that runs (a signal for ptrace_signal,
 * an interrupt) is only decided here: Linux's tracee stops in get_signal on its way back to
 * user mode, after the system call it is in has ended and made its own syscall-exit stop.
 * So the tracee is rung and the stop waits (trapping) until it arrives: its ptrace_serve
 * (arrive), where the tracer is told. `self`: a stop the tracee reports (ptrace_event),
 * whose reply is its serving: no ring.
 */
function enterStop(k: Kernel, pid: number, l: Link, stop: PtraceStop, message?: bigint, self = false): void {
  const st = stateOf(l);
  const c = k.ctx(pid);
  if (st === "running" && !self && c !== undefined && byHost(c.delivery) && !c.job.stopped && (stop.kind === "signal" || stop.kind === "interrupt")) {
    l.actor.send({ type: "TRAP", stop, message });
    ring(k, pid);
    return;
  }
  l.actor.send({ type: "STOP", stop, message });
  tellTracer(k, pid, l, stop);
  if ((st === "running" || st === "trapping") && !self) ring(k, pid);
}

/** do_notify_parent_cldstop(current, true, CLD_TRAPPED) as the tracee enters its stop. */
function tellTracer(k: Kernel, pid: number, l: Link, stop: PtraceStop): void {
  const tracer = ctxOf(l).tracer;
  const tc = k.ctx(tracer);
  if (!tc) return;
  const flags = tc.sigactions.flags.get(SIG.SIGCHLD) ?? 0;
  if (!has(tc.sigactions.ignored, SIG.SIGCHLD) && !(flags & SA.NOCLDSTOP))
    sendSignal(k, tracer, undefined, { signo: SIG.SIGCHLD, code: SI.CLD_TRAPPED, pid, uid: k.ctx(pid)?.creds.ruid ?? 0, status: stop.exitCode & 0x7f });
  k.notifyParent(tracer);
}

/** A trapping tracee reached its stop (its ptrace_serve on the way to user mode): it stops now. */
function arrive(k: Kernel, pid: number, l: Link): void {
  l.actor.send({ type: "ARRIVE" });
  const stop = ctxOf(l).stop;
  if (stop) tellTracer(k, pid, l, stop);
}

/** Tells the tracee it is in a ptrace stop: it calls ptrace_serve (spec/ptrace.md §4.2). */
export function ring(k: Kernel, pid: number): void {
  const c = k.ctx(pid);
  if (!c || k.state(pid) !== "running") return;
  if (byHost(c.delivery)) {
    if (c.hostpid > 0) k.hooks.killHost(pid, c.hostpid, BELL);
  } else k.hooks.ptraceStop?.(pid);
}

/**
 * get_signal → ptrace_signal: a traced process does not act on a signal it dequeues (other
 * than SIGKILL): it stops in a signal-delivery stop and the tracer decides (kernel/signal.c).
 * Called by signal.ts with the signal already taken from its queue.
 */
export function signalDeliveryStop(k: Kernel, pid: number, info: SigInfo): void {
  const l = link(k, pid);
  if (!l) return;
  enterStop(k, pid, l, { kind: "signal", exitCode: info.signo, info });
}

/**
 * do_exit → ptrace_event(PTRACE_EVENT_EXIT, code) for a death the daemon deals (a fatal
 * signal's default action, SIGKILL; Linux 6.x stops a tracee with PTRACE_O_TRACEEXIT there for
 * both): the tracee stops with the wait status as its message, and dies once its tracer
 * resumes it (or detaches, or is gone). True when the death waits for that stop.
 */
export function ptraceExiting(k: Kernel, pid: number, signo: number): boolean {
  const l = link(k, pid);
  if (!l || l.exiting !== 0 || !(ctxOf(l).options & O.TRACEEXIT) || k.state(pid) !== "running") return false;
  l.exiting = signo;
  const code = SIG.SIGTRAP | (EVENT.EXIT << 8);
  enterStop(k, pid, l, { kind: "event", exitCode: code, info: selfInfo(k, pid, SIG.SIGTRAP, code) }, BigInt(signo & 0x7f));
  return true;
}

/** Whether signal.ts hands this process's signals to ptrace (task->ptrace) rather than acting on them. */
export function traced(k: Kernel, pid: number): boolean {
  return link(k, pid) !== undefined;
}

/**
 * The group stop of a traced process (do_signal_stop → do_jobctl_trap): a seized tracee
 * reports PTRACE_EVENT_STOP with the stop signal; one attached otherwise reports a plain
 * stop with no siginfo (GETSIGINFO is EINVAL there).
 */
function groupStop(k: Kernel, pid: number, l: Link, signo: number): void {
  const seized = ctxOf(l).seized;
  const code = signo | (EVENT.STOP << 8);
  enterStop(k, pid, l, seized ? { kind: "group", exitCode: code, info: selfInfo(k, pid, signo, code) } : { kind: "group", exitCode: signo, info: null });
}

/** An interrupt stop (JOBCTL_TRAP_STOP): SIGTRAP | PTRACE_EVENT_STOP << 8 (do_jobctl_trap: no group stop in effect). */
function interruptStop(k: Kernel, pid: number, l: Link): void {
  const code = SIG.SIGTRAP | (EVENT.STOP << 8);
  enterStop(k, pid, l, { kind: "interrupt", exitCode: code, info: selfInfo(k, pid, SIG.SIGTRAP, code) });
}

/**
 * prepare_signal's SIGCONT for a seized tracee (ptrace_trap_notify): one that listens
 * re-traps, reporting PTRACE_EVENT_STOP with SIGTRAP since the group stop is over; one in
 * a stop keeps JOBCTL_TRAP_NOTIFY and re-traps so as soon as it leaves it (LISTEN, a resume).
 */
export function ptraceContinued(k: Kernel, pid: number): void {
  const l = link(k, pid);
  if (!l || !ctxOf(l).seized) return;
  if (stateOf(l) === "listening") interruptStop(k, pid, l);
  else if (stateOf(l) === "stopped") l.actor.send({ type: "NOTIFY" });
}

/**
 * The signal a resumed tracee takes (ptrace_signal after ptrace_stop, then get_signal's
 * action), decided while it is still stopped: a handler's signal to run (delivery 1), null
 * when the daemon dealt with it, "stopped" when it stopped the tracee again (a group stop).
 */
function takeSignal(k: Kernel, pid: number, l: Link, sig: number, stop: PtraceStop): SigInfo | null | "stopped" {
  const c = ctxOf(l);
  // "Update the siginfo structure if the signal has changed": a signal other than the one
  // that stopped it comes from the tracer, SI_USER.
  const info: SigInfo =
    stop.info && stop.info.signo === sig
      ? stop.info
      : { signo: sig, code: SI.USER, pid: c.tracer, uid: k.ctx(c.tracer)?.creds.ruid ?? 0, status: 0 };
  // "If the (new) signal is now blocked, requeue it."
  const t = k.threads.get(pid);
  if (t && has(t.blocked, sig)) {
    sendSignal(k, pid, pid, info, true);
    return null;
  }
  const p = k.ctx(pid)!;
  const d = disposition(p, sig);
  if (d === "handler") {
    handlerChosen(k, pid, sig);
    if (byHost(p.delivery)) return info;
    k.hooks.signalEvent?.(pid, info);
    return null;
  }
  if (d === "ignore" || has(KERNEL_IGNORE, sig)) return null;
  if (pid === 1 && !has(KERNEL_ONLY, sig)) return null;
  if (sig === SIG.SIGSTOP || sig === SIG.SIGTSTP || sig === SIG.SIGTTIN || sig === SIG.SIGTTOU) {
    groupStop(k, pid, l, sig);
    return "stopped";
  }
  killProcess(k, pid, sig);
  return null;
}

/**
 * ptrace_resume (CONT, SYSCALL, SINGLESTEP, DETACH's wake-up): the tracee runs on with
 * signal `sig` (0: none). Only a signal-delivery stop delivers it (ptrace(2): "restarting
 * ptrace commands issued in ptrace-stops other than signal-delivery-stop are not guaranteed
 * to inject a signal"); a syscall stop queues it (ptrace_report_syscall's send_sig).
 */
function resume(k: Kernel, pid: number, l: Link, mode: number, sig: number): SigInfo | null {
  const stop = ctxOf(l).stop;
  const notify = ctxOf(l).notify;
  let inject: SigInfo | null = null;
  dropRequests(l);
  if (sig && stop?.kind === "signal") {
    const r = takeSignal(k, pid, l, sig, stop);
    if (r === "stopped") return null;
    inject = r;
  } else if (sig && stop?.kind === "syscall") sendSignal(k, pid, pid, { signo: sig, code: SI.USER, pid: ctxOf(l).tracer, uid: 0, status: 0 }, true);
  l.actor.send({ type: "RESUME", mode, inject });
  l.serve.wake();
  // do_exit after ptrace_event(PTRACE_EVENT_EXIT): the death the stop held back goes on.
  if (l.exiting > 0) {
    const signo = l.exiting;
    l.exiting = -1;
    killProcess(k, pid, signo);
    return null;
  }
  // get_signal: "if (unlikely(current->jobctl & JOBCTL_TRAP_MASK)) do_jobctl_trap()": a SIGCONT
  // that came during the stop traps it again at once.
  if (notify) interruptStop(k, pid, l);
  // get_signal's loop: what else is pending is taken now (and may stop it again).
  if (stateOf(l) === "running") deliver(k, pid);
  return inject;
}

/** Requests not answered when the tracee leaves its stop: their tracers get ESRCH. */
function dropRequests(l: Link): void {
  l.requests.length = 0;
  l.inflight.clear();
  l.answered.wake();
}

/** __ptrace_detach / ptrace_detach: unlinked; a stopped tracee runs on with `sig`. */
function detach(k: Kernel, pid: number, l: Link, sig: number): void {
  // A signal taken for a stop the tracee had not reached (trapping) is its again, as a
  // signal still pending on Linux is once its tracer is gone.
  const owed = stateOf(l) === "trapping" ? ctxOf(l).pending?.stop : undefined;
  const stopped = stateOf(l) !== "running" && k.state(pid) === "running";
  // The signal it leaves the stop with is its to run, told by ptrace_serve once unlinked.
  const inj = stopped ? resume(k, pid, l, MODE.CONT, sig) : null;
  if (inj) pendingInject.set(l.proc as object, inj);
  unlink(k, pid);
  if (owed?.kind === "signal" && owed.info && k.state(pid) === "running") sendSignal(k, pid, undefined, owed.info, true);
  // What it had pending while traced acts now, as an untraced process's.
  if (k.state(pid) === "running") deliver(k, pid);
}

/** A signal given at DETACH for a tracee to run as it leaves the stop, kept past the link. */
const pendingInject = new WeakMap<object, SigInfo>();

/**
 * A zombie tracee the tracer has collected, or one whose tracer is gone: __ptrace_unlink,
 * then its real parent is told of the exit (wait_task_zombie's EXIT_TRACE and
 * __ptrace_detach: do_notify_parent), releasing it at once when the parent auto-reaps.
 */
export function releaseToParent(k: Kernel, pid: number): void {
  unlink(k, pid);
  const c = k.ctx(pid);
  if (!c || k.state(pid) !== "zombie") return;
  if (c.ppid === 0) return void k.dropProcess(pid);
  notifyParentOfExit(k, pid, c.ppid);
}

/**
 * exit_notify for a traced process: "if (unlikely(tsk->ptrace))" its tracer is notified
 * (do_notify_parent to tsk->parent, the tracer) rather than its real parent, when the two
 * differ; the real parent hears of it once the tracer has collected it or is gone. True when
 * the tracer took the notification.
 */
export function ptraceExitNotify(k: Kernel, pid: number): boolean {
  const l = link(k, pid);
  if (!l) return false;
  l.actor.send({ type: "RESUME", mode: MODE.CONT, inject: null });
  dropRequests(l);
  l.serve.wake();
  const c = k.ctx(pid)!;
  const tracer = ctxOf(l).tracer;
  if (tracer === c.ppid) return false;
  const tc = k.ctx(tracer);
  if (tc && !has(tc.sigactions.ignored, SIG.SIGCHLD)) {
    const s = c.wstatus ?? 0;
    const exited = (s & 0x7f) === 0;
    sendSignal(k, tracer, undefined, { signo: SIG.SIGCHLD, code: exited ? 1 : 2, pid, uid: c.creds.ruid, status: exited ? (s >> 8) & 0xff : s & 0x7f });
  }
  k.notifyParent(tracer);
  return true;
}

/** exit_ptrace: every tracee of an exiting tracer is detached; PTRACE_O_EXITKILL ones are killed. */
function tracerExited(k: Kernel, tracer: number): void {
  for (const pid of tracedBy(k, tracer)) {
    const l = link(k, pid)!;
    const c = ctxOf(l);
    if (k.state(pid) === "zombie") {
      if (k.ctx(pid)?.ppid !== tracer) releaseToParent(k, pid);
      else unlink(k, pid);
      continue;
    }
    // __ptrace_detach: "if (unlikely(p->ptrace & PT_EXITKILL)) send_sig_info(SIGKILL, SEND_SIG_PRIV, p);"
    if (c.options & O.EXITKILL) {
      unlink(k, pid);
      sendSignal(k, pid, undefined, { signo: SIG.SIGKILL, code: SI.KERNEL, pid: 0, uid: 0, status: 0 }, true);
      continue;
    }
    detach(k, pid, l, 0);
  }
}

/**
 * A traced process forked (copy_process → ptrace_init_task): with PTRACE_O_TRACEFORK the
 * child is traced by the same tracer with the same options, and starts stopped: SIGSTOP
 * pending, or a PTRACE_EVENT_STOP trap for a seized tracer (JOBCTL_TRAP_STOP).
 */
export function ptraceForked(k: Kernel, parent: number, child: number): void {
  const l = link(k, parent);
  if (!l) return;
  const c = ctxOf(l);
  if (!(c.options & O.TRACEFORK)) return;
  const cl = attach(k, c.tracer, child, c.seized, c.options);
  if (c.seized) interruptStop(k, child, cl);
  else sendSignal(k, child, undefined, { signo: SIG.SIGSTOP, code: SI.USER, pid: 0, uid: 0, status: 0 }, true);
}

/**
 * execve succeeded in a traced process (exec_binprm → ptrace_event(PTRACE_EVENT_EXEC,
 * old_vpid)): the EXEC event stop with PTRACE_O_TRACEEXEC (the message: the tid that called
 * execve), else the legacy SIGTRAP for a tracee not seized. The new image is rung.
 */
export function ptraceExeced(k: Kernel, pid: number, formerTid: number): void {
  if (link(k, pid)) reportEvent(k, pid, EVENT.EXEC, BigInt(formerTid));
}

/** A forked child claimed its pid: a stop it is in already rings it now that it has a host process. */
export function ptraceClaimed(k: Kernel, pid: number): void {
  if (ptraceStopped(k, pid)) ring(k, pid);
}

/** __ptrace_may_access with PTRACE_MODE_ATTACH_REALCREDS: the caller's real uid is each of the target's, or CAP_SYS_PTRACE (euid 0 here). */
function mayAccess(k: Kernel, caller: number, target: number): boolean {
  const a = k.ctx(caller)!.creds;
  const t = k.ctx(target)!.creds;
  if (a.ruid === t.ruid && a.ruid === t.euid && a.ruid === t.suid) return true;
  return a.euid === 0;
}

/** ptrace_traceme: traced by the real parent; EPERM when traced already or the parent is not in the namespace. */
export function traceme(k: Kernel, pid: number): 0 | Errno {
  if (link(k, pid)) return errno(E.EPERM, `${pid} is traced already`);
  const ppid = k.ctx(pid)?.ppid ?? 0;
  if (ppid <= 0 || k.state(ppid) !== "running") return errno(E.EPERM, `${pid}'s parent is not a process of the namespace that could trace it`);
  attach(k, ppid, pid, false, 0);
  return 0;
}

/** ptrace_attach (ATTACH, SEIZE). */
export function attachTo(k: Kernel, caller: number, pid: number, seize: boolean, addr: bigint, flags: bigint): 0 | Errno {
  if (seize) {
    // "if (addr != 0) goto out; if (flags & ~(unsigned long)PTRACE_O_MASK) goto out;" (-EIO)
    if (addr !== 0n) return errno(E.EIO, "PTRACE_SEIZE: addr must be 0");
    if (flags & ~BigInt(O_MASK)) return errno(E.EIO, `PTRACE_SEIZE: unknown options ${flags.toString(16)}`);
  }
  // "if (same_thread_group(task, current)) goto out;" (-EPERM)
  if (pid === caller) return errno(E.EPERM, "a process cannot trace itself");
  if (!mayAccess(k, caller, pid)) return errno(E.EPERM, `${caller} may not trace ${pid}: its uids differ and the caller lacks CAP_SYS_PTRACE`);
  // "if (unlikely(task->exit_state)) goto unlock_tasklist; if (task->ptrace) goto unlock_tasklist;" (-EPERM)
  if (k.state(pid) === "zombie") return errno(E.EPERM, `${pid} is exiting`);
  if (link(k, pid)) return errno(E.EPERM, `${pid} is traced already`);
  const l = attach(k, caller, pid, seize, Number(flags & 0xffffffffn));
  // "if (!seize) send_sig_info(SIGSTOP, SEND_SIG_PRIV, task);"
  if (!seize) sendSignal(k, pid, undefined, { signo: SIG.SIGSTOP, code: SI.KERNEL, pid: 0, uid: 0, status: 0 }, true);
  // A process in a group stop already is re-trapped for its tracer (JOBCTL_TRAP_STOP | JOBCTL_TRAPPING).
  else if (k.ctx(pid)!.job.stopped) groupStop(k, pid, l, k.ctx(pid)!.job.stopped);
  // A seized tracee is rung so that it learns its options (its ptrace_serve returns at once).
  else ring(k, pid);
  return 0;
}

/** 128 bytes of siginfo_t as x86-64 Linux lays it out (si_signo, si_errno, si_code, then si_pid, si_uid, si_status). */
export function siginfoBytes(i: SigInfo): Uint8Array {
  const b = Buffer.alloc(128);
  b.writeInt32LE(i.signo, 0);
  b.writeInt32LE(i.code, 8);
  b.writeInt32LE(i.pid, 16);
  b.writeUInt32LE(i.uid >>> 0, 20);
  if (i.signo === SIG.SIGCHLD) b.writeInt32LE(i.status, 24);
  return b;
}

export function siginfoOf(bytes: Uint8Array): SigInfo | undefined {
  if (bytes.length < 28) return undefined;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return { signo: b.readInt32LE(0), code: b.readInt32LE(8), pid: b.readInt32LE(16), uid: b.readUInt32LE(20), status: b.readInt32LE(24) };
}

/** The request a stopped tracee's tracer makes: checked (ptrace_check_attach) and handled here or carried to the tracee. */
export type Handled = { result: number; value: bigint; bytes: Uint8Array } | Errno | { carry: TraceeRequest; link: Link };

const done = (value = 0n, bytes: Uint8Array = Buffer.alloc(0)): Handled => ({ result: 0, value, bytes });

/**
 * ptrace_request for a tracee `pid` of `caller`: ptrace_check_attach first (ESRCH unless
 * traced by the caller and, but for KILL and INTERRUPT, stopped and not listening), then
 * the request. Requests on the tracee's memory and registers are carried to it.
 */
export function request(k: Kernel, caller: number, req: number, pid: number, addr: bigint, data: bigint, bytes: Uint8Array): Handled {
  const l = link(k, pid);
  if (!l || ctxOf(l).tracer !== caller || k.state(pid) === "zombie") return errno(E.ESRCH, `${pid} is not traced by ${caller}`);
  const st = stateOf(l);
  const c = ctxOf(l);
  if (req === PT.KILL) {
    sendSignal(k, pid, undefined, { signo: SIG.SIGKILL, code: SI.KERNEL, pid: 0, uid: 0, status: 0 }, true);
    return done();
  }
  if (req === PT.INTERRUPT) {
    // "if (unlikely(!seized || !lock_task_sighand(child, &flags))) break;" (-EIO)
    if (!c.seized) return errno(E.EIO, "PTRACE_INTERRUPT needs a tracee attached by PTRACE_SEIZE");
    // JOBCTL_TRAP_STOP: a running tracee traps; a listening one re-traps (ptrace_signal_wake_up).
    if (st === "running" || st === "listening") interruptStop(k, pid, l);
    return done();
  }
  // ptrace_check_attach → ptrace_freeze_traced: "if (task->jobctl & JOBCTL_LISTENING) return false;"
  if (st !== "stopped") return errno(E.ESRCH, `${pid} is not in a ptrace stop`);
  const stop = c.stop!;
  const validSig = (d: bigint): boolean => d >= 0n && d <= 64n;
  switch (req) {
    case PT.CONT:
    case PT.SYSCALL:
    case PT.SINGLESTEP:
      // ptrace_resume: "if (!valid_signal(data)) return -EIO;"
      if (!validSig(data)) return errno(E.EIO, `signal ${data} is not 0..64`);
      resume(k, pid, l, req === PT.CONT ? MODE.CONT : req === PT.SYSCALL ? MODE.SYSCALL : MODE.SINGLESTEP, Number(data));
      return done();
    case PT.DETACH:
      // ptrace_detach: "if (!valid_signal(data)) return -EIO;"
      if (!validSig(data)) return errno(E.EIO, `signal ${data} is not 0..64`);
      detach(k, pid, l, Number(data));
      return done();
    case PT.LISTEN:
      if (!c.seized) return errno(E.EIO, "PTRACE_LISTEN needs a tracee attached by PTRACE_SEIZE");
      if (!(stop.info && stop.info.code >> 8 === EVENT.STOP)) return errno(E.EIO, "PTRACE_LISTEN needs a PTRACE_EVENT_STOP");
      l.actor.send({ type: "LISTEN" });
      // "If NOTIFY is set, it means event happened between start of this trap and now. Trigger re-trap."
      if (c.notify) interruptStop(k, pid, l);
      return done();
    case PT.SETOPTIONS:
      // ptrace_setoptions: "if (data & ~(unsigned long)PTRACE_O_MASK) return -EINVAL;"
      if (data & ~BigInt(O_MASK)) return errno(E.EINVAL, `PTRACE_SETOPTIONS: unknown options ${data.toString(16)}`);
      l.actor.send({ type: "SET_OPTIONS", options: Number(data) });
      return done();
    case PT.GETEVENTMSG:
      return done(c.message);
    case PT.GETSIGINFO:
      // ptrace_getsiginfo: "if (likely(child->last_siginfo != NULL)) … else error = -EINVAL"
      if (!stop.info) return errno(E.EINVAL, `${pid} has no siginfo in this stop (a group stop of a tracee not seized)`);
      return done(0n, siginfoBytes(stop.info));
    case PT.SETSIGINFO: {
      if (!stop.info) return errno(E.EINVAL, `${pid} has no siginfo in this stop`);
      const info = siginfoOf(bytes);
      if (!info) return errno(E.EFAULT, "PTRACE_SETSIGINFO: bytes must hold a siginfo_t");
      l.actor.send({ type: "SET_SIGINFO", info });
      return done();
    }
  }
  if (!TRACEE_REQUESTS.has(req)) return errno(E.EIO, `ptrace request ${req} is not supported`);
  const t = table(k);
  const r: TraceeRequest = { id: t.nextId, op: req, addr, data, bytes, taken: false, abandoned: false };
  t.nextId = t.nextId >= 0xffffffff ? 1 : t.nextId + 1;
  l.requests.push(r);
  l.serve.wake();
  return { carry: r, link: l };
}

/** Whether a carried request is still waiting for its answer: its tracee is stopped and linked. */
export function carriedAlive(k: Kernel, pid: number, l: Link, r: TraceeRequest): boolean {
  return link(k, pid) === l && stateOf(l) === "stopped" && (l.requests.includes(r) || r.taken);
}

/** The tracer gave up on a request (interrupted, timed out): it is no longer offered. */
export function abandon(l: Link, r: TraceeRequest): void {
  r.abandoned = true;
  const i = l.requests.indexOf(r);
  if (i >= 0) l.requests.splice(i, 1);
}

export function answeredQueue(l: Link): WaitQueue {
  return l.answered;
}

/** What ptrace_serve and ptrace_event reply: a request (result its op) or "run on" (result 0). */
export interface Served {
  readonly result: number;
  readonly out: {
    id: number;
    addr: bigint;
    data: bigint;
    bytes: Uint8Array;
    options: number;
    mode: number;
    signo: number;
    code: number;
    pid: number;
    uid: number;
    status: number;
  };
}

const EMPTY = Buffer.alloc(0);

/** The tracee's answer to request `id` (one it took); its tracer's call wakes. An unknown id is ignored. */
export function serveAnswer(k: Kernel, pid: number, id: number, result: number, value: bigint, bytes: Uint8Array): void {
  const l = link(k, pid);
  if (!l || id === 0) return;
  for (const r of l.inflight) {
    if (r.id !== id) continue;
    r.answer = { result, value, bytes };
    l.inflight.delete(r);
    l.answered.wake();
    return;
  }
}

/** The tracee's next step: a request to answer, or "run on"; undefined while it is stopped with nothing to answer (it parks). */
export function serveNext(k: Kernel, pid: number): Served | undefined {
  const l = link(k, pid);
  if (!l) {
    const p = k.proc(pid);
    const inj = p ? pendingInject.get(p) : undefined;
    if (p && inj) pendingInject.delete(p);
    return runOn(PTRACE_OPTIONS.NOT_TRACED, MODE.CONT, inj ?? null);
  }
  // A trapping tracee that serves on its way back to user mode has arrived at its stop.
  if (stateOf(l) === "trapping" && !l.selfServe) arrive(k, pid, l);
  const c = ctxOf(l);
  if (stateOf(l) === "running" || stateOf(l) === "trapping") {
    l.selfServe = false;
    if (c.inject) l.actor.send({ type: "INJECTED" });
    return runOn(c.options, c.mode, c.inject);
  }
  if (stateOf(l) === "stopped") {
    const r = l.requests.shift();
    if (r) {
      r.taken = true;
      l.inflight.add(r);
      return { result: r.op, out: { id: r.id, addr: r.addr, data: r.data, bytes: r.bytes, options: c.options, mode: c.mode, signo: 0, code: 0, pid: 0, uid: 0, status: 0 } };
    }
  }
  return undefined;
}

function runOn(options: number, mode: number, inj: SigInfo | null): Served {
  return {
    result: 0,
    out: { id: 0, addr: 0n, data: 0n, bytes: EMPTY, options, mode, signo: inj?.signo ?? 0, code: inj?.code ?? 0, pid: inj?.pid ?? 0, uid: inj?.uid ?? 0, status: inj?.status ?? 0 },
  };
}

export function serveQueue(k: Kernel, pid: number): WaitQueue[] {
  const l = link(k, pid);
  return l ? [l.serve] : [];
}

/**
 * A stop point the tracee reports itself (ptrace_event): ptrace_event(PTRACE_EVENT_x,
 * message) when its options ask for it (ptrace_event_enabled), a syscall stop when the tracer
 * resumed it with PTRACE_SYSCALL (ptrace_report_syscall: SIGTRAP | 0x80 with
 * PTRACE_O_TRACESYSGOOD), a single step's SIGTRAP. EXEC without PTRACE_O_TRACEEXEC is the
 * legacy SIGTRAP sent to itself (ptrace_event: "else if (event == PTRACE_EVENT_EXEC) … if
 * ((current->ptrace & (PT_PTRACED|PT_SEIZED)) == PT_PTRACED) send_sig(SIGTRAP, current, 0)").
 */
export function reportEvent(k: Kernel, pid: number, event: number, message: bigint, self = false): 0 | Errno {
  const l = link(k, pid);
  if (!l || (stateOf(l) !== "running" && stateOf(l) !== "trapping")) return 0;
  if (self) l.selfServe = true;
  const c = ctxOf(l);
  const enabled: Record<number, number> = { [EVENT.FORK]: O.TRACEFORK, [EVENT.VFORK]: O.TRACEVFORK, [EVENT.CLONE]: O.TRACECLONE, [EVENT.EXEC]: O.TRACEEXEC, [EVENT.VFORK_DONE]: O.TRACEVFORKDONE, [EVENT.EXIT]: O.TRACEEXIT };
  if (event in enabled) {
    if (c.options & enabled[event]!) {
      const code = SIG.SIGTRAP | (event << 8);
      enterStop(k, pid, l, { kind: "event", exitCode: code, info: selfInfo(k, pid, SIG.SIGTRAP, code) }, message, self);
    } else if (event === EVENT.EXEC && !c.seized) {
      sendSignal(k, pid, pid, { signo: SIG.SIGTRAP, code: SI.USER, pid, uid: k.ctx(pid)?.creds.ruid ?? 0, status: 0 }, true);
    }
    return 0;
  }
  if (event === POINT.SYSCALL_ENTRY || event === POINT.SYSCALL_EXIT) {
    if (c.mode !== MODE.SYSCALL) return 0;
    const code = SIG.SIGTRAP | (c.options & O.TRACESYSGOOD ? 0x80 : 0);
    enterStop(k, pid, l, { kind: "syscall", exitCode: code, info: selfInfo(k, pid, SIG.SIGTRAP, code) }, message, true);
    return 0;
  }
  if (event === POINT.STEP) {
    // x86 single step: SIGTRAP with TRAP_TRACE (2), a signal like any other (then a signal-delivery stop).
    if (c.mode === MODE.SINGLESTEP) sendSignal(k, pid, pid, { signo: SIG.SIGTRAP, code: 2, pid: 0, uid: 0, status: 0 }, true);
    return 0;
  }
  return errno(E.EINVAL, `ptrace_event.event: ${event} is not a stop point`);
}

