/* What a posix_spawn child's resets and a disposition set again do, as on Linux (make's every
   target: glibc's child sets each signal of POSIX_SPAWN_SETSIGDEF to SIG_DFL and, under
   POSIX_SPAWN_RESETIDS, calls seteuid and setegid with the ids it has).
    - A blocked signal whose action ignores it is still queued ("Blocked signals are never
      ignored", sig_ignored in kernel/signal.c), and setting an ignoring action again discards
      it (do_sigaction: sig_handler_ignored → flush_sigqueue_mask), for SIG_IGN and for the
      SIG_DFL of a signal ignored by default (SIGWINCH).
    - A handler reset to SIG_DFL and then the signal: the default action (killed).
    - SA_RESETHAND: the handler once, then the default action.
    - A spawned child with SIGUSR1's handler reset to SIG_DFL by POSIX_SPAWN_SETSIGDEF, and the
      ids reset, kills itself with SIGUSR1: killed by it.
   With the argument "spawn" it only makes the spawn (spec/blink.programs.test.ts counts the
   child's requests to blinkd). Run as PID 1 in blink under blinkd and in a real PID namespace;
   the lines must be the same. */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t got;
static void on(int sig) { got = sig; }

static void set(int sig, void (*h)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}

static int pending(int sig) {
  sigset_t p;
  sigpending(&p);
  return sigismember(&p, sig);
}

/* sig blocked, its action `h` set, sent, then `h` set again: pending before and after. */
static void again(const char *name, int sig, void (*h)(int)) {
  sigset_t b, old;
  sigemptyset(&b);
  sigaddset(&b, sig);
  sigprocmask(SIG_BLOCK, &b, &old);
  set(sig, h, 0);
  kill(getpid(), sig);
  int before = pending(sig);
  set(sig, h, 0);
  printf("%s blocked and sent: pending %d; its action set again: pending %d\n", name, before, pending(sig));
  sigprocmask(SIG_SETMASK, &old, NULL);
}

static void report(const char *what, int st) {
  if (WIFSIGNALED(st)) printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
  else printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

static pid_t spawn(void) {
  set(SIGUSR1, on, SA_RESTART);
  set(SIGINT, on, 0);
  set(SIGTERM, on, 0);
  posix_spawnattr_t a;
  posix_spawnattr_init(&a);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&a, &all);
  posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_RESETIDS);
  char *argv[] = {"sh", "-c", "kill -USR1 $$; echo survived", NULL};
  pid_t c;
  int r = posix_spawn(&c, "/bin/sh", NULL, &a, argv, environ);
  posix_spawnattr_destroy(&a);
  return r ? -1 : c;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int st;
  if (argc > 1 && !strcmp(argv[1], "spawn")) {
    pid_t c = spawn();
    if (c < 0 || waitpid(c, &st, 0) != c) return 1;
    report("spawned", st);
    return 0;
  }
  again("SIGUSR2, SIG_IGN", SIGUSR2, SIG_IGN);
  again("SIGWINCH, SIG_DFL", SIGWINCH, SIG_DFL);
  pid_t c = fork();
  if (!c) {
    set(SIGUSR2, on, 0);
    set(SIGUSR2, SIG_DFL, 0);
    raise(SIGUSR2);
    _exit(0);
  }
  waitpid(c, &st, 0);
  report("handler reset to SIG_DFL, then raised", st);
  c = fork();
  if (!c) {
    set(SIGUSR2, on, SA_RESETHAND);
    raise(SIGUSR2);
    printf("SA_RESETHAND: handler ran for %d\n", (int)got);
    raise(SIGUSR2);
    _exit(0);
  }
  waitpid(c, &st, 0);
  report("SA_RESETHAND, raised twice", st);
  c = spawn();
  if (c < 0 || waitpid(c, &st, 0) != c) return 1;
  report("spawned with SETSIGDEF and RESETIDS", st);
  return 0;
}
