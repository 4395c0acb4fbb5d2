/* Threads (spec/protocol.md §7.5): one connection per thread, the table of live ones, pthread_create, pthread_kill, pthread_exit (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/* The threads pthread_create started that are live (claimed, not yet exited); the doorbell
   wrapper reads the table, so it changes with every signal blocked, under a spin lock. */
#define MAXTHR 4096
struct thr *thrs[MAXTHR];
int nthr;
static int thr_lock;
static int main_gone; /* the main thread called pthread_exit while others lived */

void lock_threads(sigset_t *om) {
  sigset_t all;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, om);
  while (__atomic_exchange_n(&thr_lock, 1, __ATOMIC_ACQUIRE)) sched_yield();
}

void unlock_threads(const sigset_t *om) {
  __atomic_store_n(&thr_lock, 0, __ATOMIC_RELEASE);
  hmask(SIG_SETMASK, om, NULL);
}

static int thread_add(struct thr *t) {
  sigset_t om;
  lock_threads(&om);
  int ok = nthr < MAXTHR;
  if (ok) thrs[nthr] = t, __atomic_store_n(&nthr, nthr + 1, __ATOMIC_SEQ_CST);
  unlock_threads(&om);
  return ok;
}

static void thread_drop(struct thr *t) {
  sigset_t om;
  lock_threads(&om);
  for (int i = 0; i < nthr; i++)
    if (thrs[i] == t) {
      thrs[i] = thrs[nthr - 1];
      __atomic_store_n(&nthr, nthr - 1, __ATOMIC_SEQ_CST);
      break;
    }
  unlock_threads(&om);
}

/* In a host fork child: only the forking thread was copied (fork(2)), and it is the main
   thread now. The other threads' connections are the parent's: this copy of each is closed
   without a word (else their close would never reach the daemon while the child lives). */
void forget_threads(void) {
  thr_lock = 0;
  main_gone = 0;
  for (int i = 0; i < nthr; i++)
    if (thrs[i] != self) blinkd_conn_forget(&thrs[i]->c);
  nthr = 0;
  if (self) {
    struct thr *t = self;
    self = NULL; /* `conn` is mainthr's again */
    mytid = 0;
    blinkd_conn_forget(&t->c);
    mainthr.mask = t->mask;
  }
}

REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))

static pthread_key_t thr_key;
static pthread_once_t thr_once = PTHREAD_ONCE_INIT;
/* What a thread's `conn` is once it has exited: closed, so a call made after (another
   library's thread-specific destructor) is -ECONNRESET, never the main thread's connection. */
static struct thr gone_thr = {.c = {.fd = -1, .gone = 1}};

/*
 * The end of a thread pthread_create started (its start routine returned, or it called
 * pthread_exit or was cancelled: start_thread runs the thread-specific destructors on
 * every path): exit(2) for that thread on its own connection, then the connection is
 * closed. The reply is awaited, so pthread_join, which returns once the host thread is
 * gone, finds the thread gone from the daemon too (its /proc/PID/task entry).
 */
static void thread_end(void *p) {
  struct thr *s = p;
  if (s != self) return; /* a fork child's copy: forget_threads took care of it */
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om); /* no doorbell wrapper on this connection from here on */
  thread_drop(s);
  if (__atomic_load_n(&main_gone, __ATOMIC_SEQ_CST) && __atomic_load_n(&nthr, __ATOMIC_SEQ_CST) == 0) {
    /* The last thread: glibc's exit(0) follows, whose exit_group goes on this connection,
       once the daemon watcher is no longer a thread that could outlive it. */
    blinkd_unwatch_daemon();
    hmask(SIG_SETMASK, &om, NULL);
    return;
  }
  if (s->live && active) {
    int64_t r = blinkd_exit(&s->c, 0); /* the exit status of a thread that is not the last (do_exit) */
    if (r < 0 && r != -ESRCH) warn("ending the thread (exit)", r);
  }
  s->live = 0;
  self = &gone_thr;
  blinkd_conn_close(&s->c);
  free(s);
  hmask(SIG_SETMASK, &om, NULL);
}

