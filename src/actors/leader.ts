/**
 * A process's leader thread, represented by its process's actor: the thread state a
 * single-threaded process needs (its thread-directed pending signals, its waits; its mask is
 * this reference's own field, ThreadRef.blocked) is a field of the process's context (machine/process.ts, `leader`), and its events go to
 * the process's actor. Every thread is reached the same way (`Kernel.threads`: this for a
 * leader, a thread actor for any other thread), so the signal, procfs and ptrace code reads
 * and sends as to a thread. One actor per single-threaded process instead of two: a fork,
 * exit and reap no longer spawn, claim, end and stop a second actor (bench/README.md, issue
 * 18's fifth round).
 */
import type { ProcessActor, ThreadActor } from "./kernel.js";
import type { ProcessContext } from "../machine/process.js";
import type { ThreadContext, ThreadEvent } from "../machine/thread.js";

export type ThreadState = "embryo" | "running" | "exited";

/**
 * The leader's lifecycle is its process's: embryo while the process is unclaimed, running
 * while its tid is among the live threads (a thread actor's CLAIM comes with the process's
 * CLAIM), exited once it left them (THREAD_DROP, or the process's DIE, ABORT or native exec,
 * which empty the list). `value` is the process's state.
 */
export function leaderState(value: unknown, c: ProcessContext): ThreadState {
  return !c.threads.has(c.pid) ? "exited" : value === "embryo" ? "embryo" : "running";
}

/** What the kernel reads of a thread: its state and context, as a thread actor's snapshot gives them. */
export interface ThreadSnapshot {
  readonly value: ThreadState;
  /** "active" until the thread has exited ("done"), as an actor's snapshot. */
  readonly status: string;
  readonly context: ThreadContext;
}

/** A thread as the kernel uses it: a thread actor (machine/thread.ts, OtherThread) or a process's leader (LeaderThread). */
export interface ThreadRef {
  readonly id: string;
  /**
   * The thread's signal mask (task->blocked), the one place it is kept: delivery
   * (actors/signal.ts), sig_dequeue and sigpending, kill's doorbell choice, ptrace's requeue,
   * fork's and clone's copy, procfs SigBlk, `inspect` and the records of `blinkd events` all
   * read it here. A plain field, not machine context: a shell blocks and unblocks around
   * every fork, and each change as an xstate event (a macrostep, its snapshot, its
   * inspection) cost the daemon ~65 µs where the change itself is an assignment
   * (bench/README.md, issue 18). Only sigprocmask (set_current_blocked) and execve's
   * de_thread change it; the former still delivers what the change unblocked.
   */
  blocked: bigint;
  getSnapshot(): ThreadSnapshot;
  send(e: ThreadEvent): void;
}

/**
 * A thread's context as `inspect` and the records show it: the actor's context with the mask
 * in the place it had when it was a field of that context.
 */
export function threadView(c: ThreadContext, blocked: bigint): Record<string, unknown> {
  const { tid, pid, ...rest } = c;
  return { tid, pid, blocked, ...rest };
}

/**
 * Both kinds of ThreadRef are made, mask and all, before their actor: its spawn record (actors/eventlog.ts)
 * reads the mask from `Kernel.threads`.
 */
export class LeaderThread implements ThreadRef {
  readonly id: string;
  /** Set by Kernel.spawnProcess right after this reference is made. */
  proc!: ProcessActor;

  constructor(
    pid: number,
    public blocked: bigint,
  ) {
    this.id = `thread:${pid}`;
  }

  getSnapshot(): ThreadSnapshot {
    const s = this.proc.getSnapshot();
    const value = leaderState(s.value, s.context);
    return { value, status: value === "exited" ? "done" : "active", context: s.context.leader };
  }

  /** A thread actor's events, as the process's: CLAIM, EXIT and ABORT are the process's own lifecycle, so they change nothing here. */
  send(e: ThreadEvent): void {
    switch (e.type) {
      case "SET_WAITING":
      case "SET_WATCHED":
        return this.proc.send(e);
      case "PENDING":
        return this.proc.send({ type: "THREAD_PENDING", pending: e.pending });
      case "SET_COMM":
        return this.proc.send({ type: "THREAD_COMM", comm: e.comm });
      case "CLAIM":
      case "EXIT":
      case "ABORT":
        return;
    }
  }
}

/** A thread other than its process's leader: its own thread actor, and its mask beside it. */
export class OtherThread implements ThreadRef {
  readonly id: string;
  /** Set by Kernel.spawnThread right after this reference is made. */
  actor!: ThreadActor;

  constructor(
    tid: number,
    public blocked: bigint,
  ) {
    this.id = `thread:${tid}`;
  }

  getSnapshot(): ThreadSnapshot {
    return this.actor.getSnapshot() as ThreadSnapshot;
  }

  send(e: ThreadEvent): void {
    this.actor.send(e);
  }
}
