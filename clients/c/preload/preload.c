/*
 * libblinkd-preload.so: unmodified, dynamically linked programs as blinkd guests.
 *
 *   LD_PRELOAD=dist/c/libblinkd-preload.so BLINKD_SOCKET=… prog   (what `blinkd run` does)
 *
 * The library interposes the libc functions that make up the process model (getpid,
 * getppid, gettid, fork, vfork, posix_spawn, system, the exec family, exit, _exit, the wait
 * family, kill, killpg, tgkill, raise, the process-group and session calls, prctl's
 * subreaper options, sigaction, pthread_create, pthread_kill, pthread_exit) and answers
 * them from the daemon's emulated
 * PID namespace. The
 * host still runs and reaps the real processes:
 *
 *  - fork: the parent reserves the child (fork → pid + token), forks on the host, and the
 *    child opens its own connection and claims the token (a shared connection would hide
 *    the parent's death, spec/protocol.md §7.4). A failed host fork is fork_abort.
 *  - exec: the connection survives execve on a fixed descriptor (BLINKD_FD), and the new
 *    image's constructor adopts it and reports execve (same pid, new program): the pid
 *    comes from the image before (BLINKD_PID), and the report is posted, its reply not
 *    awaited (blinkd_conn_post), so an exec costs no round trip it waits for.
 *  - exit: exit_group with the exact status goes out before the host process ends; a
 *    process killed on the host is reported by its parent (report_status) from the host
 *    status its real waitpid collects.
 *  - wait: the daemon decides who is reaped (its zombies, reparenting, WNOHANG); the host
 *    child is then reaped on the host too, and its host status corrects a SIGKILL the
 *    daemon only assumed when the connection closed.
 *  - the emulated init (and every emulated subreaper) is made a host child subreaper too,
 *    so orphans land on the same process on the host as in the namespace.
 *  - threads (spec/protocol.md §7.5): pthread_create reserves the thread (thread_create →
 *    tid + token; the daemon copies the creator's mask) and the new thread opens its own
 *    connection and claims the token before the start routine runs (pthread_create returns
 *    once it has, as clone returns once the thread exists); every call the thread
 *    makes goes on its connection (one per thread, never shared), gettid is its tid, and
 *    its end (return, pthread_exit, cancellation: a thread-specific destructor) is `exit`
 *    on it, then its close. A fork child closes its copies of the other threads'
 *    connections; an exec keeps them open until the new image has reported execve.
 *  - signals (delivery 1, spec/signals.md §4): every handler the program installs is
 *    installed on the host behind one wrapper (doorbell). A host signal the daemon sent
 *    is a doorbell: the wrapper takes the queued signals with sig_dequeue, inside the
 *    handler, on the connection of the thread the host picked, and runs the program's
 *    handler for each with the emulated siginfo (a doorbell that finds none of its signal
 *    for that thread is passed on to the other threads: pass_on). Any other host signal
 *    runs the program's handler as is. Each thread's mask is reported (sigprocmask,
 *    pthread_sigmask, sigsetmask, sigblock, sighold, sigrelse, sigsuspend, pselect, ppoll,
 *    a handler's sa_mask when it blocks a signal the daemon would act on), so the daemon
 *    queues what the program blocks; sigwait, sigwaitinfo and sigtimedwait take a blocked
 *    signal from the daemon (sig_wait) with its emulated siginfo, and so does read(2) of a
 *    signalfd (the daemon rings for its signals: sig_watch).
 *
 * Limits (interposition only sees calls that go through libc's dynamic symbols): raw
 * syscall(2), clone(2), statically linked programs, glibc-internal calls (popen's spawn,
 * execvp's execve are covered by the descriptor surviving exec; popen's child registers as
 * a new process), threads not made by pthread_create here (they have no connection:
 * host tids, masks not reported, host signals only), and signalfd outside the main thread
 * (a signalfd is translated on read(2) of the descriptor signalfd returned, in the main
 * thread of the image that made it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "blinkd.h"

#include "preload.h"
#define EXPORT __attribute__((visibility("default")))
#define FD_ENV "BLINKD_FD"
/* "HOSTPID:HEX": the mask the daemon has for this process, from the image before execve. */
#define MASK_ENV "BLINKD_MASK"
/* "HOSTPID:PID": the emulated pid, from the image before execve (same process, same pid). */
#define PID_ENV "BLINKD_PID"
/* "HOSTPID:FD,FD,…": the other threads' connections, kept open across execve (prepare_exec). */
#define THREADS_ENV "BLINKD_THREAD_FDS"
static char exec_threads[4096]; /* its value for the exec under way ("" when none) */
#define DEFAULT_FD 1000
/* The descriptor of the door (blinkd.h: an O_PATH descriptor of the daemon's socket). */
#define DOOR_ENV "BLINKD_DOOR"

/*
 * A guest thread of this process (spec/protocol.md §1, §7.5: one connection per thread,
 * never shared): the main thread's is `mainthr`; every thread pthread_create starts gets
 * its own (thread_create reserves its tid, the thread claims it on a new connection).
 * `conn` and `told` below are the calling thread's.
 */
struct thr {
  struct blinkd_conn c;
  int32_t tid;      /* its emulated tid */
  pthread_t pt;     /* its pthread_t (pthread_kill) */
  pid_t host;       /* its host tid */
  int live;         /* claimed and not yet exited: the connection is its own */
  /* Its mask as the daemon has it (bit signo-1): what rt_sigprocmask last reported; ~0
     until the first report. */
  uint64_t mask;
  /* Doorbells another thread passed on to this one (one flag per signal: host standard
     signals coalesce, so does the flag). */
  int passed[65];
  void *(*fn)(void *);
  void *arg;
  char token[BLINKD_STR_OUT_MAX];
  /* The creator's word (on its stack, as the thread may end and free this any time after):
     1 once the new thread has claimed its tid, 2 if it failed to. */
  int *started;
};
static struct thr mainthr = {.mask = ~0ull};
/* The calling thread's record when pthread_create started it (NULL in the main thread and
   in threads the library did not start). Static TLS: the library is loaded at startup. */
