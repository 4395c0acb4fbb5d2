/* PTRACE_O_TRACEEXIT for a death the tracee does not choose (spec/ptrace.md §3.2): do_exit
   makes the PTRACE_EVENT_EXIT stop for every exit, so a tracee killed by a fatal signal's
   default action (SIGTERM let through at its signal-delivery stop) or by SIGKILL stops there
   first, with the wait status (the signal) as GETEVENTMSG's message and its registers still
   readable; it dies once the tracer resumes it. Linux 6.x stops for SIGKILL too. Run as PID 1
   under `blinkd run` (the preload), in blink and in a real PID namespace; the lines must be the
   same. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ptrace_report.h"

static void one(int sig) {
  pid_t c = fork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    for (;;) pause();
  }
  waitfor(c, "tracee");
  printf("SETOPTIONS TRACEEXIT: %s\n", err(ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEEXIT)));
  ptrace(PTRACE_CONT, c, 0, 0);
  struct timespec ms = {0, 200000000};
  nanosleep(&ms, NULL);
  printf("kill(%s)\n", sigabbrev_np(sig));
  kill(c, sig);
  for (int i = 0; i < 4; i++) {
    int st;
    if (waitpid(c, &st, 0) != c) {
      printf("waitpid: %s\n", strerrorname_np(errno));
      return;
    }
    status("tracee", st);
    if (!WIFSTOPPED(st)) return;
    if (st >> 16 == PTRACE_EVENT_EXIT) {
      unsigned long m = 0;
      struct user_regs_struct r;
      long e = ptrace(PTRACE_GETEVENTMSG, c, 0, &m);
      printf("  GETEVENTMSG: %s, %lu\n", err(e), m);
      printf("  GETREGS: %s\n", err(ptrace(PTRACE_GETREGS, c, 0, &r)));
      ptrace(PTRACE_CONT, c, 0, 0);
    } else {
      printf("  CONT with %s\n", sigabbrev_np(WSTOPSIG(st)));
      ptrace(PTRACE_CONT, c, 0, WSTOPSIG(st));
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  one(SIGTERM);
  one(SIGKILL);
  return 0;
}
