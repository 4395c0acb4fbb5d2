/* sigwait.c: an ordinary program (no blinkd code) that blocks signals and takes them with
 * sigwait, sigwaitinfo and sigtimedwait, run as PID 1 by spec/native.siginfo.test.ts under
 * `blinkd run` (the preload, delivery 1) and under `unshare --pid --fork --mount-proc`,
 * expecting the same output.
 *
 *  1. sigwait takes a blocked SIGTERM from a child, already pending, then one sent while
 *     it waits; the SIGCHLD of each child stays pending until sigtimedwait takes it.
 *  2. sigwaitinfo gives the sender's pid and SI_USER, and a child's SIGCHLD with
 *     CLD_EXITED and its status; sigtimedwait takes a real-time signal once per kill, then
 *     EAGAIN, and times out with nothing pending.
 *  3. A handled signal sent twice while blocked runs its handler once, at the unblock.
 *  4. Not init: a child that blocks SIGTERM takes it with sigwait and exits 7; another
 *     keeps it pending while blocked and dies of it when it unblocks (default action).
 *  5. "ready": the test sends SIGUSR1 from outside the namespace (si_pid 0); "inspect":
 *     it reads PID 1's /proc status, then writes a line to stdin and the program exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RT 40

static volatile sig_atomic_t count, from, code;

static void on(int s, siginfo_t *si, void *uc) {
  count++;
  from = si->si_pid;
  code = si->si_code;
}

static void info(const char *what, int r, const siginfo_t *si) {
  if (r < 0) printf("%s: %s\n", what, errno == EAGAIN ? "EAGAIN" : strerror(errno));
  else if (r == SIGCHLD) printf("%s: %d si_pid=%d si_code=%d si_status=%d\n", what, r, (int)si->si_pid, si->si_code, si->si_status);
  else printf("%s: %d si_pid=%d si_code=%d\n", what, r, (int)si->si_pid, si->si_code);
}

static sigset_t one(int s) {
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, s);
  return m;
}

/* Reaps c and takes the SIGCHLD its exit left pending. */
static void reap(pid_t c, const char *what) {
  int st;
  waitpid(c, &st, 0);
  sigset_t m = one(SIGCHLD);
  siginfo_t si;
  struct timespec zero = {0, 0};
  info(what, sigtimedwait(&m, &si, &zero), &si);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sigset_t set;
  sigemptyset(&set);
  int sigs[] = {SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD, RT};
  for (int i = 0; i < 5; i++) sigaddset(&set, sigs[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t me = getpid();
  sigset_t term = one(SIGTERM);
  siginfo_t si;
  int sig = 0;

  /* 1. */
  pid_t c = fork();
  if (c == 0) _exit(kill(me, SIGTERM));
  reap(c, "first child's SIGCHLD");
  sigwait(&term, &sig);
  printf("sigwait (pending): %d\n", sig);
  c = fork();
  if (c == 0) {
    usleep(200000);
    _exit(kill(me, SIGTERM));
  }
  sig = 0;
  sigwait(&term, &sig);
  printf("sigwait (waiting): %d\n", sig);
  reap(c, "second child's SIGCHLD");

  /* 2. */
  c = fork();
  if (c == 0) {
    usleep(100000);
    kill(me, SIGUSR1);
    _exit(5);
  }
  printf("third child %d\n", (int)c);
  sigset_t usr1 = one(SIGUSR1), chld = one(SIGCHLD), rt = one(RT), usr2 = one(SIGUSR2);
  info("sigwaitinfo USR1", sigwaitinfo(&usr1, &si), &si);
  info("sigwaitinfo CHLD", sigwaitinfo(&chld, &si), &si);
  waitpid(c, NULL, 0);
  c = fork();
  if (c == 0) {
    for (int i = 0; i < 3; i++) kill(me, RT);
    _exit(0);
  }
  reap(c, "fourth child's SIGCHLD");
  struct timespec zero = {0, 0}, tenth = {0, 100000000};
  for (int i = 0; i < 4; i++) info("sigtimedwait RT", sigtimedwait(&rt, &si, &zero), &si);
  info("sigtimedwait USR2 for 0.1 s", sigtimedwait(&usr2, &si, &tenth), &si);

  /* 3. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR2, &sa, NULL);
  c = fork();
  if (c == 0) {
    kill(me, SIGUSR2);
    kill(me, SIGUSR2);
    _exit(0);
  }
  reap(c, "fifth child's SIGCHLD");
  sigset_t p;
  sigpending(&p);
  printf("while blocked: pending USR2 %d, handler ran %d times\n", sigismember(&p, SIGUSR2), (int)count);
  sigprocmask(SIG_UNBLOCK, &usr2, NULL);
  printf("after the unblock: handler ran %d times, si_pid=%d si_code=%d\n", (int)count, (int)from, (int)code);

  /* 4. */
  int go[2], ready[2];
  if (pipe(go) || pipe(ready)) return 1;
  char b = 0;
  c = fork();
  if (c == 0) {
    (void)!write(ready[1], "r", 1);
    int s = 0;
    sigwait(&term, &s);
    printf("child %d: sigwait got %d\n", (int)getpid(), s);
    _exit(7);
  }
  (void)!read(ready[0], &b, 1);
  kill(c, SIGTERM);
  int st;
  waitpid(c, &st, 0);
  printf("child %d: %s %d\n", (int)c, WIFEXITED(st) ? "exited" : "killed by", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  c = fork();
  if (c == 0) {
    (void)!write(ready[1], "r", 1);
    (void)!read(go[0], &b, 1);
    sigpending(&p);
    printf("child %d: SIGTERM pending %d, still alive\n", (int)getpid(), sigismember(&p, SIGTERM));
    sigprocmask(SIG_UNBLOCK, &term, NULL);
    printf("child %d: not reached\n", (int)getpid());
    _exit(0);
  }
  (void)!read(ready[0], &b, 1);
  kill(c, SIGTERM);
  (void)!write(go[1], "g", 1);
  waitpid(c, &st, 0);
  printf("child %d: %s %d\n", (int)c, WIFEXITED(st) ? "exited" : "killed by", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  sigtimedwait(&chld, &si, &zero);
  sigtimedwait(&chld, &si, &zero);

  /* 5. */
  printf("ready\n");
  info("from outside", sigwaitinfo(&usr1, &si), &si);
  printf("inspect\n");
  char line[16];
  if (read(0, line, sizeof line) < 0) return 1;
  return 0;
}
