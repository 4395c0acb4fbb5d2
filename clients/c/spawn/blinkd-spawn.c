/*
 * blinkd-spawn PATH ARGV0 ARGS…: execs PATH with ARGV0 ARGS… as its argv, nothing else.
 *
 * The preload's posix_spawn (clients/c/preload/fork.c) spawns this instead of a program that
 * will not load libblinkd-preload.so (a static executable, or a set-id one whose LD_PRELOAD the
 * loader drops): a spawned child claims its pid in its new image, which such a program never
 * does, so the daemon held it as a reserved child until the reservation timed out and the
 * parent's wait4 waited that long (10 s by default). This program is dynamic, so the preload
 * in it claims the pid; its execve then hands the connection on to PATH, as a forked guest's
 * exec of a native program does, and PATH's end closes it: the daemon hears of the exit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: blinkd-spawn PATH ARGV0 [ARG…]\n");
    return 127;
  }
  execv(argv[1], argv + 2);
  fprintf(stderr, "blinkd-spawn: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