static __thread struct thr *self __attribute__((tls_model("initial-exec")));
static __thread int32_t mytid __attribute__((tls_model("initial-exec")));
static inline struct thr *me(void) {
  return self ? self : &mainthr;
}
#define conn (me()->c)
#define told (me()->mask)
static int active;        /* this process is a guest */
static int vchild;        /* a vfork child, running in its parent's memory (blinkd_vfork_after) */
static int32_t mypid;     /* its emulated pid, cached: it never changes */
static pid_t myhost;      /* its host pid */
static int confd = -1;    /* the fixed descriptor the connection lives on */
static char sockpath[256];
static uint64_t norestart; /* signals whose handler lacks SA_RESTART (bit signo-1) */
static pid_t daemonhost;  /* the daemon's host pid (SO_PEERCRED): the sender of every doorbell */
/* The program's own actions for the signals whose host handler is the wrapper (bit signo-1
   in `wrapped`); both change only with every signal blocked. */
static struct sigaction user_act[65];
static uint64_t wrapped;
/* The program's signalfds (signalfd(2)) and the signals each reads; what sig_watch last
   told the daemon they read together. */
#define MAXSFD 1024
static unsigned char is_sfd[MAXSFD];
static uint64_t sfd_set[MAXSFD];
static int nsfd;
static uint64_t watching;
static void tell_mask(uint64_t m);
static int main_thread(void);
static int own_conn(void);

/* The host's rt_sigprocmask, for the library's own masking (never reported to the daemon). */
static int hmask(int how, const sigset_t *set, sigset_t *old) {
  return (int)syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

/* Children forked on the host: host pid <-> emulated pid, until reaped. */
#define MAXKIDS 4096
static struct kid {
  pid_t host;
  int32_t pid;
} kids[MAXKIDS];
static int nkids;

static void kid_add(pid_t host, int32_t pid) {
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om);
  if (nkids < MAXKIDS) kids[nkids++] = (struct kid){host, pid};
  hmask(SIG_SETMASK, &om, NULL);
}
static pid_t host_of(int32_t pid) {
  for (int i = 0; i < nkids; i++)
    if (kids[i].pid == pid) return kids[i].host;
  return 0;
}
static int32_t pid_of(pid_t host) {
  for (int i = 0; i < nkids; i++)
    if (kids[i].host == host) return kids[i].pid;
  return 0;
}
/* Host pids of guest children reaped lately: their host SIGCHLD may still be pending. */
#define REAPED 256
static pid_t reaped[REAPED];
static unsigned nreaped;

static void kid_drop(pid_t host) {
  /* The SIGCHLD wrapper reads the table (guest_child): no signal while it changes. */
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om);
  for (int i = 0; i < nkids; i++)
    if (kids[i].host == host) {
      kids[i] = kids[--nkids];
      reaped[nreaped++ % REAPED] = host;
      break;
    }
  hmask(SIG_SETMASK, &om, NULL);
}

/* A host child that is a guest of the namespace (forked or spawned through this library). */
static int guest_child(pid_t host) {
  if (pid_of(host)) return 1;
  for (unsigned i = 0; i < REAPED && i < nreaped; i++)
    if (reaped[i] == host) return 1;
  return 0;
}

/* The threads pthread_create started that are live (claimed, not yet exited); the doorbell
   wrapper reads the table, so it changes with every signal blocked, under a spin lock. */
#define MAXTHR 4096
static struct thr *thrs[MAXTHR];
static int nthr;
static int thr_lock;
static int main_gone; /* the main thread called pthread_exit while others lived */

static void lock_threads(sigset_t *om) {
  sigset_t all;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, om);
  while (__atomic_exchange_n(&thr_lock, 1, __ATOMIC_ACQUIRE)) sched_yield();
}

static void unlock_threads(const sigset_t *om) {
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
static void forget_threads(void) {
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

#define REAL(ret, name, args)                                   \
  static ret(*real_##name) args;                                \
  static ret(*get_##name(void)) args {                          \
    if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name);    \
    return real_##name;                                         \
  }

REAL(pid_t, fork, (void))
REAL(int, execve, (const char *, char *const[], char *const[]))
REAL(void, _exit, (int))
REAL(pid_t, waitpid, (pid_t, int *, int))
REAL(int, sigaction, (int, const struct sigaction *, struct sigaction *))
REAL(int, posix_spawn, (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[], char *const[]))
REAL(int, posix_spawnp, (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[], char *const[]))
REAL(int, setpgid, (pid_t, pid_t))
REAL(pid_t, setsid, (void))
REAL(int, tcsetpgrp, (int, pid_t))
REAL(pid_t, tcgetpgrp, (int))
REAL(int, prctl, (int, unsigned long, unsigned long, unsigned long, unsigned long))
REAL(int, kill, (pid_t, int))

static pid_t host_getpid(void) {
  return (pid_t)syscall(SYS_getpid);
}

/* The daemon's host pid, from the connection's peer credentials (unix(7) SO_PEERCRED). */
static pid_t peer_pid(int fd) {
  struct ucred cr;
  socklen_t n = sizeof cr;
  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) == 0 ? cr.pid : 0;
}

static void warn(const char *what, int64_t r) {
  char b[512];
  int n = snprintf(b, sizeof b, "blinkd preload (host pid %d): %s: %s%s%s\n", (int)host_getpid(), what, strerror((int)-r), conn.error[0] ? ": " : "", conn.error);
  if (n > 0) (void)!write(2, b, (size_t)n);
}

/* Sets errno from a negative result; returns -1 for it, else the result. */
static long ret(int64_t r) {
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (long)r;
}

static int restart_hook(struct blinkd_conn *c, void *arg) {
  /* signal(7): restart when the handler that interrupted has SA_RESTART. Which handler ran
     is not known here; restart only when every installed handler asked for it. */
  return norestart == 0;
}

/* Puts the connection on the fixed descriptor, inherited across execve. */
static int settle_fd(void) {
  int want = confd >= 0 ? confd : DEFAULT_FD;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (rlim_t)want >= rl.rlim_cur) want = (int)rl.rlim_cur - 1;
  /* Close-on-exec: only an exec through this library (prepare_exec) hands the connection to
     the new image; a program run another way (a raw execve, a static binary, a set-user-ID
     program, whose loader ignores LD_PRELOAD) does not get this process's connection, with
     the credentials the daemon has for it. */
  if (conn.fd != want) {
    if (dup3(conn.fd, want, O_CLOEXEC) < 0) return -errno;
    close(conn.fd);
    conn.fd = want;
  } else {
    fcntl(want, F_SETFD, FD_CLOEXEC);
  }
  confd = want;
  char v[16];
  snprintf(v, sizeof v, "%d", want);
  /* Not again when it holds it already: a vfork child must not reallocate the environment. */
  const char *had = getenv(FD_ENV);
  if (!had || strcmp(had, v)) setenv(FD_ENV, v, 1);
  return 0;
}

