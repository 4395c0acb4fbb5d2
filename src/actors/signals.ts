/**
 * Signals across processes, in the order kernel/signal.c handles them: permission
 * (check_kill_permission), generation (prepare_signal: stop and continue act at once;
 * sig_ignored discards), queueing (__send_signal_locked), and the action the receiving
 * thread would take (complete_signal, get_signal). The daemon applies every default action
 * itself: terminate (the process dies of the signal and its host process gets SIGKILL),
 * stop (state T, the host process gets SIGSTOP), continue (SIGCONT), ignore. Only a signal
 * the guest has a handler for reaches the guest: as an event on a thread's connection
 * (delivery 0) or as a host signal that tells the guest to take it with sig_dequeue
 * (delivery 1). See spec/signals.md.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import { signaled, ifExited, exitStatus, termSig, coreDumped } from "../machine/wstatus.js";
import type { Creds, ProcessContext } from "../machine/process.js";
import {
  ALL,
  KERNEL_IGNORE,
  KERNEL_ONLY,
  KERNEL_STOP,
  SA,
  SI,
  SIG,
  bit,
  dequeue,
  enqueue,
  flush,
  has,
  nextSignal,
  validSignal,
  type SigInfo,
  type SigQueue,
} from "../machine/sigset.js";
import type { Kernel } from "./kernel.js";
import { exitGroup } from "./lifecycle.js";
import { ptraceContinued, ptraceExiting, ptraceStopped, signalDeliveryStop, traced } from "./ptrace.js";

/** Queued real-time signals per queue (RLIMIT_SIGPENDING plays this role in Linux). */
export const MAX_QUEUED = 256;

/** Who sends: a process of the namespace (pid > 0), or the kernel (pid 0: SEND_SIG_PRIV, always permitted). */
export interface Sender {
  readonly pid: number;
  readonly creds: Creds;
  readonly sid: number;
}

export const KERNEL_SENDER: Sender = { pid: 0, creds: { ruid: 0, euid: 0, suid: 0 }, sid: -1 };

const alive = (k: Kernel, pid: number): boolean => {
  const s = k.state(pid);
  return s === "running" || s === "native" || s === "embryo";
};

type Disposition = "default" | "ignore" | "handler";

export function disposition(c: ProcessContext, signo: number): Disposition {
  if (has(KERNEL_ONLY, signo)) return "default";
  if (has(c.sigactions.caught, signo)) return "handler";
  if (has(c.sigactions.ignored, signo)) return "ignore";
  return "default";
}

/** kill_ok_by_cred: a shared real or effective uid with the target's real or saved uid, or CAP_KILL (euid 0 here). */
function killOkByCred(s: Creds, t: Creds): boolean {
  return s.euid === t.suid || s.euid === t.ruid || s.ruid === t.suid || s.ruid === t.ruid || s.euid === 0;
}

/**
 * check_kill_permission: EINVAL for an invalid signal, then (for a sender that is not the
 * kernel and not the target itself) EPERM unless the credentials allow it; SIGCONT is
 * allowed within the sender's session whatever the uids.
 */
export function checkKillPermission(k: Kernel, sig: number, from: Sender, target: number): 0 | Errno {
  if (!validSignal(sig)) return errno(E.EINVAL, `signal ${sig} is not 0..64`);
  if (from.pid === 0 || from.pid === target) return 0;
  const t = k.ctx(target)!;
  if (!killOkByCred(from.creds, t.creds)) {
    if (sig === SIG.SIGCONT && t.sid === from.sid) return 0;
    return errno(E.EPERM, `uid ${from.creds.ruid}/${from.creds.euid} may not signal ${target} (uids ${t.creds.ruid}/${t.creds.suid})`);
  }
  return 0;
}

/** The thread a thread-group signal is checked against (the leader, as group_send_sig_info passes p). */
function leaderBlocked(k: Kernel, pid: number, tid?: number): bigint {
  return k.threads.get(tid ?? pid)?.getSnapshot().context.blocked ?? 0n;
}

