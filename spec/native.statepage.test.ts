/**
 * The state page (spec/protocol.md §10.1, spec/signals.md §4.2): what the preload answers
 * without a round trip, against Linux (`unshare --pid --fork --mount-proc`), and the round
 * trips it saves, counted in the daemon's trace.
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nativeAsLinux } from "./helpers/programs.js";
import { buildNative } from "./helpers/native.js";
import { traced } from "./helpers/traced.js";

describe("answers from the state page, as on Linux", () => {
  it.each([
    // do_notify_parent for each exit; a standard signal pending once coalesces them, but the
    // last exit is followed by a run of the handler (it reaps every child, WNOHANG only).
    ["20 children exit at once to a handler that reaps with WNOHANG: all 20 reaped", "burst", "burst: 20 of 20 reaped by the handler, in 1 to 20 run(s)\n"],
    // The host's SIGCHLD may come before the daemon has read the child's exit_group: the
    // daemon's own still rings, and the handler runs for every child.
    ["200 children each _exit at once: the handler reaps each, none unsignalled", "race", "race: 200 children, 200 reaped by the handler, 0 never signalled\n"],
    // An orphan adopted by a subreaper (find_new_reaper) is its child: WNOHANG 0, then its status, then ECHILD.
    ["a subreaper's WNOHANG sees the orphan it adopted", "subreaper", "subreaper 2: after its child 3 ended, WNOHANG: 0\nsubreaper: WNOHANG found 4, status 5\nsubreaper: then -1 ECHILD\n"],
    // Past 64 children the page says "ask" (the walk's bound): the daemon answers the same.
    ["70 living children: WNOHANG 0, then each reaped, then ECHILD", "many 70", "many 70: WNOHANG while they live: 0\nmany 70: reaped 70, then -1 ECHILD\n"],
    // exit_notify queues the SIGCHLD before it wakes the parent's wait, whose way back to user
    // mode runs the handler: the daemon's doorbell goes before the wait's reply (rung after it,
    // in an experiment of issue 18, 16 of 100 waits returned before the handler ran).
    ["a blocking waitpid returns a child after the child's SIGCHLD handler ran, 100 times", "order", "order: 100 waits, 0 returned before the child's SIGCHLD handler ran, 0 never signalled\n"],
  ])("%s", (_what, mode, out) => nativeAsLinux("statepage", mode.split(" "), out), 120_000);
});

describe("round trips the page saves", () => {
  it("dash's loop of /bin/true: its wait4(-1, WNOHANG)'s ECHILD never comes from the daemon, no sig_dequeue comes back empty but rarely, the host's SIGCHLD does not interrupt its wait, and the daemon removes its page at exit", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-loop-"));
    const script = path.join(dir, "loop.sh");
    fs.writeFileSync(script, "i=0; while [ $i -lt 30 ]; do /bin/true; i=$((i+1)); done\n");
    const r = await traced(["dash", script]);
    expect(r.code).toBe(0);
    const calls = (re: RegExp): number => r.trace.filter((l) => re.test(l)).length;
    // Before the page: one wait4(-1, WNOHANG) per iteration (ECHILD), and the host's own
    // SIGCHLD taken with a second sig_dequeue that found nothing, most iterations.
    expect(calls(/#\d+ wait4_sigchld\(pid=-1, options=0\)$/)).toBe(30);
    // dash's wait4(-1, WNOHANG) after each reap is ECHILD: answered from the page. (A wait4
    // WNOHANG still goes to the daemon after a blocking one the host's SIGCHLD interrupted:
    // drain_host has just reported the child's host status, so the daemon answers, with the child.)
    expect(calls(/#\d+ wait4_sigchld = -1 ECHILD$/), "wait4's ECHILD asked of the daemon").toBe(0);
    const empty = calls(/#\d+ sig_dequeue = 0 /);
    expect(empty, `${empty} empty sig_dequeue in 30 iterations`).toBeLessThanOrEqual(6);
    // The host's own SIGCHLD that ends the blocking wait4's ppoll while the bell is unmoved ran
    // no guest handler: the wait goes on, no interrupt frame (masks.c, blinkd_host_ppoll).
    // Before, 13-16 of 30 iterations sent one, each finding the reply already on its way.
    const interrupts = calls(/#\d+ interrupt /);
    expect(interrupts, `${interrupts} interrupt frames in 30 iterations`).toBeLessThanOrEqual(2);
    expect(r.pages, "the state page left behind").toEqual([]);
    // One pwrite per changed slot per flush: dash's slot is written at the fork (CHILDREN),
    // at the child's exit (the bell and WAITABLE together), and at the reap, whose reply takes
    // the SIGCHLD (SEEN with it: actors/chldreply.ts): 3 per iteration; 4 where the SIGCHLD is
    // rung and its dequeue writes SEEN; where the bell and the counts each written at once made
    // 5 or more.
    const writes = calls(/state page: slot 1 written$/);
    expect(writes, `${writes} writes of dash's slot in 30 iterations`).toBeGreaterThanOrEqual(3 * 30);
    expect(writes, `${writes} writes of dash's slot in 30 iterations`).toBeLessThanOrEqual(3 * 30 + 15);
  }, 120_000);

  it("the counts' walk is bounded: with 3 children WNOHANG is answered from the page, with 70 (past 64) the daemon is asked", async () => {
    const wnohang = async (n: number): Promise<string[]> => {
      const r = await traced([buildNative("statepage"), "many", String(n)]);
      expect(r.code).toBe(0);
      return r.trace.filter((l) => /#\d+ wait4_sigchld = 0 /.test(l));
    };
    expect(await wnohang(3), "3 children: the WNOHANG's 0 came from the daemon").toEqual([]);
    expect((await wnohang(70)).length, "70 children: the WNOHANG's 0 did not come from the daemon").toBe(1);
  }, 120_000);
});
