/**
 * Ordinary C programs with signal handlers, sigwait and signalfd (spec/native/siginfo.c,
 * sigwait.c, signalfd.c), run as PID 1 at `where` (blinkd's preload, or blink) and in a real
 * PID namespace; the same lines and status are expected, and PID 1's signal sets in /proc
 * at the end (the daemon's procfs for blinkd's guests). spec/native.siginfo.test.ts and
 * spec/blink.signals.test.ts run them.
 */
import { expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildNative } from "./native.js";
import { type Ran, type Where, initOf, procOf, runAsInit } from "./asinit.js";
import { withoutRoot } from "./root.js";

const build = (name: string): string => buildNative(name);

/** PID 1's signal sets as /proc/1/status gives them (under blinkd, the daemon's view). */
async function sigLines(where: Where, launcher: number, prefix: string): Promise<string[]> {
  const { root, init } = await procOf(where, launcher, prefix);
  const status = fs.readFileSync(path.join(root, String(init), "status"), "utf8");
  return status.split("\n").filter((l) => /^(SigPnd|ShdPnd|SigBlk|SigCgt):/.test(l));
}

/** Runs the program as PID 1; sends SIGUSR1 from outside at "ready", reads /proc at "inspect", then lets it exit. */
const run = (where: Where, exe: string): Promise<Ran> =>
  runAsInit(where, exe, {
    inspect: sigLines,
    resume: "end",
    onLine: (l, launcher) => {
      // From outside: to `blinkd run`, which forwards it to PID 1, or to the real init.
      if (l === "ready") process.kill(where === "linux" ? initOf(launcher) : launcher, "SIGUSR1");
    },
  });

/**
 * Builds spec/native/NAME.c and runs it as PID 1 on both sides: the same lines and status, 0;
 * blinkd's run, for its lines to be checked against what Linux prints, written in the test
 * (without root, unshare cannot run: blinkd alone, said).
 */
export async function sameAsLinux(name: string, where: Where): Promise<Ran> {
  const exe = build(name);
  const linux = withoutRoot(`the Linux side of spec/native/${name}.c (unshare --pid); blinkd's lines are checked against Linux's, written in the test`) ? undefined : await run("linux", exe);
  const blinkd = await run(where, exe);
  if (linux) expect(blinkd).toEqual(linux);
  expect(blinkd.code).toBe(0);
  return blinkd;
}

