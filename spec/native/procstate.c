/*
 * A real process in a known state, for comparing blinkd's /proc formats with Linux's
 * (spec/procfs.test.ts): SIGPIPE ignored, SIGUSR2 caught, nothing blocked, a second thread
 * named "wo rk(er)", and a child that exits with status 3 without exec and stays a zombie.
 * Prints "PID CHILD TID" once all of that holds, then sleeps until killed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void on_usr2(int s) { (void)s; }

static void *worker(void *a) {
  (void)a;
  prctl(PR_SET_NAME, "wo rk(er)");
  pthread_mutex_lock(&mu);
  tid = (pid_t)syscall(SYS_gettid);
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
  for (;;) pause();
  return 0;
}

int main(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, 0);
  for (int s = 1; s < 32; s++)
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, 0);
  pid_t child = fork();
  if (child == 0) _exit(3);
  /* Wait until the child is a zombie without reaping it. */
  siginfo_t si;
  waitid(P_PID, child, &si, WEXITED | WNOWAIT);
  pthread_t th;
  pthread_create(&th, 0, worker, 0);
  pthread_mutex_lock(&mu);
  while (!tid) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  int e1 = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK);
  int e2 = eventfd(0, EFD_CLOEXEC);
  printf("%d %d %d %d %d\n", getpid(), child, tid, e1, e2);
  fflush(stdout);
  for (;;) pause();
}
