/**
 * Signal numbers, the kernel's classes of signals (include/linux/signal.h: SIG_KERNEL_*_MASK),
 * and the pending queue (struct sigpending): a set of signal bits plus the siginfo of each
 * queued signal. Pure data and functions; the process and thread machines own the values.
 */

// The signal ABI (numbers, si_code, SA_* flags, sigprocmask's how, rt_sigaction's handler
// codes) is declared once in the protocol, from which the C header is generated and checked
// against libc; the daemon's rules take it from there.
import { SIGACTION } from "../protocol/calls/signal.js";
export { SIG, NSIG, SIGRTMIN, SI, SA, bit } from "../protocol/linux/signals.js";
import { NSIG, SI, SIG, SIGMASK_HOW, SIGRTMIN, bit } from "../protocol/linux/signals.js";

/**
 * rt_sigaction's handler as the guest reports it: SIG_DFL and SIG_IGN are Linux's (0 and 1,
 * include/uapi/asm-generic/signal-defs.h); any other handler address travels as 2 (spec/protocol.md).
 */
export const HANDLER = { DFL: SIGACTION.SIG_DFL, IGN: SIGACTION.SIG_IGN, CAUGHT: SIGACTION.HANDLER } as const;

/** sigprocmask's how (include/uapi/asm-generic/signal-defs.h). */
export const HOW = { BLOCK: SIGMASK_HOW.SIG_BLOCK, UNBLOCK: SIGMASK_HOW.SIG_UNBLOCK, SETMASK: SIGMASK_HOW.SIG_SETMASK } as const;

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
  return lowest(sync !== 0n ? sync : ready);
}

/** The lowest signal in a mask (1 to 64; 0 when none is): its lowest set bit, found in two 32-bit halves instead of a BigInt test per signal. */
export function lowest(mask: bigint): number {
  const lo = Number(mask & 0xffffffffn);
  if (lo !== 0) return 32 - Math.clz32(lo & -lo);
  const hi = Number((mask >> 32n) & 0xffffffffn);
  return hi === 0 ? 0 : 64 - Math.clz32(hi & -hi);
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
