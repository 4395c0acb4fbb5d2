/**
 * The Linux side: linux-agent.c, built with cc, as PID 1 of a new PID namespace
 * (`unshare --pid --fork`), which needs root. The host's /proc tells what each process is
 * and when it is blocked in a call. The blink side (blink.ts) runs the same program in blink.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostWaitStatus } from "../../client/guest.js";
import type { AgentInfo, Side } from "../coordinator.js";
import { C_AGENT_SOURCE } from "../files.js";


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
