/* Delivery 1 in the program's handlers: the doorbell wrapper, its signal frames, and the hooks ptrace.c uses (libblinkd-preload.so; see preload.c). */
#include <ucontext.h>
#include "shared.h"

/*
 * Delivery 1 in the program's handlers. The daemon rings the host process with the same
 * signal (a doorbell: SI_USER from the daemon's host pid) and keeps the signal, with its
 * siginfo, queued until the guest takes it with sig_dequeue (spec/signals.md §4).
 *
 * The wrapper takes it inside the host handler, on the process's one connection. That is
 * safe because the C client lets signals in only while a call waits in ppoll, with the
 * buffers between frames; a call made from the handler then matches its own reply by
 * sequence number and stashes the outer call's (clients/c/blinkd.h). The dequeue loop runs
 * with every host signal blocked, so doorbells that arrive meanwhile stay pending on the
 * host and ring again afterwards; it passes the mask the host delivered with (`base`) so
 * the daemon leaves what the program blocks queued (dequeue_signal's mask), and it loops
 * until 0, so every signal queued before its last dequeue is taken now, and every later
 * one rings after it (a doorbell is sent after its signal is queued): none is lost.
 */
uint64_t mask_bits(const sigset_t *m) {
  uint64_t b = 0;
  for (int i = 1; i <= 64; i++)
    if (sigismember(m, i) == 1) b |= 1ull << (i - 1);
  return b;
}

/* A signal frame as the wrapper sets it up (handle_signal): small, for the wrapper may run on
   the program's alternate stack (SA_ONSTACK), which may be as small as MINSIGSTKSZ. */
struct frame {
  int s, code, pid, status;
  uid_t uid;
  int flags;               /* the action's sa_flags */
  void (*fn)(void);        /* its handler, as chosen (get_signal copies the action) */
  uint64_t sa_mask;        /* its sa_mask (bit signo-1) */
  uint64_t before;         /* the mask before this frame: the entry mask and the frames below */
};

static void bits_set(uint64_t bits, sigset_t *m) {
  sigemptyset(m);
  for (int i = 1; i <= 64; i++)
    if (bits >> (i - 1) & 1) sigaddset(m, i);
}

/* get_signal, once it has chosen the program's handler for f->s: the action is copied into
   the frame, and an SA_RESETHAND action is SIG_DFL from then on (SA_ONESHOT), on the host and
   in the daemon, which reset its own copy as it gave the signal when it came from its queue
   (`taken`: sig_dequeue). 0 when f->s has no handler any more: the program changed the
   disposition after the daemon queued it, and the new default action is the host's to take
   (get_signal acts on the disposition at delivery). */
static int choose(struct frame *f, int taken) {
  int s = f->s;
  uint64_t b = 1ull << (s - 1);
  sigset_t all, m;
  sigfillset(&all);
  if (!(wrapped & b)) {
    struct sigaction cur;
    if (get_sigaction()(s, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL) {
      bits_set(f->before & ~b, &m);
      hmask(SIG_SETMASK, &m, NULL);
      syscall(SYS_tgkill, host_getpid(), syscall(SYS_gettid), s);
      hmask(SIG_SETMASK, &all, NULL);
    }
    return 0;
  }
  const struct sigaction *a = &user_act[s];
  f->flags = a->sa_flags;
  f->fn = (void (*)(void))a->sa_handler;
  f->sa_mask = mask_bits(&a->sa_mask);
  if (a->sa_flags & SA_RESETHAND) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    hmask(SIG_SETMASK, &all, NULL);
    get_sigaction()(s, &dfl, NULL);
    wrapped &= ~b;
    norestart &= ~b;
    if (active && !taken) blinkd_rt_sigaction(&conn, s, BLINKD_SIGACTION_SIG_DFL, (uint32_t)f->flags);
  }
  return 1;
}

/* The mask a frame's handler runs with (signal_setup_done → set_current_blocked): the mask
   before the frame, its sa_mask, and its signal itself unless SA_NODEFER. */
static uint64_t frame_mask(const struct frame *f) {
  return f->before | f->sa_mask | (f->flags & SA_NODEFER ? 0 : 1ull << (f->s - 1));
}

/* Runs a frame's handler with the frame's mask and the siginfo `si` (NULL: built from the
   frame). A signal that mask blocks beyond `base` (the mask at the wrapper's entry) and that
   the daemon would act on itself (not one the wrapper takes: those wait on the host) is held
   while the handler runs: the daemon must know that mask, else it keeps `was_told`, the one
   it had at entry (doorbell() reports it again at the end, as sigreturn restores it). */
