/*
 * The state the preload's parts share (declared in shared.h), in one place, and the helpers
 * every part uses. What only one part reads stays in that part's file (the child table in
 * children.c, the thread table in threads.c, vfork's saved state in fork.c, the exec under
 * way in exec.c).
 */
#include "shared.h"

struct thr mainthr = {.mask = ~0ull};
/* The calling thread's record when pthread_create started it (NULL in the main thread and
   in threads the library did not start). Static TLS: the library is loaded at startup. */
__thread struct thr *self __attribute__((tls_model("initial-exec")));
__thread int32_t mytid __attribute__((tls_model("initial-exec")));
__thread unsigned handler_runs __attribute__((tls_model("initial-exec")));
__thread unsigned quiet_runs __attribute__((tls_model("initial-exec")));
int active;        /* this process is a guest */
int ending;        /* its exit_group is on its way to the daemon (end_group) */
int vchild;        /* a vfork child, running in its parent's memory (blinkd_vfork_after) */
int32_t mypid;     /* its emulated pid, cached: it never changes */
pid_t myhost;      /* its host pid */
int confd = -1;    /* the fixed descriptor the connection lives on */
char sockpath[256];
uint64_t norestart; /* signals whose handler lacks SA_RESTART (bit signo-1) */
pid_t daemonhost;  /* the daemon's host pid (SO_PEERCRED): the sender of every doorbell */
/* The program's own actions for the signals whose host handler is the wrapper (bit signo-1
   in `wrapped`); both change only with every signal blocked. */
struct sigaction user_act[65];
uint64_t wrapped;
/* The program's signalfds (signalfd(2)) and the signals each reads; what sig_watch last
   told the daemon they read together. */
unsigned char is_sfd[MAXSFD];
uint64_t sfd_set[MAXSFD];
int nsfd;
uint64_t watching;

/* The host's rt_sigprocmask, for the library's own masking (never reported to the daemon). */
int hmask(int how, const sigset_t *set, sigset_t *old) {
  return (int)syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

SHARED_REALS(REAL_SHARED)

pid_t host_getpid(void) {
  return (pid_t)syscall(SYS_getpid);
}

/* The daemon's host pid, from the connection's peer credentials (unix(7) SO_PEERCRED). */
pid_t peer_pid(int fd) {
  struct ucred cr;
  socklen_t n = sizeof cr;
  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) == 0 ? cr.pid : 0;
}

void warn(const char *what, int64_t r) {
  char b[512];
  int n = snprintf(b, sizeof b, "blinkd preload (host pid %d): %s: %s%s%s\n", (int)host_getpid(), what, strerror((int)-r), conn.error[0] ? ": " : "", conn.error);
  if (n > 0) (void)!write(2, b, (size_t)n);
}

/* Sets errno from a negative result; returns -1 for it, else the result. */
long ret(int64_t r) {
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (long)r;
}

int restart_hook(struct blinkd_conn *c, void *arg) {
  /* signal(7): restart when the handler that interrupted has SA_RESTART. Which handler ran
     is not known here; restart only when every installed handler asked for it. */
  return norestart == 0;
}

/* The daemon closed the connection of a process that must be in its namespace (a reserved
   child, or an image that had one): the namespace is over, so is the process (blinkd.h). */
int daemon_gone_code(int64_t r) {
  return r == -ECONNREFUSED || r == -ENOENT || r == -ECONNRESET || r == -EPIPE;
}

/* The value of a variable the image before this one left for this host process ("HOSTPID:…",
   MASK_ENV, PID_ENV, THREADS_ENV, KIDS_ENV): what follows the colon, or NULL when it is
   absent or another process's (inherited through a fork or spawn that did not clear it). */
const char *own_env(const char *name) {
  const char *v = getenv(name);
  if (!v) return NULL;
  char *end;
  long hp = strtol(v, &end, 10);
  return hp == (long)myhost && *end == ':' ? end + 1 : NULL;
}
