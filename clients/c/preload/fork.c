/* fork, vfork and posix_spawn: the child reserved in the daemon, made on the host, claimed on its own connection (libblinkd-preload.so; see preload.c). */
#include "shared.h"
#include <elf.h>

/* In the host child, before it claims: the parent's connection and state dropped. */
static void child_detach(int vforked) {
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
}

/* In the host child: its own connection, claiming fork's reservation (a fork, or a traced
   parent's vfork: vforked). */
static int64_t child_attach(const char *token, const char *proof, int vforked) {
  child_detach(vforked);
  int32_t p = 0;
  /* hello and claim in one write: the proof is named with fork's out.proof (§7.4). */
  int64_t r = blinkd_conn_attach_fork(&conn, sockpath, token, proof, myhost, &p);
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
    return r;
  }
  conn.restart = restart_hook;
  daemonhost = peer_pid(conn.fd);
  /* No thread in a vfork child: it execs (the new image starts its own watcher) or exits. */
  if (!vforked) blinkd_watch_daemon(conn.fd);
  mypid = p;
  watching = 0;
  if (nsfd) tell_watch(); /* the signalfds it inherited */
  return r;
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
  char token[BLINKD_STR_OUT_MAX], proof[BLINKD_STR_OUT_MAX];
  memcpy(token, fo.token, sizeof token);
  memcpy(proof, fo.proof, sizeof proof);
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
    child_attach(token, proof, 0);
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
 *  - A lone guest thread: the parent reserves the child and saves the library's state; the
 *    child attaches as fork's child does (its own connection, claiming the reservation),
 *    writing that state, with no thread and nothing freed or allocated (its exec's
 *    environment array is static); when vfork returns in the parent, the child having exec'd
 *    or exited, the parent puts its state back. Untraced, neither waits for the daemon
 *    (spec/protocol.md §7.4.1): the parent sends `vfork` under a token of its own and vforks
 *    at once, and reads the reply (the child's pid, or the errno when no child was made, and
 *    its vfork fails) once it resumes; the child sends hello and claim_vfork in one write and
 *    execs, and its new image reads their replies before the program runs (vclaim below).
 *    A traced parent awaits fork, as its tracer's fork stop needs the pid. A fork instead
 *    cost a dash loop of /bin/true 2.4 ms of CPU and 36 page faults per iteration
 *    (bench/README.md).
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
  char token[BLINKD_STR_OUT_MAX], proof[BLINKD_STR_OUT_MAX];
  sigset_t om;
  int err;
  int ptrace_opts;
  int posted;   /* the reservation sent under the parent's own token (§7.4.1), its reply read after */
  uint32_t seq; /* that request's */
} vf;

/* The vfork child's claim, sent and not read (§7.4.1): hello's and claim_vfork's seqs. In the
   parent's memory, as the rest: the parent clears it when it resumes. */
static struct {
  int due;
  uint32_t seq[2];
} vclaim;

static pid_t vfork_failed(void) {
  errno = vf.err;
  return -1;
}

static void hex(const unsigned char *p, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) out[2 * i] = d[p[i] >> 4], out[2 * i + 1] = d[p[i] & 15];
  out[2 * n] = 0;
}

/* The parent's own token and proof, 16 random bytes each as the daemon's secrets are
   (getrandom(2)), sent with vfork: its reply is read once the parent resumes, the child having
   exec'd or exited (spec/protocol.md §7.4.1). 0, or -1 to reserve the awaited way (fork). */
static int vfork_send(void) {
  unsigned char rnd[32];
  if (syscall(SYS_getrandom, rnd, sizeof rnd, 0) != (long)sizeof rnd) return -1;
  hex(rnd, 16, vf.token);
  hex(rnd + 16, 16, vf.proof);
  struct blinkd_vfork_args a = {vf.token, vf.proof};
  return blinkd_conn_request(&conn, &blinkd_call_vfork, &a, &vf.seq) == 0 ? 0 : -1;
}

int vclaim_due(void) {
  return vclaim.due;
}

/* Before the child's first awaited call (blinkd_conn_call's hook). */
static void vclaim_before_call(struct blinkd_conn *c) {
  (void)c;
  vclaim_settle();
}

