/** eventfd2, and read and write on an eventfd: fs/eventfd.c's rules are in actors/eventfd.ts. */
import * as Effect from "effect/Effect";
import { E, Errno, errno } from "../protocol/errno.js";
import type { eventfd } from "../protocol/calls/eventfd.js";
import { eventfd2, eventfdOf, eventfdRead, eventfdWrite } from "../actors/eventfd.js";
import type { Handlers } from "./types.js";

export const eventfdCalls: Pick<Handlers<typeof eventfd>, "eventfd2" | "eventfd_read" | "eventfd_write" | "eventfd_host" | "eventfd_info"> = {
  eventfd2: (ctx, { initval, flags }) => eventfd2(ctx.k.files, ctx.caller.pid, initval, flags),
  eventfd_read: (ctx, { fd, size }) => eventfdRead(ctx.k.files, ctx.caller.pid, fd, size),
  eventfd_write: (ctx, { fd, value, size }) => eventfdWrite(ctx.k.files, ctx.caller.pid, fd, value, size),
  eventfd_host: (ctx, { fd }) => {
    const f = eventfdOf(ctx.k.files, ctx.caller.pid, fd);
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
