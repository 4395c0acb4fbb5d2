/* How Linux runs handlers (spec/signals.md §3, §4), run as PID 1 under `blinkd run` (the
   preload, delivery 1) and in a real PID namespace; the lines must be the same.
   - Several signals deliverable at once: get_signal dequeues the lowest first (the thread's
     own queue before the process's, the synchronous signals first: next_signal), and a frame
     is set up for each before the return to user mode, so the handler of the last one taken
     runs first.
   - A default fatal action among them wins: the process dies before any handler runs.
   - SA_RESETHAND: the action is SIG_DFL once the handler is chosen, so the next one kills. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int order[16];
static volatile int norder;
static void rec(int s) {
  if (norder < 16) order[norder++] = s;
}

static void handle(int s, int flags, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigaction(s, &sa, NULL);
}

static sigset_t set_of(int a, int b, int c) {
  sigset_t m;
  sigemptyset(&m);
  if (a) sigaddset(&m, a);
  if (b) sigaddset(&m, b);
  if (c) sigaddset(&m, c);
  return m;
}

/* Blocks the signals, makes them pending (by kill to the process, or raise to the thread),
   unblocks them in one call and prints the order their handlers ran in. */
static void burst(const char *what, int a, int b, int c, const int *send, const int *raised) {
  sigset_t m = set_of(a, b, c);
  sigprocmask(SIG_BLOCK, &m, NULL);
  norder = 0;
  for (int i = 0; send[i]; i++) kill(getpid(), send[i]);
  for (int i = 0; raised[i]; i++) raise(raised[i]);
  sigprocmask(SIG_UNBLOCK, &m, NULL);
  printf("%s:", what);
  for (int i = 0; i < norder; i++) printf(" %s", sigabbrev_np(order[i]));
  printf("\n");
}

static void status(const char *what, int st) {
  if (WIFSIGNALED(st)) printf("%s: killed(%s)\n", what, sigabbrev_np(WTERMSIG(st)));
  else if (WIFEXITED(st)) printf("%s: exited(%d)\n", what, WEXITSTATUS(st));
  else printf("%s: status %#x\n", what, st);
}

static int to_parent[2], to_child[2];
static void said(int s) {
  (void)s;
  (void)!write(to_parent[1], "h", 1);
}
static void loud(int s) {
  char line[64];
  int n = snprintf(line, sizeof line, "the handler of %s ran\n", sigabbrev_np(s));
  (void)!write(1, line, (size_t)n);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int s = 1; s < 32; s++)
    if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD) handle(s, 0, rec);
  static const int none[] = {0};
  static const int hup_usr1_usr2[] = {SIGUSR2, SIGHUP, SIGUSR1, 0};
  burst("process queue, lowest taken first, last taken runs first", SIGHUP, SIGUSR1, SIGUSR2, hup_usr1_usr2, none);
  static const int usr1[] = {SIGUSR1, 0}, usr2[] = {SIGUSR2, 0};
  burst("the thread's queue before the process's", SIGUSR1, SIGUSR2, 0, usr1, usr2);
  static const int hup_segv[] = {SIGHUP, SIGSEGV, 0};
  burst("synchronous signals first", SIGHUP, SIGSEGV, 0, hup_segv, none);

  /* A child with a handled SIGUSR1 and a default SIGTERM, both blocked and pending, unblocks
     them at once: SIGTERM's default action wins, no handler runs. */
  pipe(to_parent), pipe(to_child);
  pid_t c = fork();
  if (c == 0) {
    handle(SIGUSR1, 0, loud);
    handle(SIGTERM, 0, SIG_DFL);
    sigset_t m = set_of(SIGUSR1, SIGTERM, 0);
    sigprocmask(SIG_BLOCK, &m, NULL);
    (void)!write(to_parent[1], "r", 1);
    char x;
    (void)!read(to_child[0], &x, 1);
    sigprocmask(SIG_UNBLOCK, &m, NULL);
    printf("the child lived on\n");
    _exit(0);
  }
  char x;
  (void)!read(to_parent[0], &x, 1);
  kill(c, SIGUSR1);
  kill(c, SIGTERM);
  (void)!write(to_child[1], "g", 1);
  int st;
  waitpid(c, &st, 0);
  status("handled SIGUSR1 and default SIGTERM at once", st);

  /* SA_RESETHAND: the first SIGUSR1 runs the handler, the second takes the default action. */
  c = fork();
  if (c == 0) {
    handle(SIGUSR1, SA_RESETHAND, said);
    (void)!write(to_parent[1], "r", 1);
    for (;;) pause();
  }
  (void)!read(to_parent[0], &x, 1);
  kill(c, SIGUSR1);
  (void)!read(to_parent[0], &x, 1);
  printf("SA_RESETHAND: the handler ran (%c)\n", x);
  kill(c, SIGUSR1);
  waitpid(c, &st, 0);
  status("SA_RESETHAND: then the second SIGUSR1", st);
  return 0;
}
