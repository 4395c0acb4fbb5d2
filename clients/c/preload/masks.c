/* The signal mask (spec/signals.md §4): each thread's mask reported to the daemon as it changes (libblinkd-preload.so; see preload.c). */
#include "shared.h"

REAL(int, sigprocmask, (int, const sigset_t *, sigset_t *))
REAL(int, pthread_sigmask, (int, const sigset_t *, sigset_t *))
REAL(int, sigsuspend, (const sigset_t *))
REAL(int, sigpending, (sigset_t *))
REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
REAL(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))

void resolve_mask_calls(void) {
  get_sigprocmask();
  get_pthread_sigmask();
  get_sigsuspend();
  get_sigpending();
  get_ppoll();
  get_pselect();
  get_read();
  get_close();
  get_signalfd();
}

/* The client inside this library (clients/c/blinkd.c, built with these names) masks and
   waits on the host only. */
int blinkd_host_sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  return hmask(how, set, old);
}
/* A wait for the daemon's reply that a signal interrupted makes the C client ask the daemon to
   interrupt the call (an interrupt frame: spec/protocol.md §6), since a handler that ran must
   see the call end with EINTR or restart (signal(7)). A signal whose host handler took nothing
   (the host kernel's own SIGCHLD while the state page's bell is unmoved, or a doorbell after
   exit_group) ran no handler of the guest's: as on Linux, where an ignored signal does not
   end a wait, the wait goes on. Only when every handler that ran was such a quiet one: any
   other (a guest's, ptrace's bell) or none counted (a handler not this library's) ends it. */
int blinkd_host_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask) {
  struct timespec left, *t = NULL;
  if (timeout) left = *timeout, t = &left; /* ppoll(2) writes back the time left */
  for (;;) {
    unsigned runs = handler_runs, quiet = quiet_runs;
    int r = (int)syscall(SYS_ppoll, fds, n, t, mask, _NSIG / 8);
    if (r < 0 && errno == EINTR && handler_runs - runs == quiet_runs - quiet && quiet_runs != quiet) continue;
    return r;
  }
}

int main_thread(void) {
  return (pid_t)syscall(SYS_gettid) == myhost;
}

/* The calling thread has a connection of its own: the main thread, or a live thread
   pthread_create started. Only such a thread's mask and waits are the daemon's. */
int own_conn(void) {
  return self ? self->live : main_thread();
}

/* Whether the daemon may hold a signal that unblocking `bits` lets through. The process
   takes delivery 2 (spec/signals.md §4.1): the daemon rang for every signal it holds blocked
   that it will act on once unblocked, and that doorbell waits on the host, whose mask still
   blocks it (enter_mask changes the host mask after the report). A guest child's host
   SIGCHLD, or a host signal from outside, pending here counts too: a wait too many, never
   one too few. */
static int held(uint64_t bits) {
  uint64_t p = 0;
  if (syscall(SYS_rt_sigpending, &p, sizeof p) != 0) return 1;
  /* A SIGCHLD pending on the host while the daemon holds none (the bell counter: spec/signals.md
     §4.2) is the host kernel's own, or a doorbell whose signal was taken already. */
  if (p & bits & BIT(SIGCHLD) && state_quiet()) p &= ~BIT(SIGCHLD);
  return (p & bits) != 0;
}

/* The daemon's copy of the calling thread's mask becomes m (rt_sigprocmask SIG_SETMASK, on
   the thread's own connection); the signals it unblocks are rung before the reply. A host
   thread without a connection of its own is not the daemon's. */
void tell_mask(uint64_t m) {
  m &= ~UNMASKABLE;
  if (!active || !own_conn() || m == told) return;
  int e = errno;
  /* A mask that only blocks more unblocks nothing: nothing is rung, so no answer is awaited;
     nor for one that unblocks only signals the daemon holds none of (held: §4.1). The daemon
     takes the thread's requests in order, so every later call (a fork copying the mask, an
     unblocking report, the sig_dequeue of a doorbell) finds it made; a signal generated
     before the daemon reads it meets the old mask, as one generated just before the host
     mask changed would: blocked, it rings all the same (delivery 2), and its doorbell comes
     in when the host takes the new mask. */
  if (told != ~0ull && ((m & told) == told || !held(told & ~m))) {
    struct blinkd_rt_sigprocmask_args a = {SIG_SETMASK, m};
    if (blinkd_conn_post(&conn, &blinkd_call_rt_sigprocmask, &a) == 0) {
      told = m;
      errno = e;
      return;
    }
  }
  struct blinkd_rt_sigprocmask_out o;
  int64_t r = blinkd_rt_sigprocmask(&conn, SIG_SETMASK, m, &o);
  if (r == 0) told = m;
  else {
    static int warned;
    if (!warned++) warn("reporting the signal mask (rt_sigprocmask)", r);
  }
  errno = e;
}

void report_mask(void) {
  sigset_t cur;
  hmask(SIG_BLOCK, NULL, &cur);
  tell_mask(mask_bits(&cur));
}

/* Before a wait that may take the SIGCHLD with its reply (wait4_sigchld, waitid_sigchld): the
   daemon gives it only while its copy of the mask leaves SIGCHLD unblocked, and a handler's
   mask goes unreported, so a SIGCHLD blocked now (in a handler whose sa_mask has it) is told
   first, and the daemon keeps it pending (sigpending sees it) until the mask lets it in. The
   report only blocks more: posted. */
void tell_chld_blocked(void) {
  sigset_t cur;
  hmask(SIG_BLOCK, NULL, &cur);
  if (sigismember(&cur, SIGCHLD) == 1 && !(told & BIT(SIGCHLD))) tell_mask(mask_bits(&cur));
}

