/**
 * The daemon's state apart from its sockets: the kernel (registry actors), the
 * connections by thread, and the hooks through which the kernel reaches host processes
 * and connections.
 */
import type * as net from "node:net";
import { Kernel, defaultKernelConfig, type KernelConfig } from "../actors/kernel.js";
import { exitGroup } from "../actors/lifecycle.js";
import { signaled } from "../machine/wstatus.js";
import { Connection } from "./connection.js";
import { defaultLimits, type Limits } from "./limits.js";
import { hostStartTime, signalHost } from "./hostproc.js";

export interface CoreOptions {
  readonly kernel?: Partial<KernelConfig>;
  readonly limits?: Partial<Limits>;
  readonly trace?: boolean;
  readonly log?: (line: string) => void;
  /** Called once when the namespace is over (init died and everything is gone). */
  readonly onNamespaceOver?: (initStatus: number) => void;
}

const SIGKILL = 9;

export class ServerCore {
  readonly kernel: Kernel;
  readonly limits: Limits;
  readonly trace: boolean;
  readonly log: (line: string) => void;
  readonly connections = new Set<Connection>();
  private readonly byTid = new Map<number, Connection>();
  private readonly hostStart = new Map<number, string | undefined>();
  nextConnId = 1;

  constructor(opts: CoreOptions = {}) {
    this.limits = { ...defaultLimits, ...opts.limits };
    this.trace = opts.trace ?? false;
    this.log = opts.log ?? ((l) => process.stderr.write(`blinkd: ${l}\n`));
    this.kernel = new Kernel(
      { ...defaultKernelConfig, ...opts.kernel },
      {
        killHost: (_pid, hostpid, signal) => {
          signalHost(hostpid, this.hostStart.get(hostpid), signal);
        },
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
  }

  accept(sock: net.Socket): Connection | undefined {
    if (this.connections.size >= this.limits.maxConnections) {
      this.log(`refusing a connection: ${this.limits.maxConnections} connections are open`);
      sock.destroy();
      return undefined;
    }
    const c = new Connection(sock, this);
    this.connections.add(c);
    return c;
  }

  bound(c: Connection): void {
    this.byTid.set(c.tid, c);
    if (!this.hostStart.has(c.hostpid)) this.hostStart.set(c.hostpid, hostStartTime(c.hostpid));
  }

  rebound(c: Connection, tid: number): void {
    this.byTid.delete(c.tid);
    this.byTid.set(tid, c);
  }

  connection(tid: number): Connection | undefined {
    return this.byTid.get(tid);
  }

  /** A closed connection whose thread had not ended is the death of its process (SIGKILL unless a reaper says otherwise). */
  connectionClosed(c: Connection): void {
    this.connections.delete(c);
    if (c.role !== "guest") return;
    this.hostStart.delete(c.hostpid);
    if (this.byTid.get(c.tid) === c) this.byTid.delete(c.tid);
    if (c.ended || c.detached) return;
    const state = this.kernel.state(c.pid);
    if (state === "running") exitGroup(this.kernel, c.pid, signaled(SIGKILL), true);
  }

  /** Closes every connection (daemon shutdown). */
  closeAll(): void {
    for (const c of [...this.connections]) c.close();
  }
}
