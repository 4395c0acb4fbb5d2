/*
 * The floor preload (bench/workloads.ts, issue 18): an LD_PRELOAD library that makes, in each
 * image and around fork, exec, wait, the signal mask, a handled signal and exit, the socket
 * traffic libblinkd-preload.so makes on a shell's fork+exec+wait loop, against a bare server
 * (bench/floor-server.ts) that answers what this library awaits and nothing else. It keeps
 * no process model: what it measures is the protocol's shape (a separate process over a UNIX
 * socket, a connection per process, the round trips the guest waits for, a SIGCHLD doorbell),
 * not the daemon's work.
 *
 * Per iteration of `while …; do /bin/true; done` in dash, as libblinkd-preload.so makes it since
 * the seventh round (a state page and a posted vfork; frame sizes, 4-byte length included, are the
 * preload's; a floor frame is at least 20 bytes, its reply 13):
 *   parent: mask block posted (18) · vfork posted (76) · mask unblock posted (18) ·
 *           wait4_sigchld awaited, parked until the child's exit, the SIGCHLD in its reply
 *           (10 → 14; eleventh round: no doorbell, no sig_dequeue) · [an interrupt posted (7)
 *           when a signal interrupts that wait] · the handler's mask posted (18) · its restore
 *           posted (18) · [the host's own SIGCHLD: the state page's bell has not moved, nothing
 *           sent] · wait4 WNOHANG answered from the state page, nothing sent. A child that
 *           ends before the wait parks is rung as before: [doorbell: SIGCHLD from the server]
 *           sig_dequeue awaited (17 → 21).
 *   child:  connect · hello + claim in one write, awaited (97 → 67) · mask posted (18) ·
 *           execve: the connection kept, the new image posts execve (33) · exit_group
 *           posted (9) · close
 *   busybox sh forks instead: fork awaited (8 → 76), and the child's SIGQUIT reset is awaited.
 * Two waits per dash iteration (wait4_sigchld, hello + claim); the tenth round's had three (the
 * SIGCHLD's sig_dequeue after its doorbell), the sixth round's seven (fork, the restore, an
 * empty dequeue and wait4 WNOHANG were awaited too).
 *
 *   LD_PRELOAD=floor.so FLOOR_SOCKET=PATH prog     (FLOOR_LEAN=1: see `lean` below)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define FIXED_FD 1000

/* The floor server's operations (bench/floor-server.ts). */
enum { OP_ECHO = 0, OP_HELLO = 1, OP_WAIT = 2, OP_DEQ = 3, OP_EXIT = 4, OP_FORK = 5 };
enum { K_REQ = 0, K_POST = 4 };

static int fd = -1, active, ended;
/* FLOOR_LEAN=1 (an experiment, not a bench row): the same frames, but only a blocking wait4 and
   the dequeue of a doorbell are awaited (everything else posted, the child's hello + claim
   too): what the shape costs with round trips reduced to those two. */
static int lean;
static uint32_t seq;
static uint64_t told;
static char sock[108];

/* Replies read by a nested call (a handler's, inside an awaited one) for the outer one. */
static struct {
  uint32_t seq;
  int32_t result;
  int full;
} stash[8];
static char rbuf[4096];
static size_t rlen;

#define REAL(ret, name, params) \
  static ret(*real_##name) params; \
  static ret(*get_##name(void)) params { \
    if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name); \
    return real_##name; \
  }
REAL(int, sigprocmask, (int, const sigset_t *, sigset_t *))
REAL(int, pthread_sigmask, (int, const sigset_t *, sigset_t *))
REAL(int, sigaction, (int, const struct sigaction *, struct sigaction *))
REAL(pid_t, fork, (void))
REAL(int, execve, (const char *, char *const[], char *const[]))
REAL(int, execv, (const char *, char *const[]))
REAL(int, execvp, (const char *, char *const[]))
REAL(pid_t, wait4, (pid_t, int *, int, struct rusage *))
REAL(void, _exit, (int))

