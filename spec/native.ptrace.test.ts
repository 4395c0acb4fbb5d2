/**
 * Cooperative ptrace under the preload (spec/ptrace.md): C programs that trace their own
 * children with ptrace(2), run as PID 1 under `blinkd run` (the tracer's ptrace goes to the
 * daemon; the tracee serves its memory from the bell's handler) and in a real PID namespace
 * (`unshare --pid --fork --mount-proc`, as root): the same lines and status. Without root,
 * blinkd's lines are checked against Linux's, written here. Each test runs its program twice,
 * each run bounded at 60 s by runAsInit, so a test's own bound is above both: a hang then fails
 * with the run's last line, not with vitest's bare timeout.
 */
import { describe, expect, it } from "vitest";
import { sameAsLinux } from "./helpers/signalprograms.js";
import { EXITKILL_LINES } from "./helpers/ptracelines.js";

describe("ptrace between native programs under the preload, as Linux", () => {
  it("TRACEME and raise(SIGSTOP): the tracer sees the stop, its siginfo, peeks and pokes a variable (EIO at a bad address), continues the tracee and collects its exit; the errors (EPERM, ESRCH)", async () => {
    const blinkd = await sameAsLinux("ptrace_peek", "blinkd");
    expect(blinkd.lines).toEqual([
      "child: TRACEME 0, again -1 EPERM",
      "waitpid = 1",
      "tracee: stopped(STOP) event 0",
      "  status 0x137f",
      "GETSIGINFO 0: signo STOP code -6 from the tracee 1",
      "PEEKDATA: 0x1234 errno 0",
      "POKEDATA 0",
      "PEEKDATA again: 0x5678 errno 0",
      "PEEKDATA at 8: -1 EIO",
      "POKEDATA at 8: -1 EIO",
      "ATTACH self: -1 EPERM",
      "ATTACH the tracee again: -1 EPERM",
      "ATTACH no such pid: -1 ESRCH",
      "CONT 0",
      "CONT while it runs: -1 ESRCH",
      "PEEKDATA while it runs: -1 ESRCH",
      "CONT one not traced: -1 ESRCH",
      "GETEVENTMSG one not traced: -1 ESRCH",
      // Only root can become uid 1000 to try (setresuid); an ordinary user's child exits 2 at once.
      ...(process.getuid?.() === 0 ? ["uid 1000 ATTACH root's: -1 EPERM", "uid 1000 SEIZE root's: -1 EPERM"] : []),
      "ATTACH init: 0",
      "tracee at the end: exited(120)",
      "the other: exited(0)",
    ]);
  }, 150_000);

  it("SEIZE, INTERRUPT and LISTEN; a signal injected and suppressed at a signal-delivery stop; a group stop as PTRACE_EVENT_STOP; SIGCONT re-traps a listening tracee, and one that LISTENs after it (JOBCTL_TRAP_NOTIFY); DETACH with a signal", async () => {
    const blinkd = await sameAsLinux("ptrace_seize", "blinkd");
    expect(blinkd.lines).toEqual([
      "SEIZE 0",
      "LISTEN while it runs: -1 ESRCH",
      "INTERRUPT 0",
      "interrupted: stopped(TRAP) event 128",
      "  GETSIGINFO: TRAP code 0x8005 from the tracee",
      "CONT 0",
      "SIGUSR1 sent: stopped(USR1) event 0",
      "  GETSIGINFO: USR1 code 0 from the tracer",
      "LISTEN at a signal-delivery stop: -1 EIO",
      "CONT with SIGUSR1 0",
      "SIGUSR1 again: stopped(USR1) event 0",
      "CONT with 0 0",
      "SIGTERM sent: stopped(TERM) event 0",
      "CONT with 0 0",
      "SIGSTOP sent: stopped(STOP) event 0",
      "CONT with SIGSTOP 0",
      "group stop: stopped(STOP) event 128",
      "  GETSIGINFO: STOP code 0x8013 from the tracee",
      "LISTEN 0",
      "WNOHANG while it listens: 0",
      "SIGCONT sent: stopped(TRAP) event 128",
      "  GETSIGINFO: TRAP code 0x8005 from the tracee",
      "CONT 0",
      "then: stopped(CONT) event 0",
      "  GETSIGINFO: CONT code 0 from the tracer",
      "CONT 0",
      "SIGSTOP again: stopped(STOP) event 0",
      "CONT with SIGSTOP 0",
      "group stop again: stopped(STOP) event 128",
      "LISTEN after a SIGCONT 0",
      "re-trapped: stopped(TRAP) event 128",
      "  GETSIGINFO: TRAP code 0x8005 from the tracee",
      "CONT 0",
      "then: stopped(CONT) event 0",
      "CONT 0",
      "SIGUSR2 sent: stopped(USR2) event 0",
      "DETACH with SIGUSR2 0",
      "CONT after DETACH: -1 ESRCH",
      "the end: exited(1)",
    ]);
  }, 150_000);

  it("fork, exec and exit events with their GETEVENTMSG messages; the auto-attached child; a tracer that is not the parent sees the exit first", async () => {
    const blinkd = await sameAsLinux("ptrace_events", "blinkd");
    expect(blinkd.lines).toEqual([
      "tracee: stopped(STOP) event 0",
      "SETOPTIONS 0",
      "SETOPTIONS unknown bit: -1 EINVAL",
      "CONT 0",
      "fork: stopped(TRAP) event 1",
      "  GETEVENTMSG 0: 3",
      "new child: stopped(STOP) event 0",
      "CONT child 0",
      "child exits: stopped(TRAP) event 6",
      "  GETEVENTMSG 0: 768",
      "CONT child 0",
      "child's exit, to the tracer: exited(3)",
      "CONT tracee 0",
      "its child's SIGCHLD: stopped(CHLD) event 0",
      "tracee reaps its child: exited(3)",
      "CONT 0",
      "exec: stopped(TRAP) event 4",
      "  GETEVENTMSG 0: 2",
      "CONT 0",
      "exit: stopped(TRAP) event 6",
      "  GETEVENTMSG 0: 1024",
      "CONT 0",
      "the end: exited(4)",
    ]);
  }, 150_000);

  it("a tracer that dies: its tracee is killed with PTRACE_O_EXITKILL, detached and running on without; the real parent sees no ptrace stop", async () => {
    const blinkd = await sameAsLinux("ptrace_death", "blinkd");
    expect(blinkd.lines).toEqual([
      "-- PTRACE_O_EXITKILL",
      "tracer: SEIZE 0 INTERRUPT 0, waitpid 1",
      "tracer sees: stopped(TRAP) event 128",
      "real parent, WNOHANG|WUNTRACED: 0",
      "tracer: killed(KILL)",
      "tracee: killed(KILL)",
      "-- no options",
      "tracer: SEIZE 0 INTERRUPT 0, waitpid 1",
      "tracer sees: stopped(TRAP) event 128",
      "real parent, WNOHANG|WUNTRACED: 0",
      "tracer: killed(KILL)",
      "tracee's getppid: 1",
      "tracee: exited(5)",
    ]);
  }, 150_000);

  it("PTRACE_O_TRACEEXIT for a death the daemon deals: a fatal default action (SIGTERM let through) and SIGKILL each stop the tracee at PTRACE_EVENT_EXIT first, the signal as its message, its registers readable; it dies when resumed", async () => {
    const blinkd = await sameAsLinux("ptrace_exitkill", "blinkd");
    expect(blinkd.lines).toEqual(EXITKILL_LINES);
  }, 150_000);
});
