/* The Linux side's scenario agent: the same line protocol as agent.ts, made of real
 * system calls. `blinkd script --linux` builds it with cc and starts it as PID 1 of a new
 * PID namespace (unshare --pid --fork), and `--blink` runs it in blink as PID 1 of a
 * fresh blinkd namespace; every process of the scenario is this program,
 * forked (an `exec` step execs it again, keeping its connection: the new image answers
 * the exec's line). Each process connects to the coordinator on its own socket and answers its
 * commands, one line each:
 *   coordinator -> agent   SEQ OP ARG...        (a trailing "&" marks a background call)
 *   agent -> coordinator   hello NAME PID HOSTPID
 *                          r SEQ RESULT ERRNO [EXTRA...]
 * On Linux /proc is the host's (no --mount-proc), so /proc/self names the host pid, which
 * the coordinator uses to see when a process is blocked in a call or has died. In blink
 * /proc is the namespace's (HOSTPID is then the pid), and the coordinator asks the daemon. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

static const char *coord_path;
static char me[64]; /* this process's name in the scenario */
static int coord = -1;
/* The agent's own descriptors live at ERRFD (HIGH - 1) and above, so that a scenario's descriptors are
 * numbered from 0 as the daemon numbers them (lowest free first): the eventfd steps print
 * the same descriptor numbers on both sides. */
#define HIGH 900
#define ERRFD (HIGH - 1)
static int errfd = 2;

static int move_high(int fd) {
  int h = fcntl(fd, F_DUPFD_CLOEXEC, HIGH);
  if (h < 0) return fd;
  close(fd);
  return h;
}

static void die(const char *what) {
  dprintf(errfd, "blinkd script linux agent: %s: %s\n", what, strerror(errno));
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
  coord = move_high(coord);
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

/* What the handler of `sigaction ... handler` records for `await`: each run's siginfo, in
 * order. The main program reads it only with every signal blocked (await), so the handler
 * is the only writer while signals can arrive. `exit:CODE` handlers _exit instead. */
struct rec { int signo, pid, code, uid, status; };
static volatile struct rec recs[256];
static volatile int nrec;
static int exit_code[65]; /* 0: record; CODE+1: _exit(CODE) */

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (sig > 0 && sig < 65 && exit_code[sig]) _exit(exit_code[sig] - 1);
  if (nrec < 256) {
    volatile struct rec *r = &recs[nrec];
    r->signo = sig; r->pid = si->si_pid; r->code = si->si_code; r->uid = (int)si->si_uid;
    r->status = sig == SIGCHLD ? si->si_status : 0;
    nrec = nrec + 1;
  }
}

/* Takes the first recorded run of `sig`, waiting (with the mask the process had) until
 * there is one: in sigsuspend, or with a bound of `ms` milliseconds (ms >= 0) in ppoll,
 * which then returns 0 when none came. */
static int await_signal(int sig, long ms, char *extra, size_t cap) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  struct timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += ms / 1000;
  end.tv_nsec += (ms % 1000) * 1000000L;
  if (end.tv_nsec >= 1000000000L) end.tv_sec++, end.tv_nsec -= 1000000000L;
  for (;;) {
    for (int i = 0; i < nrec; i++)
      if (recs[i].signo == sig) {
        struct rec r = {recs[i].signo, recs[i].pid, recs[i].code, recs[i].uid, recs[i].status};
        for (int j = i; j + 1 < nrec; j++) recs[j] = recs[j + 1];
        nrec = nrec - 1;
        snprintf(extra, cap, " %d %d %d %d %d", r.signo, r.pid, r.code, r.uid, r.status);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 1;
      }
    if (ms < 0) {
      sigsuspend(&old);
      continue;
    }
    struct timespec now, left;
    clock_gettime(CLOCK_MONOTONIC, &now);
    left.tv_sec = end.tv_sec - now.tv_sec;
    left.tv_nsec = end.tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) left.tv_sec--, left.tv_nsec += 1000000000L;
    if (left.tv_sec < 0) {
      sigprocmask(SIG_SETMASK, &old, NULL);
      return 0;
    }
    ppoll(NULL, 0, &left, &old);
  }
}

/* The signals whose handler ran and that no await took, in the order they ran; forgets them. */
static int take_handled(char *extra, size_t cap) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  int n = nrec;
  size_t used = 0;
  extra[0] = 0;
  for (int i = 0; i < n && used + 4 < cap; i++) used += (size_t)snprintf(extra + used, cap - used, " %d", recs[i].signo);
  nrec = 0;
  sigprocmask(SIG_SETMASK, &old, NULL);
  return n;
}

