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
import { reserveFromOutside } from "../../actors/fork.js";
import { reportStatus } from "../../actors/exit.js";
import { hostWaitStatus } from "../../client/guest.js";
import { Errno } from "../../protocol/errno.js";
import { table } from "../../protocol/index.js";
import type { DELIVERY } from "../../protocol/calls/session.js";
import type { Kernel } from "../../actors/kernel.js";
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
  protected kernel!: Kernel;
  private init: ChildProcess | undefined;
  private initExited: Promise<void> = Promise.resolve();
  private readonly prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-script-"));

  constructor(private readonly opts: { trace?: boolean } = {}) {
    this.ended = new Promise((r) => (this.endedWith = r));
  }

  /** init's command, given the coordinator's socket. */
  protected abstract initCommand(coord: string): InitCommand;

  async start(coord: string): Promise<void> {
    const scope = (this.scope = Effect.runSync(Scope.make()));
    const d = (this.daemon = await Effect.runPromise(
      Scope.extend(
        startDaemon({ mode: "run", prefix: this.prefix, trace: this.opts.trace ?? false, onNamespaceOver: (s) => this.endedWith(s) }),
        scope,
      ),
    ));
    this.kernel = d.core.kernel;
    const c = this.initCommand(coord);
    const r = reserveFromOutside(this.kernel, c.image.exe, c.image.argv, c.delivery);
    if (r instanceof Errno) throw new Error(`cannot reserve PID 1: ${r.message}`);
    const child = (this.init = spawn(c.command, c.args, { stdio: ["ignore", "ignore", "inherit"], env: c.env(d, r.token) }));
    // As `blinkd run`: the launcher is init's parent outside the namespace and reports its real end.
    this.initExited = new Promise((resolve) => {
      child.once("exit", (code, sig) => {
        reportStatus(this.kernel, r.pid, hostWaitStatus(code, sig));
        resolve();
      });
      child.once("error", (e) => {
        process.stderr.write(`blinkd script (${this.label}): cannot start ${c.command}: ${e.message}\n`);
        reportStatus(this.kernel, r.pid, 127 << 8);
        resolve();
      });
    });
  }

  abstract blockedIn(a: AgentInfo, syscall: number): boolean;

  state(a: AgentInfo): "dead" | "stopped" | "running" {
    const s = this.kernel.state(a.pid);
    if (s === undefined || s === "zombie" || s === "reaped" || s === "aborted") return "dead";
    return (this.kernel.ctx(a.pid)?.job.stopped ?? 0) !== 0 ? "stopped" : "running";
  }

  pgid(a: AgentInfo): number | undefined {
    return this.kernel.ctx(a.pid)?.pgid;
  }

  sid(a: AgentInfo): number | undefined {
    return this.kernel.ctx(a.pid)?.sid;
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
