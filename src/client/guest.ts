/**
 * The TypeScript guest library: a process's (or thread's) proxy, one typed method per
 * call. A new process connects with `Guest.connect()`: it claims the pid its parent
 * reserved (BLINKD_TOKEN in its environment) or registers afresh.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { createActor, type Actor } from "xstate";
import { proxyMachine } from "./proxy.js";
import type { CallPort } from "./call.js";
import { callByName, type ArgsOf, type CallName } from "../protocol/index.js";
import { exited, signaled } from "../protocol/linux/wait.js";
import { ClientConnection, settle, type CallResult } from "./connection.js";
import { guestSocket } from "../protocol/rendezvous.js";
import { DaemonGoneError, SyscallError } from "./errors.js";
import { parseEvent, type EventFields } from "../protocol/events.js";
import type { Reply } from "../protocol/messages.js";
import { E } from "../protocol/errno.js";
import { SA, SIG } from "../protocol/linux/signals.js";
import { SIGACTION } from "../protocol/calls/signal.js";
import { DELIVERY } from "../protocol/calls/session.js";

/** What a handled signal brings (siginfo_t's si_signo, si_pid, si_code, si_uid, si_status): the SIGNAL event's fields. */
export type SignalInfo = Readonly<EventFields<"SIGNAL">>;

export type SignalHandler = (info: SignalInfo) => void;
export type SignalAction = SignalHandler | "default" | "ignore";

export interface ConnectOptions {
  readonly socket?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Signal delivery: a DELIVERY code (DELIVERY.EVENTS, messages on the connection, by default; HOST, host signals; HOST_BLOCKED, host signals rung also while blocked). */
  readonly delivery?: number;
  readonly exe?: string;
  readonly argv?: string[];
  /**
   * A claimed child normally runs a new program (Node.js starts a child as fork + exec), so
   * the claim is followed by execve. False: the host process is a plain fork that has not
   * exec'd (setpgid on it from its parent then succeeds, as before exec in Linux).
   */
  readonly execed?: boolean;
  /**
   * What this process does when the daemon goes away (it dies, or shuts down) while the
   * process is its guest (spec/protocol.md §7.8): "kill" (the default) writes one line on
   * stderr and kills this process with SIGKILL, as Linux kills a PID namespace's processes
   * when its init dies; "throw" leaves it to the program (every later call fails with
   * DaemonGoneError), for a program that is not only a guest (a test runner, a tool).
   */
  readonly onDaemonGone?: "kill" | "throw";
  /**
   * The handlers a forked child inherits (fork copies them; a Node.js child, a new program
   * to the host, learns here which functions run them). Known before the claim, so that a
   * signal sent to the child before it claimed its pid, which the daemon hands over at the
   * claim, finds its handler. Only for a child that has not exec'd (execed: false).
   */
  readonly handlers?: ReadonlyMap<number, { readonly fn: SignalHandler; readonly flags: number }>;
}

export interface ForkOptions {
  readonly stdio?: StdioOptions;
  readonly env?: NodeJS.ProcessEnv;
  /** The program to run; default this Node.js. */
  readonly command?: string;
}

/** The host wait status of a child process that Node reports as (code, signal). */
export function hostWaitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return signaled((SIG as Record<string, number>)[signal] ?? SIG.SIGKILL);
  return exited(code ?? 0);
}

export class Guest {
  readonly proxy: Actor<typeof proxyMachine>;
  private cachedPid = 0;
  /** The handlers this process installed, with their SA_* flags. */
  private readonly handlers = new Map<number, { fn: SignalHandler; flags: number }>();
  private readonly listeners = new Set<(kind: number, fields: unknown[]) => void>();
  /** Numbers the blocking calls' actors (call:N, children of the proxy). */
  private calls = 0;

  /** This side ended the connection (close, exit): its end is not the daemon's. */
  private leaving = false;

  private constructor(
    readonly conn: ClientConnection,
    private readonly onDaemonGone: "kill" | "throw",
  ) {
    this.proxy = createActor(proxyMachine);
    this.proxy.start();
    this.proxy.send({ type: "OPEN" });
    conn.onGone = (reason) => {
      const bound = this.proxy.getSnapshot().value === "bound";
      this.proxy.send({ type: "GONE", reason });
      if (bound && !this.leaving && this.onDaemonGone === "kill") daemonGone(reason);
    };
    conn.onEvent = (kind, fields) => {
      const ev = parseEvent(kind, fields);
      if (ev?.name === "SIGNAL") this.signalArrived(ev.fields);
      for (const l of this.listeners) l(kind, fields);
    };
  }

