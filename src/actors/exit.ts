/**
 * kernel/exit.c: a task's end and what follows from it, in the order Linux does them.
 * A thread ends (do_exit of one thread, release_task); the last one ends the process
 * (exit_group, a fatal signal, or the connection closing): its children move to the new
 * reaper (forget_original_parent, find_new_reaper), an exit that orphans a stopped process
 * group sends it SIGHUP and SIGCONT (kill_orphaned_pgrp), and the parent is told
 * (exit_notify → do_notify_parent), auto-reaping when it ignores SIGCHLD. Init's death ends
 * the namespace (zap_pid_ns_processes). The parent collects a zombie with wait4 or waitid
 * (do_wait, wait_consider_task, wait_task_zombie, wait_task_stopped, wait_task_continued),
 * walking only its own children. Each rule is stated beside the code that implements it.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import { CONTINUED, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, __WALL, __WCLONE, __WNOTHREAD, signaled, stopped } from "../machine/wstatus.js";
import { autoReaps, type ProcessContext } from "../machine/process.js";
import { SI, SIG, type SigInfo } from "../machine/sigset.js";
import type { Kernel } from "./kernel.js";
import { NOT_READY, park, type Attempt, type Parked } from "./park.js";
import { chldWaiter, chldWithReply, ringHeldChld } from "./chldreply.js";
import { sendExitSignal, sendSignal } from "./signal.js";
import { ptraceExitNotify, ptraceReport, releaseToParent, tracedBy, tracerOf } from "./ptrace.js";
import { unreserveAll, unreserveTask } from "./reservations.js";

/**
 * One thread of the process ends (do_exit of a thread, then release_task for a non-leader):
 * its actor stops and its number is free; the leader's number stays with the process.
 * `groupExit`: the whole group is ending (exitGroup), whose DIE then empties the process's
 * thread list and whose FORGET_CHILDREN moves every child, so the process's actor is not
 * told of each thread (THREAD_DROP, THREAD_CHILDREN): one event less per process.
 */
