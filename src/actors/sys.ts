/**
 * kernel/sys.c: process groups and sessions (setpgid, getpgid, setsid, getsid) with their
 * checks in the kernel's order, so the errno precedence is Linux's; credentials
 * (setresuid); and prctl's child-subreaper bit. The groups themselves are the registry's
 * index (Kernel.pgrps, Kernel.setPgrp).
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { Kernel } from "./kernel.js";

/**
 * find_task_by_vpid: a process (its leader thread) or any live thread, zombies included;
 * returns the process (thread group) it belongs to and whether the number is its leader.
 */
export function findTask(k: Kernel, nr: number): { pid: number; leader: boolean } | undefined {
  if (nr <= 0) return undefined;
  if (k.procs.has(nr)) return { pid: nr, leader: true };
  const t = k.threads.get(nr);
  return t ? { pid: t.getSnapshot().context.pid, leader: false } : undefined;
}

/** SYSCALL_DEFINE2(setpgid): each check in the kernel's order, so the errno precedence is Linux's. */
export function setpgid(k: Kernel, caller: number, pid: number, pgid: number): 0 | Errno {
  const me = k.ctx(caller);
  if (!me) return errno(E.ESRCH);
  if (pid === 0) pid = caller;
  if (pgid === 0) pgid = pid;
  // "if (pgid < 0) return -EINVAL;"
  if (pgid < 0) return errno(E.EINVAL, `setpgid.pgid: ${pgid} is negative`);
  // "p = find_task_by_vpid(pid); if (!p) goto out" with -ESRCH
  const t = findTask(k, pid);
  if (!t) return errno(E.ESRCH, `no process ${pid}`);
  // "if (!thread_group_leader(p)) goto out" with -EINVAL
  if (!t.leader) return errno(E.EINVAL, `${pid} is a thread, not a process`);
  const p = k.ctx(pid)!;
  if (p.ppid === caller && pid !== caller) {
    // A child: it must be in the caller's session (EPERM) and not have exec'd (EACCES, PF_FORKNOEXEC).
    if (p.sid !== me.sid) return errno(E.EPERM, `child ${pid} is in another session`);
    if (p.flags.execed) return errno(E.EACCES, `child ${pid} has called execve`);
  } else if (pid !== caller) {
    return errno(E.ESRCH, `${pid} is neither the caller nor its child`);
  }
  // "if (p->signal->leader) goto out" with -EPERM: a session leader cannot change its group.
  if (p.sid === pid) return errno(E.EPERM, `${pid} leads its session`);
  if (pgid !== pid) {
    // The group must exist and be in the caller's session (pid_task(pgrp, PIDTYPE_PGID)).
    const members = k.pgrp(pgid);
    const g = members.size ? k.ctx(members.values().next().value!) : undefined;
    if (!g) return errno(E.EPERM, `no process group ${pgid}`);
    if (g.sid !== me.sid) return errno(E.EPERM, `process group ${pgid} is in another session`);
  }
  k.setPgrp(pid, pgid, p.sid);
  return 0;
}

/** ksys_setsid: EPERM for a session leader or when a group with the caller's pid exists. */
export function setsid(k: Kernel, caller: number): number | Errno {
  const me = k.ctx(caller);
  if (!me) return errno(E.ESRCH);
  if (me.sid === caller) return errno(E.EPERM, `${caller} leads a session already`);
  if (k.pgrps.has(caller)) return errno(E.EPERM, `a process group ${caller} exists`);
  k.setPgrp(caller, caller, caller);
  return caller;
}

/** getpgid(2), getsid(2): of the caller (pid 0) or of any task's process; ESRCH when there is none. */
export function idsOf(k: Kernel, caller: number, pid: number, field: "pgid" | "sid"): number | Errno {
  const t = pid === 0 ? { pid: caller } : findTask(k, pid);
  const c = t && k.ctx(t.pid);
  if (!c) return errno(E.ESRCH, `no process ${pid}`);
  return c[field];
}

/** (uid_t)-1: setresuid leaves that id unchanged. */
const KEEP = 0xffffffff;

/** __sys_setresuid: without CAP_SETUID (euid 0 here) every new id must be one of the current ones (EPERM). */
export function setresuid(k: Kernel, caller: number, ruid: number, euid: number, suid: number): 0 | Errno {
  const p = k.proc(caller);
  if (!p) return errno(E.ESRCH);
  const c = p.getSnapshot().context.creds;
  if (c.euid !== 0) {
    const own = [c.ruid, c.euid, c.suid];
    for (const [name, v] of [["ruid", ruid], ["euid", euid], ["suid", suid]] as const)
      if (v !== KEEP && !own.includes(v)) return errno(E.EPERM, `setresuid.${name}: ${v} is none of the caller's ids ${own.join("/")}`);
  }
  p.send({ type: "SET_CREDS", creds: { ruid: ruid === KEEP ? c.ruid : ruid, euid: euid === KEEP ? c.euid : euid, suid: suid === KEEP ? c.suid : suid } });
  return 0;
}

/**
 * prctl(2) PR_SET_CHILD_SUBREAPER: "If arg2 is nonzero, set the 'child subreaper'
 * attribute of the calling process; if arg2 is zero, unset the attribute." Not inherited
 * by fork, kept across execve (the flag lives in signal_struct).
 */
export function setChildSubreaper(k: Kernel, caller: number, value: number): 0 {
  k.proc(caller)?.send({ type: "SET_SUBREAPER", on: value !== 0 });
  return 0;
}

/** PR_GET_CHILD_SUBREAPER: the caller's bit, 1 or 0 (prctl stores it at arg2; here it travels as the result). */
export function childSubreaper(k: Kernel, caller: number): number {
  return k.ctx(caller)?.flags.childSubreaper ? 1 : 0;
}
