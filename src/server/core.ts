/**
 * The daemon's state apart from its sockets: the kernel (registry actors), the
 * connections by thread, and the hooks through which the kernel reaches host processes
 * and connections.
 */
import type * as net from "node:net";
import { Kernel, defaultKernelConfig, type KernelConfig } from "../actors/kernel.js";
import { exitGroup, waitCounts } from "../actors/exit.js";
import { signaled } from "../machine/wstatus.js";
import { SIG } from "../machine/sigset.js";
import { Connection } from "./connection.js";
import { frame } from "../protocol/frame.js";
import { EVENT } from "../protocol/messages.js";
import { eventMessage } from "../protocol/events.js";
import { defaultLimits, fitToDescriptors, type Limits } from "./limits.js";
import { Deadlines } from "./deadlines.js";
import { hostCreds, hostStartTime, signalHost } from "./hostproc.js";
import { addCheck } from "../actors/invariants.js";
import { liveHeap } from "./memory.js";
import type { StatePage } from "./statepage.js";

/** Heap a namespace may hold beyond its start before the checker calls it a leak: a margin, and a generous figure per task and connection. */
const HEAP_SLACK = 16 << 20;
const HEAP_PER_TASK = 64 << 10;
import { EventLog } from "../actors/eventlog.js";
import { Outside } from "./outside.js";
import type { DaemonView, ParkedCall } from "../syscalls/types.js";

export interface CoreOptions {
  readonly kernel?: Partial<KernelConfig>;
  readonly limits?: Partial<Limits>;
  readonly trace?: boolean;
  readonly log?: (line: string) => void;
  /** Called once when the namespace is over (init died and everything is gone). */
  readonly onNamespaceOver?: (initStatus: number) => void;
}

/** How long a closed connection's socket lingers for the client to read its last messages (Connection.close). */
const LINGER_MS = 2000;

export class ServerCore implements DaemonView {
  readonly kernel: Kernel;
  /** What the entry points (`blinkd run`, scenarios) do to the namespace from outside it. */
  readonly outside: Outside;
  /** Actor transitions and calls, for `blinkd events`. */
  readonly events: EventLog;
  readonly limits: Limits;
  /** Each new connection's handshake deadline (limits.handshakeTimeoutMs), behind one timer. */
  readonly hellos: Deadlines;
  readonly trace: boolean;
  readonly log: (line: string) => void;
  readonly connections = new Set<Connection>();
  private readonly byTid = new Map<number, Connection>();
  /**
   * The host start time of each process that left emulation (exec_native), read while it
   * was alive and making that call: a native process has no connection whose close would
   * tell of its death, so a host signal sent to it later goes only to the same host process,
   * not to a program that reused its host pid. A connected guest needs no such check: its
   * host process holds the connection, whose close is its death.
   */
  private readonly nativeStart = new Map<number, { hostpid: number; start: string | undefined }>();
  private connIds = 1;
  /** The state page guests map (statepage.ts), once the daemon listens; undefined without one. */
  statePage: StatePage | undefined;
  /** Processes whose state page counts may have changed since they were last written. */
  private readonly waitDirty = new Set<number>();
  private waitFlushQueued = false;
  /** Bytes of unfinished frames held for all connections (limits.maxBuffered): changed only through `holdBuffered`. */
  private bufferedBytes = 0;

  /** A new connection's number (`blinkd ps`, the event log). */
  newConnectionId(): number {
    return this.connIds++;
  }

  /** Bytes of unfinished frames held for all connections. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * A connection now holds `delta` more (or, negative, fewer) bytes of unfinished frames;
   * returns an error sentence when it grew the daemon's total past limits.maxBuffered.
   */
  holdBuffered(delta: number): string | undefined {
    this.bufferedBytes += delta;
    if (delta > 0 && this.bufferedBytes > this.limits.maxBuffered)
      return `the daemon holds ${this.bufferedBytes} bytes of unfinished frames, over its limit of ${this.limits.maxBuffered}`;
    return undefined;
  }

