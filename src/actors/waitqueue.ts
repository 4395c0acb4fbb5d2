/**
 * A wait queue, as the kernel's wait_queue_head: parked calls add a waker, and whoever
 * changes the state they wait on wakes them. A woken call re-checks its condition, so a
 * spurious wake costs a check, never a wrong answer.
 */
export class WaitQueue {
  private readonly waiters = new Set<() => void>();

  add(w: () => void): void {
    this.waiters.add(w);
  }

  delete(w: () => void): void {
    this.waiters.delete(w);
  }

  get size(): number {
    return this.waiters.size;
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) w();
  }
}
