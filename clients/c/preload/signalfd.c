/* signalfd(2) and read(2) of one, in a guest's main thread (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/*
 * signalfd(2) in the main thread of a guest: the daemon is told which signals the
 * program's signalfds read (sig_watch), and rings the host for each of them even while the
 * program blocks it, so the host signalfd becomes readable; read(2) of a signalfd replaces
 * each doorbell's record with the daemon's signal and siginfo (sig_wait), and drops one for
 * a signal something else took. Another host signal's record is left as the host gave it.
 */
void tell_watch(void) {
  uint64_t u = 0;
  for (int i = 0; nsfd && i < MAXSFD; i++)
    if (is_sfd[i]) u |= sfd_set[i];
  u &= ~(BIT(SIGKILL) | BIT(SIGSTOP));
  if (!active || u == watching || !main_thread()) return;
  int e = errno;
  if (blinkd_sig_watch(&conn, u) == 0) watching = u;
  errno = e;
}

EXPORT int signalfd(int fd, const sigset_t *mask, int flags) {
  int r = get_signalfd()(fd, mask, flags);
  if (r < 0 || r >= MAXSFD || !active) return r;
  if (!is_sfd[r]) is_sfd[r] = 1, nsfd++;
  sfd_set[r] = mask_bits(mask);
  tell_watch();
  return r;
}

static void forget_fd(int fd) {
  if (fd < 0 || fd >= MAXSFD || !is_sfd[fd]) return;
  is_sfd[fd] = 0;
  nsfd--;
  tell_watch();
}

/* close(2): a signalfd closed reads nothing more (a duplicate is not followed). */
EXPORT int close(int fd) {
  int r = get_close()(fd);
  if (active && fd >= 0 && fd < MAXSFD && is_sfd[fd]) {
    int e = errno;
    forget_fd(fd);
    errno = e;
  }
  return r;
}

static ssize_t read_signalfd(int fd, void *buf, size_t n) {
  for (;;) {
    ssize_t r = get_read()(fd, buf, n);
    if (r <= 0 || !main_thread()) return r;
    struct signalfd_siginfo *v = buf;
    size_t k = (size_t)r / sizeof *v, out = 0;
    if (k == 0 || (size_t)r % sizeof *v) return r; /* not a signalfd's records after all */
    for (size_t i = 0; i < k; i++) {
      struct signalfd_siginfo x = v[i];
      siginfo_t hi;
      memset(&hi, 0, sizeof hi);
      hi.si_signo = (int)x.ssi_signo;
      hi.si_code = x.ssi_code;
      hi.si_pid = (pid_t)x.ssi_pid;
      if (is_doorbell((int)x.ssi_signo, &hi)) {
        struct blinkd_sig_wait_out o;
        int64_t t = blinkd_sig_wait(&conn, BIT(x.ssi_signo), 0, &o);
        if (t <= 0) continue; /* taken already (sigwait, a handler): no record */
        memset(&x, 0, sizeof x);
        x.ssi_signo = (uint32_t)t;
        x.ssi_code = o.code;
        x.ssi_pid = (uint32_t)o.pid;
        x.ssi_uid = o.uid;
        if (t == SIGCHLD && o.code > 0) x.ssi_status = o.status;
      }
      v[out++] = x;
    }
    if (out) return (ssize_t)(out * sizeof *v);
    /* Only stale doorbells: read again (EAGAIN for a non-blocking signalfd). */
  }
}

EXPORT ssize_t read(int fd, void *buf, size_t n) {
  if (!active || fd < 0 || fd >= MAXSFD || !is_sfd[fd]) return get_read()(fd, buf, n);
  /* Closed behind the library's back (dup2 onto it, glibc's own close) and reused for a
     pipe, socket or file: a signalfd's anonymous inode has no file type. */
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT)) {
    forget_fd(fd);
    return get_read()(fd, buf, n);
  }
  return read_signalfd(fd, buf, n);
}
