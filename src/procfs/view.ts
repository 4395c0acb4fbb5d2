/**
 * One process as procfs sees it: the facts of its process and thread actors, gathered in
 * one place so that every file renders from the same snapshot. Facts the guest did not
 * report come from its host process (host.ts), else Linux's value for "none".
 */
import type { Kernel } from "../actors/kernel.js";
import type { ProcessState } from "../machine/process.js";
import type { GidSet, MemFigures } from "../machine/procinfo.js";
import { hostCwd, hostEnviron, hostStat, hostStatus, bootOffsetMs, CLK_TCK } from "./host.js";
import { ptraceStopped, tracerOf } from "../actors/ptrace.js";

/** get_task_state (fs/proc/array.c task_state_array): the letters procfs shows. */
export type StateLetter = "R" | "S" | "T" | "t" | "Z" | "X";
export const STATE_NAMES: Record<StateLetter, string> = { R: "R (running)", S: "S (sleeping)", T: "T (stopped)", t: "t (tracing stop)", Z: "Z (zombie)", X: "X (dead)" };

export interface TaskView {
  readonly tid: number;
  readonly comm: string;
  readonly state: StateLetter;
  /** task->pending: signals sent to this thread. */
  readonly pending: bigint;
  readonly blocked: bigint;
  readonly queued: number;
  readonly leader: boolean;
  /** This task's host thread (host pid, tid), when known: stat reads its CPU times there. */
  readonly hostTask: readonly [number, number] | undefined;
}

export interface ProcView {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  readonly comm: string;
  readonly exe: string;
  readonly argv: readonly string[];
  readonly lifecycle: ProcessState;
  /** The tracer's pid (task_state's TracerPid: ptrace_parent), 0 when untraced. */
  readonly tracerPid: number;
  /** The leader's state: /proc/PID/stat's state. */
  readonly state: StateLetter;
  /** The leader first, then the other threads by tid; a dead leader stays as Z while others run. */
  readonly tasks: readonly TaskView[];
  readonly uids: readonly [number, number, number, number];
  readonly gids: GidSet;
  readonly umask: number | null;
  /** Clock ticks since host boot (stat field 22). */
  readonly startTicks: bigint;
  readonly sigIgnored: bigint;
  readonly sigCaught: bigint;
  /** signal->shared_pending. */
  readonly shdPending: bigint;
  readonly shdQueued: number;
  /** null when the process has no memory image (a zombie): no cmdline, environ, exe or cwd. */
  readonly mem: MemFigures | null;
  readonly environ: Uint8Array;
  readonly cwd: string | null;
  /** task->flags (include/linux/sched.h PF_*). */
  readonly flags: number;
  /** task->exit_code: the wait status of a zombie, else 0. */
  readonly exitCode: number;
  readonly hostpid: number;
  /** Host status lines for what the guest did not report (context switches). */
  readonly host: Map<string, string> | undefined;
  /** The host process's stat fields (hostStat): CPU times, priority and nice the daemon never sees. */
  readonly hostStat: readonly string[] | undefined;
  /** stat's priority and nice (fields 18 and 19), when known (niceOf). */
  readonly prioNice: readonly [string, string] | undefined;
  /** The descriptor table's size (status FDSize); 0 for a zombie. */
  readonly fdSize: number;
  /**
   * The guest runs in an emulator (it reports its memory: blink), so its host process's
   * memory map is the emulator's, not the guest's: no maps is served for it.
   */
  readonly emulated: boolean;
}

// include/linux/sched.h
export const PF_EXITING = 0x4;
export const PF_POSTCOREDUMP = 0x8;
export const PF_FORKNOEXEC = 0x40;
export const PF_NOFREEZE = 0x8000;
export const PF_RANDOMIZE = 0x400000;

const zeroGids: GidSet = { rgid: 0, egid: 0, sgid: 0, fsgid: 0, groups: [] };

function kb(host: Map<string, string> | undefined, key: string): bigint {
  const v = host?.get(key);
  const m = v ? /^\s*(\d+) kB/.exec(v) : null;
  return m ? BigInt(m[1]!) * 1024n : 0n;
}

