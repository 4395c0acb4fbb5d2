/**
 * What spec/native/ptrace_exitkill.c prints on Linux (and must print under the preload and in
 * blink): a tracee with PTRACE_O_TRACEEXIT killed by SIGTERM's default action, then by SIGKILL,
 * stops at PTRACE_EVENT_EXIT first. spec/native.ptrace.test.ts and spec/blink.ptrace.test.ts.
 */
export const EXITKILL_LINES: readonly string[] = [
  "tracee: stopped(STOP) event 0",
  "SETOPTIONS TRACEEXIT: 0",
  "kill(TERM)",
  "tracee: stopped(TERM) event 0",
  "  CONT with TERM",
  "tracee: stopped(TRAP) event 6",
  "  GETEVENTMSG: 0, 15",
  "  GETREGS: 0",
  "tracee: killed(TERM)",
  "tracee: stopped(STOP) event 0",
  "SETOPTIONS TRACEEXIT: 0",
  "kill(KILL)",
  "tracee: stopped(TRAP) event 6",
  "  GETEVENTMSG: 0, 9",
  "  GETREGS: 0",
  "tracee: killed(KILL)",
];
