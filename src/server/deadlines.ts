/**
 * Deadlines of one fixed length (the handshake timeout of every new connection) behind a
 * single timer. A Node.js timer per connection, armed at its accept and cleared at its
 * hello, costs each process the creation of a timer list, its insertion in the timers'
 * priority queue and libuv's timer restart (that list empties at every hello, so each
 * accept builds it again: ~40–50 µs of the daemon per dash iteration by profile,
 * bench/README.md). Deadlines of one length expire in the order they were set, so a queue
 * and one timer armed for its first live deadline give each the same moment: setting one
 * is a push, cancelling one drops its callback; the timer runs about once per `ms` while
 * connections come, where each connection armed and cleared one.
 */
interface Entry {
  readonly at: number;
  run: (() => void) | undefined;
}

export interface Deadline {
  cancel(): void;
}

export class Deadlines {
  private readonly queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ms: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `run` once `ms` have passed, unless cancelled first. The timer does not hold the event loop open (unref). */
  set(run: () => void): Deadline {
    const e: Entry = { at: this.now() + this.ms, run };
    this.queue.push(e);
    if (!this.timer) this.arm(this.ms);
    return { cancel: () => void (e.run = undefined) };
  }

  /** Deadlines set and not yet run or dropped (cancelled ones included until their moment passes). */
  get size(): number {
    return this.queue.length - this.head;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.expire, Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.now();
    // The due ones run; then the cancelled ones ahead of the first live deadline go too, so
    // the timer is armed for a deadline still set (most are cancelled by a hello within
    // milliseconds: armed for each one in turn, the timer would still run once per connection).
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (e.at > now && e.run) break;
      this.queue[this.head++] = undefined as unknown as Entry;
      const run = e.run;
      e.run = undefined;
      run?.();
    }
    // The queue's front is dropped in one splice once it is most of the array.
    if (this.head > 1024 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), (this.head = 0);
    if (this.head === this.queue.length) (this.queue.length = 0), (this.head = 0);
    else if (!this.timer) this.arm(this.queue[this.head]!.at - now);
  };
}
