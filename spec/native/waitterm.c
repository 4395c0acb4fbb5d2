/*
 * A blocking waitpid that a signal ends: PID 1 handles SIGTERM (no SA_RESTART), forks a child
 * and waits for it; the child says "ready" 500 ms later and pauses. The SIGTERM sent from
 * outside on "ready" runs the handler and waitpid returns -1 EINTR (do_wait: signal_pending
 * ends the wait, -ERESTARTSYS, and without SA_RESTART the call returns EINTR once the handler
 * ran). Then PID 1 kills and reaps the child and exits 42. spec/blink.programs.test.ts runs it
 * in blink with a 2 s pause before the wait parks in blinkd (BLINKD_TEST_PARK_DELAY_US), so the
 * doorbell lands after blink's last look and before the C client blocks host signals: it
 * must still end the wait. With the argument "eventfd" the blocking call is a read of an
 * eventfd nobody writes (eventfd_read: wait_event_interruptible), which ends the same way; with
 * "read", a read of stdin, a pipe nobody writes (pipe_read), run with a 2 s pause before a
 * blocking host read's check instead (BLINKD_TEST_SAFE_DELAY_US, blink/daemonsafe.c). The
 * child, not PID 1, says ready, so the signal comes while PID 1 is already in its call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on(int s) {
  (void)s;
  got++;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "waitpid";
  int efd = strcmp(mode, "eventfd") == 0 ? eventfd(0, 0) : strcmp(mode, "read") == 0 ? 0 : -1;
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on;
  sigaction(SIGTERM, &sa, NULL);
  pid_t c = fork();
  if (c == 0) {
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
    write(1, "ready\n", 6); /* one write: the reader acts on "ready" at once */
    for (;;) pause();
  }
  int st = 0;
  if (efd >= 0) {
    uint64_t v;
    ssize_t n = read(efd, &v, sizeof v);
    int e = errno;
    printf("read: %s; the handler ran %d time(s)\n", n == -1 ? strerrorname_np(e) : "returned a value", (int)got);
  } else {
    pid_t w = waitpid(c, &st, 0);
    int e = errno;
    printf("waitpid: %s; the handler ran %d time(s)\n", w == -1 ? strerrorname_np(e) : "returned the child", (int)got);
  }
  kill(c, SIGKILL);
  waitpid(c, &st, 0);
  printf("child: %s\n", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
  return 42;
}
