/* Runs a signal/group/session scenario (spec/scenarios/NAME.txt) on real Linux, as PID 1 of a
   fresh namespace (unshare --pid --fork --mount-proc), and prints its trace. The same
   script runs through blinkd with one agent per process (spec/helpers/scenario.ts); the
   traces must be identical.

   A line is "ACTOR OP ARGS..."; "$name" is that actor's pid. init (PID 1) is the
   controller: it sends each command to its actor through that actor's pipe and waits for
   the actor's acknowledgement, so lines run one at a time, in order. Ops:
     fork NAME              a plain fork (no exec); NAME runs commands from now on
     setpgid P G | getpgid P | getpgrp | setsid | getsid P
     kill P S | tkill T S | tgkill G T S | setresuid R E S
     handle S [restart|nocldstop] | ignore S | default S | block S | unblock S | sigpending
     awaitsig S             block until a handled S arrived; print its siginfo
     wait P OPTS            wait4; OPTS 0 or names joined by | (WNOHANG WUNTRACED WCONTINUED)
     exit CODE              _exit after the acknowledgement
     exec                   execve this program again (same pid; handlers reset to default)
   Lines starting with # and blank lines are skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MAXA 16
static char names[MAXA][32];
static int pids[MAXA], nact = 1;
static int cmdp[MAXA][2], ackp[2], recp[2];
static int me; /* this process's actor index */

struct rec { int signo, pid, code, uid, status; };
static struct rec pend[256];
static int npend;

static const char *en(int e) {
  switch (e) {
    case EPERM: return "EPERM"; case ESRCH: return "ESRCH"; case ECHILD: return "ECHILD";
    case EINVAL: return "EINVAL"; case EACCES: return "EACCES"; case EAGAIN: return "EAGAIN";
    case EINTR: return "EINTR"; default: return "E?";
  }
}
static const char *st(int s) {
  static char b[64];
  if (WIFEXITED(s)) snprintf(b, sizeof b, "exited(%d)", WEXITSTATUS(s));
  else if (WIFSIGNALED(s)) snprintf(b, sizeof b, "killed(%d)", WTERMSIG(s));
  else if (WIFSTOPPED(s)) snprintf(b, sizeof b, "stopped(%d)", WSTOPSIG(s));
  else if (WIFCONTINUED(s)) snprintf(b, sizeof b, "continued");
  else snprintf(b, sizeof b, "raw(%#x)", s);
  return b;
}
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  buf[n++] = '\n';
  if (write(1, buf, n) != n) abort();
}
static void rdall(int fd, void *p, size_t n) {
  char *c = p;
  while (n) { ssize_t r = read(fd, c, n); if (r < 0 && errno == EINTR) continue; if (r <= 0) _exit(99); c += r; n -= r; }
}
static void wrall(int fd, const void *p, size_t n) { if (write(fd, p, n) != (ssize_t)n) _exit(98); }

static void onsig(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  int e = errno;
  struct rec r = {sig, si->si_pid, si->si_code, (int)si->si_uid, sig == SIGCHLD ? si->si_status : 0};
  if (write(recp[1], &r, sizeof r) < 0) {}
  errno = e;
}

static int sigmask_of(int s) { sigset_t m; sigemptyset(&m); sigaddset(&m, s); return sigprocmask(SIG_BLOCK, &m, NULL); }
static int wopts(const char *s) {
  int o = 0;
  if (strstr(s, "WNOHANG")) o |= WNOHANG;
  if (strstr(s, "WUNTRACED")) o |= WUNTRACED;
  if (strstr(s, "WCONTINUED")) o |= WCONTINUED;
  return o;
}

#define CALL(expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
  if (r_ < 0) out("%s: %s -> -1 %s", names[me], line, en(e_)); else out("%s: %s -> %ld", names[me], line, r_); } while (0)

/* Runs one command in this process; returns the value to acknowledge (a forked pid). */
static void loop(void) __attribute__((noreturn));
static int run(char *line);
static void loop(void) {
  for (;;) {
    char cmd[256];
    int len;
    rdall(cmdp[me][0], &len, sizeof len);
    rdall(cmdp[me][0], cmd, len);
    cmd[len] = 0;
    if (!strcmp(cmd, "exec")) {
      /* execve this program again: same pid, handlers reset, pipes kept; acknowledged by the new image */
      char a[4][16];
      snprintf(a[0], 16, "%d", me); snprintf(a[1], 16, "%d", cmdp[me][0]); snprintf(a[2], 16, "%d", ackp[1]);
      execl("/proc/self/exe", "scenario", "--actor", a[0], a[1], a[2], names[me], (char *)0);
      _exit(97);
    }
    int v = run(cmd);
    wrall(ackp[1], &v, sizeof v);
    if (!strncmp(cmd, "exit", 4)) _exit(atoi(cmd + 5));
  }
}

