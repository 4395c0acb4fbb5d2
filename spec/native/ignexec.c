/* Ignored signals survive execve (flush_signal_handlers keeps SIG_IGN), however they were
   ignored: a child ignores SIGUSR1 and real-time signal 40 with the raw rt_sigaction system
   call (which no library sees), SIGUSR2 with sigaction(2), then execs this program, whose new
   image sends itself all three and must still be there to say so; its argv arrives whole.
   The image the exec starts learns its inherited dispositions from the host (the preload
   reads them from /proc/self/status). Run as PID 1 under `blinkd run` and in a real PID
   namespace; the lines must be the same. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kernel's struct sigaction for x86-64's rt_sigaction. */
struct ksigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
};

static void raw_ignore(int s) {
  struct ksigaction a;
  memset(&a, 0, sizeof a);
  a.handler = (void *)SIG_IGN;
  syscall(SYS_rt_sigaction, s, &a, NULL, sizeof a.mask);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc == 4 && !strcmp(argv[1], "image")) {
    kill(getpid(), SIGUSR1);
    kill(getpid(), 40);
    kill(getpid(), SIGUSR2);
    printf("new image: alive after SIGUSR1, 40 and SIGUSR2; argv %s|%s|%s\n", argv[1], argv[2], argv[3]);
    return 7;
  }
  pid_t c = fork();
  if (c == 0) {
    raw_ignore(SIGUSR1);
    raw_ignore(40);
    signal(SIGUSR2, SIG_IGN);
    execl(argv[0], argv[0], "image", "two words", "", (char *)NULL);
    _exit(127);
  }
  int st;
  waitpid(c, &st, 0);
  if (WIFEXITED(st)) printf("child: exited(%d)\n", WEXITSTATUS(st));
  else printf("child: killed(%d)\n", WTERMSIG(st));
  return 0;
}