/**
 * sig_ignored / sig_task_ignored: a blocked signal is never ignored at generation; init of
 * the namespace (SIGNAL_UNKILLABLE) drops every signal it has no handler for, except
 * SIGKILL and SIGSTOP forced from outside the namespace; then SIG_IGN, or SIG_DFL of a
 * signal whose default is to ignore (sig_handler_ignored).
 */
function ignoredAtGeneration(k: Kernel, pid: number, tid: number | undefined, sig: number, force: boolean): boolean {
  if (has(leaderBlocked(k, pid, tid), sig)) return false;
  // sig_ignored: "Tracers may want to know about even ignored signal unless it is SIGKILL
  // which can't be reported anyway but can be ignored by SIGNAL_UNKILLABLE task."
  if (sig !== SIG.SIGKILL && traced(k, pid)) return false;
  const c = k.ctx(pid)!;
  const d = disposition(c, sig);
  if (pid === 1 && d === "default" && !(force && has(KERNEL_ONLY, sig))) return true;
  return d === "ignore" || (d === "default" && has(KERNEL_IGNORE, sig));
}

/**
 * Sends one signal to a process (tid undefined: process-directed, shared_pending) or to
 * one of its threads. `force`: from outside the namespace or from the kernel, which lets
 * SIGKILL and SIGSTOP reach init. Permission is the caller's business.
 */
export function sendSignal(k: Kernel, pid: number, tid: number | undefined, info: SigInfo, force = false): void {
  // prepare_signal: a dying or dead process drops every signal ("signal->flags & SIGNAL_GROUP_EXIT").
  if (!alive(k, pid) || k.dying.has(pid)) return;
  const p = k.proc(pid)!;
  const c = p.getSnapshot().context;
  const sig = info.signo;
  if (k.state(pid) === "native") {
    // A native program is not emulated: its host kernel applies the signal itself.
    if (c.hostpid > 0) k.hooks.killHost(pid, c.hostpid, sig);
    return;
  }
  // prepare_signal: a stop signal removes SIGCONT from every queue; SIGCONT removes the
  // stop signals and resumes a stopped process whatever its handler or mask.
  let resumed = false;
  if (has(KERNEL_STOP, sig)) flushAll(k, pid, bit(SIG.SIGCONT));
  else if (sig === SIG.SIGCONT) {
    flushAll(k, pid, KERNEL_STOP);
    if (c.job.stopped) resume(k, pid);
    resumed = c.job.stopped !== 0;
    // ptrace_trap_notify: a seized tracee that listens re-traps for its tracer.
    ptraceContinued(k, pid);
    if (!alive(k, pid)) return;
  }
  // A resumed process takes what was held while it was stopped (get_signal after the
  // wake-up), the SIGCONT itself with it when it is queued: one burst.
  if (ignoredAtGeneration(k, pid, tid, sig, force)) return resumed ? deliver(k, pid) : undefined;
  if (tid !== undefined) {
    const t = k.threads.get(tid);
    if (!t) return;
    t.send({ type: "PENDING", pending: enqueue(t.getSnapshot().context.pending, info, MAX_QUEUED) });
  } else {
    p.send({ type: "PENDING", pending: enqueue(k.ctx(pid)!.pending, info, MAX_QUEUED) });
  }
  deliver(k, pid, resumed ? ALL : bit(sig));
}

function flushAll(k: Kernel, pid: number, mask: bigint): void {
  const c = k.ctx(pid)!;
  const f = flush(c.pending, mask);
  if (f !== c.pending) k.proc(pid)!.send({ type: "PENDING", pending: f });
  for (const tid of c.threads) {
    const t = k.threads.get(tid);
    if (!t) continue;
    const q = t.getSnapshot().context.pending;
    const g = flush(q, mask);
    if (g !== q) t.send({ type: "PENDING", pending: g });
  }
}

/** A thread that can take a signal now: claimed, and its connection is up. */
function receptive(k: Kernel, tid: number): boolean {
  return k.threads.get(tid)?.getSnapshot().value === "running" && (k.hooks.reachable?.(tid) ?? true);
}

