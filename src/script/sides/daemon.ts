/**
 * What the two sides run by blinkd have in common: a fresh daemon in this process (its own
 * prefix, so PIDs start at 1) whose PID 1 is started as `blinkd run` starts its command,
 * and the daemon's own view of each process (state, group, session), which the
 * coordinator reads to settle steps. The subclasses say what init is: blinkd.ts a Node.js
 * agent, blink.ts the C agent in blink.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import { startDaemon, type Daemon } from "../../server/daemon.js";
import { hostWaitStatus } from "../../client/guest.js";
import { Errno } from "../../protocol/errno.js";
import { table } from "../../protocol/index.js";
import type { Outside } from "../../server/outside.js";
import type { DELIVERY } from "../../protocol/calls/session.js";
import type { AgentInfo, Side } from "../coordinator.js";

/** How init starts: the host command, and the environment beside the daemon's. */
export interface InitCommand {
  /** What the daemon records as init's exe and argv. */
  readonly image: { exe: string; argv: string[] };
  /** 0: a TypeScript guest takes signals as messages; 1: as host signals; 2: as host signals, rung also while blocked (signals.md §3, §4, §4.1). */
  readonly delivery: (typeof DELIVERY)[keyof typeof DELIVERY];
  readonly command: string;
  readonly args: string[];
  readonly env: (d: Daemon, token: string) => NodeJS.ProcessEnv;
}

export abstract class DaemonSide implements Side {
  abstract readonly label: string;
  abstract readonly barrier: boolean;
  readonly ended: Promise<number>;
  private endedWith!: (s: number) => void;
  private scope: Scope.CloseableScope | undefined;
  protected daemon!: Daemon;
  protected outside!: Outside;
  private init: ChildProcess | undefined;
  private initExited: Promise<void> = Promise.resolve();
  private readonly prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-script-"));

  /**
   * reserveTimeoutMs: how long a fork's reservation waits for the child's claim. The
   * coordinator waits one step's timeout for a child to start; the daemon must not call the
   * child dead sooner (a Node.js agent can take more than the default 10 s to start at load 14,
   * and its claim was then refused: "no such reservation").
   */
  constructor(private readonly opts: { trace?: boolean; reserveTimeoutMs?: number } = {}) {
    this.ended = new Promise((r) => (this.endedWith = r));
  }

  /** init's command, given the coordinator's socket. */
  protected abstract initCommand(coord: string): InitCommand;

  async start(coord: string): Promise<void> {
    const scope = (this.scope = Effect.runSync(Scope.make()));
    const d = (this.daemon = await Effect.runPromise(
      Scope.extend(
        startDaemon({
          mode: "run",
          prefix: this.prefix,
          trace: this.opts.trace ?? false,
          ...(this.opts.reserveTimeoutMs ? { kernel: { reserveTimeoutMs: this.opts.reserveTimeoutMs } } : {}),
          onNamespaceOver: (s) => this.endedWith(s),
        }),
        scope,
      ),
    ));
    this.outside = d.core.outside;
    const c = this.initCommand(coord);
    const r = this.outside.reserveInit(c.image.exe, c.image.argv, c.delivery);
    if (r instanceof Errno) throw new Error(`cannot reserve PID 1: ${r.message}`);
    const child = (this.init = spawn(c.command, c.args, { stdio: ["ignore", "ignore", "inherit"], env: c.env(d, r.token) }));
    // As `blinkd run`: the launcher is init's parent outside the namespace and reports its real end.
    this.initExited = new Promise((resolve) => {
      child.once("exit", (code, sig) => {
        this.outside.reportStatus(r.pid, hostWaitStatus(code, sig));
        resolve();
      });
      child.once("error", (e) => {
        process.stderr.write(`blinkd script (${this.label}): cannot start ${c.command}: ${e.message}\n`);
        this.outside.reportStatus(r.pid, 127 << 8);
        resolve();
      });
    });
  }

  abstract blockedIn(a: AgentInfo, syscall: number): boolean;

  state(a: AgentInfo): "dead" | "stopped" | "running" {
    const p = this.outside.process(a.pid);
    if (p === undefined || p.state === "zombie" || p.state === "reaped" || p.state === "aborted") return "dead";
    return p.stopped !== 0 ? "stopped" : "running";
  }

  pgid(a: AgentInfo): number | undefined {
    return this.outside.process(a.pid)?.pgid;
  }

  sid(a: AgentInfo): number | undefined {
    return this.outside.process(a.pid)?.sid;
  }

  /** init's host process is the one this side spawned. */
  killInit(): void {
    this.init?.kill("SIGKILL");
  }

  async close(): Promise<void> {
    this.init?.kill("SIGKILL");
    await this.initExited;
    if (this.scope) await Effect.runPromise(Scope.close(this.scope, Exit.void));
    fs.rmSync(this.prefix, { recursive: true, force: true });
  }
}

/** The protocol calls a scenario needs that this daemon lacks. */
export function missingCalls(needs: readonly string[]): string[] {
  return needs.filter((c) => !table.byName.has(c));
}