export function endThread(k: Kernel, pid: number, tid: number, groupExit = false): void {
  // Only this process's thread: a number freed and reused since belongs to someone else.
  const t = k.threads.get(tid);
  const mine = t && t.getSnapshot().context.pid === pid ? t : undefined;
  // An unclaimed thread's reservation ends with it (execve's de_thread, exit of the group):
  // its token must never claim a thread that is gone, nor its expiry end one twice.
  if (mine && tid !== pid && mine.getSnapshot().value === "embryo") unreserveTask(k, "thread", pid, tid);
  mine?.send({ type: "EXIT" });
  if (!groupExit) {
    k.proc(pid)?.send({ type: "THREAD_DROP", tid });
    adoptThreadChildren(k, pid, tid);
  }
  if (tid !== pid) {
    if (!mine) return;
    k.dropThread(tid);
    k.taskGone();
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
  // The process's actor tells its children (THREAD_CHILDREN → PARENT_THREAD_GONE); those
  // the thread forked take the heir as their parent thread.
  k.proc(pid)!.send({ type: "THREAD_CHILDREN", tid, heir });
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

/**
 * exit_notify → do_notify_parent, once the exit signal is sent: a parent that auto-reaps
 * (SIGCHLD ignored or SA_NOCLDWAIT: autoReaps, machine/process.ts) releases the zombie at once
 * ("autoreap": release_task, EXIT_DEAD); its number is then free. Any other parent's state
 * does not change (the zombie waits in its list for wait), so the parent's actor gets no
 * event: an exit costs no xstate step for it (bench/README.md). Waking the parent's waiters
 * is the caller's (Kernel.notifyParent).
 */
function tellParent(k: Kernel, pid: number): void {
  if (k.state(pid) !== "zombie") return;
  const parent = k.ctx(k.ctx(pid)!.ppid);
  if (parent && autoReaps(parent)) release(k, pid);
}

/**
 * release_task (kernel/exit.c) of a zombie: it leaves its parent's children list
 * (__unhash_process: list_del_init(&p->sibling)), its actor ends (REAP: zombie → reaped) and
 * its number is free (Kernel.dropProcess). The parent's list is a Set its actor changes in
 * place and no transition of it reads (machine/process.ts), so the kernel takes the child
 * out itself: one xstate step per reap (the child's), where an event to the parent that
 * relayed REAP to the child made two (bench/README.md).
 */
function release(k: Kernel, pid: number): void {
  k.ctx(k.ctx(pid)!.ppid)?.children.delete(pid);
  k.proc(pid)!.send({ type: "REAP" });
  k.dropProcess(pid);
}

/**
 * do_notify_parent: the exit signal (SIGCHLD, unless the parent ignores it: signal.ts), the
 * parent told (and auto-reaping), its waiters woken either way (a wait that finds no child
 * left returns ECHILD).
 */
export function notifyParentOfExit(k: Kernel, pid: number, ppid: number): void {
  sendExitSignal(k, pid);
  tellParent(k, pid);
  k.notifyParent(ppid);
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
    unreserveTask(k, tid === pid ? "process" : "thread", pid, tid);
    endThread(k, pid, tid, true);
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
    const heir = aliveThread(k, reaper) || reaper;
    const moved = [...c.children];
    // The dying process's actor hands its children over: REPARENT to each, ADOPT to the
    // reaper's actor, its own list left empty (machine/process.ts, FORGET_CHILDREN).
    p.send({ type: "FORGET_CHILDREN", reaper, heir });
    // reparent_leader, for each child in order: a zombie is reported to its new parent
    // (do_notify_parent: its exit signal, then released at once when that parent auto-reaps:
    // EXIT_DEAD); then kill_orphaned_pgrp: a group this exit orphans gets SIGHUP and SIGCONT
    // if a member is stopped.
    let zombies = false;
    for (const child of moved) {
      const zombie = k.state(child) === "zombie";
      if (zombie) sendExitSignal(k, child);
      killOrphanedPgrp(k, child, pid);
      if (zombie) {
        tellParent(k, child);
        zombies = true;
      }
    }
    if (zombies) k.notifyParent(reaper);
    k.waitChanged(reaper);
    k.waitChanged(pid);
  }
  // exit_notify: "kill_orphaned_pgrp(tsk->group_leader, NULL)" for the exiting process's own group.
  killOrphanedPgrp(k, pid, undefined);

  // exit_notify: a traced process tells its tracer first; its real parent hears of it once
  // the tracer has collected it or is gone (actors/ptrace.ts).
  if (ptraceExitNotify(k, pid)) return;
  // exit_notify: a process whose parent is outside the namespace is released by that
  // parent; nothing inside can wait for it.
  if (c.ppid === 0) return void k.dropProcess(pid);
  notifyParentOfExit(k, pid, c.ppid);
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
    if (k.state(pid) !== "zombie") p.send({ type: "DIE", wstatus: signaled(SIG.SIGKILL), assumed: false });
    k.exited(pid);
    p.send({ type: "REAP" });
    k.dropProcess(pid);
  }
  unreserveAll(k);
  k.proc(1)?.send({ type: "REAP" });
  k.dropProcess(1);
  const s = k.ns.getSnapshot();
  k.hooks.namespaceOver(s.context.initStatus ?? wstatus);
}

/**
 * The parent collects a zombie (wait_task_zombie → release_task): it leaves the parent's
 * list and its number is free once nothing refers to it.
 */