static void hmask(int how, const sigset_t *s, sigset_t *o) {
  syscall(SYS_rt_sigprocmask, how, s, o, _NSIG / 8);
}

static uint64_t bits(const sigset_t *s) {
  uint64_t b = 0;
  memcpy(&b, s, sizeof b);
  return b & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
}

/* One frame: len | kind | seq | op | hostpid | arg | reply size | padding to `size`. */
static size_t frame(char *b, int kind, uint32_t s, int op, int32_t arg, size_t size, size_t rsize) {
  if (size < 20) size = 20;
  uint32_t n = (uint32_t)size - 4;
  int32_t me = (int32_t)getpid();
  memset(b, 0, size);
  b[0] = (char)(n >> 24), b[1] = (char)(n >> 16), b[2] = (char)(n >> 8), b[3] = (char)n;
  b[4] = (char)kind;
  memcpy(b + 5, &s, 4);
  b[9] = (char)op;
  memcpy(b + 10, &me, 4);
  memcpy(b + 14, &arg, 4);
  uint16_t r = (uint16_t)rsize;
  memcpy(b + 18, &r, 2);
  return size;
}

static void put(const char *b, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    b += k, n -= (size_t)k;
  }
}

/* Takes every whole reply in rbuf into the stash. */
static void parse(void) {
  size_t off = 0;
  while (rlen - off >= 4) {
    uint32_t n = (uint32_t)(unsigned char)rbuf[off] << 24 | (uint32_t)(unsigned char)rbuf[off + 1] << 16 | (uint32_t)(unsigned char)rbuf[off + 2] << 8 | (unsigned char)rbuf[off + 3];
    if (rlen - off - 4 < n) break;
    for (int i = 0; i < 8; i++)
      if (!stash[i].full) {
        memcpy(&stash[i].seq, rbuf + off + 5, 4);
        memcpy(&stash[i].result, rbuf + off + 9, 4);
        stash[i].full = 1;
        break;
      }
    off += 4 + n;
  }
  memmove(rbuf, rbuf + off, rlen - off);
  rlen -= off;
}

static void post(int op, int32_t arg, size_t size);

/* Waits for the reply to `s`: signals as the caller had them are let in only while it waits
   (ppoll), so a handler's own call (the doorbell's) may run inside and find the buffer whole. */
static int32_t await(uint32_t s, const sigset_t *entry) {
  for (;;) {
    for (int i = 0; i < 8; i++)
      if (stash[i].full && stash[i].seq == s) {
        stash[i].full = 0;
        return stash[i].result;
      }
    struct pollfd p = {fd, POLLIN, 0};
    struct timespec limit = {10, 0}; /* never hangs on a server that died */
    int k = ppoll(&p, 1, &limit, entry);
    if (k == 0) return -ETIMEDOUT;
    if (k < 0) {
      /* The C client's interrupt frame (7 bytes, posted): a signal ended the wait's ppoll. */
      if (errno == EINTR) {
        post(OP_ECHO, 0, 7);
        continue;
      }
      return -errno;
    }
    ssize_t r = recv(fd, rbuf + rlen, sizeof rbuf - rlen, MSG_DONTWAIT);
    if (r == 0) return -EPIPE;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -errno;
    }
    rlen += (size_t)r;
    parse();
  }
}

/* An awaited call: `size` bytes out, `rsize` bytes back. */
static int32_t call(int op, int32_t arg, size_t size, size_t rsize) {
  if (fd < 0) return -EBADF;
  if (lean && op != OP_DEQ && !(op == OP_WAIT && arg == 0)) {
    post(op, arg, size);
    return 0;
  }
  sigset_t all, entry;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &entry);
  char b[128];
  uint32_t s = ++seq;
  put(b, frame(b, K_REQ, s, op, arg, size, rsize));
  int32_t r = await(s, &entry);
  hmask(SIG_SETMASK, &entry, NULL);
  return r;
}

static void post(int op, int32_t arg, size_t size) {
  if (fd < 0) return;
  sigset_t all, entry;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &entry);
  char b[128];
  put(b, frame(b, K_POST, ++seq, op, arg, size, 0));
  hmask(SIG_SETMASK, &entry, NULL);
}

