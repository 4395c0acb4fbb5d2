/** The small files of /proc/PID: cmdline, comm, environ (fs/proc/base.c). */
import type { ProcView, TaskView } from "./view.js";

/** proc_pid_cmdline_read: the argument area, every argument followed by a NUL; empty for a zombie. */
export function renderCmdline(v: ProcView): Buffer {
  return Buffer.concat(v.argv.map((a) => Buffer.from(a + "\0", "utf8")));
}

/** comm_show: the name unescaped, then a newline. */
export function renderComm(t: TaskView): Buffer {
  return Buffer.from(t.comm + "\n", "utf8");
}

/** environ_read: the environment area as it is (NUL-terminated "K=V" strings). */
export function renderEnviron(v: ProcView): Buffer {
  return Buffer.from(v.environ);
}
