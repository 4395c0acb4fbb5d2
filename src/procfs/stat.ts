/**
 * /proc/PID/stat and /proc/PID/task/TID/stat, field by field as fs/proc/array.c
 * do_task_stat writes them (proc(5) numbers the 52 fields). The comm goes between
 * parentheses unescaped, so a reader must take the last ')' (procps does).
 */
import { PAGE_SIZE, hostStat } from "./host.js";
import { SIG } from "../machine/sigset.js";
import { PF_FORKNOEXEC, type ProcView, type TaskView } from "./view.js";

/** RLIM_INFINITY as an unsigned long: the RLIMIT_RSS field. */
const RLIM_INFINITY = 18446744073709551615n;
/** The obsolete decimal signal fields show only signals 1-31 ("sig[0] & 0x7fffffffUL"). */
const low31 = (m: bigint): bigint => m & 0x7fffffffn;

/**
 * whole: /proc/PID/stat (the group's figures, the leader's state); otherwise the one thread
 * of task/TID/stat. Addresses of the memory image (start_code … env_end, kstkesp, kstkeip)
 * are 0: the emulator's guest addresses are not reported.
 */
export function renderStat(v: ProcView, t: TaskView, whole: boolean): string {
  const mem = v.mem;
  // proc(5) field n of the host's stat (the whole process's, or this task's), else none.
  const hs = whole ? v.hostStat : t.hostTask && hostStat(...t.hostTask);
  const h = (n: number, none: number): string | number => hs?.[n - 3] ?? none;
  // A thread whose host thread is unknown has its process's niceness (threads inherit it).
  const [prio, nice] = hs ? [hs[18 - 3]!, hs[19 - 3]!] : (v.prioNice ?? [20, 0]);
  const f: (string | number | bigint)[] = [
    t.tid,
    `(${t.comm})`,
    t.state,
    v.ppid,
    v.pgid,
    v.sid,
    0, // tty_nr: no controlling terminal
    -1, // tty_pgrp: "-1" without a terminal
    // A new thread is PF_FORKNOEXEC until the group execs; the leader carries the group's flags.
    t.leader ? v.flags : v.flags | PF_FORKNOEXEC,
    0, // minflt
    0, // cminflt
    0, // majflt
    0, // cmajflt
    // CPU times, priority and nice belong to the guest's host process (a native program is
    // its own host process; a blink guest's is the emulator running it): the daemon sees no
    // CPU and setpriority(2) is not routed. A zombie's times are gone with it: 0.
    h(14, 0), // utime
    h(15, 0), // stime
    h(16, 0), // cutime
    h(17, 0), // cstime
    prio, // priority: task_prio, 120 + nice - MAX_RT_PRIO; 20 for nice 0
    nice,
    // num_threads: signal->nr_threads, an exited leader included until the group is released
    v.tasks.length || 1,
    0, // itrealvalue
    v.startTicks,
    mem ? mem.size : 0n, // vsize, bytes
    mem ? mem.rss / PAGE_SIZE : 0n, // rss, pages
    RLIM_INFINITY,
    0, // startcode
    0, // endcode
    0, // startstack
    0, // kstkesp
    0, // kstkeip
    low31(t.pending),
    low31(t.blocked),
    low31(v.sigIgnored),
    low31(v.sigCaught),
    // wchan, a 0/1 flag since Linux 5.16: "if (permitted && (!whole || num_threads < 2))
    // wchan = !task_is_running(task);"
    t.state !== "R" && (!whole || v.tasks.length < 2) ? 1 : 0,
    0, // nswap
    0, // cnswap
    // exit_signal: SIGCHLD for a process, -1 for a thread (CLONE_THREAD)
    t.leader ? SIG.SIGCHLD : -1,
    0, // processor
    0, // rt_priority
    0, // policy: SCHED_OTHER
    0, // delayacct_blkio_ticks
    0, // guest_time
    0, // cguest_time
    0, // start_data
    0, // end_data
    0, // start_brk
    0, // arg_start
    0, // arg_end
    0, // env_start
    0, // env_end
    whole || t.leader ? v.exitCode : 0, // exit_code: a zombie's wait status
  ];
  return f.join(" ") + "\n";
}

/** /proc/PID/statm: size resident shared text lib data dt, in pages (proc_pid_statm). */
export function renderStatm(v: ProcView): string {
  const m = v.mem;
  if (!m) return "0 0 0 0 0 0 0\n";
  const pg = (b: bigint): bigint => b / PAGE_SIZE;
  return [pg(m.size), pg(m.rss), pg(m.rssFile + m.rssShmem), pg(m.exe), 0n, pg(m.data + m.stk), 0n].join(" ") + "\n";
}
