/**
 * fs/file.c and fs/fcntl.c on daemon descriptors: close, dup, dup2, dup3 (ksys_dup3's checks
 * in its order) and fcntl (F_DUPFD, F_GETFD/F_SETFD, F_GETFL/F_SETFL with setfl's rules). The
 * tables and open files are actors/files.ts's; poll is actors/select.ts's.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { Files } from "./files.js";
import type { Kernel } from "./kernel.js";
import { F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_APPEND, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK } from "../protocol/fdconst.js";

/** fs/fcntl.c: "#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)" (O_NDELAY is O_NONBLOCK on x86-64). */
const SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

const ebadf = (fd: number): Errno => errno(E.EBADF, `descriptor ${fd} is not open`);

/** f_dupfd: "if (from >= rlimit(RLIMIT_NOFILE)) return -EINVAL;" (from is unsigned: a negative one is huge). */
function dupfd(files: Files, pid: number, fd: number, from: number, cloexec: boolean): number | Errno {
  if (from < 0 || from >= files.limits.maxFdsPerProcess) return errno(E.EINVAL, `fcntl.arg: ${from} is not below RLIMIT_NOFILE ${files.limits.maxFdsPerProcess}`);
  return files.dup(pid, fd, from, cloexec);
}

/** ksys_dup3's checks in its order: flags, oldfd == newfd, newfd's range, then oldfd. */
export function dup3(files: Files, pid: number, oldfd: number, newfd: number, flags: number, call: string): number | Errno {
  if (flags & ~O_CLOEXEC) return errno(E.EINVAL, `${call}.flags: only O_CLOEXEC (02000000) is allowed, got 0${(flags >>> 0).toString(8)}`);
  if (oldfd === newfd) return errno(E.EINVAL, `${call}: oldfd and newfd are both ${oldfd}`);
  // newfd is unsigned int: a negative one is out of range.
  if (newfd < 0 || newfd >= files.limits.maxFdsPerProcess) return errno(E.EBADF, `${call}.newfd: ${newfd} is outside 0..${files.limits.maxFdsPerProcess - 1} (RLIMIT_NOFILE)`);
  return files.dupTo(pid, oldfd, newfd, (flags & O_CLOEXEC) !== 0);
}

/** dup2(2): "if (unlikely(newfd == oldfd)) { … if (!files_lookup_fd_rcu(files, oldfd)) retval = -EBADF; return retval; }", else dup3's checks without flags. */
export function dup2(files: Files, pid: number, oldfd: number, newfd: number): number | Errno {
  if (oldfd === newfd) return files.get(pid, oldfd) ? newfd : ebadf(oldfd);
  return dup3(files, pid, oldfd, newfd, 0, "dup2");
}

/** do_fcntl on a daemon descriptor: fdget_raw comes before the command is looked at. */
export function fcntl(k: Kernel, pid: number, fd: number, cmd: number, arg: number): number | Errno {
  const files = k.files;
  const d = files.get(pid, fd);
  if (!d) return ebadf(fd);
  switch (cmd) {
    case F_DUPFD:
      return dupfd(files, pid, fd, arg, false);
    case F_DUPFD_CLOEXEC:
      return dupfd(files, pid, fd, arg, true);
    case F_GETFD:
      return d.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      files.setCloexec(pid, fd, (arg & FD_CLOEXEC) !== 0);
      return 0;
    case F_GETFL:
      return d.file.flags;
    case F_SETFL:
      // setfl: "O_NOATIME can only be set by the owner or superuser" (inode_owner_or_capable):
      // an eventfd's inode is the anonymous inode, owned by root, so without euid 0 (the
      // fsuid, and CAP_FOWNER) it is EPERM; checked before O_DIRECT.
      if (arg & O_NOATIME && !(d.file.flags & O_NOATIME) && k.ctx(pid)?.creds.euid !== 0) return errno(E.EPERM, "fcntl F_SETFL: O_NOATIME needs the file's owner (root, for an eventfd) or CAP_FOWNER");
      // setfl: O_DIRECT needs FMODE_CAN_ODIRECT, which an anonymous inode lacks; O_ASYNC is
      // kept only through ->fasync, which eventfd has not; the rest of SETFL_MASK is stored.
      if (arg & O_DIRECT) return errno(E.EINVAL, "fcntl F_SETFL: O_DIRECT is not supported by an eventfd");
      d.file.setFlags((arg & SETFL_MASK) | (d.file.flags & ~SETFL_MASK));
      return 0;
    default:
      return errno(E.EINVAL, `fcntl.cmd: ${cmd} is not supported on a daemon descriptor (F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC)`);
  }
}