/* Doorbells (and host SIGCHLDs for guest children) still waiting on the host for signals
   about to be unblocked whose host action is not the wrapper: the daemon holds the signal
   itself and acts on it, so the host must not (a stale doorbell of a SIG_DFL signal would
   apply its default action on the host). Another host signal is put back, siginfo and all. */
static void drain_stale(uint64_t unblocking) {
  sigset_t p;
  if (syscall(SYS_rt_sigpending, &p, _NSIG / 8) != 0) return;
  uint64_t cand = mask_bits(&p) & unblocking & ~wrapped;
  for (int s = 1; cand && s <= 64; s++) {
    if (!(cand & BIT(s))) continue;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, s);
    siginfo_t hi;
    struct timespec zero = {0, 0};
    if (syscall(SYS_rt_sigtimedwait, &one, &hi, &zero, _NSIG / 8) != s || is_doorbell(s, &hi)) continue;
    syscall(SYS_rt_tgsigqueueinfo, myhost, syscall(SYS_gettid), s, &hi);
  }
}

/* Makes the main thread's mask `want`, the daemon's copy first: the host blocks the union
   while the daemon learns it, so what the new mask unblocks is rung (and waits on the host)
   before the host lets it in, and nothing is acted on twice. */
static void enter_mask(const sigset_t *cur, const sigset_t *want, int (*real)(int, const sigset_t *, sigset_t *)) {
  sigset_t both;
  sigorset(&both, cur, want);
  real(SIG_SETMASK, &both, NULL);
  tell_mask(mask_bits(want));
  drain_stale(mask_bits(cur) & ~mask_bits(want));
}

static int change_mask(int how, const sigset_t *set, sigset_t *old, int (*real)(int, const sigset_t *, sigset_t *)) {
  if (!active || !set || (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) || !own_conn()) return real(how, set, old);
  sigset_t cur, want;
  real(SIG_BLOCK, NULL, &cur);
  /* sigprocmask(2): SIG_BLOCK the union, SIG_UNBLOCK the difference, SIG_SETMASK the set. */
  if (how == SIG_BLOCK) sigorset(&want, &cur, set);
  else if (how == SIG_SETMASK) want = *set;
  else {
    want = cur;
    for (int s = 1; s <= 64; s++)
      if (sigismember(set, s) == 1) sigdelset(&want, s);
  }
  enter_mask(&cur, &want, real);
  int r = real(SIG_SETMASK, &want, NULL);
  if (old) *old = cur;
  return r;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  return change_mask(how, set, old, get_sigprocmask());
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  return change_mask(how, set, old, get_pthread_sigmask());
}

/* The BSD calls (sigsetmask(3): dash clears its child's mask with sigsetmask(0)) and the
   System V ones (sighold(3)): glibc makes them with its internal sigprocmask. */
static int old_style(int how, int mask) {
  sigset_t set, old;
  sigemptyset(&set);
  for (int s = 1; s <= 32; s++)
    if ((unsigned)mask & (1u << (s - 1))) sigaddset(&set, s);
  if (change_mask(how, &set, &old, get_sigprocmask()) != 0) return -1;
  return (int)(unsigned)mask_bits(&old);
}

EXPORT int sigsetmask(int mask) {
  return old_style(SIG_SETMASK, mask);
}

EXPORT int sigblock(int mask) {
  return old_style(SIG_BLOCK, mask);
}

static int one_signal(int how, int sig) {
  sigset_t set;
  sigemptyset(&set);
  if (sigaddset(&set, sig) < 0) return -1;
  return change_mask(how, &set, NULL, get_sigprocmask());
}

EXPORT int sighold(int sig) {
  return one_signal(SIG_BLOCK, sig);
}

EXPORT int sigrelse(int sig) {
  return one_signal(SIG_UNBLOCK, sig);
}

/* A call that waits with a temporary mask (sigsuspend, pselect, ppoll): the daemon has it
   for the wait (sigsuspend(2): "temporarily replaces the signal mask"), then the old one. */
#define WITH_MASK(mask, call)                                      \
  do {                                                             \
    if (!active || !own_conn()) return call;                       \
    sigset_t cur_;                                                 \
    get_sigprocmask()(SIG_BLOCK, NULL, &cur_);                     \
    enter_mask(&cur_, (mask), get_sigprocmask());                  \
    int r_ = call;                                                 \
    int e_ = errno;                                                \
    tell_mask(mask_bits(&cur_));                                   \
    get_sigprocmask()(SIG_SETMASK, &cur_, NULL);                   \
    errno = e_;                                                    \
    return r_;                                                     \
  } while (0)

EXPORT int sigsuspend(const sigset_t *mask) {
  WITH_MASK(mask, get_sigsuspend()(mask));
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask) {
  if (!mask) return get_ppoll()(fds, n, timeout, mask);
  WITH_MASK(mask, get_ppoll()(fds, n, timeout, mask));
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *timeout, const sigset_t *mask) {
  if (!mask) return get_pselect()(n, r, w, x, timeout, mask);
  WITH_MASK(mask, get_pselect()(n, r, w, x, timeout, mask));
}

/* sigpending(2): the host's pending set and the daemon's (do_sigpending: pending & blocked). */
EXPORT int sigpending(sigset_t *set) {
  int r = get_sigpending()(set);
  if (r != 0 || !active || !own_conn()) return r;
  int e = errno;
  struct blinkd_rt_sigpending_out o;
  if (blinkd_rt_sigpending(&conn, &o) == 0)
    for (int s = 1; s <= 64; s++)
      if (o.set & BIT(s)) sigaddset(set, s);
  errno = e;
  return 0;
}
