/**
 * What only a guest knows and reports for /proc (fs/proc reads these from the task in Linux:
 * its environment block, cwd, groups, memory figures), and its name as PR_SET_NAME or exec
 * set it (kernel/sys.c prctl(PR_SET_NAME) → __set_task_comm). The process actor owns the
 * facts (INFO, SET_COMM); a thread's own name is its thread actor's.
 */
import type { MemFigures, ProcInfo } from "../machine/procinfo.js";
import { withMem } from "../machine/procinfo.js";
import type { Kernel } from "./kernel.js";

/** The guest reported facts of its process (environ, cwd, gids): they replace the earlier ones. */
export function reportInfo(k: Kernel, pid: number, info: Partial<Omit<ProcInfo, "mem">>): void {
  k.proc(pid)?.send({ type: "INFO", info });
}

/** The guest reported its memory figures: the peaks (VmPeak, VmHWM) keep the highest seen. False when there is no such process. */
export function reportMem(k: Kernel, pid: number, m: Omit<MemFigures, "peak" | "hwm">): boolean {
  const p = k.proc(pid);
  if (!p) return false;
  p.send({ type: "INFO", info: { mem: withMem(p.getSnapshot().context.info.mem, m) } });
  return true;
}

/**
 * prctl(PR_SET_NAME) from thread `tid` (__set_task_comm): the leader's name is the process's
 * comm (/proc/PID/stat, status); another thread's is its own (/proc/PID/task/TID/comm).
 */
export function setComm(k: Kernel, pid: number, tid: number, comm: string): void {
  if (tid === pid) k.proc(pid)?.send({ type: "SET_COMM", comm });
  else k.threads.get(tid)?.send({ type: "SET_COMM", comm });
}
