/** Identity, fork, threads, exec and exit. */
import { E, Errno, errno } from "../protocol/errno.js";
import type { process } from "../protocol/calls/process.js";
import { execNative, execve, exitGroup, fork, forkAbort, reportStatus, threadAbort, threadCreate, threadExit } from "../actors/exit.js";
import type { Handlers } from "./types.js";
import { ptraceExeced, ptraceForked } from "../actors/ptrace.js";

export const processCalls: Handlers<typeof process> = {
  getpid: (ctx) => ctx.caller.pid,
  // getppid(2): the parent's pid as seen in the caller's namespace; 0 when it is outside.
  getppid: (ctx) => ctx.k.ctx(ctx.caller.pid)?.ppid ?? 0,
  gettid: (ctx) => ctx.caller.tid,
  fork: (ctx) => {
    const r = fork(ctx.k, ctx.caller.pid, ctx.caller.tid);
    if (r instanceof Errno) return r;
    // copy_process → ptrace_init_task: a traced parent's child may be traced from its start.
    ptraceForked(ctx.k, ctx.caller.pid, r.pid);
    return { result: r.pid, out: { token: r.token } };
  },
  fork_abort: (ctx, { pid }) => forkAbort(ctx.k, ctx.caller.pid, pid),
  thread_create: (ctx) => {
    const r = threadCreate(ctx.k, ctx.caller.pid, ctx.caller.tid);
    return r instanceof Errno ? r : { result: r.tid, out: { token: r.token } };
  },
  thread_abort: (ctx, { tid }) => threadAbort(ctx.k, ctx.caller.pid, tid),
  exit: (ctx, { status }) => {
    threadExit(ctx.k, ctx.caller.pid, ctx.caller.tid, status);
    return 0;
  },
  exit_group: (ctx, { status }) => {
    exitGroup(ctx.k, ctx.caller.pid, (status & 0xff) << 8, false);
    return 0;
  },
  execve: (ctx, { exe, argv }) => {
    const former = ctx.caller.tid;
    const tid = execve(ctx.k, ctx.caller.pid, ctx.caller.tid, exe, argv);
    if (tid instanceof Errno) return tid;
    if (tid !== ctx.caller.tid) ctx.caller.rebind(tid);
    // exec_binprm → ptrace_event(PTRACE_EVENT_EXEC, old_vpid): the tracee stops as the new image starts.
    ptraceExeced(ctx.k, ctx.caller.pid, former);
    return 0;
  },
  exec_native: (ctx, { exe, argv }) => {
    const r = execNative(ctx.k, ctx.caller.pid, exe, argv);
    if (r === 0) ctx.caller.detach();
    return r;
  },
  // prctl(2) PR_SET_CHILD_SUBREAPER: "If arg2 is nonzero, set the 'child subreaper'
  // attribute of the calling process; if arg2 is zero, unset the attribute." Not
  // inherited by fork, kept across execve (the flag lives in signal_struct).
  prctl_set_child_subreaper: (ctx, { value }) => {
    ctx.k.proc(ctx.caller.pid)?.send({ type: "SET_SUBREAPER", on: value !== 0 });
    return 0;
  },
  // PR_GET_CHILD_SUBREAPER: "Return the 'child subreaper' setting of the caller, in the
  // location pointed to by (int *) arg2"; the call itself returns 0, the value travels as the result here.
  prctl_get_child_subreaper: (ctx) => (ctx.k.ctx(ctx.caller.pid)?.flags.childSubreaper ? 1 : 0),
  report_status: (ctx, { pid, wstatus }) => {
    const c = ctx.k.ctx(pid);
    if (!c || c.ppid !== ctx.caller.pid) return errno(E.ESRCH, `${pid} is not a child of ${ctx.caller.pid}`);
    reportStatus(ctx.k, pid, wstatus);
    return 0;
  },
};
