/**
 * /proc/PID/fd and /proc/PID/fdinfo for the descriptors the daemon owns (eventfd …): the
 * link target and the common lines of fs/proc/fd.c seq_show ("pos", "flags" in octal with
 * O_CLOEXEC folded in, "mnt_id", "ino"), then the file's own show_fdinfo lines (eventfd:
 * "eventfd-count: %16llx", "eventfd-id: %d", "eventfd-semaphore: %d").
 *
 * Rendered only when /proc is read, never on a call's hot path.
 */
import * as fs from "node:fs";
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

/**
 * The anon_inodefs mount and inode every anonymous file shares (fdinfo's "mnt_id" and
 * "ino"): taken from one of the daemon's own anonymous descriptors (libuv's eventfd or
 * epoll), so that they are this host's values.
 */
let anon: { mntId: number; ino: number } | undefined;
function anonInode(): { mntId: number; ino: number } {
  if (anon) return anon;
  anon = { mntId: 0, ino: 0 };
  try {
    for (const fd of fs.readdirSync("/proc/self/fd")) {
      let target = "";
      try {
        target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith("anon_inode:")) continue;
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, "latin1");
      const mnt = /^mnt_id:\t(\d+)$/m.exec(info);
      const ino = /^ino:\t(\d+)$/m.exec(info);
      if (mnt && ino) anon = { mntId: Number(mnt[1]), ino: Number(ino[1]) };
      break;
    }
  } catch {
    /* no /proc: zeros */
  }
  return anon;
}

/** A process's daemon-owned descriptors: its eventfds (fs/eventfd.c eventfd_show_fdinfo). */
export function fdsOf(k: Kernel, pid: number): FdView[] {
  const out: FdView[] = [];
  for (const fd of k.files.list(pid)) {
    const i = k.files.fdinfo(pid, fd);
    if (!i) continue;
    const { mntId, ino } = anonInode();
    out.push({
      fd,
      target: "anon_inode:[eventfd]",
      pos: BigInt(i.pos),
      flags: i.flags,
      cloexec: i.cloexec,
      mntId,
      ino,
      // "eventfd-count: %16llx": hexadecimal, right-aligned in 16 columns.
      extra: [
        ["eventfd-count", i.count.toString(16).padStart(16)],
        ["eventfd-id", String(i.id)],
        ["eventfd-semaphore", i.semaphore ? "1" : "0"],
      ],
    });
  }
  return out;
}

const O_CLOEXEC = 0o2000000;

export function renderFdinfo(f: FdView): string {
  const flags = f.flags | (f.cloexec ? O_CLOEXEC : 0);
  const lines = [`pos:\t${f.pos}`, `flags:\t0${flags.toString(8)}`, `mnt_id:\t${f.mntId}`, `ino:\t${f.ino}`];
  for (const [k, v] of f.extra) lines.push(`${k}: ${v}`);
  return lines.join("\n") + "\n";
}
