/**
 * A native C program as PID 1, under `blinkd run` (the preload) or in a real PID namespace
 * (`unshare --pid --fork --mount-proc`, as root), for tests that compare the two: its lines,
 * its exit status, and at each "inspect" line what the test reads of its /proc from outside
 * (under blinkd, the daemon's procfs through `blinkd procfs export`), after which it goes on.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { cli, tempPrefix } from "./daemon.js";
import { type Where, asInitArgv } from "./launch.js";

export type { Where } from "./launch.js";

export interface Ran {
  readonly lines: string[];
  readonly code: number | null;
}

export { isRoot } from "./root.js";

/** The real init of an unshare launcher: its only child. */
export function initOf(launcher: number): number {
  return Number(fs.readFileSync(`/proc/${launcher}/task/${launcher}/children`, "utf8").trim().split(/\s+/)[0]);
}

/** The namespace's /proc as seen from outside: the real one under unshare, the daemon's exported tree under blinkd. */
export async function procOf(where: Where, launcher: number, prefix: string): Promise<{ root: string; init: number }> {
  if (where === "linux") return { root: "/proc", init: initOf(launcher) };
  // blinkd's guests, native or in blink: the daemon's procfs
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-asinit-proc-")), "proc");
  const r = await cli(["procfs", "export", "--prefix", prefix, dir]);
  if (r.code !== 0) throw new Error(`blinkd procfs export failed: ${r.stderr}`);
  return { root: dir, init: 1 };
}

export interface AsInitOptions {
  /** Lines to add at each "inspect" line (what the test reads of /proc). */
  inspect(where: Where, launcher: number, prefix: string): Promise<string[]>;
  /** What the program reads on stdin to go on after an inspection. */
  readonly resume: "end" | "line";
  /** Called for every line the program prints (e.g. to signal it at "ready"). */
  onLine?(line: string, launcher: number, where: Where): void;
  /** The program's arguments. */
  readonly args?: readonly string[];
  /** When it is killed (default 60 s: at load 14 a blink run with four inspections took over 30 s). */
  readonly timeoutMs?: number;
}

/** Runs `exe` as PID 1 and collects its lines (its stderr last, prefixed) and exit status; killed after 60 s (o.timeoutMs), saying what it was waiting for. */
export function runAsInit(where: Where, exe: string, o: AsInitOptions): Promise<Ran> {
  const prefix = tempPrefix();
  const [cmd, ...args] = asInitArgv(where, [exe, ...(o.args ?? [])], prefix);
  return new Promise((resolve, reject) => {
    const p = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"] });
    const lines: string[] = [];
    let err = "";
    let inspecting = false;
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    createInterface({ input: p.stdout }).on("line", (l) => {
      lines.push(l);
      o.onLine?.(l, p.pid!, where);
      if (l === "inspect") {
        inspecting = true;
        o.inspect(where, p.pid!, prefix).then(
          (s) => {
            inspecting = false;
            lines.push(...s);
            if (o.resume === "end") p.stdin.end("done\n");
            else p.stdin.write("go on\n");
          },
          (e: unknown) => {
            p.kill("SIGKILL");
            reject(e);
          },
        );
      }
    });
    let killed = false;
    const limit = o.timeoutMs ?? 60_000;
    const t = setTimeout(() => {
      killed = true;
      p.kill("SIGKILL");
    }, limit);
    p.once("error", reject);
    p.once("close", (code) => {
      clearTimeout(t);
      if (killed) lines.push(`killed: it had not ended after ${limit / 1000} s (${inspecting ? "the inspection of /proc from outside had not answered" : `no line after ${JSON.stringify(lines[lines.length - 1] ?? "")}`})`);
      if (err) lines.push(`stderr: ${err.trim()}`);
      resolve({ lines, code });
    });
  });
}
