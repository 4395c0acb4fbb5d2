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
});
