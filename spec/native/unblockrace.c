/* Signals sent while the receiver unblocks them, many times (spec/signals.md §4.1: a guest
   whose unblocking mask report is posted when nothing is held must still take each signal
   exactly once). Run as PID 1 under blinkd (the preload, blink) and in a real PID namespace:
   the same lines.

   1. A child sends SIGUSR1 and two real-time signals to its parent, then waits for the
      SIGUSR1 handler's acknowledgement before the next round; the parent blocks and
      unblocks them in a loop meanwhile. Every SIGUSR1 must run the handler once (a lost one
      leaves the child waiting; one delivered twice counts one more), and every real-time
      instance once (they queue: sigaction(2)).
   2. A child blocks and unblocks SIGTERM (SIG_DFL) in a loop; its parent sends SIGTERM while
      it loops. It must die of it, each of many times (a lost one lets it run to the end of
      its loop and exit 0).
   3. A signal queued while blocked acts before the unblocking sigprocmask returns
      (signal(7)): a handled one has run its handler, a fatal one has killed the process
      before its next statement; many times each (a report posted while the daemon held the
      signal unrung would let the program run on first). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 200
#define KILLS 20

static volatile sig_atomic_t usr1, rt;
static int ack[2];

static void on_usr1(int s) {
  (void)s;
  usr1++;
  int e = errno;
  (void)!write(ack[1], "a", 1);
  errno = e;
}

static void on_rt(int s) {
  (void)s;
  rt++;
}

static void status(const char *who, int st) {
  if (WIFEXITED(st)) printf("%s: exited %d\n", who, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", who, WTERMSIG(st));
  else printf("%s: status %#x\n", who, st);
}

/* Part 1. */
static void queued_and_coalesced(void) {
  int RT = SIGRTMIN + 6;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_rt;
  sigaction(RT, &sa, NULL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, RT);
  if (pipe(ack)) return perror("pipe");
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t c = fork();
  if (c == 0) {
    /* The sender: a round at a time, each after the last SIGUSR1's handler ran. */
    alarm(60);
    pid_t p = getppid();
    char b;
    for (int i = 0; i < ROUNDS; i++) {
      kill(p, SIGUSR1);
      kill(p, RT);
      kill(p, RT);
      if (read(ack[0], &b, 1) != 1) _exit(3);
    }
    _exit(0);
  }
  time_t end = time(NULL) + 60;
  long turns = 0;
  while (usr1 < ROUNDS && time(NULL) < end) {
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    for (volatile int spin = 0; spin < (int)(turns % 64); spin++) {
    }
    sigprocmask(SIG_BLOCK, &set, NULL);
    turns++;
  }
  int st;
  waitpid(c, &st, 0);
  status("sender", st);
  sigprocmask(SIG_UNBLOCK, &set, NULL); /* what is still queued runs before this returns */
  printf("SIGUSR1 sent %d times, handled %d times\n", ROUNDS, (int)usr1);
  printf("real-time signal sent %d times, handled %d times\n", 2 * ROUNDS, (int)rt);
  sigset_t p;
  sigpending(&p);
  printf("pending after: USR1 %d RT %d\n", sigismember(&p, SIGUSR1), sigismember(&p, RT));
}

/* Part 2. */
static void fatal_while_unblocking(void) {
  int killed = 0;
  for (int i = 0; i < KILLS; i++) {
    int go[2];
    if (pipe(go)) return perror("pipe");
    pid_t c = fork();
    if (c == 0) {
      sigset_t t;
      sigemptyset(&t);
      sigaddset(&t, SIGTERM);
      (void)!write(go[1], "g", 1);
      time_t end = time(NULL) + 20;
      while (time(NULL) < end) {
        sigprocmask(SIG_BLOCK, &t, NULL);
        sigprocmask(SIG_UNBLOCK, &t, NULL);
      }
      _exit(0);
    }
    char b;
    (void)!read(go[0], &b, 1);
    close(go[0]);
    close(go[1]);
    kill(c, SIGTERM);
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) killed++;
    else status("looping child", st);
  }
  printf("SIGTERM sent to %d looping children, %d died of it\n", KILLS, killed);
}

/* Part 3 (after part 1: the SIGUSR1 handler acknowledges on `ack`, which nobody reads now). */
static void queued_before_unblock(void) {
  sigset_t u;
  sigemptyset(&u);
  sigaddset(&u, SIGUSR1);
  int ran = 0;
  for (int i = 0; i < 50; i++) {
    sigprocmask(SIG_BLOCK, &u, NULL);
    int before = usr1;
    pid_t c = fork();
    if (c == 0) {
      kill(getppid(), SIGUSR1);
      _exit(0);
    }
    waitpid(c, NULL, 0); /* its kill has returned: the signal is queued */
    sigprocmask(SIG_UNBLOCK, &u, NULL);
    if (usr1 == before + 1) ran++;
  }
  printf("SIGUSR1 queued while blocked: handled before the unblocking sigprocmask returned %d of 50 times\n", ran);
  int silent = 0;
  for (int i = 0; i < 20; i++) {
    int up[2], down[2], out[2];
    if (pipe(up) || pipe(down) || pipe(out)) return perror("pipe");
    pid_t c = fork();
    if (c == 0) {
      sigset_t t;
      sigemptyset(&t);
      sigaddset(&t, SIGTERM);
      sigprocmask(SIG_BLOCK, &t, NULL);
      char b;
      (void)!write(up[1], "b", 1);
      if (read(down[0], &b, 1) != 1) _exit(3);
      sigprocmask(SIG_UNBLOCK, &t, NULL);
      (void)!write(out[1], "survived", 8);
      _exit(0);
    }
    close(out[1]);
    char b;
    (void)!read(up[0], &b, 1);
    kill(c, SIGTERM);
    (void)!write(down[1], "s", 1);
    int st;
    waitpid(c, &st, 0);
    char got[8];
    ssize_t n = read(out[0], got, sizeof got);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && n == 0) silent++;
    else if (n > 0) printf("child %d ran on after the unblock\n", i);
    else status("blocked child", st);
    close(up[0]), close(up[1]), close(down[0]), close(down[1]), close(out[0]);
  }
  printf("SIGTERM queued while blocked: the unblocking sigprocmask killed %d of 20 children before their next statement\n", silent);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  queued_and_coalesced();
  fatal_while_unblocking();
  queued_before_unblock();
  return 0;
}
