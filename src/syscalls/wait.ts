/**
 * The wait family: wait4 and waitid, as kernel/exit.c has them (kernel_wait4,
 * kernel_waitid, do_wait, wait_consider_task). Both build the same selection and walk
 * only the caller's own children (a pid selector looks at one), so a wait's cost follows
 * the caller's children, never the namespace.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { wait } from "../protocol/calls/wait.js";
import { reap } from "../actors/exit.js";
import { NOT_READY, park, type Attempt } from "../actors/park.js";
import type { Kernel } from "../actors/kernel.js";
import type { ProcessContext } from "../machine/process.js";
import { CONTINUED, stopped } from "../machine/wstatus.js";
import type { CallCtx, Handlers } from "./types.js";
import { ptraceReport, releaseToParent, tracedBy, tracerOf } from "../actors/ptrace.js";

// include/uapi/linux/wait.h
export const WNOHANG = 0x00000001;
export const WUNTRACED = 0x00000002;
export const WSTOPPED = WUNTRACED;
export const WEXITED = 0x00000004;
export const WCONTINUED = 0x00000008;
export const WNOWAIT = 0x01000000;
export const __WNOTHREAD = 0x20000000;
export const __WALL = 0x40000000;
export const __WCLONE = 0x80000000 | 0;

export const P_ALL = 0;
export const P_PID = 1;
export const P_PGID = 2;
export const P_PIDFD = 3;

// include/uapi/asm-generic/siginfo.h: si_code for SIGCHLD
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;
export const CLD_TRAPPED = 4;
export const CLD_STOPPED = 5;
export const CLD_CONTINUED = 6;

const SIGCHLD = 17;
const SIGCONT = 18;

/** Which children a wait looks at: wo_type and wo_pid. */
export type Selector = { readonly kind: "pid"; readonly pid: number } | { readonly kind: "any" } | { readonly kind: "pgid"; readonly pgid: number };

/** What a wait found: the pid, the wait4 status word, and waitid's si_code and si_status. */
export interface Found {
  readonly pid: number;
  /** si_uid: the child's real uid (task_uid). */
  readonly uid: number;
  readonly wstatus: number;
  readonly code: number;
  readonly status: number;
}

/** eligible_child (kernel/exit.c): the selector, then __WALL / __WCLONE against the exit signal. */
function eligible(sel: Selector, pid: number, c: ProcessContext, options: number, ptrace: boolean): boolean {
  if (sel.kind === "pid" ? pid !== sel.pid : sel.kind === "pgid" ? c.pgid !== sel.pgid : false) return false;
  // "Wait for all children (clone and not) if __WALL is set or if it is traced by us."
  if (ptrace) return true;
  // "Wait for all children (clone and not) if __WALL is set; otherwise, wait for clone
  // children *only* if __WCLONE is set; otherwise, wait for non-clone children *only*."
  // A clone child reports with a signal other than SIGCHLD; every child here is a fork
  // child (exit_signal SIGCHLD), so __WCLONE alone finds none.
  const isClone = c.flags.exitSignal !== SIGCHLD;
  return (options & __WALL) !== 0 || ((options & __WCLONE) !== 0) === isClone;
}

/** wait_task_zombie's out_info: si_code and si_status from the status word. */
function exitInfo(pid: number, uid: number, wstatus: number): Found {
  if ((wstatus & 0x7f) === 0) return { pid, uid, wstatus, code: CLD_EXITED, status: (wstatus >> 8) & 0xff };
  return { pid, uid, wstatus, code: wstatus & 0x80 ? CLD_DUMPED : CLD_KILLED, status: wstatus & 0x7f };
}

/**
 * One pass of __do_wait over the caller's children: the first child (in children-list
 * order) with something to report is taken (reaped or its report consumed, unless
 * WNOWAIT) in this same synchronous step. ECHILD when no child could ever match
 * (notask_error), 0 for WNOHANG when some could, else NOT_READY (sleep and retry).
 */