/**
 * What each of the process's threads would do with its pending signals on its way back to
 * user mode (get_signal, called in exit_to_user_mode's loop until none is left), done by the
 * daemon: default actions here, handled signals handed to the guest. A stopped process takes
 * nothing but SIGKILL (wants_signal); a blocked signal waits. Handled signals go to a
 * delivery-0 guest as events, a burst at a time: each taken lowest first, seeing the mask
 * the frames taken before it set (its own signal unless SA_NODEFER), and a frame set up for
 * each before the return to user mode, so the events go in reverse, the last taken first,
 * as Linux runs the handlers; a default fatal action among them wins (do_group_exit: no
 * handler runs, no event goes). A guest with delivery 1 takes its handled signals itself
 * (sig_dequeue): those in `ring` that are ready get a host signal as a doorbell.
 */
export function deliver(k: Kernel, pid: number, ring: bigint = ALL): void {
  for (let round = 0; round < 4 * 64 + 8; round++) {
    /** Per thread, the frames set up so far: their siginfo in the order taken, and the signals they block. */
    const frames = new Map<number, { infos: SigInfo[]; held: bigint }>();
    for (let guard = 0; guard < 4 * 64 + 8; guard++) {
      // A process that died (or is dying) or left emulation meanwhile: the frames set up are lost with it.
      if (!alive(k, pid) || k.dying.has(pid) || k.state(pid) === "native") return;
      const c = k.ctx(pid)!;
      // A traced process's every signal goes through its tracer first (ptrace_signal): the daemon takes them all.
      const skip = c.delivery === 1 && !traced(k, pid) ? c.sigactions.caught : 0n;
      const step = nextAction(k, pid, c, skip, frames);
      if (!step) break;
      const info = act(k, pid, step);
      if (!info) continue;
      const f = frames.get(step.tid) ?? { infos: [], held: 0n };
      f.infos.push(info);
      if (!((c.sigactions.flags.get(step.signo) ?? 0) & SA.NODEFER)) f.held |= bit(step.signo);
      frames.set(step.tid, f);
    }
    if (frames.size === 0) break;
    // The frames unwind last first; then the handlers have returned and the next round takes what they held.
    for (const [tid, f] of frames) for (let i = f.infos.length - 1; i >= 0; i--) k.hooks.signalEvent?.(tid, f.infos[i]!);
  }
  if (!alive(k, pid)) return;
  const c = k.ctx(pid)!;
  if (c.delivery !== 1 || c.job.stopped || c.hostpid <= 0 || ptraceStopped(k, pid)) return;
  let ready = 0n;
  for (const tid of c.threads) {
    const t = k.threads.get(tid)?.getSnapshot().context;
    // A handled signal the thread does not block; or one of the set it waits for in
    // sigtimedwait, blocked or not (do_sigtimedwait unblocks `which` while it sleeps).
    // (signalfd: the signals it reads from one, likewise: signalfd_notify wakes its readers.)
    if (t) ready |= (t.pending.mask | c.pending.mask) & ((~t.blocked & c.sigactions.caught) | t.waiting | t.watched);
  }
  ready &= ring;
  for (let sig = 1; ready !== 0n && sig <= 64; sig++) if (has(ready, sig)) k.hooks.killHost(pid, c.hostpid, sig);
}

interface Step {
  readonly tid: number;
  readonly from: "thread" | "shared";
  readonly signo: number;
}

function nextAction(k: Kernel, pid: number, c: ProcessContext, skip: bigint, frames: ReadonlyMap<number, { held: bigint }>): Step | undefined {
  // SIGKILL acts even on a stopped process and whatever thread holds it.
  if (has(c.pending.mask, SIG.SIGKILL)) return { tid: pid, from: "shared", signo: SIG.SIGKILL };
  for (const tid of c.threads) {
    const t = k.threads.get(tid);
    if (!t) continue;
    const tc = t.getSnapshot().context;
    if (has(tc.pending.mask, SIG.SIGKILL)) return { tid, from: "thread", signo: SIG.SIGKILL };
  }
  // wants_signal: "if (task_is_stopped_or_traced(p)) return false;"
  if (c.job.stopped || ptraceStopped(k, pid)) return undefined;
  for (const tid of c.threads) {
    const t = k.threads.get(tid);
    if (!t || !receptive(k, tid)) continue;
    const tc = t.getSnapshot().context;
    // dequeue_signal: the thread's own queue first, then the process's, with the mask the
    // frames already set up for this thread added (signal_setup_done → set_current_blocked).
    const blocked = tc.blocked | skip | (frames.get(tid)?.held ?? 0n);
    const own = nextSignal(tc.pending, blocked);
    if (own) return { tid, from: "thread", signo: own };
    const shared = nextSignal(c.pending, blocked);
    if (shared) return { tid, from: "shared", signo: shared };
  }
  return undefined;
}

