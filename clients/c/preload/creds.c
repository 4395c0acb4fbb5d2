/* Credentials: uid and gid changes reported to the daemon (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/*
 * A change of uids or gids goes to the daemon after the host made it (the host kernel
 * enforces the rule; the daemon's copy is what decides kill's permission and /proc's access
 * in the namespace, spec/signals.md §2): the resulting real, effective and saved ids, read
 * back with getresuid/getresgid, whichever call made them. Not seen: a set-user-ID exec
 * (the loader ignores LD_PRELOAD then), raw syscall(2), and glibc-internal calls
 * (initgroups' setgroups).
 */
static void report_uids(void) {
  uid_t r, e, s;
  if (!active || getresuid(&r, &e, &s) != 0) return;
  int64_t x = blinkd_setresuid(&conn, r, e, s);
  if (x < 0) warn("reporting the new uids (setresuid)", x);
}

static void report_gids_now(void) {
  gid_t r, e, s;
  if (!active || getresgid(&r, &e, &s) != 0) return;
  int n = getgroups(0, NULL);
  if (n < 0) n = 0;
  gid_t *g = malloc(((size_t)n + 1) * sizeof *g);
  int32_t *gi = malloc(((size_t)n + 1) * sizeof *gi);
  if (g && gi) {
    n = getgroups(n, g);
    if (n < 0) n = 0;
    for (int i = 0; i < n; i++) gi[i] = (int32_t)g[i];
    /* setfsgid with an invalid id changes nothing and returns the current one. */
    uint32_t fs = (uint32_t)syscall(SYS_setfsgid, -1);
    int64_t x = blinkd_report_gids(&conn, r, e, s, fs, gi, (size_t)n);
    if (x < 0) warn("reporting the new gids (report_gids)", x);
  }
  free(g);
  free(gi);
}

/* glibc applies a uid or gid change to every thread it knows (the setxid broadcast), and
   aborts when one of them fails, as the daemon watcher would when the program set per-thread
   state first (PR_SET_KEEPCAPS, capset: setpriv does): the watcher is stopped for the change
   and started again after it, with the new credentials. */
#define CRED_WRAP(report, name, params, args) \
  REAL(int, name, params)                      \
  EXPORT int name params {                     \
    if (active) blinkd_unwatch_daemon();       \
    int rc_ = get_##name() args;               \
    if (active) {                              \
      int saved_ = errno;                      \
      if (rc_ == 0) report();                  \
      if (!vchild) blinkd_watch_daemon(confd); \
      errno = saved_;                          \
    }                                          \
    return rc_;                                \
  }
CRED_WRAP(report_uids, setuid, (uid_t u), (u))
CRED_WRAP(report_uids, seteuid, (uid_t u), (u))
CRED_WRAP(report_uids, setreuid, (uid_t r, uid_t e), (r, e))
CRED_WRAP(report_uids, setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
CRED_WRAP(report_gids_now, setgid, (gid_t g), (g))
CRED_WRAP(report_gids_now, setegid, (gid_t g), (g))
CRED_WRAP(report_gids_now, setregid, (gid_t r, gid_t e), (r, e))
CRED_WRAP(report_gids_now, setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
CRED_WRAP(report_gids_now, setgroups, (size_t n, const gid_t *l), (n, l))
