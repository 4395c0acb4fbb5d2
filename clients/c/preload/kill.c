/* Sending signals: kill, killpg, tgkill, raise through the daemon (libblinkd-preload.so; see preload.c). */
#include "shared.h"

EXPORT int kill(pid_t pid, int sig) {
  if (!active) return get_kill()(pid, sig);
  return (int)ret(blinkd_kill(&conn, pid, sig));
}

EXPORT int killpg(pid_t pgrp, int sig) {
  /* killpg(3): a negative group is EINVAL; otherwise kill(-pgrp, sig). */
  if (pgrp < 0) return errno = EINVAL, -1;
  return kill(-pgrp, sig);
}

EXPORT int tgkill(pid_t tgid, pid_t tid, int sig) {
  if (!active) return (int)syscall(SYS_tgkill, tgid, tid, sig);
  int64_t r = blinkd_tgkill(&conn, tgid, tid, sig);
  if (r == 0 && tgid == mypid && tid == gettid()) ring_self(sig);
  return (int)ret(r);
}

EXPORT int raise(int sig) {
  if (!active) return (int)syscall(SYS_tgkill, host_getpid(), syscall(SYS_gettid), sig);
  /* raise(3) is tgkill(getpid(), gettid(), sig); a handled signal rings the host before the reply. */
  return tgkill(mypid, gettid(), sig) == 0 ? 0 : -1;
}