static void self_exe(char *exe, size_t n) {
  ssize_t k = readlink("/proc/self/exe", exe, n - 1);
  exe[k > 0 ? k : 0] = 0;
}

/* argv from /proc/self/cmdline (the constructor runs before main sees it). */
static char **self_argv(char *buf, size_t n, char **v, int max) {
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t k = fd >= 0 ? read(fd, buf, n - 1) : 0;
  if (fd >= 0) close(fd);
  if (k < 0) k = 0;
  buf[k] = 0;
  int c = 0;
  for (ssize_t i = 0; i < k && c < max - 1; i += (ssize_t)strlen(buf + i) + 1) v[c++] = buf + i;
  v[c] = NULL;
  return v;
}

/* The dispositions a new program inherits (ignored signals survive execve). */
static void report_ignored(void) {
  for (int s = 1; s < 65; s++) {
    struct sigaction old;
    if (s == SIGKILL || s == SIGSTOP || get_sigaction()(s, NULL, &old) != 0) continue;
    if (old.sa_handler == SIG_IGN) blinkd_rt_sigaction(&conn, s, BLINKD_SIGACTION_SIG_IGN, (uint32_t)old.sa_flags);
  }
}

/*
 * The door (blinkd.h): an O_PATH descriptor of the daemon's socket, opened while this process
 * could reach it, and inherited by its children (fork keeps it, prepare_exec and spawn hand
 * it on). A process that drops its privileges (setresuid to another uid) cannot reach the
 * socket through the owner-only runtime directory any more; its children connect through the
 * door, since a process keeps making system calls whatever its uid.
 */
static void adopt_door(void) {
  const char *v = getenv(DOOR_ENV);
  struct stat st;
  if (v) {
    int fd = atoi(v);
    /* Only an O_PATH descriptor of a socket file is a door: the number may be another descriptor now. */
    if (fd > 2 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && (fcntl(fd, F_GETFL) & O_PATH)) {
      fcntl(fd, F_SETFD, FD_CLOEXEC);
      blinkd_set_door(fd);
      return;
    }
  }
  int fd = blinkd_open_door(sockpath);
  if (fd >= 0) {
    char b[16];
    snprintf(b, sizeof b, "%d", fd);
    setenv(DOOR_ENV, b, 1);
  } else {
    unsetenv(DOOR_ENV);
  }
}

/* exit_group with the status the parent will see, before the host process ends. */
static void end_group(int status) {
  struct blinkd_exit_group_args a = {status};
  /* From here the daemon may end the namespace before this process is gone: not a death. */
  blinkd_watch_daemon(-1);
  /* With other threads, their connections close as the host process ends, and a close
     before the daemon has read exit_group would be their death (§7.7): the reply is
     awaited. Alone, it is not (the process ends; its connection's close follows). */
  /* PTRACE_O_TRACEEXIT: the exit's event stop comes first (ptrace.c). */
  blinkd_ptrace_exiting((status & 0xff) << 8);
  if (__atomic_load_n(&nthr, __ATOMIC_SEQ_CST) > 0) blinkd_exit_group(&conn, status);
  else blinkd_conn_send(&conn, &blinkd_call_exit_group, &a);
  active = 0;
}

static void on_exit_handler(int status, void *arg) {
  if (!active) return;
  end_group(status); /* exit(3) */
}

static int is_node(const char *exe) {
  const char *b = strrchr(exe, '/');
  b = b ? b + 1 : exe;
  return !strncmp(b, "node", 4);
}

static void resolve_mask_calls(void);
static void report_mask(void);
static void tell_watch(void);
static void close_old_threads(void);

/* The daemon closed the connection of a process that must be in its namespace (a reserved
   child, or an image that had one): the namespace is over, so is the process (blinkd.h). */
static int daemon_gone_code(int64_t r) {
  return r == -ECONNREFUSED || r == -ENOENT || r == -ECONNRESET || r == -EPIPE;
}

