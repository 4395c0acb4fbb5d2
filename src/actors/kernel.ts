/**
 * The registry: the namespace actor and every process and thread actor of one PID
 * namespace, indexed by number so that no operation scans the namespace. It spawns and
 * stops actors and allocates numbers; the Linux rules that move processes between states
 * live in the modules named after the kernel files they mirror (fork.ts, exec.ts, exit.ts,
 * signal.ts, kill.ts, sys.ts, ptrace.ts: ARCHITECTURE.md).
 */
import { createActor, type Actor, type AnyActorLogic, type AnyActorRef, type InputFrom, type InspectionEvent } from "xstate";
import { namespaceMachine, type NamespaceState } from "../machine/namespace.js";
import { procId, processMachine, type Creds, type ProcessContext, type ProcessInput, type ProcessState } from "../machine/process.js";
import { threadId, threadMachine } from "../machine/thread.js";
import { nextPid } from "../machine/pidalloc.js";
import { WaitQueue } from "./waitqueue.js";
import type { Parked } from "./park.js";
import type { Errno } from "../protocol/errno.js";
import type { SigInfo } from "../machine/sigset.js";
import { Files, defaultFileLimits, type FileLimits } from "./files.js";
import { LeaderThread, OtherThread, type ThreadRef } from "./leader.js";

export type ProcessActor = Actor<typeof processMachine>;
export type ThreadActor = Actor<typeof threadMachine>;

export interface KernelConfig {
  /** Pids are below this (Linux's /proc/sys/kernel/pid_max, default 32768). */
  readonly pidMax: number;
  /** How long an unclaimed fork or thread reservation lives, in ms. */
  readonly reserveTimeoutMs: number;
  /** Descriptor limits: RLIMIT_NOFILE per process (EMFILE) and file-max in all (ENFILE). */
  readonly files: FileLimits;
  /**
   * Tasks (processes and threads, zombies and unclaimed reservations included) the namespace
   * may hold at once, like threads-max / RLIMIT_NPROC: fork, thread creation and register
   * past it get EAGAIN. Below pid_max, so that a fork bomb meets it before the pids run out.
   */
  readonly maxTasks: number;
  /** `serve`: once a namespace is over, the next register starts a new one (namespace.ts, RENEW); else register is ESRCH. */
  readonly renewNamespace: boolean;
}

export const defaultKernelConfig: KernelConfig = { pidMax: 32768, reserveTimeoutMs: 10_000, files: defaultFileLimits, maxTasks: 16384, renewNamespace: false };

/** What the kernel asks of the world outside it. */
export interface KernelHooks {
  /** The real, effective and saved uids of a guest's (proven) host process, undefined when unknown. */
  hostCreds?(hostpid: number): Creds | undefined;
  /** Deliver a host signal to a guest's host process (SIGKILL when the namespace dies). */
  killHost(pid: number, hostpid: number, signal: NodeJS.Signals | number): void;
  /** Sends a handled signal to a thread as an event on its connection (delivery 0). */
  signalEvent?(tid: number, info: SigInfo): void;
  /** Tells a delivery-0 thread it is in a ptrace stop (a PTRACE_STOP event on its connection). */
  ptraceStop?(tid: number): void;
  /** The thread's connection is up, so an event can reach it. */
  reachable?(tid: number): boolean;
  /** The namespace is over: init died and every process is gone. */
  namespaceOver(initStatus: number): void;
  /** A thread has ended: its connection gets no more replies except those in flight. */
  threadGone(tid: number): void;
  /** The process is gone from the namespace (reaped, aborted, or dropped otherwise). */
  processGone?(pid: number): void;
  /** What a wait of `pid` may see changed (its children, their states, its tracees): the state page's counts (spec/protocol.md §10.1). */
  waitChanged?(pid: number): void;
  /** A SIGCHLD is about to be queued for the process (before its ring): the state page's bell. */
  sigchldQueued?(pid: number): void;
  /** The process holds no SIGCHLD (a sig_dequeue left none; a new process): the state page's SEEN. */
  sigchldNone?(pid: number): void;
}

/**
 * A per-process resource (descriptor tables, and whatever else a family keeps per process)
 * follows the process lifecycle through these listeners, so that fork.ts, exec.ts and exit.ts call each
 * point once instead of knowing every resource. Each listener must be idempotent for exit.
 */
