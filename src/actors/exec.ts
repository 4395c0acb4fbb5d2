/**
 * fs/exec.c: execve(2) keeps the pid, parent and group; de_thread ends every other thread,
 * begin_new_exec resets the handled signals and closes the close-on-exec descriptors. A
 * process that execs a native program leaves emulation (blinkd's own: it keeps its pid
 * until reaped, and its host kernel runs it from there).
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { Kernel } from "./kernel.js";
import { endThread } from "./exit.js";

/**
 * execve(2): same pid, parent and group; de_thread ends every other thread, and a
 * non-leader caller takes over the leader's tid. Returns the caller's new tid.
 */
export function execve(k: Kernel, pid: number, tid: number, exe: string, argv: string[]): number | Errno {
  const c = k.ctx(pid);
  if (!c || k.state(pid) !== "running") return errno(E.ESRCH);
  for (const other of [...c.threads]) if (other !== tid) endThread(k, pid, other);
  if (tid !== pid) {
    // The caller becomes the leader: its own number is released, the connection keeps going.
    // de_thread swaps the pids of two task_structs, so the caller keeps its own signal mask
    // (execve(2): "The signal mask is preserved") and its thread-directed pending signals.
    const caller = k.threads.get(tid)!;
    const own = caller.getSnapshot().context;
    k.proc(pid)!.send({ type: "THREAD_DROP", tid });
    k.dropThread(tid, false);
    k.taskGone();
    // The leader's state is the process's (actors/leader.ts): the caller's replaces it, live
    // again; its mask first, which the leader's new spawn record reads.
    k.threads.get(pid)!.blocked = caller.blocked;
    k.proc(pid)!.send({ type: "LEADER_TAKEOVER", pending: own.pending });
  }
  // begin_new_exec → flush_signal_handlers: the process machine's EXEC resets handled signals.
  k.proc(pid)!.send({ type: "EXEC", exe, argv });
  // do_execveat_common → begin_new_exec → do_close_on_exec, and the like.
  k.execed(pid);
  return pid;
}

/** The process now runs a native program: its threads end; the pid stays until reaped. */
export function execNative(k: Kernel, pid: number, exe: string, argv: string[]): 0 | Errno {
  const c = k.ctx(pid);
  if (!c || k.state(pid) !== "running") return errno(E.ESRCH);
  for (const tid of [...c.threads]) endThread(k, pid, tid);
  k.proc(pid)!.send({ type: "EXEC_NATIVE", exe, argv });
  // A native program cannot use daemon-owned resources: they are released as at exit.
  k.exited(pid);
  return 0;
}
