/* sigwait, sigwaitinfo, sigtimedwait: a blocked signal taken from the daemon (libblinkd-preload.so; see preload.c). */
#include "shared.h"

static int fill_info(int64_t t, const struct blinkd_sig_wait_out *o, siginfo_t *info) {
  if (info) {
    memset(info, 0, sizeof *info);
    info->si_signo = (int)t;
    info->si_code = o->code;
    info->si_pid = o->pid;
    info->si_uid = (uid_t)o->uid;
    if (t == SIGCHLD && o->code > 0) info->si_status = o->status;
  }
  return (int)t;
}

/* After signal t came from the daemon: its doorbell, if still waiting on the host, is
   taken too. A host signal of the same number that was not a doorbell is the same pending
   standard signal (legacy_queue: one instance) or is put back (real-time, queued). */
static void take_own_doorbell(int t) {
  sigset_t p;
  if (syscall(SYS_rt_sigpending, &p, _NSIG / 8) != 0 || sigismember(&p, t) != 1) return;
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, t);
  siginfo_t hi;
  struct timespec zero = {0, 0};
  if (syscall(SYS_rt_sigtimedwait, &one, &hi, &zero, _NSIG / 8) != t || is_doorbell(t, &hi) || t < 32) return;
  syscall(SYS_rt_tgsigqueueinfo, myhost, syscall(SYS_gettid), t, &hi);
}

/*
 * sigtimedwait(2) (and sigwait, sigwaitinfo) in the main thread of a guest, as
 * do_sigtimedwait: a signal of the set pending in the daemon is taken at once (sig_wait);
 * otherwise the daemon is told the thread waits for the set (it then rings the host for
 * each one generated, blocked or not), and the host waits: a doorbell means the daemon
 * has one, taken with its emulated siginfo; any other host signal (from outside the
 * namespace, the terminal, the host kernel) is returned as the host gave it.
 */
static int wait_signal(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
  if (!active || !own_conn()) return (int)syscall(SYS_rt_sigtimedwait, set, info, ts, _NSIG / 8);
  if (ts && (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L || ts->tv_sec < 0)) return errno = EINVAL, -1;
  uint64_t want = mask_bits(set) & ~(BIT(SIGKILL) | BIT(SIGSTOP));
  struct timespec end = {0, 0};
  if (ts) {
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ts->tv_sec;
    end.tv_nsec += ts->tv_nsec;
    if (end.tv_nsec >= 1000000000L) end.tv_sec++, end.tv_nsec -= 1000000000L;
  }
  report_mask(); /* a mask changed behind the library's back (siglongjmp) is reported here */
  for (;;) {
    struct blinkd_sig_wait_out o;
    int64_t t = blinkd_sig_wait(&conn, want, 1, &o);
    if (t < 0) {
      static int warned;
      if (!warned++) warn("waiting for a signal (sig_wait)", t);
      return (int)syscall(SYS_rt_sigtimedwait, set, info, ts, _NSIG / 8);
    }
    if (t > 0) {
      take_own_doorbell((int)t);
      return fill_info(t, &o, info);
    }
    struct timespec left, *lp = NULL;
    if (ts) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      left.tv_sec = end.tv_sec - now.tv_sec;
      left.tv_nsec = end.tv_nsec - now.tv_nsec;
      if (left.tv_nsec < 0) left.tv_sec--, left.tv_nsec += 1000000000L;
      if (left.tv_sec < 0) left.tv_sec = 0, left.tv_nsec = 0;
      lp = &left;
    }
    siginfo_t hi;
    int r = (int)syscall(SYS_rt_sigtimedwait, set, &hi, lp, _NSIG / 8);
    int e = errno;
    if (r > 0 && !is_doorbell(r, &hi)) {
      blinkd_sig_wait(&conn, 0, 0, &o); /* the wait is over */
      if (info) *info = hi;
      return r;
    }
    /* A doorbell, the timeout (EAGAIN) or a handler (EINTR): the wait ends, and a signal of
       the set that arrived meanwhile is the result (do_sigtimedwait dequeues once more). */
    t = blinkd_sig_wait(&conn, want, 0, &o);
    if (t > 0) {
      if (t != r) take_own_doorbell((int)t);
      return fill_info(t, &o, info);
    }
    if (r < 0) return errno = e, -1;
    /* A doorbell for a signal something else took: wait again. */
  }
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
  return wait_signal(set, info, ts);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  return wait_signal(set, info, NULL);
}

/* sigwait(3): glibc's retries after EINTR, and returns an error number. */
EXPORT int sigwait(const sigset_t *set, int *sig) {
  for (;;) {
    int r = wait_signal(set, NULL, NULL);
    if (r > 0) {
      *sig = r;
      return 0;
    }
    if (errno != EINTR) return errno;
  }
}
