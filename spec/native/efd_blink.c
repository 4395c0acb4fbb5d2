/* eventfd(2) through libc, run as PID 1 in blink (`blinkd run --blink`) and natively
 * (`unshare --pid --fork --mount-proc`): spec/blink.eventfd.test.ts compares the lines.
 *
 *   efd_blink            every case below, one line per result
 *   efd_blink bench N    N write+read round trips between two processes; prints µs each
 *   efd_blink hold       eventfds held by two processes while the test reads /proc from
 *                        outside ("inspect" line, then one line on stdin to go on)
 *   efd_blink after-exec FD…   (run by the exec case) which descriptors survived execve
 *
 * Waits are bounded (alarm) and say what did not come; nothing depends on timing except
 * that a process signalled 100 ms after it said it is about to block has blocked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX 0xfffffffffffffffeULL

static const char *ename(int e) {
  switch (e) {
    case 0: return "ok";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EINTR: return "EINTR";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ESPIPE: return "ESPIPE";
    default: { static char b[32]; snprintf(b, sizeof b, "E%d", e); return b; }
  }
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list va;
  va_start(va, fmt);
  vprintf(fmt, va);
  va_end(va);
  putchar('\n');
  fflush(stdout);
}

/* read(2) of 8 bytes: "VALUE" or the errno's name */
static const char *rd(int fd) {
  static char b[64];
  uint64_t v;
  ssize_t n = read(fd, &v, 8);
  if (n == 8) snprintf(b, sizeof b, "%" PRIu64, v);
  else snprintf(b, sizeof b, "%s", n < 0 ? ename(errno) : "short");
  return b;
}

/* a read that never blocks: "empty" when the counter is 0 */
static const char *rd_nb(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, 0) == 1 && (p.revents & POLLNVAL)) return "EBADF";
  if (poll(&p, 1, 0) == 0) return "empty";
  return rd(fd);
}

static const char *wr(int fd, uint64_t v) {
  return write(fd, &v, 8) == 8 ? "ok" : ename(errno);
}

static void must(int ok, const char *what) {
  if (!ok) {
    say("FAILED: %s: %s", what, strerror(errno));
    exit(1);
  }
}

static void on_alarm(int sig) {
  static const char m[] = "FAILED: timed out waiting\n";
  (void)sig;
  (void)!write(1, m, sizeof m - 1);
  _exit(2);
}

/* every wait is bounded: the whole case must end within `s` seconds */
static void bound(int s) {
  signal(SIGALRM, on_alarm);
  alarm(s);
}

static void reap(pid_t pid, const char *who) {
  int ws;
  pid_t r;
  /* a signalling child may ring once more between its last check of `stop` and its exit:
     that handler (no SA_RESTART) interrupts this wait on Linux too */
  while ((r = waitpid(pid, &ws, 0)) == -1 && errno == EINTR) {
  }
  must(r == pid, "waitpid");
  if (!WIFEXITED(ws) || WEXITSTATUS(ws)) say("%s ended with status %#x", who, ws);
}

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

static void semaphore(void) {
  int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
  must(fd >= 0, "eventfd");
  say("semaphore: fd %d", fd);
  for (int i = 0; i < 4; i++) say("semaphore: read %s", rd(fd));
  say("semaphore: write 2 %s", wr(fd, 2));
  for (int i = 0; i < 3; i++) say("semaphore: read %s", rd(fd));
  close(fd);
}