export interface ResourceHooks {
  /** fork(2) reserved `child` as a copy of `parent` (copy_process: dup_fd, …). */
  onFork?(parent: number, child: number): void;
  /** execve(2) succeeded in `pid` (do_close_on_exec, …). */
  onExec?(pid: number): void;
  /** The process released its resources: it exited, was killed, aborted, or left emulation (exit_files, …). */
  onExit?(pid: number): void;
}

/** What an actor's snapshot shows a recorder. */
export interface StepSnapshot {
  readonly value: unknown;
  readonly status: string;
  readonly context?: { readonly pid?: number };
}

/**
 * One event an actor of the namespace took (or its start, as "xstate.init"), with the
 * snapshot it left, for `blinkd events`. `actor` is the actor itself, for keeping its last state.
 */
export type ActorRecorder = (actor: object, id: string, event: string, snapshot: StepSnapshot) => void;

/**
 * Told of a change the kernel made in place, which no actor's event carries (a thread's mask,
 * ThreadRef.blocked; a fork's child in its parent's list): `event` names the event of `actor`
 * (in process `pid`) that made it when it was one, `changes` what it set.
 */
export type UpdateRecorder = (actor: { readonly id: string; getSnapshot(): { value: unknown } }, pid: number, event: string, changes?: Record<string, unknown>) => void;

/** A vfork the parent posted (actors/vfork.ts): its parent, and its failure if it made no child. */
export interface PostedVfork {
  readonly ppid: number;
  /** The reserved child, or the failure that made none. */
  readonly pid: number | undefined;
  readonly failure: Errno | undefined;
  /** Forgotten after this, in whole ms of `Kernel.now()` (the reservation's own deadline). */
  readonly deadline: number;
}

export interface Reservation {
  readonly kind: "process" | "thread";
  readonly pid: number;
  readonly tid: number;
  /** A second one-time secret, fork's out.proof: the child names its proof descriptor with it before it connects (claim_fd). */
  readonly proof: string;
  /** When it expires unless claimed, in whole ms of `Kernel.now()`; undefined: never (reservations.ts). */
  readonly deadline: number | undefined;
}

/**
 * Where the actors of one namespace are made and stopped: in one xstate actor system whose
 * root is the namespace actor, so that an actor reaches another by its system id
 * (`system.get("proc:7")`) and the system's bookkeeping is paid once, not per actor.
 */
export interface ActorHost {
  /** Creates and starts an actor of the namespace's system, registered under `id`. */
  spawn<T extends AnyActorLogic>(logic: T, id: string, input: InputFrom<T>): Actor<T>;
  /** Stops one: xstate lets only its parent stop it, so the namespace actor does (RELEASE). */
  release(a: AnyActorRef): void;
}

export class Kernel implements ActorHost {
  readonly ns: Actor<typeof namespaceMachine>;
  readonly procs = new Map<number, ProcessActor>();
  /** Every thread by tid: a leader is its process's actor (LeaderThread), any other thread a thread actor (OtherThread); each with its mask. */
  readonly threads = new Map<number, ThreadRef>();
  readonly reservations = new Map<string, Reservation>();
  /** The one timer that expires the reservations, due at the oldest one's deadline (reservations.ts). */
  reserveTimer: NodeJS.Timeout | undefined;
  /** What each posted vfork token became, until its child claims it, and the claims that came first (vfork.ts). */
  readonly vforks = { posted: new Map<string, PostedVfork>(), arrived: new WaitQueue() };
  /** Numbers kept in use by process groups and sessions (struct pid refcounts). */
  readonly pidRefs = new Map<number, number>();
  /** Process groups: pgid → its members, zombies included until reaped (PIDTYPE_PGID links). */
  readonly pgrps = new Map<number, Set<number>>();
  /** Per process: woken when one of its children changes state. */
  readonly childWait = new Map<number, WaitQueue>();
  /** Per process: its parked waits that may take their SIGCHLD with the reply (chldreply.ts). */
  readonly chldWaiters = new Map<number, Set<Parked<unknown>>>();
  /** Processes whose SIGCHLD ring is held for such a wait's reply (chldreply.ts). */
  readonly chldHeld = new Set<number>();
  /**
   * The process whose call the daemon is handling now (0: none, or a connection not bound
   * yet): it is the one "running", so a signal that kills it acts before its call returns,
   * while one that kills another process acts once that process would run (signal.ts).
   */
  running = 0;
  /** Processes a fatal signal has doomed (SIGNAL_GROUP_EXIT) that have not died yet: pid → the signal, and the process actor (a pid may be reused). */
  readonly dying = new Map<number, { readonly signo: number; readonly proc: ProcessActor }>();
  /** The last pid handed out: alloc_pid's cursor (pid_namespace's last_pid / idr cursor). */
  lastPid = 0;
  /** Processes and threads that hold a number, zombies and reservations included (nr_threads). */
  tasks = 0;
  /** Processes and threads ever created (fork, clone, register): /proc/stat's "processes" (total_forks). */
  created = 0;
  private readonly t0 = performance.now();
  private readonly recorders = new Set<ActorRecorder>();
  private readonly updateRecorders = new Set<UpdateRecorder>();
  private readonly resources: ResourceHooks[] = [];
  /** Daemon-owned files (eventfd) and every process's descriptor table. */
  readonly files: Files;

