/** wait4: selecting children, reaping zombies, blocking until one changes state. */
import { E, errno, type Errno } from "../protocol/errno.js";
import type { wait } from "../protocol/calls/wait.js";
import { reap } from "../actors/lifecycle.js";
import { NOT_READY, park, type Attempt } from "../actors/park.js";
import type { Kernel } from "../actors/kernel.js";
import type { ProcessContext } from "../machine/process.js";
import type { Handlers } from "./types.js";

// include/uapi/linux/wait.h
export const WNOHANG = 0x00000001;
export const WUNTRACED = 0x00000002;
export const WEXITED = 0x00000004;
export const WCONTINUED = 0x00000008;
export const WNOWAIT = 0x01000000;
export const __WNOTHREAD = 0x20000000;
export const __WALL = 0x40000000;
export const __WCLONE = 0x80000000 | 0;

const SIGCHLD = 17;

type Selector = { readonly kind: "pid"; readonly pid: number } | { readonly kind: "any" } | { readonly kind: "pgid"; readonly pgid: number };

/** eligible_child (kernel/exit.c): the selector, then __WALL / __WCLONE against the exit signal. */
function eligible(sel: Selector, pid: number, c: ProcessContext, options: number): boolean {
  if (sel.kind === "pid" ? pid !== sel.pid : sel.kind === "pgid" ? c.pgid !== sel.pgid : false) return false;
  // "Wait for all children (clone and not) if __WALL is set; otherwise, wait for clone
  // children *only* if __WCLONE is set; otherwise, wait for non-clone children *only*."
  // Every child here exits with SIGCHLD, so none is a clone child.
  const isClone = (c as { exitSignal?: number }).exitSignal !== undefined && (c as { exitSignal?: number }).exitSignal !== SIGCHLD;
  return (options & __WALL) !== 0 || ((options & __WCLONE) !== 0) === isClone;
}

type WaitOk = { result: number; out: { wstatus: number } };

function attempt(k: Kernel, caller: number, sel: Selector, options: number): Attempt<WaitOk> {
  const me = k.ctx(caller);
  if (!me) return errno(E.ESRCH);
  let any = false;
  const candidates = sel.kind === "pid" ? (me.children.has(sel.pid) ? [sel.pid] : []) : me.children;
  for (const child of candidates) {
    const c = k.ctx(child);
    if (!c || !eligible(sel, child, c, options)) continue;
    any = true;
    if (k.state(child) === "zombie") return { result: child, out: { wstatus: reap(k, child) } };
  }
  // do_wait: no eligible child at all is ECHILD; some, none ready: WNOHANG returns 0.
  if (!any) return errno(E.ECHILD);
  if (options & WNOHANG) return { result: 0, out: { wstatus: 0 } };
  return NOT_READY;
}

export const waitCalls: Handlers<typeof wait> = {
  wait4: (ctx, { pid, options }) => {
    // kernel_wait4: unknown option bits are EINVAL; -INT_MIN is not defined, so ESRCH.
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) return errno(E.EINVAL, `wait4.options: unknown bits ${(options >>> 0).toString(16)}`);
    if (pid === -0x80000000) return errno(E.ESRCH);
    const me = ctx.k.ctx(ctx.caller.pid);
    if (!me) return errno(E.ESRCH);
    const sel: Selector = pid === -1 ? { kind: "any" } : pid < 0 ? { kind: "pgid", pgid: -pid } : pid === 0 ? { kind: "pgid", pgid: me.pgid } : { kind: "pid", pid };
    const first = attempt(ctx.k, ctx.caller.pid, sel, options);
    if (first !== NOT_READY) return first as WaitOk | Errno;
    return park(ctx.interruptible, () => [ctx.k.waitQueue(ctx.caller.pid)], () => attempt(ctx.k, ctx.caller.pid, sel, options));
  },
};
