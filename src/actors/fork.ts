/**
 * kernel/fork.c: a new task. fork(2) and clone(CLONE_THREAD) reserve the child's number
 * and make it the parent's child at once (copy_process); the child's host process then
 * claims it with the token (reservations.ts). Register and `blinkd run`'s reservation bring
 * a process in from outside the namespace; the first one is PID 1.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import { imageOf } from "../machine/process.js";
import type { Kernel } from "./kernel.js";
import { endThread } from "./exit.js";
import { ptraceForked } from "./ptrace.js";
import { reserve, reserveForever, takeReservation, unreserve, findReservation } from "./reservations.js";

function newProcessNumber(k: Kernel): number | Errno {
  // copy_process: "if (data_race(nr_threads >= max_threads)) goto bad_fork_cleanup_count;"
  // and the RLIMIT_NPROC check before it both fail with -EAGAIN (fork(2): "A system-imposed
  // limit on the number of threads was encountered"). Zombies count until reaped.
  const tasks = k.tasks;
  if (tasks >= k.config.maxTasks) return errno(E.EAGAIN, `the namespace holds ${tasks} tasks, its limit (--max-tasks)`);
  // fork(2): EAGAIN "A system-imposed limit on the number of threads was encountered"
  // (alloc_pid fails with -EAGAIN when the namespace's idr is full).
  const pid = k.allocPid();
  return pid === 0 ? errno(E.EAGAIN, `no free pid below pid_max ${k.config.pidMax}`) : pid;
}

/**
 * The overflow uid (/proc/sys/kernel/overflowuid, "nobody"): the credentials of a process
 * that entered from outside without proving its host process, whose uids are unknown.
 */
const NOBODY = { ruid: 65534, euid: 65534, suid: 65534 };

/** A process that enters from outside starts with its proven host process's uids (kill's permission rule reads them), else nobody's. */
function credsFromHost(k: Kernel, pid: number, hostpid: number): void {
  const creds = (hostpid > 0 && k.hooks.hostCreds?.(hostpid)) || NOBODY;
  k.proc(pid)?.send({ type: "SET_CREDS", creds });
}

function becomeInitIfFirst(k: Kernel, pid: number): void {
  if (pid === 1) k.ns.send({ type: "INIT_BORN" });
}

/**
 * A process enters the namespace from outside (its parent is not in it: getppid is 0,
 * and its group and session are not visible: getpgid/getsid give 0, as for the first
 * process of `unshare --pid --fork`). The first one is PID 1.
 */
export function register(k: Kernel, hostpid: number, exe: string, argv: string[], delivery: number): { pid: number } | Errno {
  // `serve`: a namespace that is over is started anew for the next process (namespace.ts,
  // RENEW); otherwise a dying or dead namespace takes nobody.
  if (k.nsState() === "over" && k.config.renewNamespace) k.renew();
  if (k.nsState() === "dying" || k.nsState() === "over") return errno(E.ESRCH, "the namespace is over: its init has died");
  const pid = newProcessNumber(k);
  if (typeof pid !== "number") return pid;
  const p = k.spawnProcess({ pid, ppid: 0, pgid: 0, sid: 0, image: imageOf(exe, argv), hostpid, startTime: k.startTime(), delivery });
  // The process's CLAIM is its leader thread's too (actors/leader.ts).
  p.send({ type: "CLAIM", hostpid });
  becomeInitIfFirst(k, pid);
  credsFromHost(k, pid, hostpid);
  return { pid };
}

/** The launcher's reservation for `blinkd run`'s command: never expires; the launcher reports its end. */
export function reserveFromOutside(k: Kernel, exe: string, argv: string[], delivery = 0): { pid: number; token: string } | Errno {
  const pid = newProcessNumber(k);
  if (typeof pid !== "number") return pid;
  k.spawnProcess({ pid, ppid: 0, pgid: 0, sid: 0, image: imageOf(exe, argv), hostpid: 0, startTime: k.startTime(), delivery });
  const t = reserveForever(k, pid);
  becomeInitIfFirst(k, pid);
  return { pid, token: t };
}