export function waitAttempt(k: Kernel, caller: number, callerTid: number, sel: Selector, options: number): Attempt<Found | 0> {
  const me = k.ctx(caller);
  if (!me) return errno(E.ESRCH);
  let notask = true;
  // do_wait_pid looks only at the task with that pid (is_effectively_child); the other
  // selectors walk the children lists (do_wait_thread).
  // ptrace_do_wait: then the caller's tracees (tsk->ptraced) that are not its children.
  const tracees = tracedBy(k, caller);
  const extra = tracees.filter((t) => !me.children.has(t));
  const candidates: Iterable<number> =
    sel.kind === "pid" ? (me.children.has(sel.pid) || tracees.includes(sel.pid) ? [sel.pid] : []) : extra.length ? [...me.children, ...extra] : me.children;
  for (const child of candidates) {
    const c = k.ctx(child);
    const state = k.state(child);
    // EXIT_DEAD (being released) is never considered.
    if (!c || state === "reaped" || state === "aborted") continue;
    const tracer = tracerOf(k, child);
    // wait_consider_task: traced by the caller (as tracer, or its real parent traces it).
    const ptrace = tracer === caller;
    // __WNOTHREAD: "Don't wait on children of other threads in this group".
    if (!ptrace && options & __WNOTHREAD && c.parentTid !== callerTid) continue;
    if (!eligible(sel, child, c, options, ptrace)) continue;
    // "A zombie ptracee is only visible to its ptracer. Notification and reaping will be
    // cascaded to the real parent when the ptracer detaches."
    if (tracer !== 0 && !ptrace) {
      notask = false;
      continue;
    }
    // wait_consider_task: a zombie goes to wait_task_zombie, which without WEXITED returns 0
    // straight back to the caller, so a zombie alone leaves notask_error at ECHILD; a live
    // child always "is gonna stop, continue or exit" and clears it.
    if (state === "zombie") {
      if (options & WEXITED) {
        const wstatus = c.wstatus ?? 0;
        // WNOWAIT: "Leave the child in a waitable state; a later wait call can be used to
        // again retrieve the child status information" (waitid(2)).
        // wait_task_zombie: a tracer that is not the real parent only collects the status
        // (EXIT_TRACE); the real parent is told then, and reaps.
        if (!(options & WNOWAIT)) {
          if (ptrace && c.ppid !== caller) releaseToParent(k, child);
          else reap(k, child);
        }
        return exitInfo(child, c.creds.ruid, wstatus);
      }
      continue;
    }
    notask = false;
    if (ptrace) {
      // wait_task_stopped(ptrace): task->exit_code of a ptrace stop, reported without WUNTRACED, si_code CLD_TRAPPED.
      const code = ptraceReport(k, child, !(options & WNOWAIT));
      if (code) return { pid: child, uid: c.creds.ruid, wstatus: ((code & 0xffff) << 8) | 0x7f, code: CLD_TRAPPED, status: code };
    }
    const rep = c.job.waitReport;
    if (!rep) continue;
    // wait_task_stopped: only with WUNTRACED/WSTOPPED; the code is cleared unless WNOWAIT.
    if (rep.kind === "stopped" && options & WSTOPPED) {
      if (!(options & WNOWAIT)) k.proc(child)!.send({ type: "WAIT_REPORT", report: null });
      return { pid: child, uid: c.creds.ruid, wstatus: stopped(rep.signo), code: CLD_STOPPED, status: rep.signo };
    }
    // wait_task_continued: only with WCONTINUED; wo_stat 0xffff, si_status SIGCONT.
    if (rep.kind === "continued" && options & WCONTINUED) {
      if (!(options & WNOWAIT)) k.proc(child)!.send({ type: "WAIT_REPORT", report: null });
      return { pid: child, uid: c.creds.ruid, wstatus: CONTINUED, code: CLD_CONTINUED, status: SIGCONT };
    }
  }
  if (notask) return errno(E.ECHILD);
  if (options & WNOHANG) return 0;
  return NOT_READY;
}