  constructor(opts: CoreOptions = {}) {
    this.trace = opts.trace ?? false;
    this.log = opts.log ?? ((l) => process.stderr.write(`blinkd: ${l}\n`));
    const fit = fitToDescriptors({ ...defaultLimits, ...opts.limits });
    this.limits = fit.limits;
    if (fit.lowered) this.log(fit.lowered);
    this.hellos = new Deadlines(this.limits.handshakeTimeoutMs);
    this.kernel = new Kernel(
      { ...defaultKernelConfig, ...opts.kernel },
      {
        hostCreds,
        killHost: (pid, hostpid, signal) => {
          // The state page before any ring (spec/protocol.md §10.1): the bell of the SIGCHLD it
          // rings for and the counts of the process rung (the zombie or the stop it rings for is
          // there now), with every other slot changed so far, each in one pwrite.
          if (this.statePage) {
            if (signal === SIG.SIGCHLD || signal === "SIGCHLD") this.writeCounts(pid);
            this.statePage.flush();
          }
          // Rung now, before any reply this step writes: a parent's wait4 that the exit wakes
          // returns after the child's SIGCHLD handler ran, as Linux's does (exit_notify queues
          // the signal, then wakes the wait); rung after the reply, the preload's returned first
          // (spec/native/statepage.c order; bench/README.md, issue 18's ninth round).
          const n = this.nativeStart.get(pid);
          signalHost(hostpid, n?.hostpid === hostpid ? n.start : undefined, signal);
        },
        processGone: (pid) => void this.nativeStart.delete(pid),
        waitChanged: (pid) => this.waitChanged(pid),
        sigchldQueued: (pid) => {
          this.statePage?.bell(pid);
          this.pageChanged();
        },
        sigchldNone: (pid) => {
          this.statePage?.quiet(pid);
          this.pageChanged();
        },
        signalEvent: (tid, i) => this.byTid.get(tid)?.emit(eventMessage("SIGNAL", i)),
        ptraceStop: (tid) => this.byTid.get(tid)?.emit(eventMessage("PTRACE_STOP", {})),
        reachable: (tid) => this.byTid.has(tid),
        namespaceOver: (status) => opts.onNamespaceOver?.(status),
        threadGone: (tid) => {
          const c = this.byTid.get(tid);
          if (c) {
            this.byTid.delete(tid);
            c.threadEnded();
          }
        },
      },
    );
    this.outside = new Outside(this.kernel);
    this.events = new EventLog(this.kernel, this.limits.eventHistory);
    this.addChecks();
  }

  /**
   * A process's wait may see something new: its state page counts are rewritten before the
   * next frame the daemon writes to any guest (Connection.write) and before a SIGCHLD ring,
   * so a guest never learns of a change (a reply, a doorbell) before its slot shows it; and
   * at the latest in a microtask, for a change a guest may meet by other means.
   */
  private waitChanged(pid: number): void {
    if (!this.statePage) return;
    this.waitDirty.add(pid);
    this.pageChanged();
  }

  /** A slot of the state page changed (the bell, SEEN) or may have (counts): written in a microtask at the latest. */
  private pageChanged(): void {
    if (this.waitFlushQueued || !this.statePage) return;
    this.waitFlushQueued = true;
    queueMicrotask(() => this.flushWaitCounts());
  }

  /**
   * Counts the processes marked since the last time, then writes every slot that changed, each
   * once: the bell, SEEN and the counts one step changed in one pwrite per slot.
   */
  flushWaitCounts(): void {
    this.waitFlushQueued = false;
    if (this.waitDirty.size) {
      for (const pid of this.waitDirty) this.writeCounts(pid);
      this.waitDirty.clear();
    }
    this.statePage?.flush();
  }

  /** Sets pid's counts in the page's mirror (written at the next flush). */
  private writeCounts(pid: number): void {
    const n = waitCounts(this.kernel, pid);
    this.statePage?.counts(pid, n.children, n.waitable, n.clones);
  }

  /** The daemon's share of the consistency checker: connections, parked calls, buffers, memory. */
  private addChecks(): void {
    // The heap at start without the full collection liveHeap() forces (tens of ms of every
    // `blinkd run`'s start-up): heapUsed is the live heap plus the young garbage, so the
    // baseline is at most a few MB more lenient than after a GC.
    const heapStart = process.memoryUsage().heapUsed;
    addCheck(this.kernel, "connections", (problem, count, counts) => {
      const k = this.kernel;
      let buffered = 0;
      let parked = 0;
      count("connections", 0);
      count("lingering", this.lingering.size);
      for (const c of this.connections) {
        count("connections", 1);
        parked += c.parkedCount;
        buffered += c.bufferedBytes;
        if (c.role !== "guest" || c.ended) continue;
        const t = k.threads.get(c.tid);
        if (!t || t.getSnapshot().value !== "running") problem(`connection ${c.id} stands for thread ${c.tid}, which is ${t ? String(t.getSnapshot().value) : "gone"}`);
        if (this.byTid.get(c.tid) !== c) problem(`connection ${c.id} stands for thread ${c.tid}, but the thread is bound to another connection`);
      }
      // A running thread with no connection can never die: its close is its death.
      for (const [tid, t] of k.threads) if (t.getSnapshot().value === "running" && !this.byTid.has(tid)) problem(`thread ${tid} runs, but no connection stands for it: nothing can end it`);
      for (const [tid, c] of this.byTid) if (!this.connections.has(c)) problem(`thread ${tid} is bound to a connection that is closed`);
      for (const pid of this.nativeStart.keys()) if (!k.procs.has(pid)) problem(`the host start time of process ${pid} is kept, but the process is gone: leaked`);
      // Every sleeper on a wait queue is a parked call (a waker left behind is a leak).
      let waiters = 0;
      for (const q of k.childWait.values()) waiters += q.size;
      if (waiters > parked) problem(`${waiters} wakers sleep on wait queues, but only ${parked} calls are parked`);
      if (buffered !== this.buffered) problem(`the daemon counts ${this.buffered} buffered bytes, its connections hold ${buffered}`);
      count("parked", parked);
      // With no call parked, no file is held by a call in flight: every open file is named by a descriptor, and only by them.
      if (parked === 0) {
        if (counts.filesUnnamed) problem(`${counts.filesUnnamed} open files are named by no descriptor and held by no call: leaked`);
        if (counts.fileRefsBeyondDescriptors) problem(`open files hold ${counts.fileRefsBeyondDescriptors} references beyond their descriptors with no call in flight: leaked`);
      }
      count("bufferedBytes", buffered);
      const heap = liveHeap();
      count("heapStart", heapStart);
      count("heapNow", heap);
      const allowed = heapStart + HEAP_SLACK + HEAP_PER_TASK * (k.procs.size + k.threads.size + this.connections.size);
      if (heap > allowed) problem(`the heap holds ${heap} bytes after a full GC, over the ${allowed} its start (${heapStart}) and its ${k.procs.size} processes allow`);
    });
  }