/** Takes one signal and acts on it as get_signal would; a handled one is returned, for its frame. */
function act(k: Kernel, pid: number, s: Step): SigInfo | undefined {
  return actOn(k, pid, take(k, pid, s));
}

/** get_signal's action for a signal it has taken: a handler is chosen (the signal returned), or the default action or SIG_IGN applies. */
function actOn(k: Kernel, pid: number, info: SigInfo): SigInfo | undefined {
  const c = k.ctx(pid)!;
  const signo = info.signo;
  // get_signal: "if (unlikely(current->ptrace) && (signr != SIGKILL) && …) signr = ptrace_signal(signr, &ksig->info, type);"
  if (signo !== SIG.SIGKILL && traced(k, pid)) {
    signalDeliveryStop(k, pid, info);
    return undefined;
  }
  const d = disposition(c, signo);
  if (d === "handler") {
    handlerChosen(k, pid, signo);
    return info;
  }
  if (d === "ignore" || has(KERNEL_IGNORE, signo)) return; // ignored while it was blocked
  // get_signal: init (SIGNAL_UNKILLABLE) takes no default action but SIGKILL's and SIGSTOP's.
  if (pid === 1 && !has(KERNEL_ONLY, signo)) return;
  if (has(KERNEL_STOP, signo)) {
    // "if (signr != SIGSTOP && is_current_pgrp_orphaned()) continue": the terminal stop
    // signals do not stop a member of an orphaned process group.
    if (signo !== SIG.SIGSTOP && pgrpOrphaned(k, c.pgid, undefined)) return;
    stop(k, pid, signo);
    return;
  }
  killProcess(k, pid, signo);
  return;
}

function take(k: Kernel, pid: number, s: Step): SigInfo {
  if (s.from === "thread") {
    const t = k.threads.get(s.tid)!;
    const r = dequeue(t.getSnapshot().context.pending, s.signo);
    t.send({ type: "PENDING", pending: r.rest });
    return r.info;
  }
  const r = dequeue(k.ctx(pid)!.pending, s.signo);
  k.proc(pid)!.send({ type: "PENDING", pending: r.rest });
  return r.info;
}

/**
 * get_signal, once it has chosen the handler for a signal: "if (ka->sa.sa_flags & SA_ONESHOT)
 * ka->sa.sa_handler = SIG_DFL;" (SA_RESETHAND): from here on the signal takes its default
 * action, its flags kept. No pending signal is discarded (that is do_sigaction's rule, not this).
 */
export function handlerChosen(k: Kernel, pid: number, signo: number): void {
  const flags = k.ctx(pid)?.sigactions.flags.get(signo) ?? 0;
  if (flags & SA.RESETHAND) k.proc(pid)!.send({ type: "SIGACTION", signo, handler: 0, flags });
}

/**
 * A fatal signal's default action: the whole process dies of it; its host process is killed.
 * complete_signal starts the group exit and wakes the threads; each dies (do_group_exit) as
 * it next runs. So a process killed in its own call (kill of itself, an unblocking
 * sigprocmask, its claim) dies before that call returns; one killed by another process dies
 * after the sender's call has returned, as a Linux target does on its own CPU: its parent's
 * SIGCHLD then comes after the sender's kill(2) returned, not inside it (a shell that
 * collected the job at once would not print "Terminated" for `wait`). Meanwhile every signal
 * to it is dropped; a call of its own first finishes its death (finishDeath).
 */