  constructor(
    readonly config: KernelConfig,
    readonly hooks: KernelHooks,
  ) {
    this.ns = createActor(namespaceMachine, { input: { pidMax: config.pidMax, reserveTimeoutMs: config.reserveTimeoutMs }, id: "namespace" });
    this.ns.start();
    this.hookInspection();
    this.dropDoneRelays();
    this.files = new Files(config.files, this);
    this.addResource(this.files);
  }

  /** Milliseconds since the namespace started. */
  now(): number {
    return performance.now() - this.t0;
  }

  /**
   * A new process's start time: whole milliseconds of now(), a small integer in its input
   * and context where a fraction was a heap number in each (32 bytes per process; procfs
   * shows it in clock ticks, ps in whole ms).
   */
  startTime(): number {
    return Math.floor(this.now());
  }

  /**
   * Every actor of the namespace is one of the namespace actor's system (spawned with it as
   * parent and its id as system id): an actor sends to another with `sendTo(system.get(id))`,
   * and the two actors of a process cost 5.0 KiB instead of 8.3 KiB, a system (its maps,
   * scheduler and a dozen closures) being made once instead of once per actor
   * (bench/README.md, 2026-12-07).
   */
  spawn<T extends AnyActorLogic>(logic: T, id: string, input: InputFrom<T>): Actor<T> {
    const a = createActor(logic as AnyActorLogic, { input, id, systemId: id, parent: this.ns }) as Actor<T>;
    a.start();
    return a;
  }

  release(a: AnyActorRef): void {
    // An actor in a final state (reaped, exited, freed) has stopped itself already.
    if (a.getSnapshot().status === "active") this.ns.send({ type: "RELEASE", ref: a });
  }

  /**
   * The recorders (`blinkd events`) see every event an actor of the namespace takes, with the
   * snapshot it left, those one actor sends another included. xstate hands every inspection
   * event (one per event, microstep and action, built whether anyone listens or not) to its
   * system's `_sendInspectionEvent`, whose public form (`system.inspect`) copies each one for
   * every observer: about a fifth of an eventfd ping-pong's daemon time (bench/README.md).
   * The kernel takes the snapshots alone from that one hook of its system (xstate is pinned,
   * 5.33.3; `spec/procfs.test.ts` follows a process's transitions through it).
   */
  private hookInspection(): void {
    const sys = this.ns.system as unknown as { _sendInspectionEvent: (e: InspectionEvent) => void };
    const next = sys._sendInspectionEvent;
    sys._sendInspectionEvent = (e) => {
      if (e.type === "@xstate.snapshot" && this.recorders.size) this.onSnapshot(e.actorRef as AnyActorRef, e.event.type, e.snapshot as unknown as StepSnapshot);
      next(e);
    };
  }

