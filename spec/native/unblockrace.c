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
      its loop and exit 0). */
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

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  queued_and_coalesced();
  fatal_while_unblocking();
  return 0;
}
