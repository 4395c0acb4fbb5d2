/**
 * fs/eventfd.c. An eventfd's open file (struct file over struct eventfd_ctx): the eventfd
 * actor that owns the counter (its rules: machine/eventfd.ts), the file's status flags
 * (O_NONBLOCK is per open file, shared by dup and fork), its wait queue (ctx->wqh, shared by
 * blocked readers, writers and pollers), its references (descriptors in any process, and
 * calls in flight), and the optional host mirror for epoll. Then the calls: eventfd2,
 * read and write with their EINVAL and EAGAIN rules and blocking through park.
 */
import { createActor, type Actor } from "xstate";
import { AGAIN, EFD_MAX, ULLONG_MAX, canRead, canWrite, eventfdMachine, type EventfdOutcome, type EventfdState } from "../machine/eventfd.js";
import { WaitQueue } from "./waitqueue.js";
import { E, errno, type Errno } from "../protocol/errno.js";
import { NOT_READY, park, type Parked } from "./park.js";
import type { Files } from "./files.js";
import type { ActorHost } from "./kernel.js";

import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, O_NONBLOCK, POLLIN, POLLOUT } from "../protocol/fdconst.js";

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
    /** f_flags: O_RDWR | O_NONBLOCK as eventfd2 opened it, changed by F_SETFL (setFlags). */
    private fFlags: number,
    private readonly actors?: ActorHost,
  ) {
    const input = { id, count: initval, semaphore };
    this.actor = actors ? actors.spawn(eventfdMachine, `eventfd:${id}`, input) : createActor(eventfdMachine, { input, id: `eventfd:${id}` }).start();
  }

  /** f_flags (O_RDWR, O_NONBLOCK, …): per open file, shared by dup and fork. */
  get flags(): number {
    return this.fFlags;
  }

  /** fcntl F_SETFL (setfl): the open file's new status flags. */
  setFlags(flags: number): void {
    this.fFlags = flags;
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
    if (this.actors) this.actors.release(this.actor);
    else this.actor.stop();
    this.host?.close();
    this.host = undefined;
  }
}

const EFD_FLAGS_SET = EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK;

/** sizeof(__u64): the size of every eventfd read and write. */
const SIZE = 8;

/** do_eventfd: "if (flags & ~EFD_FLAGS_SET) return -EINVAL;", then the descriptor and the file (Files.createEventfd). */
export function eventfd2(files: Files, pid: number, initval: number, flags: number): number | Errno {
  if (flags & ~EFD_FLAGS_SET) return errno(E.EINVAL, `eventfd2.flags: unknown bits 0${((flags & ~EFD_FLAGS_SET) >>> 0).toString(8)} (allowed: EFD_SEMAPHORE 1, EFD_NONBLOCK 04000, EFD_CLOEXEC 02000000)`);
  return files.createEventfd(pid, BigInt(initval), (flags & EFD_SEMAPHORE) !== 0, (flags & EFD_NONBLOCK) !== 0, (flags & EFD_CLOEXEC) !== 0);
}

/** fdget, then the file must be an eventfd (the only kind of daemon file so far). */
export function eventfdOf(files: Files, pid: number, fd: number): Eventfd | Errno {
  const d = files.get(pid, fd);
  if (!d) return errno(E.EBADF, `descriptor ${fd} is not open`);
  return d.file;
}

/** A call that may park keeps its file alive until it replies, as fdget does in read(2). */
function holding<A>(files: Files, f: Eventfd, p: Parked<A>): Parked<A> {
  files.hold(f);
  return p.finally(() => files.release(f));
}

export type ReadOk = { result: number; out: { value: bigint } };

/** eventfd_read_iter: the counter (or 1 in semaphore mode), EAGAIN when it is 0 and the file is O_NONBLOCK, else a wait until it is not. */
export function eventfdRead(files: Files, pid: number, fd: number, size: number): ReadOk | Errno | Parked<ReadOk> {
  const f = eventfdOf(files, pid, fd);
  if (!(f instanceof Eventfd)) return f;
  // eventfd_read_iter: "if (iov_iter_count(to) < sizeof(ucnt)) return -EINVAL;"
  if (size < SIZE) return errno(E.EINVAL, `eventfd_read.size: ${size} is less than 8 bytes`);
  const attempt = (): ReadOk | typeof NOT_READY => {
    const o = f.read();
    return o.ok ? { result: SIZE, out: { value: o.value } } : NOT_READY;
  };
  const first = attempt();
  if (first !== NOT_READY) return first;
  // "if (file->f_flags & O_NONBLOCK ...) return -EAGAIN;" else wait until ctx->count.
  if (f.flags & O_NONBLOCK) return errno(E.EAGAIN);
  return holding(files, f, park(() => [f.wq], attempt));
}

/** eventfd_write: the value added, EAGAIN when it would overflow and the file is O_NONBLOCK, else a wait until it fits. */
export function eventfdWrite(files: Files, pid: number, fd: number, value: bigint, size: number): number | Errno | Parked<number> {
  const f = eventfdOf(files, pid, fd);
  if (!(f instanceof Eventfd)) return f;
  // eventfd_write since Linux 6.6 ("eventfd: strictly check the count parameter of
  // eventfd_write"): "if (count != sizeof(ucnt)) return -EINVAL;" (eventfd(2) still says
  // "fewer than 8"; real 6.x kernels refuse any size but 8), then
  // "if (ucnt == ULLONG_MAX) return -EINVAL;".
  if (size !== SIZE) return errno(E.EINVAL, `eventfd_write.size: ${size} bytes; a write to an eventfd is exactly 8`);
  if (value === ULLONG_MAX) return errno(E.EINVAL, "eventfd_write.value: 0xffffffffffffffff is not a valid count");
  const attempt = (): number | typeof NOT_READY => (f.write(value).ok ? SIZE : NOT_READY);
  const first = attempt();
  if (first !== NOT_READY) return first;
  // "else if (!(file->f_flags & O_NONBLOCK))" waits until ULLONG_MAX - ctx->count > ucnt; else -EAGAIN.
  if (f.flags & O_NONBLOCK) return errno(E.EAGAIN);
  return holding(files, f, park(() => [f.wq], attempt));
}
