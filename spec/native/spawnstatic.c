/*
 * posix_spawn and posix_spawnp of a program that runs without libblinkd-preload.so (a static
 * executable: argv[1], its directory argv[2]; and, as root, argv[3]: a dynamic one set-user-ID
 * to another user, whose LD_PRELOAD the loader drops for AT_SECURE, ld.so(8)), as Linux gives them: the child runs with the
 * argv given, and the parent's waitpid returns its status as soon as it ends. Under the preload
 * a spawned child claimed its pid in its new image, which a static program never does: the
 * daemon held it reserved until the reservation timed out, and waitpid returned after 10 s
 * (its status right, from the host). The wait is timed here: "at once" is under 2 s. Run under
 * `blinkd run` and under `unshare --pid --fork` (spec/native.programs.test.ts).
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void one(const char *how, int p, const char *file, char *const argv[]) {
  double t0 = now();
  pid_t pid;
  int e = p ? posix_spawnp(&pid, file, NULL, NULL, argv, environ) : posix_spawn(&pid, file, NULL, NULL, argv, environ);
  if (e) {
    printf("%s: %s\n", how, strerror(e));
    return;
  }
  int st = 0;
  pid_t w = waitpid(pid, &st, 0);
  printf("%s: waitpid gives the child %s, exited %d, %s\n", how, w == pid ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1, now() - t0 < 2 ? "at once" : "LATE");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 3) return 2;
  char *a[] = {"named-zero", "5", NULL};
  one("posix_spawn", 0, argv[1], a);
  /* posix_spawnp by name, found on PATH. */
  setenv("PATH", argv[2], 1);
  const char *name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
  char *b[] = {(char *)name, "7", NULL};
  one("posix_spawnp", 1, name, b);
  if (argc > 3) {
    char *c[] = {"set-id", "9", NULL};
    one("posix_spawn set-id", 0, argv[3], c);
  }
  return 0;
}
