/*
 * popen(3) and pclose(3) as Linux gives them: the child of `sh -c` is the caller's child
 * ($PPID is the caller's pid, and wait4(-1, WNOHANG) gives 0 while it lives), "r" reads its
 * stdout and "w" writes its stdin, pclose returns its wait status, "e" makes the caller's
 * end close-on-exec and plain "r" does not, a child does not hold the stream of an earlier
 * popen still open (POSIX: "any streams from previous popen() calls that remain open in the
 * parent process are closed in the new child"), a mode that is neither is EINVAL, and once
 * every stream is pclosed no child is left to wait for. The caller is a child of PID 1 (pid
 * 2), so an orphaned or self-registered `sh` would show. Under the preload glibc's popen
 * spawned with its internal posix_spawn, which no interposition sees: the child registered
 * as a process with no parent, and WNOHANG gave ECHILD. 300 streams open at once all open (the
 * preload's table had room for 256). Run under `blinkd run` and under
 * `unshare --pid --fork` (spec/native.programs.test.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void line(FILE *f, char *b, int n) {
  if (!fgets(b, n, f)) b[0] = 0;
  b[strcspn(b, "\n")] = 0;
}

static int caller(void) {
  char b[256];
  FILE *f = popen("echo $PPID", "r");
  line(f, b, sizeof b);
  printf("r: the child's parent is %s, the caller %d; pclose %d\n", b, (int)getpid(), pclose(f));
  /* The child waits on its stdin: a child that lives, not yet waitable (wait_consider_task). */
  f = popen("read x; exit 4", "w");
  int st = 0;
  errno = 0;
  pid_t w = waitpid(-1, &st, WNOHANG);
  printf("WNOHANG while it lives: %d, %s\n", (int)w, w < 0 ? strerror(errno) : "no error");
  fputs("go\n", f);
  st = pclose(f);
  printf("w: pclose gives %s %d\n", WIFEXITED(st) ? "exited" : "not exited", WEXITSTATUS(st));
  f = popen("tr a-z A-Z", "w");
  fputs("written to the child\n", f);
  fflush(f);
  printf("w: pclose %d\n", pclose(f));
  f = popen("true", "r");
  FILE *g = popen("true", "re");
  printf("close-on-exec: r %d, re %d\n", !!(fcntl(fileno(f), F_GETFD) & FD_CLOEXEC), !!(fcntl(fileno(g), F_GETFD) & FD_CLOEXEC));
  pclose(f), pclose(g);
  FILE *a = popen("cat >/dev/null", "w");
  snprintf(b, sizeof b, "[ -e /proc/self/fd/%d ] && echo open || echo closed", fileno(a));
  FILE *c = popen(b, "r");
  line(c, b, sizeof b);
  printf("an earlier stream in a later child: %s\n", b);
  pclose(c), pclose(a);
  errno = 0;
  FILE *x = popen("true", "x");
  printf("mode x: %s, %s\n", x ? "a stream" : "NULL", strerror(errno));
  /* As many streams open at once as descriptors allow: glibc keeps a list, no count of its own. */
  enum { MANY = 300 };
  static FILE *many[MANY];
  int opened = 0;
  for (int i = 0; i < MANY; i++)
    if ((many[i] = popen("true", "r"))) opened++;
  int closed = 0;
  for (int i = 0; i < MANY; i++)
    if (many[i] && pclose(many[i]) == 0) closed++;
  printf("%d streams at once: %d opened, %d pclosed with status 0\n", MANY, opened, closed);
  /* Every child was reaped by its pclose: none is left to wait for. */
  errno = 0;
  w = wait(NULL);
  printf("wait after the pcloses: %d, %s\n", (int)w, strerror(errno));
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t p = fork();
  if (p == 0) exit(caller());
  int st;
  waitpid(p, &st, 0);
  printf("caller %d: exited %d\n", (int)p, WEXITSTATUS(st));
  return 0;
}
