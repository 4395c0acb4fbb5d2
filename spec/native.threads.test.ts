/**
 * Threads of a native program under the preload: spec/native/threads.c runs as PID 1 under
 * `blinkd run` and under a real PID namespace (`unshare --pid --fork --mount-proc`, as
 * root), and both must print the same lines and exit with the same status. pthread_create
 * registers each thread (thread_create, then the thread's own connection claims its tid), so
 * thread ids come from the pids' number space and a child forked after two threads is pid 4
 * (it was 2 before); a thread forks a child whose parent is PID 1; a thread takes with
 * sigwaitinfo, on its own connection, a signal every thread blocks; a signal a child sends
 * to one thread with tgkill runs the handler in that thread (the doorbell the host gives
 * another thread is passed on), and so does pthread_kill, with si_pid 1 and SI_TKILL; raise
 * in a thread runs the handler before it returns; /proc/1/status's Threads and /proc/1/task (under blinkd
 * the daemon's procfs, `blinkd procfs export`) show the threads, and only the main thread
 * once they were joined (their exit reached the daemon); and when a thread execs while
 * another lives, the new image is PID 1 alone (the threads' connections outlive the exec
 * until the new image has reported it, instead of their close killing the process); and
 * when the new image's main thread calls pthread_exit, it still counts (Linux keeps the
 * zombie leader) and the process exits 0 when its last thread returns.
 */
import { describe } from "vitest";
import { isRoot } from "./helpers/asinit.js";
import { threadProgramSuites } from "./helpers/threadprograms.js";

describe.skipIf(!isRoot)("threads of a native program under the preload", () => threadProgramSuites("blinkd"));
