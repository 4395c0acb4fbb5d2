/**
 * The process lifecycle across actors: register, fork and its claim, threads, exec, and
 * exit with reparenting, in the order Linux's kernel/exit.c does them. Each rule is
 * stated beside the code that implements it.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import { signaled } from "../machine/wstatus.js";
import { imageOf } from "../machine/process.js";
import type { Kernel, Reservation } from "./kernel.js";
import { killOrphanedPgrp, sendExitSignal } from "./signal.js";
import { secret } from "./secrets.js";
import { ptraceExitNotify } from "./ptrace.js";

const SIGKILL = 9;

const token = secret;

function newProcessNumber(k: Kernel): number | Errno {
  // copy_process: "if (data_race(nr_threads >= max_threads)) goto bad_fork_cleanup_count;"
  // and the RLIMIT_NPROC check before it both fail with -EAGAIN (fork(2): "A system-imposed
  // limit on the number of threads was encountered"). Zombies count until reaped.
  const tasks = k.ns.getSnapshot().context.nprocs;
  if (tasks >= k.config.maxTasks) return errno(E.EAGAIN, `the namespace holds ${tasks} tasks, its limit (--max-tasks)`);
  // fork(2): EAGAIN "A system-imposed limit on the number of threads was encountered"
  // (alloc_pid fails with -EAGAIN when the namespace's idr is full).
  const pid = k.allocPid();
  return pid === 0 ? errno(E.EAGAIN, `no free pid below pid_max ${k.config.pidMax}`) : pid;
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
  const pid = newProcessNumber(k);
  if (typeof pid !== "number") return pid;
  const p = k.spawnProcess({ pid, ppid: 0, pgid: 0, sid: 0, image: imageOf(exe, argv), hostpid, startTime: k.now(), delivery });
  p.send({ type: "CLAIM", hostpid });
  k.spawnThread(pid, pid).send({ type: "CLAIM" });
  becomeInitIfFirst(k, pid);
  return { pid };
}

/** The launcher's reservation for `blinkd run`'s command: never expires; the launcher reports its end. */
export function reserveFromOutside(k: Kernel, exe: string, argv: string[], delivery = 0): { pid: number; token: string } | Errno {
  const pid = newProcessNumber(k);
  if (typeof pid !== "number") return pid;
  k.spawnProcess({ pid, ppid: 0, pgid: 0, sid: 0, image: imageOf(exe, argv), hostpid: 0, startTime: k.now(), delivery });
  k.spawnThread(pid, pid);
  const t = token();
  k.reservations.set(t, { kind: "process", pid, tid: pid, timer: undefined });
  becomeInitIfFirst(k, pid);
  return { pid, token: t };
}

/** fork(2): the child gets a new pid; it inherits the parent's group, session, exe and argv. */
export function fork(k: Kernel, parentPid: number, parentTid: number = parentPid): { pid: number; token: string } | Errno {
  const parent = k.ctx(parentPid);
  if (!parent) return errno(E.ESRCH);
  const pid = newProcessNumber(k);
  if (typeof pid !== "number") return pid;
  const child = k.spawnProcess({
    pid,
    ppid: parentPid,
    pgid: parent.pgid,
    sid: parent.sid,
    // The same exe, argv and comm: an immutable value the child shares until it execs.
    image: parent.image,
    hostpid: 0,
    startTime: k.now(),
    delivery: parent.delivery,
    // copy_process: p->real_parent = current, the forking thread.
    parentTid,
    // fork(2): "The child inherits copies of the parent's set of open file descriptors …
    // signal dispositions"; copy_process also keeps the subreaper bit off in the child.
    // Given as input rather than sent as an event: one xstate event less per fork.
    inherit: parent,
  });
  // fork(2): the child's signal mask is the calling thread's (its pending set starts empty).
  k.spawnThread(pid, pid, maskOf(k, parentTid));
  k.forked(parentPid, pid);
  // copy_process: list_add_tail(&p->sibling, &p->real_parent->children)
  k.proc(parentPid)!.send({ type: "CHILD_ADD", pid });
  return { pid, token: reserve(k, "process", pid, pid) };
}

