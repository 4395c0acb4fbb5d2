/* Runs eventfd and descriptor operations on real Linux, one per stdin line, and prints one
 * result line each, in the format spec/eventfd.linux.test.ts also produces through blinkd:
 *   efd INIT FLAGS | read FD SIZE | write FD VALUE SIZE | close FD | dup FD |
 *   dup2 OLD NEW | dup3 OLD NEW FLAGS | fcntl FD CMD ARG | ready FD | poll FD EVENTS TIMEOUT |
 *   fdinfo FD (pos, flags, eventfd-count and eventfd-semaphore of /proc/self/fdinfo/FD)
 * A descriptor argument "$K" is the descriptor that line K (from 0) returned; a number is
 * used as it is. A call returning a new descriptor prints "fd"; a failure prints the errno
 * name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

static int fds[4096];

static const char *ename(int e) {
  switch (e) {
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EINTR: return "EINTR";
    case EPERM: return "EPERM";
    default: { static char b[32]; snprintf(b, sizeof b, "E%d", e); return b; }
  }
}

static long long arg(const char *s) {
  if (s[0] == '$') return fds[atoi(s + 1)];
  return strtoll(s, 0, 0);
}

int main(void) {
  char line[256];
  /* The daemon's default RLIMIT_NOFILE. */
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = 1024;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) { perror("setrlimit"); return 1; }
  for (int k = 0; fgets(line, sizeof line, stdin) && k < 4096; k++) {
    char op[16], a[40] = "", b[40] = "", c[40] = "";
    fds[k] = -1;
    if (sscanf(line, "%15s %39s %39s %39s", op, a, b, c) < 1) continue;
    errno = 0;
    long long r = -1;
    int newfd = 0;
    uint64_t v = 0;
    if (!strcmp(op, "efd")) { r = eventfd((unsigned)arg(a), (int)arg(b)); newfd = 1; }
    else if (!strcmp(op, "read")) { char buf[64]; r = read((int)arg(a), buf, (size_t)arg(b)); if (r >= 8) memcpy(&v, buf, 8); }
    else if (!strcmp(op, "write")) { char buf[64] = {0}; v = strtoull(b, 0, 0); memcpy(buf, &v, 8); r = write((int)arg(a), buf, (size_t)arg(c)); v = 0; }
    else if (!strcmp(op, "close")) r = close((int)arg(a));
    else if (!strcmp(op, "dup")) { r = dup((int)arg(a)); newfd = 1; }
    else if (!strcmp(op, "dup2")) { r = dup2((int)arg(a), (int)arg(b)); newfd = 2; }
    else if (!strcmp(op, "dup3")) { r = dup3((int)arg(a), (int)arg(b), (int)arg(c)); newfd = 2; }
    else if (!strcmp(op, "fcntl")) { int cmd = (int)arg(b); r = fcntl((int)arg(a), cmd, (int)arg(c)); newfd = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC; }
    else if (!strcmp(op, "ready")) { struct pollfd p = { (int)arg(a), POLLIN | POLLOUT, 0 }; r = poll(&p, 1, 0); if (r >= 0) r = p.revents; }
    else if (!strcmp(op, "poll")) { struct pollfd p = { (int)arg(a), (short)arg(b), 0 }; r = poll(&p, 1, (int)arg(c)); if (r >= 0) { printf("%lld %d\n", r, p.revents); fflush(stdout); continue; } }
    else if (!strcmp(op, "fdinfo")) {
      /* The lines of /proc/self/fdinfo/FD that do not depend on the machine, joined by "|". */
      char path[64], l[128], acc[512] = "";
      snprintf(path, sizeof path, "/proc/self/fdinfo/%d", (int)arg(a));
      FILE *f = fopen(path, "r");
      if (!f) { printf("%s\n", ename(errno == ENOENT ? EBADF : errno)); fflush(stdout); continue; }
      while (fgets(l, sizeof l, f)) {
        l[strcspn(l, "\n")] = 0;
        if (!strncmp(l, "flags:", 6) || !strncmp(l, "eventfd-count:", 14) || !strncmp(l, "eventfd-semaphore:", 18) || !strncmp(l, "pos:", 4)) {
          if (*acc) strcat(acc, "|");
          strcat(acc, l);
        }
      }
      fclose(f);
      printf("%s\n", acc);
      fflush(stdout);
      continue;
    }
    else { printf("bad op %s\n", op); fflush(stdout); continue; }
    if (r < 0) printf("%s\n", ename(errno));
    else if (newfd == 1) { fds[k] = (int)r; printf("fd\n"); }
    else if (newfd == 2) { fds[k] = (int)r; printf("%s\n", r == arg(b) ? "newfd" : "other"); }
    else if (!strcmp(op, "read")) printf("%lld %" PRIu64 "\n", r, v);
    else printf("%lld\n", r);
    fflush(stdout);
  }
  return 0;
}
