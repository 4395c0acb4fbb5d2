import { family } from "../schema.js";

/** The wait family. */
export const wait = family({
  wait4: {
    nr: 50,
    args: { pid: "i32", options: "i32" },
    out: { wstatus: "i32" },
    blocks: true,
    role: "guest",
    doc: "wait4(2): pid > 0 one child, -1 any child, 0 the caller's group, < -1 group -pid; WNOHANG returns 0 when no child has changed state. Returns the pid reaped; out.wstatus is Linux's status word.",
  },
});
