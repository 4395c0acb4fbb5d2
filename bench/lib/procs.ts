/** The processes a benchmark runs: the daemon (`blinkd serve`, its own process), the echo server, the C load generator. */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { shebangEnv, shebangNodeFlags } from "../../src/cli/nodeflags.js";

/** The checkout: three folders up when built (dist/bench/lib), two when run from source (vitest). */
export const ROOT = path.resolve(import.meta.dirname, path.basename(path.resolve(import.meta.dirname, "../..")) === "dist" ? "../../.." : "../..");
export const RESULTS = path.join(ROOT, "bench/results");
export const BIN = path.join(ROOT, "bin/blinkd.js");

/** The Node.js flags of the command's `#!` line (bin/blinkd.js): the daemon runs with them as `blinkd` does. */
export const BIN_NODE_FLAGS: readonly string[] = shebangNodeFlags(BIN);

/** The environment of the `#!` line (glibc's malloc settings), as `blinkd` starts with it. */
export const BIN_ENV: Readonly<Record<string, string>> = shebangEnv(BIN);

/** The argv of `blinkd ARGS…` as the command's own `#!` line starts it (its settings through env(1)), with this Node.js. */
export function blinkdArgv(args: string[]): string[] {
  const sets = Object.entries(BIN_ENV).map(([k, v]) => `${k}=${v}`);
  return [...(sets.length ? ["/usr/bin/env", ...sets] : []), process.execPath, ...BIN_NODE_FLAGS, BIN, ...args];
}
const PROBE = path.join(ROOT, "dist/bench/probe.js");
const ECHO = path.join(ROOT, "dist/bench/echo-server.js");
const RELAY = path.join(ROOT, "dist/bench/relay-server.js");
const LOADGEN_SRC = path.join(ROOT, "bench/native/loadgen.c");
export const LOADGEN = path.join(RESULTS, "bin/loadgen");

/** Builds the C load generator with the machine's compiler (cc -O2). */
export function buildLoadgen(): void {
  fs.mkdirSync(path.dirname(LOADGEN), { recursive: true });
  execFileSync("cc", ["-O2", "-Wall", "-o", LOADGEN, LOADGEN_SRC], { stdio: "inherit" });
}

/** The 1, 5 and 15 minute load averages, as /proc/loadavg gives them ("2.11 2.53 3.39"). */
export function loadAverage(): string {
  return fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

export interface Memory {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

export interface Server {
  readonly socket: string;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

export interface Daemon extends Server {
  /** Garbage-collects in the daemon and reads its memory (needs `probe: true`). */
  memory(): Promise<Memory>;
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "blinkd-bench-"));
}

/** Stops a server process with SIGTERM and resolves once it has exited (at once if it has). */
export function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
}

/** Starts `node bin/blinkd.js serve --prefix DIR` and waits until it listens. */
export async function startDaemon(opts: { probe?: boolean; nodeArgs?: string[]; bin?: string } = {}): Promise<Daemon> {
  const prefix = tmpdir();
  // BLINKD_DAEMON_NODE_ARGS: Node.js flags for the daemon alone (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), as for the fuzzer.
  const fromEnv = (process.env.BLINKD_DAEMON_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const nodeArgs = [...BIN_NODE_FLAGS, ...fromEnv, ...(opts.nodeArgs ?? []), ...(opts.probe ? ["--expose-gc", "--import", PROBE] : [])];
  const proc = spawn(process.execPath, [...nodeArgs, opts.bin ?? BIN, "serve", "--prefix", prefix], { env: { ...process.env, ...BIN_ENV }, stdio: ["ignore", "ignore", "pipe"] });
  const memWaiters: ((m: Memory) => void)[] = [];
  let err = "";
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stderr! }).on("line", (l) => {
      if (l.startsWith("blinkd-bench-memory ")) return memWaiters.shift()?.(JSON.parse(l.slice(20)) as Memory);
      err += l + "\n";
      if (l.includes("serving at")) resolve();
    });
    proc.once("exit", (c) => reject(new Error(`blinkd serve exited with ${c}: ${err}`)));
  });
  return {
    socket: path.join(prefix, "blinkd.sock"),
    proc,
    stop: stopper(proc),
    memory: () =>
      new Promise<Memory>((resolve) => {
        memWaiters.push(resolve);
        proc.kill("SIGUSR2");
      }),
  };
}

/** Starts the bare echo server (bench/echo-server.ts), or with `relay` the eventfd floor (bench/relay-server.ts), as its own process. */
export async function startEcho(opts: { nodeArgs?: string[]; relay?: boolean } = {}): Promise<Server> {
  const socket = path.join(tmpdir(), "echo.sock");
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.relay ? RELAY : ECHO, socket], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once("data", () => resolve());
    proc.once("exit", (c) => reject(new Error(`echo server exited with ${c}`)));
  });
  return { socket, proc, stop: stopper(proc) };
}

/** Runs the load generator to completion and parses the JSON it prints. */
export function loadgen<T = Record<string, number>>(args: (string | number)[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(LOADGEN, args.map(String), { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout!.on("data", (d: Buffer) => (out += d));
    p.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`loadgen ${args.join(" ")} exited with ${code}`));
      resolve(JSON.parse(out) as T);
    });
  });
}

/** Starts a load generator mode that holds its connections until told to exit (mass, zombies). */
export async function holdLoadgen<T = Record<string, number>>(args: (string | number)[]): Promise<{ info: T; release(): Promise<void> }> {
  const p = spawn(LOADGEN, args.map(String), { stdio: ["pipe", "pipe", "inherit"] });
  const info = await new Promise<T>((resolve, reject) => {
    let out = "";
    p.stdout!.on("data", (d: Buffer) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out) as T);
    });
    p.once("exit", (code) => reject(new Error(`loadgen ${args.join(" ")} exited with ${code}`)));
  });
  return {
    info,
    release: () =>
      new Promise((resolve) => {
        p.once("exit", () => resolve());
        p.stdin!.end("\n");
      }),
  };
}

/**
 * CPU so far (user + system, ms) from /proc/PID/stat's utime and stime, which proc(5) counts
 * in USER_HZ clock ticks (100 per second on every Linux architecture's ABI): the whole
 * process's, or with `tid` one thread's (/proc/PID/task/TID/stat; the main thread's tid is
 * the pid).
 */
export function procCpuMs(pid: number, tid?: number): number {
  const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: fields count after its last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
