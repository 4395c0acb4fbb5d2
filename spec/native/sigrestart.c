/* A signal that interrupts a blocking system call, as Linux delivers it (signal(7) "Interruption
   of system calls and library functions by signal handlers"; arch/x86/kernel/signal.c,
   handle_signal and arch_do_signal_or_restart): the call returns first, and the handler runs on
   the way back to user mode with the frame of that return. Without SA_RESTART the frame holds
   rax = -EINTR after the syscall instruction; with it, rax = the call's number and rip at the
   syscall instruction (the call is made again when the handler returns). sigsuspend's frame
   restores the mask it replaced while the handler runs with the temporary one. A tracer sees the
   call's syscall-exit stop (-ERESTARTSYS) before the signal-delivery stop; then rt_sigreturn's
   stops with -EINTR or the number; a signal it suppresses restarts the call. Run as PID 1 in
   blink under `blinkd run --blink` and in a real PID namespace; the lines must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int ran;
static volatile long frame_rax;
static volatile int frame_at_syscall, frame_after_syscall;
static volatile int frame_usr1, frame_usr2, now_usr1, now_usr2;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
  while (nanosleep(&ts, &ts) && errno == EINTR) {
  }
}

/* what the handler's frame (its ucontext) says about the interrupted call */
static void on_usr1(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  const unsigned char *rip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
  sigset_t now;
  (void)sig, (void)si;
  ran++;
  frame_rax = uc->uc_mcontext.gregs[REG_RAX];
  frame_at_syscall = rip[0] == 0x0f && rip[1] == 0x05;
  frame_after_syscall = rip[-2] == 0x0f && rip[-1] == 0x05;
  frame_usr1 = sigismember(&uc->uc_sigmask, SIGUSR1);
  frame_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
  sigprocmask(SIG_BLOCK, NULL, &now);
  now_usr1 = sigismember(&now, SIGUSR1);
  now_usr2 = sigismember(&now, SIGUSR2);
}

static void handle(int sig, int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | flags;
  sigaction(sig, &sa, NULL);
}

static const char *frame(void) {
  static char b[96];
  if (frame_rax == -EINTR && frame_after_syscall) return "rax -EINTR, rip after the syscall instruction";
  if (frame_rax == SYS_wait4 && frame_at_syscall) return "rax wait4's number, rip at the syscall instruction";
  snprintf(b, sizeof b, "rax %ld at %d after %d", frame_rax, frame_at_syscall, frame_after_syscall);
  return b;
}

/* A child that sends SIGUSR1 to its parent after `ms`, then exits 7 after as long again. */
static pid_t sender(long ms) {
  pid_t c = fork();
  if (c == 0) {
    sleep_ms(ms);
    kill(getppid(), SIGUSR1);
    sleep_ms(ms);
    _exit(7);
  }
  return c;
}

/* wait4 interrupted by a handled SIGUSR1, with and without SA_RESTART. */
static void interrupted_wait(int flags, const char *what) {
  int st = 0;
  ran = 0;
  handle(SIGUSR1, flags);
  pid_t c = sender(300);
  pid_t w = waitpid(c, &st, 0);
  int e = errno;
  printf("%s: handler ran %d time(s), its frame: %s\n", what, ran, frame());
  if (w == c) printf("%s: waitpid returned the child, exited(%d)\n", what, WEXITSTATUS(st));
  else {
    printf("%s: waitpid returned %d %s\n", what, w, strerrorname_np(e));
    w = waitpid(c, &st, 0);
    printf("%s: waitpid again: %s, exited(%d)\n", what, w == c ? "the child" : "?", WEXITSTATUS(st));
  }
}

/* sigsuspend with USR1 and USR2 blocked and an empty temporary mask. */
static void suspended(void) {
  sigset_t block, empty, after;
  ran = 0;
  handle(SIGUSR1, 0);
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGUSR2);
  sigprocmask(SIG_BLOCK, &block, NULL);
  pid_t c = sender(300);
  sigemptyset(&empty);
  int r = sigsuspend(&empty);
  int e = errno;
  sigprocmask(SIG_BLOCK, NULL, &after);
  printf("sigsuspend: returned %d %s; handler ran %d time(s), its frame: %s\n", r, strerrorname_np(e), ran, frame());
  printf("sigsuspend: the frame restores USR1 %d USR2 %d; the handler ran with USR1 %d USR2 %d; after: USR1 %d USR2 %d\n",
         frame_usr1, frame_usr2, now_usr1, now_usr2, sigismember(&after, SIGUSR1), sigismember(&after, SIGUSR2));
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  int st;
  waitpid(c, &st, 0);
}