__attribute__((constructor)) static void blinkd_preload_init(void) {
  resolve_mask_calls();
  if (!getenv("BLINKD_SOCKET") && !getenv("BLINK_PREFIX")) return;
  /* Before any call: an exec's ptrace stop rings this image as it reports execve. */
  blinkd_ptrace_init();
  /* A guest does not outlive its kernel: a call that finds the daemon gone ends the process
     (blinkd.h, spec/protocol.md §7.8). */
  blinkd_set_gone_policy(BLINKD_GONE_KILL, "blinkd preload");
  char exe[4096], abuf[8192], *argv[256];
  self_exe(exe, sizeof exe);
  /* A Node.js guest speaks for itself through the TypeScript client. */
  if (is_node(exe)) return;
  if (blinkd_socket_path(sockpath, sizeof sockpath)) return;
  self_argv(abuf, sizeof abuf, argv, 256);
  myhost = host_getpid();
  const char *fdv = getenv(FD_ENV);
  const char *token = getenv("BLINKD_TOKEN");
  int64_t r;
  struct stat st;
  int inherited = fdv ? atoi(fdv) : -1;
  adopt_door();
  /* The daemon keeps the mask across execve (signal(7)): the image before said which it is,
     so the new one reports only a change. Only this host process's word is taken. */
  const char *mv = getenv(MASK_ENV);
  if (mv) {
    char *end;
    long hp = strtol(mv, &end, 10);
    if (hp == (long)myhost && *end == ':') told = strtoull(end + 1, NULL, 16);
    unsetenv(MASK_ENV);
  }
  if (!token && inherited > 2 && fstat(inherited, &st) == 0 && S_ISSOCK(st.st_mode) && !(fcntl(inherited, F_GETFD) & FD_CLOEXEC)) {
    /* execve kept the connection: same pid, new program. */
    memset(&conn, 0, sizeof conn);
    conn.fd = inherited;
    conn.rbuf = conn.rinline;
    conn.rcap = sizeof conn.rinline;
    confd = inherited;
    fcntl(inherited, F_SETFD, FD_CLOEXEC);
    /* The image before named the pid (only this host process's word is taken), else ask. */
    const char *pv = getenv(PID_ENV);
    r = 0;
    int traced = 0;
    if (pv) {
      char *end;
      long hp = strtol(pv, &end, 10);
      if (hp == (long)myhost && *end == ':') {
        r = strtol(end + 1, &end, 10);
        traced = !strcmp(end, ":t");
      }
      unsetenv(PID_ENV);
    }
    if (r <= 0) r = blinkd_getpid(&conn);
    if (r > 0) {
      mypid = (int32_t)r;
      /* The report needs no answer: every later call on the connection finds it made. But
         the old image's threads' connections close only once it is made (§7.6): then wait. */
      /* A traced image waits too: its tracer may stop it at the exec (PTRACE_EVENT_EXEC, or
         the legacy SIGTRAP) before it runs an instruction, and the daemon rings it for that
         stop before it answers; a posted report would let it run on past the stop. */
      if (getenv(THREADS_ENV) || traced) r = blinkd_execve(&conn, exe, (const char *const *)argv);
      else {
        struct blinkd_execve_args ea = {exe, (const char *const *)argv};
        r = blinkd_conn_post(&conn, &blinkd_call_execve, &ea);
      }
    }
    close_old_threads();
    if (r < 0) return warn("adopting the connection after execve", r);
  } else {
    unsetenv(THREADS_ENV); /* another process's */
    if (inherited > 2) confd = inherited;
    r = blinkd_conn_open(&conn, sockpath);
    if (r == 0) {
      char who[64];
      snprintf(who, sizeof who, "blinkd-preload pid %d", (int)myhost);
      r = blinkd_conn_handshake(&conn, "guest", who);
    }
    if (r < 0 && token && daemon_gone_code(r)) blinkd_daemon_gone(&conn, conn.error[0] ? conn.error : NULL);
    if (r < 0) return warn("cannot reach blinkd", r);
    if (token) {
      /* Started by `blinkd run` or a guest's posix_spawn: claim the reserved pid. */
      struct blinkd_claim_out out;
      char t[128];
      snprintf(t, sizeof t, "%s", token);
      unsetenv("BLINKD_TOKEN");
      r = blinkd_claim(&conn, t, myhost, &out);
      if (r >= 0) {
        /* Its execve report needs no answer (posted, as after an exec). */
        struct blinkd_execve_args ea = {exe, (const char *const *)argv};
        mypid = out.pid;
        r = blinkd_conn_post(&conn, &blinkd_call_execve, &ea);
      }
      if (r == -ENOENT) get_kill()(myhost, SIGKILL); /* killed before it ran (§7.4) */
      if (r < 0) return warn("claiming BLINKD_TOKEN", r);
    } else {
      r = blinkd_register(&conn, myhost, exe, (const char *const *)argv, BLINKD_DELIVERY_HOST);
      if (r < 0) return warn("register", r);
      told = 0; /* a registered process starts with an empty mask (spec/signals.md §2.2) */
      mypid = (int32_t)r;
    }
    if ((r = settle_fd()) < 0) return warn("keeping the connection on a fixed descriptor", r);
  }
  conn.restart = restart_hook;
  daemonhost = peer_pid(conn.fd);
  mainthr.host = myhost;
  mainthr.live = 1;
  mainthr.pt = pthread_self();
  active = 1;
  /* Waiting on the host (sigsuspend, a host wait, a sleep), it hears of the daemon's end too. */
  blinkd_watch_daemon(conn.fd);
  report_ignored();
  /* The mask survives execve, and a spawned child's is the spawn attribute's: report it. */
  report_mask();
  /* The emulated init reaps orphans; on the host it becomes their reaper too. */
  if (mypid == 1) get_prctl()(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  on_exit(on_exit_handler, NULL);
}

/* ---- credentials ---- */

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

/* ---- identity ---- */

EXPORT pid_t getpid(void) {
  return active ? mypid : host_getpid();
}

EXPORT pid_t getppid(void) {
  if (!active) return (pid_t)syscall(SYS_getppid);
  return (pid_t)ret(blinkd_getppid(&conn));
}

/* gettid(2): the main thread's tid is the pid; a thread pthread_create started has the
   tid thread_create reserved for it (from the pids' number space, as alloc_pid gives it). */
EXPORT pid_t gettid(void) {
  if (active && mytid) return mytid;
  pid_t t = (pid_t)syscall(SYS_gettid);
  return active && t == myhost ? mypid : t;
}

/* ---- fork, spawn, exec ---- */

/* In the host child: its own connection, claiming the reservation. */
static void child_attach(const char *token, int32_t pid, int vforked) {
  /* fork(2) copies the calling thread's mask, the daemon's copy included: the child's one
     thread, its main thread now, starts with it. */
  uint64_t m = told;
  if (vforked) {
    /* In the parent's memory (vfork): its connection's copy is closed in this child's
       descriptor table only, nothing of its is freed (the parent puts it back). */
    if (conn.proof > 0) close(conn.proof - 1);
    close(conn.fd);
  } else {
    forget_threads();
    blinkd_conn_forget(&conn);
  }
  told = m;
  nkids = 0;
  nreaped = 0;
  myhost = host_getpid();
  mainthr.host = myhost;
  mainthr.pt = pthread_self();
  mainthr.live = 1;
  int32_t p = 0;
  int64_t r = blinkd_conn_attach(&conn, sockpath, token, myhost, &p);
  if (r >= 0) r = settle_fd();
  if (r == -ENOENT) {
    /* The reservation is gone: the child was killed (or timed out) before it ran, and the
       daemon already counts it dead of SIGKILL (spec/protocol.md §7.4). Make it so. */
    get_kill()(myhost, SIGKILL);
  }
  if (r < 0) {
    if (daemon_gone_code(r)) blinkd_daemon_gone(&conn, conn.error[0] ? conn.error : NULL);
    warn("the forked child cannot claim its pid", r);
    active = 0;
    return;
  }
  conn.restart = restart_hook;
  daemonhost = peer_pid(conn.fd);
  /* No thread in a vfork child: it execs (the new image starts its own watcher) or exits. */
  if (!vforked) blinkd_watch_daemon(conn.fd);
  mypid = p;
  watching = 0;
  if (nsfd) tell_watch(); /* the signalfds it inherited */
}

EXPORT pid_t fork(void) {
  if (!active) return get_fork()();
  /* A ptrace stop the fork makes (a traced parent's) is served once the host child exists:
     its tracer may wait for the child first (the bell waits on the host until then). */
  sigset_t bellset, bom;
  sigemptyset(&bellset);
  sigaddset(&bellset, BLINKD_PTRACE_BELL);
  hmask(SIG_BLOCK, &bellset, &bom);
  struct blinkd_fork_out fo;
  int64_t pid = blinkd_fork(&conn, &fo);
  if (pid < 0) {
    hmask(SIG_SETMASK, &bom, NULL);
    return (pid_t)ret(pid);
  }
  char token[BLINKD_STR_OUT_MAX];
  memcpy(token, fo.token, sizeof token);
  /* The child's host SIGCHLD must find it in the table (guest_child): none until it is there. */
  sigset_t chld, om;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  hmask(SIG_BLOCK, &chld, &om);
  om = bom;
  pid_t h = get_fork()();
  if (h < 0) {
    int e = errno;
    hmask(SIG_SETMASK, &om, NULL);
    blinkd_fork_abort(&conn, (int32_t)pid);
    errno = e;
    return -1;
  }
  if (h == 0) {
    /* Until it has claimed its pid, the child is not yet itself (its pid and connection are
       the parent's): a doorbell for a signal sent to it before it ran (the daemon rings once
       it claims) waits on the host until then, and its handler runs as the child. */
    sigset_t all;
    sigfillset(&all);
    hmask(SIG_SETMASK, &all, NULL);
    blinkd_ptrace_child();
    child_attach(token, (int32_t)pid, 0);
    hmask(SIG_SETMASK, &om, NULL);
    return 0;
  }
  kid_add(h, (int32_t)pid);
  hmask(SIG_SETMASK, &om, NULL);
  blinkd_ptrace_forked((int32_t)pid);
  return (pid_t)pid;
}

/*
 * vfork(2): the child runs in the parent's memory, on its stack, until it execs or exits, and
 * the parent waits for that. It returns twice in its caller's frame, so it is reached by a
 * jump (the asm below, as glibc's own), never a call.
 *  - Not a guest: glibc's vfork.
 *  - A guest with threads, or called from a thread: fork() (the child must not share them).
 *  - A lone guest thread: the parent reserves the child (fork → pid + token) and saves the
 *    library's state; the child attaches as fork's child does (its own connection, claiming
 *    the token), writing that state, with no thread and nothing freed or allocated (its
 *    exec's environment array is static); when vfork returns in the parent, the child
 *    having exec'd or exited, the parent puts its state back. A fork instead cost a dash
 *    loop of /bin/true 2.4 ms of CPU and 36 page faults per iteration (bench/README.md).
 */
REAL(pid_t, vfork, (void))
static struct {
  struct thr main;
  int32_t pid;
  pid_t host, daemonhost;
  int confd, nkids, active;
  unsigned nreaped;
  uint64_t watching, wrapped, norestart;
  struct sigaction user_act[65];
  /* the child's reservation, and the parent's mask to restore */
  int32_t child;
  char token[BLINKD_STR_OUT_MAX];
  sigset_t om;
  int err;
  int ptrace_opts;
} vf;

static pid_t vfork_failed(void) {
  errno = vf.err;
  return -1;
}

/* In the parent, before the vfork: the function to jump to instead, or NULL to vfork here. */
void *blinkd_vfork_target(void) {
  if (!active) return (void *)get_vfork();
  if (__atomic_load_n(&nthr, __ATOMIC_SEQ_CST) > 0 || self || !main_thread()) return (void *)fork;
  struct blinkd_fork_out fo;
  int64_t pid = blinkd_fork(&conn, &fo);
  if (pid < 0) {
    vf.err = (int)-pid;
    return (void *)vfork_failed;
  }
  vf.child = (int32_t)pid;
  memcpy(vf.token, fo.token, sizeof vf.token);
  /* Every host signal blocked: the child is not itself until it has claimed its pid (as in
     fork), and the child table (guest_child) gets the child before a SIGCHLD is let in. */
  sigset_t all;
  sigfillset(&all);
  hmask(SIG_SETMASK, &all, &vf.om);
  vf.main = mainthr;
  vf.pid = mypid, vf.host = myhost, vf.daemonhost = daemonhost;
  vf.confd = confd, vf.nkids = nkids, vf.active = active, vf.nreaped = nreaped;
  vf.watching = watching, vf.wrapped = wrapped, vf.norestart = norestart;
  memcpy(vf.user_act, user_act, sizeof user_act);
  vf.ptrace_opts = blinkd_ptrace_child();
  return NULL;
}

/* After the vfork syscall: r is 0 in the child, else the child's host pid (or -errno) in the parent. */
pid_t blinkd_vfork_after(long r) {
  if (r == 0) {
    vchild = 1;
    child_attach(vf.token, vf.child, 1); /* not traced: blinkd_vfork_target cleared the options */
    hmask(SIG_SETMASK, &vf.om, NULL);
    return 0;
  }
  mainthr = vf.main;
  mypid = vf.pid, myhost = vf.host, daemonhost = vf.daemonhost;
  confd = vf.confd, nkids = vf.nkids, active = vf.active, nreaped = vf.nreaped;
  watching = vf.watching, wrapped = vf.wrapped, norestart = vf.norestart;
  memcpy(user_act, vf.user_act, sizeof user_act);
  blinkd_ptrace_restore(vf.ptrace_opts);
  vchild = 0;
  /* The child's exit disarmed the watcher it shares with this process (blinkd_watch_daemon(-1)
     in end_group): armed again on this process's connection. */
  blinkd_watch_daemon(mainthr.c.fd);
  if (r < 0) {
    int e = (int)-r;
    blinkd_fork_abort(&conn, vf.child);
    hmask(SIG_SETMASK, &vf.om, NULL);
    errno = e;
    return -1;
  }
  kid_add((pid_t)r, vf.child);
  hmask(SIG_SETMASK, &vf.om, NULL);
  blinkd_ptrace_forked(vf.child); /* reported as a fork (spec/ptrace.md §7) */
  return vf.child;
}

__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "  sub $8, %rsp\n" /* aligned for the call, and nothing left on the stack after it */
        "  call blinkd_vfork_target\n"
        "  add $8, %rsp\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  jmp *%rax\n"
        "1:\n"
        "  pop %rdi\n" /* the return address, in a register across the syscall (glibc's vfork.S) */
        "  mov $58, %eax\n" /* SYS_vfork */
        "  syscall\n"
        "  push %rdi\n"
        "  sub $8, %rsp\n"
        "  mov %rax, %rdi\n"
        "  call blinkd_vfork_after\n"
        "  add $8, %rsp\n"
        "  ret\n"
        ".size vfork, .-vfork\n");

