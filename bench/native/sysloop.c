/* sysloop.c: a syscall-heavy loop for the blink benchmark (bench/blink.ts). Each iteration
 * makes the calls an ordinary program makes in a tight loop, all of them blink's own (stat,
 * open, read, close, write, clock_gettime, getpid); with "mask", also a signal-mask change
 * and its restore (a program guarding a critical section), which blink with blinkd reports
 * to the daemon. Prints the iterations per second as JSON. Usage: sysloop N [mask] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000;
  int mask = argc > 2;
  struct timespec t0, t1, now;
  struct stat st;
  char buf[64];
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  int null = open("/dev/null", O_WRONLY);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    stat("/etc/hostname", &st);
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0) {
      if (read(fd, buf, sizeof buf) < 0) return 1;
      close(fd);
    }
    if (write(null, buf, 16) != 16) return 2;
    clock_gettime(CLOCK_REALTIME, &now);
    (void)getpid();
    if (mask) {
      sigprocmask(SIG_BLOCK, &usr1, &old);
      sigprocmask(SIG_SETMASK, &old, NULL);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("{\"iterations\":%ld,\"per_s\":%.1f}\n", n, n / s);
  close(null);
  return 0;
}
