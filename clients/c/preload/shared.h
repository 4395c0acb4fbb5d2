/*
 * What the parts of libblinkd-preload.so share (the .c files of clients/c/preload; preload.c
 * says what the library does and holds its start-up): the state, defined in shared.c, the
 * libc functions the wrappers stand in front of, and the functions one part calls in
 * another. Internal: every symbol but the EXPORTed wrappers is hidden in the library.
 */
#ifndef BLINKD_PRELOAD_SHARED_H
#define BLINKD_PRELOAD_SHARED_H
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
/* "HOSTPID:HOST=PID,…": the child table (children.c), from the image before execve: a host
   child's SIGCHLD in the new image is the namespace's too (is_doorbell). */
#define KIDS_ENV "BLINKD_KIDS"
#define DEFAULT_FD 1000
/* The descriptor of the door (blinkd.h: an O_PATH descriptor of the daemon's socket). */
#define DOOR_ENV "BLINKD_DOOR"
/* A posix_spawn child's proof name (fork's out.proof), beside its BLINKD_TOKEN: it claims in one write. */
#define PROOF_ENV "BLINKD_PROOF"
/* "HOSTPID:SEQ,SEQ,FD": a vfork child's claim sent and not yet read (spec/protocol.md §7.4.1),
   from the image before execve: hello's and claim_vfork's seqs, and the proof's descriptor. */
#define CLAIM_ENV "BLINKD_CLAIM"

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

/* ---- the state (shared.c) ---- */
extern struct thr mainthr;
extern __thread struct thr *self __attribute__((tls_model("initial-exec")));
extern __thread int32_t mytid __attribute__((tls_model("initial-exec")));
/* The host handlers this library runs on the calling thread (doorbell, ptrace's bell), and
   those among them that took nothing: blinkd_host_ppoll (masks.c) lets only a wait that such
   quiet takes alone interrupted go on. */
extern __thread unsigned handler_runs __attribute__((tls_model("initial-exec")));
extern __thread unsigned quiet_runs __attribute__((tls_model("initial-exec")));
static inline struct thr *me(void) {
  return self ? self : &mainthr;
}
/* The calling thread's connection, and its mask as the daemon has it. */
#define conn (me()->c)
#define told (me()->mask)
extern int active;
extern int ending;
extern int vchild;
extern int32_t mypid;
extern pid_t myhost;
extern int confd;
extern char sockpath[256];
extern uint64_t norestart;
extern pid_t daemonhost;
extern struct sigaction user_act[65];
extern uint64_t wrapped;
#define MAXSFD 1024
extern unsigned char is_sfd[MAXSFD];
extern uint64_t sfd_set[MAXSFD];
extern int nsfd;
extern uint64_t watching;

#define BIT(s) (1ull << ((s) - 1))
/* Never in a mask: SIGKILL and SIGSTOP (sigprocmask(2)), and glibc's own 32 and 33, which
   its sigprocmask never blocks (nptl(7)). */
#define UNMASKABLE (BIT(SIGKILL) | BIT(SIGSTOP) | BIT(32) | BIT(33) | BIT(BLINKD_PTRACE_BELL))

/* ---- the libc functions behind the wrappers, found once (dlsym RTLD_NEXT) ---- */
/* REAL: for one file; REAL_SHARED defines and REAL_DECL declares one several files call. */
#define REAL(ret, name, args)                                   \
  static ret(*real_##name) args;                                \
  static ret(*get_##name(void)) args {                          \
    if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name);    \
    return real_##name;                                         \
  }
#define REAL_SHARED(ret, name, args)                            \
  static ret(*real_##name) args;                                \
  ret(*get_##name(void)) args {                                 \
    if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name);    \
    return real_##name;                                         \
  }
