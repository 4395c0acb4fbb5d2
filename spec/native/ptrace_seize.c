/* PTRACE_SEIZE, INTERRUPT and LISTEN; signal injection and suppression at a signal-delivery
   stop; DETACH with a signal (spec/ptrace.md). Run as PID 1 under `blinkd run` (the preload)
   and in a real PID namespace; the lines must be the same. The tracee counts the SIGUSR1s its
   handler ran and exits with the count when SIGUSR2 tells it to. */
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

static volatile sig_atomic_t usr1, done;
static void on_usr1(int s) { usr1++; }
static void on_usr2(int s) { done = 1; }

static void siginfo(pid_t c) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  long r = ptrace(PTRACE_GETSIGINFO, c, 0, &si);
  if (r) printf("  GETSIGINFO %s\n", err(r));
  else printf("  GETSIGINFO: %s code %#x from %s\n", sigabbrev_np(si.si_signo), si.si_code, si.si_pid == getpid() ? "the tracer" : si.si_pid == c ? "the tracee" : "another");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* The tracee says on a pipe when its handlers are set (a sleep was a guess, and under load
     blink's child could take longer), and waits with SIGUSR1 and SIGUSR2 blocked except
     inside sigsuspend: `while (!done) pause()` lost SIGUSR2 when its handler ran between the
     check and pause, and then waited for ever. */
  int ready[2];
  if (pipe(ready)) return 1;
  pid_t c = fork();
  if (c == 0) {
    sigset_t both, none;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    sigprocmask(SIG_BLOCK, &both, &none);
    sigdelset(&none, SIGUSR1);
    sigdelset(&none, SIGUSR2);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    close(ready[0]);
    close(ready[1]);
    while (!done) sigsuspend(&none);
    _exit(usr1);
  }
  close(ready[1]);
  char b;
  while (read(ready[0], &b, 1) < 0 && errno == EINTR) {
  }
  close(ready[0]);
  printf("SEIZE %s\n", err(ptrace(PTRACE_SEIZE, c, 0, 0)));
  printf("LISTEN while it runs: %s\n", err(ptrace(PTRACE_LISTEN, c, 0, 0)));
  printf("INTERRUPT %s\n", err(ptrace(PTRACE_INTERRUPT, c, 0, 0)));
  waitfor(c, "interrupted");
  siginfo(c);
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  /* A handled signal: the signal-delivery stop, then injected (the handler runs once). */
  kill(c, SIGUSR1);
  waitfor(c, "SIGUSR1 sent");
  siginfo(c);
  printf("LISTEN at a signal-delivery stop: %s\n", err(ptrace(PTRACE_LISTEN, c, 0, 0)));
  printf("CONT with SIGUSR1 %s\n", err(ptrace(PTRACE_CONT, c, 0, SIGUSR1)));
  /* Another, suppressed (the handler does not run). */
  kill(c, SIGUSR1);
  waitfor(c, "SIGUSR1 again");
  printf("CONT with 0 %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  /* A fatal one, suppressed. */
  kill(c, SIGTERM);
  waitfor(c, "SIGTERM sent");
  printf("CONT with 0 %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  /* SIGSTOP injected: a group stop, reported as PTRACE_EVENT_STOP; LISTEN; SIGCONT. */
  kill(c, SIGSTOP);
  waitfor(c, "SIGSTOP sent");
  printf("CONT with SIGSTOP %s\n", err(ptrace(PTRACE_CONT, c, 0, SIGSTOP)));
  waitfor(c, "group stop");
  siginfo(c);
  printf("LISTEN %s\n", err(ptrace(PTRACE_LISTEN, c, 0, 0)));
  int st;
  printf("WNOHANG while it listens: %d\n", (int)waitpid(c, &st, WNOHANG));
  kill(c, SIGCONT);
  waitfor(c, "SIGCONT sent");
  siginfo(c);
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  waitfor(c, "then");
  siginfo(c);
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  /* A SIGCONT while it is in a group stop (not listening): JOBCTL_TRAP_NOTIFY, so LISTEN re-traps at once. */
  kill(c, SIGSTOP);
  waitfor(c, "SIGSTOP again");
  printf("CONT with SIGSTOP %s\n", err(ptrace(PTRACE_CONT, c, 0, SIGSTOP)));
  waitfor(c, "group stop again");
  kill(c, SIGCONT);
  printf("LISTEN after a SIGCONT %s\n", err(ptrace(PTRACE_LISTEN, c, 0, 0)));
  waitfor(c, "re-trapped");
  siginfo(c);
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  waitfor(c, "then");
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  /* SIGUSR2 at its stop, passed on with DETACH: the tracee counts and exits. */
  kill(c, SIGUSR2);
  waitfor(c, "SIGUSR2 sent");
  printf("DETACH with SIGUSR2 %s\n", err(ptrace(PTRACE_DETACH, c, 0, SIGUSR2)));
  printf("CONT after DETACH: %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  waitfor(c, "the end");
  return 0;
}
