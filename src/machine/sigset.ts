/**
 * Signal numbers, the kernel's classes of signals (include/linux/signal.h: SIG_KERNEL_*_MASK),
 * and the pending queue (struct sigpending): a set of signal bits plus the siginfo of each
 * queued signal. Pure data and functions; the process and thread machines own the values.
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

/** si_code values (include/uapi/asm-generic/siginfo.h). */
export const SI = {
  USER: 0, // kill(2)
  KERNEL: 0x80, // sent by the kernel (SEND_SIG_PRIV)
  TKILL: -6, // tkill(2), tgkill(2)
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_TRAPPED: 4,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
} as const;

/** SA_* flags the daemon reads (include/uapi/asm-generic/signal-defs.h, x86 signal.h). */
export const SA = { NOCLDSTOP: 0x1, NOCLDWAIT: 0x2, SIGINFO: 0x4, RESTART: 0x10000000, NODEFER: 0x40000000, RESETHAND: 0x80000000 } as const;

/**
 * rt_sigaction's handler as the guest reports it: SIG_DFL and SIG_IGN are Linux's (0 and 1,
 * include/uapi/asm-generic/signal-defs.h); any other handler address travels as 2 (spec/protocol.md).
 */
export const HANDLER = { DFL: 0, IGN: 1, CAUGHT: 2 } as const;

/** sigprocmask's how (include/uapi/asm-generic/signal-defs.h). */
export const HOW = { BLOCK: 0, UNBLOCK: 1, SETMASK: 2 } as const;

export const bit = (signo: number): bigint => 1n << BigInt(signo - 1);
export const maskOf = (...sigs: number[]): bigint => sigs.reduce((m, s) => m | bit(s), 0n);
export const has = (mask: bigint, signo: number): boolean => (mask & bit(signo)) !== 0n;
export const ALL = (1n << BigInt(NSIG)) - 1n;

/** sig_kernel_only: SIGKILL and SIGSTOP, which no handler or mask can catch. */
export const KERNEL_ONLY = maskOf(SIG.SIGKILL, SIG.SIGSTOP);
/** SIG_KERNEL_STOP_MASK: default action stop. */
export const KERNEL_STOP = maskOf(SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU);
/** SIG_KERNEL_IGNORE_MASK: default action ignore. */
export const KERNEL_IGNORE = maskOf(SIG.SIGCONT, SIG.SIGCHLD, SIG.SIGWINCH, SIG.SIGURG);
/** SIG_KERNEL_COREDUMP_MASK: default action terminate with a core dump. */
export const KERNEL_COREDUMP = maskOf(SIG.SIGQUIT, SIG.SIGILL, SIG.SIGTRAP, SIG.SIGABRT, SIG.SIGFPE, SIG.SIGSEGV, SIG.SIGBUS, SIG.SIGSYS, SIG.SIGXCPU, SIG.SIGXFSZ);

/** valid_signal(): 0..64 (0 is the existence and permission probe). */
export const validSignal = (sig: number): boolean => sig >= 0 && sig <= NSIG;

/** What a signal's sender tells its receiver (the fields of siginfo_t the daemon fills). */
export interface SigInfo {
  readonly signo: number;
  readonly code: number;
  /** si_pid: the sender's pid in the namespace, 0 for the kernel or a sender outside. */
  readonly pid: number;
  /** si_uid: the sender's real uid. */
  readonly uid: number;
  /** si_status for SIGCHLD: the exit code or signal. */
  readonly status: number;
}

/** struct sigpending: the set, and the siginfo of every queued signal in arrival order. */
export interface SigQueue {
  readonly mask: bigint;
  readonly q: readonly SigInfo[];
}

export const EMPTY_QUEUE: SigQueue = { mask: 0n, q: [] };

/**
 * Queues a signal (__send_signal_locked): a standard signal already pending is not queued
 * twice (legacy_queue); real-time signals queue, up to `limit` entries (RLIMIT_SIGPENDING's
 * role), beyond which they are dropped, as Linux does when rt signals cannot be allocated.
 */
export function enqueue(s: SigQueue, info: SigInfo, limit: number): SigQueue {
  if (info.signo < SIGRTMIN && has(s.mask, info.signo)) return s;
  if (s.q.length >= limit) return info.signo < SIGRTMIN ? { mask: s.mask | bit(info.signo), q: s.q } : s;
  return { mask: s.mask | bit(info.signo), q: [...s.q, info] };
}

/** next_signal: the synchronous signals first, then the lowest-numbered pending signal not in `blocked`. */
const SYNCHRONOUS = maskOf(SIG.SIGSEGV, SIG.SIGBUS, SIG.SIGILL, SIG.SIGTRAP, SIG.SIGFPE, SIG.SIGSYS);
export function nextSignal(s: SigQueue, blocked: bigint): number {
  const ready = s.mask & ~blocked;
  if (ready === 0n) return 0;
  const sync = ready & SYNCHRONOUS;
  const m = sync !== 0n ? sync : ready;
  for (let i = 1; i <= NSIG; i++) if (has(m, i)) return i;
  return 0;
}

/** Takes one instance of `signo` off the queue (collect_signal): its siginfo and the queue without it. */
export function dequeue(s: SigQueue, signo: number): { info: SigInfo; rest: SigQueue } {
  const i = s.q.findIndex((x) => x.signo === signo);
  const info: SigInfo = i >= 0 ? s.q[i]! : { signo, code: SI.KERNEL, pid: 0, uid: 0, status: 0 };
  const q = i >= 0 ? [...s.q.slice(0, i), ...s.q.slice(i + 1)] : s.q;
  // The bit stays while another real-time instance is queued.
  const still = q.some((x) => x.signo === signo);
  return { info, rest: { mask: still ? s.mask : s.mask & ~bit(signo), q } };
}

/** flush_sigqueue_mask: drops every queued signal in `mask`. */
export function flush(s: SigQueue, mask: bigint): SigQueue {
  if ((s.mask & mask) === 0n) return s;
  return { mask: s.mask & ~mask, q: s.q.filter((x) => !has(mask, x.signo)) };
}
