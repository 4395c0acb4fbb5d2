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
 *    daemon only assumed when the connection closed. A blocking wait may get the child's
 *    SIGCHLD with its reply (wait4_sigchld, spec/signals.md §4.3), whose handler then runs
 *    before the wait returns.
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
 *  - signals (delivery 2, spec/signals.md §4, §4.1): every handler the program installs is
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
 * syscall(2), clone(2), statically linked programs, glibc-internal calls (execvp's
 * execve is covered by the descriptor surviving exec; popen and pclose are made here,
 * popen.c, since glibc's spawn inside popen is not interposed), threads not made by
 * pthread_create here (they have no connection: host tids, masks not reported, host
 * signals only), and signalfd outside the main thread
 * (a signalfd is translated on read(2) of the descriptor signalfd returned, in the main
 * thread of the image that made it).
 *
 * The parts, one file each (shared.h declares what they share; shared.c holds the shared state):
 *   preload.c    start-up (the constructor: register, claim, or adopt the connection after
 *                execve), identity (getpid, getppid, gettid) and exit
 *   creds.c      uid and gid changes reported to the daemon
 *   children.c   the child table: host pid <-> emulated pid of guest children
 *   fork.c       fork, vfork, posix_spawn
 *   exec.c       the exec family: the connection handed to the new image
 *   wait.c       the wait family and system(3)
 *   popen.c      popen and pclose (through posix_spawn, so the child is a guest and the caller's)
 *   kill.c       kill, killpg, tgkill, raise
 *   handlers.c   sigaction and the signal(2) family (every handler behind the doorbell)
 *   doorbell.c   delivery 1: the doorbell wrapper and its signal frames
 *   masks.c      the signal mask: sigprocmask, pthread_sigmask, the BSD and System V calls,
 *                sigsuspend, ppoll, pselect, sigpending
 *   sigwait.c    sigwait, sigwaitinfo, sigtimedwait
 *   signalfd.c   signalfd and read(2) of one
 *   groups.c     process groups, sessions, the terminal's foreground group, the subreaper
 *   threads.c    threads: the thread table, pthread_create, pthread_kill, pthread_exit
 *   ptrace.c     cooperative ptrace, the tracer's and the tracee's side
 */
#include "shared.h"

/* Puts the connection on the fixed descriptor, inherited across execve. */
int settle_fd(void) {
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

/* argv as /proc/self/cmdline has it (its first n - 1 bytes, as this library always read it),
   from the constructor's arguments: glibc's ld.so calls a library's initializers with (argc,
   argv, envp) (_dl_init → call_init), and before main runs they are what cmdline shows. No
   open, read and close of procfs per image. */
static char **self_argv(int argc, char *const *args, char *buf, size_t n, char **v, int max) {
  size_t used = 0;
  for (int i = 0; args && i < argc && args[i] && used < n - 1; i++) {
    size_t l = strlen(args[i]) + 1;
    if (l > n - 1 - used) l = n - 1 - used;
    memcpy(buf + used, args[i], l);
    used += l;
  }
  buf[used] = 0;
  int c = 0;
  for (size_t i = 0; i < used && c < max - 1; i += strlen(buf + i) + 1) v[c++] = buf + i;
  v[c] = NULL;
  return v;
}

/* The host's ignored signals, bit signo-1 (SigIgn of /proc/self/status, proc(5)): one read
   instead of a sigaction(2) per signal, 63 system calls per image. -1 when it cannot be read. */
static int host_ignored(uint64_t *set) {
  char b[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t k = read(fd, b, sizeof b - 1);
  close(fd);
  if (k <= 0) return -1;
  b[k] = 0;
  const char *p = strstr(b, "\nSigIgn:\t");
  if (!p) return -1;
  char *end;
  *set = strtoull(p + 9, &end, 16);
  return end == p + 9 ? -1 : 0;
}

/* The dispositions a new program inherits (ignored signals survive execve). */
static void report_ignored(void) {
  uint64_t ign = 0;
  int known = host_ignored(&ign) == 0;
  for (int s = 1; s < 65; s++) {
    struct sigaction old;
    if (s == SIGKILL || s == SIGSTOP || (known && !(ign >> (s - 1) & 1))) continue;
    if (get_sigaction()(s, NULL, &old) != 0 || old.sa_handler != SIG_IGN) continue;
    blinkd_rt_sigaction(&conn, s, BLINKD_SIGACTION_SIG_IGN, (uint32_t)old.sa_flags);
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
  /* A vfork child that exits before it execs: its claim's answer first (a child that was
     never made exits unseen, one killed before it ran dies of SIGKILL). */
  vclaim_settle();
  /* From here the daemon may end the namespace before this process is gone: not a death. */
  blinkd_watch_daemon(-1);
  /* With other threads, their connections close as the host process ends, and a close
     before the daemon has read exit_group would be their death (§7.7): the reply is
     awaited. Alone, it is not (the process ends; its connection's close follows). */
  /* PTRACE_O_TRACEEXIT: the exit's event stop comes first (ptrace.c). */
  blinkd_ptrace_exiting((status & 0xff) << 8);
  /* From the post on, a doorbell finds the process gone (doorbell.c). */
  __atomic_store_n(&ending, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&nthr, __ATOMIC_SEQ_CST) > 0) blinkd_exit_group(&conn, status);
  else blinkd_conn_post(&conn, &blinkd_call_exit_group, &a);
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

__attribute__((constructor)) static void blinkd_preload_init(int argc, char **argv0) {
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
  self_argv(argc, argv0, abuf, sizeof abuf, argv, 256);
  myhost = host_getpid();
  const char *fdv = getenv(FD_ENV);
  const char *token = getenv("BLINKD_TOKEN");
  int64_t r;
  struct stat st;
  int inherited = fdv ? atoi(fdv) : -1;
  adopt_door();
  /* The daemon keeps the mask across execve (signal(7)): the image before said which it is,
     so the new one reports only a change. Only this host process's word is taken. */
  const char *mv = own_env(MASK_ENV);
  if (mv) told = strtoull(mv, NULL, 16);
  unsetenv(MASK_ENV);
  if (!token && inherited > 2 && fstat(inherited, &st) == 0 && S_ISSOCK(st.st_mode) && !(fcntl(inherited, F_GETFD) & FD_CLOEXEC)) {
    /* execve kept the connection: same pid, new program. */
    memset(&conn, 0, sizeof conn);
    conn.fd = inherited;
    conn.rbuf = conn.rinline;
    conn.rcap = sizeof conn.rinline;
    confd = inherited;
    fcntl(inherited, F_SETFD, FD_CLOEXEC);
    /* The image before named the pid (only this host process's word is taken), else ask. */
    const char *pv = own_env(PID_ENV);
    r = 0;
    int traced = 0;
    if (pv) {
      char *end;
      r = strtol(pv, &end, 10);
      traced = !strcmp(end, ":t");
    }
    unsetenv(PID_ENV);
    /* A vfork child's image whose claim was sent and not read (spec/protocol.md §7.4.1): its
       replies come first, before anything of the program runs, and a failed claim ends it
       here (vclaim_outcome); the proof, kept open across the exec for the daemon, goes. */
    const char *cv = own_env(CLAIM_ENV);
    unsigned s0, s1;
    int pf;
    if (cv && sscanf(cv, "%u,%u,%d", &s0, &s1, &pf) == 3) {
      uint32_t seq[2] = {s0, s1};
      int32_t p = 0;
      conn.proof = pf >= 0 ? pf + 1 : 0;
      unsetenv(CLAIM_ENV);
      int64_t c = blinkd_conn_attach_vfork_finish(&conn, seq, &p);
      vclaim_outcome(c, p);
      r = mypid;
    }
    unsetenv(CLAIM_ENV);
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
    kids_from_env();
    if (r < 0) return warn("adopting the connection after execve", r);
  } else {
    unsetenv(THREADS_ENV); /* another process's */
    unsetenv(KIDS_ENV);
    if (inherited > 2) confd = inherited;
    /* A guest's posix_spawn child has its proof's name too (fork's out.proof): hello and
       claim go in one write, one round trip, as a fork child's (§7.4). */
    const char *proof = token ? getenv(PROOF_ENV) : NULL;
    if (proof && *proof) {
      char t[128], pr[128];
      snprintf(t, sizeof t, "%s", token);
      snprintf(pr, sizeof pr, "%s", proof);
      unsetenv("BLINKD_TOKEN");
      unsetenv(PROOF_ENV);
      int32_t p = 0;
      r = blinkd_conn_attach_fork(&conn, sockpath, t, pr, myhost, &p);
      if (r >= 0) {
        struct blinkd_execve_args ea = {exe, (const char *const *)argv};
        mypid = p;
        r = blinkd_conn_post(&conn, &blinkd_call_execve, &ea);
      }
      if (r == -ENOENT) get_kill()(myhost, SIGKILL); /* killed before it ran (§7.4) */
      if (r < 0 && daemon_gone_code(r)) blinkd_daemon_gone(&conn, conn.error[0] ? conn.error : NULL);
      if (r < 0) return warn("claiming BLINKD_TOKEN", r);
    } else {
      unsetenv(PROOF_ENV);
      r = blinkd_conn_open(&conn, sockpath);
      if (r == 0) {
        char who[64];
        snprintf(who, sizeof who, "blinkd-preload pid %d", (int)myhost);
        r = blinkd_conn_handshake(&conn, "guest", who);
      }
      if (r < 0 && token && daemon_gone_code(r)) blinkd_daemon_gone(&conn, conn.error[0] ? conn.error : NULL);
      if (r < 0) return warn("cannot reach blinkd", r);
      if (token) {
        /* Started by `blinkd run` (it names no proof): claim the reserved pid. */
        struct blinkd_claim_fd_out out;
        char t[128];
        snprintf(t, sizeof t, "%s", token);
        unsetenv("BLINKD_TOKEN");
        /* The proof is named by its descriptor: the daemon reads that one link. */
        r = blinkd_claim_fd(&conn, t, myhost, conn.proof ? conn.proof - 1 : -1, &out);
        if (r >= 0) {
          /* Its execve report needs no answer (posted, as after an exec). */
          struct blinkd_execve_args ea = {exe, (const char *const *)argv};
          mypid = out.pid;
          r = blinkd_conn_post(&conn, &blinkd_call_execve, &ea);
        }
        if (r == -ENOENT) get_kill()(myhost, SIGKILL); /* killed before it ran (§7.4) */
        if (r < 0) return warn("claiming BLINKD_TOKEN", r);
      } else {
        r = blinkd_register(&conn, myhost, exe, (const char *const *)argv, BLINKD_DELIVERY_HOST_BLOCKED);
        if (r < 0) return warn("register", r);
        told = 0; /* a registered process starts with an empty mask (spec/signals.md §2.2) */
        mypid = (int32_t)r;
      }
    }
    if ((r = settle_fd()) < 0) return warn("keeping the connection on a fixed descriptor", r);
  }
  conn.restart = restart_hook;
  daemonhost = peer_pid(conn.fd);
  state_open();
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

/* ---- identity ---- */

EXPORT pid_t getpid(void) {
  if (active && vclaim_due()) vclaim_settle();
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
  if (active && vclaim_due()) vclaim_settle();
  pid_t t = (pid_t)syscall(SYS_gettid);
  return active && t == myhost ? mypid : t;
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