/* The preload's tell_mask: a mask that only blocks more, or unblocks nothing pending on the
   host, is posted; one that unblocks a pending signal is awaited (masks.c). A pending SIGCHLD
   does not count: in the preload only one whose state-page bell has moved since the last
   dequeue would, and in a loop of one child at a time the server's bell for the child was just
   dequeued, so what is pending is the kernel's own. */
static void tell(uint64_t m) {
  if (!active || m == told) return;
  uint64_t p = 0;
  syscall(SYS_rt_sigpending, &p, sizeof p);
  p &= ~(1ull << (SIGCHLD - 1));
  if ((m & told) == told || !(p & told & ~m)) post(OP_ECHO, 0, 18);
  else call(OP_ECHO, 0, 18, 17);
  told = m;
}

/* A connection of its own: connect, then hello and claim in one write, one round trip. */
static int attach(void) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  memcpy(a.sun_path, sock, sizeof a.sun_path - 1);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    if (s >= 0) close(s);
    return -1;
  }
  if (s != FIXED_FD) {
    dup3(s, FIXED_FD, O_CLOEXEC);
    close(s);
  }
  fd = FIXED_FD;
  rlen = 0;
  memset(stash, 0, sizeof stash);
  sigset_t all, entry;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &entry);
  char b[128];
  uint32_t s1 = ++seq, s2 = ++seq;
  size_t n = frame(b, lean ? K_POST : K_REQ, s1, OP_HELLO, 0, 56, 42);
  n += frame(b + n, lean ? K_POST : K_REQ, s2, OP_ECHO, 0, 40, 25);
  put(b, n);
  if (lean) {
    hmask(SIG_SETMASK, &entry, NULL);
    return 0;
  }
  await(s1, &entry);
  int32_t r = await(s2, &entry);
  hmask(SIG_SETMASK, &entry, NULL);
  return r < 0 ? -1 : 0;
}

__attribute__((constructor)) static void floor_init(void) {
  const char *p = getenv("FLOOR_SOCKET");
  if (!p || strlen(p) >= sizeof sock) return;
  memcpy(sock, p, strlen(p) + 1);
  lean = getenv("FLOOR_LEAN") != NULL;
  struct stat st;
  sigset_t cur;
  hmask(SIG_BLOCK, NULL, &cur);
  told = bits(&cur);
  if (getenv("FLOOR_FD") && fstat(FIXED_FD, &st) == 0 && S_ISSOCK(st.st_mode) && !(fcntl(FIXED_FD, F_GETFD) & FD_CLOEXEC)) {
    /* execve kept the connection: the new image posts its execve report. */
    fd = FIXED_FD;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  } else if (attach() < 0) {
    return;
  }
  setenv("FLOOR_FD", "1000", 1);
  active = 1;
  post(OP_ECHO, 0, 33);
}

/* exit_group, posted, naming the host parent the server rings (the SIGCHLD doorbell). */
static void end(void) {
  if (!active || ended) return;
  ended = 1;
  post(OP_EXIT, (int32_t)getppid(), 9);
}

__attribute__((destructor)) static void floor_fini(void) {
  end();
}

EXPORT void _exit(int status) {
  end();
  get__exit()(status);
  __builtin_unreachable();
}

EXPORT void _Exit(int status) {
  _exit(status);
}

/* ---- the signal mask ---- */

