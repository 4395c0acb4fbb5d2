/* exit(2) of a thread group's leader while another thread lives, then that thread's exit:
   the process is not waitable until its last thread ends, and its status is the last
   thread's code. Prints what the parent's waitpid sees. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static int go[2], left[2];
static void *thread_main(void *a) {
  char x;
  (void)a;
  read(go[0], &x, 1); /* the parent has seen the leader gone and the process not waitable */
  syscall(SYS_exit, 5);
  return 0;
}
int main(void) {
  pipe(go);
  pipe(left);
  pid_t p = fork();
  if (p == 0) {
    pthread_t t;
    pthread_create(&t, 0, thread_main, 0);
    write(left[1], "x", 1);
    syscall(SYS_exit, 3); /* the leader alone */
  }
  char x;
  read(left[0], &x, 1);
  /* The leader's exit is not the process's: wait until it is a zombie thread in /proc. */
  for (;;) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", p, p);
    FILE *f = fopen(path, "r");
    if (!f) break;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *r = strrchr(buf, ')');
    if (r && r[2] == 'Z') break;
    usleep(1000);
  }
  int s;
  printf("leader exited(3), a thread lives: waitpid WNOHANG -> %d\n", waitpid(p, &s, WNOHANG));
  write(go[1], "x", 1);
  pid_t r = waitpid(p, &s, 0);
  printf("last thread exited(5): waitpid -> %s exited(%d)\n", r == p ? "the child" : "?", WEXITSTATUS(s));
  return 0;
}