  parkedCalls(tid: number): ParkedCall[] {
    return this.byTid.get(tid)?.parkedCalls() ?? [];
  }

  /** Connections accepted past maxConnections for control clients (limits.controlReserve). */
  controlOnly = 0;

  accept(sock: net.Socket): Connection | undefined {
    const open = this.connections.size + this.lingering.size;
    if (open >= this.limits.maxConnections && this.controlOnly < this.limits.controlReserve && open < this.limits.maxConnections + this.limits.controlReserve) {
      // A full table still lets `ps` and `check` in, to see why it is full: such a connection must say hello as control.
      const c = new Connection(sock, this, true);
      this.connections.add(c);
      this.controlOnly++;
      return c;
    }
    if (open >= this.limits.maxConnections) {
      const why = `refusing a connection: ${this.limits.maxConnections} connections are open (the limit)`;
      this.log(why);
      sock.on("error", () => {});
      sock.write(frame([EVENT, ...eventMessage("FATAL", { message: why })]));
      this.linger(sock);
      return undefined;
    }
    const c = new Connection(sock, this);
    this.connections.add(c);
    return c;
  }

  /** Sockets in their lingering close (Connection.close): they hold a descriptor until they go. */
  readonly lingering = new Set<net.Socket>();

  /** Half-closes `sock` after what was written, drops what the client still sends, and destroys it when the client closes or LINGER_MS pass. */
  linger(sock: net.Socket): void {
    if (sock.destroyed) return;
    this.lingering.add(sock);
    const timer = setTimeout(() => sock.destroy(), LINGER_MS);
    timer.unref();
    sock.once("close", () => {
      clearTimeout(timer);
      this.lingering.delete(sock);
    });
    sock.on("data", () => {});
    sock.end();
    // Reading may be paused (a client that did not read its replies): the drop needs it flowing.
    sock.resume();
  }

  bound(c: Connection): void {
    this.byTid.set(c.tid, c);
  }

  /** The connection's process left emulation (exec_native): remember which host process it is. */
  detached(c: Connection): void {
    if (c.hostpid > 1) this.nativeStart.set(c.pid, { hostpid: c.hostpid, start: hostStartTime(c.hostpid) });
  }

  rebound(c: Connection, tid: number): void {
    this.byTid.delete(c.tid);
    this.byTid.set(tid, c);
  }

  connection(tid: number): Connection | undefined {
    return this.byTid.get(tid);
  }

  private readonly drainWaiters: (() => void)[] = [];

  /** Resolves once no connection is open, or after `ms` (`blinkd run`'s wait for the namespace's last processes after init died). */
  drained(ms: number): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        // A waiter the timeout ended leaves the list (the last close empties it otherwise).
        const i = this.drainWaiters.indexOf(done);
        if (i >= 0) this.drainWaiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.drainWaiters.push(done);
    });
  }

  /** A closed connection whose thread had not ended is the death of its process (SIGKILL unless a reaper says otherwise). */
  connectionClosed(c: Connection): void {
    this.connections.delete(c);
    if (this.connections.size === 0) for (const done of this.drainWaiters.splice(0)) done();
    if (c.controlOnly) this.controlOnly--;
    if (c.role !== "guest") return;
    if (this.byTid.get(c.tid) === c) this.byTid.delete(c.tid);
    // A vfork child's claim waiting for this process's post learns that it will not come (actors/vfork.ts).
    this.kernel.vforks.arrived.wake();
    // At shutdown the kernel goes with its daemon: each guest hears it on its own connection
    // (spec/protocol.md §7.8), rather than as the deaths a closed connection otherwise means.
    if (c.ended || c.detached || this.shuttingDown) return;
    const state = this.kernel.state(c.pid);
    if (state === "running") exitGroup(this.kernel, c.pid, signaled(SIG.SIGKILL), true);
  }

  /**
   * Daemon shutdown: every connection is told why, then closed. A call still parked gets no
   * reply (its connection's close is the answer), so a client reports "daemon gone" with the reason.
   */
  private shuttingDown = false;

  closeAll(reason = "the daemon is shutting down"): void {
    this.shuttingDown = true;
    for (const c of [...this.connections]) {
      c.emit(eventMessage("FATAL", { message: reason }));
      c.close();
    }
  }
}