void vclaim_outcome(int64_t r, int32_t pid) {
  if (r > 0) {
    mypid = pid;
    return;
  }
  /* Result 0 (or ENOENT): the child was reserved and killed before it ran, and the daemon
     already counts it dead of SIGKILL (spec/protocol.md §7.4): make it so. */
  if (r == 0 || r == -ENOENT) get_kill()(myhost, SIGKILL);
  if (daemon_gone_code(r)) blinkd_daemon_gone(&conn, conn.error[0] ? conn.error : NULL);
  /* No child was made (EAGAIN at a limit, as kernel_clone's copy_process; or the reservation
     never came): it runs nothing of the program (§7.4's rule); its parent's vfork failed with
     the errno of its own reply, and the parent reaps this host process unseen. */
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

void vclaim_settle(void) {
  if (!vclaim.due) return;
  vclaim.due = 0;
  conn.before_call = NULL;
  int32_t p = 0;
  int64_t r = blinkd_conn_attach_vfork_finish(&conn, vclaim.seq, &p);
  vclaim_outcome(r, p);
}

int vclaim_env(char *buf, size_t n) {
  if (!vclaim.due) return 0;
  int w = snprintf(buf, n, "%d:%u,%u,%d", (int)myhost, vclaim.seq[0], vclaim.seq[1], conn.proof - 1);
  return w > 0 && (size_t)w < n;
}

/*
 * The vfork child's claim (spec/protocol.md §7.4.1): hello and claim_vfork in one write, the
 * proof named with the parent's, and no wait for the replies: the daemon's accept, hello and
 * claim overlap the exec, and the new image reads them before the program runs (CLAIM_ENV).
 * The proof's descriptor survives the exec (the daemon reads it when it takes the claim). A
 * call before the exec that needs a reply or the pid reads them first (vclaim_settle).
 */
static void vchild_attach(void) {
  child_detach(1);
  int e = blinkd_conn_attach_vfork_send(&conn, sockpath, vf.token, vf.proof, vf.pid, myhost, vclaim.seq);
  if (!e) e = settle_fd();
  if (e < 0) {
    if (daemon_gone_code(e)) blinkd_daemon_gone(&conn, conn.error[0] ? conn.error : NULL);
    warn("the vforked child cannot claim its pid", e);
    syscall(SYS_exit_group, 127);
  }
  if (conn.proof > 0) fcntl(conn.proof - 1, F_SETFD, 0);
  vclaim.due = 1;
  conn.before_call = vclaim_before_call;
  conn.restart = restart_hook;
  daemonhost = peer_pid(conn.fd);
  mypid = 0; /* not known until the claim is read */
  watching = 0;
  if (nsfd) tell_watch(); /* the signalfds it inherited */
}

/* In the parent, before the vfork: the function to jump to instead, or NULL to vfork here. */
void *blinkd_vfork_target(void) {
  if (!active) return (void *)get_vfork();
  if (__atomic_load_n(&nthr, __ATOMIC_SEQ_CST) > 0 || self || !main_thread()) return (void *)fork;
  vf.err = 0;
  vf.child = 0;
  /* A traced parent reserves the awaited way: its tracer's fork stop needs the child's pid. */
  vf.posted = !blinkd_ptrace_traced() && vfork_send() == 0;
  if (!vf.posted) {
    struct blinkd_fork_out fo;
    int64_t pid = blinkd_fork(&conn, &fo);
    if (pid < 0) {
      vf.err = (int)-pid;
      return (void *)vfork_failed;
    }
    vf.child = (int32_t)pid;
    memcpy(vf.token, fo.token, sizeof vf.token);
    memcpy(vf.proof, fo.proof, sizeof vf.proof);
  }
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
    /* not traced: blinkd_vfork_target cleared the options */
    if (vf.posted) vchild_attach();
    else child_attach(vf.token, vf.proof, 1);
    hmask(SIG_SETMASK, &vf.om, NULL);
    return 0;
  }
  vclaim.due = 0; /* the child's, in this memory */
  mainthr = vf.main;
  mypid = vf.pid, myhost = vf.host, daemonhost = vf.daemonhost;
  confd = vf.confd, nkids = vf.nkids, active = vf.active, nreaped = vf.nreaped;
  ending = 0; /* the child's _exit set it in this memory (end_group) */
  watching = vf.watching, wrapped = vf.wrapped, norestart = vf.norestart;
  memcpy(user_act, vf.user_act, sizeof user_act);
  blinkd_ptrace_restore(vf.ptrace_opts);
  vchild = 0;
  /* The child's exit disarmed the watcher it shares with this process (blinkd_watch_daemon(-1)
     in end_group): armed again on this process's connection. */
  blinkd_watch_daemon(mainthr.c.fd);
  /* The reservation's reply, there by now: the first on this connection since the request. */
  int64_t got = vf.posted ? blinkd_conn_reply(&conn, vf.seq, &blinkd_call_vfork, NULL) : vf.child;
  if (r < 0) {
    int e = (int)-r;
    if (vf.posted) {
      if (got > 0) {
        struct blinkd_vfork_abort_args a = {vf.token};
        blinkd_conn_post(&conn, &blinkd_call_vfork_abort, &a);
      }
    } else {
      blinkd_fork_abort(&conn, vf.child);
    }
    hmask(SIG_SETMASK, &vf.om, NULL);
    errno = e;
    return -1;
  }
  if (got <= 0) {
    /* The reservation made no child: the host child ran nothing of the program (its claim
       failed alike, before the exec or in its new image) and exited; reaped here, unseen by
       the guest, which gets vfork's failure (-1, the reservation's errno). */
    int st;
    while (syscall(SYS_wait4, (pid_t)r, &st, __WALL, NULL) < 0 && errno == EINTR) {}
    hmask(SIG_SETMASK, &vf.om, NULL);
    errno = got < 0 ? (int)-got : EAGAIN;
    return -1;
  }
  vf.child = (int32_t)got;
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

/*
 * Whether the program at path runs without this library: a static ELF executable (no
 * PT_INTERP, static-pie included: no dynamic loader reads LD_PRELOAD) or a set-user/group-ID
 * one that changes the caller's ids (AT_SECURE: the loader drops an LD_PRELOAD outside its
 * trusted paths, ld.so(8)). A script, or a file it cannot read, counts as one that loads it
 * (its interpreter decides; the exec reports its errors).
 */
static int runs_without_preload(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  if (((st.st_mode & S_ISUID) && st.st_uid != getuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getgid())) return 1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  Elf64_Ehdr eh;
  Elf64_Phdr ph[64];
  int r = 0;
  if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum <= 64) {
    size_t n = eh.e_phnum * sizeof(Elf64_Phdr);
    if (pread(fd, ph, n, (off_t)eh.e_phoff) == (ssize_t)n) {
      r = 1;
      for (int i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_INTERP) r = 0;
    }
  }
  close(fd);
  return r;
}

