/* Event stops (spec/ptrace.md): PTRACE_O_TRACEFORK, TRACEEXEC and TRACEEXIT with their
   GETEVENTMSG messages, and the wait rules for a traced process that is not the tracer's
   child (the tracer sees its stops and its exit first; its real parent still reaps it). Run
   as PID 1 under `blinkd run` (the preload) and in a real PID namespace; the lines must be
   the same. The tracee (pid 2) forks a child (pid 3, auto-attached), reaps it, then execs
   this program again, which exits 4. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace_report.h"

static void msg(pid_t c) {
  unsigned long m = 0;
  long r = ptrace(PTRACE_GETEVENTMSG, c, 0, &m);
  printf("  GETEVENTMSG %s: %lu\n", err(r), m);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) return 4; /* the image the tracee execs */
  pid_t t = fork();
  if (t == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    pid_t g = fork();
    if (g == 0) _exit(3);
    int st;
    waitpid(g, &st, 0);
    status("tracee reaps its child", st);
    execl("/proc/self/exe", argv[0], "again", (char *)NULL);
    _exit(99);
  }
  waitfor(t, "tracee");
  long o = PTRACE_O_TRACEFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;
  printf("SETOPTIONS %s\n", err(ptrace(PTRACE_SETOPTIONS, t, 0, o)));
  printf("SETOPTIONS unknown bit: %s\n", err(ptrace(PTRACE_SETOPTIONS, t, 0, 1L << 30)));
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, t, 0, 0)));
  waitfor(t, "fork");
  msg(t);
  pid_t g = 3;
  waitfor(g, "new child");
  printf("CONT child %s\n", err(ptrace(PTRACE_CONT, g, 0, 0)));
  waitfor(g, "child exits");
  msg(g);
  printf("CONT child %s\n", err(ptrace(PTRACE_CONT, g, 0, 0)));
  /* The tracer sees the child's exit (not its child: it does not reap it); the real parent then reaps it. */
  waitfor(g, "child's exit, to the tracer");
  printf("CONT tracee %s\n", err(ptrace(PTRACE_CONT, t, 0, 0)));
  /* Its child's SIGCHLD, pending while it was stopped, is a signal-delivery stop even at SIG_DFL. */
  waitfor(t, "its child's SIGCHLD");
  /* Resumed, the tracee reaps and prints: the tracer says how its CONT went only once the
     tracee has stopped again (at its exec), so the two never print at once. */
  long cont = ptrace(PTRACE_CONT, t, 0, 0);
  int st;
  pid_t w = waitpid(t, &st, __WALL);
  int e = errno;
  printf("CONT %s\n", err(cont));
  if (w != t) printf("exec: waitpid %d %s\n", w, strerrorname_np(e));
  else status("exec", st);
  msg(t);
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, t, 0, 0)));
  waitfor(t, "exit");
  msg(t);
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, t, 0, 0)));
  waitfor(t, "the end");
  return 0;
}
