/**
 * A blocking wait's SIGCHLD in its reply (wait4_sigchld, waitid_sigchld: a guest that runs its
 * handlers itself, delivery 1 or 2). Linux's order: exit_notify queues the child's SIGCHLD,
 * then wakes the parent's wait (do_notify_parent, __wake_up_parent); the wait takes the zombie
 * and, on its way back to user mode, get_signal runs the SIGCHLD's handler before wait4
 * returns to the program (spec/native/statepage.c order). The daemon rang the parent for it
 * (a host signal, then the guest's sig_dequeue round trip) before writing the wait's reply.
 * For such a wait the ring is held instead, and when the wait is answered the SIGCHLD is taken
 * as sig_dequeue takes it (dequeue_signal, the handler chosen: SA_RESETHAND) and goes with the
 * reply, whose client runs the handler before the wait returns. Only where it is the one signal
 * the thread has pending (so first by Linux's order: next_signal) and the daemon would ring for
 * it: a handler, not blocked, the process single-threaded and not traced. Anything else rings
 * before the reply, as before: the wait found nothing yet, failed or was cancelled, or the
 * SIGCHLD is no longer the only one; and a hold no wait is woken for rings once the step that
 * made it is over (a microtask).
 */
import { SIG, bit, has, type SigInfo } from "../machine/sigset.js";
import type { Kernel } from "./kernel.js";
import type { Parked } from "./park.js";
import { dequeueFor, holds } from "./dequeue.js";
import { deliver } from "./signal.js";
import { traced } from "./ptrace.js";

const CHLD = bit(SIG.SIGCHLD);

/** The thread whose SIGCHLD may go with a wait's reply: the process's one thread, when SIGCHLD is all it has pending and it would be rung for it; else 0. */
function soleChld(k: Kernel, pid: number): number {
  const c = k.ctx(pid);
  if (!c || c.threads.size !== 1 || !has(c.sigactions.caught, SIG.SIGCHLD) || traced(k, pid)) return 0;
  const tid = c.threads.values().next().value!;
  const t = k.threads.get(tid);
  if (!t || has(t.blocked, SIG.SIGCHLD)) return 0;
  const tc = t.getSnapshot().context;
  // sigtimedwait's or signalfd's SIGCHLD is rung for its wait, not for a handler.
  if ((tc.waiting | tc.watched) & CHLD) return 0;
  return (tc.pending.mask | c.pending.mask) === CHLD ? tid : 0;
}

/** Called by deliver for a SIGCHLD ring of pid: true when a wait of pid will take it with its reply (or ring it), so it is not rung now. */
export function holdChldRing(k: Kernel, pid: number): boolean {
  const waiters = k.chldWaiters.get(pid);
  if (!waiters) return false;
  if (k.chldHeld.has(pid)) return true;
  if (!soleChld(k, pid)) return false;
  k.chldHeld.add(pid);
  // A hold whose wait was not woken in the step that made it (a SIGCHLD from kill(2)) rings
  // once that step is over; a woken wait's own check settles it (chldWithReply, ringHeldChld).
  queueMicrotask(() => {
    for (const w of k.chldWaiters.get(pid) ?? []) if (w.waking) return;
    ringHeldChld(k, pid);
  });
  return true;
}

/** A held SIGCHLD ring of pid is rung now (the wait did not take it), if its signal is still there to ring. */
export function ringHeldChld(k: Kernel, pid: number): void {
  if (k.chldHeld.delete(pid)) deliver(k, pid, CHLD, false);
}

/** A wait of pid's thread parks: a SIGCHLD rung meanwhile may be held for its reply; its end rings what is still held. */
export function chldWaiter(k: Kernel, pid: number, p: Parked<unknown>): void {
  let set = k.chldWaiters.get(pid);
  if (!set) k.chldWaiters.set(pid, (set = new Set()));
  set.add(p);
  p.finally(() => {
    leave(k, pid, p);
    ringHeldChld(k, pid);
  });
}

function leave(k: Kernel, pid: number, p: Parked<unknown>): void {
  const set = k.chldWaiters.get(pid);
  if (!set) return;
  set.delete(p);
  if (set.size === 0) k.chldWaiters.delete(pid);
}

/**
 * The parked wait `p` of thread tid found a child to report, in the step that writes its reply:
 * the SIGCHLD held for it is taken as sig_dequeue takes it (its siginfo returned, the state
 * page's SEEN when none is left), or rung now, before the reply, when it is no longer the one
 * signal to take.
 */
export function chldWithReply(k: Kernel, pid: number, tid: number, p: Parked<unknown>): SigInfo | undefined {
  leave(k, pid, p);
  if (!k.chldHeld.has(pid)) return undefined;
  if (soleChld(k, pid) !== tid) {
    ringHeldChld(k, pid);
    return undefined;
  }
  k.chldHeld.delete(pid);
  const info = dequeueFor(k, pid, tid);
  // As sig_dequeue's reply (syscalls/signal.ts): the process holds no SIGCHLD now.
  if (!holds(k, pid, SIG.SIGCHLD)) k.hooks.sigchldNone?.(pid);
  return info;
}