/** The three programs' tests; `skip` names a program that cannot run at `where`, with why. */
export function signalProgramSuites(where: Where, skip: { signalfd?: string } = {}): void {
  it("sees the emulated sender's pid and SI_USER, and leaves nothing pending, as in a real PID namespace", async () => {
    const blinkd = await sameAsLinux("siginfo", where);
    expect(blinkd.lines).toEqual([
      "child 2 sent its signals and exited 0",
      "pending before: USR1 1 USR2 1 40 1",
      "blocked then unblocked: signal 10 x1 si_pid=2 si_code=0",
      "blocked then unblocked: signal 12 x1 si_pid=2 si_code=0",
      "blocked then unblocked: signal 40 x3 si_pid=2 si_code=0",
      "second child 3: waitpid = 3 exited 5",
      "during waitpid: signal 12 x1 si_pid=3 si_code=0",
      "during waitpid: signal 17 x1 si_pid=3 si_code=1 si_status=5",
      "during waitpid: signal 40 x100 si_pid=3 si_code=0",
      "ready",
      "from outside: signal 10 x1 si_pid=0 si_code=0",
      "pending after: USR1 0 USR2 0 40 0",
      "inspect",
      "SigPnd:\t0000000000000000",
      "ShdPnd:\t0000000000000000",
      "SigBlk:\t0000000000000000",
      "SigCgt:\t0000008000010a00",
    ]);
  }, 150_000);

  it("takes blocked signals with sigwait, sigwaitinfo and sigtimedwait, with the sender's siginfo, as in a real PID namespace", async () => {
    const blinkd = await sameAsLinux("sigwait", where);
    expect(blinkd.lines).toEqual([
      "first child's SIGCHLD: 17 si_pid=2 si_code=1 si_status=0",
      "sigwait (pending): 15",
      "sigwait (waiting): 15",
      "second child's SIGCHLD: 17 si_pid=3 si_code=1 si_status=0",
      "third child 4",
      "sigwaitinfo USR1: 10 si_pid=4 si_code=0",
      "sigwaitinfo CHLD: 17 si_pid=4 si_code=1 si_status=5",
      "fourth child's SIGCHLD: 17 si_pid=5 si_code=1 si_status=0",
      "sigtimedwait RT: 40 si_pid=5 si_code=0",
      "sigtimedwait RT: 40 si_pid=5 si_code=0",
      "sigtimedwait RT: 40 si_pid=5 si_code=0",
      "sigtimedwait RT: EAGAIN",
      "sigtimedwait USR2 for 0.1 s: EAGAIN",
      "fifth child's SIGCHLD: 17 si_pid=6 si_code=1 si_status=0",
      "while blocked: pending USR2 1, handler ran 0 times",
      "after the unblock: handler ran 1 times, si_pid=6 si_code=0",
      "child 7: sigwait got 15",
      "child 7: exited 7",
      "child 8: SIGTERM pending 1, still alive",
      "child 8: killed by 15",
      "ready",
      "from outside: 10 si_pid=0 si_code=0",
      "inspect",
      "SigPnd:\t0000000000000000",
      "ShdPnd:\t0000000000000000",
      "SigBlk:\t0000008000014200",
      "SigCgt:\t0000000000000800",
    ]);
  }, 150_000);

  it("takes each signal sent while it unblocks it exactly once, many times over, a handled one coalesced or queued and a fatal default one; one queued while blocked acts before the unblocking sigprocmask returns (spec/native/unblockrace.c; signals.md §4.1)", async () => {
    const blinkd = await sameAsLinux("unblockrace", where);
    expect(blinkd.lines).toEqual([
      "sender: exited 0",
      "SIGUSR1 sent 200 times, handled 200 times",
      "real-time signal sent 400 times, handled 400 times",
      "pending after: USR1 0 RT 0",
      "SIGTERM sent to 20 looping children, 20 died of it",
      "SIGUSR1 queued while blocked: handled before the unblocking sigprocmask returned 50 of 50 times",
      "SIGTERM queued while blocked: the unblocking sigprocmask killed 20 of 20 children before their next statement",
    ]);
  }, 180_000);

  it.skipIf(!!skip.signalfd)(`reads blocked signals from a signalfd with the sender's siginfo, as in a real PID namespace${skip.signalfd ? ` [skipped: ${skip.signalfd}]` : ""}`, async () => {
    const blinkd = await sameAsLinux("signalfd", where);
    expect(blinkd.lines).toEqual([
      "first child's: 10 si_pid=2 si_code=0",
      "first child's: 15 si_pid=2 si_code=0",
      "first child's: 17 si_pid=2 si_code=1 si_status=3",
      "first child's: 40 si_pid=2 si_code=0",
      "first child's: 40 si_pid=2 si_code=0",
      "first child's: then EAGAIN",
      "poll: 1 revents POLLIN",
      "second child's: 10 si_pid=3 si_code=0",
      "second child's exit: 17 si_pid=3 si_code=1 si_status=0",
      "second child's exit: then EAGAIN",
      "third child's: 17 si_pid=4 si_code=1 si_status=0",
      "third child's: then EAGAIN",
      "sigwaitinfo: 12 si_pid=4 (third child 4) si_code=0",
      "ready",
      "from outside: 10 si_pid=0 si_code=0",
      "inspect",
      "SigPnd:\t0000000000000000",
      "ShdPnd:\t0000000000000000",
      "SigBlk:\t0000008000014a00",
      "SigCgt:\t0000000000000000",
    ]);
  }, 150_000);
}
