/** setpgid, getpgid, getpgrp, setsid, getsid: the rules are kernel/sys.c's, in actors/sys.ts. */
import type { group } from "../protocol/calls/group.js";
import { idsOf, setpgid, setsid } from "../actors/sys.js";
import type { Handlers } from "./types.js";

export const groupCalls: Handlers<typeof group> = {
  setpgid: (ctx, { pid, pgid }) => setpgid(ctx.k, ctx.caller.pid, pid, pgid),
  getpgid: (ctx, { pid }) => idsOf(ctx.k, ctx.caller.pid, pid, "pgid"),
  getpgrp: (ctx) => idsOf(ctx.k, ctx.caller.pid, 0, "pgid"),
  setsid: (ctx) => setsid(ctx.k, ctx.caller.pid),
  getsid: (ctx, { pid }) => idsOf(ctx.k, ctx.caller.pid, pid, "sid"),
};
