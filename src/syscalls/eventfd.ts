/** eventfd2, and read and write on an eventfd: fs/eventfd.c's rules, blocking through park. */
import * as Effect from "effect/Effect";
import { E, Errno, errno } from "../protocol/errno.js";
import type { eventfd } from "../protocol/calls/eventfd.js";
import { NOT_READY, park } from "../actors/park.js";
import type { Files, OpenFile } from "../actors/files.js";
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, O_NONBLOCK } from "../protocol/fdconst.js";
import type { Eventfd } from "../actors/eventfd.js";
import { ULLONG_MAX } from "../machine/eventfd.js";
import type { CallCtx, Handlers } from "./types.js";

const EFD_FLAGS_SET = EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK;

/** sizeof(__u64): the size of every eventfd read and write. */
const SIZE = 8;

/** fdget, then the file must be an eventfd (the only kind of daemon file so far). */
export function eventfdOf(ctx: CallCtx, fd: number): Eventfd | Errno {
  const d = ctx.k.files.get(ctx.caller.pid, fd);
  if (!d) return errno(E.EBADF, `descriptor ${fd} is not open`);
  return d.file;
}

/** A call that may park keeps its file alive until it replies, as fdget does in read(2). */
function holding<A>(files: Files, f: OpenFile, eff: Effect.Effect<A, Errno>): Effect.Effect<A, Errno> {
  files.hold(f);
  return Effect.ensuring(eff, Effect.sync(() => files.release(f)));
}

type ReadOk = { result: number; out: { value: bigint } };

export const eventfdCalls: Pick<Handlers<typeof eventfd>, "eventfd2" | "eventfd_read" | "eventfd_write" | "eventfd_host" | "eventfd_info"> = {
  eventfd2: (ctx, { initval, flags }) => {
    // do_eventfd: "if (flags & ~EFD_FLAGS_SET) return -EINVAL;"
    if (flags & ~EFD_FLAGS_SET) return errno(E.EINVAL, `eventfd2.flags: unknown bits 0${((flags & ~EFD_FLAGS_SET) >>> 0).toString(8)} (allowed: EFD_SEMAPHORE 1, EFD_NONBLOCK 04000, EFD_CLOEXEC 02000000)`);
    return ctx.k.files.createEventfd(ctx.caller.pid, BigInt(initval), (flags & EFD_SEMAPHORE) !== 0, (flags & EFD_NONBLOCK) !== 0, (flags & EFD_CLOEXEC) !== 0);
  },

  eventfd_read: (ctx, { fd, size }) => {
    const f = eventfdOf(ctx, fd);
    if (f instanceof Errno) return f;
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
    return holding(ctx.k.files, f, park(ctx.interruptible, () => [f.wq], attempt));
  },

  eventfd_write: (ctx, { fd, value, size }) => {
    const f = eventfdOf(ctx, fd);
    if (f instanceof Errno) return f;
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
    return holding(ctx.k.files, f, park(ctx.interruptible, () => [f.wq], attempt));
  },

  eventfd_host: (ctx, { fd }) => {
    const f = eventfdOf(ctx, fd);
    if (f instanceof Errno) return f;
    return ctx.k.files.mirror(f).pipe(Effect.map((m) => ({ result: 0, out: { path: m.path } })));
  },

  eventfd_info: (ctx, { fd }) => {
    const d = ctx.k.files.get(ctx.caller.pid, fd);
    if (!d) return errno(E.EBADF, `descriptor ${fd} is not open`);
    const i = d.file.fdinfo();
    return { result: 0, out: { count: i.count, flags: i.flags, semaphore: i.semaphore, id: i.id, cloexec: d.cloexec, waiters: d.file.wq.size } };
  },
};
