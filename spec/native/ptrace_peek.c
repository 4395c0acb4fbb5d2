/* PTRACE_TRACEME and a signal-delivery stop (spec/ptrace.md), run as PID 1 under `blinkd run`
   (the preload) and in a real PID namespace; the lines must be the same.
   - The child asks to be traced and raises SIGSTOP: its parent, the tracer, sees the stop
     (status 0x137f), reads its siginfo, peeks and pokes a variable in its memory (a bad
     address is EIO), continues it with signal 0 (SIGSTOP suppressed), and collects its exit.
   - The errors: a second TRACEME, a request to a process not traced (ESRCH), to a tracee
     that runs (ESRCH), ATTACH to oneself and to a process already traced (EPERM), a pid that
     does not exist (ESRCH), and ATTACH by another uid (EPERM). */
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

static volatile long var = 0x1234;

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int go[2];
  if (pipe(go)) return 1;
  pid_t c = fork();
  if (c == 0) {
    long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
    long again = ptrace(PTRACE_TRACEME, 0, 0, 0);
    printf("child: TRACEME %s, again %s\n", err(r), err(again));
    raise(SIGSTOP);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(1);
    _exit((int)(var & 0x7f)); /* what the tracer poked */
  }
  int st;
  pid_t w = waitpid(c, &st, 0);
  printf("waitpid = %d\n", w == c);
  status("tracee", st);
  printf("  status %#x\n", st);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  long r = ptrace(PTRACE_GETSIGINFO, c, 0, &si);
  printf("GETSIGINFO %s: signo %s code %d from the tracee %d\n", err(r), sigabbrev_np(si.si_signo), si.si_code, si.si_pid == c);
  errno = 0;
  long v = ptrace(PTRACE_PEEKDATA, c, (void *)&var, 0);
  printf("PEEKDATA: %#lx errno %d\n", v, errno);
  r = ptrace(PTRACE_POKEDATA, c, (void *)&var, (void *)0x5678);
  printf("POKEDATA %s\n", err(r));
  errno = 0;
  v = ptrace(PTRACE_PEEKDATA, c, (void *)&var, 0);
  printf("PEEKDATA again: %#lx errno %d\n", v, errno);
  errno = 0;
  v = ptrace(PTRACE_PEEKDATA, c, (void *)8, 0);
  printf("PEEKDATA at 8: %ld %s\n", v, strerrorname_np(errno));
  r = ptrace(PTRACE_POKEDATA, c, (void *)8, 0);
  printf("POKEDATA at 8: %s\n", err(r));
  printf("ATTACH self: %s\n", err(ptrace(PTRACE_ATTACH, getpid(), 0, 0)));
  printf("ATTACH the tracee again: %s\n", err(ptrace(PTRACE_ATTACH, c, 0, 0)));
  printf("ATTACH no such pid: %s\n", err(ptrace(PTRACE_ATTACH, 999, 0, 0)));
  printf("CONT %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  /* Running now (it waits on the pipe): not stopped, ESRCH. */
  usleep(100000);
  printf("CONT while it runs: %s\n", err(ptrace(PTRACE_CONT, c, 0, 0)));
  errno = 0;
  v = ptrace(PTRACE_PEEKDATA, c, (void *)&var, 0);
  printf("PEEKDATA while it runs: %ld %s\n", v, strerrorname_np(errno));
  /* A process nobody traces. */
  pid_t other = fork();
  if (other == 0) {
    char b;
    if (read(go[0], &b, 1) != 1) _exit(1);
    _exit(0);
  }
  printf("CONT one not traced: %s\n", err(ptrace(PTRACE_CONT, other, 0, 0)));
  printf("GETEVENTMSG one not traced: %s\n", err(ptrace(PTRACE_GETEVENTMSG, other, 0, &v)));
  /* Another uid may not attach to a root process; the same uid may. */
  pid_t u = fork();
  if (u == 0) {
    if (setresuid(1000, 1000, 1000)) _exit(2);
    printf("uid 1000 ATTACH root's: %s\n", err(ptrace(PTRACE_ATTACH, other, 0, 0)));
    printf("uid 1000 SEIZE root's: %s\n", err(ptrace(PTRACE_SEIZE, other, 0, 0)));
    _exit(0);
  }
  waitpid(u, &st, 0);
  /* init, from inside its namespace */
  pid_t i = fork();
  if (i == 0) {
    printf("ATTACH init: %s\n", err(ptrace(PTRACE_SEIZE, 1, 0, 0)));
    _exit(0);
  }
  waitpid(i, &st, 0);
  if (write(go[1], "xx", 2) != 2) return 1;
  w = waitpid(c, &st, 0);
  status("tracee at the end", st);
  waitpid(other, &st, 0);
  status("the other", st);
  return 0;
}
