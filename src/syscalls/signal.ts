/** Signal dispositions the guest reports; the rules that read them live where they apply. */
import { E, errno } from "../protocol/errno.js";
import type { signal } from "../protocol/calls/signal.js";
import type { Handlers } from "./types.js";

export const SIGKILL = 9;
export const SIGSTOP = 19;
/** _NSIG on x86-64 Linux. */
export const NSIG = 64;

export const SIG_DFL = 0;
export const SIG_IGN = 1;
export const SIG_HANDLER = 2;

export const signalCalls: Handlers<typeof signal> = {
  rt_sigaction: (ctx, { signo, handler, flags }) => {
    // do_sigaction (kernel/signal.c): "if (!valid_signal(sig) || sig < 1 || (act && sig_kernel_only(sig))) return -EINVAL";
    // a signal number outside 1.._NSIG, or changing SIGKILL/SIGSTOP, is EINVAL.
    if (signo < 1 || signo > NSIG) return errno(E.EINVAL, `rt_sigaction.signo: ${signo} is not a signal (1..${NSIG})`);
    if (signo === SIGKILL || signo === SIGSTOP) return errno(E.EINVAL, `rt_sigaction: the disposition of signal ${signo} cannot be changed`);
    if (handler > SIG_HANDLER) return errno(E.EINVAL, `rt_sigaction.handler: expected 0 (SIG_DFL), 1 (SIG_IGN) or 2 (a handler), got ${handler}`);
    ctx.k.proc(ctx.caller.pid)?.send({ type: "SIGACTION", signo, handler, flags });
    return 0;
  },
};
