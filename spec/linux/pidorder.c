/* PID allocation order in a real PID namespace, for spec/core.pids.test.ts.
   Run as PID 1: unshare --pid --fork --mount-proc ./pidorder OP...
   Ops: pidmax:V  write /proc/sys/kernel/pid_max (per PID namespace since Linux 6.14)
        f         fork a child that waits; print its pid (or EAGAIN)
        F:N       fork N such children; print the first and last pid
        e:P       make child P exit with status P % 100 and wait until it is a zombie (not reaped)
        r:P       reap child P; print its status
        t         create a thread that waits; print its tid
   The same ops run through blinkd give the same lines (the test compares them). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int s) { (void)s; _exit(getpid() % 100); }

static pid_t child(void) {
  pid_t p = fork();
  if (p == 0) { for (;;) pause(); }
  return p;
}

static volatile pid_t tid_seen;
static void *thread_main(void *a) { (void)a; tid_seen = (pid_t)syscall(SYS_gettid); for (;;) pause(); return 0; }

int main(int argc, char **argv) {
  signal(SIGUSR1, on_usr1);
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    char *op = argv[i];
    if (!strncmp(op, "pidmax:", 7)) {
      FILE *f = fopen("/proc/sys/kernel/pid_max", "w");
      if (!f || fprintf(f, "%s\n", op + 7) < 0 || fclose(f)) { perror("pid_max"); return 2; }
    } else if (!strcmp(op, "f")) {
      pid_t p = child();
      if (p < 0) printf("fork -> -1 %s\n", errno == EAGAIN ? "EAGAIN" : strerror(errno));
      else printf("fork -> %d\n", p);
    } else if (!strncmp(op, "F:", 2)) {
      int n = atoi(op + 2), first = 0, last = 0, k;
      for (k = 0; k < n; k++) { pid_t p = child(); if (p < 0) break; if (!first) first = p; last = p; }
      if (k < n) printf("fork x%d -> %d..%d, then -1 %s\n", n, first, last, errno == EAGAIN ? "EAGAIN" : strerror(errno));
      else printf("fork x%d -> %d..%d\n", n, first, last);
    } else if (!strncmp(op, "e:", 2)) {
      pid_t p = atoi(op + 2);
      siginfo_t si;
      kill(p, SIGUSR1);
      if (waitid(P_PID, p, &si, WEXITED | WNOWAIT)) { perror("waitid"); return 2; }
      printf("exit %d\n", p);
    } else if (!strncmp(op, "r:", 2)) {
      int s;
      pid_t p = waitpid(atoi(op + 2), &s, 0);
      printf("reap %d -> exited(%d)\n", p, WEXITSTATUS(s));
    } else if (!strcmp(op, "t")) {
      pthread_t t;
      tid_seen = 0;
      pthread_create(&t, 0, thread_main, 0);
      while (!tid_seen) sched_yield();
      printf("thread -> %d\n", tid_seen);
    } else { fprintf(stderr, "bad op %s\n", op); return 2; }
  }
  return 0;
}
