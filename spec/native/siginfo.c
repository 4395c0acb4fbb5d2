/* siginfo.c: an ordinary program (no blinkd code) whose SA_SIGINFO handlers print what
 * sent each signal, run as PID 1 by spec/native.siginfo.test.ts under `blinkd run` (the
 * preload, delivery 1) and under `unshare --pid --fork --mount-proc`, expecting the same.
 *
 *  1. With SIGUSR1, SIGUSR2 and signal 40 blocked, a child sends USR1 twice, USR2 once and
 *     40 three times, and exits; after reaping it the parent unblocks them in sigsuspend:
 *     a standard signal is pending once, a real-time one once per kill (signal(7)).
 *  2. Unblocked, the parent waits in waitpid for a second child that sends USR2, then 40
 *     a hundred times, and exits: the handlers run while waitpid waits (each instance of
 *     a real-time signal once, and SIGCHLD once, with the child's pid and status), and
 *     SA_RESTART resumes the wait.
 *  3. "ready": the test sends SIGUSR1 from outside the namespace (si_pid 0).
 *  4. "inspect": the test reads SigPnd/ShdPnd of PID 1 (nothing may stay pending), then
 *     writes a line to stdin and the program exits 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RT 40

static volatile sig_atomic_t count[65], from[65], code[65], status[65];

static void on(int s, siginfo_t *si, void *uc) {
  count[s]++;
  from[s] = si->si_pid;
  code[s] = si->si_code;
  status[s] = si->si_status;
}

static void show(const char *phase) {
  int sigs[] = {SIGUSR1, SIGUSR2, SIGCHLD, RT};
  for (int i = 0; i < 4; i++) {
    int s = sigs[i];
    if (count[s] && s == SIGCHLD) printf("%s: signal %d x%d si_pid=%d si_code=%d si_status=%d\n", phase, s, (int)count[s], (int)from[s], (int)code[s], (int)status[s]);
    else if (count[s]) printf("%s: signal %d x%d si_pid=%d si_code=%d\n", phase, s, (int)count[s], (int)from[s], (int)code[s]);
    count[s] = from[s] = code[s] = status[s] = 0;
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigset_t set, none;
  sigemptyset(&set);
  sigemptyset(&none);
  int sigs[] = {SIGUSR1, SIGUSR2, RT};
  for (int i = 0; i < 3; i++) {
    sigaction(sigs[i], &sa, NULL);
    sigaddset(&set, sigs[i]);
  }
  sigprocmask(SIG_BLOCK, &set, NULL);

  pid_t me = getpid();
  pid_t c = fork();
  if (c == 0) {
    kill(me, SIGUSR1);
    kill(me, SIGUSR1);
    kill(me, SIGUSR2);
    for (int i = 0; i < 3; i++) kill(me, RT);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  printf("child %d sent its signals and exited %d\n", (int)c, WEXITSTATUS(st));
  sigset_t p;
  sigpending(&p);
  printf("pending before: USR1 %d USR2 %d %d %d\n", sigismember(&p, SIGUSR1), sigismember(&p, SIGUSR2), RT, sigismember(&p, RT));
  sigsuspend(&none);
  /* Every pending unblocked signal is delivered before sigsuspend returns (signal(7)),
     but each RT instance after the previous handler returns: unblock and let them in. */
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  show("blocked then unblocked");

  sigaction(SIGCHLD, &sa, NULL);
  pid_t c2 = fork();
  if (c2 == 0) {
    kill(me, SIGUSR2);
    for (int i = 0; i < 100; i++) kill(me, RT);
    usleep(200000);
    _exit(5);
  }
  pid_t w = waitpid(c2, &st, 0);
  printf("second child %d: waitpid = %d exited %d\n", (int)c2, (int)w, WEXITSTATUS(st));
  show("during waitpid");

  /* 3. From outside the namespace (the test, through `blinkd run` or straight to init). */
  sigprocmask(SIG_BLOCK, &set, NULL);
  printf("ready\n");
  while (!count[SIGUSR1]) sigsuspend(&none);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  show("from outside");

  sigpending(&p);
  printf("pending after: USR1 %d USR2 %d %d %d\n", sigismember(&p, SIGUSR1), sigismember(&p, SIGUSR2), RT, sigismember(&p, RT));
  printf("inspect\n");
  char line[16];
  if (read(0, line, sizeof line) < 0) return 1;
  return 0;
}