export function killProcess(k: Kernel, pid: number, signo: number): void {
  if (k.running === pid) return die(k, pid, signo);
  if (k.dying.has(pid)) return;
  k.dying.set(pid, { signo, proc: k.proc(pid)! });
  setImmediate(() => finishDeath(k, pid));
}

/** A doomed process (killProcess) dies now, if it has not yet. */
export function finishDeath(k: Kernel, pid: number): void {
  const d = k.dying.get(pid);
  if (!d) return;
  k.dying.delete(pid);
  if (k.proc(pid) === d.proc) die(k, pid, d.signo);
}

function die(k: Kernel, pid: number, signo: number): void {
  if (!alive(k, pid)) return;
  // A tracee with PTRACE_O_TRACEEXIT stops first (ptrace.ts, ptraceExiting).
  if (ptraceExiting(k, pid, signo)) return;
  const hostpid = k.ctx(pid)!.hostpid;
  // No core is written: the status never has WCOREDUMP (Linux with RLIMIT_CORE 0).
  exitGroup(k, pid, signaled(signo), false);
  if (hostpid > 0) k.hooks.killHost(pid, hostpid, "SIGKILL");
}

/** do_signal_stop: the group stops (state T); the parent hears CLD_STOPPED. */
function stop(k: Kernel, pid: number, signo: number): void {
  const p = k.proc(pid)!;
  p.send({ type: "STOP", signo });
  p.send({ type: "WAIT_REPORT", report: { kind: "stopped", signo } });
  const c = k.ctx(pid)!;
  if (c.hostpid > 0) k.hooks.killHost(pid, c.hostpid, "SIGSTOP");
  notifyParentCldstop(k, pid, SI.CLD_STOPPED, signo);
}

/** prepare_signal's SIGCONT: the group resumes; the parent hears CLD_CONTINUED. */
function resume(k: Kernel, pid: number): void {
  const p = k.proc(pid)!;
  p.send({ type: "CONT" });
  p.send({ type: "WAIT_REPORT", report: { kind: "continued", signo: SIG.SIGCONT } });
  const c = k.ctx(pid)!;
  if (c.hostpid > 0) k.hooks.killHost(pid, c.hostpid, "SIGCONT");
  notifyParentCldstop(k, pid, SI.CLD_CONTINUED, SIG.SIGCONT);
}

/**
 * do_notify_parent_cldstop: SIGCHLD to the parent unless its SIGCHLD is ignored or has
 * SA_NOCLDSTOP; "even if SIGCHLD is not generated, we must wake up wait4 calls".
 */
function notifyParentCldstop(k: Kernel, pid: number, code: number, status: number): void {
  const c = k.ctx(pid)!;
  const ppid = c.ppid;
  const parent = ppid > 0 ? k.ctx(ppid) : undefined;
  if (parent) {
    const flags = parent.sigactions.flags.get(SIG.SIGCHLD) ?? 0;
    if (!has(parent.sigactions.ignored, SIG.SIGCHLD) && !(flags & SA.NOCLDSTOP))
      sendSignal(k, ppid, undefined, { signo: SIG.SIGCHLD, code, pid, uid: c.creds.ruid, status });
  }
  if (ppid > 0) k.notifyParent(ppid);
}

/**
 * do_notify_parent: the parent is sent the child's exit signal (SIGCHLD) with CLD_EXITED,
 * CLD_KILLED or CLD_DUMPED, unless the parent's SIGCHLD is SIG_IGN (then the child is
 * auto-reaped, which is the wait family's business).
 */
export function sendExitSignal(k: Kernel, pid: number): void {
  const c = k.ctx(pid);
  if (!c || c.wstatus === null || c.ppid <= 0) return;
  const parent = k.ctx(c.ppid);
  if (!parent || has(parent.sigactions.ignored, SIG.SIGCHLD)) return;
  const s = c.wstatus;
  const code = ifExited(s) ? SI.CLD_EXITED : coreDumped(s) ? SI.CLD_DUMPED : SI.CLD_KILLED;
  sendSignal(k, c.ppid, undefined, { signo: SIG.SIGCHLD, code, pid, uid: c.creds.ruid, status: ifExited(s) ? exitStatus(s) : termSig(s) });
}

