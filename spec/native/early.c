/* Signals to a child that has not run yet, and to a child in the middle of exec, every kind:
   a stop, a termination (SIGTERM, SIGKILL), a handled signal, an ignored one, SIGCONT. A
   child exists, with its dispositions, pending signals and stop, from the moment fork
   returns (copy_process; the signal acts when it first returns to user mode), so the parent
   sends each at once after fork; "exec" sends it once the child's execve is past its point
   of no return (a close-on-exec pipe has closed) but before the new image has done anything:
   its handlers are SIG_DFL again, its ignored signals still ignored (flush_signal_handlers).
   Run as PID 1 under `blinkd run` and in a real PID namespace; the lines must be the same. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *self;

/* The handler that a handled signal runs: its exit code says which process ran it. */
static void exits(int s) {
  (void)s;
  _exit(100 + getpid());
}

static void action(int s, void (*h)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sigaction(s, &sa, NULL);
}

static const char *show(int st) {
  static char b[64];
  if (WIFEXITED(st)) snprintf(b, sizeof b, "exited(%d)", WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) snprintf(b, sizeof b, "killed(%s)", sigabbrev_np(WTERMSIG(st)));
  else if (WIFSTOPPED(st)) snprintf(b, sizeof b, "stopped(%s)", sigabbrev_np(WSTOPSIG(st)));
  else if (WIFCONTINUED(st)) snprintf(b, sizeof b, "continued");
  else snprintf(b, sizeof b, "%#x", st);
  return b;
}

/* A child that waits; "exec": it execs this program again first, and the signal goes once
   that exec has closed the close-on-exec pipe. */
static pid_t child(int exec) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t c = fork();
  if (c == 0) {
    if (exec) execl(self, self, "wait", (char *)0);
    for (;;) pause();
  }
  close(p[1]);
  char x;
  if (exec) (void)!read(p[0], &x, 1); /* EOF: the exec is past do_close_on_exec */
  close(p[0]);
  return c;
}

static void report(const char *kind, int exec, const char *seen) {
  printf("%-8s %-5s %s\n", kind, exec ? "exec" : "fork", seen);
}

int main(int argc, char **argv) {
  self = argv[0];
  if (argc > 1) {
    for (;;) pause(); /* the new image of an "exec" child */
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int exec = 0; exec < 2; exec++) {
    int st;
    char seen[256];
    pid_t c;

    /* A stop: waitpid(WUNTRACED) sees it at once; SIGCONT continues it (WCONTINUED). */
    c = child(exec);
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    snprintf(seen, sizeof seen, "%s", show(st));
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    snprintf(seen + strlen(seen), sizeof seen - strlen(seen), ", then %s", show(st));
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    snprintf(seen + strlen(seen), sizeof seen - strlen(seen), ", then %s", show(st));
    report("stop", exec, seen);

    c = child(exec);
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    report("term", exec, show(st));

    c = child(exec);
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    report("kill", exec, show(st));

    /* Handled: the forked child runs the handler it inherited (as itself: getpid is its own
       pid); the exec'd one's is SIG_DFL. */
    action(SIGUSR1, exits);
    c = child(exec);
    action(SIGUSR1, SIG_DFL);
    kill(c, SIGUSR1);
    waitpid(c, &st, 0);
    report("handled", exec, show(st));

    /* Ignored (inherited, and kept across exec): nothing happens; a SIGTERM then kills. */
    action(SIGUSR2, SIG_IGN);
    c = child(exec);
    action(SIGUSR2, SIG_DFL);
    kill(c, SIGUSR2);
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    report("ignored", exec, show(st));

    /* SIGCONT to a child that is not stopped: no continued report; a SIGTERM then kills. */
    c = child(exec);
    kill(c, SIGCONT);
    kill(c, SIGTERM);
    waitpid(c, &st, WUNTRACED | WCONTINUED);
    report("continue", exec, show(st));
  }
  return 0;
}
