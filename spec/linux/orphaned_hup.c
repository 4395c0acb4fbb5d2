/* Which members of an orphaned process group with a stopped member get the kernel's SIGHUP
   (kill_orphaned_pgrp, kernel/exit.c): p leads a session; c leads a group in it with two
   more members, d (running) and e (running, SIGHUP blocked); p stops c and exits, so the
   group loses its link to the session (c's new parent is outside it) with c stopped.
   Mainline sends SIGHUP then SIGCONT to every member (__kill_pgrp_info); Linux 6.18.44
   sends the SIGHUP to the stopped member alone. Then a SIGHUP from a process to the group
   (kill(-pgid)) shows that d and e can receive one. Prints one line per member after each;
   needs no root (spec/signals.md §8.1, spec/signals.kernels.test.ts). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got[65];
static void on(int s) { got[s] = 1; }

static int report[2], step[2], ready[2], cpid[2];

static void say(const char *who, int hup_blocked) {
  char line[160];
  sigset_t p;
  sigpending(&p);
  snprintf(line, sizeof line, "%s: handled%s%s%s\n", who, got[SIGHUP] ? " SIGHUP" : "", got[SIGCONT] ? " SIGCONT" : "",
           hup_blocked ? (sigismember(&p, SIGHUP) ? ", SIGHUP pending" : ", SIGHUP not pending") : "");
  write(report[1], line, strlen(line));
}

/* Waits for the kernel's SIGCONT (every kernel sends it, after the SIGHUP when it sends
   that): both are delivered on the same return to user mode, so both handlers have run. */
static void member(const char *who, int hup_blocked) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  write(ready[1], "r", 1);
  while (!got[SIGCONT]) sigsuspend(&old);
  say(who, hup_blocked);
  /* The group kill from a process. */
  got[SIGHUP] = got[SIGCONT] = 0;
  char x;
  sigprocmask(SIG_SETMASK, &old, NULL);
  read(step[0], &x, 1);
  sigprocmask(SIG_BLOCK, &all, NULL);
  while (!hup_blocked && !got[SIGHUP]) sigsuspend(&old);
  say(who, hup_blocked);
  _exit(0);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pipe(report), pipe(step), pipe(ready), pipe(cpid);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on;
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGCONT, &sa, NULL);
  pid_t p = fork();
  if (p == 0) {
    setsid();
    pid_t c = fork();
    if (c == 0) {
      setpgid(0, 0);
      if (fork() == 0) member("d (running)", 0);
      if (fork() == 0) {
        sigset_t h;
        sigemptyset(&h);
        sigaddset(&h, SIGHUP);
        sigprocmask(SIG_BLOCK, &h, NULL);
        member("e (running, SIGHUP blocked)", 1);
      }
      member("c (stopped)", 0);
    }
    char x;
    for (int i = 0; i < 3; i++) read(ready[0], &x, 1); /* c, d and e wait for SIGCONT */
    kill(c, SIGSTOP);
    int st;
    waitpid(c, &st, WUNTRACED);
    write(cpid[1], &c, sizeof c);
    _exit(0); /* c goes to the subreaper outside the session: its group is orphaned */
  }
  waitpid(p, NULL, 0);
  pid_t c;
  read(cpid[0], &c, sizeof c);
  /* One line per member, in name order; then, after a SIGHUP from this process to the
     whole group (kill(-pgid)), one more each. */
  for (int round = 0; round < 2; round++) {
    char buf[512];
    int n = 0;
    for (int lines = 0; lines < 3;) {
      ssize_t k = read(report[0], buf + n, sizeof buf - 1 - (size_t)n);
      if (k <= 0) break;
      for (ssize_t i = 0; i < k; i++) lines += buf[n + i] == '\n';
      n += (int)k;
    }
    buf[n] = 0;
    for (const char *who = "cde"; *who; who++)
      for (char *l = buf; *l; l = strchr(l, '\n') + 1)
        if (*l == *who) printf("%s%.*s", round ? "after kill(-pgid, SIGHUP): " : "", (int)(strchr(l, '\n') - l + 1), l);
    if (round == 0) {
      kill(-c, SIGHUP);
      write(step[1], "ggg", 3);
    }
  }
  return 0;
}
