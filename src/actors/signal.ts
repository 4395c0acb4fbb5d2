/**
 * kernel/signal.c, generation and delivery: generation (prepare_signal: stop and continue
 * act at once; sig_ignored discards), queueing (__send_signal_locked), the action the
 * receiving thread would take (complete_signal, get_signal), job control's stop and
 * continue with the parent's notice (do_signal_stop, do_notify_parent_cldstop), the exit
 * signal (do_notify_parent), and the caller's own sigaction and sigprocmask. Who may send
 * what to whom is kill.ts's; delivery 1's dequeue is dequeue.ts's; an orphaned group's
 * SIGHUP is exit.ts's (kill_orphaned_pgrp lives in kernel/exit.c). The daemon applies every default action
 * itself: terminate (the process dies of the signal and its host process gets SIGKILL),
 * stop (state T, the host process gets SIGSTOP), continue (SIGCONT), ignore. Only a signal
 * the guest has a handler for reaches the guest: as an event on a thread's connection
 * (delivery 0) or as a host signal that tells the guest to take it with sig_dequeue
 * (delivery 1). See spec/signals.md.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import { signaled, ifExited, exitStatus, termSig, coreDumped } from "../machine/wstatus.js";
import type { ProcessContext } from "../machine/process.js";
import {
  ALL,
  HANDLER,
  HOW,
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
  lowest,
  nextSignal,
  NSIG,
  type SigInfo,
} from "../machine/sigset.js";
import { DELIVERY, byHost } from "../protocol/calls/session.js";
import type { Kernel } from "./kernel.js";
import { exitGroup, pgrpOrphaned } from "./exit.js";
import { ptraceContinued, ptraceExiting, ptraceStopped, signalDeliveryStop, traced } from "./ptrace.js";
import { holdChldRing } from "./chldreply.js";

/** Queued real-time signals per queue (RLIMIT_SIGPENDING plays this role in Linux). */
export const MAX_QUEUED = 256;

