/**
 * Linux's signal ABI on x86-64, as it crosses the wire (a signo, a mask bit signo-1, a
 * siginfo's si_code, the SA_* bits rt_sigaction reports): the one declaration the daemon, the
 * TypeScript client, the scenario language and the C header (checked against libc's values
 * by the generated blinkd_calls.c) all use.
 */

/** x86-64 signal numbers (arch/x86/include/uapi/asm/signal.h). */
export const SIG = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
} as const;

/** _NSIG: signals are 1..64; 32..64 are real-time (SIGRTMIN is 32 in the kernel). */
export const NSIG = 64;
export const SIGRTMIN = 32;

/** si_code values (include/uapi/asm-generic/siginfo.h): a sender's, then SIGCHLD's CLD_*. */
export const SI = {
  USER: 0, // kill(2)
  KERNEL: 0x80, // sent by the kernel (SEND_SIG_PRIV)
  QUEUE: -1, // sigqueue(3)
  TKILL: -6, // tkill(2), tgkill(2)
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_TRAPPED: 4,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
} as const;

/** SA_* flags (include/uapi/asm-generic/signal-defs.h, arch/x86/include/uapi/asm/signal.h). */
export const SA = {
  NOCLDSTOP: 0x1,
  NOCLDWAIT: 0x2,
  SIGINFO: 0x4,
  ONSTACK: 0x08000000,
  RESTART: 0x10000000,
  NODEFER: 0x40000000,
  RESETHAND: 0x80000000,
} as const;

/** rt_sigprocmask's how (include/uapi/asm-generic/signal-defs.h). */
export const SIGMASK_HOW = { SIG_BLOCK: 0, SIG_UNBLOCK: 1, SIG_SETMASK: 2 } as const;

/** Each signal's bit, made once: a shift makes a new BigInt, and delivery tests masks signal by signal. */
const BITS: readonly bigint[] = Array.from({ length: 65 }, (_, signo) => 1n << BigInt(signo - 1));

/** A signal's bit in a mask: signo-1, as sigset_t and every u64 set on the wire. */
export const bit = (signo: number): bigint => BITS[signo] ?? 1n << BigInt(signo - 1);

/** The C names of the tables above, for the checks generated into blinkd_calls.c. */
export const cNames = {
  SIG: (k: string) => k,
  SI: (k: string) => (k.startsWith("CLD_") ? k : `SI_${k}`),
  SA: (k: string) => `SA_${k}`,
  SIGMASK_HOW: (k: string) => k,
} as const;