/** do_wait: try, then sleep on the caller's child-wait queue until something changes. */
function doWait<A>(ctx: CallCtx, sel: Selector, options: number, shape: (f: Found | 0) => A) {
  const pid = ctx.caller.pid;
  const tid = ctx.caller.tid;
  const once = (): Attempt<A> => {
    const r = waitAttempt(ctx.k, pid, tid, sel, options);
    return r === NOT_READY || typeof r === "object" && "_tag" in r ? (r as Attempt<A>) : shape(r as Found | 0);
  };
  const first = once();
  if (first !== NOT_READY) return first as A | Errno;
  return park(ctx.interruptible, () => [ctx.k.waitQueue(pid)], once);
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

export const waitCalls: Handlers<typeof wait> = {
  wait4: (ctx, { pid, options }) => {
    // kernel_wait4: "if (options & ~(WNOHANG|WUNTRACED|WCONTINUED|__WNOTHREAD|__WCLONE|__WALL)) return -EINVAL;"
    // (WEXITED and WNOWAIT are waitid's alone), then "-INT_MIN is not defined": ESRCH.
    const bad = options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL);
    if (bad) return errno(E.EINVAL, `wait4.options: unknown bits ${hex(bad)}`);
    if (pid === -0x80000000) return errno(E.ESRCH, "wait4.pid: INT_MIN names no process group");
    const me = ctx.k.ctx(ctx.caller.pid);
    if (!me) return errno(E.ESRCH);
    const sel: Selector = pid === -1 ? { kind: "any" } : pid < 0 ? { kind: "pgid", pgid: -pid } : pid === 0 ? { kind: "pgid", pgid: me.pgid } : { kind: "pid", pid };
    // wo_flags = options | WEXITED
    return doWait(ctx, sel, options | WEXITED, (f) => (f === 0 ? { result: 0, out: { wstatus: 0 } } : { result: f.pid, out: { wstatus: f.wstatus } }));
  },
  waitid: (ctx, { idtype, id, options }) => {
    // kernel_waitid: unknown option bits, then no event class at all, are EINVAL.
    const bad = options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL);
    if (bad) return errno(E.EINVAL, `waitid.options: unknown bits ${hex(bad)}`);
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return errno(E.EINVAL, "waitid.options: none of WEXITED, WSTOPPED, WCONTINUED");
    const me = ctx.k.ctx(ctx.caller.pid);
    if (!me) return errno(E.ESRCH);
    let sel: Selector;
    switch (idtype) {
      case P_ALL:
        sel = { kind: "any" };
        break;
      case P_PID:
        // "case P_PID: if (upid <= 0) return -EINVAL;"
        if (id <= 0) return errno(E.EINVAL, `waitid.id: P_PID needs a pid > 0, got ${id}`);
        sel = { kind: "pid", pid: id };
        break;
      case P_PGID:
        // "case P_PGID: if (upid < 0) return -EINVAL;" and 0 is the caller's group (Linux 5.4+).
        if (id < 0) return errno(E.EINVAL, `waitid.id: P_PGID needs a group >= 0, got ${id}`);
        sel = { kind: "pgid", pgid: id === 0 ? me.pgid : id };
        break;
      case P_PIDFD:
        // kernel_waitid: "case P_PIDFD: … if (upid < 0) return -EINVAL;", then pidfd_get_pid:
        // EBADF when the descriptor is not open (fdget) or is not a pidfd (pidfd_pid). The
        // daemon's descriptors (eventfd) are never pidfds, and it keeps no other: EBADF.
        if (id < 0) return errno(E.EINVAL, `waitid.id: P_PIDFD needs a descriptor >= 0, got ${id}`);
        return errno(E.EBADF, `waitid.id: descriptor ${id} is not a pidfd (the daemon keeps none)`);
      default:
        return errno(E.EINVAL, `waitid.idtype: expected P_ALL (0), P_PID (1) or P_PGID (2), got ${idtype}`);
    }
    return doWait(ctx, sel, options, (f) =>
      f === 0
        ? { result: 0, out: { pid: 0, uid: 0, signo: 0, status: 0, code: 0 } }
        : { result: 0, out: { pid: f.pid, uid: f.uid, signo: SIGCHLD, status: f.status, code: f.code } },
    );
  },
};