  /**
   * An actor that reaches a final state (a process reaped or aborted, a thread exited) has
   * xstate relay a done event (`xstate.done.actor.ID`) to its parent, the namespace actor,
   * which has no transition for it: a whole macrostep of the namespace (its transition, its
   * snapshot, the inspection) for nothing, twice per process (bench/README.md, issue 18's
   * fifth round). The kernel drops those relays at the system's one hook (xstate is pinned,
   * 5.33.3); the final actor has stopped and left the system before the relay, as before.
   */
  private dropDoneRelays(): void {
    const sys = this.ns.system as unknown as { _relay: (source: AnyActorRef | undefined, target: AnyActorRef, event: { type: string }) => void };
    const next = sys._relay;
    sys._relay = (source, target, event) => {
      if (target === this.ns && event.type.startsWith("xstate.done.actor.")) return;
      next(source, target, event);
    };
  }

  private onSnapshot(a: AnyActorRef, type: string, snap: StepSnapshot): void {
    // xstate's own bookkeeping (a child's done event to the namespace) is not a kernel event.
    if (type.startsWith("xstate.") && type !== "xstate.init") return;
    for (const f of this.recorders) f(a, a.id, type, snap);
  }

  addRecorder(f: ActorRecorder): () => void {
    this.recorders.add(f);
    return () => this.recorders.delete(f);
  }

  /** The records of changes the kernel makes in place (a thread's mask: actors/signal.ts; a fork's child: actors/fork.ts). */
  addUpdateRecorder(f: UpdateRecorder): () => void {
    this.updateRecorders.add(f);
    return () => this.updateRecorders.delete(f);
  }

  /** `actor` (of process `pid`) was changed in place, as its event `event` changed it once. */
  recordUpdate(actor: { readonly id: string; getSnapshot(): { value: unknown } }, pid: number, event: string, changes?: Record<string, unknown>): void {
    for (const f of this.updateRecorders) f(actor, pid, event, changes);
  }

  /** Registers a per-process resource's lifecycle listeners; returns the unregister function. */
  addResource(h: ResourceHooks): () => void {
    this.resources.push(h);
    return () => {
      const i = this.resources.indexOf(h);
      if (i >= 0) this.resources.splice(i, 1);
    };
  }

  /** Lifecycle points, called by fork.ts, exec.ts and exit.ts only. */
  forked(parent: number, child: number): void {
    // The child's slot of the state page is right before it learns its pid (a reused pid's counts are the old process's until then).
    this.waitChanged(parent);
    this.waitChanged(child);
    this.hooks.sigchldNone?.(child);
    for (const r of this.resources) r.onFork?.(parent, child);
  }

  execed(pid: number): void {
    for (const r of this.resources) r.onExec?.(pid);
  }

  exited(pid: number): void {
    for (const r of this.resources) r.onExit?.(pid);
  }

  nsState(): NamespaceState {
    return this.ns.getSnapshot().value as NamespaceState;
  }

  inUse = (n: number): boolean => this.procs.has(n) || this.threads.has(n) || this.pidRefs.has(n);

  /** alloc_pid: the next free number, or 0 when none is left. */
  allocPid(): number {
    const pid = nextPid(this.lastPid, this.config.pidMax, this.inUse);
    return pid;
  }

  /**
   * A number was taken by a new process or thread: the cursor moves to it and the task counts
   * grow. Plain counters, not the namespace actor's context: no transition reads them but the
   * last task's end (taskGone), so a fork costs the namespace no xstate step.
   */
  private pidAllocated(pid: number): void {
    this.lastPid = pid;
    this.tasks++;
    this.created++;
  }

  /** A process or thread released its number; the last one of a dying namespace ends it (ALL_GONE: over). */
  taskGone(): void {
    this.tasks--;
    if (this.tasks === 0 && this.nsState() === "dying") this.ns.send({ type: "ALL_GONE" });
  }

  /** `serve`'s new namespace after one that is over (namespace.ts, RENEW): numbered from 1 again. */
  renew(): void {
    this.ns.send({ type: "RENEW" });
    this.lastPid = 0;
    this.tasks = 0;
    this.created = 0;
  }

  /** A new process actor, which stands for its leader thread too (actors/leader.ts; `input.blocked` is the leader's mask). */
  spawnProcess(input: ProcessInput): ProcessActor {
    // The leader's reference first: the spawn's record reads its mask there.
    const l = new LeaderThread(input.pid, input.blocked ?? 0n);
    this.threads.set(input.pid, l);
    const a = (l.proc = this.spawn(processMachine, procId(input.pid), input));
    this.procs.set(input.pid, a);
    this.pidAllocated(input.pid);
    this.ref(input.pgid);
    this.ref(input.sid);
    this.joinPgrp(input.pid, input.pgid);
    return a;
  }

