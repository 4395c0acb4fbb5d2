/* eventfd across processes on real Linux; prints the trace spec/eventfd.linux.test.ts also
 * produces through blinkd with guest agents:
 *   fork shares the counter; a blocked read in the child completes with the parent's write;
 *   a signal without SA_RESTART interrupts a blocked read (EINTR) and moves nothing;
 *   exec keeps a plain descriptor and closes an EFD_CLOEXEC one.
 * usage: efd_procs            (the scenario)
 *        efd_procs probe A B  (after exec: what F_GETFD says of A and B)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void onusr1(int s) { (void)s; }

/* Waits until pid sleeps (state S in /proc/PID/stat): it is blocked in its read. */
static void wait_sleeping(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  for (;;) {
    FILE *f = fopen(path, "r");
    if (!f) exit(3);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p && p[2] == 'S') return;
    usleep(1000);
  }
}

static void say(const char *s) { printf("%s\n", s); fflush(stdout); }

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "probe")) {
    for (int i = 2; i < 4; i++) {
      int r = fcntl(atoi(argv[i]), F_GETFD);
      printf("after exec: %s %s\n", i == 2 ? "plain" : "cloexec", r < 0 ? (errno == EBADF ? "EBADF" : "error") : "open");
    }
    return 0;
  }
  uint64_t v;
  int e = eventfd(0, 0), c = eventfd(0, EFD_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) { v = 2; write(e, &v, 8); _exit(0); }
  waitpid(pid, 0, 0);
  read(e, &v, 8);
  printf("parent read %llu after the child wrote\n", (unsigned long long)v);
  fflush(stdout);

  pid = fork();
  if (pid == 0) { read(e, &v, 8); printf("child read %llu\n", (unsigned long long)v); fflush(stdout); _exit(0); }
  wait_sleeping(pid);
  v = 5; write(e, &v, 8);
  waitpid(pid, 0, 0);

  pid = fork();
  if (pid == 0) {
    struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = onusr1; sigaction(SIGUSR1, &sa, 0);
    ssize_t r = read(e, &v, 8);
    say(r < 0 && errno == EINTR ? "child read EINTR" : "child read something");
    _exit(0);
  }
  wait_sleeping(pid);
  kill(pid, SIGUSR1);
  waitpid(pid, 0, 0);
  v = 7; write(e, &v, 8);
  read(e, &v, 8);
  printf("counter after the interrupt then a write of 7: %llu\n", (unsigned long long)v);
  fflush(stdout);

  pid = fork();
  if (pid == 0) {
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", e); snprintf(b, sizeof b, "%d", c);
    execl("/proc/self/exe", argv[0], "probe", a, b, (char *)0);
    _exit(127);
  }
  waitpid(pid, 0, 0);
  return 0;
}
