/*
 * /proc's access rules between users, as PID 1 of a real PID namespace (root): a child drops
 * to uid and gid 1001 and reads init's files, then its own, printing for each "PATH: ok" or
 * "PATH: ERRNO", then its own zombie child's. spec/harden.trust.test.ts asks the daemon the
 * same through proc_read.
 *   environ, exe, cwd, fdinfo/N, maps: ptrace_may_access; fd/, fdinfo/: the owner's 0500 directory.
 * (Not its own environ: a process whose uids changed is not dumpable, and Linux then makes
 * even its own environ root's; the daemon does not model the dumpable flag.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *name(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
  }
  return strerror(e);
}

static void try(const char *p) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%s", p);
  int e = 0;
  const char *last = strrchr(p, '/') + 1;
  if (!strcmp(last, "exe") || !strcmp(last, "cwd")) {
    if (readlink(path, buf, sizeof buf) < 0) e = errno;
  } else if (!strcmp(last, "fd") || !strcmp(last, "fdinfo")) {
    DIR *d = opendir(path);
    if (!d) e = errno;
    else closedir(d);
  } else {
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf) < 0) e = errno;
    if (fd >= 0) close(fd);
  }
  printf("%s: %s\n", p, e ? name(e) : "ok");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t c = fork();
  if (c == 0) {
    if (setgroups(0, NULL) || setresgid(1001, 1001, 1001) || setresuid(1001, 1001, 1001)) return perror("drop"), 1;
    const char *paths[] = {"1/environ", "1/exe", "1/cwd", "1/fd", "1/fdinfo", "1/maps", "1/status", "1/cmdline", "1/stat", "1/task/1/environ", "self/exe", "self/fd", "self/status"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) try(paths[i]);
    /* Its own child, a zombie (pid 3): task_dump_owner makes a task without mm root's, so its
       environ (0400) and fd/ (0500) are refused to their own user too; stat is 0444. */
    pid_t g = fork();
    if (g == 0) _exit(0);
    siginfo_t si;
    waitid(P_PID, g, &si, WEXITED | WNOWAIT);
    char z[4][32];
    snprintf(z[0], sizeof z[0], "%d/environ", g);
    snprintf(z[1], sizeof z[1], "%d/fd", g);
    snprintf(z[2], sizeof z[2], "%d/stat", g);
    snprintf(z[3], sizeof z[3], "%d/maps", g); /* no mm: opens, and reads empty */
    for (int i = 0; i < 4; i++) try(z[i]);
    return 0;
  }
  int st;
  waitpid(c, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
