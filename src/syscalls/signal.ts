/**
 * Signals: rt_sigaction, rt_sigprocmask and rt_sigpending (actors/signal.ts), kill, tkill and
 * tgkill (actors/kill.ts), delivery 1's sig_dequeue, sig_wait and sig_watch
 * (actors/dequeue.ts), and setresuid (actors/sys.ts).
 */
import { E, Errno, errno } from "../protocol/errno.js";
import type { signal } from "../protocol/calls/signal.js";
import { sigaction, sigprocmask } from "../actors/signal.js";
import { killSomething, sendSpecific, senderOf } from "../actors/kill.js";
import { dequeueFor, holds, pendingAll, pendingFor, waitFor, watchFor } from "../actors/dequeue.js";
import { setresuid } from "../actors/sys.js";
import { SIG, type SigInfo } from "../machine/sigset.js";
import type { Handlers } from "./types.js";

/** sig_dequeue's and sig_wait's reply: the signal taken with its siginfo, or 0 when none was. */
function taken(i: SigInfo | undefined): { result: number; out: { pid: number; code: number; uid: number; status: number } } {
  return i ? { result: i.signo, out: { pid: i.pid, code: i.code, uid: i.uid, status: i.status } } : { result: 0, out: { pid: 0, code: 0, uid: 0, status: 0 } };
}

export const signalCalls: Handlers<typeof signal> = {
  rt_sigaction: (ctx, { signo, handler, flags }) => sigaction(ctx.k, ctx.caller.pid, signo, handler, flags),
  kill: (ctx, { pid, sig }) => killSomething(ctx.k, senderOf(ctx.k, ctx.caller.pid), pid, sig),
  // SYSCALL_DEFINE2(tkill) / SYSCALL_DEFINE3(tgkill): "This is only valid for single tasks".
  tkill: (ctx, { tid, sig }) => (tid <= 0 ? errno(E.EINVAL, `tkill.tid: ${tid} is not a thread id`) : sendSpecific(ctx.k, senderOf(ctx.k, ctx.caller.pid), 0, tid, sig)),
  tgkill: (ctx, { tgid, tid, sig }) => {
    if (tid <= 0 || tgid <= 0) return errno(E.EINVAL, `tgkill: tgid ${tgid} and tid ${tid} must be positive`);
    return sendSpecific(ctx.k, senderOf(ctx.k, ctx.caller.pid), tgid, tid, sig);
  },
  rt_sigprocmask: (ctx, { how, set }) => {
    const old = sigprocmask(ctx.k, ctx.caller.pid, ctx.caller.tid, how, set);
    return old instanceof Errno ? old : { result: 0, out: { old } };
  },
  rt_sigpending: (ctx) => ({ result: 0, out: { set: pendingFor(ctx.k, ctx.caller.pid, ctx.caller.tid) } }),
  // dequeue_signal(tsk, mask, …): the guest's own mask (what its host thread blocks right now) joins the thread's.
  sig_dequeue: (ctx, { mask }) => {
    const r = taken(dequeueFor(ctx.k, ctx.caller.pid, ctx.caller.tid, mask));
    // The state page (spec/signals.md §4.2): the process holds no SIGCHLD now, written before the reply.
    if (!holds(ctx.k, ctx.caller.pid, SIG.SIGCHLD)) ctx.k.hooks.sigchldNone?.(ctx.caller.pid);
    return { result: r.result, out: { ...r.out, pending: pendingAll(ctx.k, ctx.caller.pid, ctx.caller.tid) } };
  },
  // do_sigtimedwait: dequeue_signal(tsk, ~which, …) takes a signal of the set whatever the mask;
  // with none, the thread sleeps until one arrives (here: on the host, rung for the set).
  sig_wait: (ctx, { set, arm }) => taken(waitFor(ctx.k, ctx.caller.pid, ctx.caller.tid, set, arm !== 0)),
  sig_watch: (ctx, { set }) => {
    watchFor(ctx.k, ctx.caller.pid, ctx.caller.tid, set);
    return 0;
  },
  setresuid: (ctx, { ruid, euid, suid }) => setresuid(ctx.k, ctx.caller.pid, ruid, euid, suid),
};