static int change(int (*real)(int, const sigset_t *, sigset_t *), int how, const sigset_t *set, sigset_t *old) {
  if (!active || !set) return real(how, set, old);
  sigset_t cur, want;
  hmask(SIG_BLOCK, NULL, &cur);
  if (how == SIG_BLOCK) sigorset(&want, &cur, set);
  else if (how == SIG_SETMASK) want = *set;
  else if (how == SIG_UNBLOCK) {
    want = cur;
    for (int s = 1; s < 65; s++)
      if (sigismember(set, s) == 1) sigdelset(&want, s);
  } else return real(how, set, old);
  tell(bits(&want));
  return real(how, set, old);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  return change(get_sigprocmask(), how, set, old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  return change(get_pthread_sigmask(), how, set, old);
}

/* The BSD calls (dash unblocks with sigsetmask): glibc's call its sigprocmask internally. */
static int old_style(int how, int mask) {
  sigset_t s, o;
  sigemptyset(&s);
  for (int i = 1; i < 32; i++)
    if (mask & (1 << (i - 1))) sigaddset(&s, i);
  if (sigprocmask(how, &s, &o) < 0) return -1;
  int r = 0;
  for (int i = 1; i < 32; i++)
    if (sigismember(&o, i) == 1) r |= 1 << (i - 1);
  return r;
}

EXPORT int sigsetmask(int mask) {
  return old_style(SIG_SETMASK, mask);
}

EXPORT int sigblock(int mask) {
  return old_style(SIG_BLOCK, mask);
}

/* ---- handlers behind the doorbell ---- */

static struct sigaction prog[65];

/* The program's handler for s in a frame on `entry` (every host signal blocked on the way in
   and out), its mask reported as the preload's run_frame reports it. */
static void run(int s, const sigset_t *entry, siginfo_t *hi, void *uc) {
  uint64_t was = told;
  sigset_t all;
  sigfillset(&all);
  struct sigaction a = prog[s];
  if (a.sa_handler == SIG_DFL || a.sa_handler == SIG_IGN) return;
  sigset_t fm;
  sigorset(&fm, entry, &a.sa_mask);
  if (!(a.sa_flags & SA_NODEFER)) sigaddset(&fm, s);
  tell(bits(&fm));
  hmask(SIG_SETMASK, &fm, NULL);
  if (a.sa_flags & SA_SIGINFO) a.sa_sigaction(s, hi, uc);
  else a.sa_handler(s);
  hmask(SIG_SETMASK, &all, NULL);
  tell(was);
}

static void doorbell(int s, siginfo_t *hi, void *uc) {
  int e = errno;
  sigset_t entry, all;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &entry);
  /* The server's doorbell (SI_USER) is taken with sig_dequeue: the server says whether a
     doorbell of its own is still to be taken. The host's own SIGCHLD for a child (CLD_*) is
     what the preload's state page lets it leave: the bell has not moved since the last dequeue.
     Any other signal runs its handler as is, as in the preload. */
  if (active && s == SIGCHLD && hi && hi->si_code != SI_USER) {
    errno = e;
    return;
  }
  int32_t r = active && s == SIGCHLD ? call(OP_DEQ, s, 17, 21) : s;
  if (r == s) run(s, &entry, hi, uc);
  hmask(SIG_SETMASK, &entry, NULL);
  errno = e;
}

EXPORT int sigaction(int s, const struct sigaction *act, struct sigaction *old) {
  if (s < 1 || s > 64 || s == SIGKILL || s == SIGSTOP || !getenv("FLOOR_SOCKET")) return get_sigaction()(s, act, old);
  struct sigaction before = prog[s], o, h;
  int wrapped = before.sa_handler != NULL && before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN;
  const struct sigaction *a = act;
  if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
    h = *act;
    h.sa_sigaction = doorbell;
    h.sa_flags = (act->sa_flags | SA_SIGINFO | SA_NODEFER) & ~SA_RESETHAND;
    sigemptyset(&h.sa_mask);
    a = &h;
  }
  int r = get_sigaction()(s, a, &o);
  if (r != 0) return r;
  if (old) *old = wrapped ? before : o;
  if (!act) return 0;
  /* The preload reports a changed disposition (default, ignored, handled) and awaits it. */
  int was = wrapped ? 2 : o.sa_handler == SIG_DFL ? 0 : o.sa_handler == SIG_IGN ? 1 : 2;
  int now = act->sa_handler == SIG_DFL ? 0 : act->sa_handler == SIG_IGN ? 1 : 2;
  prog[s] = *act;
  if (active && now != was) call(OP_ECHO, 0, 20, 13);
  return 0;
}