static int has_prefix(const char *s, const char *p) {
  return !strncmp(s, p, strlen(p));
}

/* envp plus what a guest child needs: the socket, the preload, and (spawn) its token. */
/* A vfork child shares the parent's memory until it execs: what it allocates would stay the
   parent's, so its environment array is this static one (the parent is suspended meanwhile). */
static char *vchild_env[1024];
static void env_free(char **e) {
  if (e != vchild_env) free(e);
}
static char **guest_env(char *const envp[], const char *token, char *buf, size_t bn) {
  size_t n = 0;
  while (envp && envp[n]) n++;
  char **e = vchild && n + 8 <= sizeof vchild_env / sizeof *vchild_env ? vchild_env : malloc((n + 8) * sizeof *e);
  if (!e) return NULL;
  size_t k = 0, used = 0;
  const char *keep[] = {"BLINKD_SOCKET", "LD_PRELOAD", FD_ENV, "BLINK_PREFIX", DOOR_ENV};
  for (size_t i = 0; i < n; i++) {
    if (has_prefix(envp[i], "BLINKD_TOKEN=") || has_prefix(envp[i], MASK_ENV "=") || has_prefix(envp[i], THREADS_ENV "=") || has_prefix(envp[i], PID_ENV "=")) continue;
    e[k++] = envp[i];
  }
  for (size_t j = 0; j < sizeof keep / sizeof *keep; j++) {
    const char *v = getenv(keep[j]);
    size_t len = strlen(keep[j]);
    int found = 0;
    for (size_t i = 0; i < k; i++)
      if (!strncmp(e[i], keep[j], len) && e[i][len] == '=') found = 1;
    if (found || !v) continue;
    int w = snprintf(buf + used, bn - used, "%s=%s", keep[j], v);
    if (w < 0 || (size_t)w >= bn - used) break;
    e[k++] = buf + used;
    used += (size_t)w + 1;
  }
  if (token) {
    int w = snprintf(buf + used, bn - used, "BLINKD_TOKEN=%s", token);
    if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used;
  } else {
    if (told != ~0ull && main_thread()) {
      int w = snprintf(buf + used, bn - used, MASK_ENV "=%d:%llx", (int)myhost, (unsigned long long)told);
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used, used += (size_t)w + 1;
    }
    if (mypid > 0) {
      int w = snprintf(buf + used, bn - used, PID_ENV "=%d:%d%s", (int)myhost, (int)mypid, blinkd_ptrace_traced() ? ":t" : "");
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used, used += (size_t)w + 1;
    }
    if (exec_threads[0]) {
      int w = snprintf(buf + used, bn - used, THREADS_ENV "=%s", exec_threads);
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used;
    }
  }
  e[k] = NULL;
  return e;
}

