/**
 * Daemon-owned files and every process's descriptor table for them.
 *
 * Descriptor numbers here are the daemon's own, per process, allocated lowest-first from 0
 * like Linux's; they are not the guest's host descriptors. A client (blink) keeps a map from
 * the guest's descriptor number to the daemon's (see spec/eventfd.md, "Descriptors").
 *
 * An open file lives while a descriptor of any process or a call in flight refers to it
 * (f_count) and is freed exactly when the last reference goes: close, dup2 over it, exec of a
 * CLOEXEC descriptor, exit, death, a fork that never happened.
 */
import * as Effect from "effect/Effect";
import { E, errno, type Errno } from "../protocol/errno.js";
import { Eventfd, type FdInfo, type HostMirror } from "./eventfd.js";
import { FdTable, type Desc } from "./fdtable.js";
import type { ActorHost, ResourceHooks } from "./kernel.js";

import { O_NONBLOCK, O_RDWR } from "../protocol/fdconst.js";

export type OpenFile = Eventfd;

export interface FileLimits {
  /** RLIMIT_NOFILE for every process (default soft limit 1024): no descriptor at or above it; EMFILE. */
  readonly maxFdsPerProcess: number;
  /** /proc/sys/fs/file-max for the namespace: open daemon files in all; ENFILE. */
  readonly maxFiles: number;
}

export const defaultFileLimits: FileLimits = { maxFdsPerProcess: 1024, maxFiles: 65536 };

/** Makes the host mirror of an eventfd (a FIFO in the runtime directory); given by the server. */
export type MirrorFactory = (name: string) => Effect.Effect<HostMirror, Errno>;

export class Files implements ResourceHooks {
  private readonly tables = new Map<number, FdTable<OpenFile>>();
  /** Open files in the namespace (nr_files). */
  open = 0;
  private nextId = 0;
  private nextMirror = 0;
  private mirrors: MirrorFactory | undefined;

  constructor(
    readonly limits: FileLimits,
    /** Where the eventfd actors are made: the namespace's actor system (Kernel); standalone ones without it. */
    private readonly host?: ActorHost,
  ) {}

  setMirrorFactory(f: MirrorFactory | undefined): void {
    this.mirrors = f;
  }

  table(pid: number): FdTable<OpenFile> {
    let t = this.tables.get(pid);
    if (!t) this.tables.set(pid, (t = new FdTable()));
    return t;
  }

  get(pid: number, fd: number): Desc<OpenFile> | undefined {
    return this.tables.get(pid)?.get(fd);
  }

  /** Descriptor numbers of a process, sorted (procfs /proc/PID/fd). */
  list(pid: number): number[] {
    return this.tables.get(pid)?.numbers() ?? [];
  }

  /** What /proc/PID/fdinfo/FD shows, or undefined when the descriptor is not open. */
  fdinfo(pid: number, fd: number): (FdInfo & { readonly cloexec: boolean }) | undefined {
    const d = this.get(pid, fd);
    return d ? { ...d.file.fdinfo(), cloexec: d.cloexec } : undefined;
  }

  hold(f: OpenFile): void {
    f.refs++;
  }

  /** fput: the last reference frees the file. */
  release(f: OpenFile): void {
    if (--f.refs > 0) return;
    this.open--;
    f.free();
  }

  /**
   * do_eventfd: the descriptor first (get_unused_fd_flags: EMFILE), then the file
   * (alloc_empty_file: ENFILE; Linux lets CAP_SYS_ADMIN pass, the daemon limits everyone).
   */
  createEventfd(pid: number, initval: bigint, semaphore: boolean, nonblock: boolean, cloexec: boolean): number | Errno {
    const t = this.table(pid);
    const fd = t.lowestFree(0, this.limits.maxFdsPerProcess);
    if (fd < 0) return errno(E.EMFILE, `no free descriptor below RLIMIT_NOFILE ${this.limits.maxFdsPerProcess}`);
    if (this.open >= this.limits.maxFiles) return errno(E.ENFILE, `${this.open} daemon files are open, the limit (file-max) is ${this.limits.maxFiles}`);
    this.open++;
    const f = new Eventfd(++this.nextId, initval, semaphore, O_RDWR | (nonblock ? O_NONBLOCK : 0), this.host);
    f.refs = 1;
    t.set(fd, { file: f, cloexec }, 0);
    return fd;
  }

