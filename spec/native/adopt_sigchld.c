/*
 * A subreaper's SIGCHLD for an adopted child comes once, with the namespace's pid, as PID 1
 * under `blinkd run` (the preload) and under `unshare --pid --fork` (spec/native.programs.test.ts
 * compares them): init handles SIGCHLD with SA_SIGINFO; a exits leaving b, which init adopts
 * (init is the reaper of every orphan); then b exits. Each wait for a handler is bounded (10 s),
 * then 300 ms more let a second delivery show. (Under the preload, b's host SIGCHLD, which the
 * host kernel gives init as the mirrored subreaper, ran the handler again with b's host pid.)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t n, pids[8], codes[8];
static void on(int s, siginfo_t *si, void *uc) {
  if (n < 8) pids[n] = si->si_pid, codes[n] = si->si_code;
  n++;
}

static void nap(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&t, &t) != 0) {
  }
}

/* Until the handler has run `k` times, for at most 10 s. */
static void handled(int k) {
  for (int i = 0; n < k && i < 1000; i++) nap(10);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int p[2];
  pipe(p);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  pid_t a = fork();
  if (a == 0) {
    if (fork() == 0) {
      char x;
      close(p[1]);
      read(p[0], &x, 1);
      _exit(5);
    }
    _exit(0);
  }
  int st;
  waitpid(a, &st, 0);
  handled(1); /* a's SIGCHLD taken before b's comes (a standard signal pending twice is one) */
  close(p[1]);
  pid_t w = wait(&st);
  handled(2);
  nap(300);
  printf("reaped %d (status %d); SIGCHLD handled %d time(s):", w, WEXITSTATUS(st), (int)n);
  for (int i = 0; i < n && i < 8; i++) printf(" pid %d code %d;", (int)pids[i], (int)codes[i]);
  printf("\n");
  return 0;
}