static void make_key(void) {
  if (pthread_key_create(&thr_key, thread_end) != 0) thr_key = (pthread_key_t)-1;
}

/* The new thread: its own connection claims the tid reserved for it before the program's
   start routine runs; no signal is let in until then (the wrapper needs the connection). */
static void *thread_start(void *p) {
  struct thr *s = p;
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om);
  s->host = (pid_t)syscall(SYS_gettid);
  s->pt = pthread_self();
  self = s;
  mytid = s->tid;
  int32_t pid = 0;
  int64_t r = blinkd_conn_attach(&s->c, sockpath, s->token, myhost, &pid);
  memset(s->token, 0, sizeof s->token);
  if (r >= 0) {
    s->c.restart = restart_hook;
    s->live = 1;
    if (thread_add(s)) {
      pthread_setspecific(thr_key, s);
    } else {
      /* More threads than the table holds: this one ends for the daemon at once. */
      blinkd_exit(&s->c, 0);
      blinkd_conn_close(&s->c);
      s->live = 0;
    }
  } else {
    /* ENOENT: the reservation ended with its process (exit_group, execve) before it ran. */
    if (r != -ENOENT) warn("the new thread cannot claim its tid", r);
    blinkd_conn_close(&s->c);
  }
  void *(*fn)(void *) = s->fn;
  void *arg = s->arg;
  if (!s->live) {
    /* Not the daemon's: it runs as an unregistered host thread would (its creator frees s). */
    self = &gone_thr;
    mytid = 0;
  }
  int *started = s->started;
  __atomic_store_n(started, s->live ? 1 : 2, __ATOMIC_RELEASE);
  syscall(SYS_futex, started, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  hmask(SIG_SETMASK, &om, NULL);
  /* A mask set in the attributes (pthread_attr_setsigmask_np) differs from the creator's. */
  report_mask();
  return fn(arg);
}

/*
 * pthread_create(3) in a guest: thread_create reserves the tid (clone(CLONE_THREAD) takes it
 * from the pids' number space: a process that makes a thread then forks gets the next pid
 * after the thread's) and the daemon gives the new thread the creator's mask, as the host
 * does ("The new thread inherits a copy of the creating thread's signal mask"). A host
 * failure gives the tid back (thread_abort).
 */
EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  if (!active || !own_conn()) return get_pthread_create()(th, attr, fn, arg);
  pthread_once(&thr_once, make_key);
  struct thr *s = calloc(1, sizeof *s);
  if (!s) return EAGAIN;
  struct blinkd_thread_create_out o;
  int64_t tid = blinkd_thread_create(&conn, &o);
  if (tid < 0) {
    free(s);
    if (tid == -EAGAIN) return EAGAIN; /* pthread_create(3): EAGAIN, a system-imposed limit */
    warn("thread_create", tid);
    return get_pthread_create()(th, attr, fn, arg);
  }
  s->tid = (int32_t)tid;
  s->mask = told;
  s->fn = fn;
  s->arg = arg;
  memcpy(s->token, o.token, sizeof s->token);
  int started = 0;
  s->started = &started;
  int r = get_pthread_create()(th, attr, thread_start, s);
  if (r != 0) {
    blinkd_thread_abort(&conn, s->tid);
    free(s);
    return r;
  }
  /* clone(2) returns once the thread exists: so does this, once it has claimed its tid, so
     that a fork or an exec right after finds its connection in the table (the child closes
     its copy; the exec keeps it open) and /proc/PID/task lists it. */
  int st;
  while (!(st = __atomic_load_n(&started, __ATOMIC_ACQUIRE))) syscall(SYS_futex, &started, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  if (st == 2) free(s);
  return 0;
}

