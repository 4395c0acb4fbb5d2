/**
 * One process's descriptor table for daemon-owned files (struct files_struct / fdtable):
 * descriptor number → open file and the per-descriptor FD_CLOEXEC bit. Threads of a process
 * share it (CLONE_FILES); fork copies it (dup_fd). Numbers are allocated lowest-first from a
 * hint, as alloc_fd does with files->next_fd, so allocation does not rescan from 0.
 */
export interface Desc<F> {
  readonly file: F;
  cloexec: boolean;
}

export class FdTable<F> {
  readonly fds = new Map<number, Desc<F>>();
  /** files->next_fd: no descriptor below it is free. */
  private nextFd = 0;

  get size(): number {
    return this.fds.size;
  }

  get(fd: number): Desc<F> | undefined {
    return this.fds.get(fd);
  }

  /** alloc_fd: the lowest free number >= start, or -1 when none is below `end`. */
  lowestFree(start: number, end: number): number {
    let fd = Math.max(start, this.nextFd);
    while (fd < end && this.fds.has(fd)) fd++;
    return fd < end ? fd : -1;
  }

  /** Installs at a number the caller found free (or replaces, for dup2/dup3). */
  set(fd: number, d: Desc<F>, start: number): void {
    this.fds.set(fd, d);
    // alloc_fd: "if (start <= files->next_fd) files->next_fd = fd + 1;"
    if (start <= this.nextFd && fd === this.nextFd) {
      let n = fd + 1;
      while (this.fds.has(n)) n++;
      this.nextFd = n;
    }
  }

  /** Removes a descriptor; returns it. __put_unused_fd: "if (fd < files->next_fd) files->next_fd = fd;" */
  remove(fd: number): Desc<F> | undefined {
    const d = this.fds.get(fd);
    if (!d) return undefined;
    this.fds.delete(fd);
    if (fd < this.nextFd) this.nextFd = fd;
    return d;
  }

  /** dup_fd: a copy for a forked child, same open files, same FD_CLOEXEC bits. */
  copy(): FdTable<F> {
    const t = new FdTable<F>();
    for (const [fd, d] of this.fds) t.fds.set(fd, { file: d.file, cloexec: d.cloexec });
    t.nextFd = this.nextFd;
    return t;
  }

  /** Sorted descriptor numbers (for procfs's fd directory). */
  numbers(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }
}
