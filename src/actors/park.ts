/**
 * Parking a blocking call, on plain callbacks (a fiber per parked call cost the daemon
 * Effect's runtime on every blocking wait4: bench/README.md, issue 18's fifth round).
 * `attempt` checks and, if it can, takes its value (reaps the zombie, reads the counter) in
 * one synchronous step, and the connection writes the reply in that same step. A cancel (a
 * signal's interrupt, the connection's close, the thread's end) therefore lands either
 * before the value was taken (the call replies -512, ERESTARTSYS, which the client turns
 * into EINTR or a restart under SA_RESTART, and nothing was consumed) or after (the real
 * result was replied, and the cancel finds nothing to do): never between, so nothing is
 * lost or counted twice.
 */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { WaitQueue } from "./waitqueue.js";

export const NOT_READY: unique symbol = Symbol("NOT_READY");
export type Attempt<A> = A | Errno | typeof NOT_READY;

export interface ParkOptions<A> {
  /** Absolute deadline on `now`'s clock; a restarted call keeps it, so it never extends. */
  readonly deadline?: number;
  readonly now?: () => number;
  /** The result when the deadline passes. */
  readonly onTimeout?: () => A | Errno;
}

/**
 * A call waiting on its wait queues until `attempt` has its value, its deadline passes, or
 * it is cancelled. Made by `park`, started by the connection that owns the call.
 */
export class Parked<A> {
  /** Typed loosely so a `Parked<number>` is a `Parked<number | bigint>` (A only comes out of it). */
  private done: ((r: unknown) => void) | undefined;
  private over = false;
  private timer: NodeJS.Timeout | undefined;
  private sleepingOn: readonly WaitQueue[] = [];
  private cancelHooks: (() => void)[] | undefined;
  private finallyHooks: (() => void)[] | undefined;
  private readonly now: () => number;
  /** Woken, its re-check queued and not yet run (actors/chldreply.ts leaves a held ring to that check). */
  waking = false;
  /** A wake re-checks in a microtask, as a resumed fiber did: never inside the waker's caller (an actor's exit, mid-step). */
  private readonly waker = (): void => {
    this.unsleep();
    this.waking = true;
    queueMicrotask(this.step);
  };
  private readonly step = (): void => {
    this.waking = false;
    if (this.over) return;
    this.tryOrSleep(true);
  };

  constructor(
    private readonly queues: () => readonly WaitQueue[],
    private readonly attempt: () => Attempt<A>,
    private readonly opts: ParkOptions<A>,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Runs when the call is cancelled before it had its value (ptrace's abandoned request). */
  onCancel(f: () => void): this {
    (this.cancelHooks ??= []).push(f);
    return this;
  }

  /** Runs once when the call is over, however it ended (a file held for the call, released). */
  finally(f: () => void): this {
    (this.finallyHooks ??= []).push(f);
    return this;
  }

  /**
   * Sleeps at once: `park`'s caller has just tried, in the same synchronous step, and found
   * nothing. `done` gets the outcome once, unless the call is cancelled first.
   */
  start(done: (r: A | Errno) => void): void {
    this.done = done as (r: unknown) => void;
    this.tryOrSleep(false);
  }

  /** Cancels the wait if it is still waiting: true when it was (the caller replies ERESTARTSYS), false when its value was already taken. */
  cancel(): boolean {
    if (this.over) return false;
    this.over = true;
    this.unsleep();
    try {
      if (this.cancelHooks) for (const f of this.cancelHooks) f();
    } finally {
      this.runFinally();
    }
    return true;
  }

  private tryOrSleep(tryFirst: boolean): void {
    const { deadline } = this.opts;
    const r = this.guarded(() => {
      const got = tryFirst ? this.attempt() : NOT_READY;
      if (got !== NOT_READY || deadline === undefined || this.now() < deadline) return got;
      return this.timeoutResult();
    });
    if (r !== NOT_READY) return this.finish(r);
    this.sleepingOn = this.queues();
    for (const q of this.sleepingOn) q.add(this.waker);
    if (deadline !== undefined) this.timer = setTimeout(this.timedOut, Math.max(0, deadline - this.now()));
  }

  private readonly timedOut = (): void => {
    this.timer = undefined;
    if (this.over) return;
    this.unsleep();
    const again = this.guarded(() => {
      const got = this.attempt();
      return got !== NOT_READY ? got : this.timeoutResult();
    });
    this.finish(again as A | Errno);
  };

  private timeoutResult(): A | Errno {
    return this.opts.onTimeout ? this.opts.onTimeout() : (undefined as A);
  }

  /** A throw in the call's own code is a bug: the call fails with EIO rather than the daemon. */
  private guarded(f: () => Attempt<A>): Attempt<A> {
    try {
      return f();
    } catch (e) {
      return errno(E.EIO, `internal error in a parked call: ${(e as Error).message}`);
    }
  }

  private unsleep(): void {
    for (const q of this.sleepingOn) q.delete(this.waker);
    this.sleepingOn = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private finish(r: A | Errno): void {
    if (this.over) return;
    this.over = true;
    this.unsleep();
    this.runFinally();
    this.done?.(r);
  }

  private runFinally(): void {
    const hooks = this.finallyHooks;
    this.finallyHooks = undefined;
    if (hooks) for (const f of hooks) f();
  }
}

/**
 * Parks a call whose handler has just tried (`attempt` gave NOT_READY) in the same
 * synchronous step: it sleeps on `queues()` and tries again at each wake.
 */
export function park<A>(queues: () => readonly WaitQueue[], attempt: () => Attempt<A>, opts: ParkOptions<A> = {}): Parked<A> {
  return new Parked(queues, attempt, opts);
}