/**
 * will_become_orphaned_pgrp: a group is orphaned when no member (but `ignored`, and
 * leaving out dead ones) has a parent in another group of the same session. A parent
 * outside the namespace never holds a group; the group of the namespace's first process
 * (pgid 0, outside) is taken as held by its outside parent, as it is under a shell.
 */
export function pgrpOrphaned(k: Kernel, pgid: number, ignored: number | undefined): boolean {
  if (pgid === 0) return false;
  for (const m of k.pgrp(pgid)) {
    if (m === ignored || k.state(m) === "zombie") continue;
    const c = k.ctx(m)!;
    const parent = c.ppid > 0 ? k.ctx(c.ppid) : undefined;
    if (!parent) continue;
    if (parent.pgid !== pgid && parent.sid === c.sid) return false;
  }
  return true;
}

function hasStoppedJobs(k: Kernel, pgid: number): boolean {
  for (const m of k.pgrp(pgid)) if (k.ctx(m)?.job.stopped) return true;
  return false;
}

/**
 * kill_orphaned_pgrp (kernel/exit.c): when an exit orphans a process group that has a
 * stopped member, every member gets SIGHUP then SIGCONT (from the kernel). `father`
 * undefined: `pid` is exiting; else `pid` is a child of the exiting `father`, already
 * moved to its new parent.
 */
export function killOrphanedPgrp(k: Kernel, pid: number, father: number | undefined): void {
  const c = k.ctx(pid);
  if (!c) return;
  const parentPid = father ?? c.ppid;
  const parent = parentPid > 0 ? k.ctx(parentPid) : undefined;
  if (!parent) return;
  if (parent.pgid !== c.pgid && parent.sid === c.sid && pgrpOrphaned(k, c.pgid, father === undefined ? pid : undefined) && hasStoppedJobs(k, c.pgid)) {
    const kernel = (signo: number): SigInfo => ({ signo, code: SI.KERNEL, pid: 0, uid: 0, status: 0 });
    for (const m of [...k.pgrp(c.pgid)]) sendSignal(k, m, undefined, kernel(SIG.SIGHUP), true);
    for (const m of [...k.pgrp(c.pgid)]) sendSignal(k, m, undefined, kernel(SIG.SIGCONT), true);
  }
}

/** group_send_sig_info: permission, then (for a real signal) generation. */
export function groupSend(k: Kernel, from: Sender, target: number, info: SigInfo): 0 | Errno {
  const e = checkKillPermission(k, info.signo, from, target);
  if (e !== 0) return e;
  if (info.signo !== 0) sendSignal(k, target, undefined, info);
  return 0;
}

/**
 * kill_something_info: pid > 0 one process, 0 the caller's group, -1 every process but
 * init and the caller, < -1 the group -pid. The siginfo is SI_USER from the caller.
 */
export function killSomething(k: Kernel, from: Sender, pid: number, sig: number): 0 | Errno {
  const info: SigInfo = { signo: sig, code: SI.USER, pid: from.pid, uid: from.creds.ruid, status: 0 };
  if (pid > 0) {
    // kill_pid_info: pid_task(pid, PIDTYPE_TGID) finds only a thread-group leader.
    if (!k.procs.has(pid) || k.state(pid) === "reaped") return errno(E.ESRCH, `no process ${pid}`);
    return groupSend(k, from, pid, info);
  }
  // "-INT_MIN is undefined. Exclude this case to avoid a UBSAN warning"
  if (pid === -0x80000000) return errno(E.ESRCH);
  if (pid !== -1) {
    // __kill_pgrp_info: ESRCH for an empty group; else 0 once any member was signalled,
    // otherwise the last member's error.
    const pgid = pid === 0 ? k.ctx(from.pid)!.pgid : -pid;
    let ret: 0 | Errno = errno(E.ESRCH, `no process group ${pgid}`);
    for (const m of [...k.pgrp(pgid)]) {
      const err = groupSend(k, from, m, info);
      if (ret !== 0) ret = err;
    }
    return ret;
  }
  // kill(-1): every process with a pid > 1 in the caller's namespace but the caller itself
  // ("task_pid_vnr(p) > 1 && !same_thread_group(p, current)"); EPERM from some is not an
  // error; ESRCH when there was nobody to try.
  let retval: 0 | Errno = 0;
  let count = 0;
  for (const m of [...k.procs.keys()]) {
    if (m <= 1 || m === from.pid || k.state(m) === "reaped" || k.state(m) === "aborted") continue;
    const err = groupSend(k, from, m, info);
    count++;
    if (err === 0 || err.code !== E.EPERM) retval = err;
  }
  return count ? retval : errno(E.ESRCH, "no process to signal");
}

