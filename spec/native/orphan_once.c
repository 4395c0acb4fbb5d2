/*
 * An orphaned process group's SIGHUP and SIGCONT come once each (kill_orphaned_pgrp,
 * kernel/exit.c: one __kill_pgrp_info of each), as PID 1 under `blinkd run` (the preload) and
 * under `unshare --pid --fork` (spec/native.programs.test.ts compares them). p leads a
 * session; c leads a group in it, handles SIGHUP and SIGCONT by counting, and stops itself;
 * p sees it stopped and exits, which orphans c's group with c stopped: c gets SIGHUP (every
 * kernel sends it to a stopped member) and SIGCONT. It then watches for 500 ms for a second
 * one before it prints what it counted. (Under the preload the host kernel, whose groups,
 * sessions and stops mirror the namespace's, sent its own pair beside the daemon's.)
 * With the argument "blocked", c blocks SIGHUP and SIGCONT before it stops and unblocks them
 * 300 ms after it is continued, so each signal's copies are pending together (Linux: one
 * each; under the preload the host's SI_KERNEL copy and the daemon's doorbell merge).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hup, cont;
static void on(int s) {
  if (s == SIGHUP) hup++;
  else cont++;
}

int main(int argc, char **argv) {
  int blocked = argc > 1 && strcmp(argv[1], "blocked") == 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t p = fork();
  if (p == 0) {
    setsid();
    pid_t c = fork();
    if (c == 0) {
      setpgid(0, 0);
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = on;
      sigaction(SIGHUP, &sa, NULL);
      sigaction(SIGCONT, &sa, NULL);
      sigset_t both;
      sigemptyset(&both);
      sigaddset(&both, SIGHUP);
      sigaddset(&both, SIGCONT);
      if (blocked) sigprocmask(SIG_BLOCK, &both, NULL);
      raise(SIGSTOP);
      if (blocked) {
        struct timespec b = {0, 300000000};
        while (nanosleep(&b, &b) != 0) {
        }
        sigprocmask(SIG_UNBLOCK, &both, NULL);
      }
      struct timespec t = {0, 500000000};
      while (nanosleep(&t, &t) != 0) {
      }
      printf("c: SIGHUP %d time(s), SIGCONT %d time(s)\n", (int)hup, (int)cont);
      _exit(0);
    }
    int st;
    waitpid(c, &st, WUNTRACED);
    printf("p: c %s; exiting\n", WIFSTOPPED(st) ? "stopped" : "did not stop");
    _exit(0);
  }
  int st;
  pid_t w;
  while ((w = wait(&st)) > 0) {
  }
  return 0;
}
