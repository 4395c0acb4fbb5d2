/*
 * execve keeps a process's children (they stay its children: de_thread and exec_mmap leave
 * the parent link alone), so a child forked before an execve sends its SIGCHLD to the new
 * image, whose handler runs once, with the child's pid, and its waitpid reaps it. Under the
 * preload the host kernel's SIGCHLD for that child stands for the daemon's only if the new
 * image knows the child is a guest (the child table, carried across execve as BLINKD_KIDS):
 * before, the handler ran twice, the first time with the child's host pid. Run as PID 1
 * under `blinkd run` and under `unshare --pid --fork` (spec/native.programs.test.ts); the
 * execve is made by PID 1's child.
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

static volatile sig_atomic_t runs, from;
static void on(int s, siginfo_t *si, void *uc) {
  (void)s, (void)uc;
  runs++;
  from = si->si_pid;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 2) {
    /* The new image: the child forked before the execve, and the pipe that lets it exit. */
    pid_t c = (pid_t)atoi(argv[1]);
    int go = atoi(argv[2]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &sa, NULL);
    if (write(go, "x", 1) != 1) return 1;
    close(go);
    int st = 0;
    pid_t w;
    while ((w = waitpid(c, &st, 0)) < 0 && errno == EINTR) {
    }
    struct timespec t = {0, 300000000}; /* a second run of the handler would come meanwhile */
    while (nanosleep(&t, &t) != 0) {
    }
    printf("waitpid: %s, status %d; SIGCHLD handled %d time(s), si_pid %s\n", w == c ? "the child" : "not the child", WIFEXITED(st) ? WEXITSTATUS(st) : -1, (int)runs, from == c ? "the child's" : "another");
    return 0;
  }
  /* Not as PID 1: init is a subreaper, and the preload takes a subreaper's host SIGCHLD for
     the daemon's whatever its table says. */
  pid_t q = fork();
  if (q > 0) {
    int st;
    while (waitpid(q, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
  int p[2];
  if (pipe(p)) return 1;
  pid_t c = fork();
  if (c == 0) {
    close(p[1]);
    char b;
    while (read(p[0], &b, 1) < 0 && errno == EINTR) {
    }
    _exit(7);
  }
  close(p[0]);
  char a[16], f[16];
  snprintf(a, sizeof a, "%d", (int)c);
  snprintf(f, sizeof f, "%d", p[1]);
  execl("/proc/self/exe", argv[0], a, f, (char *)NULL);
  return 1;
}
