/**
 * Errno values as Linux x86-64 defines them (asm-generic/errno-base.h, errno.h).
 * An errno is data: handlers return an `Errno` value, the wire carries its negation.
 */
// effect/Data alone: the "effect" barrel costs a guest ~250 ms more to load, at every process start.
import * as Data from "effect/Data";

export const E = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENODATA: 61,
  EPROTO: 71,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  ECANCELED: 125,
} as const;

export type ErrnoName = keyof typeof E;

/** The kernel's internal "interrupted, restart if SA_RESTART" code; only ever on the wire as -512 (spec/protocol.md §6). */
export const ERESTARTSYS = 512;

const names = new Map<number, string>([...Object.entries(E).map(([k, v]) => [v, k] as const), [ERESTARTSYS, "ERESTARTSYS"]]);

/** "ECHILD" for 10, "E123" for an errno this table does not name. */
export function errnoName(code: number): string {
  return names.get(code) ?? `E${code}`;
}

/** A failed call: the errno Linux would return, and for bad input a sentence that names the field. */
export class Errno extends Data.TaggedError("Errno")<{ readonly code: number; readonly detail?: string }> {
  override get message(): string {
    return this.detail ? `${errnoName(this.code)}: ${this.detail}` : errnoName(this.code);
  }
}

/** Linux's MAX_ERRNO (include/linux/err.h): the errnos kept made once, below, are at most this many. */
const MAX_ERRNO = 4095;

/** The detail-less errnos, one per code, made at their first use. */
const bare: (Errno | undefined)[] = [];

function make(code: number, detail?: string): Errno {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return detail === undefined ? new Errno({ code }) : new Errno({ code, detail });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * An errno is data: it is made without a stack trace, which costs ~11 µs at the depth a
 * call runs at (against ~1.4 µs without), on every failed call. One without a detail (wait4's
 * ECHILD in every shell's reaping loop, a bare ESRCH or EAGAIN) is one value per code, made
 * once: the daemon built an Error object for each before (bench/README.md, issue 18's sixth
 * round). Nothing changes an Errno (its fields are readonly), so the one value serves every call.
 */
export const errno = (code: number, detail?: string): Errno => {
  if (detail !== undefined || !Number.isInteger(code) || code < 0 || code > MAX_ERRNO) return make(code, detail);
  return (bare[code] ??= make(code));
};