static void run_frame(const struct frame *f, siginfo_t *si, void *uc, uint64_t base, uint64_t was_told) {
  siginfo_t mine;
  if (!si) {
    memset(&mine, 0, sizeof mine);
    mine.si_signo = f->s;
    mine.si_code = f->code;
    mine.si_pid = f->pid;
    mine.si_uid = f->uid;
    if (f->s == SIGCHLD && f->code > 0) mine.si_status = f->status;
    si = &mine;
  }
  uint64_t want = frame_mask(f);
  uint64_t need = want & ~base & ~wrapped ? want : was_told;
  if (need != told) tell_mask(need);
  sigset_t m;
  bits_set(want, &m);
  hmask(SIG_SETMASK, &m, NULL);
  if (f->flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))f->fn)(f->s, si, uc);
  else ((void (*)(int))f->fn)(f->s);
}

int is_doorbell(int s, const siginfo_t *hi) {
  if (hi->si_code == SI_USER && daemonhost > 0 && hi->si_pid == daemonhost) return 1;
  /* The host kernel's SIGCHLD for a guest child (CLD_EXITED, CLD_KILLED, CLD_STOPPED, …)
     stands for the daemon's own, with the emulated pid, queued at the child's exit_group
     or at the stop the daemon made (do_notify_parent, do_notify_parent_cldstop): taken
     with sig_dequeue like a doorbell, so the handler does not run twice, with a host pid.
     So does an adopted orphan's, for a subreaper (groups.c, host_subreaper). */
  if (s == SIGCHLD && hi->si_code > 0 && hi->si_code <= CLD_CONTINUED && (guest_child(hi->si_pid) || host_subreaper())) return 1;
  /* The host kernel's own orphaned-group pair (groups.c, host_orphan_signal) stands for the
     daemon's, as a guest child's SIGCHLD does: taken with sig_dequeue, never run with the
     host's siginfo. Dropping it was not enough: while it was pending on the host (the member
     still stopped, or not yet scheduled after the host's SIGCONT), the daemon's doorbell of
     the same number merged into it (a standard signal is pending once: legacy_queue), so the
     daemon's SIGHUP and SIGCONT stayed queued and no handler ran (spec/native/orphan_once.c,
     1 run in 30 at load 4 as an ordinary user). A hangup the daemon did not queue finds
     nothing and is dropped as before. */
  if (host_orphan_signal(s, hi)) return 1;
  /* One another thread passed on (pass_on). */
  struct thr *m = self ? self : main_thread() ? &mainthr : NULL;
  if (m && hi->si_code == SI_TKILL && hi->si_pid == myhost && __atomic_exchange_n(&m->passed[s], 0, __ATOMIC_SEQ_CST)) return 2;
  return 0;
}

/*
 * The daemon rings the host process, and the host kernel picks the thread (complete_signal);
 * the signal may be queued for another emulated thread (tgkill, raise in a thread), which
 * only that thread's connection can take (sig_dequeue: its own queue, then the process's).
 * A doorbell that found nothing for this thread is passed on to every other thread of the
 * library, once (a passed doorbell is not passed again); each takes what is its own.
 * A thread has one flag per signal, not a count: a doorbell is passed to it only while its
 * flag is clear (one already on its way makes it dequeue, after it clears the flag, anyway).
 * Setting the flag again for a second tgkill let the first delivery clear it and the second
 * arrive unflagged, and run the handler again with the host's siginfo (raise in a thread:
 * its own ring_self and the main thread's pass_on crossed; si_pid was a host pid).
 */
static void pass_on(int s) {
  struct thr *me_ = self ? self : main_thread() ? &mainthr : NULL;
  sigset_t om;
  lock_threads(&om);
  for (int i = -1; i < nthr; i++) {
    struct thr *t = i < 0 ? &mainthr : thrs[i];
    if (t == me_ || !t->live || t->host <= 0) continue;
    if (__atomic_exchange_n(&t->passed[s], 1, __ATOMIC_SEQ_CST)) continue;
    if (syscall(SYS_tgkill, myhost, t->host, s) != 0) __atomic_store_n(&t->passed[s], 0, __ATOMIC_SEQ_CST);
  }
  unlock_threads(&om);
}