EXPORT sighandler_t signal(int s, sighandler_t h) {
  struct sigaction a = {0}, o;
  a.sa_handler = h;
  a.sa_flags = SA_RESTART;
  return sigaction(s, &a, &o) == 0 ? o.sa_handler : SIG_ERR;
}

/* ---- fork, exec, wait ---- */

EXPORT pid_t fork(void) {
  if (!active) return get_fork()();
  call(OP_FORK, 0, 8, 76);
  pid_t p = get_fork()();
  if (p == 0) {
    close(fd);
    fd = -1;
    if (attach() < 0) active = 0;
  }
  return p;
}

/* vfork(2), as the preload makes it (its fork.c): the reservation posted by the parent,
   then the vfork system call itself (the child runs in the parent's memory, on its stack, until
   it execs), then in the child its own connection. The return address is held in %rdi across
   the system call, as glibc's vfork.S does. */
static uint64_t vf_told;
__attribute__((used)) static void floor_vfork_before(void) {
  if (!active) return;
  post(OP_FORK, 0, 76); /* the reservation posted with the guest's own token (fork.c) */
  vf_told = told;
}

__attribute__((used)) static long floor_vfork_after(long r) {
  if (r == 0) {
    if (active) {
      close(fd);
      fd = -1;
      if (attach() < 0) active = 0;
    }
    return 0;
  }
  /* The parent, once the child has exec'd or ended: what the child changed in the shared memory is not its own. */
  if (active) {
    told = vf_told;
    ended = 0;
    fd = FIXED_FD;
  }
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "  sub $8, %rsp\n"
        "  call floor_vfork_before\n"
        "  add $8, %rsp\n"
        "  pop %rdi\n"
        "  mov $58, %eax\n"
        "  syscall\n"
        "  push %rdi\n"
        "  mov %rax, %rdi\n"
        "  sub $8, %rsp\n"
        "  call floor_vfork_after\n"
        "  add $8, %rsp\n"
        "  ret\n"
        ".size vfork, .-vfork\n");

static void keep(int on) {
  if (active) fcntl(fd, F_SETFD, on ? 0 : FD_CLOEXEC);
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  keep(1);
  int r = get_execve()(path, argv, envp);
  int e = errno;
  keep(0);
  errno = e;
  return r;
}

EXPORT int execv(const char *path, char *const argv[]) {
  keep(1);
  int r = get_execv()(path, argv);
  int e = errno;
  keep(0);
  errno = e;
  return r;
}

EXPORT int execvp(const char *file, char *const argv[]) {
  keep(1);
  int r = get_execvp()(file, argv);
  int e = errno;
  keep(0);
  errno = e;
  return r;
}

/* wait4 (the preload's wait4_sigchld): the server answers once a child's exit_group names this
   process (parked until then, at most 2 s), or at once with no child forked and not yet ended;
   then the host reaps, as the preload does, and a SIGCHLD that came with the reply (the server
   answered the parked wait with it, SIGCHLD, and rang nothing) runs its handler before the
   return. WNOHANG is answered from the state page in the preload: nothing is sent. */
EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
  int32_t r = active && !(options & WNOHANG) ? call(OP_WAIT, 0, 10, 14) : 0;
  pid_t got = get_wait4()(pid, status, options, ru);
  if (r == SIGCHLD) {
    int e = errno;
    sigset_t entry, all;
    sigfillset(&all);
    hmask(SIG_BLOCK, &all, &entry);
    siginfo_t si = {.si_signo = SIGCHLD, .si_code = CLD_EXITED, .si_pid = got};
    run(SIGCHLD, &entry, &si, NULL);
    hmask(SIG_SETMASK, &entry, NULL);
    errno = e;
  }
  return got;
}

EXPORT pid_t waitpid(pid_t pid, int *status, int options) {
  return wait4(pid, status, options, NULL);
}

EXPORT pid_t wait(int *status) {
  return wait4(-1, status, 0, NULL);
}

EXPORT pid_t wait3(int *status, int options, struct rusage *ru) {
  return wait4(-1, status, options, ru);
}
