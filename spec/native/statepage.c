/*
 * What the preload answers from the state page (spec/protocol.md §10.1, spec/signals.md §4.2)
 * against Linux (spec/native.programs.test.ts runs it under `blinkd run` and under
 * `unshare --pid --fork --mount-proc`, and compares):
 *   burst     20 children exit at once to a parent whose SIGCHLD handler alone reaps them
 *             (waitpid(-1, WNOHANG) until 0 or ECHILD): SIGCHLDs may coalesce, but the last
 *             exit is followed by a handler run (do_notify_parent), so all 20 are reaped.
 *   race      200 times: a child _exits at once (its host SIGCHLD may come before the daemon
 *             has read its exit_group) and the parent sleeps in sigsuspend until its handler
 *             has reaped it; each wait bounded (10 s).
 *   subreaper a subreaper's WNOHANG sees the orphan it adopted: 0 while it lives, then its
 *             status, then ECHILD.
 *   many N    N children that live: WNOHANG 0; once they end, each reaped, then ECHILD (past
 *             64 children the page says "ask", and the daemon answers: the same results).
 *   order     100 times: a child _exits and the parent's blocking waitpid returns it; by then
 *             the child's SIGCHLD handler has run (Linux sends the signal before it wakes the
 *             parent's wait, which takes it on its way back to user mode), so the daemon's
 *             doorbell goes before the wait's reply, not after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t reaped, runs, bad;

static void nap(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&t, &t) != 0) {
  }
}

/* The classic handler: reap until nothing is ready (0) or no child is left (ECHILD). */
static void on_chld(int s) {
  int e = errno, st;
  pid_t p;
  runs++;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0) reaped++;
  if (p < 0 && errno != ECHILD) bad++;
  errno = e;
}

static void handle(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_chld;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
}

static int burst(void) {
  enum { N = 20 };
  int p[2];
  if (pipe(p) != 0) return 1;
  handle();
  for (int i = 0; i < N; i++) {
    pid_t c = fork();
    if (c == 0) {
      char x;
      close(p[1]);
      read(p[0], &x, 1);
      _exit(0);
    }
  }
  close(p[0]);
  close(p[1]); /* every child reads EOF and exits at once */
  for (int i = 0; reaped < N && i < 1000; i++) nap(10);
  printf("burst: %d of %d reaped by the handler, in %s run(s)%s\n", (int)reaped, N, runs >= 1 && runs <= N ? "1 to 20" : "an impossible number of", bad ? "; a wait failed" : "");
  return 0;
}

static void on_alrm(int s) {
}

static int race(void) {
  enum { N = 200 };
  signal(SIGALRM, on_alrm);
  sigset_t chld, none;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigemptyset(&none);
  handle();
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int late = 0;
  for (int i = 0; i < N; i++) {
    pid_t c = fork();
    if (c == 0) _exit(i & 0x7f);
    /* Bounded: SIGALRM ends the sigsuspend if the SIGCHLD never comes. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (reaped < i + 1) {
      alarm(1);
      sigsuspend(&none);
      alarm(0);
      clock_gettime(CLOCK_MONOTONIC, &t1);
      if (t1.tv_sec - t0.tv_sec > 10) break;
    }
    if (reaped < i + 1) late++;
  }
  printf("race: %d children, %d reaped by the handler, %d never signalled%s\n", N, (int)reaped, late, bad ? "; a wait failed" : "");
  return 0;
}

static int subreaper(void) {
  pid_t s = fork();
  if (s != 0) {
    int st;
    waitpid(s, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int p[2];
  if (pipe(p) != 0) _exit(1);
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
  close(p[0]);
  int st;
  waitpid(a, &st, 0);
  pid_t w = waitpid(-1, &st, WNOHANG);
  printf("subreaper %d: after its child %d ended, WNOHANG: %d\n", (int)getpid(), (int)a, (int)w);
  close(p[1]);
  for (int i = 0; i < 1000 && (w = waitpid(-1, &st, WNOHANG)) == 0; i++) nap(10);
  printf("subreaper: WNOHANG found %d, status %d\n", (int)w, w > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  errno = 0;
  w = waitpid(-1, &st, WNOHANG);
  printf("subreaper: then %d %s\n", (int)w, errno == ECHILD ? "ECHILD" : strerror(errno));
  _exit(0);
}

static int many(int n) {
  int p[2];
  if (pipe(p) != 0) return 1;
  for (int i = 0; i < n; i++) {
    pid_t c = fork();
    if (c < 0) return 1;
    if (c == 0) {
      char x;
      close(p[1]);
      read(p[0], &x, 1); /* until the parent closes the pipe */
      _exit(0);
    }
  }
  close(p[0]);
  errno = 0;
  pid_t w = waitpid(-1, NULL, WNOHANG);
  printf("many %d: WNOHANG while they live: %d\n", n, (int)w);
  close(p[1]);
  int got = 0;
  while (waitpid(-1, NULL, 0) > 0) got++;
  errno = 0;
  w = waitpid(-1, NULL, WNOHANG);
  printf("many %d: reaped %d, then %d %s\n", n, got, (int)w, w < 0 && errno == ECHILD ? "ECHILD" : "?");
  return 0;
}

static volatile sig_atomic_t chlds;

static void count_chld(int s) {
  chlds++;
}

/* exit_notify → do_notify_parent queues the SIGCHLD, then __wake_up_parent wakes the wait,
   whose return to user mode runs the handler (exit_to_user_mode_loop → arch_do_signal_or_restart). */
static int order(void) {
  enum { N = 100 };
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = count_chld;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  int late = 0, never = 0;
  for (int i = 0; i < N; i++) {
    sig_atomic_t before = chlds;
    pid_t c = fork();
    if (c == 0) _exit(0);
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
    }
    if (chlds == before) late++;
    /* Bounded: 10 s for a handler that has not run yet. */
    for (int n = 0; chlds == before && n < 1000; n++) nap(10);
    if (chlds == before) never++;
  }
  printf("order: %d waits, %d returned before the child's SIGCHLD handler ran, %d never signalled\n", N, late, never);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *c = argc > 1 ? argv[1] : "";
  if (!strcmp(c, "burst")) return burst();
  if (!strcmp(c, "race")) return race();
  if (!strcmp(c, "subreaper")) return subreaper();
  if (!strcmp(c, "many") && argc > 2) return many(atoi(argv[2]));
  if (!strcmp(c, "order")) return order();
  fprintf(stderr, "usage: statepage burst|race|subreaper|many N|order\n");
  return 2;
}