/*
 * Before an exec in a process with threads: execve(2) ends the other host threads (de_thread)
 * and closes close-on-exec descriptors, and a thread's connection closing before the new
 * image has reported execve would be the death of the whole process (protocol.md §7.7). So
 * they stay open across it, named in the environment with this host pid, and the new image
 * closes them once its execve report has ended those threads (§7.5, §7.6). A failed exec
 * makes them close-on-exec again. Returns whether anything was done. `environ`: the exec
 * function reads the environment itself, so the value goes there (else guest_env adds it;
 * setenv may move environ, which the caller may have passed as envp already).
 */
static int prepare_exec(int environ_) {
  if (!active) return 0;
  /* The new image starts its own sequence on the connection: no reply may still be on its way. */
  blinkd_conn_drain(&mainthr.c);
  if (&conn != &mainthr.c) blinkd_conn_drain(&conn);
  /* The connection and the door are close-on-exec (settle_fd): this exec hands them on. */
  fcntl(mainthr.c.fd, F_SETFD, 0);
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, 0);
  if (__atomic_load_n(&nthr, __ATOMIC_SEQ_CST) == 0) return 1;
  char *v = exec_threads;
  int n = snprintf(v, sizeof exec_threads, "%d:", (int)myhost);
  sigset_t om;
  lock_threads(&om);
  for (int i = 0; i < nthr; i++) {
    int fd = thrs[i]->c.fd;
    if (fd < 0 || n > (int)sizeof exec_threads - 16) continue;
    fcntl(fd, F_SETFD, 0);
    n += snprintf(v + n, sizeof exec_threads - (size_t)n, "%s%d", v[n - 1] == ':' ? "" : ",", fd);
  }
  unlock_threads(&om);
  if (environ_) setenv(THREADS_ENV, v, 1);
  return 1 + environ_;
}

static void undo_exec(int prepared) {
  if (!prepared) return;
  int e = errno;
  fcntl(mainthr.c.fd, F_SETFD, FD_CLOEXEC);
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, FD_CLOEXEC);
  sigset_t om;
  lock_threads(&om);
  for (int i = 0; i < nthr; i++)
    if (thrs[i]->c.fd >= 0) fcntl(thrs[i]->c.fd, F_SETFD, FD_CLOEXEC);
  unlock_threads(&om);
  if (prepared == 2) unsetenv(THREADS_ENV);
  exec_threads[0] = 0;
  errno = e;
}

