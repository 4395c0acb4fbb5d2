/* The Linux side's scenario agent: the same line protocol as agent.ts, made of real
 * system calls. `blinkd script --linux` builds it with cc and starts it as PID 1 of a new
 * PID namespace (unshare --pid --fork); every process of the scenario is this program,
 * forked. Each process connects to the coordinator on its own socket and answers its
 * commands, one line each:
 *   coordinator -> agent   SEQ OP ARG...        (a trailing "&" marks a background call)
 *   agent -> coordinator   hello NAME PID HOSTPID
 *                          r SEQ RESULT ERRNO [EXTRA...]
 * /proc is the host's (no --mount-proc), so /proc/self names the host pid, which the
 * coordinator uses to see when a process is blocked in a call or has died. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

static const char *coord_path;
static int coord = -1;

static void die(const char *what) {
  dprintf(2, "blinkd script linux agent: %s: %s\n", what, strerror(errno));
  _exit(70);
}

static void say(const char *line) {
  size_t n = strlen(line), off = 0;
  while (off < n) {
    ssize_t w = write(coord, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0); /* the coordinator is gone: the scenario is over */
    off += (size_t)w;
  }
}

static void hello(const char *name) {
  coord = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (coord < 0) die("socket");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", coord_path);
  while (connect(coord, (struct sockaddr *)&a, sizeof a) < 0)
    if (errno != EINTR) die("connect");
  char self[64] = {0}, line[256];
  if (readlink("/proc/self", self, sizeof self - 1) < 0) die("readlink /proc/self");
  snprintf(line, sizeof line, "hello %s %d %s\n", name, (int)getpid(), self);
  say(line);
}

/* One line from the coordinator; a signal handler's EINTR is retried. */
static int readline_(char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(coord, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    if (c == '\n') break;
    if (n + 1 < cap) buf[n++] = c;
  }
  buf[n] = 0;
  return (int)n;
}

static void on_signal(int sig) { (void)sig; }

static void reply(const char *seq, long r, int e, const char *extra) {
  char line[256];
  snprintf(line, sizeof line, "r %s %ld %d%s\n", seq, r, r < 0 ? e : 0, extra);
  say(line);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    dprintf(2, "usage: %s COORDINATOR-SOCKET [NAME]\n", argv[0]);
    return 2;
  }
  coord_path = argv[1];
  hello(argc > 2 ? argv[2] : "init");
  char line[512];
  while (readline_(line, sizeof line) >= 0) {
    char *tok[16];
    int nt = 0;
    for (char *s = strtok(line, " "); s && nt < 16; s = strtok(NULL, " ")) tok[nt++] = s;
    if (nt < 2) continue;
    if (strcmp(tok[nt - 1], "&") == 0) nt--; /* background: nothing to do differently here */
    const char *seq = tok[0], *op = tok[1];
    long a1 = nt > 2 ? strtol(tok[2], 0, 0) : 0, a2 = nt > 3 ? strtol(tok[3], 0, 0) : 0, a3 = nt > 4 ? strtol(tok[4], 0, 0) : 0;
    char extra[128] = "";
    long r;
    errno = 0;
    if (!strcmp(op, "fork")) {
      pid_t p = fork();
      if (p == 0) {
        close(coord); /* the parent's connection must close when the parent dies */
        hello(tok[2]);
        continue;
      }
      r = p;
    } else if (!strcmp(op, "exit")) {
      reply(seq, 0, 0, "");
      _exit((int)a1);
    } else if (!strcmp(op, "getpid")) {
      r = getpid();
    } else if (!strcmp(op, "getppid")) {
      r = getppid();
    } else if (!strcmp(op, "wait4")) {
      int st = 0;
      r = wait4((pid_t)a1, &st, (int)a2, NULL);
      snprintf(extra, sizeof extra, " %d", r > 0 ? st : 0);
    } else if (!strcmp(op, "waitid")) {
      siginfo_t si;
      memset(&si, 0, sizeof si);
      r = waitid((idtype_t)a1, (id_t)a2, &si, (int)a3);
      if (r == 0) snprintf(extra, sizeof extra, " %d %d %d %d %d", (int)si.si_pid, (int)si.si_uid, si.si_signo, si.si_status, si.si_code);
    } else if (!strcmp(op, "setsub")) {
      r = prctl(PR_SET_CHILD_SUBREAPER, (unsigned long)a1, 0, 0, 0);
    } else if (!strcmp(op, "getsub")) {
      int v = -1;
      r = prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0);
      snprintf(extra, sizeof extra, " %d", v);
    } else if (!strcmp(op, "sigaction")) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = a2 == 0 ? SIG_DFL : a2 == 1 ? SIG_IGN : on_signal;
      sa.sa_flags = (int)a3;
      sigemptyset(&sa.sa_mask);
      r = sigaction((int)a1, &sa, NULL);
    } else if (!strcmp(op, "kill")) {
      r = kill((pid_t)a1, (int)a2);
    } else if (!strcmp(op, "setpgid")) {
      r = setpgid((pid_t)a1, (pid_t)a2);
    } else if (!strcmp(op, "getpgid")) {
      r = getpgid((pid_t)a1);
    } else if (!strcmp(op, "setsid")) {
      r = setsid();
    } else if (!strcmp(op, "getsid")) {
      r = getsid((pid_t)a1);
    } else {
      r = -1;
      errno = ENOSYS;
    }
    reply(seq, r, errno, extra);
  }
  return 0;
}
