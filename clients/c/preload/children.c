/* The child table: host children forked or spawned as guests, host pid <-> emulated pid (libblinkd-preload.so; see preload.c). */
#include "shared.h"

/* Children forked on the host: host pid <-> emulated pid, until reaped. */
#define MAXKIDS 4096
static struct kid {
  pid_t host;
  int32_t pid;
} kids[MAXKIDS];
int nkids;

void kid_add(pid_t host, int32_t pid) {
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om);
  if (nkids < MAXKIDS) kids[nkids++] = (struct kid){host, pid};
  hmask(SIG_SETMASK, &om, NULL);
}
pid_t host_of(int32_t pid) {
  for (int i = 0; i < nkids; i++)
    if (kids[i].pid == pid) return kids[i].host;
  return 0;
}
int32_t pid_of(pid_t host) {
  for (int i = 0; i < nkids; i++)
    if (kids[i].host == host) return kids[i].pid;
  return 0;
}
/* Host pids of guest children reaped lately: their host SIGCHLD may still be pending. */
#define REAPED 256
static pid_t reaped[REAPED];
unsigned nreaped;

void kid_drop(pid_t host) {
  /* The SIGCHLD wrapper reads the table (guest_child): no signal while it changes. */
  sigset_t all, om;
  sigfillset(&all);
  hmask(SIG_BLOCK, &all, &om);
  for (int i = 0; i < nkids; i++)
    if (kids[i].host == host) {
      kids[i] = kids[--nkids];
      reaped[nreaped++ % REAPED] = host;
      break;
    }
  hmask(SIG_SETMASK, &om, NULL);
}

/* A host child that is a guest of the namespace (forked or spawned through this library). */
int guest_child(pid_t host) {
  if (pid_of(host)) return 1;
  for (unsigned i = 0; i < REAPED && i < nreaped; i++)
    if (reaped[i] == host) return 1;
  return 0;
}