static void reply(const char *seq, long r, int e, const char *extra) {
  char line[256];
  snprintf(line, sizeof line, "r %s %ld %d%s\n", seq, r, r < 0 ? e : 0, extra);
  say(line);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    dprintf(2, "usage: %s COORDINATOR-SOCKET [NAME [--exec FD SEQ]]\n", argv[0]);
    return 2;
  }
  coord_path = argv[1];
  /* No core dumps, as blinkd (which writes none, so a status never has WCOREDUMP): a limit
   * of 1 also stops a piped core_pattern (do_coredump treats it as the recursion guard) and
   * is below any binary format's minimum dump for a file pattern. */
  struct rlimit core = {1, 1};
  setrlimit(RLIMIT_CORE, &core);
  snprintf(me, sizeof me, "%s", argc > 2 ? argv[2] : "init");
  if (argc > 5 && !strcmp(argv[3], "--exec")) {
    /* The new image of an `exec` step: the same connection, kept open across execve. */
    coord = atoi(argv[4]);
    fcntl(coord, F_SETFD, FD_CLOEXEC);
    reply(argv[5], 0, 0, "");
  } else {
    /* The first image: stderr moves to ERRFD (kept across exec) and 0, 1, 2 are closed, so
     * that the scenario's descriptors number from 0 as the daemon's do. */
    dup2(2, ERRFD);
    close(0), close(1), close(2);
    hello(me);
  }
  errfd = ERRFD;
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
    uint64_t v = 0;
    long r;
    errno = 0;
    if (!strcmp(op, "fork")) {
      pid_t p = fork();
      if (p == 0) {
        close(coord); /* the parent's connection must close when the parent dies */
        nrec = 0;     /* the handler runs recorded so far were the parent's */
        snprintf(me, sizeof me, "%s", tok[2]);
        hello(tok[2]);
        continue;
      }
      r = p;
    } else if (!strcmp(op, "exec")) {
      char fd[16];
      snprintf(fd, sizeof fd, "%d", coord);
      fcntl(coord, F_SETFD, 0);
      execl("/proc/self/exe", argv[0], coord_path, me, "--exec", fd, seq, (char *)0);
      int e = errno;
      fcntl(coord, F_SETFD, FD_CLOEXEC);
      r = -1;
      errno = e;
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
      long code = nt > 5 ? strtol(tok[5], 0, 0) : 0;
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      if (a2 >= 2) {
        sa.sa_sigaction = on_signal;
        sa.sa_flags = (int)a3 | SA_SIGINFO;
      } else {
        sa.sa_handler = a2 == 0 ? SIG_DFL : SIG_IGN;
        sa.sa_flags = (int)a3;
      }
      sigemptyset(&sa.sa_mask);
      r = sigaction((int)a1, &sa, NULL);
      if (r == 0 && a1 > 0 && a1 < 65) exit_code[a1] = a2 == 3 ? (int)code + 1 : 0;
    } else if (!strcmp(op, "sigmask")) {
      sigset_t m;
      sigemptyset(&m);
      unsigned long lo = (unsigned long)a2, hi = (unsigned long)a3;
      for (int i = 0; i < 32; i++) {
        if (lo >> i & 1) sigaddset(&m, i + 1);
        if (hi >> i & 1) sigaddset(&m, i + 33);
      }
      r = sigprocmask(a1 == 0 ? SIG_BLOCK : SIG_UNBLOCK, &m, NULL);
    } else if (!strcmp(op, "sigpending")) {
      sigset_t m;
      unsigned long lo = 0, hi = 0;
      r = sigpending(&m);
      for (int i = 0; i < 32; i++) {
        if (sigismember(&m, i + 1) == 1) lo |= 1UL << i;
        if (i + 33 <= 64 && sigismember(&m, i + 33) == 1) hi |= 1UL << i;
      }
      snprintf(extra, sizeof extra, " %lu %lu", lo, hi);
    } else if (!strcmp(op, "await")) {
      r = await_signal((int)a1, nt > 3 ? a2 : -1, extra, sizeof extra) ? 0 : -1;
      if (r < 0) errno = EAGAIN;
    } else if (!strcmp(op, "handled")) {
      r = take_handled(extra, sizeof extra);
    } else if (!strcmp(op, "tkill")) {
      r = syscall(SYS_tkill, (pid_t)a1, (int)a2);
    } else if (!strcmp(op, "tgkill")) {
      r = syscall(SYS_tgkill, (pid_t)a1, (pid_t)a2, (int)a3);
    } else if (!strcmp(op, "setresuid")) {
      r = setresuid((uid_t)a1, (uid_t)a2, (uid_t)a3);
    } else if (!strcmp(op, "getpgrp")) {
      r = getpgrp();
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
    } else if (!strcmp(op, "efd_new")) {
      r = eventfd((unsigned)a1, (int)a2);
    } else if (!strcmp(op, "efd_read")) {
      r = read((int)a1, &v, (size_t)a2);
      if (r >= 0) snprintf(extra, sizeof extra, " %" PRIu64, v);
    } else if (!strcmp(op, "efd_write")) {
      v = strtoull(tok[3], 0, 10);
      r = write((int)a1, &v, (size_t)a3);
    } else if (!strcmp(op, "fd_close")) {
      r = close((int)a1);
    } else if (!strcmp(op, "fd_dup")) {
      r = dup((int)a1);
    } else if (!strcmp(op, "fd_dup3")) {
      r = a3 == -1 ? dup2((int)a1, (int)a2) : dup3((int)a1, (int)a2, (int)a3);
    } else if (!strcmp(op, "fd_fcntl")) {
      r = fcntl((int)a1, (int)a2, (int)a3);
    } else if (!strcmp(op, "fd_poll0")) {
      struct pollfd p = {.fd = (int)a1, .events = (short)a2};
      r = poll(&p, 1, 0);
      snprintf(extra, sizeof extra, " %d", r >= 0 ? p.revents : 0);
    } else {
      r = -1;
      errno = ENOSYS;
    }
    reply(seq, r, errno, extra);
  }
  return 0;
}
