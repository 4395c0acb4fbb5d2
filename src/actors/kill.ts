/**
 * kernel/signal.c, the sending side of kill(2), tkill(2) and tgkill(2): who may signal whom
 * (check_kill_permission), which processes a kill names (kill_something_info,
 * __kill_pgrp_info, do_send_specific), and a signal from outside the namespace. What a
 * signal then does is signal.ts's (generation and delivery).
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { Creds } from "../machine/process.js";
import { SI, SIG, has, validSignal, type SigInfo } from "../machine/sigset.js";
import { byHost } from "../protocol/calls/session.js";
import type { Kernel } from "./kernel.js";
import { sendSignal } from "./signal.js";

/** Who sends: a process of the namespace (pid > 0), or the kernel (pid 0: SEND_SIG_PRIV, always permitted). */
export interface Sender {
  readonly pid: number;
  readonly creds: Creds;
  readonly sid: number;
}

export const KERNEL_SENDER: Sender = { pid: 0, creds: { ruid: 0, euid: 0, suid: 0 }, sid: -1 };

/** kill_ok_by_cred: a shared real or effective uid with the target's real or saved uid, or CAP_KILL (euid 0 here). */
function killOkByCred(s: Creds, t: Creds): boolean {
  return s.euid === t.suid || s.euid === t.ruid || s.ruid === t.suid || s.ruid === t.ruid || s.euid === 0;
}

/**
 * check_kill_permission: EINVAL for an invalid signal, then (for a sender that is not the
 * kernel and not the target itself) EPERM unless the credentials allow it; SIGCONT is
 * allowed within the sender's session whatever the uids.
 */
export function checkKillPermission(k: Kernel, sig: number, from: Sender, target: number): 0 | Errno {
  if (!validSignal(sig)) return errno(E.EINVAL, `signal ${sig} is not 0..64`);
  if (from.pid === 0 || from.pid === target) return 0;
  const t = k.ctx(target)!;
  if (!killOkByCred(from.creds, t.creds)) {
    if (sig === SIG.SIGCONT && t.sid === from.sid) return 0;
    return errno(E.EPERM, `uid ${from.creds.ruid}/${from.creds.euid} may not signal ${target} (uids ${t.creds.ruid}/${t.creds.suid})`);
  }
  return 0;
}

/** group_send_sig_info: permission, then (for a real signal) generation. */
export function groupSend(k: Kernel, from: Sender, target: number, info: SigInfo): 0 | Errno {
  const e = checkKillPermission(k, info.signo, from, target);
  if (e !== 0) return e;
  if (info.signo !== 0) sendSignal(k, target, undefined, info);
  return 0;
}

/**
 * kill_something_info: pid > 0 one process, 0 the caller's group, -1 every process but
 * init and the caller, < -1 the group -pid. The siginfo is SI_USER from the caller.
 */
export function killSomething(k: Kernel, from: Sender, pid: number, sig: number): 0 | Errno {
  const info: SigInfo = { signo: sig, code: SI.USER, pid: from.pid, uid: from.creds.ruid, status: 0 };
  if (pid > 0) {
    // kill_pid_info: pid_task(pid, PIDTYPE_TGID) finds only a thread-group leader.
    if (!k.procs.has(pid) || k.state(pid) === "reaped") return errno(E.ESRCH, `no process ${pid}`);
    return groupSend(k, from, pid, info);
  }
  // "-INT_MIN is undefined. Exclude this case to avoid a UBSAN warning"
  if (pid === -0x80000000) return errno(E.ESRCH);
  if (pid !== -1) {
    // __kill_pgrp_info: ESRCH for an empty group; else 0 once any member was signalled,
    // otherwise the last member's error.
    const pgid = pid === 0 ? k.ctx(from.pid)!.pgid : -pid;
    let ret: 0 | Errno = errno(E.ESRCH, `no process group ${pgid}`);
    for (const m of [...k.pgrp(pgid)]) {
      const err = groupSend(k, from, m, info);
      if (ret !== 0) ret = err;
    }
    return ret;
  }
  // kill(-1): every process with a pid > 1 in the caller's namespace but the caller itself
  // ("task_pid_vnr(p) > 1 && !same_thread_group(p, current)"); EPERM from some is not an
  // error; ESRCH when there was nobody to try.
  let retval: 0 | Errno = 0;
  let count = 0;
  for (const m of [...k.procs.keys()]) {
    if (m <= 1 || m === from.pid || k.state(m) === "reaped" || k.state(m) === "aborted") continue;
    const err = groupSend(k, from, m, info);
    count++;
    if (err === 0 || err.code !== E.EPERM) retval = err;
  }
  return count ? retval : errno(E.ESRCH, "no process to signal");
}

/** do_send_specific (tkill, tgkill): one thread; tgid > 0 must be its process. */
export function sendSpecific(k: Kernel, from: Sender, tgid: number, tid: number, sig: number): 0 | Errno {
  const pid = k.procs.has(tid) ? tid : k.threads.get(tid)?.getSnapshot().context.pid;
  if (pid === undefined || !k.procs.has(pid) || (tgid > 0 && pid !== tgid)) return errno(E.ESRCH, `no thread ${tid}${tgid > 0 ? ` in process ${tgid}` : ""}`);
  const e = checkKillPermission(k, sig, from, pid);
  if (e !== 0) return e;
  if (sig !== 0) sendSignal(k, pid, k.threads.has(tid) ? tid : undefined, { signo: sig, code: SI.TKILL, pid: from.pid, uid: from.creds.ruid, status: 0 });
  return 0;
}

/**
 * A host signal for a process of the namespace from outside it (`blinkd run` forwarding
 * what its terminal or supervisor sent to PID 1), when its guest takes handled signals
 * with sig_dequeue (delivery 1) and has a handler for it or blocks it: generated here, so the guest's
 * doorbell finds it queued, with si_pid 0 and SI_USER, as Linux gives a sender in an
 * ancestor namespace (send_signal_locked: "From an ancestor pid namespace?" →
 * si_pid = 0, force). False when the signal should go to the host process as is.
 */
export function sendFromOutside(k: Kernel, pid: number, signo: number, uid: number): boolean {
  const c = k.ctx(pid);
  if (!c || k.state(pid) !== "running" || !byHost(c.delivery)) return false;
  // A handled signal, or one a thread blocks or waits for (sigwait): it must come from the
  // daemon's queue with its siginfo, since the guest takes every host signal the daemon
  // sends as a doorbell.
  const t = k.threads.get(pid);
  if (!has(c.sigactions.caught, signo) && !(t && has(t.blocked | t.getSnapshot().context.waiting, signo))) return false;
  sendSignal(k, pid, undefined, { signo, code: SI.USER, pid: 0, uid, status: 0 }, true);
  return true;
}

/** The caller as a sender. */
export function senderOf(k: Kernel, pid: number): Sender {
  const c = k.ctx(pid)!;
  return { pid, creds: c.creds, sid: c.sid };
}
