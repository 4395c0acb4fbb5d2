/** Test harness: a real `blinkd serve` process on a fresh prefix, and helpers around it. */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shebangEnv, shebangNodeFlags } from "../../src/cli/nodeflags.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(ROOT, "bin/blinkd.js");
/**
 * `node` and the Node.js flags of bin/blinkd.js's `#!` line, then the script: the daemon runs
 * as the `blinkd` command runs it (2 MB semi-spaces), not with Node.js's defaults.
 */
export const NODE_BIN: readonly string[] = [...shebangNodeFlags(BIN), BIN];
/** The environment of bin/blinkd.js's `#!` line (glibc's malloc settings), for the daemons the helpers start. */
export const BIN_ENV: Readonly<Record<string, string>> = shebangEnv(BIN);

export function tempPrefix(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-t-"));
}

export interface Served {
  readonly prefix: string;
  readonly socket: string;
  readonly proc: ChildProcess;
  stderr(): string;
  /** Resolves once the daemon's stderr matches (the log and the socket are separate streams). */
  waitErr(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `blinkd serve` as its own process and waits until it listens. A fork's reservation
 * lives as long as a test may wait (30 s, vitest.config.ts) unless the test says otherwise:
 * a Node.js guest child can take more than the daemon's default 10 s to start and claim it
 * on a loaded machine, and would then count as killed.
 */
export async function serve(args: string[] = [], prefix = tempPrefix()): Promise<Served> {
  const reserve = args.includes("--reserve-timeout-ms") ? [] : ["--reserve-timeout-ms", "30000"];
  const proc = spawn(process.execPath, [...NODE_BIN, "serve", "--prefix", prefix, ...reserve, ...args], { env: { ...process.env, ...BIN_ENV }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  const watchers = new Set<() => void>();
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      for (const w of [...watchers]) w();
      if (err.includes("serving at")) resolve();
    });
    proc.once("exit", (c) => reject(new Error(`blinkd serve exited with ${c}: ${err}`)));
  });
  return {
    prefix,
    socket: path.join(prefix, "blinkd.sock"),
    proc,
    stderr: () => err,
    waitErr: (re, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(err);
          if (!m) return;
          watchers.delete(check);
          clearTimeout(t);
          resolve(m[0]);
        };
        const t = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`daemon stderr never matched ${re}:\n${err.slice(-2000)}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

/** Runs the CLI to completion. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...NODE_BIN, ...args], { env: { ...process.env, ...BIN_ENV, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d));
    p.stderr.on("data", (d: Buffer) => (stderr += d));
    let killed = false;
    const t = setTimeout(() => {
      killed = true;
      p.kill("SIGKILL");
    }, timeoutMs);
    p.once("exit", (code, signal) => {
      clearTimeout(t);
      // Whatever the test expects of it then fails, and says what did not come.
      if (killed) stderr += `\n[test harness: \`blinkd ${args.join(" ")}\` had not ended after ${timeoutMs} ms; killed]\n`;
      resolve({ code, signal, stdout, stderr });
    });
  });
}