/* In the new image, after its execve report: the old image's thread connections go. */
static void close_old_threads(void) {
  const char *v = getenv(THREADS_ENV);
  if (!v) return;
  char *end;
  long hp = strtol(v, &end, 10);
  if (hp == (long)myhost && *end == ':')
    for (char *q = end + 1; *q;) {
      long fd = strtol(q, &end, 10);
      if (end == q) break;
      if (fd > 2 && fd != confd) close((int)fd);
      q = *end == ',' ? end + 1 : end;
    }
  unsetenv(THREADS_ENV);
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  if (!active) return get_execve()(path, argv, envp);
  int prepared = prepare_exec(0);
  char buf[8192];
  char **e = guest_env(envp, NULL, buf, sizeof buf);
  int r = get_execve()(path, argv, e ? e : envp);
  int err = errno;
  env_free(e);
  undo_exec(prepared);
  errno = err;
  return r;
}

/* glibc's other exec functions call its internal execve, which this library does not see:
   they are wrapped for prepare_exec (they pass environ, which has THREADS_ENV then). */
REAL(int, execv, (const char *, char *const[]))
REAL(int, execvp, (const char *, char *const[]))
REAL(int, execvpe, (const char *, char *const[], char *const[]))

EXPORT int execv(const char *path, char *const argv[]) {
  int prepared = prepare_exec(1);
  int r = get_execv()(path, argv);
  undo_exec(prepared);
  return r;
}

EXPORT int execvp(const char *file, char *const argv[]) {
  int prepared = prepare_exec(1);
  int r = get_execvp()(file, argv);
  undo_exec(prepared);
  return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  if (!active) return get_execvpe()(file, argv, envp);
  int prepared = prepare_exec(0);
  char buf[8192];
  char **e = guest_env(envp, NULL, buf, sizeof buf);
  int r = get_execvpe()(file, argv, e ? e : envp);
  int err = errno;
  env_free(e);
  undo_exec(prepared);
  errno = err;
  return r;
}

/* execl(3), execlp, execle: the list made an argv (and execle's envp after the NULL). */
#define LIST_ARGV(first, ap, argv, max)                         \
  do {                                                          \
    int n_ = 0;                                                 \
    argv[n_++] = (char *)(first);                               \
    while (argv[n_ - 1] && n_ < (max)) argv[n_++] = va_arg(ap, char *); \
    if (n_ == (max) && argv[n_ - 1]) return errno = E2BIG, -1; \
  } while (0)

EXPORT int execl(const char *path, const char *arg, ...) {
  char *argv[4096];
  va_list ap;
  va_start(ap, arg);
  LIST_ARGV(arg, ap, argv, 4096);
  va_end(ap);
  extern char **environ;
  return execve(path, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...) {
  char *argv[4096];
  va_list ap;
  va_start(ap, arg);
  LIST_ARGV(arg, ap, argv, 4096);
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  return execve(path, argv, envp);
}

EXPORT int execlp(const char *file, const char *arg, ...) {
  char *argv[4096];
  va_list ap;
  va_start(ap, arg);
  LIST_ARGV(arg, ap, argv, 4096);
  va_end(ap);
  return execvp(file, argv);
}

static int spawn(int p, pid_t *pidp, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  if (!active) return (p ? get_posix_spawnp() : get_posix_spawn())(pidp, path, fa, attr, argv, envp);
  struct blinkd_fork_out fo;
  int64_t pid = blinkd_fork(&conn, &fo);
  if (pid < 0) return (int)-pid;
  char buf[2048];
  char **e = guest_env(envp, fo.token, buf, sizeof buf);
  /* The spawned child claims its own pid with the token on a connection of its own (ours is
     close-on-exec); it inherits the door, to reach the daemon whatever its uid. */
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, 0);
  pid_t h;
  int r = (p ? get_posix_spawnp() : get_posix_spawn())(&h, path, fa, attr, argv, e ? e : envp);
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, FD_CLOEXEC);
  env_free(e);
  if (r != 0) {
    blinkd_fork_abort(&conn, (int32_t)pid);
    return r;
  }
  kid_add(h, (int32_t)pid);
  if (pidp) *pidp = (pid_t)pid;
  return 0;
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  return spawn(0, pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  return spawn(1, pid, file, fa, attr, argv, envp);
}

/* ---- exit ---- */

EXPORT void _exit(int status) {
  if (active) end_group(status);
  get__exit()(status);
  __builtin_unreachable();
}

EXPORT void _Exit(int status) {
  _exit(status);
}

/* ---- wait ---- */

