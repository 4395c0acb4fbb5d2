/**
 * The TypeScript guest library: a process's (or thread's) proxy, one typed method per
 * call. A new process connects with `Guest.connect()`: it claims the pid its parent
 * reserved (BLINKD_TOKEN in its environment) or registers afresh.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { createActor, type Actor } from "xstate";
import { proxyMachine } from "../machine/proxy.js";
import type { ArgsOf, CallName } from "../protocol/index.js";
import { exited, signaled } from "../machine/wstatus.js";
import { ClientConnection, type CallResult } from "./connection.js";
import { guestSocket } from "./locate.js";
import { DaemonGoneError } from "./errors.js";

export interface ConnectOptions {
  readonly socket?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Signal delivery: 0 = as messages on the connection (default), 1 = as host signals. */
  readonly delivery?: number;
  readonly exe?: string;
  readonly argv?: string[];
}

export interface ForkOptions {
  readonly stdio?: StdioOptions;
  readonly env?: NodeJS.ProcessEnv;
  /** The program to run; default this Node.js. */
  readonly command?: string;
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/** The host wait status of a child process that Node reports as (code, signal). */
export function hostWaitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return signaled(signalNumbers[signal] ?? 9);
  return exited(code ?? 0);
}

export class Guest {
  readonly proxy: Actor<typeof proxyMachine>;
  private cachedPid = 0;

  private constructor(readonly conn: ClientConnection) {
    this.proxy = createActor(proxyMachine, { input: { socket: conn.socketPath } });
    this.proxy.start();
    this.proxy.send({ type: "OPEN" });
    conn.onGone = (reason) => this.proxy.send({ type: "GONE", reason });
  }

  /** Connects this process as a guest: claims a reservation from BLINKD_TOKEN or registers. */
  static async connect(opts: ConnectOptions = {}): Promise<Guest> {
    const env = opts.env ?? process.env;
    const conn = await ClientConnection.open(opts.socket ?? guestSocket(env));
    const g = new Guest(conn);
    await conn.hello("guest", `blinkd-ts pid ${process.pid}`);
    g.proxy.send({ type: "HELLO" });
    const token = env.BLINKD_TOKEN;
    if (token) {
      // The token is this process's alone: its own children must not see it.
      delete env.BLINKD_TOKEN;
      const r = await conn.call("claim", { token, hostpid: process.pid });
      g.bound(r.out.pid, r.result);
      // Node.js starts a child as fork + exec: the child runs its own program now.
      if (r.out.pid === r.result) await conn.call("execve", { exe: opts.exe ?? process.execPath, argv: opts.argv ?? process.argv });
    } else {
      const pid = (
        await conn.call("register", {
          hostpid: process.pid,
          exe: opts.exe ?? process.execPath,
          argv: opts.argv ?? process.argv,
          delivery: opts.delivery ?? 0,
        })
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

  /** Makes a call through the proxy. */
  async call<N extends CallName>(name: N, args: ArgsOf<N>, opts: { signal?: AbortSignal } = {}): Promise<CallResult<N>> {
    const snap = this.proxy.getSnapshot();
    if (snap.value === "gone") throw new DaemonGoneError(snap.context.reason);
    this.proxy.send({ type: "SENT" });
    try {
      return await this.conn.call(name, args, opts);
    } finally {
      this.proxy.send({ type: "ANSWERED" });
    }
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

  async execve(exe: string, argv: string[]): Promise<void> {
    await this.call("execve", { exe, argv });
  }

  async execNative(exe: string, argv: string[]): Promise<void> {
    await this.call("exec_native", { exe, argv });
    this.proxy.send({ type: "ENDED" });
  }

  /** exit_group(2) in the daemon, then the host process exits with the same status. */
  async exit(status: number): Promise<never> {
    try {
      await this.call("exit_group", { status });
    } finally {
      this.proxy.send({ type: "ENDED" });
      process.exit(status & 0xff);
    }
  }

  /** Ends the connection without exiting the host process (its close marks the process dead unless it exited). */
  close(): void {
    this.conn.close();
  }
}
