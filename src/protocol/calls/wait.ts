import { family } from "../schema.js";

/** The wait family: collecting children's exits, stops and continues. */
export const wait = family({
  wait4: {
    nr: 50,
    args: { pid: "i32", options: "i32" },
    out: { wstatus: "i32" },
    blocks: true,
    role: "guest",
    doc: "wait4(2): pid > 0 one child, -1 any child, 0 the caller's group, < -1 group -pid; options WNOHANG, WUNTRACED, WCONTINUED, __WNOTHREAD, __WCLONE, __WALL. Returns the pid (0 for WNOHANG with nothing to report); out.wstatus is Linux's status word.",
  },
  waitid: {
    nr: 51,
    args: { idtype: "i32", id: "i32", options: "i32" },
    out: { pid: "i32", uid: "i32", signo: "i32", status: "i32", code: "i32" },
    blocks: true,
    role: "guest",
    doc: "waitid(2): idtype P_ALL (0), P_PID (1) or P_PGID (2, id 0 = the caller's group); P_PIDFD (3) is EINVAL for id < 0, else EBADF (the daemon keeps no pidfds); options WEXITED, WSTOPPED, WCONTINUED, WNOHANG, WNOWAIT, __WNOTHREAD, __WCLONE, __WALL. Returns 0; out is the siginfo: si_pid, si_uid, si_signo (SIGCHLD), si_status, si_code (CLD_*), all 0 when WNOHANG found nothing.",
  },
  wait4_sigchld: {
    nr: 52,
    args: { pid: "i32", options: "i32" },
    out: { wstatus: "i32", sig: "i32", sig_pid: "i32", sig_uid: "u32", sig_code: "i32", sig_status: "i32" },
    blocks: true,
    role: "guest",
    doc: "wait4 for a guest that runs its handlers itself (delivery 1 or 2): as wait4, and when the wait parked and then found a child, the SIGCHLD the daemon would have rung the caller for (the one signal its single thread has pending, handled and not blocked) is taken off the queue as sig_dequeue takes it and not rung: out.sig is SIGCHLD and sig_pid, sig_uid, sig_code, sig_status its siginfo, and the guest runs the handler before the wait returns (Linux's order). out.sig 0: nothing came with the reply.",
  },
  waitid_sigchld: {
    nr: 53,
    args: { idtype: "i32", id: "i32", options: "i32" },
    out: { pid: "i32", uid: "i32", signo: "i32", status: "i32", code: "i32", sig: "i32", sig_pid: "i32", sig_uid: "u32", sig_code: "i32", sig_status: "i32" },
    blocks: true,
    role: "guest",
    doc: "waitid with the SIGCHLD in the reply, as wait4_sigchld: out.pid … out.code as waitid's, out.sig and sig_* as wait4_sigchld's.",
  },
});