#define REAL_DECL(ret, name, args) ret(*get_##name(void)) args;
/* The ones several files call: shared.c defines them (SHARED_REALS(REAL_SHARED)). */
#define SHARED_REALS(X)                                                                                                                  \
  X(pid_t, fork, (void))                                                                                                                 \
  X(int, execve, (const char *, char *const[], char *const[]))                                                                           \
  X(void, _exit, (int))                                                                                                                  \
  X(pid_t, waitpid, (pid_t, int *, int))                                                                                                 \
  X(int, sigaction, (int, const struct sigaction *, struct sigaction *))                                                                 \
  X(int, posix_spawn, (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[], char *const[]))  \
  X(int, posix_spawnp, (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[], char *const[])) \
  X(int, setpgid, (pid_t, pid_t))                                                                                                        \
  X(pid_t, setsid, (void))                                                                                                               \
  X(int, tcsetpgrp, (int, pid_t))                                                                                                        \
  X(pid_t, tcgetpgrp, (int))                                                                                                             \
  X(int, prctl, (int, unsigned long, unsigned long, unsigned long, unsigned long))                                                       \
  X(int, kill, (pid_t, int))                                                                                                             \
  X(int, signalfd, (int, const sigset_t *, int))                                                                                         \
  X(ssize_t, read, (int, void *, size_t))                                                                                                \
  X(int, close, (int))
SHARED_REALS(REAL_DECL)

/* ---- what one part calls in another ---- */
/* shared.c: helpers */
int hmask(int how, const sigset_t *set, sigset_t *old);
pid_t host_getpid(void);
pid_t peer_pid(int fd);
void warn(const char *what, int64_t r);
long ret(int64_t r);
int restart_hook(struct blinkd_conn *c, void *arg);
int daemon_gone_code(int64_t r);

/* preload.c: start-up */
int settle_fd(void);

/* children.c: the child table */
extern int nkids;
void kid_add(pid_t host, int32_t pid);
pid_t host_of(int32_t pid);
int32_t pid_of(pid_t host);
extern unsigned nreaped;
void kid_drop(pid_t host);
int guest_child(pid_t host);
int kids_env(char *v, size_t n);
const char *own_env(const char *name);
void kids_from_env(void);

/* groups.c */
int host_orphan_signal(int s, const siginfo_t *hi);
int host_subreaper(void);

/* exec.c */
void env_free(char **e);
char **guest_env(char *const envp[], const char *token, const char *proof, char *buf, size_t bn);
void close_old_threads(void);

/* doorbell.c */
uint64_t mask_bits(const sigset_t *m);
int is_doorbell(int s, const siginfo_t *hi);
void doorbell(int s, siginfo_t *hi, void *uc);
void chld_with_reply(int code, int pid, uid_t uid, int status);

/* masks.c */
void resolve_mask_calls(void);
int main_thread(void);
int own_conn(void);
void tell_mask(uint64_t m);
void report_mask(void);
void tell_chld_blocked(void);

/* statepage.c: the state page (spec/protocol.md §10.1) */
void state_open(void);
int state_mapped(void);
int state_quiet(void);
int64_t state_wait4(pid_t pid, int options);

/* signalfd.c */
void tell_watch(void);
/* fork.c: a vfork child whose claim is sent and not yet read (spec/protocol.md §7.4.1). */
int vclaim_due(void);
/* Reads the claim's replies if they are due: the pid, or it does not return (the child runs nothing). */
void vclaim_settle(void);
/* The claim's outcome, in the vfork child or its new image: mypid, or it does not return. */
void vclaim_outcome(int64_t r, int32_t pid);
/* CLAIM_ENV's value for the exec under way (0 when no claim is due). */
int vclaim_env(char *buf, size_t n);
/* Whether the program an exec runs (p: searched on PATH, as execvp) will not load this library. */
int exec_without_preload(int p, const char *file);

/* threads.c: the thread table */
extern struct thr *thrs[];
extern int nthr;
void lock_threads(sigset_t *om);
void unlock_threads(const sigset_t *om);
void forget_threads(void);
void ring_self(int sig);

#endif
