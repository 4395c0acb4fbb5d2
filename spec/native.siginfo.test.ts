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
 */
import { describe } from "vitest";
import { isRoot } from "./helpers/asinit.js";
import { signalProgramSuites } from "./helpers/signalprograms.js";

describe.skipIf(!isRoot)("signals of a native program under the preload (delivery 1)", () => signalProgramSuites("blinkd"));