  /** A new thread actor for a thread other than the leader; `blocked` is its starting signal mask (the creator's: clone copies it). */
  spawnThread(tid: number, pid: number, blocked = 0n): ThreadActor {
    // The reference first, as a leader's (spawnProcess).
    const t = new OtherThread(tid, blocked);
    this.threads.set(tid, t);
    t.actor = this.spawn(threadMachine, threadId(tid), { tid, pid });
    this.pidAllocated(tid);
    return t.actor;
  }

  /** A non-leader thread's number is released when it exits (release_task). */
  dropThread(tid: number, notify = true): void {
    const t = this.threads.get(tid);
    if (!t) return;
    if (t instanceof OtherThread) this.release(t.actor);
    this.threads.delete(tid);
    if (notify) this.hooks.threadGone(tid);
  }

  /** A process is gone for good (reaped or aborted): its actor stops and its number frees. */
  dropProcess(pid: number): void {
    const p = this.procs.get(pid);
    if (!p) return;
    const c = p.getSnapshot().context;
    // Normally released at exit already; this covers every other way a process goes.
    this.exited(pid);
    this.unref(c.pgid);
    this.unref(c.sid);
    this.leavePgrp(pid, c.pgid);
    this.release(p);
    this.procs.delete(pid);
    this.dropThread(pid, false);
    this.childWait.delete(pid);
    this.waitChanged(pid);
    if (c.ppid > 0) this.waitChanged(c.ppid);
    this.taskGone();
    this.hooks.processGone?.(pid);
  }

  ref(n: number): void {
    this.pidRefs.set(n, (this.pidRefs.get(n) ?? 0) + 1);
  }

  unref(n: number): void {
    const k = (this.pidRefs.get(n) ?? 0) - 1;
    if (k <= 0) this.pidRefs.delete(n);
    else this.pidRefs.set(n, k);
  }

  private joinPgrp(pid: number, pgid: number): void {
    let g = this.pgrps.get(pgid);
    if (!g) this.pgrps.set(pgid, (g = new Set()));
    g.add(pid);
  }

  private leavePgrp(pid: number, pgid: number): void {
    const g = this.pgrps.get(pgid);
    if (!g) return;
    g.delete(pid);
    if (g.size === 0) this.pgrps.delete(pgid);
  }

  /** change_pid(PIDTYPE_PGID / PIDTYPE_SID): moves a process to another group and session. */
  setPgrp(pid: number, pgid: number, sid: number): void {
    const p = this.procs.get(pid);
    if (!p) return;
    const c = p.getSnapshot().context;
    if (c.pgid === pgid && c.sid === sid) return;
    this.ref(pgid);
    this.ref(sid);
    this.unref(c.pgid);
    this.unref(c.sid);
    this.leavePgrp(pid, c.pgid);
    this.joinPgrp(pid, pgid);
    p.send({ type: "SET_PGRP", pgid, sid });
  }

  /** The members of a process group (empty when none). */
  pgrp(pgid: number): ReadonlySet<number> {
    return this.pgrps.get(pgid) ?? new Set();
  }

  proc(pid: number): ProcessActor | undefined {
    return this.procs.get(pid);
  }

  ctx(pid: number): ProcessContext | undefined {
    return this.procs.get(pid)?.getSnapshot().context;
  }

  state(pid: number): ProcessState | undefined {
    return this.procs.get(pid)?.getSnapshot().value as ProcessState | undefined;
  }

  waitQueue(pid: number): WaitQueue {
    let q = this.childWait.get(pid);
    if (!q) this.childWait.set(pid, (q = new WaitQueue()));
    return q;
  }

  /** Wakes the parent's waiters: one of its children changed state. */
  notifyParent(ppid: number): void {
    this.waitChanged(ppid);
    this.childWait.get(ppid)?.wake();
  }

  /** What a wait of `pid` may see changed: the hook is told (its state page slot is rewritten before the next reply or SIGCHLD ring). */
  waitChanged(pid: number): void {
    this.hooks.waitChanged?.(pid);
  }
}