function reserve(k: Kernel, kind: "process" | "thread", pid: number, tid: number): string {
  const t = token();
  const r: Reservation = { kind, pid, tid, timer: undefined };
  r.timer = setTimeout(() => expire(k, t), k.config.reserveTimeoutMs);
  r.timer.unref();
  k.reservations.set(t, r);
  return t;
}

function findReservation(k: Kernel, kind: "process" | "thread", pid: number, tid: number): string | undefined {
  for (const [t, r] of k.reservations) if (r.kind === kind && r.pid === pid && r.tid === tid) return t;
  return undefined;
}

function unreserve(k: Kernel, t: string): void {
  const r = k.reservations.get(t);
  if (r?.timer) clearTimeout(r.timer);
  k.reservations.delete(t);
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
const maskOf = (k: Kernel, tid: number): bigint => k.threads.get(tid)?.getSnapshot().context.blocked ?? 0n;

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

export function threadAbort(k: Kernel, pid: number, tid: number): 0 | Errno {
  const t = findReservation(k, "thread", pid, tid);
  if (!t) return errno(E.ESRCH, `${tid} is not an unclaimed thread of ${pid}`);
  unreserve(k, t);
  endThread(k, pid, tid);
  return 0;
}

export function claim(k: Kernel, t: string, hostpid: number): { pid: number; tid: number } | Errno {
  const r = k.reservations.get(t);
  if (!r) return errno(E.ENOENT, "no such reservation: the token was claimed already, aborted, or expired");
  unreserve(k, t);
  if (r.kind === "process") k.proc(r.pid)!.send({ type: "CLAIM", hostpid });
  k.threads.get(r.tid)!.send({ type: "CLAIM" });
  return { pid: r.pid, tid: r.tid };
}

/** An unclaimed reservation expired: the child never came, so it died (SIGKILL) or the thread never was. */
function expire(k: Kernel, t: string): void {
  const r = k.reservations.get(t);
  if (!r) return;
  k.reservations.delete(t);
  if (r.kind === "thread") endThread(k, r.pid, r.tid);
  else exitGroup(k, r.pid, signaled(SIGKILL), true);
}

function endThread(k: Kernel, pid: number, tid: number): void {
  // Only this process's thread: a number freed and reused since belongs to someone else.
  const t = k.threads.get(tid);
  const mine = t && t.getSnapshot().context.pid === pid ? t : undefined;
  // An unclaimed thread's reservation ends with it (execve's de_thread, exit of the group):
  // its token must never claim a thread that is gone, nor its expiry end one twice.
  if (mine && tid !== pid && mine.getSnapshot().value === "embryo") {
    const r = findReservation(k, "thread", pid, tid);
    if (r) unreserve(k, r);
  }
  mine?.send({ type: "EXIT" });
  k.proc(pid)?.send({ type: "THREAD_DROP", tid });
  adoptThreadChildren(k, pid, tid);
  if (tid !== pid) {
    if (!mine) return;
    k.dropThread(tid);
    k.ns.send({ type: "PROC_GONE" });
  } else {
    k.hooks.threadGone(tid);
  }
}

/**
 * exit(2) ends the calling thread only; when it was the last live thread the process
 * exits with its status (do_exit → group_dead).
 */
export function threadExit(k: Kernel, pid: number, tid: number, status: number): void {
  const c = k.ctx(pid);
  if (!c) return;
  // A thread still unclaimed has not connected and runs nothing: if only such threads remain,
  // this was the last live thread (otherwise the process would be left running with no
  // thread once their reservations expire, and never exit).
  let last = c.threads.has(tid);
  for (const other of c.threads) if (other !== tid && k.threads.get(other)?.getSnapshot().value !== "embryo") last = false;
  if (last) return exitGroup(k, pid, (status & 0xff) << 8, false);
  endThread(k, pid, tid);
}

/**
 * find_alive_thread: the first thread of the group (in creation order) that is not
 * exiting, 0 when none is left.
 */
function aliveThread(k: Kernel, pid: number): number {
  const c = k.ctx(pid);
  if (!c) return 0;
  for (const t of c.threads) return t;
  return 0;
}

/**
 * A thread ended while its group lives on: forget_original_parent's find_new_reaper
 * first tries find_alive_thread(father), so the children it forked now belong to the
 * group's first live thread (getppid does not change; only __WNOTHREAD sees it).
 */
function adoptThreadChildren(k: Kernel, pid: number, tid: number): void {
  const c = k.ctx(pid);
  if (!c || c.children.size === 0) return;
  const heir = aliveThread(k, pid);
  if (heir === 0) return; // the whole group is exiting: exitGroup moves the children
  for (const child of c.children) {
    const cc = k.ctx(child);
    if (cc && cc.parentTid === tid) k.proc(child)!.send({ type: "REPARENT", ppid: pid, parentTid: heir });
  }
}

/**
 * find_new_reaper (kernel/exit.c): a dying process's children go to another live thread
 * of its group (adoptThreadChildren, while the group lives), else the nearest ancestor
 * that is a child subreaper, else the namespace's init.
 */
export function findNewReaper(k: Kernel, pid: number): number {
  for (let a = k.ctx(pid)?.ppid ?? 0; a > 1; ) {
    const c = k.ctx(a);
    if (!c) break;
    // "Find the first ->is_child_subreaper ancestor in our pid_ns" with a live thread
    // (find_alive_thread): a subreaper that is exiting itself is passed over.
    if (c.flags.childSubreaper && aliveThread(k, a) !== 0) return a;
    a = c.ppid;
  }
  return 1;
}

const SIGCHLD = 17;
/** include/uapi/asm-generic/signal-defs.h */
export const SA_NOCLDWAIT = 2;

/**
 * do_notify_parent's autoreap: "if the parent ignores SIGCHLD (SIG_IGN) or has
 * SA_NOCLDWAIT set, the child is released at once and no zombie is left" (wait(2),
 * NOTES: POSIX.1-2001 and Linux).
 */
export function parentAutoReaps(k: Kernel, ppid: number): boolean {
  const p = k.ctx(ppid);
  if (!p) return false;
  return (p.sigactions.ignored & (1n << BigInt(SIGCHLD - 1))) !== 0n || ((p.sigactions.flags.get(SIGCHLD) ?? 0) & SA_NOCLDWAIT) !== 0;
}

/**
 * do_exit for the whole thread group (exit_group(2), a fatal signal, or the connection
 * closing, where the status is assumed SIGKILL until a reaper reports the real one).
 */
export function exitGroup(k: Kernel, pid: number, wstatus: number, assumed: boolean): void {
  const p = k.proc(pid);
  const state = k.state(pid);
  if (!p || (state !== "running" && state !== "embryo" && state !== "native")) return;
  const c = p.getSnapshot().context;
  for (const tid of [...c.threads]) {
    const t = findReservation(k, tid === pid ? "process" : "thread", pid, tid);
    if (t) unreserve(k, t);
    endThread(k, pid, tid);
  }
  p.send({ type: "DIE", wstatus, assumed });
  // do_exit → exit_files and the like: a dead process holds no resources.
  k.exited(pid);

  if (pid === 1) return initDied(k, wstatus);

  // forget_original_parent: every child, zombies included, moves to the new reaper,
  // appended to its children list (list_move_tail), and a zombie among them is reported
  // to the new parent as if it had just died.
  if (c.children.size) {
    const reaper = findNewReaper(k, pid);
    const rp = k.proc(reaper);
    const heir = aliveThread(k, reaper) || reaper;
    // reparent_leader: a zombie among them is notified to its new parent, and released at
    // once when that parent auto-reaps (do_notify_parent returned autoreap: EXIT_DEAD).
    const autoReap = parentAutoReaps(k, reaper);
    let zombies = false;
    const moved = [...c.children];
    c.children.clear();
    for (const child of moved) {
      k.proc(child)?.send({ type: "REPARENT", ppid: reaper, parentTid: heir });
      rp?.send({ type: "CHILD_ADD", pid: child });
    }
    // reparent_leader, for each child in order: a zombie is reported to its new parent
    // (do_notify_parent: its exit signal, then release at once when that parent auto-reaps);
    // then kill_orphaned_pgrp: a group this exit orphans gets SIGHUP and SIGCONT if a
    // member is stopped.
    for (const child of moved) {
      const zombie = k.state(child) === "zombie";
      if (zombie) sendExitSignal(k, child);
      killOrphanedPgrp(k, child, pid);
      if (zombie) {
        if (autoReap) reap(k, child);
        zombies = true;
      }
    }
    if (zombies) k.notifyParent(reaper);
  }
  // exit_notify: "kill_orphaned_pgrp(tsk->group_leader, NULL)" for the exiting process's own group.
  killOrphanedPgrp(k, pid, undefined);

  // exit_notify: a traced process tells its tracer first; its real parent hears of it once
  // the tracer has collected it or is gone (actors/ptrace.ts).
  if (ptraceExitNotify(k, pid)) return;
  // exit_notify: a process whose parent is outside the namespace is released by that
  // parent; nothing inside can wait for it.
  if (c.ppid === 0) return void k.dropProcess(pid);
  // exit_notify → do_notify_parent: the exit signal (SIGCHLD) unless the parent ignores
  // SIGCHLD; an auto-reaping parent releases the child at once; its waiters wake either
  // way (a wait that finds no child left returns ECHILD).
  sendExitSignal(k, pid);
  if (parentAutoReaps(k, c.ppid)) reap(k, pid);
  k.notifyParent(c.ppid);
}

/**
 * Init died: zap_pid_ns_processes sends SIGKILL to every other process of the namespace
 * and reaps them all; the namespace is over when the last one is gone.
 */
function initDied(k: Kernel, wstatus: number): void {
  k.ns.send({ type: "INIT_DIED", wstatus });
  for (const [pid, p] of [...k.procs]) {
    if (pid === 1) continue;
    const c = p.getSnapshot().context;
    if (c.hostpid > 0 && k.state(pid) !== "zombie") k.hooks.killHost(pid, c.hostpid, "SIGKILL");
    for (const tid of [...c.threads]) endThread(k, pid, tid);
    if (k.state(pid) !== "zombie") p.send({ type: "DIE", wstatus: signaled(SIGKILL), assumed: false });
    k.exited(pid);
    p.send({ type: "REAP" });
    k.dropProcess(pid);
  }
  for (const t of [...k.reservations.keys()]) unreserve(k, t);
  k.proc(1)?.send({ type: "REAP" });
  k.dropProcess(1);
  const s = k.ns.getSnapshot();
  k.hooks.namespaceOver(s.context.initStatus ?? wstatus);
}

/** The parent collects a zombie (release_task): its number is free once nothing refers to it. */
export function reap(k: Kernel, pid: number): number {
  const c = k.ctx(pid)!;
  const wstatus = c.wstatus ?? 0;
  k.proc(pid)!.send({ type: "REAP" });
  k.proc(c.ppid)?.send({ type: "CHILD_DROP", pid });
  k.dropProcess(pid);
  return wstatus;
}

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
    const own = k.threads.get(tid)!.getSnapshot().context;
    k.proc(pid)!.send({ type: "THREAD_DROP", tid });
    k.dropThread(tid, false);
    k.ns.send({ type: "PROC_GONE" });
    k.dropThread(pid, false);
    const leader = k.spawnThread(pid, pid, own.blocked);
    leader.send({ type: "CLAIM" });
    if (own.pending.mask !== 0n) leader.send({ type: "PENDING", pending: own.pending });
    k.proc(pid)!.send({ type: "THREAD_ADD", tid: pid });
  }
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

/**
 * A reaper saw pid's host process end with this status: it ends a native or unclaimed
 * process, ends a running one whose connection has not closed yet, and corrects a
 * zombie whose SIGKILL was only assumed.
 */
export function reportStatus(k: Kernel, pid: number, wstatus: number): void {
  const s = k.state(pid);
  if (s === "running" || s === "native" || s === "embryo") exitGroup(k, pid, wstatus, false);
  else if (s === "zombie") k.proc(pid)!.send({ type: "CORRECT_STATUS", wstatus });
  if (pid === 1) k.ns.send({ type: "INIT_STATUS", wstatus });
}
