/*
 * A SIGCHLD that comes after exit(3) has begun, while the program's own destructors run: on
 * Linux the handler still runs, with the child's pid (the process has not made the exit_group
 * system call yet); so it does under the preload, whose exit_group goes out after them. Once
 * exit_group is posted the preload drops a doorbell (the daemon has the process's exit, its
 * pending signals are gone): before, one that rang in the instant between the post and the
 * end of the preload's hook asked the daemon (sig_dequeue, ESRCH: "taking a signal
 * (sig_dequeue): No such process" on stderr, once in a CI run), and one after it ran the
 * handler with the host's siginfo. That instant cannot be hit on purpose from here; what this
 * checks is the edge before it: the handler runs with the child's pid, nothing on stderr.
 * Run as PID 1's child under `blinkd run` and under `unshare --pid --fork`
 * (spec/native.programs.test.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t foreign, mine;
static volatile pid_t child;
static void on(int s, siginfo_t *si, void *uc) {
  (void)s, (void)uc;
  if (si->si_pid != child) foreign++;
  else mine++;
}

static void nap(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

/* Runs after every atexit handler, the preload's among them (_dl_fini). */
__attribute__((destructor)) static void late(void) {
  if (getenv("EXITLATE_CHILD")) return;
  /* The child ends meanwhile (it naps 100 ms): wait for its SIGCHLD, for at most 10 s. */
  for (int i = 0; i < 1000 && !mine && !foreign; i++) nap(10);
  printf("destructor done; the handler saw another pid %d time(s), the child's %d time(s)\n", (int)foreign, (int)mine);
  fflush(stdout);
}

int main(void) {
  /* Not as PID 1 (init's exit ends the namespace): PID 1 waits for this process. */
  pid_t q = fork();
  if (q > 0) {
    setenv("EXITLATE_CHILD", "1", 1);
    int st;
    while (waitpid(q, &st, 0) < 0 && errno == EINTR) {
    }
    printf("exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t b, o;
  sigemptyset(&b);
  sigaddset(&b, SIGCHLD);
  sigprocmask(SIG_BLOCK, &b, &o);
  pid_t c = fork();
  child = c;
  sigprocmask(SIG_SETMASK, &o, NULL);
  if (c == 0) {
    setenv("EXITLATE_CHILD", "1", 1);
    nap(100);
    _exit(0);
  }
  return 3;
}
