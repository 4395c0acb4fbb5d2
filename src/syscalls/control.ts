/** Read-only inspection calls for control connections. */
import type { control } from "../protocol/calls/control.js";
import type { Kernel } from "../actors/kernel.js";
import type { Handlers } from "./types.js";
import { checkKernel } from "../actors/invariants.js";

export interface ProcRecord {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  state: string;
  threads: number[];
  comm: string;
  exe: string;
  argv: string[];
  hostpid: number;
  wstatus: number | null;
  startTime: number;
}

/** ps's letter for each lifecycle state (fs/proc/array.c task_state_array). */
export const stateLetter: Record<string, string> = { embryo: "R", running: "S", native: "S", stopped: "T", zombie: "Z", reaped: "X", aborted: "X" };

export function listProcesses(k: Kernel): ProcRecord[] {
  const out: ProcRecord[] = [];
  for (const [pid, a] of k.procs) {
    const snap = a.getSnapshot();
    const c = snap.context;
    out.push({
      pid,
      ppid: c.ppid,
      pgid: c.pgid,
      sid: c.sid,
      // A stopped process shows as "stopped" (ps T): a flag beside the running state.
      state: c.stopped && (snap.value === "running" || snap.value === "native") ? "stopped" : String(snap.value),
      threads: [...c.threads],
      comm: c.comm,
      exe: c.exe,
      argv: c.argv,
      hostpid: c.hostpid,
      wstatus: c.wstatus,
      startTime: Math.round(c.startTime),
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

export const controlCalls: Handlers<typeof control> = {
  ps: (ctx) => ({ result: ctx.k.procs.size, out: { procs: listProcesses(ctx.k) } }),
  check: (ctx) => {
    const report = checkKernel(ctx.k);
    return { result: report.problems.length, out: { report } };
  },
};