/* The tracee: three rounds of a wait4 that the tracer interrupts with SIGUSR1 (a getppid marks
   each), with a handler without SA_RESTART, with SA_RESTART, and one the tracer suppresses. */
static void tracee(void) {
  ptrace(PTRACE_TRACEME, 0, 0, 0);
  raise(SIGSTOP);
  for (int round = 0; round < 3; round++) {
    ran = 0;
    handle(SIGUSR1, round == 1 ? SA_RESTART : 0);
    pid_t c = fork();
    if (c == 0) {
      sleep_ms(2000);
      _exit(7);
    }
    int st = 0;
    syscall(SYS_getppid);
    pid_t w = waitpid(c, &st, 0);
    const char *first = w == c ? "returned the child" : strerrorname_np(errno);
    if (w != c) w = waitpid(c, &st, 0);
    printf("tracee round %d: handler ran %d time(s), first waitpid %s, the child exited(%d)\n", round, ran, first,
           WEXITSTATUS(st));
  }
  _exit(0);
}

static const char *result(long nr, long rax) {
  static char b[64];
  if (rax == -512) return "-ERESTARTSYS";
  if (rax == -EINTR) return "-EINTR";
  if (nr == SYS_wait4 && rax > 0) return "the child";
  snprintf(b, sizeof b, "%ld", rax);
  return b;
}

static const char *name(long nr) {
  return nr == SYS_wait4 ? "wait4" : nr == SYS_rt_sigreturn ? "rt_sigreturn" : nr == SYS_getppid ? "getppid" : NULL;
}

static void tracer(void) {
  int st, round = 0, inside = 0, marked = 0;
  long nr = -1;
  pid_t c = fork();
  if (c == 0) tracee();
  waitpid(c, &st, 0);
  printf("tracer: %s\n", WIFSTOPPED(st) ? sigabbrev_np(WSTOPSIG(st)) : "?");
  ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
  int sig = 0;
  for (int i = 0; i < 2000; i++) {
    if (ptrace(PTRACE_SYSCALL, c, 0, sig)) {
      printf("tracer: PTRACE_SYSCALL %s\n", strerrorname_np(errno));
      return;
    }
    sig = 0;
    if (inside && marked && nr == SYS_wait4) {
      /* the tracee is entering its wait4: interrupt it once it sleeps there */
      marked = 0;
      sleep_ms(700);
      kill(c, SIGUSR1);
    }
    if (waitpid(c, &st, 0) != c) return;
    if (WIFEXITED(st)) {
      printf("tracer: the tracee exited(%d)\n", WEXITSTATUS(st));
      return;
    }
    if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
      struct user_regs_struct r;
      ptrace(PTRACE_GETREGS, c, 0, &r);
      if (!inside) {
        nr = (long)r.orig_rax;
        if (nr == SYS_getppid) marked = 1;
        if (name(nr) && nr != SYS_getppid) printf("tracer: %s entry\n", name(nr));
      } else if (name(nr) && nr != SYS_getppid) {
        printf("tracer: %s exit = %s\n", name(nr), result(nr, (long)r.rax));
      }
      inside = !inside;
    } else {
      /* a signal-delivery stop: USR1 let through in rounds 0 and 1, suppressed in round 2 */
      int s = WSTOPSIG(st);
      printf("tracer: signal-delivery stop %s%s\n", sigabbrev_np(s),
             s == SIGUSR1 ? (round < 2 ? ", let through" : ", suppressed") : "");
      if (s == SIGUSR1) sig = round++ < 2 ? SIGUSR1 : 0;
    }
  }
  printf("tracer: too many stops\n");
  kill(c, SIGKILL);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  interrupted_wait(0, "without SA_RESTART");
  interrupted_wait(SA_RESTART, "with SA_RESTART");
  suspended();
  tracer();
  return 0;
}
