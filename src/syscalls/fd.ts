/** close, dup, dup2, dup3, fcntl, readiness and poll on daemon descriptors: fs/file.c, fs/fcntl.c, fs/select.c. */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { eventfd } from "../protocol/calls/eventfd.js";
import { NOT_READY, park, type Attempt } from "../actors/park.js";
import type { Files } from "../actors/files.js";
import { F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_APPEND, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK, POLLERR, POLLHUP, POLLNVAL } from "../protocol/fdconst.js";
import type { WaitQueue } from "../actors/waitqueue.js";
import type { Handlers } from "./types.js";

/** fs/fcntl.c: "#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)" (O_NDELAY is O_NONBLOCK on x86-64). */
const SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

const ebadf = (fd: number): Errno => errno(E.EBADF, `descriptor ${fd} is not open`);

/** f_dupfd: "if (from >= rlimit(RLIMIT_NOFILE)) return -EINVAL;" (from is unsigned: a negative one is huge). */
function dupfd(files: Files, pid: number, fd: number, from: number, cloexec: boolean): number | Errno {
  if (from < 0 || from >= files.limits.maxFdsPerProcess) return errno(E.EINVAL, `fcntl.arg: ${from} is not below RLIMIT_NOFILE ${files.limits.maxFdsPerProcess}`);
  return files.dup(pid, fd, from, cloexec);
}

/** ksys_dup3's checks in its order: flags, oldfd == newfd, newfd's range, then oldfd. */
function dup3(files: Files, pid: number, oldfd: number, newfd: number, flags: number, call: string): number | Errno {
  if (flags & ~O_CLOEXEC) return errno(E.EINVAL, `${call}.flags: only O_CLOEXEC (02000000) is allowed, got 0${(flags >>> 0).toString(8)}`);
  if (oldfd === newfd) return errno(E.EINVAL, `${call}: oldfd and newfd are both ${oldfd}`);
  // newfd is unsigned int: a negative one is out of range.
  if (newfd < 0 || newfd >= files.limits.maxFdsPerProcess) return errno(E.EBADF, `${call}.newfd: ${newfd} is outside 0..${files.limits.maxFdsPerProcess - 1} (RLIMIT_NOFILE)`);
  return files.dupTo(pid, oldfd, newfd, (flags & O_CLOEXEC) !== 0);
}

type PollOk = { result: number; out: { revents: number[] } };

/** do_pollfd for each entry: fd < 0 is skipped, a closed one is POLLNVAL; the mask keeps POLLERR and POLLHUP. */
function pollOnce(files: Files, pid: number, fds: number[], events: number[]): PollOk {
  const revents: number[] = new Array<number>(fds.length).fill(0);
  let n = 0;
  for (let i = 0; i < fds.length; i++) {
    const fd = fds[i]!;
    if (fd < 0) continue;
    const d = files.get(pid, fd);
    const r = d ? d.file.revents() & ((events[i]! & 0xffff) | POLLERR | POLLHUP) : POLLNVAL;
    revents[i] = r;
    if (r) n++;
  }
  return { result: n, out: { revents } };
}