  /** fcntl F_SETFD: the descriptor's close-on-exec bit (the caller found it open). */
  setCloexec(pid: number, fd: number, on: boolean): void {
    const d = this.tables.get(pid)?.get(fd);
    if (d) d.cloexec = on;
  }

  /** close(2): EBADF when not open. */
  close(pid: number, fd: number): 0 | Errno {
    const d = this.tables.get(pid)?.remove(fd);
    if (!d) return errno(E.EBADF, `descriptor ${fd} is not open`);
    this.release(d.file);
    return 0;
  }

  /** dup(2) and fcntl F_DUPFD / F_DUPFD_CLOEXEC: the lowest free number >= minfd. */
  dup(pid: number, fd: number, minfd: number, cloexec: boolean): number | Errno {
    const t = this.table(pid);
    const d = t.get(fd);
    if (!d) return errno(E.EBADF, `descriptor ${fd} is not open`);
    const nfd = t.lowestFree(minfd, this.limits.maxFdsPerProcess);
    if (nfd < 0) return errno(E.EMFILE, `no free descriptor from ${minfd} below RLIMIT_NOFILE ${this.limits.maxFdsPerProcess}`);
    this.hold(d.file);
    t.set(nfd, { file: d.file, cloexec }, minfd);
    return nfd;
  }

  /** do_dup2: newfd (checked by the caller) now refers to oldfd's file; what it held is closed. */
  dupTo(pid: number, oldfd: number, newfd: number, cloexec: boolean): number | Errno {
    const t = this.table(pid);
    const d = t.get(oldfd);
    if (!d) return errno(E.EBADF, `descriptor ${oldfd} is not open`);
    this.hold(d.file);
    const old = t.get(newfd);
    t.set(newfd, { file: d.file, cloexec }, Infinity);
    if (old) this.release(old.file);
    return newfd;
  }

  /** The host mirror of an eventfd, made on first use. */
  mirror(f: Eventfd): Effect.Effect<HostMirror, Errno> {
    if (f.host) return Effect.succeed(f.host);
    const make = this.mirrors;
    if (!make) return Effect.fail(errno(E.EOPNOTSUPP, "this daemon has no runtime directory for host mirrors"));
    this.hold(f);
    return make(`efd-${process.pid}-${f.id}-${++this.nextMirror}`).pipe(
      Effect.map((m) => {
        if (f.host) {
          m.close();
        } else if (f.refs === 1) {
          // Every descriptor closed while the FIFO was made: nothing will keep it in step.
          m.close();
        } else {
          f.host = m;
          m.set(f.count > 0n);
        }
        return f.host ?? m;
      }),
      Effect.ensuring(Effect.sync(() => this.release(f))),
    );
  }

  /** Every process's table, for the consistency checker (src/actors/invariants.ts). */
  tableEntries(): IterableIterator<[number, FdTable<OpenFile>]> {
    return this.tables.entries();
  }

  // ResourceHooks

  /** copy_process → dup_fd: the child gets the parent's descriptors, sharing their files. */
  onFork(parent: number, child: number): void {
    const t = this.tables.get(parent);
    if (!t || t.size === 0) return;
    const c = t.copy();
    for (const d of c.fds.values()) this.hold(d.file);
    this.tables.set(child, c);
  }

  /** do_close_on_exec: every FD_CLOEXEC descriptor is closed. */
  onExec(pid: number): void {
    const t = this.tables.get(pid);
    if (!t) return;
    for (const [fd, d] of [...t.fds]) if (d.cloexec) this.close(pid, fd);
  }

  /** exit_files: every descriptor is closed. Idempotent. */
  onExit(pid: number): void {
    const t = this.tables.get(pid);
    if (!t) return;
    this.tables.delete(pid);
    for (const d of t.fds.values()) this.release(d.file);
  }

  /** The daemon is shutting down: every process's descriptors close (and their mirrors go). */
  dispose(): void {
    for (const pid of [...this.tables.keys()]) this.onExit(pid);
  }
}
