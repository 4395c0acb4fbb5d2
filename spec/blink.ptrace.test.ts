/**
 * Cooperative ptrace in blink (spec/ptrace.md, patch 0007): the preload's ptrace programs
 * (spec/native/ptrace_*.c) run as PID 1 in the patched blink under `blinkd run --blink-path`
 * and in a real PID namespace, and must print the same. In blink both the tracer and the
 * tracee are emulated: the tracer's ptrace(2) goes to blinkd, and the tracee, rung by blinkd,
 * serves its guest memory and its whole register file at an instruction boundary. Only blink
 * makes syscall stops (spec/native/ptrace_regs.c: PTRACE_SYSCALL, orig_rax rewritten at entry).
 * spec/native/sigrestart.c: a signal that interrupts a blocking call is delivered as Linux does it,
 * on the way back to user mode after the call's return, not nested inside the call.
 */
import { expect, it } from "vitest";
import { isRoot } from "./helpers/asinit.js";
import { describeBlink } from "./helpers/blink.js";
import { sameAsLinux } from "./helpers/signalprograms.js";
import { EXITKILL_LINES } from "./helpers/ptracelines.js";

describeBlink("ptrace between C programs in blink, as Linux", () => {
  if (!isRoot) return;
  it("TRACEME: a signal-delivery stop, GETSIGINFO, PEEKDATA and POKEDATA of guest memory, CONT and the exit; the errors", async () => {
    const blinkd = await sameAsLinux("ptrace_peek", "blink");
    expect(blinkd.lines).toContain("POKEDATA 0");
  }, 120_000);

  it("SEIZE, INTERRUPT and LISTEN; a signal injected and suppressed; a group stop; DETACH with a signal", async () => {
    const blinkd = await sameAsLinux("ptrace_seize", "blink");
    expect(blinkd.lines.at(-1)).toBe("the end: exited(1)");
  }, 120_000);

  it("fork, exec and exit events with their messages; the auto-attached child; the tracer sees the exit first", async () => {
    const blinkd = await sameAsLinux("ptrace_events", "blink");
    expect(blinkd.lines).toContain("  GETEVENTMSG 0: 1024");
  }, 120_000);

  it("a tracer that dies: EXITKILL kills the tracee, without it the tracee runs on", async () => {
    const blinkd = await sameAsLinux("ptrace_death", "blink");
    expect(blinkd.lines).toContain("tracee: killed(KILL)");
  }, 120_000);

  it("syscall stops with TRACESYSGOOD: entry (rax -ENOSYS, orig_rax the number) and exit (rax the result); SETREGS at getppid's entry makes it getpid", async () => {
    const blinkd = await sameAsLinux("ptrace_regs", "blink");
    expect(blinkd.lines).toEqual([
      "stopped(STOP)",
      "entry 110 rax -38 (PEEKUSER orig_rax 110)",
      "  SETREGS orig_rax = getpid: 0",
      "exit  39 rax 2 (PEEKUSER orig_rax 39)",
      "entry 231 rax -38 (PEEKUSER orig_rax 231)",
      "exited(2)",
    ]);
  }, 120_000);

  it("a signal that interrupts a blocking call: the call returns first (its syscall-exit stop sees -ERESTARTSYS), then the signal-delivery stop, then the handler with that return's frame (-EINTR, or the call made again with SA_RESTART); sigsuspend's frame restores its mask; a suppressed signal restarts the call", async () => {
    const blinkd = await sameAsLinux("sigrestart", "blink");
    expect(blinkd.lines).toEqual([
      "without SA_RESTART: handler ran 1 time(s), its frame: rax -EINTR, rip after the syscall instruction",
      "without SA_RESTART: waitpid returned -1 EINTR",
      "without SA_RESTART: waitpid again: the child, exited(7)",
      "with SA_RESTART: handler ran 1 time(s), its frame: rax wait4's number, rip at the syscall instruction",
      "with SA_RESTART: waitpid returned the child, exited(7)",
      "sigsuspend: returned -1 EINTR; handler ran 1 time(s), its frame: rax -EINTR, rip after the syscall instruction",
      "sigsuspend: the frame restores USR1 1 USR2 1; the handler ran with USR1 1 USR2 0; after: USR1 1 USR2 1",
      "tracer: STOP",
      "tracer: wait4 entry",
      "tracer: wait4 exit = -ERESTARTSYS",
      "tracer: signal-delivery stop USR1, let through",
      "tracer: rt_sigreturn entry",
      "tracer: rt_sigreturn exit = -EINTR",
      "tracer: wait4 entry",
      "tracer: wait4 exit = the child",
      "tracer: signal-delivery stop CHLD",
      "tracee round 0: handler ran 1 time(s), first waitpid EINTR, the child exited(7)",
      "tracer: wait4 entry",
      "tracer: wait4 exit = -ERESTARTSYS",
      "tracer: signal-delivery stop USR1, let through",
      "tracer: rt_sigreturn entry",
      "tracer: rt_sigreturn exit = 61",
      "tracer: wait4 entry",
      "tracer: wait4 exit = the child",
      "tracer: signal-delivery stop CHLD",
      "tracee round 1: handler ran 1 time(s), first waitpid returned the child, the child exited(7)",
      "tracer: wait4 entry",
      "tracer: wait4 exit = -ERESTARTSYS",
      "tracer: signal-delivery stop USR1, suppressed",
      "tracer: wait4 entry",
      "tracer: wait4 exit = the child",
      "tracer: signal-delivery stop CHLD",
      "tracee round 2: handler ran 0 time(s), first waitpid returned the child, the child exited(7)",
      "tracer: the tracee exited(0)",
    ]);
  }, 120_000);

  it("PTRACE_SINGLESTEP: one instruction per step, each a SIGTRAP stop with TRAP_TRACE; a jump lands where it jumps, a system call is one step", async () => {
    const blinkd = await sameAsLinux("ptrace_step", "blink");
    expect(blinkd.lines).toEqual([
      "stopped(STOP)",
      "TRAP si_code 2 at +1 rax 0 rdx 0",
      "TRAP si_code 2 at +6 rax 1 rdx 0",
      "TRAP si_code 2 at +9 rax 3 rdx 0",
      "TRAP si_code 2 at +13 rax 3 rdx 0",
      "TRAP si_code 2 at +17 rax 3 rdx 6",
      "TRAP si_code 2 at +22 rax 60 rdx 6",
      "TRAP si_code 2 at +27 rax 60 rdx 6",
      "exited(7)",
    ]);
  }, 120_000);

  it("PTRACE_O_TRACEEXIT for a death the daemon deals: a fatal default action (SIGTERM let through) and SIGKILL each stop the tracee at PTRACE_EVENT_EXIT first, the signal as its message, its registers readable; it dies when resumed", async () => {
    const blinkd = await sameAsLinux("ptrace_exitkill", "blink");
    expect(blinkd.lines).toEqual(EXITKILL_LINES);
  }, 150_000);

  it("PTRACE_EVENT_VFORK: a vfork under PTRACE_O_TRACEVFORK stops the tracee with event 2 (a fork with event 1), the child traced from its start", async () => {
    const blinkd = await sameAsLinux("ptrace_vfork", "blink");
    expect(blinkd.lines).toEqual([
      "tracee: stopped(STOP) event 0",
      "SETOPTIONS: 0",
      "tracee: stopped(TRAP) event 2",
      "  GETEVENTMSG: 0, a child: yes",
      "  the child: stopped(STOP) event 0",
      "  the child: exited(5)",
      "tracee: stopped(CHLD) event 0",
      "tracee: stopped(TRAP) event 1",
      "  GETEVENTMSG: 0, a child: yes",
      "  the child: stopped(STOP) event 0",
      "  the child: exited(6)",
      "tracee: stopped(CHLD) event 0",
      "tracee: exited(6)",
    ]);
  }, 120_000);
});