static void nonblocking(void) {
  int fd = eventfd(0, EFD_NONBLOCK);
  say("nonblock: read %s", rd(fd));
  say("nonblock: write 5 %s", wr(fd, 5));
  say("nonblock: write 6 %s", wr(fd, 6));
  say("nonblock: read %s", rd(fd));
  say("nonblock: read %s", rd(fd));
  uint32_t small = 1;
  say("nonblock: read of 4 bytes %s", read(fd, &small, 4) < 0 ? ename(errno) : "ok");
  say("nonblock: write of 4 bytes %s", write(fd, &small, 4) < 0 ? ename(errno) : "ok");
  uint64_t v;
  say("nonblock: pread %s", pread(fd, &v, 8, 0) < 0 ? ename(errno) : "ok");
  say("nonblock: lseek %s", lseek(fd, 0, SEEK_SET) < 0 ? ename(errno) : "ok");
  int fl = fcntl(fd, F_GETFL);
  say("nonblock: F_GETFL O_NONBLOCK %d O_RDWR %d", !!(fl & O_NONBLOCK), (fl & O_ACCMODE) == O_RDWR);
  must(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0, "F_SETFL");
  say("nonblock: after F_SETFL 0 F_GETFL O_NONBLOCK %d", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
  must(fcntl(fd, F_SETFL, O_NONBLOCK) == 0, "F_SETFL");
  say("nonblock: after F_SETFL O_NONBLOCK read %s", rd(fd));
  close(fd);
  say("nonblock: read after close %s", rd(fd));
}

static void overflow(void) {
  int fd = eventfd(0, EFD_NONBLOCK);
  say("overflow: write max %s", wr(fd, MAX));
  say("overflow: write 1 %s", wr(fd, 1));
  say("overflow: write 0 %s", wr(fd, 0));
  say("overflow: write 0xffffffffffffffff %s", wr(fd, ~0ULL));
  say("overflow: read %s", rd(fd));
  say("overflow: write max %s", wr(fd, MAX));
  say("overflow: write 1 %s", wr(fd, 1));
  close(fd);
  /* blocking: a write past the ceiling waits until another process reads */
  bound(10);
  int b = eventfd(0, 0), go = eventfd(0, 0);
  say("overflow: blocking write max %s", wr(b, MAX));
  pid_t pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    uint64_t v;
    must(read(go, &v, 8) == 8, "read go");
    msleep(100);
    must(read(b, &v, 8) == 8, "read b");
    _exit(v == MAX ? 0 : 1);
  }
  say("overflow: write 1 to tell the child %s", wr(go, 1));
  say("overflow: write 7 (blocks until the child reads) %s", wr(b, 7));
  say("overflow: then read %s", rd(b));
  reap(pid, "overflow child");
  alarm(0);
  close(b);
  close(go);
}

static void polling(void) {
  bound(10);
  int fd = eventfd(0, EFD_NONBLOCK);
  struct pollfd p = {fd, POLLIN | POLLOUT, 0};
  int n = poll(&p, 1, 0);
  say("poll: empty %d revents %#x", n, p.revents);
  p.events = POLLIN;
  n = poll(&p, 1, 0);
  say("poll: empty, POLLIN only %d revents %#x", n, p.revents);
  wr(fd, MAX);
  p.events = POLLIN | POLLOUT;
  n = poll(&p, 1, 0);
  say("poll: full %d revents %#x", n, p.revents);
  rd(fd);
  fd_set r, w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(fd, &r);
  FD_SET(fd, &w);
  struct timeval tv = {0, 0};
  n = select(fd + 1, &r, &w, 0, &tv);
  say("select: empty %d readable %d writable %d", n, FD_ISSET(fd, &r), FD_ISSET(fd, &w));
  /* a blocking poll is woken by another process's write */
  pid_t pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    msleep(100);
    _exit(write(fd, &(uint64_t){4}, 8) == 8 ? 0 : 1);
  }
  p.events = POLLIN;
  n = poll(&p, 1, 5000);
  say("poll: woken by the child's write %d revents %#x", n, p.revents);
  say("poll: read %s", rd(fd));
  reap(pid, "poll child");
  pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    msleep(100);
    _exit(write(fd, &(uint64_t){5}, 8) == 8 ? 0 : 1);
  }
  FD_ZERO(&r);
  FD_SET(fd, &r);
  tv.tv_sec = 5;
  n = select(fd + 1, &r, 0, 0, &tv);
  say("select: woken by the child's write %d readable %d", n, FD_ISSET(fd, &r));
  say("select: read %s", rd(fd));
  reap(pid, "select child");
  alarm(0);
  close(fd);
}

