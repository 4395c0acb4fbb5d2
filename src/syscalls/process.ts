/**
 * Identity, fork, threads, exec and exit: fork and clone are actors/fork.ts's (kernel/fork.c),
 * execve actors/exec.ts's (fs/exec.c), exit and the reaper's report actors/exit.ts's
 * (kernel/exit.c), prctl's subreaper bit actors/sys.ts's (kernel/sys.c).
 */
import { E, Errno, errno } from "../protocol/errno.js";
import type { process } from "../protocol/calls/process.js";
import { exitGroup, reportStatus, threadExit } from "../actors/exit.js";
import { fork, forkAbort, threadAbort, threadCreate } from "../actors/fork.js";
import { execNative, execve } from "../actors/exec.js";
import { vforkAbort, vforkReserve } from "../actors/vfork.js";
import { childSubreaper, setChildSubreaper } from "../actors/sys.js";
import type { Handlers } from "./types.js";
import { ptraceExeced } from "../actors/ptrace.js";

export const processCalls: Handlers<typeof process> = {
  getpid: (ctx) => ctx.caller.pid,
  // getppid(2): the parent's pid as seen in the caller's namespace; 0 when it is outside.
  getppid: (ctx) => ctx.k.ctx(ctx.caller.pid)?.ppid ?? 0,
  gettid: (ctx) => ctx.caller.tid,
  fork: (ctx) => {
    const r = fork(ctx.k, ctx.caller.pid, ctx.caller.tid);
    return r instanceof Errno ? r : { result: r.pid, out: { token: r.token, proof: r.proof } };
  },
  vfork: (ctx, { token, proof }) => vforkReserve(ctx.k, ctx.caller.pid, ctx.caller.tid, token, proof),
  vfork_abort: (ctx, { token }) => vforkAbort(ctx.k, ctx.caller.pid, token),
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
    // exec_binprm → ptrace_event(PTRACE_EVENT_EXEC, old_vpid): the tracee stops as the new image
    // starts; after the rebind, so that the stop rings the connection under its new tid.
    ptraceExeced(ctx.k, ctx.caller.pid, former);
    return 0;
  },
  exec_native: (ctx, { exe, argv }) => {
    const r = execNative(ctx.k, ctx.caller.pid, exe, argv);
    if (r === 0) ctx.caller.detach();
    return r;
  },
  prctl_set_child_subreaper: (ctx, { value }) => setChildSubreaper(ctx.k, ctx.caller.pid, value),
  prctl_get_child_subreaper: (ctx) => childSubreaper(ctx.k, ctx.caller.pid),
  report_status: (ctx, { pid, wstatus }) => {
    const c = ctx.k.ctx(pid);
    if (!c || c.ppid !== ctx.caller.pid) return errno(E.ESRCH, `${pid} is not a child of ${ctx.caller.pid}`);
    reportStatus(ctx.k, pid, wstatus);
    return 0;
  },
};
