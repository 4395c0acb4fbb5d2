/*
 * A child's SIGCHLD and the parent's blocking wait (spec/native.chldreply.test.ts runs it under
 * `blinkd run` and under `unshare --pid --fork --mount-proc`, and compares): Linux queues the
 * SIGCHLD, then wakes the wait (exit_notify → do_notify_parent), whose way back to user mode runs
 * the handler (get_signal) before waitpid returns; under the preload the SIGCHLD comes with the
 * wait's reply (wait4_sigchld) and the handler runs as the doorbell would run it. Each child
 * sleeps 30 ms first, so the parent is parked in its wait when it ends.
 *   info N     N children, even ones exit(i), odd ones die of SIGTERM: at each return the
 *              SA_SIGINFO handler has run once, with si_pid the child, si_code CLD_EXITED or
 *              CLD_KILLED, si_status the status or the signal; in the handler SIGCHLD (no
 *              SA_NODEFER) and SIGUSR2 (sa_mask) are blocked; none runs twice (100 ms later).
 *   waitid     the same for one child through waitid(P_PID, WEXITED).
 *   resethand  SA_RESETHAND: the first child's SIGCHLD runs the handler, which is SIG_DFL from
 *              then on; the second child's runs nothing.
 *   pending    SIGUSR1 blocked and pending while the parent waits: the SIGCHLD handler runs
 *              before the return, SIGUSR1's only once unblocked.
 *   interrupt  the child sends SIGUSR1, then exits 30 ms later: SIGUSR1's handler interrupts
 *              the wait (SA_RESTART), then SIGCHLD's runs before the return.
 *   inhandler  a SIGUSR2 handler whose sa_mask blocks SIGCHLD waits for a child: after the wait
 *              SIGCHLD is pending (sigpending), and its handler runs once the SIGUSR2 one returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t runs, last_pid, last_code, last_status, masked_ok, order_len;
static char order[16];

static void nap(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&t, &t) != 0) {
  }
}

static void on_chld(int s, siginfo_t *si, void *uc) {
  sigset_t m;
  sigprocmask(SIG_BLOCK, NULL, &m);
  runs++;
  last_pid = si->si_pid;
  last_code = si->si_code;
  last_status = si->si_status;
  masked_ok = sigismember(&m, SIGCHLD) == 1 && sigismember(&m, SIGUSR2) == 1;
  if (order_len < (int)sizeof order - 1) order[order_len++] = 'c';
}

static void on_usr1(int s) {
  if (order_len < (int)sizeof order - 1) order[order_len++] = 'u';
}

static void handle(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGCHLD, &sa, NULL);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
}

static pid_t child(int how) {
  pid_t c = fork();
  if (c != 0) return c;
  if (how == -2) kill(getppid(), SIGUSR1);
  nap(30);
  if (how == -1) kill(getpid(), SIGTERM);
  _exit(how < 0 ? 0 : how);
}

static pid_t wait_for(pid_t c, int *st) {
  pid_t r;
  while ((r = waitpid(c, st, 0)) < 0 && errno == EINTR) {
  }
  return r;
}

/* What one wait saw: the handler's runs since `before`, and its siginfo against the child's. */
static int checked(pid_t c, int before, int code, int status) {
  return runs == before + 1 && last_pid == c && last_code == code && last_status == status && masked_ok;
}

static int info(int n) {
  handle(0);
  int ok = 0, exited = 0, killed = 0;
  for (int i = 0; i < n; i++) {
    int before = runs, st;
    pid_t c = child(i % 2 ? -1 : i);
    if (wait_for(c, &st) != c) return 1;
    int code = i % 2 ? CLD_KILLED : CLD_EXITED;
    if (checked(c, before, code, i % 2 ? SIGTERM : i)) ok++;
    if (WIFEXITED(st) && WEXITSTATUS(st) == i) exited++;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) killed++;
  }
  nap(100);
  printf("info: %d waits, %d returned after one run of the handler with the child's siginfo and mask, %d exited, %d killed, %d runs in all\n", n, ok, exited, killed, (int)runs);
  return 0;
}

static int by_waitid(void) {
  handle(0);
  pid_t c = child(7);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r;
  while ((r = waitid(P_PID, (id_t)c, &si, WEXITED)) < 0 && errno == EINTR) {
  }
  int ok = r == 0 && si.si_pid == c && checked(c, 0, CLD_EXITED, 7);
  nap(100);
  printf("waitid: returned %s, si_code %d si_status %d, handler ran %d time(s)%s\n", r == 0 ? "0" : "-1", si.si_code, si.si_status, (int)runs, ok ? ", before the return, with the child's siginfo" : "");
  return 0;
}

static int resethand(void) {
  handle(SA_RESETHAND);
  int st;
  pid_t c = child(1);
  wait_for(c, &st);
  int first = runs;
  struct sigaction now;
  sigaction(SIGCHLD, NULL, &now);
  c = child(2);
  wait_for(c, &st);
  nap(100);
  printf("resethand: %d run(s) at the first wait, then %s, %d run(s) in all\n", first, now.sa_handler == SIG_DFL ? "SIG_DFL" : "still handled", (int)runs);
  return 0;
}

static int pending(void) {
  handle(0);
  sigset_t u, old;
  sigemptyset(&u);
  sigaddset(&u, SIGUSR1);
  sigprocmask(SIG_BLOCK, &u, &old);
  raise(SIGUSR1);
  int st;
  pid_t c = child(4);
  wait_for(c, &st);
  order[order_len] = 0;
  printf("pending: at the return: %s\n", order);
  sigprocmask(SIG_SETMASK, &old, NULL);
  order[order_len] = 0;
  printf("pending: unblocked: %s\n", order);
  return 0;
}

static int interrupt(void) {
  handle(0);
  int st;
  pid_t c = child(-2);
  pid_t r = wait_for(c, &st);
  order[order_len] = 0;
  printf("interrupt: the wait returned %s after %s\n", r == c ? "the child" : "something else", order);
  return 0;
}

static volatile sig_atomic_t chld_pending;

static void on_usr2(int s) {
  int st;
  sigset_t p;
  wait_for(child(6), &st);
  sigpending(&p);
  chld_pending = sigismember(&p, SIGCHLD) == 1;
  if (order_len < (int)sizeof order - 1) order[order_len++] = 'w';
}

static int inhandler(void) {
  handle(0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGCHLD);
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  order[order_len] = 0;
  printf("inhandler: SIGCHLD %s in the handler after its wait; then %s\n", chld_pending ? "pending" : "not pending", order);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *m = argc > 1 ? argv[1] : "";
  if (!strcmp(m, "info") && argc > 2) return info(atoi(argv[2]));
  if (!strcmp(m, "waitid")) return by_waitid();
  if (!strcmp(m, "resethand")) return resethand();
  if (!strcmp(m, "pending")) return pending();
  if (!strcmp(m, "interrupt")) return interrupt();
  if (!strcmp(m, "inhandler")) return inhandler();
  fprintf(stderr, "usage: chldreply info N|waitid|resethand|pending|interrupt|inhandler\n");
  return 2;
}
