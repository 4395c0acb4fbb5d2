/**
 * A blocking wait's SIGCHLD in its reply (wait4_sigchld, waitid_sigchld; src/actors/chldreply.ts):
 * the handler runs before the wait returns, once, with Linux's siginfo and mask, against Linux
 * (`unshare --pid --fork --mount-proc`); and the daemon's trace shows it came with the reply,
 * not through a doorbell and a sig_dequeue, but where another signal is pending.
 */
import { describe, expect, it } from "vitest";
import { both } from "./helpers/programs.js";
import { buildNative } from "./helpers/native.js";
import { traced } from "./helpers/traced.js";

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
  ])("%s", async (_what, mode, out) => {
    const r = await both([buildNative("chldreply"), ...mode.split(" ")]);
    expect(r.blinkd.out).toBe(out);
    expect(r.blinkd.code).toBe(0);
    expect(r.blinkd.err).toBe("");
    if (r.linux) expect(r.blinkd).toEqual(r.linux);
  }, 120_000);
});

describe("the SIGCHLD comes with the wait's reply", () => {
  const count = (trace: string[], re: RegExp): number => trace.filter((l) => re.test(l)).length;

  it("20 waits parked when the child ends: the SIGCHLD in the reply, no sig_dequeue takes it (before: one per wait, after a doorbell)", async () => {
    const r = await traced([buildNative("chldreply"), "info", "20"]);
    expect(r.code).toBe(0);
    const withReply = count(r.trace, /#\d+ wait4_sigchld = \d+ \{.*, sig: 17, /);
    const dequeued = count(r.trace, /#\d+ sig_dequeue = 17 /);
    // A child that ends before its parent's wait parks (30 ms, under load) takes the ring as before.
    expect(withReply, `${withReply} of 20 replies carried the SIGCHLD`).toBeGreaterThanOrEqual(17);
    expect(dequeued, `${dequeued} SIGCHLDs taken with sig_dequeue`).toBe(20 - withReply);
  }, 120_000);

  it("with SIGUSR1 pending (blocked), the SIGCHLD is rung and taken with sig_dequeue, as before", async () => {
    const r = await traced([buildNative("chldreply"), "pending"]);
    expect(r.code).toBe(0);
    expect(count(r.trace, /#\d+ wait4_sigchld = \d+ \{.*, sig: 17, /)).toBe(0);
    expect(count(r.trace, /#\d+ sig_dequeue = 17 /)).toBe(1);
  }, 120_000);
});
