/**
 * A process's leader thread, represented by its process's actor: the thread state a
 * single-threaded process needs (its mask, its thread-directed pending signals, its waits)
 * is a field of the process's context (machine/process.ts, `leader`), and its events go to
 * the process's actor. Every thread is reached the same way (`Kernel.threads`: this for a
 * leader, a thread actor for any other thread), so the signal, procfs and ptrace code reads
 * and sends as to a thread. One actor per single-threaded process instead of two: a fork,
 * exit and reap no longer spawn, claim, end and stop a second actor (bench/README.md, issue
 * 18's fifth round).
 */
import type { ProcessActor } from "./kernel.js";
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

/** A thread as the kernel uses it: a thread actor (machine/thread.ts) or a process's leader (LeaderThread). */
export interface ThreadRef {
  readonly id: string;
  getSnapshot(): ThreadSnapshot;
  send(e: ThreadEvent): void;
}

export class LeaderThread implements ThreadRef {
  readonly id: string;

  constructor(private readonly proc: ProcessActor) {
    this.id = `thread:${proc.getSnapshot().context.pid}`;
  }

  getSnapshot(): ThreadSnapshot {
    const s = this.proc.getSnapshot();
    const value = leaderState(s.value, s.context);
    return { value, status: value === "exited" ? "done" : "active", context: s.context.leader };
  }

  /** A thread actor's events, as the process's: CLAIM, EXIT and ABORT are the process's own lifecycle, so they change nothing here. */
  send(e: ThreadEvent): void {
    switch (e.type) {
      case "SET_BLOCKED":
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
