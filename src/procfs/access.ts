/**
 * Who may read what under /proc/PID (Linux's rules, fs/proc/base.c and fd.c). A process
 * reads its own everything; another process's files that show its memory, its descriptors
 * or where it runs need more than /proc's usual world-readable modes:
 *
 * - environ, exe, cwd, fdinfo/N: ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS)
 *   (environ_open → __mem_open → mm_access; proc_exe_link and proc_cwd_link through
 *   proc_fd_access_allowed; proc_fdinfo_access_allowed): the same thread group, or the
 *   reader's fsuid equal to the target's real, effective and saved uids and its fsgid to the
 *   three gids (__ptrace_may_access), or CAP_SYS_PTRACE (here: euid 0, root of the namespace).
 * - fd/ and fdinfo/ themselves: mode 0500 owned by the task's euid (proc_fd_permission:
 *   generic_permission, or the same thread group): the owner, or root (CAP_DAC_READ_SEARCH).
 *
 * Denied is EACCES. Not modelled: the dumpable flag (a process that changed its uids is not
 * dumpable, and then only CAP_SYS_PTRACE reads it), and the LSMs.
 */
import type { ProcView } from "./view.js";

/** The reader's fsuid and fsgid: setresuid sets fsuid to the new euid (view.uids[3]); fsgid as reported. */
const fsuid = (v: ProcView): number => v.uids[3]!;

/** __ptrace_may_access for PTRACE_MODE_READ_FSCREDS. */
export function ptraceMayRead(reader: ProcView, target: ProcView): boolean {
  if (reader.pid === target.pid) return true;
  if (reader.uids[1] === 0) return true;
  const [ruid, euid, suid] = target.uids;
  const g = target.gids;
  return fsuid(reader) === ruid && fsuid(reader) === euid && fsuid(reader) === suid && reader.gids.fsgid === g.rgid && reader.gids.fsgid === g.egid && reader.gids.fsgid === g.sgid;
}

/** proc_fd_permission on /proc/PID/fd and fdinfo (dr-x------, owned by the task's euid). */
export function ownerMayOpen(reader: ProcView, target: ProcView): boolean {
  return reader.pid === target.pid || reader.uids[1] === 0 || fsuid(reader) === target.uids[1];
}
