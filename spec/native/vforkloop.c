/* A loop of vforks as dash makes them, as PID 1 of a namespace (blinkd run, or unshare --pid):
     vforkloop N      each child execs a shell that prints its pid and parent pid and exits
                      i % 7; the parent prints what vfork returned and the child's status.
     vforkloop limit  each child _exits at once and stays a zombie (it holds its pid) until
                      vfork fails at the namespace's pid limit: the parent prints how many it
                      made and vfork's errno, then reaps them all.
     vforkloop limitexec  the same, each child exec'ing /bin/echo ran: the one vfork that
                      fails runs nothing (no "ran" of its own; under blinkd its new image finds
                      its claim failed before echo's main).
     vforkloop gate   prints "ready", reads one byte of stdin, then vforks a child that execs
                      /bin/true, and prints what vfork returned and the status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "gate")) {
    char c;
    printf("ready\n");
    fflush(stdout);
    if (read(0, &c, 1) != 1) return 2;
    pid_t p = vfork();
    if (p < 0) return perror("vfork"), 1;
    if (p == 0) {
      execl("/bin/true", "true", (char *)0);
      _exit(127);
    }
    int s;
    if (waitpid(p, &s, 0) != p) return perror("waitpid"), 1;
    printf("parent %d: vfork returned %d, status %d\n", (int)getpid(), (int)p, WIFEXITED(s) ? WEXITSTATUS(s) : -1);
    return 0;
  }
  int exec = argc > 1 && !strcmp(argv[1], "limitexec");
  if (argc > 1 && (!strcmp(argv[1], "limit") || exec)) {
    int made = 0;
    for (;;) {
      fflush(stdout);
      pid_t p = vfork();
      if (p == 0 && exec) execl("/bin/echo", "echo", "ran", (char *)0);
      if (p == 0) _exit(0);
      if (p < 0) {
        printf("made %d children, then vfork: -1 %s\n", made, errno == EAGAIN ? "EAGAIN" : strerror(errno));
        break;
      }
      made++;
    }
    int reaped = 0, s;
    while (wait(&s) > 0) reaped++;
    printf("reaped %d\n", reaped);
    return 0;
  }
  int n = argc > 1 ? atoi(argv[1]) : 10;
  char code[32];
  for (int i = 0; i < n; i++) {
    fflush(stdout);
    snprintf(code, sizeof code, "echo child $$ of $PPID; exit %d", i % 7);
    pid_t p = vfork();
    if (p < 0) return perror("vfork"), 1;
    if (p == 0) {
      execl("/bin/sh", "sh", "-c", code, (char *)0);
      _exit(127);
    }
    int s;
    if (waitpid(p, &s, 0) != p) return perror("waitpid"), 1;
    printf("parent %d: vfork returned %d, status %d\n", (int)getpid(), (int)p, WIFEXITED(s) ? WEXITSTATUS(s) : -1);
  }
  return 0;
}
