/**
 * Delivery 1 through the preload library: an ordinary C program with SA_SIGINFO handlers
 * (spec/native/siginfo.c) runs as PID 1 under `blinkd run` and under a real PID namespace
 * (`unshare --pid --fork --mount-proc`, as root). Its handlers must see the emulated
 * sender's pid and SI_USER (signals from another process of the namespace, blocked then
 * unblocked, a standard one coalesced and a real-time one queued three times; a hundred
 * arriving while waitpid waits; the SIGCHLD of a child's exit once, with its pid and
 * status) and si_pid 0 for a signal from outside the namespace; afterwards nothing may stay pending in PID 1's /proc status (under blinkd: the daemon's procfs,
 * `blinkd procfs export`), so every queued signal was taken with sig_dequeue.
 * spec/native/sigwait.c, run the same way, blocks signals and takes them with sigwait,
 * sigwaitinfo and sigtimedwait (the preload reports the mask and takes them with sig_wait),
 * runs a handler once for a signal sent twice while blocked, and has a child that is not
 * init take a blocked SIGTERM with sigwait and another die of it when it unblocks it.
 * spec/native/signalfd.c reads blocked signals from a signalfd (sig_watch rings for them).
 * spec/native/early.c signals a child before it has run and one in the middle of exec, with
 * every kind of signal (a child exists, with its pending signals, from the moment fork returns).
 * spec/native/handlers.c runs several signals' handlers at once in Linux's order, lets a
 * default fatal action among them win, and resets an SA_RESETHAND action (spec/signals.md §3).
 * spec/native/ignexec.c ignores signals in a child (one with the raw system call) and execs:
 * the new image must still ignore them. spec/native/spawn.c spawns children with posix_spawn.
 * Without root (no unshare) blinkd's lines are checked against Linux's, written in each test.
 */
import { describe, expect, it } from "vitest";
import { sameAsLinux, signalProgramSuites } from "./helpers/signalprograms.js";

describe("signals of a native program under the preload (delivery 1)", () => {
  signalProgramSuites("blinkd");

  it("runs several signals' handlers at once as Linux does (the last taken first; the thread's queue and the synchronous signals taken first), lets a default fatal action among them win, and resets an SA_RESETHAND action once its handler is chosen", async () => {
    const blinkd = await sameAsLinux("handlers", "blinkd");
    expect(blinkd.lines).toEqual([
      "process queue, lowest taken first, last taken runs first: USR2 USR1 HUP",
      "the thread's queue before the process's: USR1 USR2",
      "synchronous signals first: HUP SEGV",
      "handled SIGUSR1 and default SIGTERM at once: killed(TERM)",
      "SA_RESETHAND: the handler ran (h)",
      "SA_RESETHAND: then the second SIGUSR1: killed(USR1)",
    ]);
  });

  it("signals every kind (stop, term, kill, handled, ignored, continue) to a child before it has run (not claimed yet) and in the middle of exec, with Linux's results", async () => {
    const blinkd = await sameAsLinux("early", "blinkd");
    const kinds = (how: string, handled: string): string[] => [
      `stop     ${how}  stopped(STOP), then continued, then killed(KILL)`,
      `term     ${how}  killed(TERM)`,
      `kill     ${how}  killed(KILL)`,
      `handled  ${how}  ${handled}`,
      `ignored  ${how}  killed(TERM)`,
      `continue ${how}  killed(TERM)`,
    ];
    // The forked child runs its inherited handler as itself (pid 5: 100 + getpid()); the exec'd one's is SIG_DFL.
    expect(blinkd.lines).toEqual([...kinds("fork", "exited(105)"), ...kinds("exec", "killed(USR1)")]);
  });

  it("keeps a signal ignored across execve however it was ignored (the raw system call, sigaction), and hands the new image its argv whole, as on Linux", async () => {
    const blinkd = await sameAsLinux("ignexec", "blinkd");
    expect(blinkd.lines).toEqual(["new image: alive after SIGUSR1, 40 and SIGUSR2; argv image|two words|", "child: exited(7)"]);
  });

  it("gives posix_spawn and posix_spawnp children their pids, parent and exit status, and a signal of the namespace reaches the spawned child's host process, as on Linux (the child claims in one write, its host pid proven)", async () => {
    const blinkd = await sameAsLinux("spawn", "blinkd");
    expect(blinkd.lines).toEqual([
      "posix_spawn: pid=2 ppid=1",
      "posix_spawn: spawned 2, waitpid 2, exited 3",
      "posix_spawnp: pid=3 ppid=1",
      "posix_spawnp: spawned 3, waitpid 3, exited 4",
      "self-kill: pid=4",
      "self-kill: spawned 4, waitpid 4, killed 15",
    ]);
  });

});
