/* posix_spawn and posix_spawnp children as PID 1's: each one's pid, parent and exit status as
   in a real PID namespace. Under the preload a spawned child claims the pid its parent
   reserved, hello and claim in one write (its proof named by BLINKD_PROOF, spec/protocol.md
   §7.4). Run as PID 1 under `blinkd run` and in a real PID namespace; the lines must be the
   same. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The child kills itself through the namespace (kill -TERM $$), which reaches its host process
   only when its claim proved that process its own. */
static void one(int p, const char *how, int code) {
  char script[160];
  if (code) snprintf(script, sizeof script, "echo %s: pid=$$ ppid=$PPID; exit %d", how, code);
  else snprintf(script, sizeof script, "echo %s: pid=$$; kill -TERM $$; echo %s: survived", how, how);
  char *argv[] = {"sh", "-c", script, NULL};
  pid_t c;
  int r = p ? posix_spawnp(&c, "sh", NULL, NULL, argv, environ) : posix_spawn(&c, "/bin/sh", NULL, NULL, argv, environ);
  if (r != 0) {
    printf("%s: error %d\n", how, r);
    return;
  }
  int st;
  pid_t w = waitpid(c, &st, 0);
  printf("%s: spawned %d, waitpid %d, %s %d\n", how, (int)c, (int)w, WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  one(0, "posix_spawn", 3);
  one(1, "posix_spawnp", 4);
  one(0, "self-kill", 0);
  return 0;
}
