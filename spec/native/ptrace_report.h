/* What the ptrace programs (spec/native/ptrace_*.c) print, in one place: a call's result and
   errno name, a wait status, and a wait for one process that prints what it got. */
#ifndef PTRACE_REPORT_H
#define PTRACE_REPORT_H
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* "0", or the result and the errno's name (-1 EPERM). */
static const char *err(long r) {
  static char b[64];
  if (r == 0) return "0";
  snprintf(b, sizeof b, "%ld %s", r, r == -1 ? strerrorname_np(errno) : "");
  return b;
}

static void status(const char *what, int st) {
  if (WIFSIGNALED(st)) printf("%s: killed(%s)\n", what, sigabbrev_np(WTERMSIG(st)));
  else if (WIFEXITED(st)) printf("%s: exited(%d)\n", what, WEXITSTATUS(st));
  else if (WIFSTOPPED(st)) printf("%s: stopped(%s) event %d\n", what, sigabbrev_np(WSTOPSIG(st)), st >> 16);
  else printf("%s: status %#x\n", what, st);
}

__attribute__((unused)) static void waitfor(pid_t c, const char *what) {
  int st;
  pid_t w = waitpid(c, &st, __WALL);
  if (w != c) printf("%s: waitpid %d %s\n", what, w, strerrorname_np(errno));
  else status(what, st);
}
#endif
