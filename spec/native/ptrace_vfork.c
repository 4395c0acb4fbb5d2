/* PTRACE_EVENT_VFORK (spec/ptrace.md §3.2): a tracee traced with PTRACE_O_TRACEFORK and
   PTRACE_O_TRACEVFORK that calls vfork stops with event 2 (PTRACE_EVENT_VFORK, kernel_clone's
   ptrace_event for CLONE_VFORK), GETEVENTMSG the child's pid; the child is traced from its start
   (its SIGSTOP); one that forks stops with event 1. Run as PID 1 in blink under `blinkd run
   --blink` and in a real PID namespace; the lines must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ptrace_report.h"

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t c = fork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    int st;
    pid_t v = vfork();
    if (v == 0) _exit(5);
    waitpid(v, &st, 0);
    pid_t f = fork();
    if (f == 0) _exit(6);
    waitpid(f, &st, 0);
    _exit(WEXITSTATUS(st));
  }
  waitfor(c, "tracee");
  printf("SETOPTIONS: %s\n", err(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK)));
  ptrace(PTRACE_CONT, c, 0, 0);
  for (int i = 0; i < 12; i++) {
    int st;
    if (waitpid(c, &st, 0) != c) return printf("waitpid: %s\n", strerrorname_np(errno)), 1;
    status("tracee", st);
    if (!WIFSTOPPED(st)) return 0;
    if (st >> 16 == PTRACE_EVENT_VFORK || st >> 16 == PTRACE_EVENT_FORK) {
      unsigned long m = 0;
      long e = ptrace(PTRACE_GETEVENTMSG, c, 0, &m);
      printf("  GETEVENTMSG: %s, a child: %s\n", err(e), (pid_t)m > c ? "yes" : "no");
      waitfor((pid_t)m, "  the child");
      ptrace(PTRACE_CONT, (pid_t)m, 0, 0);
      waitfor((pid_t)m, "  the child");
    }
    ptrace(PTRACE_CONT, c, 0, 0);
  }
  printf("too many stops\n");
  kill(c, SIGKILL);
  return 1;
}