export function reap(k: Kernel, pid: number): number {
  const c = k.ctx(pid)!;
  const wstatus = c.wstatus ?? 0;
  k.waitChanged(c.ppid);
  release(k, pid);
  return wstatus;
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

/**
 * will_become_orphaned_pgrp: a group is orphaned when no member (but `ignored`, and
 * leaving out dead ones) has a parent in another group of the same session. A parent
 * outside the namespace never holds a group; the group of the namespace's first process
 * (pgid 0, outside) is taken as held by its outside parent, as it is under a shell.
 */
export function pgrpOrphaned(k: Kernel, pgid: number, ignored: number | undefined): boolean {
  if (pgid === 0) return false;
  for (const m of k.pgrp(pgid)) {
    if (m === ignored || k.state(m) === "zombie") continue;
    const c = k.ctx(m)!;
    const parent = c.ppid > 0 ? k.ctx(c.ppid) : undefined;
    if (!parent) continue;
    if (parent.pgid !== pgid && parent.sid === c.sid) return false;
  }
  return true;
}

function hasStoppedJobs(k: Kernel, pgid: number): boolean {
  for (const m of k.pgrp(pgid)) if (k.ctx(m)?.job.stopped) return true;
  return false;
}

/**
 * kill_orphaned_pgrp (kernel/exit.c): when an exit orphans a process group that has a
 * stopped member, every member gets SIGHUP then SIGCONT (from the kernel). `father`
 * undefined: `pid` is exiting; else `pid` is a child of the exiting `father`, already
 * moved to its new parent.
 */
export function killOrphanedPgrp(k: Kernel, pid: number, father: number | undefined): void {
  const c = k.ctx(pid);
  if (!c) return;
  const parentPid = father ?? c.ppid;
  const parent = parentPid > 0 ? k.ctx(parentPid) : undefined;
  if (!parent) return;
  if (parent.pgid !== c.pgid && parent.sid === c.sid && pgrpOrphaned(k, c.pgid, father === undefined ? pid : undefined) && hasStoppedJobs(k, c.pgid)) {
    const kernel = (signo: number): SigInfo => ({ signo, code: SI.KERNEL, pid: 0, uid: 0, status: 0 });
    for (const m of [...k.pgrp(c.pgid)]) sendSignal(k, m, undefined, kernel(SIG.SIGHUP), true);
    for (const m of [...k.pgrp(c.pgid)]) sendSignal(k, m, undefined, kernel(SIG.SIGCONT), true);
  }
}

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
  const isClone = c.flags.exitSignal !== SIG.SIGCHLD;
  return (options & __WALL) !== 0 || ((options & __WCLONE) !== 0) === isClone;
}

/** wait_task_zombie's out_info: si_code and si_status from the status word. */
function exitInfo(pid: number, uid: number, wstatus: number): Found {
  if ((wstatus & 0x7f) === 0) return { pid, uid, wstatus, code: SI.CLD_EXITED, status: (wstatus >> 8) & 0xff };
  return { pid, uid, wstatus, code: wstatus & 0x80 ? SI.CLD_DUMPED : SI.CLD_KILLED, status: wstatus & 0x7f };
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
      if (code && !(options & WNOWAIT)) k.waitChanged(caller);
      if (code) return { pid: child, uid: c.creds.ruid, wstatus: ((code & 0xffff) << 8) | 0x7f, code: SI.CLD_TRAPPED, status: code };
    }
    const rep = c.job.waitReport;
    if (!rep) continue;
    // wait_task_stopped: only with WUNTRACED/WSTOPPED; the code is cleared unless WNOWAIT.
    if (rep.kind === "stopped" && options & WSTOPPED) {
      if (!(options & WNOWAIT)) k.proc(child)!.send({ type: "WAIT_REPORT", report: null });
      k.waitChanged(caller);
      return { pid: child, uid: c.creds.ruid, wstatus: stopped(rep.signo), code: SI.CLD_STOPPED, status: rep.signo };
    }
    // wait_task_continued: only with WCONTINUED; wo_stat 0xffff, si_status SIGCONT.
    if (rep.kind === "continued" && options & WCONTINUED) {
      if (!(options & WNOWAIT)) k.proc(child)!.send({ type: "WAIT_REPORT", report: null });
      k.waitChanged(caller);
      return { pid: child, uid: c.creds.ruid, wstatus: CONTINUED, code: SI.CLD_CONTINUED, status: SIG.SIGCONT };
    }
  }
  if (notask) return errno(E.ECHILD);
  if (options & WNOHANG) return 0;
  return NOT_READY;
}

