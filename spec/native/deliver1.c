/* A native guest with delivery 1, as blink would be (spec/signals.md §4): it registers with
 * the C client, reports a handler for SIGUSR1, waits for the host SIGUSR1 the daemon sends as
 * a doorbell, then takes the signal's emulated siginfo with sig_dequeue. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "blinkd.h"

static volatile sig_atomic_t got;
static void on(int s) { got = s; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct blinkd_conn c;
  if (blinkd_conn_open(&c, NULL) != 0 || blinkd_conn_handshake(&c, "guest", "deliver1") < 0) return 2;
  const char *argv[] = {"deliver1", NULL};
  int64_t pid = blinkd_register(&c, getpid(), "/bin/deliver1", argv, BLINKD_DELIVERY_HOST);
  if (pid < 0) return 3;
  struct sigaction sa = {0};
  sa.sa_handler = on;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &old);
  if (blinkd_rt_sigaction(&c, SIGUSR1, BLINKD_SIGACTION_HANDLER, 0) != 0) return 4;
  printf("ready %lld\n", (long long)pid);
  while (!got) sigsuspend(&old);
  struct blinkd_sig_dequeue_out o;
  int64_t s = blinkd_sig_dequeue(&c, 0, &o);
  printf("host %d dequeue %lld pid %d code %d uid %u status %d\n", (int)got, (long long)s, o.pid, o.code, o.uid, o.status);
  printf("again %lld\n", (long long)blinkd_sig_dequeue(&c, 0, &o));
  blinkd_exit(&c, 0);
  return 0;
}