/*
 * A handled signal a thread sent itself (raise, pthread_kill(pthread_self()), tgkill) is
 * delivered before the call returns on Linux (the sender is the target, on its way back to
 * user mode). The daemon's doorbell goes to the host process, and the host kernel picks a
 * thread that does not block it (complete_signal: the leader if it wants it). The caller
 * blocks every host signal for the length of the call, so the doorbell goes to another
 * thread, which passes it on only later: so a caller with other threads rings itself,
 * flagged as passed, the main thread too (it took the handler after raise had returned
 * once in CI at load: spec/native/threadring.c). A lone main thread needs no ring: the
 * doorbell can go nowhere else (the watcher blocks everything), and it is pending when
 * the call unblocks.
 */
void ring_self(int sig) {
  struct thr *t = self ? self : main_thread() && __atomic_load_n(&nthr, __ATOMIC_SEQ_CST) > 0 ? &mainthr : NULL;
  if (!t || !t->live || t->host <= 0 || sig < 1 || sig > 64 || !(wrapped & (1ull << (sig - 1)))) return;
  int e = errno;
  /* One passed doorbell at a time (see pass_on): a set flag means one is on its way. */
  if (!__atomic_exchange_n(&t->passed[sig], 1, __ATOMIC_SEQ_CST) && syscall(SYS_tgkill, myhost, t->host, sig) != 0)
    __atomic_store_n(&t->passed[sig], 0, __ATOMIC_SEQ_CST);
  errno = e;
}

/* The emulated tid of a thread of this process, by its pthread_t (0: not one of the library's). */
static int32_t tid_of(pthread_t t) {
  if (pthread_equal(t, pthread_self())) return gettid();
  int32_t tid = 0;
  sigset_t om;
  lock_threads(&om);
  if (mainthr.live && pthread_equal(t, mainthr.pt)) tid = mypid;
  for (int i = 0; !tid && i < nthr; i++)
    if (thrs[i]->live && pthread_equal(t, thrs[i]->pt)) tid = thrs[i]->tid;
  unlock_threads(&om);
  return tid;
}

REAL(int, pthread_kill, (pthread_t, int))

/* pthread_kill(3) is tgkill(getpid(), the thread's tid, sig): through the daemon, so the
   handler's siginfo is the namespace's (si_pid the sender's pid, SI_TKILL). glibc's own
   signals (32, 33) and threads the library did not start stay on the host. */
EXPORT int pthread_kill(pthread_t t, int sig) {
  int32_t tid;
  if (!active || !own_conn() || sig == 32 || sig == 33 || !(tid = tid_of(t))) return get_pthread_kill()(t, sig);
  int e = errno;
  int r = tgkill(mypid, tid, sig) == 0 ? 0 : errno;
  errno = e;
  return r;
}

REAL(void, pthread_exit, (void *))

/*
 * pthread_exit(3) in the main thread: the process lives on while other threads do, and
 * Linux keeps the leader as a zombie that still counts in Threads and /proc/PID/task
 * (release_task waits for the group). The daemon keeps it as it was; the thread that ends
 * last then ends the process (glibc's exit(0) after it, start_thread) with exit_group on
 * its connection, which thread_end leaves open for it.
 */
EXPORT void pthread_exit(void *ret) {
  /* The last thread's end ends the process (glibc exits when its thread count drops to 0):
     the daemon watcher must not be left as that last thread. */
  if (active && !self && __atomic_load_n(&nthr, __ATOMIC_SEQ_CST) == 0) blinkd_unwatch_daemon();
  if (active && !self && main_thread() && __atomic_load_n(&nthr, __ATOMIC_SEQ_CST) > 0) {
    sigset_t om;
    lock_threads(&om);
    main_gone = 1;
    mainthr.live = 0; /* no doorbell is passed to it */
    unlock_threads(&om);
  }
  get_pthread_exit()(ret);
  __builtin_unreachable();
}
