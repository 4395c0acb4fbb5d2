/* popen(3) and pclose(3) through the preload's posix_spawn, so the child is a guest and the caller's child (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/*
 * glibc's popen spawns with its internal posix_spawn, which no interposition sees: the child
 * registered itself as a new process with no parent ($PPID 0), where Linux gives the caller
 * (spec/native/popen.c). So popen is made here as glibc makes it (libio/iopopen.c): a pipe,
 * the child's end on its stdin or stdout, `sh -c COMMAND`, and in the child every stream of an
 * earlier popen that is still open is closed (POSIX popen: "shall ensure that any streams from
 * previous popen() calls that remain open in the parent process are closed in the new child
 * process"). pclose closes the stream and waits for that child (waitpid, again after EINTR).
 * A stream popen made while the process was not a guest is glibc's, and so is its pclose.
 */
REAL(FILE *, popen, (const char *, const char *))
REAL(int, pclose, (FILE *))

/* The open streams, as glibc's list of them: grown as needed, so no count of its own limits
   popen; each holds a descriptor, which RLIMIT_NOFILE bounds. */
struct stream {
  FILE *f;
  int fd;
  pid_t pid;
};
static struct stream *streams;
static int nstreams, capstreams;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

EXPORT FILE *popen(const char *cmd, const char *mode) {
  if (!active) return get_popen()(cmd, mode);
  /* glibc: "r" or "w", then "e" for a close-on-exec stream; anything else is EINVAL. */
  int reading = 0, cloexec = 0;
  const char *m = mode;
  if (*m == 'r') reading = 1;
  else if (*m != 'w') return errno = EINVAL, NULL;
  for (m++; *m; m++) {
    if (*m != 'e') return errno = EINVAL, NULL;
    cloexec = 1;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return NULL;
  int mine = reading ? p[0] : p[1], theirs = reading ? p[1] : p[0], target = reading ? 1 : 0;
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) {
    close(p[0]), close(p[1]);
    return errno = ENOMEM, NULL;
  }
  /* The child's end as its stdin or stdout (dup2 leaves the copy open across exec); one that
     already is that descriptor only loses its close-on-exec flag. */
  if (theirs == target) fcntl(theirs, F_SETFD, 0);
  else posix_spawn_file_actions_adddup2(&fa, theirs, target);
  /* Held until the stream is in the table, as glibc holds its list: a popen in another thread
     meanwhile neither misses this stream's close nor takes its place. */
  pthread_mutex_lock(&lock);
  if (nstreams == capstreams) {
    int cap = capstreams ? capstreams * 2 : 16;
    struct stream *n = realloc(streams, (size_t)cap * sizeof *n);
    if (!n) {
      pthread_mutex_unlock(&lock);
      posix_spawn_file_actions_destroy(&fa);
      close(p[0]), close(p[1]);
      return errno = ENOMEM, NULL;
    }
    streams = n, capstreams = cap;
  }
  for (int i = 0; i < nstreams; i++)
    if (streams[i].fd != target) posix_spawn_file_actions_addclose(&fa, streams[i].fd);
  char *argv[] = {"sh", "-c", (char *)cmd, NULL};
  extern char **environ;
  pid_t pid;
  int e = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(theirs);
  FILE *f = NULL;
  if (e == 0) {
    if (!cloexec) fcntl(mine, F_SETFD, 0);
    f = fdopen(mine, reading ? "r" : "w");
    if (f) streams[nstreams].f = f, streams[nstreams].fd = mine, streams[nstreams].pid = pid, nstreams++;
  }
  pthread_mutex_unlock(&lock);
  if (f) return f;
  if (e == 0) {
    /* fdopen failed (ENOMEM): the child sees its pipe close, and is reaped. */
    e = errno;
    close(mine);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  } else {
    close(mine);
  }
  return errno = e, NULL;
}

EXPORT int pclose(FILE *f) {
  pid_t pid = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nstreams; i++)
    if (streams[i].f == f) {
      pid = streams[i].pid;
      streams[i] = streams[--nstreams];
      break;
    }
  pthread_mutex_unlock(&lock);
  if (!pid) return get_pclose()(f);
  fclose(f);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}