/** do_send_specific (tkill, tgkill): one thread; tgid > 0 must be its process. */
export function sendSpecific(k: Kernel, from: Sender, tgid: number, tid: number, sig: number): 0 | Errno {
  const pid = k.procs.has(tid) ? tid : k.threads.get(tid)?.getSnapshot().context.pid;
  if (pid === undefined || !k.procs.has(pid) || (tgid > 0 && pid !== tgid)) return errno(E.ESRCH, `no thread ${tid}${tgid > 0 ? ` in process ${tgid}` : ""}`);
  const e = checkKillPermission(k, sig, from, pid);
  if (e !== 0) return e;
  if (sig !== 0) sendSignal(k, pid, k.threads.has(tid) ? tid : undefined, { signo: sig, code: SI.TKILL, pid: from.pid, uid: from.creds.ruid, status: 0 });
  return 0;
}

/**
 * A host signal for a process of the namespace from outside it (`blinkd run` forwarding
 * what its terminal or supervisor sent to PID 1), when its guest takes handled signals
 * with sig_dequeue (delivery 1) and has a handler for it or blocks it: generated here, so the guest's
 * doorbell finds it queued, with si_pid 0 and SI_USER, as Linux gives a sender in an
 * ancestor namespace (send_signal_locked: "From an ancestor pid namespace?" →
 * si_pid = 0, force). False when the signal should go to the host process as is.
 */
export function sendFromOutside(k: Kernel, pid: number, signo: number, uid: number): boolean {
  const c = k.ctx(pid);
  if (!c || k.state(pid) !== "running" || c.delivery !== 1) return false;
  // A handled signal, or one a thread blocks or waits for (sigwait): it must come from the
  // daemon's queue with its siginfo, since the guest takes every host signal the daemon
  // sends as a doorbell.
  const t = k.threads.get(pid)?.getSnapshot().context;
  if (!has(c.sigactions.caught, signo) && !(t && has(t.blocked | t.waiting, signo))) return false;
  sendSignal(k, pid, undefined, { signo, code: SI.USER, pid: 0, uid, status: 0 }, true);
  return true;
}

/** The caller as a sender. */
export function senderOf(k: Kernel, pid: number): Sender {
  const c = k.ctx(pid)!;
  return { pid, creds: c.creds, sid: c.sid };
}

/**
 * do_sigaction: a signal whose new action ignores it is dropped from every queue of the
 * process; anything newly handled and pending may now be delivered.
 */
export function actionChanged(k: Kernel, pid: number, signo: number): void {
  const c = k.ctx(pid);
  if (!c) return;
  const d = disposition(c, signo);
  if (d === "ignore" || (d === "default" && has(KERNEL_IGNORE, signo))) flushAll(k, pid, bit(signo));
  deliver(k, pid, bit(signo));
}

/** The thread's new mask (SIGKILL and SIGSTOP cannot be blocked); signals it unblocked may act now. */
export function setBlocked(k: Kernel, pid: number, tid: number, mask: bigint): bigint {
  const t = k.threads.get(tid);
  if (!t) return 0n;
  const old = t.getSnapshot().context.blocked;
  const blocked = mask & ~KERNEL_ONLY;
  t.send({ type: "SET_BLOCKED", blocked });
  deliver(k, pid, old & ~blocked);
  return old;
}

