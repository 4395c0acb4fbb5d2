/**
 * PID allocation as kernel/pid.c's alloc_pid does it: idr_alloc_cyclic from the cursor
 * (the last pid handed out + 1) below pid_max; once the cursor has passed RESERVED_PIDS,
 * a wrap restarts at RESERVED_PIDS rather than at 1 ("init really needs pid 1, but after
 * reaching the maximum wrap back to RESERVED_PIDS"). A number stays in use while any
 * process has it as its pid, its process group or its session (struct pid's refcount).
 */
export const RESERVED_PIDS = 300;

/** The next free pid, or 0 when every number in range is in use (fork's EAGAIN). */
export function nextPid(last: number, pidMax: number, inUse: (pid: number) => boolean): number {
  const min = last >= RESERVED_PIDS ? RESERVED_PIDS : 1;
  let cand = last + 1;
  for (let tries = 0; tries < pidMax; tries++) {
    if (cand >= pidMax) cand = min;
    if (!inUse(cand)) return cand;
    cand++;
  }
  return 0;
}
