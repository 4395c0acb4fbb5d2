/**
 * /proc/PID/fd and /proc/PID/fdinfo for the descriptors the daemon owns (eventfd …): the
 * link target and the common lines of fs/proc/fd.c seq_show ("pos", "flags" in octal with
 * O_CLOEXEC folded in, "mnt_id", "ino"), then the file's own show_fdinfo lines (eventfd:
 * "eventfd-count: %16llx", "eventfd-id: %d", "eventfd-semaphore: %d").
 *
 * The families that own descriptors register a source; procfs asks each for a process's
 * descriptors when it renders, and no call's hot path ever does.
 */
import type { Kernel } from "../actors/kernel.js";

export interface FdView {
  readonly fd: number;
  /** The link target of /proc/PID/fd/N, e.g. "anon_inode:[eventfd]". */
  readonly target: string;
  readonly pos: bigint;
  /** f_flags: O_ACCMODE, O_NONBLOCK …; O_CLOEXEC is added for a close-on-exec descriptor. */
  readonly flags: number;
  readonly cloexec: boolean;
  readonly mntId: number;
  readonly ino: number;
  readonly extra: readonly (readonly [string, string])[];
}

export type FdSource = (k: Kernel, pid: number) => readonly FdView[];

const sources: FdSource[] = [];

export function registerFdSource(s: FdSource): void {
  sources.push(s);
}

export function fdsOf(k: Kernel, pid: number): FdView[] {
  return sources.flatMap((s) => s(k, pid)).sort((a, b) => a.fd - b.fd);
}

const O_CLOEXEC = 0o2000000;

export function renderFdinfo(f: FdView): string {
  const flags = f.flags | (f.cloexec ? O_CLOEXEC : 0);
  const lines = [`pos:\t${f.pos}`, `flags:\t0${flags.toString(8)}`, `mnt_id:\t${f.mntId}`, `ino:\t${f.ino}`];
  for (const [k, v] of f.extra) lines.push(`${k}: ${v}`);
  return lines.join("\n") + "\n";
}
