/** Signals: dispositions, masks and credentials the guest reports; kill, tkill, tgkill; delivery 1's dequeue. */
import { E, errno } from "../protocol/errno.js";
import type { signal } from "../protocol/calls/signal.js";
import { actionChanged, dequeueFor, killSomething, pendingAll, pendingFor, sendSpecific, senderOf, setBlocked, waitFor, watchFor } from "../actors/signal.js";
import { ALL, NSIG, SIG, type SigInfo } from "../machine/sigset.js";
import type { Handlers } from "./types.js";

export const SIGKILL = SIG.SIGKILL;
export const SIGSTOP = SIG.SIGSTOP;
export { NSIG };

export const SIG_DFL = 0;
export const SIG_IGN = 1;
export const SIG_HANDLER = 2;

/** (uid_t)-1: setresuid leaves that id unchanged. */
const KEEP = 0xffffffff;

export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

/** sig_dequeue's and sig_wait's reply: the signal taken with its siginfo, or 0 when none was. */
function taken(i: SigInfo | undefined): { result: number; out: { pid: number; code: number; uid: number; status: number } } {
  return i ? { result: i.signo, out: { pid: i.pid, code: i.code, uid: i.uid, status: i.status } } : { result: 0, out: { pid: 0, code: 0, uid: 0, status: 0 } };
}

export const signalCalls: Handlers<typeof signal> = {
  rt_sigaction: (ctx, { signo, handler, flags }) => {
    // do_sigaction (kernel/signal.c): "if (!valid_signal(sig) || sig < 1 || (act && sig_kernel_only(sig))) return -EINVAL";
    // a signal number outside 1.._NSIG, or changing SIGKILL/SIGSTOP, is EINVAL.
    if (signo < 1 || signo > NSIG) return errno(E.EINVAL, `rt_sigaction.signo: ${signo} is not a signal (1..${NSIG})`);
    if (signo === SIGKILL || signo === SIGSTOP) return errno(E.EINVAL, `rt_sigaction: the disposition of signal ${signo} cannot be changed`);
    if (handler > SIG_HANDLER) return errno(E.EINVAL, `rt_sigaction.handler: expected 0 (SIG_DFL), 1 (SIG_IGN) or 2 (a handler), got ${handler}`);
    ctx.k.proc(ctx.caller.pid)?.send({ type: "SIGACTION", signo, handler, flags });
    actionChanged(ctx.k, ctx.caller.pid, signo);
    return 0;
  },
  kill: (ctx, { pid, sig }) => killSomething(ctx.k, senderOf(ctx.k, ctx.caller.pid), pid, sig),
  // SYSCALL_DEFINE2(tkill) / SYSCALL_DEFINE3(tgkill): "This is only valid for single tasks".
  tkill: (ctx, { tid, sig }) => (tid <= 0 ? errno(E.EINVAL, `tkill.tid: ${tid} is not a thread id`) : sendSpecific(ctx.k, senderOf(ctx.k, ctx.caller.pid), 0, tid, sig)),
  tgkill: (ctx, { tgid, tid, sig }) => {
    if (tid <= 0 || tgid <= 0) return errno(E.EINVAL, `tgkill: tgid ${tgid} and tid ${tid} must be positive`);
    return sendSpecific(ctx.k, senderOf(ctx.k, ctx.caller.pid), tgid, tid, sig);
  },
  rt_sigprocmask: (ctx, { how, set }) => {
    const t = ctx.k.threads.get(ctx.caller.tid);
    if (!t) return errno(E.ESRCH);
    const old = t.getSnapshot().context.blocked;
    const s = set & ALL;
    // sigprocmask(): "default: return -EINVAL" for an unknown how.
    const mask = how === SIG_BLOCK ? old | s : how === SIG_UNBLOCK ? old & ~s : how === SIG_SETMASK ? s : undefined;
    if (mask === undefined) return errno(E.EINVAL, `rt_sigprocmask.how: expected 0 (SIG_BLOCK), 1 (SIG_UNBLOCK) or 2 (SIG_SETMASK), got ${how}`);
    setBlocked(ctx.k, ctx.caller.pid, ctx.caller.tid, mask);
    return { result: 0, out: { old } };
  },
  rt_sigpending: (ctx) => ({ result: 0, out: { set: pendingFor(ctx.k, ctx.caller.pid, ctx.caller.tid) } }),
  // dequeue_signal(tsk, mask, …): the guest's own mask (what its host thread blocks right now) joins the thread's.
  sig_dequeue: (ctx, { mask }) => {
    const r = taken(dequeueFor(ctx.k, ctx.caller.pid, ctx.caller.tid, mask));
    return { result: r.result, out: { ...r.out, pending: pendingAll(ctx.k, ctx.caller.pid, ctx.caller.tid) } };
  },
  // do_sigtimedwait: dequeue_signal(tsk, ~which, …) takes a signal of the set whatever the mask;
  // with none, the thread sleeps until one arrives (here: on the host, rung for the set).
  sig_wait: (ctx, { set, arm }) => taken(waitFor(ctx.k, ctx.caller.pid, ctx.caller.tid, set, arm !== 0)),
  sig_watch: (ctx, { set }) => {
    watchFor(ctx.k, ctx.caller.pid, ctx.caller.tid, set);
    return 0;
  },
  setresuid: (ctx, { ruid, euid, suid }) => {
    const p = ctx.k.proc(ctx.caller.pid);
    if (!p) return errno(E.ESRCH);
    const c = p.getSnapshot().context.creds;
    // __sys_setresuid: without CAP_SETUID every new id must be one of the current ones.
    if (c.euid !== 0) {
      const own = [c.ruid, c.euid, c.suid];
      for (const [name, v] of [["ruid", ruid], ["euid", euid], ["suid", suid]] as const)
        if (v !== KEEP && !own.includes(v)) return errno(E.EPERM, `setresuid.${name}: ${v} is none of the caller's ids ${own.join("/")}`);
    }
    p.send({ type: "SET_CREDS", creds: { ruid: ruid === KEEP ? c.ruid : ruid, euid: euid === KEEP ? c.euid : euid, suid: suid === KEEP ? c.suid : suid } });
    return 0;
  },
};
