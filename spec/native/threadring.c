/*
 * PID 1 (spec/helpers/threadprograms.ts: in blink, under the preload and against unshare):
 * a signal sent from another process to one thread (tgkill) after the process's main thread
 * raised the same signal at itself: the host doorbell may reach the main thread, which must
 * pass it on to the target, every time (blink's stale "passed" flag swallowed it before its
 * patch 0025); and the raise runs its handler before it returns (the preload rang only a
 * thread other than the main one: under load the doorbell went to the other thread first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 50
static sem_t never;
static volatile pid_t target;
static volatile sig_atomic_t ran_tid, ran_pid;

static void on_usr1(int sig, siginfo_t *si, void *uc) {
  ran_pid = si->si_pid;
  ran_tid = gettid();
}

static void *sleeper(void *arg) {
  target = gettid();
  for (;;) sem_wait(&never);
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  sem_init(&never, 0, 0);
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  while (!target) sched_yield();
  int good = 0;
  for (int round = 0; round < ROUNDS; round++) {
    ran_tid = 0;
    raise(SIGUSR1);
    int raised = ran_tid == gettid();
    ran_tid = 0;
    pid_t c = fork();
    if (c == 0) _exit(tgkill(getppid(), target, SIGUSR1) == 0 ? 0 : 1);
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
    }
    for (int n = 0; !ran_tid && n < 2000; n++) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
    if (raised && ran_tid == target && ran_pid == c && WIFEXITED(st) && !WEXITSTATUS(st)) good++;
    else printf("round %d: raise ran here %d; tgkill from %d ran in %s, si_pid %s\n", round, raised, c,
                ran_tid == target ? "the target" : ran_tid ? "another thread" : "no thread within 2 s",
                ran_pid == c ? "the sender's" : "another");
  }
  printf("%d of %d rounds: the handler ran in the target thread, si_pid the sender's\n", good, ROUNDS);
  return 0;
}
