/* What the preload's parts share (the .c files of clients/c/preload): internal, hidden in the library. */
#ifndef BLINKD_PRELOAD_H
#define BLINKD_PRELOAD_H
#include <signal.h>
#include <stdint.h>
#include "blinkd.h"

/* The host signal that rings a tracee into its ptrace stop (spec/ptrace.md §4.2): SIGRTMAX. */
#define BLINKD_PTRACE_BELL 64

/* doorbell.c */
/* The calling thread's connection once it has one (NULL before), usable from a handler. */
struct blinkd_conn *blinkd_preload_conn(void);
int blinkd_preload_active(void);
/* Runs the program's handler for signal s with the emulated siginfo, as the doorbell wrapper
   runs a frame (a signal the tracer let through at a signal-delivery stop). */
void blinkd_preload_deliver(int s, int code, int pid, uid_t uid, int status, void *uc, const sigset_t *entry);
/* A host handler of this library's runs on the calling thread (masks.c's blinkd_host_ppoll). */
void blinkd_preload_handler_ran(void);

/* ptrace.c */
/* Installs the bell's host handler: first thing in the constructor (an exec's stop rings the
   new image as it reports execve). */
void blinkd_ptrace_init(void);
/* Stop points only the tracee sees: after a host fork in the parent (its child's pid), as the
   process ends (its wait status); and in a fork child, whose tracing is its own. */
void blinkd_ptrace_forked(int32_t child);
void blinkd_ptrace_exiting(int wstatus);
int blinkd_ptrace_child(void);
void blinkd_ptrace_restore(int opts);
int blinkd_ptrace_traced(void);
#endif
