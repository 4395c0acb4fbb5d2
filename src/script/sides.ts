/**
 * The two places a scenario runs. blinkd: a fresh daemon in this process (its own prefix,
 * so PIDs start at 1) whose guests are Node.js agents (agent.ts), init first, as `blinkd
 * run` starts its command. Linux: linux-agent.c, built with cc, as PID 1 of a new PID
 * namespace (`unshare --pid --fork`), which needs root.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import { startDaemon } from "../server/daemon.js";
import { reserveFromOutside, reportStatus } from "../actors/lifecycle.js";
import { hostWaitStatus } from "../client/guest.js";
import { Errno } from "../protocol/errno.js";
import { table } from "../protocol/index.js";
import type { Kernel } from "../actors/kernel.js";
import type { AgentInfo, Side } from "./coordinator.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/script → the package root. */
const ROOT = path.resolve(here, "../../..");
const TS_AGENT = path.join(here, "agent.js");
const C_AGENT_SOURCE = path.join(ROOT, "src/script/linux-agent.c");

/** The protocol calls a scenario needs that this daemon lacks. */
export function missingCalls(needs: readonly string[]): string[] {
  return needs.filter((c) => !table.byName.has(c));
}

export class BlinkdSide implements Side {
  readonly label = "blinkd";
  readonly barrier = true;
  readonly ended: Promise<number>;
  private endedWith!: (s: number) => void;
  private scope: Scope.CloseableScope | undefined;
  private kernel!: Kernel;
  private init: ChildProcess | undefined;
  private initExited: Promise<void> = Promise.resolve();
  private readonly prefix = fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-script-"));

  constructor(private readonly opts: { trace?: boolean } = {}) {
    this.ended = new Promise((r) => (this.endedWith = r));
  }

  async start(coord: string): Promise<void> {
    const scope = (this.scope = Effect.runSync(Scope.make()));
    const d = await Effect.runPromise(
      Scope.extend(
        startDaemon({ mode: "run", prefix: this.prefix, trace: this.opts.trace ?? false, onNamespaceOver: (s) => this.endedWith(s) }),
        scope,
      ),
    );
    this.kernel = d.core.kernel;
    const argv = [process.execPath, TS_AGENT, "init"];
    const r = reserveFromOutside(this.kernel, process.execPath, argv);
    if (r instanceof Errno) throw new Error(`cannot reserve PID 1: ${r.message}`);
    const child = (this.init = spawn(process.execPath, [TS_AGENT, "init"], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, BLINKD_SOCKET: d.socket, BLINK_PREFIX: d.prefix, BLINKD_TOKEN: r.token, BLINKD_SCRIPT_COORD: coord },
    }));
    // As `blinkd run`: the launcher is init's parent outside the namespace and reports its real end.
    this.initExited = new Promise((resolve) => {
      child.once("exit", (code, sig) => {
        reportStatus(this.kernel, r.pid, hostWaitStatus(code, sig));
        resolve();
      });
      child.once("error", () => {
        reportStatus(this.kernel, r.pid, 127 << 8);
        resolve();
      });
    });
  }

  blockedIn(): boolean {
    return false;
  }

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

  killInit(a: AgentInfo): void {
    try {
      process.kill(a.hostpid, "SIGKILL");
    } catch {
      /* gone already */
    }
  }

  async close(): Promise<void> {
    this.init?.kill("SIGKILL");
    await this.initExited;
    if (this.scope) await Effect.runPromise(Scope.close(this.scope, Exit.void));
    fs.rmSync(this.prefix, { recursive: true, force: true });
  }
}

/** Why the Linux side cannot run here, or undefined when it can. */
export function linuxUnavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  const cc = spawnSync("cc", ["--version"], { stdio: "ignore" });
  if (cc.status !== 0) return "no C compiler (cc)";
  const u = spawnSync("unshare", ["--pid", "--fork", "true"], { encoding: "utf8" });
  if (u.error) return `no unshare (${u.error.message})`;
  if (u.status !== 0) return `unshare --pid --fork fails (${(u.stderr || "").trim() || `status ${u.status}`}): it needs root`;
  return undefined;
}

/** Builds linux-agent.c once per source version, in a cache shared by concurrent runs. */
export function buildLinuxAgent(): string {
  const src = fs.readFileSync(C_AGENT_SOURCE);
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const dir = path.join(os.tmpdir(), `blinkd-script-${process.getuid?.() ?? 0}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const bin = path.join(dir, `linux-agent-${hash}`);
  if (fs.existsSync(bin)) return bin;
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync("cc", ["-O1", "-Wall", "-o", tmp, C_AGENT_SOURCE], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cc could not build ${C_AGENT_SOURCE}:\n${r.stderr}`);
  fs.renameSync(tmp, bin);
  return bin;
}

/** /proc/PID/stat's fields after the command: state, ppid, pgrp, … */
function procFields(hostpid: number): string[] | undefined {
  try {
    const s = fs.readFileSync(`/proc/${hostpid}/stat`, "latin1");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

const procStat = (hostpid: number): string | undefined => procFields(hostpid)?.[0];

export class LinuxSide implements Side {
  readonly label = "linux";
  readonly barrier = false;
  readonly ended: Promise<number>;
  private endedWith!: (s: number) => void;
  private proc: ChildProcess | undefined;

  constructor() {
    this.ended = new Promise((r) => (this.endedWith = r));
  }

  async start(coord: string): Promise<void> {
    const bin = buildLinuxAgent();
    const p = (this.proc = spawn("unshare", ["--pid", "--fork", bin, coord, "init"], { stdio: ["ignore", "ignore", "inherit"] }));
    p.once("exit", (code, sig) => this.endedWith(hostWaitStatus(code, sig)));
    p.once("error", (e) => {
      process.stderr.write(`blinkd script --linux: cannot start unshare: ${e.message}\n`);
      this.endedWith(127 << 8);
    });
  }

  /** /proc/PID/syscall starts with the number of the call the process is blocked in ("running" otherwise). */
  blockedIn(a: AgentInfo, syscall: number): boolean {
    try {
      const s = fs.readFileSync(`/proc/${a.hostpid}/syscall`, "latin1");
      return s.split(" ")[0] === String(syscall) && procStat(a.hostpid) === "S";
    } catch {
      return false;
    }
  }

  state(a: AgentInfo): "dead" | "stopped" | "running" {
    const st = procStat(a.hostpid);
    if (st === undefined || st === "Z" || st === "X") return "dead";
    return st === "T" || st === "t" ? "stopped" : "running";
  }

  pgid(a: AgentInfo): number | undefined {
    const f = procFields(a.hostpid);
    return f ? Number(f[2]) : undefined;
  }

  sid(a: AgentInfo): number | undefined {
    const f = procFields(a.hostpid);
    return f ? Number(f[3]) : undefined;
  }

  killInit(a: AgentInfo): void {
    try {
      process.kill(a.hostpid, "SIGKILL");
    } catch {
      /* gone already */
    }
  }

  async close(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const p = this.proc;
      await new Promise<void>((resolve) => {
        p.once("exit", () => resolve());
        setTimeout(() => {
          p.kill("SIGKILL");
        }, 5000).unref();
      });
    }
  }
}