static void epolling(void) {
  bound(10);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42}, out[4];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  say("epoll: epfd %d fd %d", ep, fd);
  say("epoll: MOD before ADD %s", epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) ? ename(errno) : "ok");
  say("epoll: ADD %s", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? ename(errno) : "ok");
  say("epoll: ADD again %s", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? ename(errno) : "ok");
  say("epoll: empty %d", epoll_wait(ep, out, 4, 0));
  wr(fd, 2);
  int n = epoll_wait(ep, out, 4, 0);
  say("epoll: after write 2: %d events %#x data %" PRIu64, n, n > 0 ? out[0].events : 0, n > 0 ? out[0].data.u64 : 0);
  n = epoll_wait(ep, out, 4, 0);
  say("epoll: level-triggered, again %d", n);
  say("epoll: read %s", rd(fd));
  say("epoll: then %d", epoll_wait(ep, out, 4, 0));
  /* a blocking epoll_wait is woken by another process's write */
  pid_t pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    msleep(100);
    _exit(write(fd, &(uint64_t){9}, 8) == 8 ? 0 : 1);
  }
  n = epoll_wait(ep, out, 4, 5000);
  say("epoll: woken by the child's write %d data %" PRIu64, n, n > 0 ? out[0].data.u64 : 0);
  say("epoll: read %s", rd(fd));
  reap(pid, "epoll child");
  ev.data.u64 = 43;
  say("epoll: MOD %s", epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) ? ename(errno) : "ok");
  wr(fd, 1);
  n = epoll_wait(ep, out, 4, 0);
  say("epoll: after MOD %d data %" PRIu64, n, n > 0 ? out[0].data.u64 : 0);
  say("epoll: DEL %s", epoll_ctl(ep, EPOLL_CTL_DEL, fd, 0) ? ename(errno) : "ok");
  say("epoll: DEL again %s", epoll_ctl(ep, EPOLL_CTL_DEL, fd, 0) ? ename(errno) : "ok");
  say("epoll: after DEL %d", epoll_wait(ep, out, 4, 0));
  /* a dup is its own entry; closing the eventfd's last descriptor drops it (eventpoll_release) */
  int d = dup(fd);
  ev.data.u64 = 44;
  say("epoll: ADD dup %d %s", d, epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev) ? ename(errno) : "ok");
  n = epoll_wait(ep, out, 4, 0);
  say("epoll: dup ready %d data %" PRIu64, n, n > 0 ? out[0].data.u64 : 0);
  close(d);
  close(fd);
  say("epoll: after closing both %d", epoll_wait(ep, out, 4, 0));
  close(ep);
  alarm(0);
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

/* a blocked read interrupted by a handled signal: EINTR without SA_RESTART, the read
   goes on with it */
static void interrupted(int restart) {
  const char *how = restart ? "SA_RESTART" : "no SA_RESTART";
  bound(10);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGUSR1, &sa, 0);
  handled = 0;
  int fd = eventfd(0, 0), ready = eventfd(0, 0), stop = eventfd(0, EFD_NONBLOCK);
  pid_t parent = getpid(), pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    uint64_t v;
    must(read(ready, &v, 8) == 8, "read ready");
    /* the parent said it is about to block: signal it until it says stop (no SA_RESTART),
       or three times and then write 7 (SA_RESTART) */
    for (int i = 0; i < 50; i++) {
      msleep(100);
      if (read(stop, &v, 8) == 8) _exit(0);
      kill(parent, SIGUSR1);
      if (restart && i == 2) _exit(write(fd, &(uint64_t){7}, 8) == 8 ? 0 : 1);
    }
    _exit(1);
  }
  wr(ready, 1);
  const char *r = rd(fd);
  say("signal (%s): blocked read gives %s, handler ran %s", how, r, handled ? "yes" : "no");
  wr(stop, 1);
  reap(pid, "signalling child");
  signal(SIGUSR1, SIG_DFL);
  /* a host timer's SIGALRM (blink gets it from the host, not from blinkd) */
  if (!restart) {
    struct sigaction sb = {0};
    sb.sa_handler = on_usr1;
    sigaction(SIGALRM, &sb, 0);
    handled = 0;
    struct itimerval it = {{0, 0}, {0, 200000}};
    setitimer(ITIMER_REAL, &it, 0);
    r = rd(fd);
    say("signal (SIGALRM from a timer): blocked read gives %s, handler ran %s", r, handled ? "yes" : "no");
  }
  alarm(0);
  close(fd);
  close(ready);
  close(stop);
}