export const fdCalls: Pick<Handlers<typeof eventfd>, "close" | "dup" | "dup2" | "dup3" | "fcntl" | "ready" | "poll"> = {
  close: (ctx, { fd }) => ctx.k.files.close(ctx.caller.pid, fd),

  dup: (ctx, { fd }) => ctx.k.files.dup(ctx.caller.pid, fd, 0, false),

  dup2: (ctx, { oldfd, newfd }) => {
    // dup2: "if (unlikely(newfd == oldfd)) { … if (!files_lookup_fd_rcu(files, oldfd)) retval = -EBADF; return retval; }"
    if (oldfd === newfd) return ctx.k.files.get(ctx.caller.pid, oldfd) ? newfd : ebadf(oldfd);
    return dup3(ctx.k.files, ctx.caller.pid, oldfd, newfd, 0, "dup2");
  },

  dup3: (ctx, { oldfd, newfd, flags }) => dup3(ctx.k.files, ctx.caller.pid, oldfd, newfd, flags, "dup3"),

  fcntl: (ctx, { fd, cmd, arg }) => {
    const pid = ctx.caller.pid;
    const d = ctx.k.files.get(pid, fd);
    // fdget_raw comes before the command is looked at.
    if (!d) return ebadf(fd);
    switch (cmd) {
      case F_DUPFD:
        return dupfd(ctx.k.files, pid, fd, arg, false);
      case F_DUPFD_CLOEXEC:
        return dupfd(ctx.k.files, pid, fd, arg, true);
      case F_GETFD:
        return d.cloexec ? FD_CLOEXEC : 0;
      case F_SETFD:
        d.cloexec = (arg & FD_CLOEXEC) !== 0;
        return 0;
      case F_GETFL:
        return d.file.flags;
      case F_SETFL:
        // setfl: "O_NOATIME can only be set by the owner or superuser" (inode_owner_or_capable):
        // an eventfd's inode is the anonymous inode, owned by root, so without euid 0 (the
        // fsuid, and CAP_FOWNER) it is EPERM; checked before O_DIRECT.
        if (arg & O_NOATIME && !(d.file.flags & O_NOATIME) && ctx.k.ctx(pid)?.creds.euid !== 0) return errno(E.EPERM, "fcntl F_SETFL: O_NOATIME needs the file's owner (root, for an eventfd) or CAP_FOWNER");
        // setfl: O_DIRECT needs FMODE_CAN_ODIRECT, which an anonymous inode lacks; O_ASYNC is
        // kept only through ->fasync, which eventfd has not; the rest of SETFL_MASK is stored.
        if (arg & O_DIRECT) return errno(E.EINVAL, "fcntl F_SETFL: O_DIRECT is not supported by an eventfd");
        d.file.flags = (arg & SETFL_MASK) | (d.file.flags & ~SETFL_MASK);
        return 0;
      default:
        return errno(E.EINVAL, `fcntl.cmd: ${cmd} is not supported on a daemon descriptor (F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC)`);
    }
  },

  ready: (ctx, { fd }) => {
    const d = ctx.k.files.get(ctx.caller.pid, fd);
    return d ? d.file.revents() : ebadf(fd);
  },

  poll: (ctx, { fds, events, timeout }) => {
    const files = ctx.k.files;
    const pid = ctx.caller.pid;
    if (events.length !== fds.length) return errno(E.EINVAL, `poll.events: ${events.length} entries for ${fds.length} descriptors`);
    // do_sys_poll: "if (nfds > rlimit(RLIMIT_NOFILE)) return -EINVAL;"
    if (fds.length > files.limits.maxFdsPerProcess) return errno(E.EINVAL, `poll.fds: ${fds.length} entries, more than RLIMIT_NOFILE ${files.limits.maxFdsPerProcess}`);
    const first = pollOnce(files, pid, fds, events);
    if (first.result > 0 || timeout === 0) return first;
    const attempt = (): Attempt<PollOk> => {
      const r = pollOnce(files, pid, fds, events);
      return r.result > 0 ? r : NOT_READY;
    };
    const queues = (): WaitQueue[] => {
      const qs: WaitQueue[] = [];
      for (const fd of fds) {
        const d = fd >= 0 ? files.get(pid, fd) : undefined;
        if (d && !qs.includes(d.file.wq)) qs.push(d.file.wq);
      }
      return qs;
    };
    const now = Date.now;
    return park(ctx.interruptible, queues, attempt, {
      ...(timeout > 0 ? { deadline: now() + timeout } : {}),
      now,
      onTimeout: () => ({ result: 0, out: { revents: new Array<number>(fds.length).fill(0) } }),
    });
  },
};