/** Children past which waitCounts does not walk them (spec/protocol.md §10.1): the page then says "ask". */
export const WAIT_COUNT_WALK_MAX = 64;
/** WAITABLE when not counted: not 0, so a guest asks the daemon. */
export const WAITABLE_UNKNOWN = 0xffffffff;

/** What the state page says of a process's wait (spec/protocol.md §10.1): waitAttempt's candidates counted. */
export interface WaitCounts {
  /** wait_consider_task's candidates: children (live and zombies) and tracees, none being released. 0: every wait is ECHILD. */
  readonly children: number;
  /** Of them, those a wait of some options could report now: zombies, a stop or continue not yet collected, a ptrace stop not yet reported. */
  readonly waitable: number;
  /** Of them, clone children (an exit signal other than SIGCHLD) that the caller does not trace: only __WCLONE or __WALL sees them. */
  readonly clones: number;
}

/**
 * Counts what waitAttempt would look at, without taking anything: with children 0 every
 * wait finds notask_error's ECHILD; with waitable 0 and no clone child, wait4(-1, WNOHANG)
 * without __WCLONE or __WNOTHREAD finds nothing to report and a child that clears
 * notask_error, so returns 0. A zombie another process traces counts as a child that
 * reports nothing ("A zombie ptracee is only visible to its ptracer").
 */
export function waitCounts(k: Kernel, caller: number): WaitCounts {
  const me = k.ctx(caller);
  if (!me || k.state(caller) === "reaped" || k.state(caller) === "aborted") return { children: 0, waitable: 0, clones: 0 };
  // A bound on the walk, which runs at every change of a child's state: past it the counts say
  // "ask" (WAITABLE unknown, so no local 0; CHILDREN > 0, so no local ECHILD), and an init
  // with thousands of children pays one Set size per change instead of a walk of them all.
  if (me.children.size > WAIT_COUNT_WALK_MAX) return { children: me.children.size, waitable: WAITABLE_UNKNOWN, clones: 0 };
  let children = 0;
  let waitable = 0;
  let clones = 0;
  const visit = (child: number): void => {
    const c = k.ctx(child);
    const state = k.state(child);
    if (!c || state === "reaped" || state === "aborted") return;
    children++;
    const tracer = tracerOf(k, child);
    const ptrace = tracer === caller;
    if (!ptrace && c.flags.exitSignal !== SIG.SIGCHLD) clones++;
    if (tracer !== 0 && !ptrace) return;
    if (state === "zombie" || (ptrace && ptraceReport(k, child, false)) || c.job.waitReport) waitable++;
  };
  for (const child of me.children) visit(child);
  for (const t of tracedBy(k, caller)) if (!me.children.has(t)) visit(t);
  return { children, waitable, clones };
}

/**
 * do_wait: try, then sleep on the caller's child-wait queue until something changes.
 * `shape` makes the reply of what was found (wait4's and waitid's differ); a wait that
 * finds something at once returns it without parking. With `chld` (wait4_sigchld,
 * waitid_sigchld), a wait that parked and then finds a child takes the SIGCHLD held for it
 * with its reply (chldreply.ts), given to `shape`.
 */
export function doWait<A>(k: Kernel, pid: number, tid: number, sel: Selector, options: number, shape: (f: Found | 0, chld?: SigInfo) => A, chld = false) {
  let parked: Parked<A> | undefined;
  const once = (): Attempt<A> => {
    const r = waitAttempt(k, pid, tid, sel, options);
    if (r === NOT_READY) {
      if (parked) ringHeldChld(k, pid);
      return r;
    }
    if (typeof r === "object" && "_tag" in r) return r as Errno;
    return shape(r as Found | 0, parked && r !== 0 ? chldWithReply(k, pid, tid, parked as Parked<unknown>) : undefined);
  };
  const first = once();
  if (first !== NOT_READY) return first as A | Errno;
  const p = park(() => [k.waitQueue(pid)], once);
  if (chld) chldWaiter(k, pid, (parked = p) as Parked<unknown>);
  return p;
}
