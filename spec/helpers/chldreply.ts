/**
 * A blocking wait's SIGCHLD in its reply (wait4_sigchld, waitid_sigchld; src/actors/chldreply.ts),
 * spec/native/chldreply.c at `where` (blinkd's preload, or blink): the handler runs before the
 * wait returns, once, with Linux's siginfo and mask, against Linux (`unshare --pid --fork
 * --mount-proc`); and the daemon's trace shows it came with the reply, not through a doorbell
 * and a sig_dequeue, but where another signal is pending. spec/native.chldreply.test.ts and
 * spec/blink.signals.test.ts run them.
 */
import { describe, expect, it } from "vitest";
import type { Where } from "./launch.js";
import { nativeAsLinux } from "./programs.js";
import { buildNative } from "./native.js";
import { traced } from "./traced.js";

export function chldReplySuites(where: Exclude<Where, "linux">): void {
  describe("a child's SIGCHLD and the parent's blocking wait, as on Linux", () => {
    it.each([
      ["20 waits: each returns after one run of the SA_SIGINFO handler, with the child's si_pid, si_code, si_status, and SIGCHLD and sa_mask blocked in it", "info 20", "info: 20 waits, 20 returned after one run of the handler with the child's siginfo and mask, 10 exited, 10 killed, 20 runs in all\n"],
      ["waitid: the same", "waitid", "waitid: returned 0, si_code 1 si_status 7, handler ran 1 time(s), before the return, with the child's siginfo\n"],
      // get_signal: "if (ka->sa.sa_flags & SA_ONESHOT) ka->sa.sa_handler = SIG_DFL;"
      ["SA_RESETHAND: one run, then SIG_DFL, and the second child's SIGCHLD runs nothing", "resethand", "resethand: 1 run(s) at the first wait, then SIG_DFL, 1 run(s) in all\n"],
      // A blocked signal stays pending (its doorbell too); the SIGCHLD is delivered past it.
      ["SIGUSR1 blocked and pending: SIGCHLD's handler before the return, SIGUSR1's at the unblock", "pending", "pending: at the return: c\npending: unblocked: cu\n"],
      // The child's SIGUSR1 ends the wait (ERESTARTSYS, SA_RESTART restarts it); its exit 30 ms later answers the restarted one.
      ["SIGUSR1 from the child, then its exit: SIGUSR1's handler, then SIGCHLD's, then the return", "interrupt", "interrupt: the wait returned the child after uc\n"],
      // In a handler whose mask blocks SIGCHLD (a mask blink does not report), the SIGCHLD stays pending.
      ["a wait in a SIGUSR2 handler that blocks SIGCHLD: SIGCHLD pending after it, its handler after SIGUSR2's", "inhandler", "inhandler: SIGCHLD pending in the handler after its wait; then wc\n"],
    ])("%s", (_what, mode, out) => nativeAsLinux("chldreply", mode.split(" "), out, where), 120_000);
  });

  describe("the SIGCHLD comes with the wait's reply", () => {
    const count = (trace: string[], re: RegExp): number => trace.filter((l) => re.test(l)).length;

    // A child that ends before its parent's wait parks (30 ms, under load) takes the ring as before: `least`.
    it.each([
      ["wait4_sigchld", "info 20", 20, 17],
      ["waitid_sigchld", "waitid", 1, 1],
    ])("%s: waits parked when the child ends take the SIGCHLD in the reply, no sig_dequeue (before: one per wait, after a doorbell)", async (call, mode, waits, least) => {
      const r = await traced([buildNative("chldreply"), ...mode.split(" ")], where);
      expect(r.code).toBe(0);
      const withReply = count(r.trace, new RegExp(`#\\d+ ${call} = \\d+ \\{.*, sig: 17, `));
      const dequeued = count(r.trace, /#\d+ sig_dequeue = 17 /);
      expect(withReply, `${withReply} of ${waits} replies carried the SIGCHLD`).toBeGreaterThanOrEqual(least);
      expect(dequeued, `${dequeued} SIGCHLDs taken with sig_dequeue`).toBe(waits - withReply);
    }, 120_000);

    it("with SIGUSR1 pending (blocked), the SIGCHLD is rung and taken with sig_dequeue, as before", async () => {
      const r = await traced([buildNative("chldreply"), "pending"], where);
      expect(r.code).toBe(0);
      expect(count(r.trace, /#\d+ wait4_sigchld = \d+ \{.*, sig: 17, /)).toBe(0);
      expect(count(r.trace, /#\d+ sig_dequeue = 17 /)).toBe(1);
    }, 120_000);
  });
}
