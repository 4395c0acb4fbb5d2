/**
 * Locks held for a daemon's life: flock(2) on a file in the runtime directory. The kernel
 * holds such a lock for as long as the open file description that took it is open, and
 * drops it when the daemon dies however it dies (SIGKILL included), in whatever PID
 * namespace it ran: a lock that can be taken proves that its owner is gone. A connect
 * error does not (a stopped daemon's full backlog gives EAGAIN, issue 15).
 *
 * Node.js has no flock: util-linux's flock(1) takes the lock on a descriptor it inherits
 * from the daemon. flock locks belong to the open file description, not to a process
 * (flock(2): "duplicate file descriptors … refer to the same lock"), so the lock stays with
 * the daemon's descriptor after flock(1) exits. Node.js opens files with O_CLOEXEC, so the
 * daemon's guests never inherit the descriptor (and with it the lock).
 */
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";

/** flock(1)'s exit status when the lock is held by another (--conflict-exit-code). */
const HELD = 75;

export class LockError extends Error {}

/** flock(fd, LOCK_EX | LOCK_NB) through flock(1): true when taken, false when another holds it. */
function flockNb(fd: number, what: string): boolean {
  const r = spawnSync("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", String(HELD), "3"], { stdio: ["ignore", "ignore", "pipe", fd], encoding: "utf8" });
  if (r.error) throw new LockError(`cannot lock ${what}: flock(1) (util-linux) could not run: ${r.error.message}`);
  if (r.status === 0) return true;
  if (r.status === HELD) return false;
  throw new LockError(`cannot lock ${what}: flock(1) ${r.signal ? `died of ${r.signal}` : `exited ${r.status}`}: ${(r.stderr ?? "").trim()}`);
}

/** A lock this daemon holds until `release` (or its death). */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

/** Takes the lock at `file` (created mode 0600 if absent); undefined when another process holds it. */
export function takeLock(file: string): HeldLock | undefined {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  let ok = false;
  try {
    ok = flockNb(fd, file);
  } finally {
    if (!ok) fs.closeSync(fd);
  }
  if (!ok) return undefined;
  let held = true;
  return {
    path: file,
    release: () => {
      if (!held) return;
      held = false;
      fs.closeSync(fd);
    },
  };
}
