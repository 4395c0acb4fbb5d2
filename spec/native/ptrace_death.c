/* A tracer that dies (spec/ptrace.md): with PTRACE_O_EXITKILL its tracee is killed; without,
   the tracee is detached and runs on, even from a ptrace stop. While another process traces
   a child, its real parent does not see the child's stops, and getppid stays the real parent.
   Run as PID 1 under `blinkd run` (the preload) and in a real PID namespace; the lines must
   be the same. */
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

static volatile sig_atomic_t done;
static void on_usr1(int s) { done = 1; }

static pid_t victim(int pipefd) {
  pid_t v = fork();
  if (v == 0) {
    signal(SIGUSR1, on_usr1);
    while (!done) pause();
    /* getppid is the real parent whoever traced it */
    char b = (char)getppid();
    if (write(pipefd, &b, 1) != 1) _exit(1);
    _exit(5);
  }
  return v;
}

/* A tracer, a child of init like its tracee: SEIZE with `opts`, INTERRUPT, wait, then exit. */
static pid_t tracer(pid_t v, long opts, int ready) {
  pid_t k = fork();
  if (k == 0) {
    long r = ptrace(PTRACE_SEIZE, v, 0, opts);
    long i = ptrace(PTRACE_INTERRUPT, v, 0, 0);
    int st;
    pid_t w = waitpid(v, &st, __WALL);
    printf("tracer: SEIZE %s INTERRUPT %s, waitpid %d\n", err(r), err(i), w == v);
    status("tracer sees", st);
    char b = 0;
    if (write(ready, &b, 1) != 1) _exit(1);
    pause(); /* until init kills it */
    _exit(0);
  }
  return k;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int p[2], r[2];
  if (pipe(p) || pipe(r)) return 1;
  signal(SIGUSR1, SIG_IGN); /* not init's: the children reset it */
  signal(SIGUSR1, SIG_DFL);
  char b;
  int st;
  for (int exitkill = 1; exitkill >= 0; exitkill--) {
    printf("-- %s\n", exitkill ? "PTRACE_O_EXITKILL" : "no options");
    pid_t v = victim(p[1]);
    usleep(100000);
    pid_t k = tracer(v, exitkill ? PTRACE_O_EXITKILL : 0, r[1]);
    if (read(r[0], &b, 1) != 1) return 1;
    /* The tracee is in a ptrace stop: its real parent sees nothing. */
    pid_t w = waitpid(v, &st, WNOHANG | WUNTRACED);
    printf("real parent, WNOHANG|WUNTRACED: %d\n", (int)w);
    kill(k, SIGKILL);
    waitpid(k, &st, 0);
    status("tracer", st);
    if (!exitkill) {
      /* Detached, it runs on: it takes SIGUSR1 and exits. */
      usleep(100000);
      kill(v, SIGUSR1);
      if (read(p[0], &b, 1) != 1) return 1;
      printf("tracee's getppid: %d\n", b);
    }
    waitpid(v, &st, 0);
    status("tracee", st);
  }
  return 0;
}
