/*
 * Signal masks across clone(CLONE_THREAD) and a non-leader's execve, on real Linux:
 *   - pthread_create(3): "The new thread inherits a copy of the creating thread's signal mask";
 *   - execve(2): "The signal mask is preserved", and de_thread makes the calling thread
 *     the leader, so it is the caller's mask that survives, not the old leader's.
 * Prints one line per fact; spec/core.process.test.ts makes the same calls on blinkd.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *self;
static pthread_barrier_t b;

static void show(const char *what) {
  sigset_t s;
  pthread_sigmask(SIG_BLOCK, NULL, &s);
  printf("%s:%s%s%s\n", what, sigismember(&s, SIGHUP) ? " HUP" : "", sigismember(&s, SIGUSR1) ? " USR1" : "",
         sigismember(&s, SIGUSR2) ? " USR2" : "");
  fflush(stdout);
}

static void *thread(void *arg) {
  (void)arg;
  show("new thread");
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  pthread_barrier_wait(&b); /* the leader now changes its own mask */
  pthread_barrier_wait(&b);
  execl(self, self, "after", (char *)NULL);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "after") == 0) {
    show("after the thread's execve");
    return 0;
  }
  self = argv[0];
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  sigprocmask(SIG_SETMASK, &s, NULL);
  pthread_barrier_init(&b, NULL, 2);
  pthread_t t;
  pthread_create(&t, NULL, thread, NULL);
  pthread_barrier_wait(&b);
  sigemptyset(&s);
  sigaddset(&s, SIGHUP);
  pthread_sigmask(SIG_SETMASK, &s, NULL);
  show("leader");
  pthread_barrier_wait(&b);
  for (;;) pause(); /* ended by the thread's execve (de_thread) */
}
