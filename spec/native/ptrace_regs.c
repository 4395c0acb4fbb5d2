/* Syscall stops and the register file (spec/ptrace.md §3.2, §4.3): PTRACE_SYSCALL with
   PTRACE_O_TRACESYSGOOD stops the tracee at each system call's entry (rax -ENOSYS, orig_rax
   the number) and exit (rax the result); at getppid's entry the tracer rewrites orig_rax to
   getpid with SETREGS, so the tracee gets its own pid. Run as PID 1 in blink under `blinkd run
   --blink` and in a real PID namespace; the lines must be the same. (A native program under
   the preload makes no syscall stops: its system calls go to the host.) */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pid_t c = fork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    long p = syscall(SYS_getppid);
    _exit((int)p);
  }
  int st;
  waitpid(c, &st, 0);
  printf("stopped(%s)\n", sigabbrev_np(WSTOPSIG(st)));
  ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
  int entry = 1;
  for (int i = 0; i < 16; i++) {
    if (ptrace(PTRACE_SYSCALL, c, 0, 0)) {
      printf("PTRACE_SYSCALL: %s\n", strerrorname_np(errno));
      return 1;
    }
    if (waitpid(c, &st, 0) != c) return 1;
    if (WIFEXITED(st)) {
      printf("exited(%d)\n", WEXITSTATUS(st));
      return 0;
    }
    if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80)) {
      printf("status %#x\n", st);
      continue;
    }
    struct user_regs_struct r;
    ptrace(PTRACE_GETREGS, c, 0, &r);
    errno = 0;
    long orig = ptrace(PTRACE_PEEKUSER, c, (void *)offsetof(struct user_regs_struct, orig_rax), 0);
    printf("%s %lld rax %lld (PEEKUSER orig_rax %ld)\n", entry ? "entry" : "exit ", (long long)r.orig_rax, (long long)r.rax, orig);
    if (entry && r.orig_rax == SYS_getppid) {
      r.orig_rax = SYS_getpid;
      printf("  SETREGS orig_rax = getpid: %ld\n", ptrace(PTRACE_SETREGS, c, 0, &r));
    }
    entry = !entry;
  }
  return 1;
}
