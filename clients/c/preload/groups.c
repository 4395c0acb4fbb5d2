/* Process groups and sessions, the terminal's foreground group, the child subreaper: the daemon's, mirrored on the host (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/* The host group id of an emulated one, when this process can know it. */
static pid_t host_group(int32_t g) {
  if (g == mypid) return host_getpid();
  return host_of(g);
}

EXPORT int setpgid(pid_t pid, pid_t pgid) {
  if (!active) return get_setpgid()(pid, pgid);
  int64_t r = blinkd_setpgid(&conn, pid, pgid);
  if (r == 0) {
    /* Mirror on the host, so a terminal's foreground group and host job control agree. */
    pid_t hp = pid == 0 || pid == mypid ? 0 : host_of(pid);
    int32_t target = pid == 0 ? mypid : pid;
    pid_t hg = pgid == 0 || pgid == target ? 0 : host_group(pgid);
    if ((pid == 0 || pid == mypid || hp) && (pgid == 0 || pgid == target || hg)) get_setpgid()(hp, hg);
  }
  return (int)ret(r);
}

/*
 * The host kernel's own kill_orphaned_pgrp (kernel/exit.c). Groups and sessions are mirrored on
 * the host (setpgid above, setsid below), fork is a host fork and a stop is a host SIGSTOP, so
 * an exit that orphans a group with a stopped member makes the host kernel send it SIGHUP and
 * SIGCONT too (SEND_SIG_PRIV: si_code SI_KERNEL, si_pid 0), beside the daemon's pair for the
 * namespace (src/actors/exit.ts, killOrphanedPgrp): a handler ran twice for each, where Linux
 * runs it once (spec/native/orphan_once.c). The daemon's pair is the namespace's; the host's
 * rings like a doorbell (doorbell.c, is_doorbell), so a daemon doorbell merged into it is taken. A terminal's hangup (tty_vhangup) is SI_KERNEL as well, and a
 * handled SIGHUP from it is dropped with them: the daemon has no terminals to hang up.
 */
int host_orphan_signal(int s, const siginfo_t *hi) {
  return active && (s == SIGHUP || s == SIGCONT) && hi->si_code == SI_KERNEL;
}

/*
 * Whether this host process is a child subreaper (the prctl below mirrors the daemon's
 * attribute; init is one from its start, preload.c): the host kernel then hands it the
 * namespace's orphans as the daemon does, and an adopted child's host SIGCHLD (its end, or
 * a zombie reparented to it: reparent_leader) stands for the daemon's, as a forked child's
 * does (doorbell.c, is_doorbell). Without this, it ran the handler a second time with the
 * host's pid (blink's patch 0002 does the same, IsHostSubreaper). A plain system call, safe
 * in a signal handler.
 */
int host_subreaper(void) {
  int v = 0;
  return syscall(SYS_prctl, PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0) == 0 && v;
}

EXPORT int setpgrp(void) {
  return setpgid(0, 0);
}

EXPORT pid_t getpgid(pid_t pid) {
  if (!active) return (pid_t)syscall(SYS_getpgid, pid);
  return (pid_t)ret(blinkd_getpgid(&conn, pid));
}

EXPORT pid_t getpgrp(void) {
  if (!active) return (pid_t)syscall(SYS_getpgid, 0);
  return (pid_t)ret(blinkd_getpgrp(&conn));
}

EXPORT pid_t setsid(void) {
  if (!active) return get_setsid()();
  int64_t r = blinkd_setsid(&conn);
  if (r >= 0) get_setsid()();
  return (pid_t)ret(r);
}

EXPORT pid_t getsid(pid_t pid) {
  if (!active) return (pid_t)syscall(SYS_getsid, pid);
  return (pid_t)ret(blinkd_getsid(&conn, pid));
}

EXPORT int tcsetpgrp(int fd, pid_t pgrp) {
  if (!active) return get_tcsetpgrp()(fd, pgrp);
  /* The terminal knows host groups: translate the ones this process can name. */
  pid_t hg = host_group(pgrp);
  if (!hg && pgrp == getpgrp()) hg = (pid_t)syscall(SYS_getpgid, 0);
  return get_tcsetpgrp()(fd, hg ? hg : pgrp);
}

EXPORT pid_t tcgetpgrp(int fd) {
  pid_t g = get_tcgetpgrp()(fd);
  if (!active || g <= 0) return g;
  if (g == (pid_t)syscall(SYS_getpgid, 0)) return getpgrp();
  if (g == host_getpid()) return mypid;
  int32_t p = pid_of(g);
  return p ? p : g;
}

EXPORT int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long), a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
  va_end(ap);
  if (active && option == PR_SET_CHILD_SUBREAPER) {
    int64_t r = blinkd_prctl_set_child_subreaper(&conn, (uint32_t)a2);
    /* Mirror on the host, so orphans go to the same process there. */
    if (r == 0) get_prctl()(option, a2, a3, a4, a5);
    return (int)ret(r);
  }
  if (active && option == PR_GET_CHILD_SUBREAPER) {
    int64_t r = blinkd_prctl_get_child_subreaper(&conn);
    if (r < 0) return (int)ret(r);
    /* prctl(2): the value is stored through arg2 */
    if (!a2) return errno = EFAULT, -1;
    *(int *)a2 = (int)r;
    return 0;
  }
  return get_prctl()(option, a2, a3, a4, a5);
}