/** fork(2): the child gets a new pid; it inherits the parent's group, session, exe and argv. */
export function fork(k: Kernel, parentPid: number, parentTid: number = parentPid, chosen?: { token: string; proof: string }): { pid: number; token: string; proof: string } | Errno {
  const parent = k.ctx(parentPid);
  if (!parent) return errno(E.ESRCH);
  const pid = newProcessNumber(k);
  if (typeof pid !== "number") return pid;
  k.spawnProcess({
    pid,
    ppid: parentPid,
    pgid: parent.pgid,
    sid: parent.sid,
    // The same exe, argv and comm: an immutable value the child shares until it execs.
    image: parent.image,
    hostpid: 0,
    startTime: k.startTime(),
    delivery: parent.delivery,
    // copy_process: p->real_parent = current, the forking thread.
    parentTid,
    // fork(2): "The child inherits copies of the parent's set of open file descriptors …
    // signal dispositions"; copy_process also keeps the subreaper bit off in the child.
    // Given as input rather than sent as an event: one xstate event less per fork.
    inherit: parent,
    // fork(2): the child's signal mask is the calling thread's (its pending set starts empty).
    blocked: maskOf(k, parentTid),
  });
  k.forked(parentPid, pid);
  // copy_process: list_add_tail(&p->sibling, &p->real_parent->children). The parent's list is
  // a Set changed in place that no transition of its actor reads (machine/process.ts), so the
  // child joins it here: a fork costs the parent's actor no xstate step, where a CHILD_ADD
  // event cost one macrostep (bench/README.md). `blinkd events` still shows the parent's
  // CHILD_ADD (Kernel.recordUpdate).
  parent.children.add(pid);
  k.recordUpdate(k.proc(parentPid)!, parentPid, "CHILD_ADD");
  const token = reserve(k, "process", pid, pid, chosen);
  // copy_process → ptrace_init_task: a traced parent's child may be traced from its start.
  ptraceForked(k, parentPid, pid);
  return { pid, token, proof: k.reservations.get(token)!.proof };
}

/** The host fork failed: undo the reservation as if fork had never happened. */
export function forkAbort(k: Kernel, parentPid: number, pid: number): 0 | Errno {
  const c = k.ctx(pid);
  if (!c || c.ppid !== parentPid || k.state(pid) !== "embryo") return errno(E.ESRCH, `${pid} is not an unclaimed child of ${parentPid}`);
  const t = findReservation(k, "process", pid, pid);
  if (t) unreserve(k, t);
  k.threads.get(pid)?.send({ type: "ABORT" });
  k.dropThread(pid);
  k.proc(pid)!.send({ type: "ABORT" });
  k.proc(parentPid)?.send({ type: "CHILD_DROP", pid });
  k.dropProcess(pid);
  k.notifyParent(parentPid);
  return 0;
}

/** A thread's signal mask (task->blocked), which fork and clone copy to the new task. */
const maskOf = (k: Kernel, tid: number): bigint => k.threads.get(tid)?.blocked ?? 0n;

/**
 * clone(CLONE_THREAD): a new tid from the same number space, in the caller's thread group.
 * Its signal mask is the creating thread's (copy_process duplicates current->blocked;
 * pthread_create(3): "The new thread inherits a copy of the creating thread's signal mask").
 */
export function threadCreate(k: Kernel, pid: number, creatorTid: number): { tid: number; token: string } | Errno {
  if (k.state(pid) !== "running") return errno(E.ESRCH);
  const tid = newProcessNumber(k);
  if (typeof tid !== "number") return tid;
  k.spawnThread(tid, pid, maskOf(k, creatorTid));
  k.proc(pid)!.send({ type: "THREAD_ADD", tid });
  return { tid, token: reserve(k, "thread", pid, tid) };
}

/** The host's pthread_create failed: the reserved thread never was. */
export function threadAbort(k: Kernel, pid: number, tid: number): 0 | Errno {
  const t = findReservation(k, "thread", pid, tid);
  if (!t) return errno(E.ESRCH, `${tid} is not an unclaimed thread of ${pid}`);
  unreserve(k, t);
  endThread(k, pid, tid);
  return 0;
}

/** The new task's connection claims its reservation (wake_up_new_task: from here it runs). */
export function claim(k: Kernel, t: string, hostpid: number): { pid: number; tid: number } | Errno {
  const r = takeReservation(k, t);
  if (!r) return errno(E.ENOENT, "no such reservation: the token was claimed already, aborted, or expired");
  if (r.kind === "process") k.proc(r.pid)!.send({ type: "CLAIM", hostpid });
  k.threads.get(r.tid)!.send({ type: "CLAIM" });
  // A forked child has its parent's uids already (copy_creds: fork needs no permission, and
  // the token is the capability); `blinkd run`'s command has its host's.
  if (r.kind === "process" && k.ctx(r.pid)?.ppid === 0) credsFromHost(k, r.pid, hostpid);
  return { pid: r.pid, tid: r.tid };
}