/** The memory figures of the host process, when the guest reported none. */
function hostMem(host: Map<string, string> | undefined): MemFigures {
  return {
    size: kb(host, "VmSize"),
    rss: kb(host, "VmRSS"),
    rssAnon: kb(host, "RssAnon"),
    rssFile: kb(host, "RssFile"),
    rssShmem: kb(host, "RssShmem"),
    data: kb(host, "VmData"),
    stk: kb(host, "VmStk"),
    exe: kb(host, "VmExe"),
    lib: kb(host, "VmLib"),
    lck: kb(host, "VmLck"),
    pin: kb(host, "VmPin"),
    pte: kb(host, "VmPTE"),
    swap: kb(host, "VmSwap"),
    peak: kb(host, "VmPeak"),
    hwm: kb(host, "VmHWM"),
  };
}

function hostGids(host: Map<string, string> | undefined): GidSet | undefined {
  const g = host?.get("Gid")?.split(/\s+/).map(Number);
  if (!g || g.length < 4 || g.some((x) => !Number.isInteger(x))) return undefined;
  const groups = (host?.get("Groups") ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
  return { rgid: g[0]!, egid: g[1]!, sgid: g[2]!, fsgid: g[3]!, groups };
}

/**
 * A zombie keeps its credentials (the task's cred lives until release_task), but its host
 * process may be gone: when it reported no gids, they are the ones fork copied from its
 * parent (copy_creds), which are its parent's still unless they were reported since.
 */
function inheritedGids(k: Kernel, ppid: number): GidSet | undefined {
  const p = ppid > 0 ? k.ctx(ppid) : undefined;
  if (!p) return undefined;
  const alive = k.state(ppid) === "running" || k.state(ppid) === "native";
  return p.info.gids ?? (alive && p.hostpid > 1 ? hostGids(hostStatus(p.hostpid)) : undefined);
}

/**
 * Priority and nice: the host process's, since setpriority(2) is not routed to the daemon.
 * A zombie's host process is gone; its niceness is the one fork gave it (sched_fork copies
 * the parent's static_prio), which is its parent's unless either changed it since.
 */
function niceOf(k: Kernel, own: readonly string[] | undefined, zombie: boolean, ppid: number): readonly [string, string] | undefined {
  let fields = own;
  if (!fields && zombie) {
    const p = ppid > 0 ? k.ctx(ppid) : undefined;
    const alive = p && (k.state(ppid) === "running" || k.state(ppid) === "native");
    fields = alive && p.hostpid > 1 ? hostStat(p.hostpid) : undefined;
  }
  return fields ? [fields[18 - 3]!, fields[19 - 3]!] : undefined;
}

const t0s = new WeakMap<Kernel, number>();
/** Kernel time (ms since the namespace started) to clock ticks since host boot. */
export function ticksSinceBoot(k: Kernel, ms: number): bigint {
  let t0 = t0s.get(k);
  if (t0 === undefined) t0s.set(k, (t0 = performance.now() - k.now()));
  return BigInt(Math.floor(((bootOffsetMs() + t0 + ms) * CLK_TCK) / 1000));
}

/** NR_OPEN_DEFAULT (include/linux/fdtable.h, BITS_PER_LONG): the size of a descriptor table that never grew. */
export const NR_OPEN_DEFAULT = 64;

/**
 * Gathers one process; undefined when pid is not a process of the namespace. reader: the
 * thread reading /proc, which is running (it is in the read), as on Linux.
 */
export function viewOf(k: Kernel, pid: number, reader?: { readonly tid: number }): ProcView | undefined {
  const p = k.proc(pid);
  if (!p) return undefined;
  const snap = p.getSnapshot();
  const c = snap.context;
  const lifecycle = snap.value as ProcessState;
  const zombie = lifecycle === "zombie" || lifecycle === "reaped" || lifecycle === "aborted";
  const live = !zombie;
  // get_task_state: __TASK_TRACED is t (tracing stop), __TASK_STOPPED T.
  const procLetter: StateLetter = zombie ? "Z" : ptraceStopped(k, pid) ? "t" : c.job.stopped ? "T" : lifecycle === "embryo" ? "R" : "S";
  // A hostpid > 0 with a live process is the guest's own host process (its connection is open).
  const host = live && c.hostpid > 1 ? hostStatus(c.hostpid) : undefined;
  // A guest that reports its own memory figures runs in an emulator (blink): its host
  // process's memory and descriptor table are the emulator's, not the guest's.
  const emulated = c.info.mem !== null;
  // The leader's host thread: R while it runs guest code, which the daemon does not see
  // (a guest busy in user code makes no call). Any other host state is a sleep here, in a
  // call to the daemon or in the host kernel; a stop or an exit the daemon knows itself.
  const hostRunning = host?.get("State")?.startsWith("R") ?? false;
  const tasks: TaskView[] = [];
  const tids = [...c.threads].sort((a, b) => a - b);
  // The leader stays listed, a zombie, while other threads run; a zombie or a native
  // process (no emulated threads left) shows its one task.
  if (!c.threads.has(pid)) tids.unshift(pid);
  for (const tid of tids) {
    const t = k.threads.get(tid);
    const tc = t?.getSnapshot().context;
    const tstate = t?.getSnapshot().value;
    const deadLeader = tid === pid && !c.threads.has(tid) && c.threads.size > 0;
    let letter: StateLetter = deadLeader ? "Z" : procLetter === "S" && tstate === "embryo" ? "R" : procLetter;
    // get_task_state: TASK_RUNNING is R. The task reading /proc is running; so is a leader
    // whose host thread runs.
    if (letter === "S" && (reader?.tid === tid || (tid === pid && hostRunning))) letter = "R";
    tasks.push({
      tid,
      // The leader's name is the process's comm (execve resets it); other threads may have their own.
      comm: tid === pid ? c.image.comm : (tc?.comm ?? c.image.comm),
      state: letter,
      pending: tc?.pending.mask ?? 0n,
      blocked: t?.blocked ?? 0n,
      queued: tc?.pending.q.length ?? 0,
      leader: tid === pid,
      // A native guest's host thread is the leader's host pid; other threads' are unknown.
      hostTask: tid === pid && host ? [c.hostpid, c.hostpid] : undefined,
    });
  }
  const whole = host ? hostStat(c.hostpid) : undefined;
  const ids = c.creds;
  const gids = c.info.gids ?? hostGids(host) ?? (zombie ? inheritedGids(k, c.ppid) : undefined) ?? zeroGids;
  const umaskText = host?.get("Umask");
  let flags = PF_RANDOMIZE | (c.flags.execed || c.ppid === 0 ? 0 : PF_FORKNOEXEC);
  if (zombie) flags |= PF_EXITING | PF_POSTCOREDUMP | PF_NOFREEZE;
  return {
    pid,
    ppid: c.ppid,
    pgid: c.pgid,
    sid: c.sid,
    comm: c.image.comm,
    exe: c.image.exe,
    argv: zombie ? [] : c.image.argv,
    lifecycle,
    tracerPid: zombie ? 0 : tracerOf(k, pid),
    state: tasks[0]?.state ?? procLetter,
    tasks,
    // setresuid sets the filesystem uid to the new effective one (kernel/sys.c __sys_setresuid).
    uids: [ids.ruid, ids.euid, ids.suid, ids.euid],
    gids,
    umask: umaskText ? parseInt(umaskText, 8) : live ? 0o022 : null,
    startTicks: ticksSinceBoot(k, c.startTime),
    sigIgnored: c.sigactions.ignored,
    sigCaught: c.sigactions.caught,
    shdPending: c.pending.mask,
    shdQueued: c.pending.q.length,
    mem: zombie ? null : (c.info.mem ?? hostMem(host)),
    environ: zombie ? new Uint8Array() : (c.info.environ ?? hostEnviron(c.hostpid) ?? new Uint8Array()),
    cwd: zombie ? null : (c.info.cwd ?? hostCwd(c.hostpid) ?? "/"),
    flags,
    exitCode: zombie ? (c.wstatus ?? 0) : 0,
    hostpid: c.hostpid,
    host,
    hostStat: whole,
    prioNice: niceOf(k, whole, zombie, c.ppid),
    // FDSize: files->fdt->max_fds. A guest in an emulator has a table of its own, which a
    // process with few descriptors has never grown past NR_OPEN_DEFAULT.
    fdSize: zombie ? 0 : emulated ? NR_OPEN_DEFAULT : Number(host?.get("FDSize") ?? NR_OPEN_DEFAULT),
    emulated,
  };
}

/** The thread-group ids in /proc's order (proc_pid_readdir: ascending tgid, zombies included). */
export function pidList(k: Kernel): number[] {
  return [...k.procs.keys()].sort((a, b) => a - b);
}
