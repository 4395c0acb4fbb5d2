/* signalfd.c: an ordinary program (no blinkd code) that blocks signals and reads them from a
 * signalfd, run as PID 1 by spec/native.siginfo.test.ts under `blinkd run` (the preload,
 * delivery 1) and under `unshare --pid --fork --mount-proc`, expecting the same output.
 *
 *  1. A child sends SIGUSR1, signal 40 twice and SIGTERM, and exits 3: after reaping it the
 *     parent reads them from the signalfd with the child's pid and SI_USER, lowest first,
 *     a real-time signal once per kill, and the child's SIGCHLD with CLD_EXITED and 3.
 *  2. poll waits on the signalfd for a SIGUSR1 sent while it waits.
 *  3. SIGUSR2, blocked but not in the signalfd's set, stays pending for sigwaitinfo.
 *  4. "ready": the test sends SIGUSR1 from outside the namespace (si_pid 0); "inspect": it
 *     reads PID 1's /proc status, then writes a line to stdin and the program exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define RT 40

static void show(const char *what, const struct signalfd_siginfo *x) {
  if (x->ssi_signo == SIGCHLD) printf("%s: %u si_pid=%u si_code=%d si_status=%d\n", what, x->ssi_signo, x->ssi_pid, x->ssi_code, x->ssi_status);
  else printf("%s: %u si_pid=%u si_code=%d\n", what, x->ssi_signo, x->ssi_pid, x->ssi_code);
}

/* Reads every record there is; each on its own line. */
static void drain(int fd, const char *what) {
  struct signalfd_siginfo v[8];
  ssize_t r;
  while ((r = read(fd, v, sizeof v)) > 0)
    for (size_t i = 0; i < (size_t)r / sizeof *v; i++) show(what, &v[i]);
  printf("%s: then %s\n", what, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sigset_t blocked, read_set;
  sigemptyset(&blocked);
  int sigs[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGCHLD, RT};
  for (int i = 0; i < 5; i++) sigaddset(&blocked, sigs[i]);
  sigprocmask(SIG_BLOCK, &blocked, NULL);
  read_set = blocked;
  sigdelset(&read_set, SIGUSR2);
  int fd = signalfd(-1, &read_set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return perror("signalfd"), 1;
  pid_t me = getpid();

  /* 1. */
  pid_t c = fork();
  if (c == 0) {
    kill(me, SIGUSR1);
    kill(me, RT);
    kill(me, RT);
    kill(me, SIGTERM);
    _exit(3);
  }
  waitpid(c, NULL, 0);
  drain(fd, "first child's");

  /* 2. */
  c = fork();
  if (c == 0) {
    usleep(100000);
    kill(me, SIGUSR1);
    _exit(0);
  }
  struct pollfd p = {fd, POLLIN, 0};
  int n = poll(&p, 1, 5000);
  printf("poll: %d revents %s\n", n, p.revents & POLLIN ? "POLLIN" : "-");
  struct signalfd_siginfo x;
  if (read(fd, &x, sizeof x) == sizeof x) show("second child's", &x);
  waitpid(c, NULL, 0);
  drain(fd, "second child's exit");

  /* 3. */
  c = fork();
  if (c == 0) _exit(kill(me, SIGUSR2));
  waitpid(c, NULL, 0);
  drain(fd, "third child's");
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  siginfo_t si;
  int s = sigwaitinfo(&usr2, &si);
  printf("sigwaitinfo: %d si_pid=%d (third child %d) si_code=%d\n", s, (int)si.si_pid, (int)c, si.si_code);

  /* 4. */
  printf("ready\n");
  n = poll(&p, 1, 5000);
  if (read(fd, &x, sizeof x) == sizeof x) show("from outside", &x);
  printf("inspect\n");
  char line[16];
  if (read(0, line, sizeof line) < 0) return 1;
  return 0;
}