/* fork shares the eventfd: N rounds of ping (parent to child) and pong (child to parent) */
static double pingpong(int rounds) {
  int ping = eventfd(0, 0), pong = eventfd(0, 0);
  pid_t pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    uint64_t v, sum = 0;
    for (int i = 0; i < rounds; i++) {
      must(read(ping, &v, 8) == 8, "child read");
      sum += v;
      must(write(pong, &v, 8) == 8, "child write");
    }
    _exit(sum == (uint64_t)rounds * (rounds + 1) / 2 ? 0 : 1);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint64_t sum = 0, v;
  for (int i = 1; i <= rounds; i++) {
    v = i;
    must(write(ping, &v, 8) == 8, "parent write");
    must(read(pong, &v, 8) == 8, "parent read");
    sum += v;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  reap(pid, "ping-pong child");
  close(ping);
  close(pong);
  if (sum != (uint64_t)rounds * (rounds + 1) / 2) say("ping-pong: sum %" PRIu64, sum);
  return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / rounds;
}

static void fdflags(const char *what, int fd) {
  int f = fcntl(fd, F_GETFD);
  say("%s %d: %s", what, fd, f < 0 ? ename(errno) : f & FD_CLOEXEC ? "cloexec" : "open");
}

/* dup, dup2, dup3, F_DUPFD_CLOEXEC, close; then execve keeps what is not FD_CLOEXEC */
static void descriptors(const char *self) {
  bound(10);
  int a = eventfd(0, EFD_CLOEXEC);
  int b = dup(a);
  int c = fcntl(a, F_DUPFD_CLOEXEC, 20);
  int d = dup2(a, 30);
  int e = dup3(a, 31, O_CLOEXEC);
  fdflags("dup: eventfd(EFD_CLOEXEC)", a);
  fdflags("dup: dup", b);
  fdflags("dup: F_DUPFD_CLOEXEC 20", c);
  fdflags("dup: dup2 30", d);
  fdflags("dup: dup3 31 O_CLOEXEC", e);
  say("dup: write 3 through %d %s", d, wr(d, 3));
  say("dup: read through %d %s", e, rd_nb(e));
  say("dup: close %d %s", a, close(a) ? ename(errno) : "ok");
  say("dup: close again %s", close(a) ? ename(errno) : "ok");
  say("dup: write 1 through %d %s", b, wr(b, 1));
  int f = eventfd(0, 0);
  say("dup: a new eventfd takes the lowest free number %d", f);
  say("dup: dup2 %d over %d %s", f, b, dup2(f, b) == b ? "ok" : ename(errno));
  say("dup: read through %d (now the new one) %s", b, rd_nb(b));
  say("dup: read through %d (the old one) %s", c, rd_nb(c));
  must(fcntl(b, F_SETFD, FD_CLOEXEC) == 0, "F_SETFD");
  fdflags("dup: after F_SETFD", b);
  must(fcntl(d, F_SETFD, FD_CLOEXEC) == 0 && fcntl(d, F_SETFD, 0) == 0, "F_SETFD");
  fdflags("dup: after F_SETFD twice", d);
  wr(d, 11);
  wr(f, 12);
  char fds[6][16];
  int list[6] = {b, c, d, e, f, 0};
  char *argv[9] = {(char *)self, "after-exec"};
  for (int i = 0; i < 5; i++) {
    snprintf(fds[i], sizeof fds[i], "%d", list[i]);
    argv[2 + i] = fds[i];
  }
  argv[7] = 0;
  fflush(stdout);
  pid_t pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    execv(self, argv);
    _exit(127);
  }
  reap(pid, "exec child");
  alarm(0);
  close(b);
  close(c);
  close(d);
  close(e);
  close(f);
}

static void after_exec(int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    int fd = atoi(argv[i]);
    int f = fcntl(fd, F_GETFD);
    say("exec: %d %s%s%s", fd, f < 0 ? ename(errno) : f & FD_CLOEXEC ? "cloexec" : "open", f < 0 ? "" : ", read ",
        f < 0 ? "" : rd_nb(fd));
  }
}

/* Eventfds held by two processes while the test reads /proc from outside: PID 1 holds an
   eventfd (5, EFD_NONBLOCK | EFD_CLOEXEC) at 3 and at 9 (dup2) and one (0) at 4 that its
   child, PID 2, is blocked reading. */
static void hold(void) {
  char line[64];
  int a = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
  int b = eventfd(0, 0);
  must(dup2(a, 9) == 9, "dup2");
  pid_t pid = fork();
  must(pid >= 0, "fork");
  if (!pid) {
    uint64_t v;
    _exit(read(b, &v, 8) == 8 && v == 6 ? 0 : 1);
  }
  say("hold: %d %d 9, child %d", a, b, (int)pid);
  /* the child is blocked in its read before the test looks */
  msleep(300);
  say("inspect");
  if (!fgets(line, sizeof line, stdin)) say("hold: no line on stdin");
  say("hold: write 6 to the child %s", wr(b, 6));
  reap(pid, "hold child");
  say("hold: read %s", rd(9));
}

int main(int argc, char **argv) {
  setvbuf(stdout, 0, _IOLBF, 0);
  if (argc > 1 && !strcmp(argv[1], "after-exec")) {
    after_exec(argc, argv);
    return 0;
  }
  if (argc > 2 && !strcmp(argv[1], "bench")) {
    int n = atoi(argv[2]);
    pingpong(n / 10 + 1); /* warm up */
    printf("%.2f\n", pingpong(n));
    return 0;
  }
  if (argc > 1 && !strcmp(argv[1], "hold")) {
    hold();
    return 0;
  }
  say("pid %d", (int)getpid());
  semaphore();
  nonblocking();
  overflow();
  polling();
  epolling();
  interrupted(0);
  interrupted(1);
  pingpong(100);
  say("ping-pong: 100 rounds between two processes");
  descriptors(argv[0]);
  say("done");
  return 0;
}
