/* PTRACE_SINGLESTEP (spec/ptrace.md §4.3): each step runs one instruction and stops the tracee
   with SIGTRAP (si_code TRAP_TRACE on x86, exc_debug_user → send_sigtrap); a jump goes where
   it jumps, and a system call is one instruction (exit: the tracee is gone). The tracer moves
   the tracee's rip to a known sequence of instructions (SETREGS at its SIGSTOP) and steps
   through it, printing each stop's signal, si_code, rip as an offset into the sequence, rax and
   rdx. Run as PID 1 in blink under `blinkd run --blink` and in a real PID namespace; the lines
   must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

extern char step_start[];

/* Never called: the tracer sends the tracee here. */
__attribute__((used)) static void steps(void) {
  __asm__ volatile(
      ".globl step_start\n"
      "step_start:\n"
      "  nop\n"
      "  mov $1, %%eax\n"
      "  add $2, %%eax\n"
      "  jmp 1f\n"
      "  ud2\n"
      "1:\n"
      "  lea 3(%%rax), %%rdx\n"
      "  mov $60, %%eax\n" /* exit(7) */
      "  mov $7, %%edi\n"
      "  syscall\n"
      "  ud2\n" ::: "rax", "rdx", "rdi", "memory");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t c = fork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    _exit(1);
  }
  int st;
  waitpid(c, &st, 0);
  printf("stopped(%s)\n", WIFSTOPPED(st) ? sigabbrev_np(WSTOPSIG(st)) : "?");
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, c, 0, &r)) printf("GETREGS %s\n", strerrorname_np(errno));
  r.rip = (unsigned long long)(unsigned long)step_start;
  r.rax = 0;
  r.rdx = 0;
  if (ptrace(PTRACE_SETREGS, c, 0, &r)) printf("SETREGS %s\n", strerrorname_np(errno));
  for (int i = 0; i < 16; i++) {
    if (ptrace(PTRACE_SINGLESTEP, c, 0, 0)) {
      printf("PTRACE_SINGLESTEP %s\n", strerrorname_np(errno));
      return 1;
    }
    if (waitpid(c, &st, 0) != c) return 1;
    if (WIFEXITED(st)) {
      printf("exited(%d)\n", WEXITSTATUS(st));
      return 0;
    }
    if (!WIFSTOPPED(st)) {
      printf("status %#x\n", st);
      return 1;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    ptrace(PTRACE_GETSIGINFO, c, 0, &si);
    ptrace(PTRACE_GETREGS, c, 0, &r);
    printf("%s si_code %d at +%lld rax %lld rdx %lld\n", sigabbrev_np(WSTOPSIG(st)), si.si_code,
           (long long)(r.rip - (unsigned long long)(unsigned long)step_start), (long long)r.rax, (long long)r.rdx);
  }
  printf("still running\n");
  kill(c, SIGKILL);
  return 1;
}
