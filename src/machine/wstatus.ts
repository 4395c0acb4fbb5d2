/**
 * Linux's wait status word (include/uapi/linux/wait.h, sys/wait.h macros):
 *   exited:    (code & 0xff) << 8
 *   signaled:  signo | 0x80 if a core was dumped
 *   stopped:   (signo << 8) | 0x7f
 *   continued: 0xffff
 */
export const exited = (code: number): number => (code & 0xff) << 8;
export const signaled = (signo: number, core = false): number => (signo & 0x7f) | (core ? 0x80 : 0);
export const stopped = (signo: number): number => ((signo & 0xff) << 8) | 0x7f;
export const CONTINUED = 0xffff;

export const ifExited = (s: number): boolean => (s & 0x7f) === 0;
export const exitStatus = (s: number): number => (s >> 8) & 0xff;
export const ifSignaled = (s: number): boolean => ((s & 0x7f) + 1) >> 1 > 0 && (s & 0xff) !== 0x7f;
export const termSig = (s: number): number => s & 0x7f;
export const coreDumped = (s: number): boolean => (s & 0x80) !== 0;

/** What a shell reports: the exit code, or 128 + the signal. */
export const shellCode = (s: number): number => (ifExited(s) ? exitStatus(s) : ifSignaled(s) ? 128 + termSig(s) : 1);

export function describeStatus(s: number): string {
  if (ifExited(s)) return `exited(${exitStatus(s)})`;
  if (ifSignaled(s)) return `killed(${termSig(s)}${coreDumped(s) ? ",core" : ""})`;
  if (s === CONTINUED) return "continued";
  if ((s & 0xff) === 0x7f) return `stopped(${(s >> 8) & 0xff})`;
  return `raw(${s})`;
}

// include/uapi/linux/wait.h: the options of wait4 and waitid.
export const WNOHANG = 0x00000001;
export const WUNTRACED = 0x00000002;
export const WSTOPPED = WUNTRACED;
export const WEXITED = 0x00000004;
export const WCONTINUED = 0x00000008;
export const WNOWAIT = 0x01000000;
export const __WNOTHREAD = 0x20000000;
export const __WALL = 0x40000000;
export const __WCLONE = 0x80000000 | 0;

// include/uapi/linux/wait.h: waitid's idtype.
export const P_ALL = 0;
export const P_PID = 1;
export const P_PGID = 2;
export const P_PIDFD = 3;