export const alive = (k: Kernel, pid: number): boolean => {
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

/** The thread a thread-group signal is checked against (the leader, as group_send_sig_info passes p). */
function leaderBlocked(k: Kernel, pid: number, tid?: number): bigint {
  return k.threads.get(tid ?? pid)?.blocked ?? 0n;
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
  // The state page's SIGCHLD bell moves before the signal is queued, so before any ring for it
  // (spec/signals.md §4.2: a guest takes a host SIGCHLD only while the bell differs).
  if (sig === SIG.SIGCHLD) k.hooks.sigchldQueued?.(pid);
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
 * handler runs, no event goes). A guest with delivery 1 or 2 takes its handled signals
 * itself (sig_dequeue): those in `ring` that are ready get a host signal as a doorbell
 * (delivery 2: also those a thread blocks that will be acted on once unblocked); with `hold`,
 * a SIGCHLD that a parked wait will take with its reply is not rung (chldreply.ts).
 */
export function deliver(k: Kernel, pid: number, ring: bigint = ALL, hold = true): void {
  for (let round = 0; round < 4 * 64 + 8; round++) {
    /** Per thread, the frames set up so far: their siginfo in the order taken, and the signals they block (made at the first: most calls take none). */
    let frames: Map<number, { infos: SigInfo[]; held: bigint }> | undefined;
    for (let guard = 0; guard < 4 * 64 + 8; guard++) {
      // A process that died (or is dying) or left emulation meanwhile: the frames set up are lost with it.
      if (!alive(k, pid) || k.dying.has(pid) || k.state(pid) === "native") return;
      const c = k.ctx(pid)!;
      // A traced process's every signal goes through its tracer first (ptrace_signal): the daemon takes them all.
      const skip = byHost(c.delivery) && !traced(k, pid) ? c.sigactions.caught : 0n;
      const step = nextAction(k, pid, c, skip, frames ?? NO_FRAMES);
      if (!step) break;
      const info = act(k, pid, step);
      if (!info) continue;
      frames ??= new Map();
      const f = frames.get(step.tid) ?? { infos: [], held: 0n };
      f.infos.push(info);
      if (!((c.sigactions.flags.get(step.signo) ?? 0) & SA.NODEFER)) f.held |= bit(step.signo);
      frames.set(step.tid, f);
    }
    if (!frames) break;
    // The frames unwind last first; then the handlers have returned and the next round takes what they held.
    for (const [tid, f] of frames) for (let i = f.infos.length - 1; i >= 0; i--) k.hooks.signalEvent?.(tid, f.infos[i]!);
  }
  if (!alive(k, pid)) return;
  const c = k.ctx(pid)!;
  if (!byHost(c.delivery) || c.job.stopped || c.hostpid <= 0 || ptraceStopped(k, pid)) return;
  // Delivery 2: also a signal the thread blocks that will be acted on when it is unblocked;
  // the guest's host mask holds that doorbell, so its host pending set tells whether an
  // unblock has anything for the daemon (spec/signals.md §4.1).
  const held = c.delivery === DELIVERY.HOST_BLOCKED ? rungWhileBlocked(k, pid, c) : 0n;
  let ready = 0n;
  for (const tid of c.threads) {
    const r = k.threads.get(tid);
    if (!r) continue;
    const t = r.getSnapshot().context;
    // A handled signal the thread does not block; or one of the set it waits for in
    // sigtimedwait, blocked or not (do_sigtimedwait unblocks `which` while it sleeps).
    // (signalfd: the signals it reads from one, likewise: signalfd_notify wakes its readers.)
    ready |= (t.pending.mask | c.pending.mask) & ((~r.blocked & c.sigactions.caught) | (r.blocked & held) | t.waiting | t.watched);
  }
  ready &= ring;
  if (hold && has(ready, SIG.SIGCHLD) && holdChldRing(k, pid)) ready &= ~bit(SIG.SIGCHLD);
  for (let sig = lowest(ready); sig !== 0; ready &= ~bit(sig), sig = lowest(ready)) k.hooks.killHost(pid, c.hostpid, sig);
}

const NO_FRAMES: ReadonlyMap<number, { held: bigint }> = new Map();

/**
 * The signals rung while blocked: those get_signal would act on once unblocked: a handled one
 * (its handler), any of a traced process's (ptrace_signal stops it), a default action other
 * than ignore (terminate, stop); not SIG_IGN (dropped: "if (ka->sa.sa_handler == SIG_IGN)
 * continue"), nor init's unhandled ones (SIGNAL_UNKILLABLE). And a SIG_DFL whose default is to
 * ignore (sig_kernel_ignore: SIGCHLD, SIGCONT, SIGURG, SIGWINCH): get_signal drops it once
 * unblocked, but a blocked one stays queued (sig_ignored: "Blocked signals are never
 * ignored") and setting its action again discards it (do_sigaction); its doorbell lets the
 * guest tell from its host pending set that such a reset has nothing to discard, and skip it
 * (spec/signals.md §4.1).
 */
function rungWhileBlocked(k: Kernel, pid: number, c: ProcessContext): bigint {
  if (traced(k, pid)) return ALL;
  const ignoredByDefault = KERNEL_IGNORE & ~c.sigactions.ignored & ~c.sigactions.caught;
  if (pid === 1) return c.sigactions.caught | ignoredByDefault;
  return c.sigactions.caught | (ALL & ~c.sigactions.ignored);
}

export interface Step {
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
    const blocked = t.blocked | skip | (frames.get(tid)?.held ?? 0n);
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
export function actOn(k: Kernel, pid: number, info: SigInfo): SigInfo | undefined {
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

export function take(k: Kernel, pid: number, s: Step): SigInfo {
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
  if (flags & SA.RESETHAND) k.proc(pid)!.send({ type: "SIGACTION", signo, handler: HANDLER.DFL, flags });
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
 * do_sigaction (kernel/signal.c): "if (!valid_signal(sig) || sig < 1 || (act &&
 * sig_kernel_only(sig))) return -EINVAL": a signal outside 1.._NSIG, or SIGKILL and SIGSTOP,
 * is EINVAL. A signal whose new action ignores it is dropped from every queue of the
 * process; anything newly handled and pending may now be delivered.
 */
export function sigaction(k: Kernel, pid: number, signo: number, handler: number, flags: number): 0 | Errno {
  if (signo < 1 || signo > NSIG) return errno(E.EINVAL, `rt_sigaction.signo: ${signo} is not a signal (1..${NSIG})`);
  if (has(KERNEL_ONLY, signo)) return errno(E.EINVAL, `rt_sigaction: the disposition of signal ${signo} cannot be changed`);
  if (handler > HANDLER.CAUGHT) return errno(E.EINVAL, `rt_sigaction.handler: expected 0 (SIG_DFL), 1 (SIG_IGN) or 2 (a handler), got ${handler}`);
  const p = k.proc(pid);
  if (!p) return 0;
  p.send({ type: "SIGACTION", signo, handler, flags });
  const d = disposition(p.getSnapshot().context, signo);
  if (d === "ignore" || (d === "default" && has(KERNEL_IGNORE, signo))) flushAll(k, pid, bit(signo));
  deliver(k, pid, bit(signo));
  return 0;
}

/**
 * sigprocmask (kernel/signal.c): the new mask from `how` ("default: return -EINVAL"), then
 * set_current_blocked; returns the old mask.
 */
export function sigprocmask(k: Kernel, pid: number, tid: number, how: number, set: bigint): bigint | Errno {
  const t = k.threads.get(tid);
  if (!t) return errno(E.ESRCH);
  const old = t.blocked;
  const s = set & ALL;
  const mask = how === HOW.BLOCK ? old | s : how === HOW.UNBLOCK ? old & ~s : how === HOW.SETMASK ? s : undefined;
  if (mask === undefined) return errno(E.EINVAL, `rt_sigprocmask.how: expected 0 (SIG_BLOCK), 1 (SIG_UNBLOCK) or 2 (SIG_SETMASK), got ${how}`);
  setBlocked(k, pid, tid, mask);
  return old;
}

/**
 * set_current_blocked: the thread's new mask (SIGKILL and SIGSTOP cannot be blocked); signals
 * it unblocked may act now. The mask is its reference's plain field (actors/leader.ts,
 * ThreadRef.blocked); only a live thread's changes, as only a live task calls this.
 */
function setBlocked(k: Kernel, pid: number, tid: number, mask: bigint): bigint {
  const t = k.threads.get(tid);
  if (!t) return 0n;
  const old = t.blocked;
  const blocked = mask & ~KERNEL_ONLY;
  if (blocked !== old && k.ctx(pid)?.threads.has(tid)) {
    t.blocked = blocked;
    k.recordUpdate(t, pid, "SET_BLOCKED", { blocked });
  }
  deliver(k, pid, old & ~blocked);
  return old;
}

