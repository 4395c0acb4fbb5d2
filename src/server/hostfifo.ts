/**
 * Host mirrors for epoll: Node.js cannot pass a descriptor over a UNIX socket, so each
 * eventfd a client wants to epoll gets a FIFO in the daemon's owner-only runtime directory
 * (PREFIX/.blinkd/efd-DAEMONPID-ID-N.fifo). The daemon holds it open read-write and
 * non-blocking and keeps exactly one byte in it while the eventfd's counter is non-zero, none
 * while it is zero, so the FIFO is readable on the host exactly when the eventfd is. A client
 * opens it O_RDONLY | O_NONBLOCK, adds it to its epoll set for EPOLLIN, and never reads it.
 * The FIFO is emptied and removed when the eventfd is freed or the daemon stops (the
 * client's end then reports EPOLLHUP: no writer is left).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFile } from "node:child_process";
import * as Effect from "effect/Effect";
import { E, errno, type Errno } from "../protocol/errno.js";
import type { HostMirror } from "../actors/eventfd.js";
import type { MirrorFactory } from "../actors/files.js";

class FifoMirror implements HostMirror {
  private full = false;
  private scratch = Buffer.alloc(64);
  constructor(
    readonly path: string,
    private fd: number,
  ) {}

  set(readable: boolean): void {
    if (this.fd < 0 || readable === this.full) return;
    try {
      if (readable) {
        fs.writeSync(this.fd, "1");
      } else {
        // Drains everything, a stray byte included: readSync throws EAGAIN once empty.
        for (;;) if (fs.readSync(this.fd, this.scratch, 0, this.scratch.length, null) <= 0) break;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
    this.full = readable;
  }

  /** Empties the FIFO and closes the daemon's end: a client's epoll then sees EPOLLHUP only. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.set(false);
      fs.closeSync(this.fd);
    } finally {
      this.fd = -1;
      fs.rmSync(this.path, { force: true });
    }
  }
}

/** mkfifo(1) (Node.js has no mkfifo), mode 0600, then the daemon's own read-write end. */
export function fifoMirrors(runtimeDir: string): MirrorFactory {
  return (name) =>
    Effect.async<HostMirror, Errno>((resume) => {
      const p = path.join(runtimeDir, `${name}.fifo`);
      execFile("mkfifo", ["-m", "600", p], (err) => {
        if (err) return resume(Effect.fail(errno(E.EIO, `mkfifo ${p}: ${err.message.trim()}`)));
        try {
          // Opening a FIFO read-write never blocks on Linux (fifo(7)).
          const fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
          resume(Effect.succeed(new FifoMirror(p, fd)));
        } catch (e) {
          fs.rmSync(p, { force: true });
          resume(Effect.fail(errno(E.EIO, `open ${p}: ${(e as Error).message}`)));
        }
      });
    });
}
