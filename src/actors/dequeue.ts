/**
 * kernel/signal.c's dequeue_signal and the calls of a guest that takes its handled signals
 * itself (delivery 1): sig_dequeue, sigtimedwait's sig_wait, signalfd's sig_watch
 * (fs/signalfd.c), and sigpending(2). The signal is taken from the thread's own queue
 * first, then the process's, and acted on as get_signal would (signal.ts).
 */
import { ALL, KERNEL_ONLY, nextSignal, type SigInfo } from "../machine/sigset.js";
import type { Kernel } from "./kernel.js";
import { actOn, alive, deliver, take } from "./signal.js";

/**
 * sig_dequeue for delivery 1: the thread's next signal blocked by neither its mask nor
 * `also` (the guest's mask of the moment), its own queue first (dequeue_signal).
 */
export function dequeueFor(k: Kernel, pid: number, tid: number, also: bigint = 0n): SigInfo | undefined {
  for (let guard = 0; guard < 4 * 64 + 8; guard++) {
    const t = k.threads.get(tid);
    if (!t || !alive(k, pid)) return undefined;
    const info = dequeueMasked(k, pid, tid, t.blocked | (also & ALL));
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
  const t = k.threads.get(tid);
  const c = k.ctx(pid);
  if (!t || !c) return 0n;
  return (t.getSnapshot().context.pending.mask | c.pending.mask) & t.blocked;
}

/** Whether `sig` is pending for the process or any of its threads. */
export function holds(k: Kernel, pid: number, sig: number): boolean {
  const c = k.ctx(pid);
  if (!c) return false;
  const b = 1n << BigInt(sig - 1);
  if (c.pending.mask & b) return true;
  for (const tid of c.threads) if ((k.threads.get(tid)?.getSnapshot().context.pending.mask ?? 0n) & b) return true;
  return false;
}

/** Every signal pending for the thread or its process, blocked or not (sig_dequeue's out.pending). */
export function pendingAll(k: Kernel, pid: number, tid: number): bigint {
  const t = k.threads.get(tid)?.getSnapshot().context;
  const c = k.ctx(pid);
  if (!t || !c) return 0n;
  return t.pending.mask | c.pending.mask;
}
