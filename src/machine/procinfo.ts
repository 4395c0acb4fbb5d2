/**
 * What a process reports about itself for procfs, beyond what the daemon sees from its
 * calls: the environment block, the working directory, the group ids and memory figures.
 * Only the guest knows these; each is null until it reports one, and procfs then falls
 * back to the host process (src/procfs/host.ts), else to Linux's value for "none".
 */

/** The memory figures of /proc/PID/status (task_mem), in bytes. */
export interface MemFigures {
  readonly size: bigint;
  readonly rss: bigint;
  readonly rssAnon: bigint;
  readonly rssFile: bigint;
  readonly rssShmem: bigint;
  readonly data: bigint;
  readonly stk: bigint;
  readonly exe: bigint;
  readonly lib: bigint;
  readonly lck: bigint;
  readonly pin: bigint;
  readonly pte: bigint;
  readonly swap: bigint;
  /** High-water marks (mm->hiwater_vm, hiwater_rss): the largest size and rss reported. */
  readonly peak: bigint;
  readonly hwm: bigint;
}

/** The group ids of struct cred: real, effective, saved, filesystem; and the supplementary groups. */
export interface GidSet {
  readonly rgid: number;
  readonly egid: number;
  readonly sgid: number;
  readonly fsgid: number;
  readonly groups: readonly number[];
}

export interface ProcInfo {
  /** The raw environment block (NUL-terminated "K=V" strings), as /proc/PID/environ shows it. */
  readonly environ: Uint8Array | null;
  readonly cwd: string | null;
  readonly gids: GidSet | null;
  readonly mem: MemFigures | null;
}

export const NO_INFO: ProcInfo = { environ: null, cwd: null, gids: null, mem: null };

/** execve(2) replaces the memory image and the environment; the cwd and credentials stay. */
export function afterExec(i: ProcInfo): ProcInfo {
  return { ...i, environ: null, mem: null };
}

/** A new report of memory figures: the high-water marks only grow (update_hiwater_rss/vm). */
export function withMem(prev: MemFigures | null, m: Omit<MemFigures, "peak" | "hwm">): MemFigures {
  const peak = prev && prev.peak > m.size ? prev.peak : m.size;
  const hwm = prev && prev.hwm > m.rss ? prev.hwm : m.rss;
  return { ...m, peak, hwm };
}
