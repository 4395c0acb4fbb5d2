/* The wait family and system(3): the daemon decides who is reaped, the host reaps the real process (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/* Reaps host children that have ended and reports their real status (§7.7); how many it reported. */
static int drain_host(void) {
  int hs, n = 0;
  pid_t h;
  while ((h = get_waitpid()(-1, &hs, WNOHANG | __WALL)) > 0) {
    int32_t p = pid_of(h);
    kid_drop(h);
    if (p > 0) {
      blinkd_report_status(&conn, p, hs);
      n++;
    }
  }
  return n;
}

/* After the daemon reaped pid: reap its host process too; a SIGKILL the daemon only
   assumed (the connection closed before the report) gives way to the host's status. */
static int exact_status(int32_t pid, int ws) {
  pid_t h = host_of(pid);
  if (!h || !(WIFEXITED(ws) || WIFSIGNALED(ws))) return ws;
  int hs;
  pid_t r;
  while ((r = get_waitpid()(h, &hs, __WALL)) < 0 && errno == EINTR) {
  }
  kid_drop(h);
  if (r == h && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL) return hs;
  return ws;
}

static pid_t do_wait4(pid_t pid, int *status, int options, struct rusage *ru) {
  if (ru) memset(ru, 0, sizeof *ru);
  /* The state page answers ECHILD, and WNOHANG's 0, when the daemon would (§10.1); not when a
     host status was just reported: the daemon's answer may change with it. */
  if (!drain_host()) {
    int64_t local = state_wait4(pid, options);
    if (local <= 0) return (pid_t)ret(local);
  }
  /* A wait that parks may get the child's SIGCHLD with its reply (wait4_sigchld), not rung. */
  tell_chld_blocked();
  struct blinkd_wait4_sigchld_out o;
  int64_t r = blinkd_wait4_sigchld(&conn, pid, options, &o);
  if (r == -EINTR) {
    /* The signal may be the child's SIGCHLD: a child that is ready is the real result. */
    drain_host();
    int64_t again = blinkd_wait4_sigchld(&conn, pid, options | WNOHANG, &o);
    if (again > 0) r = again;
  }
  if (r > 0) {
    int ws = exact_status((int32_t)r, o.wstatus);
    if (status) *status = ws;
    if (o.sig == SIGCHLD) chld_with_reply(o.sig_code, o.sig_pid, (uid_t)o.sig_uid, o.sig_status);
  }
  return (pid_t)ret(r);
}

EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
  if (!active) return (pid_t)syscall(SYS_wait4, pid, status, options, ru);
  return do_wait4(pid, status, options, ru);
}

EXPORT pid_t waitpid(pid_t pid, int *status, int options) {
  if (!active) return get_waitpid()(pid, status, options);
  return do_wait4(pid, status, options, NULL);
}

EXPORT pid_t wait(int *status) {
  return waitpid(-1, status, 0);
}

EXPORT pid_t wait3(int *status, int options, struct rusage *ru) {
  return wait4(-1, status, options, ru);
}

EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options) {
  if (!active) return (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
  drain_host();
  tell_chld_blocked();
  struct blinkd_waitid_sigchld_out o;
  int64_t r = blinkd_waitid_sigchld(&conn, (int32_t)idtype, (int32_t)id, options, &o);
  if (r == -EINTR) {
    drain_host();
    if (blinkd_waitid_sigchld(&conn, (int32_t)idtype, (int32_t)id, options | WNOHANG, &o) == 0 && o.pid > 0) r = 0;
  }
  if (r < 0) return (int)ret(r);
  if (info) {
    memset(info, 0, sizeof *info);
    info->si_signo = o.signo;
    info->si_code = o.code;
    info->si_pid = o.pid;
    info->si_uid = (uid_t)o.uid;
    info->si_status = o.status;
  }
  if (o.pid > 0 && !(options & WNOWAIT) && (o.code == CLD_EXITED || o.code == CLD_KILLED || o.code == CLD_DUMPED)) {
    int ws = o.code == CLD_EXITED ? (o.status & 0xff) << 8 : o.status | (o.code == CLD_DUMPED ? 0x80 : 0);
    int hs = exact_status(o.pid, ws);
    if (info && hs != ws) {
      info->si_code = WIFEXITED(hs) ? CLD_EXITED : WCOREDUMP(hs) ? CLD_DUMPED : CLD_KILLED;
      info->si_status = WIFEXITED(hs) ? WEXITSTATUS(hs) : WTERMSIG(hs);
    }
  }
  if (o.sig == SIGCHLD) chld_with_reply(o.sig_code, o.sig_pid, (uid_t)o.sig_uid, o.sig_status);
  return 0;
}

/* system(3): sh -c through posix_spawn (so the child is a guest), SIGINT and SIGQUIT
   ignored and SIGCHLD blocked in the caller while it waits. */
EXPORT int system(const char *cmd) {
  if (!cmd) return 1;
  struct sigaction ign, oint, oquit;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, &oint);
  sigaction(SIGQUIT, &ign, &oquit);
  sigset_t chld, omask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &omask);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t def;
  sigemptyset(&def);
  if (oint.sa_handler != SIG_IGN) sigaddset(&def, SIGINT);
  if (oquit.sa_handler != SIG_IGN) sigaddset(&def, SIGQUIT);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setsigmask(&at, &omask);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char *argv[] = {"sh", "-c", (char *)cmd, NULL};
  extern char **environ;
  pid_t pid;
  int status = -1;
  int e = posix_spawn(&pid, "/bin/sh", NULL, &at, argv, environ);
  posix_spawnattr_destroy(&at);
  if (e == 0) {
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) {
        status = -1;
        break;
      }
  } else {
    status = 127 << 8;
  }
  sigaction(SIGINT, &oint, NULL);
  sigaction(SIGQUIT, &oquit, NULL);
  sigprocmask(SIG_SETMASK, &omask, NULL);
  return status;
}
