/**
 * Signals and threads of C programs in blink: the preload's programs (spec/native/siginfo.c,
 * sigwait.c, threads.c) run as PID 1 in the patched blink under `blinkd run --blink-path`
 * and in a real PID namespace, and must print the same. In blink a signal another guest
 * sends is queued by blinkd and rings blink's host process; blink takes it with its siginfo
 * (the sender's pid in the namespace) on the connection of the emulated thread that runs the
 * handler, and rt_sigtimedwait takes it from blinkd; threads are blink's machines, each with
 * its own connection and a tid from the pids' number space.
 */
import { isRoot } from "./helpers/asinit.js";
import { describeBlink } from "./helpers/blink.js";
import { chldReplySuites } from "./helpers/chldreply.js";
import { signalProgramSuites } from "./helpers/signalprograms.js";
import { threadProgramSuites } from "./helpers/threadprograms.js";

describeBlink("signals of a C program in blink", () => {
  if (isRoot) signalProgramSuites("blink", { signalfd: "blink has no signalfd(2)" });
});

describeBlink("threads of a C program in blink", () => {
  if (isRoot) threadProgramSuites("blink");
});

// blink patch 0029: a blocking wait4 or waitid takes the child's SIGCHLD with its reply
// (wait4_sigchld, waitid_sigchld), and blink runs the handler on the way out of the call.
describeBlink("a child's SIGCHLD with the blocking wait's reply in blink", () => {
  chldReplySuites("blink");
});