void doorbell(int s, siginfo_t *hi, void *uc) {
  int saved = errno;
  handler_runs++;
  uint64_t was_told = told;
  sigset_t base, all;
  sigfillset(&all);
  /* The host action has SA_NODEFER and an empty sa_mask: this is the mask s was delivered with. */
  hmask(SIG_BLOCK, NULL, &base);
  int kind;
  /* Once exit_group is posted the process has ended for the daemon (do_exit: it is a zombie
     whose pending signals are gone, flush_sigqueue), so a doorbell that rings in the instant
     before the host process ends has nothing to take: a sig_dequeue would be ESRCH (once in
     a CI run: a child of a shell ended as the shell's exit_group went out). It is dropped,
     never run with the host's siginfo either. */
  if (__atomic_load_n(&ending, __ATOMIC_SEQ_CST) && (kind = is_doorbell(s, hi))) {
    quiet_runs++;
    errno = saved;
    return;
  }
  /* A SIGCHLD while the daemon holds none (the bell counter unchanged since the last dequeue
     left none pending: spec/signals.md §4.2) has nothing to take: the host kernel's own for a
     child whose daemon SIGCHLD was taken already or is still to ring. Not asked. */
  if (active && s == SIGCHLD && state_quiet() && is_doorbell(s, hi)) {
    quiet_runs++;
    errno = saved;
    return;
  }
  if (active && (kind = is_doorbell(s, hi))) {
    /* Each thread takes its signals on its own connection; a host thread without one (not
       started by pthread_create here, or exiting) passes the doorbell on. */
    if (!own_conn()) {
      pass_on(s);
      errno = saved;
      return;
    }
    /* Several signals at once (get_signal, in exit_to_user_mode's loop): each is taken with
       the mask the frames taken before it set (dequeue_signal's mask: their sa_mask, and
       their signal unless SA_NODEFER), lowest first as the daemon gives them, and a frame is
       set up for each before any handler runs, so the last one taken runs first; then the
       frames are unwound, each handler with its frame's mask. Rounds go on until the daemon
       has nothing for this thread: a signal queued after the last dequeue rings again. */
    struct frame frames[32];
    uint64_t entry = mask_bits(&base);
    int got = 0;
    /* What the last dequeue left pending (its out.pending): a dequeue that could only answer 0
       is not asked (a signal generated since rings again). */
    uint64_t left = 0;
    int known = 0;
    for (int round = 0;; round++) {
      int n = 0;
      uint64_t cur = entry;
      hmask(SIG_SETMASK, &all, NULL);
      while (n < 32) {
        struct blinkd_sig_dequeue_out o;
        int64_t t = 0;
        memset(&o, 0, sizeof o);
        if (!known || (left & ~cur & ~told)) {
          t = blinkd_sig_dequeue(&conn, cur, &o);
          if (t < 0) {
            static int warned;
            if (!warned++) warn("taking a signal (sig_dequeue)", t);
            break;
          }
          left = o.pending;
          known = 1;
        }
        if (t == 0 && round == 0 && !got && kind == 1) pass_on(s); /* none of its number was this thread's */
        if (t == 0 || t > 64) break;
        if (t == s) got = 1;
        struct frame *f = &frames[n];
        *f = (struct frame){.s = (int)t, .code = o.code, .pid = o.pid, .status = o.status, .uid = (uid_t)o.uid, .before = cur};
        if (!choose(f, 1)) continue;
        cur = frame_mask(f);
        n++;
      }
      if (n == 0) break;
      while (n-- > 0) run_frame(&frames[n], NULL, uc, entry, was_told);
    }
  } else {
    struct frame f = {.s = s, .before = mask_bits(&base)};
    if (choose(&f, 0)) run_frame(&f, hi, uc, f.before, was_told);
  }
  /* sigreturn restores the mask the signal came with: so does the daemon's copy. */
  if (told != was_told) tell_mask(was_told);
  hmask(SIG_SETMASK, &base, NULL);
  errno = saved;
}

/* A SIGCHLD that came with a blocking wait's reply (wait4_sigchld, waitid_sigchld: the daemon
   took it as sig_dequeue takes it and rang nothing): its handler runs now, before the wait
   returns, as get_signal runs it on the way back to user mode, in a frame on the mask the
   program runs with (blinkd_preload_deliver; the context is this point's). */
void chld_with_reply(int code, int pid, uid_t uid, int status) {
  int saved = errno;
  ucontext_t uc;
  getcontext(&uc);
  blinkd_preload_deliver(SIGCHLD, code, pid, uid, status, &uc, &uc.uc_sigmask);
  errno = saved;
}

/* ---- for ptrace.c (preload.h) ---- */

void blinkd_preload_handler_ran(void) {
  handler_runs++;
}

struct blinkd_conn *blinkd_preload_conn(void) {
  return conn.fd >= 0 && !conn.gone && (mypid > 0 || confd >= 0) ? &conn : NULL;
}

int blinkd_preload_active(void) {
  return active;
}

/* A signal the tracer let through at a signal-delivery stop: its handler runs as a frame the
   wrapper sets up (the daemon chose the handler already, SA_RESETHAND included). */
void blinkd_preload_deliver(int s, int code, int pid, uid_t uid, int status, void *uc, const sigset_t *entry) {
  uint64_t was_told = told;
  sigset_t cur, all;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &cur);
  /* `entry`: the mask the program ran with when it stopped (the frame's base). */
  struct frame f = {.s = s, .code = code, .pid = pid, .status = status, .uid = uid, .before = mask_bits(entry)};
  if (choose(&f, 1)) run_frame(&f, NULL, uc, f.before, was_told);
  if (told != was_told) tell_mask(was_told);
  hmask(SIG_SETMASK, &cur, NULL);
}
