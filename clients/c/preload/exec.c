/* The exec family: the connection (and the other threads' ones) handed to the new image across execve (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/* THREADS_ENV's value for the exec under way ("" when none). */
static char exec_threads[4096];
/* KIDS_ENV's value for the exec under way ("" when none). */
static char exec_kids[2048];

static int has_prefix(const char *s, const char *p) {
  return !strncmp(s, p, strlen(p));
}

/* envp plus what a guest child needs: the socket, the preload, and (spawn) its token and proof name. */
/* A vfork child shares the parent's memory until it execs: what it allocates would stay the
   parent's, so its environment array is this static one (the parent is suspended meanwhile). */
static char *vchild_env[1024];
void env_free(char **e) {
  if (e != vchild_env) free(e);
}
char **guest_env(char *const envp[], const char *token, const char *proof, char *buf, size_t bn) {
  size_t n = 0;
  while (envp && envp[n]) n++;
  /* n, the 5 kept, at most 5 of this library's own (MASK, PID, KIDS, THREADS, CLAIM), NULL */
  char **e = vchild && n + 11 <= sizeof vchild_env / sizeof *vchild_env ? vchild_env : malloc((n + 11) * sizeof *e);
  if (!e) return NULL;
  size_t k = 0, used = 0;
  const char *keep[] = {"BLINKD_SOCKET", "LD_PRELOAD", FD_ENV, "BLINK_PREFIX", DOOR_ENV};
  for (size_t i = 0; i < n; i++) {
    if (has_prefix(envp[i], "BLINKD_TOKEN=") || has_prefix(envp[i], PROOF_ENV "=") || has_prefix(envp[i], MASK_ENV "=") || has_prefix(envp[i], THREADS_ENV "=") || has_prefix(envp[i], KIDS_ENV "=") || has_prefix(envp[i], PID_ENV "=") || has_prefix(envp[i], CLAIM_ENV "=")) continue;
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
    if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used, used += (size_t)w + 1;
    if (proof && *proof) {
      w = snprintf(buf + used, bn - used, PROOF_ENV "=%s", proof);
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used;
    }
  } else {
    if (told != ~0ull && main_thread()) {
      int w = snprintf(buf + used, bn - used, MASK_ENV "=%d:%llx", (int)myhost, (unsigned long long)told);
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used, used += (size_t)w + 1;
    }
    if (mypid > 0) {
      int w = snprintf(buf + used, bn - used, PID_ENV "=%d:%d%s", (int)myhost, (int)mypid, blinkd_ptrace_traced() ? ":t" : "");
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used, used += (size_t)w + 1;
    }
    /* A vfork child's claim not read yet: the new image reads it (spec/protocol.md §7.4.1). */
    char cv[64];
    if (vclaim_env(cv, sizeof cv)) {
      int w = snprintf(buf + used, bn - used, CLAIM_ENV "=%s", cv);
      if (w > 0 && (size_t)w < bn - used) e[k++] = buf + used, used += (size_t)w + 1;
      else vclaim_settle(); /* no room: read here */
    }
    if (exec_kids[0]) {
      int w = snprintf(buf + used, bn - used, KIDS_ENV "=%s", exec_kids);
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
  /* The new image starts its own sequence on the connection: no reply is on its way (a post
     gets none, a call was read to its reply). */
  /* The connection and the door are close-on-exec (settle_fd): this exec hands them on. */
  fcntl(mainthr.c.fd, F_SETFD, 0);
  if (blinkd_door() >= 0) fcntl(blinkd_door(), F_SETFD, 0);
  if (kids_env(exec_kids, sizeof exec_kids) && environ_) setenv(KIDS_ENV, exec_kids, 1);
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
  if (exec_kids[0]) unsetenv(KIDS_ENV);
  exec_threads[0] = 0;
  exec_kids[0] = 0;
  errno = e;
}

/* In the new image, after its execve report: the old image's thread connections go. */
void close_old_threads(void) {
  const char *v = own_env(THREADS_ENV);
  char *end;
  if (v)
    for (const char *q = v; *q;) {
      long fd = strtol(q, &end, 10);
      if (end == q) break;
      if (fd > 2 && fd != confd) close((int)fd);
      q = *end == ',' ? end + 1 : end;
    }
  unsetenv(THREADS_ENV);
}

/* glibc's other exec functions call its internal execve, which this library does not see:
   they are wrapped for prepare_exec (they pass environ, which has THREADS_ENV then). */
REAL(int, execv, (const char *, char *const[]))
REAL(int, execvp, (const char *, char *const[]))
REAL(int, execvpe, (const char *, char *const[], char *const[]))

/* An exec with its own envp (execve, execvpe: p, searched on PATH): the guest's variables go
   into a copy of it. */
static int exec_env(int (*real)(const char *, char *const[], char *const[]), int p, const char *file, char *const argv[], char *const envp[]) {
  if (!active) return real(file, argv, envp);
  /* A vfork child's claim not read yet is read by its new image, unless the program will not
     load this library (static, set-id): then here, before it (spec/protocol.md §7.4.1). */
  if (vclaim_due() && exec_without_preload(p, file)) vclaim_settle();
  int prepared = prepare_exec(0);
  char buf[8192];
  char **e = guest_env(envp, NULL, NULL, buf, sizeof buf);
  int r = real(file, argv, e ? e : envp);
  int err = errno;
  env_free(e);
  undo_exec(prepared);
  errno = err;
  return r;
}

/* An exec of environ (execv, execvp): prepare_exec puts the guest's variables there. */
static int exec_environ(int (*real)(const char *, char *const[]), const char *file, char *const argv[]) {
  /* A vfork child must not grow environ (the parent's memory): with a claim not read yet, the
     guest's variables go into a copy of it as execve's and execvpe's do. */
  extern char **environ;
  if (vclaim_due()) return real == get_execv() ? exec_env(get_execve(), 0, file, argv, environ) : exec_env(get_execvpe(), 1, file, argv, environ);
  int prepared = prepare_exec(1);
  int r = real(file, argv);
  undo_exec(prepared);
  return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  return exec_env(get_execve(), 0, path, argv, envp);
}


EXPORT int execv(const char *path, char *const argv[]) {
  return exec_environ(get_execv(), path, argv);
}

EXPORT int execvp(const char *file, char *const argv[]) {
  return exec_environ(get_execvp(), file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  return exec_env(get_execvpe(), 1, file, argv, envp);
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
