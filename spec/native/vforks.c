/* vfork(2) as a guest and not: the child execs a shell that prints its pid (the third's exec
   fails), the parent prints what vfork returned and the child's exit status. As PID 1 of a namespace (blinkd run, or
   unshare --pid) the child is 2; without a namespace (the preload loaded, no daemon) the
   pids are the host's and only the shape of the output is compared. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  for (int i = 0; i < 3; i++) {
    fflush(stdout);
    /* As dash does: every signal blocked around vfork, the child unblocks before its exec. */
    sigprocmask(SIG_SETMASK, &all, NULL);
    pid_t p = vfork();
    if (p < 0) return perror("vfork"), 1;
    if (p == 0) {
      sigprocmask(SIG_SETMASK, &none, NULL);
      /* The third child's exec fails: it ends with _exit(127). */
      execl(i < 2 ? "/bin/sh" : "/nonexistent/sh", "sh", "-c", "echo child $$; exit 7", (char *)0);
      _exit(127);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    int s;
    if (waitpid(p, &s, 0) != p) return perror("waitpid"), 1;
    printf("parent %d: vfork returned %d, status %d\n", (int)getpid(), (int)p, WIFEXITED(s) ? WEXITSTATUS(s) : -1);
  }
  return 0;
}