/* Reaps host children that have ended and reports their real status (§7.7). */
static void drain_host(void) {
  int hs;
  pid_t h;
  while ((h = get_waitpid()(-1, &hs, WNOHANG | __WALL)) > 0) {
    int32_t p = pid_of(h);
    kid_drop(h);
    if (p > 0) blinkd_report_status(&conn, p, hs);
  }
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
  drain_host();
  struct blinkd_wait4_out o;
  int64_t r = blinkd_wait4(&conn, pid, options, &o);
  if (r == -EINTR) {
    /* The signal may be the child's SIGCHLD: a child that is ready is the real result. */
    drain_host();
    int64_t again = blinkd_wait4(&conn, pid, options | WNOHANG, &o);
    if (again > 0) r = again;
  }
  if (r > 0) {
    int ws = exact_status((int32_t)r, o.wstatus);
    if (status) *status = ws;
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
  struct blinkd_waitid_out o;
  int64_t r = blinkd_waitid(&conn, (int32_t)idtype, (int32_t)id, options, &o);
  if (r == -EINTR) {
    drain_host();
    if (blinkd_waitid(&conn, (int32_t)idtype, (int32_t)id, options | WNOHANG, &o) == 0 && o.pid > 0) r = 0;
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

/* ---- signals ---- */

EXPORT int kill(pid_t pid, int sig) {
  if (!active) return get_kill()(pid, sig);
  return (int)ret(blinkd_kill(&conn, pid, sig));
}

EXPORT int killpg(pid_t pgrp, int sig) {
  /* killpg(3): a negative group is EINVAL; otherwise kill(-pgrp, sig). */
  if (pgrp < 0) return errno = EINVAL, -1;
  return kill(-pgrp, sig);
}

static void ring_self(int sig);

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
static uint64_t mask_bits(const sigset_t *m) {
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

static int is_doorbell(int s, const siginfo_t *hi) {
  if (hi->si_code == SI_USER && daemonhost > 0 && hi->si_pid == daemonhost) return 1;
  /* The host kernel's SIGCHLD for a guest child (CLD_EXITED, CLD_KILLED, CLD_STOPPED, …)
     stands for the daemon's own, with the emulated pid, queued at the child's exit_group
     or at the stop the daemon made (do_notify_parent, do_notify_parent_cldstop): taken
     with sig_dequeue like a doorbell, so the handler does not run twice, with a host pid. */
  if (s == SIGCHLD && hi->si_code > 0 && hi->si_code <= CLD_CONTINUED && guest_child(hi->si_pid)) return 1;
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
 */
static void pass_on(int s) {
  struct thr *me_ = self ? self : main_thread() ? &mainthr : NULL;
  sigset_t om;
  lock_threads(&om);
  for (int i = -1; i < nthr; i++) {
    struct thr *t = i < 0 ? &mainthr : thrs[i];
    if (t == me_ || !t->live || t->host <= 0) continue;
    __atomic_store_n(&t->passed[s], 1, __ATOMIC_SEQ_CST);
    if (syscall(SYS_tgkill, myhost, t->host, s) != 0) __atomic_store_n(&t->passed[s], 0, __ATOMIC_SEQ_CST);
  }
  unlock_threads(&om);
}

static void doorbell(int s, siginfo_t *hi, void *uc) {
  int saved = errno;
  uint64_t was_told = told;
  sigset_t base, all;
  sigfillset(&all);
  /* The host action has SA_NODEFER and an empty sa_mask: this is the mask s was delivered with. */
  hmask(SIG_BLOCK, NULL, &base);
  int kind;
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

/* ---- for ptrace.c (preload.h) ---- */

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

/* ---- the signal mask and sigwait (spec/signals.md §4) ---- */

REAL(int, sigprocmask, (int, const sigset_t *, sigset_t *))
REAL(int, pthread_sigmask, (int, const sigset_t *, sigset_t *))
REAL(int, sigsuspend, (const sigset_t *))
REAL(int, sigpending, (sigset_t *))
REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
REAL(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))
REAL(int, signalfd, (int, const sigset_t *, int))
REAL(ssize_t, read, (int, void *, size_t))
REAL(int, close, (int))

static void resolve_mask_calls(void) {
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
int blinkd_host_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask) {
  return (int)syscall(SYS_ppoll, fds, n, timeout, mask, _NSIG / 8);
}

#define BIT(s) (1ull << ((s) - 1))
/* Never in a mask: SIGKILL and SIGSTOP (sigprocmask(2)), and glibc's own 32 and 33, which
   its sigprocmask never blocks (nptl(7)). */
#define UNMASKABLE (BIT(SIGKILL) | BIT(SIGSTOP) | BIT(32) | BIT(33) | BIT(BLINKD_PTRACE_BELL))

static int main_thread(void) {
  return (pid_t)syscall(SYS_gettid) == myhost;
}

/* The calling thread has a connection of its own: the main thread, or a live thread
   pthread_create started. Only such a thread's mask and waits are the daemon's. */
static int own_conn(void) {
  return self ? self->live : main_thread();
}

/* The daemon's copy of the calling thread's mask becomes m (rt_sigprocmask SIG_SETMASK, on
   the thread's own connection); the signals it unblocks are rung before the reply. A host
   thread without a connection of its own is not the daemon's. */
static void tell_mask(uint64_t m) {
  m &= ~UNMASKABLE;
  if (!active || !own_conn() || m == told) return;
  int e = errno;
  /* A mask that only blocks more unblocks nothing: nothing is rung, so no answer is awaited.
     The daemon takes the thread's requests in order, so every later call (a fork copying the
     mask, an unblocking report) finds it made; a signal generated before the daemon reads it
     meets the old mask, as one generated just before the host mask changed would. */
  if ((m & told) == told && told != ~0ull) {
    struct blinkd_rt_sigprocmask_args a = {2, m};
    if (blinkd_conn_post(&conn, &blinkd_call_rt_sigprocmask, &a) == 0) {
      told = m;
      errno = e;
      return;
    }
  }
  struct blinkd_rt_sigprocmask_out o;
  int64_t r = blinkd_rt_sigprocmask(&conn, 2, m, &o);
  if (r == 0) told = m;
  else {
    static int warned;
    if (!warned++) warn("reporting the signal mask (rt_sigprocmask)", r);
  }
  errno = e;
}

static void report_mask(void) {
  sigset_t cur;
  hmask(SIG_BLOCK, NULL, &cur);
  tell_mask(mask_bits(&cur));
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

/*
 * signalfd(2) in the main thread of a guest: the daemon is told which signals the
 * program's signalfds read (sig_watch), and rings the host for each of them even while the
 * program blocks it, so the host signalfd becomes readable; read(2) of a signalfd replaces
 * each doorbell's record with the daemon's signal and siginfo (sig_wait), and drops one for
 * a signal something else took. Another host signal's record is left as the host gave it.
 */
static void tell_watch(void) {
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

/* ---- groups and sessions ---- */

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

/* ---- threads (spec/protocol.md §7.5) ---- */

REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
/* The client's watcher thread (blinkd_watch_daemon) is the host's alone, not a thread of the namespace. */
int blinkd_host_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  return get_pthread_create()(t, attr, fn, arg);
}

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
 * user mode). The daemon's doorbell goes to the host process, and the host kernel gives it
 * to the main thread when it can (complete_signal prefers the leader), which would pass it
 * on only later: so a thread other than the main one rings itself, flagged as passed.
 */
static void ring_self(int sig) {
  if (!self || !self->live || sig < 1 || sig > 64 || !(wrapped & (1ull << (sig - 1)))) return;
  int e = errno;
  __atomic_store_n(&self->passed[sig], 1, __ATOMIC_SEQ_CST);
  if (syscall(SYS_tgkill, myhost, self->host, sig) != 0) __atomic_store_n(&self->passed[sig], 0, __ATOMIC_SEQ_CST);
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
