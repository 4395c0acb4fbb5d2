import { family } from "../schema.js";

/** Process groups and sessions (kernel/sys.c). Numbers are pids as the namespace sees them. */
export const group = family({
  setpgid: {
    nr: 100,
    args: { pid: "i32", pgid: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "setpgid(2): pid 0 is the caller, pgid 0 is pid. EINVAL for pgid < 0 or a non-leader thread, ESRCH unless pid is the caller or its child, EPERM for a session leader, a child in another session or a group of another session, EACCES for a child that has exec'd.",
  },
  getpgid: {
    nr: 101,
    args: { pid: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "getpgid(2): the process group of pid (0 = the caller); 0 when the group is outside the namespace. ESRCH when there is no such process or thread.",
  },
  getpgrp: { nr: 102, args: {}, out: {}, blocks: false, role: "guest", doc: "getpgrp(2): the caller's process group." },
  setsid: {
    nr: 103,
    args: {},
    out: {},
    blocks: false,
    role: "guest",
    doc: "setsid(2): the caller leads a new session and group with its pid as id; returns it. EPERM when the caller leads a session already or a group with its pid exists.",
  },
  getsid: {
    nr: 104,
    args: { pid: "i32" },
    out: {},
    blocks: false,
    role: "guest",
    doc: "getsid(2): the session of pid (0 = the caller); 0 when the session is outside the namespace. ESRCH when there is no such process or thread.",
  },
});