static int run(char *line) {
  char op[32] = "", a1[64] = "", a2[64] = "", a3[64] = "";
  sscanf(line, "%31s %63s %63s %63s", op, a1, a2, a3);
  int x = atoi(a1), y = atoi(a2), z = atoi(a3);
  if (!strcmp(op, "fork")) {
    int idx = x;
    pid_t c = fork();
    if (c == 0) {
      me = idx;
      snprintf(names[me], sizeof names[me], "%.31s", a2);
      close(recp[0]); close(recp[1]);
      if (pipe(recp)) abort();
      npend = 0;
      loop();
    }
    out("%s: fork -> %d", names[me], c);
    return c;
  }
  if (!strcmp(op, "setpgid")) CALL(setpgid(x, y));
  else if (!strcmp(op, "getpgid")) CALL(getpgid(x));
  else if (!strcmp(op, "getpgrp")) CALL(getpgrp());
  else if (!strcmp(op, "setsid")) CALL(setsid());
  else if (!strcmp(op, "getsid")) CALL(getsid(x));
  else if (!strcmp(op, "kill")) CALL(kill(x, y));
  else if (!strcmp(op, "tkill")) CALL(syscall(SYS_tkill, x, y));
  else if (!strcmp(op, "tgkill")) CALL(syscall(SYS_tgkill, x, y, z));
  else if (!strcmp(op, "setresuid")) CALL(setresuid(x, y, z));
  else if (!strcmp(op, "handle")) {
    struct sigaction sa = {0};
    sa.sa_sigaction = onsig;
    sa.sa_flags = SA_SIGINFO | (strstr(a2, "restart") ? SA_RESTART : 0) | (strstr(a2, "nocldstop") ? SA_NOCLDSTOP : 0);
    CALL(sigaction(x, &sa, NULL));
  } else if (!strcmp(op, "ignore") || !strcmp(op, "default")) {
    struct sigaction sa = {0};
    sa.sa_handler = op[0] == 'i' ? SIG_IGN : SIG_DFL;
    CALL(sigaction(x, &sa, NULL));
  } else if (!strcmp(op, "block")) CALL(sigmask_of(x));
  else if (!strcmp(op, "unblock")) {
    sigset_t m; sigemptyset(&m); sigaddset(&m, x);
    CALL(sigprocmask(SIG_UNBLOCK, &m, NULL));
  } else if (!strcmp(op, "sigpending")) {
    sigset_t m; sigpending(&m);
    unsigned long long bits = 0;
    for (int s = 1; s <= 64; s++) if (sigismember(&m, s) == 1) bits |= 1ULL << (s - 1);
    out("%s: sigpending -> %#llx", names[me], bits);
  } else if (!strcmp(op, "awaitsig")) {
    for (;;) {
      for (int i = 0; i < npend; i++) if (pend[i].signo == x) {
        struct rec r = pend[i];
        memmove(&pend[i], &pend[i + 1], (npend - i - 1) * sizeof r);
        npend--;
        out("%s: got %d pid=%d code=%d uid=%d status=%d", names[me], r.signo, r.pid, r.code, r.uid, r.status);
        return 0;
      }
      rdall(recp[0], &pend[npend++], sizeof pend[0]);
    }
  } else if (!strcmp(op, "wait")) {
    int s = 0;
    errno = 0;
    pid_t r;
    do r = wait4(x, &s, wopts(a2), NULL); while (r < 0 && errno == EINTR);
    if (r < 0) out("%s: %s -> -1 %s", names[me], line, en(errno));
    else if (r == 0) out("%s: %s -> 0", names[me], line);
    else out("%s: %s -> %d %s", names[me], line, r, st(s));
  } else if (!strcmp(op, "exit")) out("%s: exit %d", names[me], x);
  else { out("%s: unknown op %s", names[me], op); return -1; }
  return 0;
}

static int actor(const char *name) {
  for (int i = 0; i < nact; i++) if (!strcmp(names[i], name)) return i;
  return -1;
}

int main(int argc, char **argv) {
  if (argc == 6 && !strcmp(argv[1], "--actor")) {
    me = atoi(argv[2]);
    cmdp[me][0] = atoi(argv[3]);
    ackp[1] = atoi(argv[4]);
    snprintf(names[me], sizeof names[me], "%.31s", argv[5]);
    if (pipe(recp)) abort();
    out("%s: exec", names[me]);
    int v = 0;
    wrall(ackp[1], &v, sizeof v);
    loop();
  }
  if (argc < 2) return 2;
  FILE *f = fopen(argv[1], "r");
  if (!f) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  strcpy(names[0], "init");
  pids[0] = getpid();
  for (int i = 0; i < MAXA; i++) if (pipe(cmdp[i])) abort();
  if (pipe(ackp) || pipe(recp)) abort();
  char raw[256];
  while (fgets(raw, sizeof raw, f)) {
    raw[strcspn(raw, "\n")] = 0;
    if (!raw[0] || raw[0] == '#') continue;
    /* substitute $name with pids */
    char line[256] = "", who[32] = "", *p = raw;
    sscanf(raw, "%31s", who);
    p += strlen(who);
    while (*p == ' ') p++;
    for (char *o = line; *p; ) {
      if (*p == '$') {
        char n[32]; int k = 0; p++;
        while (*p && *p != ' ' && k < 31) n[k++] = *p++;
        n[k] = 0;
        int a = actor(n);
        o += sprintf(o, "%d", a < 0 ? -9999 : pids[a]);
      } else *o++ = *p++;
      *o = 0;
    }
    int a = actor(who);
    if (a < 0) { out("no actor %s", who); return 3; }
    char op[32] = "", nm[32] = "";
    sscanf(line, "%31s %31s", op, nm);
    int newidx = -1;
    if (!strcmp(op, "fork")) { newidx = nact++; strcpy(names[newidx], nm); sprintf(line, "fork %d %s", newidx, nm); }
    int v;
    if (a == 0) {
      me = 0;
      v = run(line);
      if (!strncmp(line, "exit", 4)) _exit(atoi(line + 5));
    } else {
      int len = strlen(line);
      wrall(cmdp[a][1], &len, sizeof len);
      wrall(cmdp[a][1], line, len);
      rdall(ackp[0], &v, sizeof v);
    }
    if (newidx >= 0) pids[newidx] = v;
  }
  return 0;
}
