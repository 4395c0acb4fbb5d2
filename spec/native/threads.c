/*
 * Threads of a native program as PID 1 (spec/native.threads.test.ts runs it under
 * `blinkd run` and under `unshare --pid --fork --mount-proc`; the output must match):
 * thread ids come from the pids' number space, a child forked after two threads gets the
 * pid after theirs, a thread forks a child of its own, a thread takes with sigwaitinfo a
 * signal every thread blocks, a signal sent to one thread (tgkill) runs the handler in
 * that thread, so does pthread_kill, raise in a thread runs the handler before it returns,
 * /proc shows the threads (read from outside at each "inspect"), a thread execs while
 * another one lives (the new image has the leader's pid and is alone), and in the new
 * image the main thread calls pthread_exit: the process ends, with status 0, when the last
 * thread does.
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

static sem_t go[2], done;
static pid_t tids[2], pids[2];
static volatile sig_atomic_t usr1_tid, usr1_pid, usr1_code;

static void take(sem_t *s) {
  while (sem_wait(s) != 0)
    if (errno != EINTR) abort(); /* sem_wait(3) is never restarted after a handler */
}

static void on_usr1(int sig, siginfo_t *si, void *uc) {
  usr1_pid = si->si_pid;
  usr1_code = si->si_code;
  usr1_tid = gettid();
}

static void inspect(void) {
  char line[64];
  printf("inspect\n");
  if (!fgets(line, sizeof line, stdin)) exit(90);
}

static void *worker(void *arg) {
  int i = (int)(long)arg;
  tids[i] = gettid();
  pids[i] = getpid();
  sem_post(&done);
  take(&go[i]);
  if (i == 0) {
    pid_t c = fork();
    if (c == 0) {
      printf("child of thread %d: pid %d, ppid %d, tid %d\n", tids[0], getpid(), getppid(), gettid());
      _exit(6);
    }
    int st = 0;
    pid_t w = waitpid(c, &st, 0);
    printf("thread %d: waitpid = %d (forked %d), exited %d\n", gettid(), w, c, WEXITSTATUS(st));
    usr1_tid = 0;
    raise(SIGUSR1);
    printf("thread %d: raise: the handler ran in thread %d before it returned, si_pid=%d si_code=%d\n", gettid(), (int)usr1_tid, (int)usr1_pid, (int)usr1_code);
  } else {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    while ((r = sigwaitinfo(&set, &si)) < 0 && errno == EINTR) {
    }
    printf("thread %d: sigwaitinfo = %d, si_pid=%d si_code=%d\n", gettid(), r, si.si_pid, si.si_code);
  }
  sem_post(&done);
  take(&go[i]);
  return NULL;
}


static void reap(pid_t c, const char *what) {
  int st = 0;
  pid_t w;
  while ((w = waitpid(c, &st, 0)) < 0 && errno == EINTR) {
  }
  printf("%s %d: waitpid = %d, exited %d\n", what, c, w, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

static void *idle(void *arg) {
  for (;;) pause();
  return NULL;
}

static void *last(void *arg) {
  struct timespec ms = {0, 100000000};
  nanosleep(&ms, NULL); /* the main thread has called pthread_exit */
  printf("thread %d: the main thread has left\n", gettid());
  inspect();
  return NULL; /* the last thread: the process exits 0 */
}

static void *exec_self(void *arg) {
  printf("thread %d: exec\n", gettid());
  execl("/proc/self/exe", "threads", "exec", (char *)NULL);
  printf("exec failed: %s\n", strerror(errno));
  exit(92);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) {
    printf("after the exec: pid %d, tid %d\n", getpid(), gettid());
    inspect();
    pthread_t t;
    pthread_create(&t, NULL, last, NULL);
    pthread_exit(NULL);
  }
  sigset_t u2;
  sigemptyset(&u2);
  sigaddset(&u2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &u2, NULL); /* every thread inherits it */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  sem_init(&go[0], 0, 0);
  sem_init(&go[1], 0, 0);
  sem_init(&done, 0, 0);

  pthread_t th[2];
  for (long i = 0; i < 2; i++) {
    if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) return 91;
    take(&done);
  }
  printf("main: pid %d, tid %d\n", getpid(), gettid());
  printf("threads: tids %d %d, getpid %d %d\n", tids[0], tids[1], pids[0], pids[1]);

  pid_t c = fork();
  if (c == 0) _exit(0);
  printf("child forked after the threads: %d\n", c);
  reap(c, "child");

  /* A thread forks. */
  sem_post(&go[0]);
  take(&done);

  /* A child sends SIGUSR2, which every thread blocks, to the process: the thread waiting
     for it takes it. */
  sem_post(&go[1]);
  c = fork();
  if (c == 0) _exit(kill(1, SIGUSR2) == 0 ? 0 : 1);
  take(&done);
  reap(c, "SIGUSR2 sender");

  /* A child sends SIGUSR1 to the second thread only. */
  usr1_tid = 0;
  c = fork();
  if (c == 0) _exit(tgkill(1, tids[1], SIGUSR1) == 0 ? 0 : 1);
  reap(c, "SIGUSR1 sender");
  for (int n = 0; !usr1_tid && n < 5000; n++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  printf("SIGUSR1 for thread %d ran in thread %d, si_pid=%d\n", tids[1], (int)usr1_tid, (int)usr1_pid);

  usr1_tid = 0;
  pthread_kill(th[1], SIGUSR1);
  for (int n = 0; !usr1_tid && n < 5000; n++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  printf("pthread_kill: SIGUSR1 for thread %d ran in thread %d, si_pid=%d si_code=%d\n", tids[1], (int)usr1_tid, (int)usr1_pid, (int)usr1_code);

  inspect();
  sem_post(&go[0]);
  sem_post(&go[1]);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);
  printf("joined\n");
  inspect();

  c = fork();
  if (c == 0) _exit(0);
  reap(c, "child after the join");

  pthread_t ex;
  pthread_create(&ex, NULL, idle, NULL);
  pthread_create(&ex, NULL, exec_self, NULL);
  for (;;) pause();
}
