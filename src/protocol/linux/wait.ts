/**
 * Linux's wait ABI (include/uapi/linux/wait.h): the options wait4 and waitid take, waitid's
 * idtypes, and the status word wait4 returns (the sys/wait.h macros). Declared once for the
 * daemon, the clients, the scenario language and the C header's checks.
 */

/** Wait options. __WCLONE is bit 31: a negative i32 on the wire. */
export const WAIT = {
  WNOHANG: 0x00000001,
  WUNTRACED: 0x00000002,
  WSTOPPED: 0x00000002,
  WEXITED: 0x00000004,
  WCONTINUED: 0x00000008,
  WNOWAIT: 0x01000000,
  __WNOTHREAD: 0x20000000,
  __WALL: 0x40000000,
  __WCLONE: 0x80000000 | 0,
} as const;

/** waitid's idtype (include/uapi/linux/wait.h). */
export const IDTYPE = { P_ALL: 0, P_PID: 1, P_PGID: 2, P_PIDFD: 3 } as const;

/*
 * The status word:
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
// glibc's WIFSIGNALED: ((signed char)((s & 0x7f) + 1) >> 1) > 0, false for 0 (exited) and 0x7f
// (stopped, or continued's 0xffff).
export const ifSignaled = (s: number): boolean => (s & 0x7f) !== 0 && (s & 0x7f) !== 0x7f;
export const termSig = (s: number): number => s & 0x7f;
export const coreDumped = (s: number): boolean => (s & 0x80) !== 0;
export const ifStopped = (s: number): boolean => (s & 0xff) === 0x7f;
export const stopSig = (s: number): number => (s >> 8) & 0xff;

/** What a shell reports: the exit code, or 128 + the signal. */
export const shellCode = (s: number): number => (ifExited(s) ? exitStatus(s) : ifSignaled(s) ? 128 + termSig(s) : 1);

/** exited(N), killed(N[,core]), stopped(N), continued: as the conformance traces and `blinkd run` print a status. */
export function describeStatus(s: number): string {
  if (ifExited(s)) return `exited(${exitStatus(s)})`;
  if (ifSignaled(s)) return `killed(${termSig(s)}${coreDumped(s) ? ",core" : ""})`;
  if (s === CONTINUED) return "continued";
  if (ifStopped(s)) return `stopped(${stopSig(s)})`;
  return `raw(${s})`;
}

export const cNames = { WAIT: (k: string) => k, IDTYPE: (k: string) => k } as const;
