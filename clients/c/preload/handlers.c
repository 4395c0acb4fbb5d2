/* sigaction(2) and the signal(2) family: every handler installed behind the doorbell wrapper, the disposition reported (libblinkd-preload.so; see preload.c). */
#include "shared.h"

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (!active || sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP) return get_sigaction()(sig, act, old);
  uint64_t b = 1ull << (sig - 1);
  struct sigaction want, host, prev;
  int handler = 0;
  if (act) {
    want = *act;
    handler = want.sa_handler != SIG_DFL && want.sa_handler != SIG_IGN;
    host = want;
    if (handler) {
      /* The wrapper applies sa_mask, SA_NODEFER and SA_RESETHAND itself: it may run
         another signal's handler than the one the host delivered. */
      host.sa_sigaction = doorbell;
      host.sa_flags = (want.sa_flags | SA_SIGINFO | SA_NODEFER) & ~SA_RESETHAND;
      sigemptyset(&host.sa_mask);
    }
  }
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om);
  prev = user_act[sig];
  uint64_t was = wrapped & b;
  int r = get_sigaction()(sig, act ? &host : NULL, old);
  int e = errno;
  if (r == 0 && act) {
    if (handler) user_act[sig] = want, wrapped |= b;
    else wrapped &= ~b;
  }
  hmask(SIG_SETMASK, &om, NULL);
  if (r != 0) return errno = e, r;
  if (old && was && old->sa_sigaction == doorbell) *old = prev;
  if (act) {
    uint32_t kind = !handler ? (want.sa_handler == SIG_DFL ? BLINKD_SIGACTION_SIG_DFL : BLINKD_SIGACTION_SIG_IGN) : BLINKD_SIGACTION_HANDLER;
    if (kind == BLINKD_SIGACTION_HANDLER && !(want.sa_flags & SA_RESTART)) norestart |= b;
    else norestart &= ~b;
    blinkd_rt_sigaction(&conn, sig, kind, (uint32_t)want.sa_flags);
  }
  return 0;
}

static sighandler_t set_handler(int sig, sighandler_t h, int flags) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}

EXPORT sighandler_t signal(int sig, sighandler_t h) {
  return set_handler(sig, h, SA_RESTART); /* signal(2): glibc gives BSD semantics */
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t h) {
  return set_handler(sig, h, SA_RESTART);
}

/* signal(2): System V semantics (what a strict ISO C build's signal() is in glibc):
   reset to SIG_DFL on delivery, not blocked while the handler runs, no restart. */
EXPORT sighandler_t sysv_signal(int sig, sighandler_t h) {
  return set_handler(sig, h, SA_RESETHAND | SA_NODEFER);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h) {
  return set_handler(sig, h, SA_RESETHAND | SA_NODEFER);
}