/**
 * sig_dequeue for delivery 1: the thread's next signal blocked by neither its mask nor
 * `also` (the guest's mask of the moment), its own queue first (dequeue_signal).
 */
export function dequeueFor(k: Kernel, pid: number, tid: number, also: bigint = 0n): SigInfo | undefined {
  for (let guard = 0; guard < 4 * 64 + 8; guard++) {
    const tc = k.threads.get(tid)?.getSnapshot().context;
    if (!tc || !alive(k, pid)) return undefined;
    const info = dequeueMasked(k, pid, tid, tc.blocked | (also & ALL));
    if (!info) return undefined;
    // get_signal's loop: the guest runs the handler of what it takes (the kernel's choice of
    // handler); a signal whose action is no longer a handler (an SA_RESETHAND reset by an
    // earlier one of the burst, a sigaction since it was rung) takes that action here.
    if (actOn(k, pid, info)) return info;
  }
  return undefined;
}

/** dequeue_signal(tsk, mask, …): the next signal `mask` does not block, the thread's own queue first, then the process's. */
function dequeueMasked(k: Kernel, pid: number, tid: number, mask: bigint): SigInfo | undefined {
  const tc = k.threads.get(tid)?.getSnapshot().context;
  const c = k.ctx(pid);
  if (!tc || !c) return undefined;
  const own = nextSignal(tc.pending, mask);
  if (own) return take(k, pid, { tid, from: "thread", signo: own });
  const shared = nextSignal(c.pending, mask);
  return shared ? take(k, pid, { tid, from: "shared", signo: shared }) : undefined;
}

/**
 * sig_wait (sigwait, sigwaitinfo, sigtimedwait of a delivery-1 guest), as do_sigtimedwait:
 * the thread's earlier wait ends; dequeue_signal(tsk, ~set, …) takes the next signal of
 * `set` whatever the thread's mask, its own queue first. With none and `arm`, the thread
 * waits for `set` (do_sigtimedwait's "temporarily unblock those we're interested"): a
 * signal of the set generated later rings the host process (deliver) until its next call.
 * Its mask is not changed: the signals it blocked stay blocked for sig_ignored (Linux
 * checks real_blocked there) and no default action is taken for them.
 */
export function waitFor(k: Kernel, pid: number, tid: number, set: bigint, arm: boolean): SigInfo | undefined {
  const t = k.threads.get(tid);
  if (!t || !k.ctx(pid)) return undefined;
  const want = set & ALL & ~KERNEL_ONLY;
  const info = dequeueMasked(k, pid, tid, ~want);
  const waiting = !info && arm ? want : 0n;
  if (waiting !== t.getSnapshot().context.waiting) t.send({ type: "SET_WAITING", waiting });
  return info;
}

/**
 * sig_watch (signalfd of a delivery-1 guest): the thread reads `set` from signalfds; what
 * of it is pending rings now (a signalfd is readable while one is: signalfd_poll), and
 * what is generated later rings then (signalfd_notify). Its mask is not changed.
 */
export function watchFor(k: Kernel, pid: number, tid: number, set: bigint): void {
  const t = k.threads.get(tid);
  if (!t) return;
  const watched = set & ALL & ~KERNEL_ONLY;
  const was = t.getSnapshot().context.watched;
  if (watched === was) return;
  t.send({ type: "SET_WATCHED", watched });
  deliver(k, pid, watched & ~was);
}

/** sigpending(2): what is pending for the thread or its process and blocked by it. */
export function pendingFor(k: Kernel, pid: number, tid: number): bigint {
  const t = k.threads.get(tid)?.getSnapshot().context;
  const c = k.ctx(pid);
  if (!t || !c) return 0n;
  return (t.pending.mask | c.pending.mask) & t.blocked;
}

/** Every signal pending for the thread or its process, blocked or not (sig_dequeue's out.pending). */
export function pendingAll(k: Kernel, pid: number, tid: number): bigint {
  const t = k.threads.get(tid)?.getSnapshot().context;
  const c = k.ctx(pid);
  if (!t || !c) return 0n;
  return t.pending.mask | c.pending.mask;
}

export type { SigQueue };
