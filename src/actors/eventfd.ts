/**
 * An eventfd's open file (struct file over struct eventfd_ctx): the eventfd actor that owns
 * the counter, the file's status flags (O_NONBLOCK is per open file, shared by dup and fork),
 * its wait queue (ctx->wqh, shared by blocked readers, writers and pollers), its references
 * (descriptors in any process, and calls in flight), and the optional host mirror for epoll.
 */
import { createActor, type Actor, type AnyActorRef } from "xstate";
import { AGAIN, EFD_MAX, canRead, canWrite, eventfdMachine, type EventfdOutcome, type EventfdState } from "../machine/eventfd.js";
import { WaitQueue } from "./waitqueue.js";

import { POLLIN, POLLOUT } from "../protocol/fdconst.js";

/** A real host file descriptor whose readability follows the eventfd's (for host epoll). */
export interface HostMirror {
  /** The path a client opens (O_RDONLY | O_NONBLOCK) and adds to its epoll set. */
  readonly path: string;
  /** Readable on the host exactly while `readable` is true. */
  set(readable: boolean): void;
  close(): void;
}

export interface FdInfo {
  readonly pos: number;
  /** f_flags, printed in octal by fdinfo ("flags:\t0%o"). */
  readonly flags: number;
  /** "eventfd-count: %16llx" */
  readonly count: bigint;
  /** "eventfd-id: %d" */
  readonly id: number;
  /** "eventfd-semaphore: %d" */
  readonly semaphore: boolean;
}

export class Eventfd {
  readonly kind = "eventfd" as const;
  readonly actor: Actor<typeof eventfdMachine>;
  readonly wq = new WaitQueue();
  /** Descriptors and calls in flight that hold this file (f_count). */
  refs = 0;
  host: HostMirror | undefined;

  constructor(
    readonly id: number,
    initval: bigint,
    semaphore: boolean,
    /** f_flags: O_RDWR | O_NONBLOCK as eventfd2 opened it, changed by F_SETFL. */
    public flags: number,
    watch?: (a: AnyActorRef) => void,
  ) {
    this.actor = createActor(eventfdMachine, { input: { id, count: initval, semaphore }, id: `eventfd:${id}` });
    this.actor.start();
    watch?.(this.actor);
  }

  get count(): bigint {
    return this.actor.getSnapshot().context.count;
  }

  get semaphore(): boolean {
    return this.actor.getSnapshot().context.semaphore;
  }

  get state(): EventfdState {
    const v = this.actor.getSnapshot().value;
    return typeof v === "string" ? (v as EventfdState) : ((v as { open: EventfdState }).open);
  }

  /** One read attempt; on success the counter changed and the waiters are woken. */
  read(): EventfdOutcome {
    // A read that must wait changes nothing: answered from the snapshot with the machine's own
    // guard, without an xstate macrostep (the usual first attempt of a read that then parks).
    if (!canRead(this.actor.getSnapshot().context)) return AGAIN;
    this.actor.send({ type: "READ" });
    const o = this.actor.getSnapshot().context.last;
    // eventfd_read_iter: "if (waitqueue_active(&ctx->wqh)) wake_up_locked_poll(&ctx->wqh, EPOLLOUT);"
    if (o.ok) this.changed();
    return o;
  }

  /** One write attempt; on success the counter changed and the waiters are woken. */
  write(value: bigint): EventfdOutcome {
    if (!canWrite(this.actor.getSnapshot().context, value)) return AGAIN;
    this.actor.send({ type: "WRITE", value });
    const o = this.actor.getSnapshot().context.last;
    // eventfd_write: "if (waitqueue_active(&ctx->wqh)) wake_up_locked_poll(&ctx->wqh, EPOLLIN);"
    if (o.ok) this.changed();
    return o;
  }

  private changed(): void {
    this.host?.set(this.count > 0n);
    this.wq.wake();
  }

  /**
   * eventfd_poll: "if (count > 0) events |= EPOLLIN; if (count == ULLONG_MAX) events |= EPOLLERR;
   * if (ULLONG_MAX - 1 > count) events |= EPOLLOUT;" (the counter never reaches ULLONG_MAX here:
   * only the in-kernel eventfd_signal can overflow it).
   */
  revents(): number {
    const c = this.count;
    return (c > 0n ? POLLIN : 0) | (c < EFD_MAX ? POLLOUT : 0);
  }

  fdinfo(): FdInfo {
    return { pos: 0, flags: this.flags, count: this.count, id: this.id, semaphore: this.semaphore };
  }

  /** The last reference is gone (eventfd_release → eventfd_free_ctx). */
  free(): void {
    this.actor.send({ type: "FREE" });
    this.actor.stop();
    this.host?.close();
    this.host = undefined;
  }
}