/* The file posix_spawnp would run: file itself if it names a directory, else the first
   executable on PATH (execvp's search; confstr's default path when PATH is unset). */
static int spawnp_path(const char *file, char *out, size_t n) {
  if (strchr(file, '/')) return snprintf(out, n, "%s", file) < (int)n;
  const char *p = getenv("PATH");
  if (!p) p = "/bin:/usr/bin";
  while (*p) {
    const char *end = strchrnul(p, ':');
    int k = snprintf(out, n, "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", file);
    if (k > 0 && (size_t)k < n && access(out, X_OK) == 0) return 1;
    p = *end ? end + 1 : end;
  }
  return 0;
}

int exec_without_preload(int p, const char *file) {
  char path[4096];
  if (!file) return 0;
  if (!(p ? spawnp_path(file, path, sizeof path) : snprintf(path, sizeof path, "%s", file) < (int)sizeof path)) return 0;
  return runs_without_preload(path);
}

/*
 * A spawned child claims its pid in its new image (below); a program that runs without this
 * library never would, and its parent's wait4 then waited for the reservation's timeout (10 s
 * by default: spec/native/spawnstatic.c). Such a program is spawned through blinkd-spawn
 * (dist/c, beside this library), a dynamic program whose image claims and then execs it, the
 * connection handed on as to any native program a guest execs: its end tells the daemon.
 * The helper's argv: blinkd-spawn PATH ARGV0 ARGS…; NULL when it is not needed or not there.
 */
static char **via_helper(int p, const char *file, char *const argv[], char *path, size_t n) {
  if (!(p ? spawnp_path(file, path, n) : snprintf(path, n, "%s", file) < (int)n) || !runs_without_preload(path)) return NULL;
  static char helper[4096];
  if (!helper[0]) {
    Dl_info d;
    if (!dladdr((void *)runs_without_preload, &d) || !d.dli_fname) return NULL;
    const char *slash = strrchr(d.dli_fname, '/');
    snprintf(helper, sizeof helper, "%.*s/blinkd-spawn", slash ? (int)(slash - d.dli_fname) : 1, slash ? d.dli_fname : ".");
  }
  if (access(helper, X_OK) != 0) return NULL;
  int c = 0;
  while (argv && argv[c]) c++;
  char **v = malloc((size_t)(c + 3) * sizeof *v);
  if (!v) return NULL;
  v[0] = helper;
  v[1] = path;
  for (int i = 0; i < c; i++) v[2 + i] = argv[i];
  if (c == 0) v[2] = path, c = 1; /* execv needs an argv[0] */
  v[2 + c] = NULL;
  return v;
}

static int spawn(int p, pid_t *pidp, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  if (!active) return (p ? get_posix_spawnp() : get_posix_spawn())(pidp, path, fa, attr, argv, envp);
  char target[4096];
  char **hv = via_helper(p, path, argv, target, sizeof target);
  struct blinkd_fork_out fo;
  int64_t pid = blinkd_fork(&conn, &fo);
  if (pid < 0) return free(hv), (int)-pid;
  char buf[2048];
  char **e = guest_env(envp, fo.token, fo.proof, buf, sizeof buf);
  /* The spawned child claims its own pid with the token on a connection of its own (ours is
     close-on-exec), hello and claim in one write, its proof named with fork's out.proof (as a
     fork child's, spec/protocol.md §7.4); it inherits the door, to reach the daemon whatever
     its uid. */
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, 0);
  pid_t h;
  int r = hv ? get_posix_spawn()(&h, hv[0], fa, attr, hv, e ? e : envp) : (p ? get_posix_spawnp() : get_posix_spawn())(&h, path, fa, attr, argv, e ? e : envp);
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, FD_CLOEXEC);
  env_free(e);
  free(hv);
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
