/**
 * close, dup, dup2, dup3, fcntl, readiness and poll on daemon descriptors: the rules are
 * fs/file.c's and fs/fcntl.c's in actors/fcntl.ts, fs/select.c's in actors/select.ts.
 */
import type { eventfd } from "../protocol/calls/eventfd.js";
import { dup2, dup3, fcntl } from "../actors/fcntl.js";
import { poll, ready } from "../actors/select.js";
import type { Handlers } from "./types.js";

export const fdCalls: Pick<Handlers<typeof eventfd>, "close" | "dup" | "dup2" | "dup3" | "fcntl" | "ready" | "poll"> = {
  close: (ctx, { fd }) => ctx.k.files.close(ctx.caller.pid, fd),
  dup: (ctx, { fd }) => ctx.k.files.dup(ctx.caller.pid, fd, 0, false),
  dup2: (ctx, { oldfd, newfd }) => dup2(ctx.k.files, ctx.caller.pid, oldfd, newfd),
  dup3: (ctx, { oldfd, newfd, flags }) => dup3(ctx.k.files, ctx.caller.pid, oldfd, newfd, flags, "dup3"),
  fcntl: (ctx, { fd, cmd, arg }) => fcntl(ctx.k, ctx.caller.pid, fd, cmd, arg),
  ready: (ctx, { fd }) => ready(ctx.k.files, ctx.caller.pid, fd),
  poll: (ctx, { fds, events, timeout }) => poll(ctx.k.files, ctx.caller.pid, fds, events, timeout),
};