  /** Every event the daemon sends this thread (signals, fatal errors), after the signal handlers ran. */
  onEvent(listener: (kind: number, fields: unknown[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A handled signal (delivery 0): interrupt the blocking calls in flight, as a signal
   * interrupts a sleeping syscall, then run the handler. A call interrupted under a
   * handler with SA_RESTART is made again; otherwise it fails with EINTR.
   */
  private signalArrived(info: SignalInfo): void {
    const h = this.handlers.get(info.signo);
    // get_signal: under SA_RESETHAND the action is SIG_DFL once its handler is chosen; the
    // daemon reset its copy as it sent this event, so no more events come for it.
    if (h && h.flags & SA.RESETHAND) this.handlers.delete(info.signo);
    this.proxy.send({ type: "SIGNAL", restart: ((h?.flags ?? 0) & SA.RESTART) !== 0 });
    h?.fn({ signo: info.signo, pid: info.pid, code: info.code, uid: info.uid, status: info.status });
  }

  /** Connects this process as a guest: claims a reservation from BLINKD_TOKEN or registers. */
  static async connect(opts: ConnectOptions = {}): Promise<Guest> {
    const env = opts.env ?? process.env;
    const conn = await ClientConnection.open(opts.socket ?? guestSocket(env));
    const g = new Guest(conn, opts.onDaemonGone ?? "kill");
    if (opts.execed === false) for (const [signo, h] of opts.handlers ?? []) g.adoptHandler(signo, h.fn, h.flags);
    await conn.hello("guest", `blinkd-ts pid ${process.pid}`);
    g.proxy.send({ type: "HELLO" });
    const token = env.BLINKD_TOKEN;
    if (token) {
      // The token is this process's alone: its own children must not see it.
      delete env.BLINKD_TOKEN;
      const fd = conn.proofFd;
      const r = await (fd === undefined ? conn.call("claim", { token, hostpid: process.pid }) : conn.call("claim_fd", { token, hostpid: process.pid, fd })).finally(() => conn.dropProof());
      g.bound(r.out.pid, r.result);
      // Node.js starts a child as fork + exec: the child runs its own program now.
      // Posted: the daemon takes it before this connection's next call, which needs no answer.
      if (r.out.pid === r.result && opts.execed !== false) await conn.post("execve", { exe: opts.exe ?? process.execPath, argv: opts.argv ?? process.argv });
    } else {
      const pid = (
        await conn.call("register", {
          hostpid: process.pid,
          exe: opts.exe ?? process.execPath,
          argv: opts.argv ?? process.argv,
          delivery: opts.delivery ?? DELIVERY.EVENTS,
        }).finally(() => conn.dropProof())
      ).result;
      g.bound(pid, pid);
    }
    return g;
  }

  private bound(pid: number, tid: number): void {
    this.cachedPid = pid;
    this.proxy.send({ type: "BOUND", pid, tid });
  }

  get socket(): string {
    return this.conn.socketPath;
  }

  /** Makes a call through the proxy; a blocking call can be interrupted by a handled signal. */
  async call<N extends CallName>(name: N, args: ArgsOf<N>, opts: { signal?: AbortSignal } = {}): Promise<CallResult<N>> {
    const snap = this.proxy.getSnapshot();
    if (snap.value === "gone") throw new DaemonGoneError(snap.context.reason);
    if (!callByName(name).blocks) return this.conn.call(name, args);
    return this.blockingCall(name, args, opts.signal);
  }

  /**
   * A call that may park, run on its own actor (call.ts, spawned by the proxy): the actor
   * decides (interrupt, restart, EINTR); this gives it the wire through its port and settles
   * the promise from its final state.
   */
  private blockingCall<N extends CallName>(name: N, args: ArgsOf<N>, abort: AbortSignal | undefined): Promise<CallResult<N>> {
    const id = `call:${++this.calls}`;
    let seq = 0;
    let last: Reply | undefined;
    let failure: Error | undefined;
    const port: CallPort = {
      request: () => {
        const r = this.conn.request(name, args);
        seq = r.seq;
        r.reply.then(
          (reply) => {
            last = reply;
            ref?.send({ type: "ANSWERED", result: reply.result, detail: reply.detail });
          },
          (e: Error) => {
            failure = e;
            ref?.send({ type: "GONE", reason: e.message });
          },
        );
      },
      interrupt: () => this.conn.interrupt(seq),
    };
    this.proxy.send({ type: "CALL", id, port });
    const ref = this.proxy.getSnapshot().context.calls[id];
    if (!ref) return Promise.reject(new DaemonGoneError(this.proxy.getSnapshot().context.reason));
    return new Promise<CallResult<N>>((resolve, reject) => {
      const onAbort = (): void => ref.send({ type: "ABORT" });
      const sub = ref.subscribe((s) => {
        if (s.status !== "done") return;
        sub.unsubscribe();
        abort?.removeEventListener("abort", onAbort);
        this.proxy.send({ type: "CALL_END", id });
        try {
          if (s.value === "answered") resolve(settle(name, last!));
          else if (s.value === "eintr") reject(new SyscallError(name, E.EINTR, s.context.detail));
          else reject(failure ?? new DaemonGoneError(s.context.reason));
        } catch (e) {
          reject(e as Error);
        }
      });
      ref.send({ type: "SEND" });
      if (abort?.aborted) onAbort();
      else abort?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * sigaction(2): installs a handler (run when the daemon delivers the signal as an event),
   * ignores the signal, or restores its default action; the daemon applies the default
   * actions itself. flags are SA_* bits (SA_RESTART, SA_NOCLDSTOP, SA_NOCLDWAIT).
   */
  async sigaction(signo: number, action: SignalAction, flags = 0): Promise<void> {
    const handler = action === "default" ? SIGACTION.SIG_DFL : action === "ignore" ? SIGACTION.SIG_IGN : SIGACTION.HANDLER;
    await this.call("rt_sigaction", { signo, handler, flags });
    if (typeof action === "function") this.handlers.set(signo, { fn: action, flags });
    else this.handlers.delete(signo);
  }

  /**
   * A handler this process inherited across fork(2): the daemon already has the
   * disposition (fork copies it), so nothing is sent; a Node.js child, a new program to
   * the host, only learns here which function runs it.
   */
  adoptHandler(signo: number, fn: SignalHandler, flags = 0): void {
    this.handlers.set(signo, { fn, flags });
  }

  /** kill(2). */
  async kill(pid: number, sig: number): Promise<void> {
    await this.call("kill", { pid, sig });
  }

  /** tkill(2). */
  async tkill(tid: number, sig: number): Promise<void> {
    await this.call("tkill", { tid, sig });
  }

  /** tgkill(2). */
  async tgkill(tgid: number, tid: number, sig: number): Promise<void> {
    await this.call("tgkill", { tgid, tid, sig });
  }

  /** sigprocmask(2) for this thread: how 0 = SIG_BLOCK, 1 = SIG_UNBLOCK, 2 = SIG_SETMASK; returns the old mask. */
  async sigprocmask(how: number, set: bigint): Promise<bigint> {
    return (await this.call("rt_sigprocmask", { how, set })).out.old;
  }

  /** sigpending(2). */
  async sigpending(): Promise<bigint> {
    return (await this.call("rt_sigpending", {})).out.set;
  }

  /** setresuid(2) as this process did it (0xffffffff keeps an id). */
  async setresuid(ruid: number, euid: number, suid: number): Promise<void> {
    await this.call("setresuid", { ruid, euid, suid });
  }

  async setpgid(pid: number, pgid: number): Promise<void> {
    await this.call("setpgid", { pid, pgid });
  }

  async getpgid(pid: number): Promise<number> {
    return (await this.call("getpgid", { pid })).result;
  }

  async getpgrp(): Promise<number> {
    return (await this.call("getpgrp", {})).result;
  }

  async setsid(): Promise<number> {
    return (await this.call("setsid", {})).result;
  }

  async getsid(pid: number): Promise<number> {
    return (await this.call("getsid", { pid })).result;
  }

  /** getpid(2), cached: a process's pid never changes. */
  getpid(): number {
    return this.cachedPid;
  }

  async getppid(): Promise<number> {
    return (await this.call("getppid", {})).result;
  }

  async gettid(): Promise<number> {
    return (await this.call("gettid", {})).result;
  }

  /**
   * fork(2) for Node.js guests: reserves the child's pid, starts `script` in a new
   * Node.js process that claims it, and reports the child's real host status when it
   * ends. A failed start aborts the reservation.
   */
  async fork(script: string, args: string[] = [], opts: ForkOptions = {}): Promise<{ pid: number; child: ChildProcess }> {
    const r = await this.call("fork", {});
    const pid = r.result;
    let child: ChildProcess;
    try {
      child = spawn(opts.command ?? process.execPath, opts.command ? args : [script, ...args], {
        env: { ...(opts.env ?? process.env), BLINKD_SOCKET: this.socket, BLINKD_TOKEN: r.out.token },
        stdio: opts.stdio ?? "inherit",
      });
    } catch (e) {
      await this.call("fork_abort", { pid }).catch(() => {});
      throw e;
    }
    let started = false;
    child.once("spawn", () => (started = true));
    child.once("error", () => {
      if (!started) void this.call("fork_abort", { pid }).catch(() => {});
    });
    child.once("exit", (code, signal) => {
      if (this.conn.isGone) return;
      void this.call("report_status", { pid, wstatus: hostWaitStatus(code, signal) }).catch(() => {});
    });
    return { pid, child };
  }

  /** Reserves a child without starting anything: for callers that fork the host process themselves. */
  async forkReserve(): Promise<{ pid: number; token: string }> {
    const r = await this.call("fork", {});
    return { pid: r.result, token: r.out.token };
  }

  /** wait4(2): resolves with the pid and Linux's status word. */
  async wait4(pid: number, options = 0, opts: { signal?: AbortSignal } = {}): Promise<{ pid: number; wstatus: number }> {
    const r = await this.call("wait4", { pid, options }, opts);
    return { pid: r.result, wstatus: r.out.wstatus };
  }

  /** waitid(2): resolves with the siginfo fields (all 0 when WNOHANG found nothing). */
  async waitid(idtype: number, id: number, options: number, opts: { signal?: AbortSignal } = {}): Promise<{ pid: number; uid: number; signo: number; status: number; code: number }> {
    return (await this.call("waitid", { idtype, id, options }, opts)).out;
  }

  /** prctl(PR_SET_CHILD_SUBREAPER, on). */
  async setChildSubreaper(on: boolean): Promise<void> {
    await this.call("prctl_set_child_subreaper", { value: on ? 1 : 0 });
  }

  /** prctl(PR_GET_CHILD_SUBREAPER). */
  async getChildSubreaper(): Promise<boolean> {
    return (await this.call("prctl_get_child_subreaper", {})).result !== 0;
  }

  /** execve(2) as the daemon sees it; the handlers go with the old image (execve(2): "handled signals are reset to default"). */
  async execve(exe: string, argv: string[]): Promise<void> {
    await this.call("execve", { exe, argv });
    this.handlers.clear();
  }

  async execNative(exe: string, argv: string[]): Promise<void> {
    this.leaving = true;
    await this.call("exec_native", { exe, argv });
    this.proxy.send({ type: "ENDED" });
  }

  /** exit_group(2) in the daemon, then the host process exits with the same status. */
  async exit(status: number): Promise<never> {
    this.leaving = true;
    try {
      // Posted (one connection per Node.js guest: no other thread's close can come first):
      // the daemon writes no reply to a process that is gone by the time it would arrive.
      await this.conn.post("exit_group", { status });
    } finally {
      this.proxy.send({ type: "ENDED" });
      process.exit(status & 0xff);
    }
  }

  /** Ends the connection without exiting the host process (its close marks the process dead unless it exited). */
  close(): void {
    this.leaving = true;
    this.conn.close();
  }
}

/** The daemon is gone: one line on stderr, then SIGKILL, as a PID namespace's processes die with its init (ConnectOptions.onDaemonGone). */
function daemonGone(reason: string): never {
  process.stderr.write(`blinkd guest (host pid ${process.pid}): the blinkd daemon is gone (${reason}): its namespace is over, so this process is killed (SIGKILL)\n`);
  process.kill(process.pid, "SIGKILL");
  throw new DaemonGoneError(reason);
}
