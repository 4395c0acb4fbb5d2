/**
 * wait4 and waitid (and their _sigchld forms, whose reply may carry the SIGCHLD): their argument checks in kernel_wait4's and kernel_waitid's order, the
 * selection they build, and the reply each gives. The rule (do_wait) is in actors/exit.ts.
 */
import { E, errno } from "../protocol/errno.js";
import type { wait } from "../protocol/calls/wait.js";
import { doWait, type Selector } from "../actors/exit.js";
import { SIG, type SigInfo } from "../machine/sigset.js";
import { P_ALL, P_PGID, P_PID, P_PIDFD, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED, __WALL, __WCLONE, __WNOTHREAD } from "../machine/wstatus.js";
import type { CallCtx, Handlers } from "./types.js";

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** The SIGCHLD a wait4_sigchld or waitid_sigchld reply carries (actors/chldreply.ts): sig 0 for none. */
const chldOut = (i: SigInfo | undefined) => (i ? { sig: i.signo, sig_pid: i.pid, sig_uid: i.uid, sig_code: i.code, sig_status: i.status } : { sig: 0, sig_pid: 0, sig_uid: 0, sig_code: 0, sig_status: 0 });

/** wait4 and wait4_sigchld (`chld`): kernel_wait4. */
function wait4(ctx: CallCtx, pid: number, options: number, chld: boolean) {
  // kernel_wait4: "if (options & ~(WNOHANG|WUNTRACED|WCONTINUED|__WNOTHREAD|__WCLONE|__WALL)) return -EINVAL;"
  // (WEXITED and WNOWAIT are waitid's alone), then "-INT_MIN is not defined": ESRCH.
  const bad = options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL);
  if (bad) return errno(E.EINVAL, `wait4.options: unknown bits ${hex(bad)}`);
  if (pid === -0x80000000) return errno(E.ESRCH, "wait4.pid: INT_MIN names no process group");
  const me = ctx.k.ctx(ctx.caller.pid);
  if (!me) return errno(E.ESRCH);
  const sel: Selector = pid === -1 ? { kind: "any" } : pid < 0 ? { kind: "pgid", pgid: -pid } : pid === 0 ? { kind: "pgid", pgid: me.pgid } : { kind: "pid", pid };
  // wo_flags = options | WEXITED
  return doWait(
    ctx.k,
    ctx.caller.pid,
    ctx.caller.tid,
    sel,
    options | WEXITED,
    (f, s) => (f === 0 ? { result: 0, out: { wstatus: 0, ...chldOut(s) } } : { result: f.pid, out: { wstatus: f.wstatus, ...chldOut(s) } }),
    chld,
  );
}

/** waitid and waitid_sigchld (`chld`): kernel_waitid. */
function waitid(ctx: CallCtx, idtype: number, id: number, options: number, chld: boolean) {
  // kernel_waitid: unknown option bits, then no event class at all, are EINVAL.
  const bad = options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL);
  if (bad) return errno(E.EINVAL, `waitid.options: unknown bits ${hex(bad)}`);
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return errno(E.EINVAL, "waitid.options: none of WEXITED, WSTOPPED, WCONTINUED");
  const me = ctx.k.ctx(ctx.caller.pid);
  if (!me) return errno(E.ESRCH);
  let sel: Selector;
  switch (idtype) {
    case P_ALL:
      sel = { kind: "any" };
      break;
    case P_PID:
      // "case P_PID: if (upid <= 0) return -EINVAL;"
      if (id <= 0) return errno(E.EINVAL, `waitid.id: P_PID needs a pid > 0, got ${id}`);
      sel = { kind: "pid", pid: id };
      break;
    case P_PGID:
      // "case P_PGID: if (upid < 0) return -EINVAL;" and 0 is the caller's group (Linux 5.4+).
      if (id < 0) return errno(E.EINVAL, `waitid.id: P_PGID needs a group >= 0, got ${id}`);
      sel = { kind: "pgid", pgid: id === 0 ? me.pgid : id };
      break;
    case P_PIDFD:
      // kernel_waitid: "case P_PIDFD: … if (upid < 0) return -EINVAL;", then pidfd_get_pid:
      // EBADF when the descriptor is not open (fdget) or is not a pidfd (pidfd_pid). The
      // daemon's descriptors (eventfd) are never pidfds, and it keeps no other: EBADF.
      if (id < 0) return errno(E.EINVAL, `waitid.id: P_PIDFD needs a descriptor >= 0, got ${id}`);
      return errno(E.EBADF, `waitid.id: descriptor ${id} is not a pidfd (the daemon keeps none)`);
    default:
      return errno(E.EINVAL, `waitid.idtype: expected P_ALL (0), P_PID (1) or P_PGID (2), got ${idtype}`);
  }
  return doWait(
    ctx.k,
    ctx.caller.pid,
    ctx.caller.tid,
    sel,
    options,
    (f, s) =>
      f === 0
        ? { result: 0, out: { pid: 0, uid: 0, signo: 0, status: 0, code: 0, ...chldOut(s) } }
        : { result: 0, out: { pid: f.pid, uid: f.uid, signo: SIG.SIGCHLD, status: f.status, code: f.code, ...chldOut(s) } },
    chld,
  );
}

export const waitCalls: Handlers<typeof wait> = {
  wait4: (ctx, { pid, options }) => wait4(ctx, pid, options, false),
  waitid: (ctx, { idtype, id, options }) => waitid(ctx, idtype, id, options, false),
  wait4_sigchld: (ctx, { pid, options }) => wait4(ctx, pid, options, true),
  waitid_sigchld: (ctx, { idtype, id, options }) => waitid(ctx, idtype, id, options, true),
};
